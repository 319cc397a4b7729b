"""Known-answer tests of SM3, SM4 and SM2 against shared/reference/crypto-vectors.json.

* ``sm3``: both examples of GB/T 32905-2016 Appendix A.
* ``sm4``: GB/T 32907-2016 Appendix A, one encryption and 1,000,000 iterated encryptions.
* ``sm2``: GM/T 0003.5 Annex A on sm2p256v1 — public key, Z_A, e and the signature (r, s) with the
  given k; the encryption C1 || C3 || C2 with the given k (the file's ``c1_hex`` is x1 || y1
  without the 04 point-conversion byte).
* ``sm2_test_curve_fp256``: the GB/T 32918.2 example on the Fp-256 test curve — the signature
  (r, s) with the given k and id. The file names the curve but not its parameters, message or
  public key; those are taken from OpenSSL's test/sm2_internal_test.c and GB/T 32918.2-2016
  Annex A.2 (below), and the curve is checked for consistency before use.

Also the SM4-GCM vector of RFC 8998 Appendix A.1 (not in the reference file), for the AEAD the
national suite uses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from gmalg import sm2 as gmalg_sm2

from openbid.crypto import DecryptionFailed, get_suite, sm
from tests.reference import REFERENCE

VECTORS: dict[str, Any] = json.loads((REFERENCE / "crypto-vectors.json").read_text())

# The Fp-256 test curve of GB/T 32918.2-2016 / GM/T 0003.2-2012 Annex A (also in
# draft-shen-sm2-ecdsa-02 and OpenSSL's test/sm2_internal_test.c, sm2_sig_test()).
TEST_CURVE_FP256 = sm.Curve(
    name="sm2-test-fp256",
    p=0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    a=0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    b=0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    gx=0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    gy=0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    n=0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
)
# The message of that example, and the public key and Z_A that GB/T 32918.2 Annex A.2 prints.
TEST_CURVE_MESSAGE = b"message digest"
TEST_CURVE_PUBLIC_X = "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
TEST_CURVE_PUBLIC_Y = "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857"
TEST_CURVE_ZA = "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"


def unhex(value: str) -> bytes:
    return bytes.fromhex(value)


# --- SM3 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["sm3"]["cases"], ids=["example-1", "example-2"])
def test_sm3_examples(case: dict[str, str]) -> None:
    message = case["message_ascii"].encode("ascii")
    assert sm.sm3(message) == unhex(case["digest_hex"])
    assert get_suite("sm-2026").hash(message) == unhex(case["digest_hex"])


def test_sm3_has_both_examples() -> None:
    assert len(VECTORS["sm3"]["cases"]) == 2


# --- SM4 ---------------------------------------------------------------------------------------


def test_sm4_once() -> None:
    vector = VECTORS["sm4"]
    encrypt = sm.sm4_block_encryptor(unhex(vector["key_hex"]))
    assert encrypt(unhex(vector["plaintext_hex"])) == unhex(vector["ciphertext_once_hex"])


def test_sm4_one_million_times() -> None:
    # About 0.3 s: one ECB encryptor reused for every block.
    vector = VECTORS["sm4"]
    encrypt = sm.sm4_block_encryptor(unhex(vector["key_hex"]))
    block = unhex(vector["plaintext_hex"])
    for _ in range(1_000_000):
        block = encrypt(block)
    assert block == unhex(vector["ciphertext_after_1000000_encryptions_hex"])


def test_sm4_gcm_rfc8998_a1() -> None:
    key = unhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = unhex("00001234567800000000ABCD")
    aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = unhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext = unhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    tag = unhex("83DE3541E4C2B58177E065A9BF7B62EC")
    assert sm.sm4_gcm_encrypt(key, nonce, plaintext, aad) == ciphertext + tag
    assert sm.sm4_gcm_decrypt(key, nonce, ciphertext + tag, aad) == plaintext
    with pytest.raises(DecryptionFailed):
        sm.sm4_gcm_decrypt(key, nonce, ciphertext + tag, aad + b"\x00")


# --- SM2 on sm2p256v1 ----------------------------------------------------------------------------


def test_recommended_curve_is_gmalgs() -> None:
    curve = sm.SM2P256V1
    ecdlp = gmalg_sm2._ecdlp
    assert (curve.p, curve.a, curve.b) == (ecdlp.fp.p, ecdlp.ec.a, ecdlp.ec.b)
    assert ((curve.gx, curve.gy), curve.n) == (ecdlp.G, ecdlp.fpn.p)


SM2 = VECTORS["sm2"]
SM2_PRIVATE = unhex(SM2["private_key_hex"])
SM2_PUBLIC = b"\x04" + unhex(SM2["public_x_hex"]) + unhex(SM2["public_y_hex"])


def test_sm2_public_key() -> None:
    assert SM2["curve"] == "sm2p256v1"
    assert sm.public_key_from_private(SM2_PRIVATE) == SM2_PUBLIC
    assert sm.public_key_raw(SM2_PUBLIC) == SM2_PUBLIC[1:]
    assert sm.public_key_uncompressed(SM2_PUBLIC[1:]) == SM2_PUBLIC


def test_sm2_signature_with_given_k_and_za() -> None:
    vector = SM2["signature"]
    user_id = vector["id_ascii"].encode("ascii")
    message = vector["message_ascii"].encode("ascii")
    assert user_id == sm.DEFAULT_USER_ID
    assert sm.z_a(SM2_PUBLIC, user_id) == unhex(vector["za_hex"])
    assert sm.message_digest(SM2_PUBLIC, message, user_id) == unhex(vector["e_hex"])
    expected = unhex(vector["r_hex"]) + unhex(vector["s_hex"])
    k = int(vector["k_hex"], 16)
    assert sm.sign(SM2_PRIVATE, message, user_id=user_id, k=k) == expected
    assert sm.sign(SM2_PRIVATE, message, k=k) == expected  # the default user id
    assert sm.verify(SM2_PUBLIC, message, expected)
    assert sm.verify(SM2_PUBLIC[1:], message, expected)
    assert get_suite("sm-2026").verify(SM2_PUBLIC, message, expected)
    assert not sm.verify(SM2_PUBLIC, message + b".", expected)
    assert not sm.verify(SM2_PUBLIC, message, expected, user_id=b"ALICE123@YAHOO.COM")


def test_sm2_encryption_c1_c3_c2_with_given_k() -> None:
    vector = SM2["encryption"]
    assert vector["output_order"] == "C1 || C3 || C2"
    message = vector["message_ascii"].encode("ascii")
    c1, c3, c2 = unhex(vector["c1_hex"]), unhex(vector["c3_hex"]), unhex(vector["c2_hex"])
    # The file's c1_hex is the 64-byte x1 || y1 of [k]G (x1 itself begins with 0x04, which is easy
    # to mistake for the point-conversion byte). C1 as a bit string (GB/T 32918.1 point-to-octets, used by
    # GB/T 32918.4 §6.1 A2) is the uncompressed 04 || x1 || y1.
    assert len(c1) == 64
    c1 = b"\x04" + c1
    ciphertext = sm.encrypt(SM2_PUBLIC, message, k=int(vector["k_hex"], 16))
    assert ciphertext == c1 + c3 + c2
    assert sm.decrypt(SM2_PRIVATE, c1 + c3 + c2) == message
    # The older C1 || C2 || C3 order is not read as C1 || C3 || C2.
    with pytest.raises(DecryptionFailed):
        sm.decrypt(SM2_PRIVATE, c1 + c2 + c3)
    # Nor is a ciphertext changed anywhere.
    for position in (1, 70, 100, len(ciphertext) - 1):
        changed = bytearray(ciphertext)
        changed[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            sm.decrypt(SM2_PRIVATE, bytes(changed))


# --- SM2 on the Fp-256 test curve ----------------------------------------------------------------


def test_test_curve_parameters_are_consistent() -> None:
    curve = TEST_CURVE_FP256
    g = b"\x04" + curve.gx.to_bytes(32, "big") + curve.gy.to_bytes(32, "big")
    # On the curve and of order n (gmalg's public-key validation, GB/T 32918.1).
    assert sm.public_key_uncompressed(g, curve) == g


def test_sm2_signature_on_test_curve() -> None:
    vector = VECTORS["sm2_test_curve_fp256"]
    curve = TEST_CURVE_FP256
    private = unhex(vector["private_key_hex"])
    user_id = vector["id_ascii"].encode("ascii")
    public = sm.public_key_from_private(private, curve)
    assert public == b"\x04" + unhex(TEST_CURVE_PUBLIC_X) + unhex(TEST_CURVE_PUBLIC_Y)
    assert sm.z_a(public, user_id, curve) == unhex(TEST_CURVE_ZA)
    expected = unhex(vector["r_hex"]) + unhex(vector["s_hex"])
    signature = sm.sign(
        private, TEST_CURVE_MESSAGE, user_id=user_id, curve=curve, k=int(vector["k_hex"], 16)
    )
    assert signature == expected
    assert sm.verify(public, TEST_CURVE_MESSAGE, expected, user_id=user_id, curve=curve)
    assert not sm.verify(public, TEST_CURVE_MESSAGE, expected, curve=curve)  # other user id
