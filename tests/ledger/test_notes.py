"""C2SP signed-note, tlog-checkpoint and tlog-cosignature against published examples.

Reference data: crypto-vectors.json (the C2SP signed-note example, the golang.org/x/mod/sumdb/note
doc example, the witness verifier keys) and sigstore/ (two real Rekor v2 checkpoints, one with
three witness cosignatures; the log keys in trusted_root.json). No Django, no database.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from openbid.ledger import merkle
from openbid.ledger import note as n
from openbid.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CosignatureV1Signer,
    CosignatureV1Verifier,
    add_cosignature,
    cosignature_message,
    generate_witness_key,
    open_checkpoint,
    parse_checkpoint,
    parse_witness_verifier_key,
    sign_checkpoint,
    witness_verifier_key,
)
from tests.reference import REFERENCE

VECTORS: dict[str, Any] = json.loads((REFERENCE / "crypto-vectors.json").read_text())
SIGNED_NOTE = VECTORS["signed_note"]
C2SP = SIGNED_NOTE["c2sp_example"]
GO = SIGNED_NOTE["go_note_example"]
WITNESS_KEYS: list[str] = VECTORS["witness_keys"]["keys"]
TRUSTED_ROOT: dict[str, Any] = json.loads((REFERENCE / "sigstore/trusted_root.json").read_text())
REKOR_BUNDLES = sorted((REFERENCE / "sigstore").glob("*.sigstore.json"))
COSIGNED = REFERENCE / "sigstore/a.dsse.staging-rekor-v2.txt.sigstore.json"
WITNESS_TIME = 1778700214


def _message(example: dict[str, str]) -> str:
    return example["text"] + "\n" + example["signature_line"]


def _envelope(path: Path) -> str:
    bundle = json.loads(path.read_text())
    (entry,) = bundle["verificationMaterial"]["tlogEntries"]
    envelope: str = entry["inclusionProof"]["checkpoint"]["envelope"]
    return envelope


def _log_id(path: Path) -> bytes:
    bundle = json.loads(path.read_text())
    (entry,) = bundle["verificationMaterial"]["tlogEntries"]
    return base64.b64decode(entry["logId"]["keyId"])


# ---- signed-note examples --------------------------------------------------------------------


@pytest.mark.parametrize("example", [C2SP, GO], ids=["c2sp", "go"])
def test_published_note_verifies(example: dict[str, str]) -> None:
    verifier = n.parse_verifier_key(example["verifier_key"])
    assert isinstance(verifier, n.Ed25519Verifier)
    assert verifier.verifier_key() == example["verifier_key"]
    result = n.verify_note(_message(example), [verifier])
    assert result.text == example["text"]
    assert [(s.name, s.key_id) for s in result.verified] == [(verifier.name, verifier.key_id)]
    assert result.unknown == ()
    assert result.verifier_for(result.verified[0]) is verifier
    # Serialisation is the exact inverse of parsing.
    assert n.parse_note(_message(example)).to_text() == _message(example)
    assert n.format_note(n.parse_note(_message(example))) == _message(example).encode()


def test_key_ids_follow_the_spec_formula() -> None:
    for vkey, expected in [(C2SP["verifier_key"], 0x530D903A), (GO["verifier_key"], 0xC74F20A3)]:
        v = n.parse_verifier_key(vkey)
        assert isinstance(v, n.Ed25519Verifier)
        digest = hashlib.sha256(v.name.encode() + b"\n\x01" + v.public_key).digest()
        assert v.key_id == int.from_bytes(digest[:4], "big") == expected


def test_go_signer_key_resigns_byte_for_byte() -> None:
    signer = n.parse_signer_key(GO["signer_key"])
    assert isinstance(signer, n.Ed25519Signer)
    assert signer.name == "PeterNeumann" and signer.key_id == 0xC74F20A3
    assert signer.signer_key() == GO["signer_key"]
    assert signer.verifier().verifier_key() == GO["verifier_key"]
    assert n.sign_note(GO["text"], signer).decode() == _message(GO)


def test_c2sp_note_resigned_by_a_second_key() -> None:
    """Adding a signature keeps the existing one; unknown keys are ignored by verifiers."""
    go_signer = n.parse_signer_key(GO["signer_key"])
    note = n.parse_note(_message(C2SP))
    twice = note.add_signatures(go_signer)
    assert twice.signatures[0] == note.signatures[0]
    msg = twice.to_bytes()
    both = n.verify_note(msg, [n.parse_verifier_key(C2SP["verifier_key"]), go_signer.verifier()])
    assert len(both.verified) == 2
    only_go = n.verify_note(msg, [go_signer.verifier()])
    assert [s.name for s in only_go.verified] == ["PeterNeumann"]
    assert [s.name for s in only_go.unknown] == ["example.com/foo"]
    # Re-signing with the same key replaces its signature instead of duplicating it.
    assert len(twice.add_signatures(go_signer).signatures) == 2


# ---- refusals --------------------------------------------------------------------------------


@pytest.fixture
def go_verifier() -> n.Verifier:
    return n.parse_verifier_key(GO["verifier_key"])


def test_tampered_text_is_refused(go_verifier: n.Verifier) -> None:
    msg = _message(GO).replace("cryptography", "cryptograhpy")
    with pytest.raises(n.InvalidSignatureError):
        n.verify_note(msg, [go_verifier])


def test_tampered_signature_is_refused(go_verifier: n.Verifier) -> None:
    note = n.parse_note(_message(GO))
    sig = note.signatures[0]
    for i in (0, 31, 63):
        raw = bytearray(sig.signature)
        raw[i] ^= 1
        bad = n.Note(note.text, (n.NoteSignature(sig.name, sig.key_id, bytes(raw)),))
        with pytest.raises(n.InvalidSignatureError):
            n.verify_note(bad.to_bytes(), [go_verifier])
    truncated = n.Note(note.text, (n.NoteSignature(sig.name, sig.key_id, sig.signature[:-1]),))
    with pytest.raises(n.InvalidSignatureError):
        n.verify_note(truncated, [go_verifier])


def test_one_bad_known_signature_rejects_the_whole_note(go_verifier: n.Verifier) -> None:
    good = n.parse_note(_message(GO)).signatures[0]
    bad = n.NoteSignature(good.name, good.key_id, bytes(64))
    with pytest.raises(n.InvalidSignatureError):
        n.verify_note(n.Note(GO["text"], (good, bad)), [go_verifier])


def test_no_known_key_is_refused(go_verifier: n.Verifier) -> None:
    with pytest.raises(n.UnverifiedNoteError):
        n.verify_note(_message(C2SP), [go_verifier])
    with pytest.raises(n.UnverifiedNoteError):
        n.verify_note(_message(GO), [])


def test_name_or_key_id_alone_does_not_match(go_verifier: n.Verifier) -> None:
    """A signature sharing only the name, or only the key ID, with a known key is ignored."""
    sig = n.parse_note(_message(GO)).signatures[0]
    other_id = n.NoteSignature(sig.name, sig.key_id ^ 1, sig.signature)
    other_name = n.NoteSignature("PeterNeumann2", sig.key_id, sig.signature)
    for s in (other_id, other_name):
        with pytest.raises(n.UnverifiedNoteError):
            n.verify_note(n.Note(GO["text"], (s,)), [go_verifier])


def test_ambiguous_verifiers_are_a_configuration_error(go_verifier: n.Verifier) -> None:
    twin = n.parse_verifier_key(GO["verifier_key"])
    with pytest.raises(ValueError, match="ambiguous"):
        n.verify_note(_message(GO), [go_verifier, twin])


SIG_LINE = GO["signature_line"]
SIG_B64 = SIG_LINE.split(" ")[2].rstrip("\n")
TEXT = GO["text"]


@pytest.mark.parametrize(
    "msg",
    [
        pytest.param(TEXT + SIG_LINE, id="no-blank-line"),
        pytest.param(TEXT + "\n" + SIG_LINE.rstrip("\n"), id="no-final-newline"),
        pytest.param(TEXT + "\n", id="no-signatures"),
        pytest.param(TEXT + "\n\n", id="empty-signature-line"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("\u2014", "-"), id="hyphen-not-em-dash"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("\u2014 ", "\u2014"), id="no-space-after-dash"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("\u2014 ", "\u2014  "), id="two-spaces"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace(" x08", "  x08"), id="two-spaces-before-sig"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("Peter", "Pe+ter"), id="plus-in-name"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("Peter", "Pe\u00a0ter"), id="nbsp-in-name"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("Peter", "Pe\u3000ter"), id="ideo-space"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("PeterNeumann ", ""), id="no-name"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("PeterNeumann", ""), id="empty-name"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("=\n", "\n"), id="bad-padding"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("x08g", "x0!g"), id="bad-base64-char"),
        pytest.param(TEXT + "\n" + SIG_LINE.replace("AM=", "AN="), id="non-canonical-b64"),
        pytest.param(TEXT + "\n\u2014 PeterNeumann x08gow==\n", id="signature-too-short"),
        pytest.param(TEXT + "\n\u2014 PeterNeumann \n", id="empty-signature"),
        pytest.param("tab\there\n\n" + SIG_LINE, id="control-char-tab"),
        pytest.param("cr\r\n\n" + SIG_LINE, id="control-char-cr"),
        pytest.param("nul\x00\n\n" + SIG_LINE, id="control-char-nul"),
        pytest.param(TEXT + "\n" + SIG_LINE + "trailing", id="garbage-after-signatures"),
        pytest.param(TEXT + "\n" + SIG_LINE + "\n", id="blank-line-after-signatures"),
    ],
)
def test_malformed_notes_are_refused(msg: str) -> None:
    with pytest.raises(n.MalformedNoteError):
        n.parse_note(msg)


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(n.MalformedNoteError):
        n.parse_note(b"caf\xe9\n\n" + SIG_LINE.encode())
    with pytest.raises(n.MalformedNoteError):
        n.parse_note(b"\xed\xa0\x80\n\n" + SIG_LINE.encode())  # encoded surrogate


def test_note_text_may_contain_blank_lines() -> None:
    """The text ends at the *last* blank line (signed-note §Format)."""
    signer = n.parse_signer_key(GO["signer_key"])
    text = "first\n\n\nafter two blank lines\n\n"
    msg = n.sign_note(text, signer)
    assert n.parse_note(msg).text == text
    assert n.verify_note(msg, [signer.verifier()]).text == text


def test_signature_count_limits() -> None:
    """At least 16 signatures MUST be accepted; more than the cap is refused."""
    sig = n.parse_note(_message(GO)).signatures[0]
    unknown = [n.NoteSignature(f"w{i}.example", i, bytes(64)) for i in range(200)]
    sixteen = n.Note(TEXT, (sig, *unknown[:15])).to_bytes()
    assert len(n.verify_note(sixteen, [n.parse_verifier_key(GO["verifier_key"])]).unknown) == 15
    hundred = n.Note(TEXT, (sig, *unknown[:99])).to_bytes()
    assert len(n.parse_note(hundred).signatures) == n.DEFAULT_MAX_SIGNATURES
    with pytest.raises(n.MalformedNoteError):
        n.parse_note(n.Note(TEXT, (sig, *unknown[:100])).to_bytes())
    with pytest.raises(n.MalformedNoteError):
        n.parse_note(sixteen, max_signatures=15)
    with pytest.raises(n.MalformedNoteError):
        n.parse_note(sixteen, max_bytes=len(sixteen) - 1)
    assert n.parse_note(sixteen, max_bytes=len(sixteen))


def test_signing_refuses_invalid_text() -> None:
    signer = n.parse_signer_key(GO["signer_key"])
    for text in ["no newline", "", "ctrl\x07\n"]:
        with pytest.raises(n.MalformedNoteError):
            n.sign_note(text, signer)


# ---- key strings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
        "PeterNeumann+xc74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not hex
        "PeterNeumann+c74f20a3+Rpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 31-byte key
        "PeterNeumann+c74f20a3+",  # no key
        "PeterNeumann+c74f20a3",  # no key part
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # empty name
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "PeterNeumann+c74f20a3+A1pc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x03
        "PeterNeumann+c74f20a3+BRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x05
        "PeterNeumann+c74f20a3+/xpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 0xff unknown
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(n.KeyFormatError):
        n.parse_verifier_key(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",  # no PRIVATE+KEY
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+Peter+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",  # other name
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AwEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKA==",
    ],
)
def test_bad_signer_keys_are_refused(skey: str) -> None:
    with pytest.raises(n.KeyFormatError):
        n.parse_signer_key(skey)


def test_generated_keys_round_trip() -> None:
    skey, vkey = n.generate_ed25519_key("openbid.example/log")
    signer = n.parse_signer_key(skey)
    verifier = n.parse_verifier_key(vkey)
    assert signer.signer_key() == skey and verifier.verifier_key() == vkey
    assert n.verify_note(n.sign_note("hello\n", signer), [verifier]).text == "hello\n"
    with pytest.raises(n.KeyFormatError):
        n.generate_ed25519_key("bad name")


# ---- pluggable algorithms --------------------------------------------------------------------

TEST_PREFIX = b"\xff" + b"openbid.test/ed25519-prehash"


class PrehashVerifier(n.Verifier):
    """A stand-in for a future 0xff algorithm: Ed25519 over SHA-256(text)."""

    def __init__(self, name: str, public_key: bytes) -> None:
        self._name, self._pub = name, public_key
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return n.compute_key_id(self._name, self.key_material)

    @property
    def key_material(self) -> bytes:
        return TEST_PREFIX + self._pub

    def verify(self, message: bytes, signature: bytes) -> bool:
        inner = n.Ed25519Verifier(self._name, self._pub)
        return inner.verify(hashlib.sha256(message).digest(), signature)


@pytest.fixture
def prehash_algorithm() -> Iterator[None]:
    n.register_algorithm(
        n.SignatureAlgorithm(TEST_PREFIX, "test only", verifier_from_key=PrehashVerifier)
    )
    yield
    n.unregister_algorithm(TEST_PREFIX)


def test_extension_algorithm_plugs_in(prehash_algorithm: None) -> None:
    signer = n.Ed25519Signer.generate("plug.example")
    pub = signer.verifier().public_key
    vkey = PrehashVerifier("plug.example", pub).verifier_key()
    verifier = n.parse_verifier_key(vkey)
    assert isinstance(verifier, PrehashVerifier)
    assert base64.b64decode(vkey.split("+", 2)[2]).startswith(TEST_PREFIX)
    text = "plugged\n"
    sig = n.NoteSignature(
        verifier.name, verifier.key_id, signer.sign(hashlib.sha256(b"plugged\n").digest())
    )
    assert n.verify_note(n.Note(text, (sig,)).to_bytes(), [verifier]).text == text
    assert TEST_PREFIX in n.registered_algorithms()
    assert bytes([n.TYPE_COSIGNATURE_V1]) in n.registered_algorithms()


def test_registry_rules(prehash_algorithm: None) -> None:
    def dummy(name: str, key: bytes) -> n.Verifier:
        raise AssertionError

    for prefix in [b"", b"\xff", b"\x07\x01", b"\x01", TEST_PREFIX[:-1], TEST_PREFIX + b"x"]:
        with pytest.raises(ValueError):
            n.register_algorithm(n.SignatureAlgorithm(prefix, "bad", verifier_from_key=dummy))


# ---- checkpoints -----------------------------------------------------------------------------

ROOT = bytes(range(32))


def test_checkpoint_round_trip() -> None:
    cp = Checkpoint("openbid.example/log", 20852163, ROOT, ("ext one", "ext two"))
    text = cp.to_text()
    assert text == (
        "openbid.example/log\n20852163\n" + base64.b64encode(ROOT).decode() + "\next one\next two\n"
    )
    assert parse_checkpoint(text) == cp
    assert parse_checkpoint(text.encode()) == cp
    assert parse_checkpoint(f"o\n0\n{base64.b64encode(merkle.EMPTY_ROOT).decode()}\n").size == 0


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("o\n1\n{r}", id="no-final-newline"),
        pytest.param("o\n1\n", id="two-lines"),
        pytest.param("\n1\n{r}\n", id="empty-origin"),
        pytest.param("o\n01\n{r}\n", id="leading-zero"),
        pytest.param("o\n00\n{r}\n", id="double-zero"),
        pytest.param("o\n-1\n{r}\n", id="negative"),
        pytest.param("o\n+1\n{r}\n", id="plus-sign"),
        pytest.param("o\n 1\n{r}\n", id="space"),
        pytest.param("o\n1.0\n{r}\n", id="decimal-point"),
        pytest.param("o\n\u0661\n{r}\n", id="non-ascii-digit"),
        pytest.param("o\n18446744073709551616\n{r}\n", id="over-uint64"),
        pytest.param("o\n1\nAAEC\n", id="short-root"),
        pytest.param("o\n1\n{r}AAAA\n", id="long-root"),
        pytest.param("o\n1\n{r_noncanon}\n", id="non-canonical-root"),
        pytest.param("o\n1\n{r_nopad}\n", id="unpadded-root"),
        pytest.param("o\n1\n{r}\n\n", id="empty-extension"),
        pytest.param("o\n1\n{r}\next\n\nmore\n", id="empty-line-between-extensions"),
        pytest.param("o\x01\n1\n{r}\n", id="control-char"),
    ],
)
def test_bad_checkpoints_are_refused(text: str) -> None:
    r = base64.b64encode(ROOT).decode()
    r_noncanon = r[:-2] + chr(ord(r[-2]) + 1) + "="
    with pytest.raises(CheckpointError):
        parse_checkpoint(text.format(r=r, r_noncanon=r_noncanon, r_nopad=r.rstrip("=")))


def test_checkpoint_constructor_validates() -> None:
    for args in [
        ("", 1, ROOT),
        ("o\n", 1, ROOT),
        ("o", -1, ROOT),
        ("o", 2**64, ROOT),
        ("o", 1, b""),
    ]:
        with pytest.raises(CheckpointError):
            Checkpoint(*args)
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT, ("",))
    assert Checkpoint("o", 2**64 - 1, ROOT).size == 2**64 - 1


# ---- cosignature format ----------------------------------------------------------------------


def test_cosignature_message_is_the_spec_example() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + body.encode()
    )
    with pytest.raises(CheckpointError):
        cosignature_message(body, 2**63)
    with pytest.raises(CheckpointError):
        cosignature_message("not\na checkpoint\n", 1)


def test_spec_cosignature_layout() -> None:
    """The tlog-cosignature example line: key ID (4) || timestamp (8) || Ed25519 (64)."""
    sig = n.NoteSignature.from_line(
        "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9d"
        "lrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    assert len(sig.signature) == 72
    assert CosignatureV1Verifier.timestamp_of(sig.signature) == 1679315147


@pytest.fixture(scope="module")
def witness_verifiers() -> list[CosignatureV1Verifier]:
    return [parse_witness_verifier_key(k) for k in WITNESS_KEYS[1:]]


def test_witness_keys_parse(witness_verifiers: list[CosignatureV1Verifier]) -> None:
    for vkey, v in zip(WITNESS_KEYS[1:], witness_verifiers, strict=True):
        assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
        assert v.verifier_key() == vkey == witness_verifier_key(v.name, v.public_key)
        digest = hashlib.sha256(v.name.encode() + b"\n\x04" + v.public_key).digest()
        assert v.key_id == int.from_bytes(digest[:4], "big")
        assert isinstance(n.parse_verifier_key(vkey), CosignatureV1Verifier)
    # The first key is the log's own Ed25519 (0x01) key.
    assert isinstance(n.parse_verifier_key(WITNESS_KEYS[0]), n.Ed25519Verifier)


def test_plain_ed25519_key_reused_as_witness_key_changes_key_id() -> None:
    as_witness = parse_witness_verifier_key(GO["verifier_key"])
    assert as_witness.key_id != n.parse_verifier_key(GO["verifier_key"]).key_id
    assert as_witness.verifier_key().split("+", 2)[2].startswith("BB")  # base64 of 0x04 0x1a...


# ---- sigstore Rekor v2 checkpoints -----------------------------------------------------------


def _rekor_log_verifiers() -> dict[bytes, n.Ed25519Verifier]:
    """Ed25519 log keys of trusted_root.json as note verifiers, indexed by Rekor log ID.

    Rekor v2 names its checkpoint key after the origin (the host of the log's base URL) and its
    log ID is the *full* SHA-256(name || 0x0A || 0x01 || public key) whose first four bytes are
    the signed-note key ID.
    """
    out: dict[bytes, n.Ed25519Verifier] = {}
    for tlog in TRUSTED_ROOT["tlogs"]:
        if tlog["publicKey"]["keyDetails"] != "PKIX_ED25519":
            continue  # rekor.sigstage.dev (v1) has an ECDSA P-256 key; no v2 checkpoint uses it
        spki = load_der_public_key(base64.b64decode(tlog["publicKey"]["rawBytes"]))
        raw = spki.public_bytes(Encoding.Raw, PublicFormat.Raw)
        name = urlsplit(tlog["baseUrl"]).hostname
        assert name is not None
        verifier = n.Ed25519Verifier(name, raw)
        log_id = base64.b64decode(tlog["logId"]["keyId"])
        assert hashlib.sha256(name.encode() + b"\n" + verifier.key_material).digest() == log_id
        assert verifier.key_id == int.from_bytes(log_id[:4], "big")
        out[log_id] = verifier
    return out


def test_trusted_root_key_types() -> None:
    details = sorted(t["publicKey"]["keyDetails"] for t in TRUSTED_ROOT["tlogs"])
    assert details == ["PKIX_ECDSA_P256_SHA_256", "PKIX_ED25519", "PKIX_ED25519", "PKIX_ED25519"]
    assert len(_rekor_log_verifiers()) == 3


@pytest.mark.parametrize("path", REKOR_BUNDLES, ids=[p.name for p in REKOR_BUNDLES])
def test_rekor_v2_checkpoint_verifies_with_trusted_root(path: Path) -> None:
    verifier = _rekor_log_verifiers()[_log_id(path)]
    result = open_checkpoint(_envelope(path), [verifier], origin=verifier.name)
    assert result.checkpoint.origin == verifier.name
    assert [(s.name, s.key_id) for s in result.log_signatures] == [(verifier.name, verifier.key_id)]
    assert result.cosignatures == ()
    # Any other log key is not enough.
    others = [v for k, v in _rekor_log_verifiers().items() if k != _log_id(path)]
    with pytest.raises(n.UnverifiedNoteError):
        open_checkpoint(_envelope(path), others)


def test_rekor_v2_log_key_matches_published_vkey() -> None:
    verifier = _rekor_log_verifiers()[_log_id(COSIGNED)]
    assert verifier.verifier_key() == WITNESS_KEYS[0]


def test_rekor_v2_witness_cosignatures_verify(
    witness_verifiers: list[CosignatureV1Verifier],
) -> None:
    log = n.parse_verifier_key(WITNESS_KEYS[0])
    result = open_checkpoint(_envelope(COSIGNED), [log], witness_verifiers)
    assert result.checkpoint.size == 4026479
    assert result.witnesses == {v.name for v in witness_verifiers}
    assert len(result.cosignatures) == 3
    assert {c.timestamp for c in result.cosignatures} == {WITNESS_TIME}
    for line in _envelope(COSIGNED).splitlines()[5:]:
        assert len(base64.b64decode(line.split(" ")[2])) == 4 + 8 + 64


def test_rekor_v2_tampered_cosignatures_are_refused(
    witness_verifiers: list[CosignatureV1Verifier],
) -> None:
    log = n.parse_verifier_key(WITNESS_KEYS[0])
    note = n.parse_note(_envelope(COSIGNED))
    for i in range(1, 4):
        for pos in (7, 11, 40):  # timestamp (high and low byte) and signature bytes
            sigs = list(note.signatures)
            raw = bytearray(sigs[i].signature)
            raw[pos] ^= 0x01
            sigs[i] = n.NoteSignature(sigs[i].name, sigs[i].key_id, bytes(raw))
            with pytest.raises(n.InvalidSignatureError):
                open_checkpoint(n.Note(note.text, tuple(sigs)), [log], witness_verifiers)
    # Moving a cosignature onto another checkpoint (e.g. the other Rekor v2 one) fails too.
    body = note.text.replace("4026479", "4026480")
    with pytest.raises(n.InvalidSignatureError):
        n.verify_note(n.Note(body, note.signatures[1:]), witness_verifiers)


# ---- our own checkpoints ---------------------------------------------------------------------


def test_own_checkpoint_round_trip() -> None:
    log_signer = n.Ed25519Signer.generate("openbid.example/ledger")
    witnesses = [
        CosignatureV1Signer.generate(f"witness{i}.example", clock=lambda: 1700000000)
        for i in range(2)
    ]
    tree = merkle.MemoryTree.from_entries(f"entry {i}".encode() for i in range(1000))
    cp = Checkpoint(log_signer.name, tree.size, tree.root())
    signed = sign_checkpoint(cp, log_signer)
    opened = open_checkpoint(signed, [log_signer.verifier()], origin=log_signer.name)
    assert opened.checkpoint == cp
    cosigned = add_cosignature(signed, witnesses[0])
    cosigned = add_cosignature(cosigned, witnesses[1], timestamp=1700000123)
    wv = [w.verifier() for w in witnesses]
    full = open_checkpoint(cosigned, [log_signer.verifier()], wv)
    assert {c.name: c.timestamp for c in full.cosignatures} == {
        "witness0.example": 1700000000,
        "witness1.example": 1700000123,
    }
    # Re-cosigning replaces the witness's earlier cosignature.
    again = add_cosignature(cosigned, witnesses[1], timestamp=1700000200)
    assert len(n.parse_note(again).signatures) == 3
    # The checkpoint's root proves inclusion and consistency.
    proof = tree.inclusion_proof(777)
    assert merkle.verify_inclusion(tree.levels[0][777], 777, cp.size, proof, cp.root_hash)
    old = Checkpoint(log_signer.name, 600, tree.root(600))
    assert merkle.verify_consistency(
        old.size, cp.size, tree.consistency_proof(600), old.root_hash, cp.root_hash
    )
    # Wrong origin, witness-only signatures and tampering are refused.
    with pytest.raises(CheckpointError):
        open_checkpoint(signed, [log_signer.verifier()], origin="someone.else/log")
    with pytest.raises(CheckpointError):
        open_checkpoint(cosigned, [], wv)
    tampered = cosigned.replace(b"\n1000\n", b"\n1001\n")
    with pytest.raises(n.InvalidSignatureError):
        open_checkpoint(tampered, [log_signer.verifier()], wv)


def test_witness_key_strings_round_trip() -> None:
    skey, vkey = generate_witness_key("witness.openbid.example")
    signer = CosignatureV1Signer.from_signer_key(skey)
    assert signer.signer_key() == skey
    assert signer.verifier().verifier_key() == vkey
    assert isinstance(n.parse_signer_key(skey), CosignatureV1Signer)
    # An Ed25519 (0x01) signer key may be used as a cosigner; its key ID becomes the 0x04 one.
    from_go = CosignatureV1Signer.from_signer_key(GO["signer_key"])
    assert from_go.key_id == parse_witness_verifier_key(GO["verifier_key"]).key_id


def test_cosigner_refuses_non_checkpoints_and_bad_timestamps() -> None:
    signer = CosignatureV1Signer.generate("w.example")
    body = Checkpoint("o", 1, ROOT).to_text()
    with pytest.raises(CheckpointError):
        signer.sign_at("just text\n", 1)
    with pytest.raises(CheckpointError):
        signer.sign_at(body, 2**63)
    verifier = signer.verifier()
    sig = signer.sign_at(body, 2**63 - 1)
    assert verifier.verify(body.encode(), sig)
    assert not verifier.verify(b"just text\n", signer.sign_at(body, 5))
    assert not verifier.verify(body.encode(), sig[:-1])
    over = (2**63).to_bytes(8, "big") + sig[8:]
    assert not verifier.verify(body.encode(), over)
