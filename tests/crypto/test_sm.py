"""SM2 key and signature encodings, key validation, and interoperability with the OpenSSL CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from openbid.crypto import DecryptionFailed, InvalidKey, sm

OPENSSL = shutil.which("openssl")


def openssl_supports_sm2() -> bool:
    if OPENSSL is None:
        return False
    done = subprocess.run(
        [OPENSSL, "list", "-public-key-algorithms"], capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and "SM2" in done.stdout


needs_openssl = pytest.mark.skipif(
    not openssl_supports_sm2(), reason="no OpenSSL command line with SM2"
)


def test_keypair_round_trip() -> None:
    private, public = sm.generate_keypair()
    assert len(private) == 32 and len(public) == 65 and public[0] == 4
    assert sm.public_key_from_private(private) == public
    assert sm.public_key_uncompressed(sm.public_key_raw(public)) == public
    assert sm.private_key_from_pem(sm.private_key_to_pem(private)) == private
    assert sm.public_key_from_pem(sm.public_key_to_pem(public)) == public
    assert sm.public_key_from_pem(sm.public_key_to_pem(public[1:])) == public


def test_sign_verify_and_encrypt_decrypt() -> None:
    private, public = sm.generate_keypair()
    signature = sm.sign(private, b"bid")
    assert len(signature) == 64
    assert sm.verify(public, b"bid", signature)
    assert not sm.verify(public, b"bid!", signature)
    assert not sm.verify(public, b"bid", signature[:-1])
    assert not sm.verify(public, b"bid", bytes(64))
    assert sm.signature_from_der(sm.signature_to_der(signature)) == signature
    ciphertext = sm.encrypt(public, b"k" * 32)
    assert len(ciphertext) == 65 + 32 + 32
    assert sm.decrypt(private, ciphertext) == b"k" * 32
    other, _ = sm.generate_keypair()
    with pytest.raises(DecryptionFailed):
        sm.decrypt(other, ciphertext)
    with pytest.raises(DecryptionFailed):
        sm.decrypt(private, ciphertext[:97])


@pytest.mark.parametrize(
    "private",
    [b"", bytes(32), (sm.SM2P256V1.n - 1).to_bytes(32, "big"), b"\xff" * 32, b"\x01" * 31],
    ids=["empty", "zero", "n-1", "above-n", "short"],
)
def test_bad_private_keys_refused(private: bytes) -> None:
    with pytest.raises(InvalidKey):
        sm.public_key_from_private(private)
    with pytest.raises(InvalidKey):
        sm.sign(private, b"m")


def test_bad_public_keys_refused() -> None:
    _, public = sm.generate_keypair()
    off_curve = bytearray(public)
    off_curve[-1] ^= 0x01
    p = sm.SM2P256V1.p.to_bytes(32, "big")
    for bad in (b"", public[:-1], b"\x02" + public[1:], bytes(off_curve), b"\x04" + p + p):
        with pytest.raises(InvalidKey):
            sm.public_key_uncompressed(bad)
        with pytest.raises(InvalidKey):
            sm.encrypt(bad, b"x")


def test_der_signature_strictness() -> None:
    good = sm.signature_to_der(b"\x80" + bytes(30) + b"\x01" + b"\x01" * 32)
    assert sm.signature_from_der(good)[:1] == b"\x80"
    for bad in (
        b"",
        good + b"\x00",  # trailing bytes
        bytes.fromhex("3006020100020101"),  # r = 0
        bytes.fromhex("300702020001020101"),  # non-minimal r
        bytes.fromhex("3006020181020101"),  # negative r
    ):
        with pytest.raises(ValueError):
            sm.signature_from_der(bad)


def test_pem_mismatch_refused() -> None:
    private, _ = sm.generate_keypair()
    _, other_public = sm.generate_keypair()
    pem = sm.private_key_to_pem(private)
    body = sm._der.from_pem(pem, "PRIVATE KEY")
    # Replace the embedded public key by another one: refused.
    own_public = sm.public_key_from_private(private)
    forged = body.replace(own_public, other_public)
    assert forged != body
    with pytest.raises(InvalidKey):
        sm.private_key_from_pem(sm._der.to_pem(forged, "PRIVATE KEY"))
    with pytest.raises(InvalidKey):
        sm.public_key_from_pem(pem)


def run_openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, check=False)


@needs_openssl
def test_openssl_reads_our_keys_and_signatures(tmp_path: Path) -> None:
    private, public = sm.generate_keypair()
    message = b"sealed bid receipt"
    (tmp_path / "key.pem").write_bytes(sm.private_key_to_pem(private))
    (tmp_path / "pub.pem").write_bytes(sm.public_key_to_pem(public))
    (tmp_path / "message").write_bytes(message)
    (tmp_path / "sig.der").write_bytes(sm.signature_to_der(sm.sign(private, message)))
    derived = run_openssl("pkey", "-in", "key.pem", "-pubout", cwd=tmp_path)
    assert derived.returncode == 0, derived.stderr
    assert sm.public_key_from_pem(derived.stdout) == public
    verified = run_openssl(
        "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3",
        "-pkeyopt", "distid:1234567812345678", "-in", "message", "-sigfile", "sig.der",
        cwd=tmp_path,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr


@needs_openssl
def test_we_read_openssl_keys_and_signatures(tmp_path: Path) -> None:
    assert (
        run_openssl("genpkey", "-algorithm", "SM2", "-out", "key.pem", cwd=tmp_path).returncode == 0
    )
    assert (
        run_openssl("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem", cwd=tmp_path).returncode
        == 0
    )
    private = sm.private_key_from_pem((tmp_path / "key.pem").read_bytes())
    public = sm.public_key_from_pem((tmp_path / "pub.pem").read_bytes())
    assert sm.public_key_from_private(private) == public
    (tmp_path / "message").write_bytes(b"tender notice")
    signed = run_openssl(
        "pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-digest", "sm3",
        "-pkeyopt", "distid:1234567812345678", "-in", "message", "-out", "sig.der",
        cwd=tmp_path,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    signature = sm.signature_from_der((tmp_path / "sig.der").read_bytes())
    assert sm.verify(public, b"tender notice", signature)
    assert not sm.verify(public, b"tender notice.", signature)
