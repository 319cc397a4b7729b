"""The Chinese national algorithms SM2, SM3 and SM4 behind one small interface.

Where each primitive comes from:

* **SM3** (GB/T 32905-2016): ``cryptography``'s ``hashes.SM3`` (OpenSSL).
* **SM4** (GB/T 32907-2016): ``cryptography``'s ``algorithms.SM4`` (OpenSSL). The authenticated
  mode is **SM4-GCM** (GCM per NIST SP 800-38D over SM4, one of the mechanisms of GB/T 36624-2018
  and the AEAD of RFC 8998's ``TLS_SM4_GCM_SM3``): this environment's OpenSSL provides it through
  ``Cipher(SM4(key), GCM(nonce))``, so neither SM4-CCM nor an encrypt-then-MAC composition is
  needed. 128-bit keys, 96-bit nonces, 128-bit tags.
* **SM2** (GB/T 32918.1-5-2016): the curve arithmetic and the signature and public-key encryption
  algorithms of ``gmalg`` 1.1.2 (pure Python, ``gmalg.sm2.SM2Core``). This module only supplies
  the domain parameters, the random or given ``k``, strict key and ciphertext parsing, and an
  SM3 adapter so that the hashing inside SM2 (Z_A, e, the KDF and C3) runs in OpenSSL's SM3
  rather than gmalg's pure-Python one. A fresh ``SM2Core`` is made per operation, since gmalg
  keeps hash state on it and is therefore not safe to share between threads.

Encodings (all big-endian):

* private key: the 32-byte scalar ``d`` with ``1 <= d <= n - 2`` (GB/T 32918.1);
* public key: the 65-byte uncompressed point ``04 || x || y`` (GB/T 32918.1, point to octets);
  the 64-byte raw ``x || y`` is accepted wherever a public key is read and
  :func:`public_key_raw` returns it.
  Every public key read is validated (coordinates in range, on the curve, ``[n]P = O``:
  GB/T 32918.1 public-key validation);
* signature: 64 bytes ``r || s``; :func:`signature_to_der` and :func:`signature_from_der` convert
  to and from the ``SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER }`` of GB/T 35276-2017;
* ciphertext: ``C1 || C3 || C2`` (GB/T 32918.4-2016; the older ``C1 || C2 || C3`` order of
  some libraries is not produced or read), with ``C1`` uncompressed (65 bytes) and ``C3`` the
  32-byte SM3 value;
* PEM: SubjectPublicKeyInfo (RFC 5280) and unencrypted PKCS#8 (RFC 5208) holding an RFC 5915
  ``ECPrivateKey``, both with ``id-ecPublicKey`` and the named curve ``sm2p256v1``
  (1.2.156.10197.1.301) per GB/T 35276-2017 — what OpenSSL 3 writes and reads for SM2 keys.

Signatures use SM3 and the signer's Z_A (GB/T 32918.2 §5.5) with the default user id
:data:`DEFAULT_USER_ID` unless another is given.

Side channels: gmalg computes scalar multiplication by double-and-add over Python integers, which
is not constant time. Signing and decryption with a private key should therefore happen on the
key holder's own machine (the bidder's), not on a shared server under an attacker's clock.

The ``k`` parameters of :func:`sign` and :func:`encrypt` exist for known-answer tests only: a
reused or predictable ``k`` reveals the private key (signing) or the plaintext (encryption).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmalg import ellipticcurve as gm_ec
from gmalg import errors as gm_errors
from gmalg.sm2 import SM2Core

from openbid.crypto import _der
from openbid.crypto.errors import CryptoError, DecryptionFailed, InvalidKey

__all__ = [
    "DEFAULT_USER_ID",
    "SM2P256V1",
    "SM3_DIGEST_SIZE",
    "SM4_GCM_NONCE_SIZE",
    "SM4_GCM_TAG_SIZE",
    "SM4_KEY_SIZE",
    "Curve",
    "decrypt",
    "encrypt",
    "generate_keypair",
    "message_digest",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_from_pem",
    "public_key_from_private",
    "public_key_raw",
    "public_key_to_pem",
    "public_key_uncompressed",
    "sign",
    "signature_from_der",
    "signature_to_der",
    "sm3",
    "sm4_block_encryptor",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
    "verify",
    "z_a",
]

#: The default user id of GB/T 32918.2 / GB/T 35276-2017 ("1234567812345678").
DEFAULT_USER_ID = b"1234567812345678"

SM3_DIGEST_SIZE = 32
SM4_KEY_SIZE = 16
SM4_GCM_NONCE_SIZE = 12
SM4_GCM_TAG_SIZE = 16

# Object identifiers, DER-encoded: id-ecPublicKey (RFC 5480) and sm2p256v1 (GB/T 33560-2017).
_OID_EC_PUBLIC_KEY = _der.encode(_der.OBJECT_IDENTIFIER, bytes.fromhex("2a8648ce3d0201"))
_OID_SM2P256V1 = _der.encode(_der.OBJECT_IDENTIFIER, bytes.fromhex("2a811ccf5501822d"))
_ALGORITHM = _der.encode_sequence(_OID_EC_PUBLIC_KEY, _OID_SM2P256V1)


@dataclass(frozen=True)
class Curve:
    """SM2 domain parameters over a prime field: ``y^2 = x^3 + ax + b`` mod ``p``, base point
    ``(gx, gy)`` of prime order ``n`` and cofactor 1."""

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def size(self) -> int:
        """Bytes in a field element (and in a scalar: both curves used have ``n`` < ``p``)."""
        return (self.p.bit_length() + 7) // 8


#: The recommended curve of GB/T 32918.5-2017 (``sm2p256v1``), the only one used in production.
SM2P256V1 = Curve(
    name="sm2p256v1",
    p=0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFF,
    a=0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFC,
    b=0x28E9FA9E_9D9F5E34_4D5A9E4B_CF6509A7_F39789F5_15AB8F92_DDBCBD41_4D940E93,
    gx=0x32C4AE2C_1F198119_5F990446_6A39C994_8FE30BBF_F2660BE1_715A4589_334C74C7,
    gy=0xBC3736A2_F4F6779C_59BDCEE3_6B692153_D0A9877C_C62A4740_02DF32E5_2139F0A0,
    n=0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_7203DF6B_21C6052B_53BBF409_39D54123,
)


# --- SM3 and SM4 (cryptography) ------------------------------------------------------------------


def sm3(data: bytes) -> bytes:
    """The SM3 digest of ``data`` (32 bytes)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm4_block_encryptor(key: bytes) -> Callable[[bytes], bytes]:
    """A function that encrypts 16-byte blocks under ``key`` with the bare SM4 block cipher.

    For known-answer tests of the cipher itself (GB/T 32907 Appendix A); never use it to encrypt
    data: it is ECB, with no nonce and no integrity. Use :func:`sm4_gcm_encrypt`.
    """
    if len(key) != SM4_KEY_SIZE:
        raise InvalidKey("an SM4 key is 16 bytes")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 (KAT only)

    def encrypt_block(block: bytes) -> bytes:
        if len(block) != 16:
            raise ValueError("an SM4 block is 16 bytes")
        return encryptor.update(block)

    return encrypt_block


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM: ``ciphertext || tag`` (16-byte tag). ``nonce`` (12 bytes) must never repeat
    under one key."""
    if len(key) != SM4_KEY_SIZE:
        raise InvalidKey("an SM4 key is 16 bytes")
    if len(nonce) != SM4_GCM_NONCE_SIZE:
        raise ValueError("an SM4-GCM nonce is 12 bytes")
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return ciphertext + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
    """Opens :func:`sm4_gcm_encrypt`'s output; raises :class:`DecryptionFailed` if the key, nonce,
    ciphertext, tag or aad do not match. No plaintext is returned before the tag is checked."""
    if len(key) != SM4_KEY_SIZE:
        raise InvalidKey("an SM4 key is 16 bytes")
    if len(nonce) != SM4_GCM_NONCE_SIZE or len(ciphertext) < SM4_GCM_TAG_SIZE:
        raise DecryptionFailed("SM4-GCM nonce or ciphertext has the wrong length")
    body, tag = ciphertext[:-SM4_GCM_TAG_SIZE], ciphertext[-SM4_GCM_TAG_SIZE:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    plaintext = decryptor.update(body)
    try:
        return plaintext + decryptor.finalize()
    except InvalidTag as exc:
        raise DecryptionFailed("SM4-GCM authentication failed") from exc


# --- SM2 (gmalg) ---------------------------------------------------------------------------------


class _SM3ForGmalg:
    """gmalg's ``Hash`` interface (reset / update / value) over ``cryptography``'s SM3."""

    @classmethod
    def hash_length(cls) -> int:
        return SM3_DIGEST_SIZE

    @classmethod
    def max_msg_length(cls) -> int:
        return (1 << 61) - 1  # SM3 takes messages shorter than 2^64 bits.

    def __init__(self) -> None:
        self._hash = hashes.Hash(hashes.SM3())

    def reset(self) -> None:
        self._hash = hashes.Hash(hashes.SM3())

    def update(self, data: bytes) -> None:
        self._hash.update(bytes(data))

    def value(self) -> bytes:
        return self._hash.copy().finalize()


@functools.cache
def _ecdlp(curve: Curve) -> Any:
    # gmalg's ECDLP holds only the parameters (no mutable state), so one per curve is shared.
    return gm_ec.ECDLP(curve.p, curve.a, curve.b, (curve.gx, curve.gy), curve.n)


def _core(curve: Curve, k: int | None = None) -> Any:
    if k is None:
        return SM2Core(_ecdlp(curve), _SM3ForGmalg())
    if not 1 <= k <= curve.n - 1:
        raise ValueError("k must lie in [1, n - 1]")
    used = False

    def given_k(bits: int) -> int:
        # gmalg draws k through this function and draws again only if k is unusable.
        nonlocal used
        if used:
            raise CryptoError("the given k is unusable for this message; draw another")
        used = True
        return k

    return SM2Core(_ecdlp(curve), _SM3ForGmalg(), given_k)


def _scalar(private_key: bytes, curve: Curve) -> int:
    if len(private_key) != curve.size:
        raise InvalidKey(f"an SM2 private key is {curve.size} bytes")
    d = int.from_bytes(private_key, "big")
    if not 1 <= d <= curve.n - 2:
        raise InvalidKey("an SM2 private key must lie in [1, n - 2]")
    return d


def _point(public_key: bytes, curve: Curve) -> tuple[int, int]:
    size = curve.size
    if len(public_key) == 2 * size + 1 and public_key[0] == 0x04:
        body = public_key[1:]
    elif len(public_key) == 2 * size:
        body = public_key
    else:
        raise InvalidKey(
            f"an SM2 public key is 04 || x || y ({2 * size + 1} bytes) or x || y ({2 * size} bytes)"
        )
    x = int.from_bytes(body[:size], "big")
    y = int.from_bytes(body[size:], "big")
    if x >= curve.p or y >= curve.p or not _core(curve).verify_pk((x, y)):
        raise InvalidKey("not a valid SM2 public key for this curve")
    return x, y


def _encode_point(point: tuple[int, int], curve: Curve) -> bytes:
    x, y = point
    return b"\x04" + x.to_bytes(curve.size, "big") + y.to_bytes(curve.size, "big")


def generate_keypair(curve: Curve = SM2P256V1) -> tuple[bytes, bytes]:
    """A new key pair: (32-byte private scalar, 65-byte uncompressed public point)."""
    core = _core(curve)
    d, point = core.generate_keypair()
    return d.to_bytes(curve.size, "big"), _encode_point(point, curve)


def public_key_from_private(private_key: bytes, curve: Curve = SM2P256V1) -> bytes:
    """The 65-byte uncompressed public point ``[d]G`` of a private key."""
    return _encode_point(_core(curve).generate_pk(_scalar(private_key, curve)), curve)


def public_key_uncompressed(public_key: bytes, curve: Curve = SM2P256V1) -> bytes:
    """A validated public key (65 or 64 bytes) as the 65-byte ``04 || x || y``."""
    return _encode_point(_point(public_key, curve), curve)


def public_key_raw(public_key: bytes, curve: Curve = SM2P256V1) -> bytes:
    """A validated public key (65 or 64 bytes) as the 64-byte ``x || y``."""
    return _encode_point(_point(public_key, curve), curve)[1:]


def z_a(public_key: bytes, user_id: bytes = DEFAULT_USER_ID, curve: Curve = SM2P256V1) -> bytes:
    """Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) (GB/T 32918.2 §5.5)."""
    try:
        return bytes(_core(curve).entity_info(user_id, _point(public_key, curve)))
    except gm_errors.DataOverflowError as exc:
        raise ValueError("the user id is longer than 8191 bytes") from exc


def message_digest(
    public_key: bytes, message: bytes, user_id: bytes = DEFAULT_USER_ID, curve: Curve = SM2P256V1
) -> bytes:
    """e = SM3(Z_A || M), the value SM2 signs (GB/T 32918.2 §6.1 steps A1-A2)."""
    return sm3(z_a(public_key, user_id, curve) + message)


def sign(
    private_key: bytes,
    message: bytes,
    *,
    user_id: bytes = DEFAULT_USER_ID,
    curve: Curve = SM2P256V1,
    k: int | None = None,
) -> bytes:
    """The SM2 signature ``r || s`` (64 bytes) of ``message`` (GB/T 32918.2 §6.1), with Z_A over
    ``user_id`` and the signer's public key. ``k`` is for known-answer tests only."""
    d = _scalar(private_key, curve)
    core = _core(curve, k)
    try:
        r, s = core.sign(message, d, user_id, core.generate_pk(d))
    except gm_errors.DataOverflowError as exc:
        raise ValueError("the user id is longer than 8191 bytes") from exc
    return r.to_bytes(curve.size, "big") + s.to_bytes(curve.size, "big")


def verify(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    *,
    user_id: bytes = DEFAULT_USER_ID,
    curve: Curve = SM2P256V1,
) -> bool:
    """Whether ``signature`` (``r || s``, 64 bytes) is the SM2 signature of ``message`` under
    ``public_key`` and ``user_id`` (GB/T 32918.2 §7.1). A malformed signature is simply invalid;
    a malformed public key raises :class:`InvalidKey`."""
    point = _point(public_key, curve)
    if len(signature) != 2 * curve.size:
        return False
    r = int.from_bytes(signature[: curve.size], "big")
    s = int.from_bytes(signature[curve.size :], "big")
    try:
        return bool(_core(curve).verify(message, r, s, user_id, point))
    except gm_errors.DataOverflowError as exc:
        raise ValueError("the user id is longer than 8191 bytes") from exc


def encrypt(
    public_key: bytes, plaintext: bytes, *, curve: Curve = SM2P256V1, k: int | None = None
) -> bytes:
    """SM2 public-key encryption (GB/T 32918.4 §6.1): ``C1 || C3 || C2``, where C1 is the
    65-byte uncompressed ``[k]G``, C3 = SM3(x2 || M || y2) and C2 = M xor KDF(x2 || y2).
    ``k`` is for known-answer tests only."""
    if not plaintext:
        raise ValueError("SM2 encrypts at least one byte")
    point = _point(public_key, curve)
    c1, c2, c3 = _core(curve, k).encrypt(plaintext, point)
    return _encode_point(c1, curve) + bytes(c3) + bytes(c2)


def decrypt(private_key: bytes, ciphertext: bytes, *, curve: Curve = SM2P256V1) -> bytes:
    """Opens ``C1 || C3 || C2`` (GB/T 32918.4 §7.1); raises :class:`DecryptionFailed` if the
    ciphertext is malformed, was changed, or is not for this key."""
    d = _scalar(private_key, curve)
    head = 1 + 2 * curve.size
    if len(ciphertext) <= head + SM3_DIGEST_SIZE or ciphertext[0] != 0x04:
        raise DecryptionFailed("not an SM2 ciphertext C1 || C3 || C2 with uncompressed C1")
    x = int.from_bytes(ciphertext[1 : 1 + curve.size], "big")
    y = int.from_bytes(ciphertext[1 + curve.size : head], "big")
    if x >= curve.p or y >= curve.p:
        raise DecryptionFailed("C1 is not a point of the curve")
    c3 = ciphertext[head : head + SM3_DIGEST_SIZE]
    c2 = ciphertext[head + SM3_DIGEST_SIZE :]
    try:
        return bytes(_core(curve).decrypt((x, y), c2, c3, d))
    except gm_errors.GMError as exc:
        raise DecryptionFailed("SM2 decryption failed") from exc


# --- encodings -----------------------------------------------------------------------------------


def signature_to_der(signature: bytes) -> bytes:
    """``r || s`` (64 bytes) as the DER ``SM2Signature`` of GB/T 35276-2017."""
    if len(signature) != 2 * SM2P256V1.size:
        raise ValueError("an SM2 signature r || s is 64 bytes")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    return _der.encode_sequence(_der.encode_integer(r), _der.encode_integer(s))


def signature_from_der(der: bytes) -> bytes:
    """A DER ``SM2Signature`` as ``r || s`` (64 bytes); raises ``ValueError`` if malformed."""
    items = _der.children(_der.parse(der, _der.SEQUENCE))
    if len(items) != 2 or any(tag != _der.INTEGER for tag, _ in items):
        raise _der.DERError("an SM2Signature is a SEQUENCE of two INTEGERs")
    r, s = (_der.decode_integer(content) for _, content in items)
    if not (1 <= r < SM2P256V1.n and 1 <= s < SM2P256V1.n):
        raise _der.DERError("r and s must lie in [1, n - 1]")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def public_key_to_pem(public_key: bytes) -> bytes:
    """An sm2p256v1 public key as a PEM SubjectPublicKeyInfo (``PUBLIC KEY``)."""
    point = public_key_uncompressed(public_key)
    spki = _der.encode_sequence(_ALGORITHM, _der.encode(_der.BIT_STRING, b"\x00" + point))
    return _der.to_pem(spki, "PUBLIC KEY")


def public_key_from_pem(pem: bytes) -> bytes:
    """The 65-byte public key in a PEM SubjectPublicKeyInfo for sm2p256v1."""
    try:
        items = _der.children(_der.parse(_der.from_pem(pem, "PUBLIC KEY"), _der.SEQUENCE))
        if len(items) != 2 or items[0] != (_der.SEQUENCE, _ALGORITHM[2:]):
            raise _der.DERError("not an id-ecPublicKey on sm2p256v1")
        tag, bits = items[1]
        if tag != _der.BIT_STRING or not bits or bits[0] != 0:
            raise _der.DERError("bad subjectPublicKey BIT STRING")
    except _der.DERError as exc:
        raise InvalidKey(f"not an SM2 public key PEM: {exc}") from exc
    return public_key_uncompressed(bits[1:])


def private_key_to_pem(private_key: bytes) -> bytes:
    """An sm2p256v1 private key as unencrypted PEM PKCS#8 (``PRIVATE KEY``) holding an RFC 5915
    ``ECPrivateKey`` with its public key, as OpenSSL 3 writes it. Protect the output."""
    _scalar(private_key, SM2P256V1)
    point = public_key_from_private(private_key)
    ec_private_key = _der.encode_sequence(
        _der.encode_integer(1),
        _der.encode(_der.OCTET_STRING, private_key),
        _der.encode(0xA1, _der.encode(_der.BIT_STRING, b"\x00" + point)),
    )
    pkcs8 = _der.encode_sequence(
        _der.encode_integer(0), _ALGORITHM, _der.encode(_der.OCTET_STRING, ec_private_key)
    )
    return _der.to_pem(pkcs8, "PRIVATE KEY")


def private_key_from_pem(pem: bytes) -> bytes:
    """The 32-byte private key in an unencrypted PEM PKCS#8 for sm2p256v1. An embedded public
    key or curve, if present, must agree."""
    try:
        items = _der.children(_der.parse(_der.from_pem(pem, "PRIVATE KEY"), _der.SEQUENCE))
        if len(items) != 3 or items[0] != (_der.INTEGER, b"\x00"):
            raise _der.DERError("not a version 0 PKCS#8 PrivateKeyInfo")
        if items[1] != (_der.SEQUENCE, _ALGORITHM[2:]):
            raise _der.DERError("not an id-ecPublicKey on sm2p256v1")
        if items[2][0] != _der.OCTET_STRING:
            raise _der.DERError("privateKey is not an OCTET STRING")
        fields = _der.children(_der.parse(items[2][1], _der.SEQUENCE))
        if len(fields) < 2 or fields[0] != (_der.INTEGER, b"\x01"):
            raise _der.DERError("not a version 1 ECPrivateKey")
        tag, scalar = fields[1]
        if tag != _der.OCTET_STRING or len(scalar) != SM2P256V1.size:
            raise _der.DERError("privateKey is not a 32-byte OCTET STRING")
        embedded_point: bytes | None = None
        for tag, content in fields[2:]:
            if tag == 0xA0:
                if content != _OID_SM2P256V1:
                    raise _der.DERError("ECPrivateKey names another curve")
            elif tag == 0xA1:
                bits = _der.parse(content, _der.BIT_STRING)
                if not bits or bits[0] != 0:
                    raise _der.DERError("bad publicKey BIT STRING")
                embedded_point = bits[1:]
            else:
                raise _der.DERError("unexpected field in ECPrivateKey")
    except _der.DERError as exc:
        raise InvalidKey(f"not an SM2 private key PEM: {exc}") from exc
    point = public_key_from_private(scalar)
    if embedded_point is not None and public_key_uncompressed(embedded_point) != point:
        raise InvalidKey("the PEM's public key does not belong to its private key")
    return scalar
