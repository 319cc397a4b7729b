"""Crypto suites for sealed bids, chosen per tender, behind one small interface.

Two suites (:data:`SUITES`, :func:`get_suite`):

================  ===========================================  ====================================
                  ``intl-2026``                                ``sm-2026``
================  ===========================================  ====================================
hash              SHA-256                                      SM3 (GB/T 32905)
signature         Ed25519 (RFC 8032)                           SM2 with SM3 and Z_A over the
                                                               default id ``1234567812345678``
                                                               (GB/T 32918.2), ``r || s``
data-key wrap     HPKE (RFC 9180) base mode, DHKEM(X25519,     SM2 encryption (GB/T 32918.4),
                  HKDF-SHA256), HKDF-SHA256, AES-256-GCM       ``C1 || C3 || C2``
payload AEAD      AES-256-GCM                                  SM4-GCM (GB/T 36624, RFC 8998)
key derivation    HKDF-SHA256 (RFC 5869)                       HKDF-SM3 (RFC 5869 over SM3, as in
                                                               RFC 8998)
================  ===========================================  ====================================

Every primitive comes from a library: ``cryptography`` (Ed25519, X25519, HPKE, AES-GCM, SHA-256,
HKDF, SM3, SM4-GCM; ``cryptography`` provides RFC 9180 HPKE itself in
``cryptography.hazmat.primitives.hpke``, so no hand-built HPKE is involved) and ``gmalg`` (SM2,
see :mod:`openbid.crypto.sm`). This module only defines the container layout.

Keys are bytes: Ed25519 and X25519 keys are their 32-byte raw forms (RFC 8032, RFC 7748); SM2
private keys are 32-byte scalars and SM2 public keys the 65-byte uncompressed point (the 64-byte
``x || y`` is accepted too). PEM is PKCS#8 / SubjectPublicKeyInfo (RFC 8410 for Ed25519 and
X25519; GB/T 35276 with the ``sm2p256v1`` named curve for SM2).

Sealing (principle 4: nobody can read a bid before opening, not even the platform). The bidder
seals a bid to public keys the platform does not hold (its own, and escrow custodians'):

1. a fresh random 32-byte **data key** ``DK`` and a random 32-byte ``message_id``;
2. ``aead_key = HKDF(hash, salt=message_id, info="openbid-envelope-v1 <suite> DERIVEKEY")(DK)``
   (32 bytes for AES-256-GCM, 16 for SM4-GCM) and the **key commitment**
   ``commitment = HKDF(hash, salt=message_id, info="openbid-envelope-v1 <suite> COMMITKEY")(DK)``
   (32 bytes) — the key-committing construction of the AWS Encryption SDK's message format v2
   (Albertini et al., "How to Abuse and Fix Authenticated Encryption Without Key Commitment",
   USENIX Security 2022). GCM alone is not key-committing: without it a bidder could build one
   ciphertext that opens to two different bids under two data keys and choose at opening which
   key to release. With it, exactly one data key opens an envelope, whoever releases it;
3. the plaintext is encrypted with the suite's AEAD under ``aead_key`` and a random 96-bit nonce,
   with associated data ``header || aad`` (the header is every byte before the ciphertext, and is
   self-delimiting, so the concatenation is unambiguous): any change to the header, the
   ciphertext or the caller's ``aad`` is detected;
4. ``DK`` is wrapped once per recipient: ``intl-2026`` with HPKE single-shot ``Seal`` (info
   ``"openbid-envelope-v1 intl-2026"``, empty aad), giving the standard ``enc || ct``
   (32 + 48 bytes); ``sm-2026`` with SM2 encryption, giving ``C1 || C3 || C2`` (65 + 32 + 32).

Opening: a recipient unwraps ``DK`` with its private key (:meth:`Suite.unwrap`), or the bidder
releases ``DK`` itself at the opening (:meth:`Suite.open_with_data_key`); either way ``DK`` is
checked against the commitment before the payload is decrypted.

Envelope format, version 1 (all integers big-endian)::

    offset  size        field
    0       5           magic  b"OBENV"
    5       1           version  0x01
    6       1           suite name length L (1..255)
    7       L           suite name, ASCII ("intl-2026" or "sm-2026")
    7+L     32          message_id (HKDF salt)
    39+L    32          key commitment
    71+L    12          AEAD nonce
    83+L    2           recipient count N (1..65535)
    85+L    ...         N times: key_id (32) | wrapped-key length W (2) | wrapped key (W)
    ...     rest        AEAD ciphertext, 16-byte tag last

``key_id`` is the suite's hash of the recipient's canonical encryption public key (32-byte X25519
key; 65-byte uncompressed SM2 point): :meth:`Suite.key_id`. Key ids are unique within an
envelope. Unknown magic, version or suite, bad lengths, duplicate key ids and a missing tag are
refused by :func:`parse_envelope`.
"""

from __future__ import annotations

import enum
import os
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import constant_time, hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from openbid.crypto import sm
from openbid.crypto.errors import DecryptionFailed, InvalidEnvelope, InvalidKey, NotARecipient

__all__ = [
    "ENVELOPE_MAGIC",
    "ENVELOPE_VERSION",
    "SUITES",
    "Envelope",
    "EnvelopeHeader",
    "InternationalSuite",
    "KeyPair",
    "KeyUse",
    "NationalSuite",
    "Suite",
    "WrappedKey",
    "get_suite",
    "parse_envelope",
    "parse_header",
]

ENVELOPE_MAGIC = b"OBENV"
ENVELOPE_VERSION = 1
DATA_KEY_SIZE = 32
MESSAGE_ID_SIZE = 32
COMMITMENT_SIZE = 32
KEY_ID_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
_LABEL = b"openbid-envelope-v1 "


class KeyUse(enum.Enum):
    """What a key pair is for; the international suite uses different curves for each."""

    SIGNING = "signing"
    ENCRYPTION = "encryption"


@dataclass(frozen=True)
class KeyPair:
    private: bytes = field(repr=False)
    public: bytes


@dataclass(frozen=True)
class WrappedKey:
    key_id: bytes
    wrapped: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope; ``header`` is every byte before ``ciphertext``."""

    version: int
    suite: str
    message_id: bytes
    commitment: bytes
    nonce: bytes
    recipients: tuple[WrappedKey, ...]
    ciphertext: bytes
    header: bytes

    @property
    def key_ids(self) -> tuple[bytes, ...]:
        return tuple(recipient.key_id for recipient in self.recipients)


@dataclass(frozen=True)
class EnvelopeHeader:
    """The fields of an envelope before its ciphertext; ``size`` is the header's length."""

    version: int
    suite: str
    message_id: bytes
    commitment: bytes
    nonce: bytes
    recipients: tuple[WrappedKey, ...]
    size: int

    @property
    def key_ids(self) -> tuple[bytes, ...]:
        return tuple(recipient.key_id for recipient in self.recipients)


def parse_header(data: bytes) -> EnvelopeHeader:
    """Parses the header of an envelope from its first bytes (enough of them: the header is
    ``85 + L`` bytes plus every recipient's entry); raises :class:`InvalidEnvelope`. Lets the
    platform read the suite and the recipients of a stored bid without reading all of it."""
    view = bytes(data)
    position = 0

    def take(size: int, what: str) -> bytes:
        nonlocal position
        if position + size > len(view):
            raise InvalidEnvelope(f"envelope truncated in {what}")
        chunk = view[position : position + size]
        position += size
        return chunk

    if take(len(ENVELOPE_MAGIC), "magic") != ENVELOPE_MAGIC:
        raise InvalidEnvelope("not a sealed envelope (bad magic)")
    version = take(1, "version")[0]
    if version != ENVELOPE_VERSION:
        raise InvalidEnvelope(f"unsupported envelope version {version}")
    name_length = take(1, "suite name length")[0]
    try:
        suite = take(name_length, "suite name").decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidEnvelope("suite name is not ASCII") from exc
    if suite not in SUITES:
        raise InvalidEnvelope(f"unknown suite {suite!r}")
    message_id = take(MESSAGE_ID_SIZE, "message id")
    commitment = take(COMMITMENT_SIZE, "key commitment")
    nonce = take(NONCE_SIZE, "nonce")
    (count,) = struct.unpack(">H", take(2, "recipient count"))
    if count == 0:
        raise InvalidEnvelope("envelope has no recipients")
    recipients = []
    for _ in range(count):
        key_id = take(KEY_ID_SIZE, "recipient key id")
        (size,) = struct.unpack(">H", take(2, "wrapped key length"))
        recipients.append(WrappedKey(key_id, take(size, "wrapped key")))
    if len({recipient.key_id for recipient in recipients}) != count:
        raise InvalidEnvelope("duplicate recipient key id")
    return EnvelopeHeader(
        version, suite, message_id, commitment, nonce, tuple(recipients), position
    )


def parse_envelope(data: bytes) -> Envelope:
    """Parses and checks the layout of an envelope (not its cryptography: see :meth:`Suite.open`).
    Raises :class:`InvalidEnvelope`."""
    view = bytes(data)
    head = parse_header(view)
    header, ciphertext = view[: head.size], view[head.size :]
    if len(ciphertext) < TAG_SIZE:
        raise InvalidEnvelope("envelope truncated in ciphertext")
    return Envelope(
        head.version,
        head.suite,
        head.message_id,
        head.commitment,
        head.nonce,
        head.recipients,
        ciphertext,
        header,
    )


class Suite(ABC):
    """One crypto suite. Keys, signatures and envelopes are bytes."""

    #: The suite's name, as stored per tender and written in envelopes.
    name: str
    #: The hash used for hashing, key ids and HKDF.
    _hash_algorithm: hashes.HashAlgorithm
    #: The AEAD key size.
    _aead_key_size: int

    # --- hashing and signatures -----------------------------------------------------------------

    def hash(self, data: bytes) -> bytes:
        """The suite's 32-byte digest of ``data``."""
        digest = hashes.Hash(self._hash_algorithm)
        digest.update(data)
        return digest.finalize()

    @abstractmethod
    def generate_signing_key(self) -> KeyPair: ...

    @abstractmethod
    def sign(self, private_key: bytes, message: bytes) -> bytes: ...

    @abstractmethod
    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Whether the signature is valid; a malformed public key raises :class:`InvalidKey`."""

    # --- keys -----------------------------------------------------------------------------------

    @abstractmethod
    def generate_encryption_key(self) -> KeyPair: ...

    @abstractmethod
    def public_key(self, private_key: bytes, use: KeyUse) -> bytes:
        """The public key of a private key."""

    @abstractmethod
    def public_key_to_pem(self, public_key: bytes, use: KeyUse) -> bytes: ...

    @abstractmethod
    def public_key_from_pem(self, pem: bytes, use: KeyUse) -> bytes: ...

    @abstractmethod
    def private_key_to_pem(self, private_key: bytes, use: KeyUse) -> bytes:
        """Unencrypted PKCS#8 PEM: protect the output like the key itself."""

    @abstractmethod
    def private_key_from_pem(self, pem: bytes, use: KeyUse) -> bytes: ...

    @abstractmethod
    def _canonical_encryption_public_key(self, public_key: bytes) -> bytes:
        """The validated canonical form of an encryption public key (raises InvalidKey)."""

    def key_id(self, public_key: bytes) -> bytes:
        """The 32-byte id of an encryption public key: the suite hash of its canonical form."""
        return self.hash(self._canonical_encryption_public_key(public_key))

    # --- primitives the envelope is built from ---------------------------------------------------

    @abstractmethod
    def _wrap(self, public_key: bytes, data_key: bytes) -> bytes: ...

    @abstractmethod
    def _unwrap(self, private_key: bytes, wrapped: bytes) -> bytes: ...

    @abstractmethod
    def _aead_encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes: ...

    @abstractmethod
    def _aead_decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes: ...

    def _derive(self, data_key: bytes, message_id: bytes, purpose: bytes, length: int) -> bytes:
        info = _LABEL + self.name.encode("ascii") + b" " + purpose
        return HKDF(self._hash_algorithm, length, message_id, info).derive(data_key)

    # --- envelopes ------------------------------------------------------------------------------

    def seal(self, recipient_public_keys: list[bytes], plaintext: bytes, aad: bytes) -> bytes:
        """Encrypts ``plaintext`` for every recipient (encryption public keys) under a fresh data
        key; ``aad`` (e.g. the tender and bidder ids) must be given again to open."""
        if not recipient_public_keys:
            raise ValueError("an envelope needs at least one recipient")
        if len(recipient_public_keys) > 0xFFFF:
            raise ValueError("too many recipients")
        key_ids = [self.key_id(public_key) for public_key in recipient_public_keys]
        if len(set(key_ids)) != len(key_ids):
            raise ValueError("the same recipient key is given twice")
        data_key = os.urandom(DATA_KEY_SIZE)
        message_id = os.urandom(MESSAGE_ID_SIZE)
        nonce = os.urandom(NONCE_SIZE)
        name = self.name.encode("ascii")
        header = bytearray(ENVELOPE_MAGIC)
        header += bytes([ENVELOPE_VERSION, len(name)]) + name
        header += message_id
        header += self._derive(data_key, message_id, b"COMMITKEY", COMMITMENT_SIZE)
        header += nonce
        header += struct.pack(">H", len(key_ids))
        for key_id, public_key in zip(key_ids, recipient_public_keys, strict=True):
            wrapped = self._wrap(public_key, data_key)
            header += key_id + struct.pack(">H", len(wrapped)) + wrapped
        aead_key = self._derive(data_key, message_id, b"DERIVEKEY", self._aead_key_size)
        ciphertext = self._aead_encrypt(aead_key, nonce, plaintext, bytes(header) + aad)
        return bytes(header) + ciphertext

    def parse(self, envelope: bytes) -> Envelope:
        """:func:`parse_envelope`, refusing an envelope of another suite."""
        parsed = parse_envelope(envelope)
        if parsed.suite != self.name:
            raise InvalidEnvelope(f"envelope is for suite {parsed.suite!r}, not {self.name!r}")
        return parsed

    def _check_commitment(self, parsed: Envelope, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_SIZE:
            raise DecryptionFailed("a data key is 32 bytes")
        expected = self._derive(data_key, parsed.message_id, b"COMMITKEY", COMMITMENT_SIZE)
        if not constant_time.bytes_eq(expected, parsed.commitment):
            raise DecryptionFailed("the data key does not match the envelope's key commitment")

    def unwrap(self, recipient_private_key: bytes, envelope: bytes) -> bytes:
        """The envelope's 32-byte data key, unwrapped with a recipient's encryption private key
        and checked against the key commitment. This is what a bidder releases at opening."""
        parsed = self.parse(envelope)
        key_id = self.key_id(self.public_key(recipient_private_key, KeyUse.ENCRYPTION))
        for recipient in parsed.recipients:
            if recipient.key_id == key_id:
                data_key = self._unwrap(recipient_private_key, recipient.wrapped)
                self._check_commitment(parsed, data_key)
                return data_key
        raise NotARecipient("the envelope holds no data key for this private key")

    def open_with_data_key(self, data_key: bytes, envelope: bytes, aad: bytes) -> bytes:
        """The plaintext, from a released data key; raises :class:`DecryptionFailed` if the key
        does not match the envelope's commitment or anything was changed."""
        parsed = self.parse(envelope)
        self._check_commitment(parsed, data_key)
        aead_key = self._derive(data_key, parsed.message_id, b"DERIVEKEY", self._aead_key_size)
        return self._aead_decrypt(aead_key, parsed.nonce, parsed.ciphertext, parsed.header + aad)

    def open(self, recipient_private_key: bytes, envelope: bytes, aad: bytes) -> bytes:
        """The plaintext, opened with a recipient's encryption private key."""
        return self.open_with_data_key(self.unwrap(recipient_private_key, envelope), envelope, aad)


def _algorithm(use: KeyUse) -> str:
    return "Ed25519" if use is KeyUse.SIGNING else "X25519"


class InternationalSuite(Suite):
    """``intl-2026``: Ed25519, HPKE X25519/HKDF-SHA256/AES-256-GCM, AES-256-GCM, SHA-256."""

    name = "intl-2026"
    _hash_algorithm = hashes.SHA256()
    _aead_key_size = 32
    _hpke = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    _hpke_info = _LABEL + b"intl-2026"

    @staticmethod
    def _ed25519_private(private_key: bytes) -> ed25519.Ed25519PrivateKey:
        if len(private_key) != 32:
            raise InvalidKey("an Ed25519 private key is 32 bytes")
        return ed25519.Ed25519PrivateKey.from_private_bytes(private_key)

    @staticmethod
    def _ed25519_public(public_key: bytes) -> ed25519.Ed25519PublicKey:
        if len(public_key) != 32:
            raise InvalidKey("an Ed25519 public key is 32 bytes")
        try:
            return ed25519.Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError as exc:
            raise InvalidKey("not an Ed25519 public key") from exc

    @staticmethod
    def _x25519_private(private_key: bytes) -> x25519.X25519PrivateKey:
        if len(private_key) != 32:
            raise InvalidKey("an X25519 private key is 32 bytes")
        return x25519.X25519PrivateKey.from_private_bytes(private_key)

    @staticmethod
    def _x25519_public(public_key: bytes) -> x25519.X25519PublicKey:
        if len(public_key) != 32:
            raise InvalidKey("an X25519 public key is 32 bytes")
        return x25519.X25519PublicKey.from_public_bytes(public_key)

    @staticmethod
    def _raw_public(key: ed25519.Ed25519PublicKey | x25519.X25519PublicKey) -> bytes:
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @staticmethod
    def _raw_private(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def generate_signing_key(self) -> KeyPair:
        key = ed25519.Ed25519PrivateKey.generate()
        return KeyPair(self._raw_private(key), self._raw_public(key.public_key()))

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return self._ed25519_private(private_key).sign(message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        key = self._ed25519_public(public_key)
        if len(signature) != 64:
            return False
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def generate_encryption_key(self) -> KeyPair:
        key = x25519.X25519PrivateKey.generate()
        return KeyPair(self._raw_private(key), self._raw_public(key.public_key()))

    def public_key(self, private_key: bytes, use: KeyUse) -> bytes:
        if use is KeyUse.SIGNING:
            return self._raw_public(self._ed25519_private(private_key).public_key())
        return self._raw_public(self._x25519_private(private_key).public_key())

    def public_key_to_pem(self, public_key: bytes, use: KeyUse) -> bytes:
        key = (
            self._ed25519_public(public_key)
            if use is KeyUse.SIGNING
            else self._x25519_public(public_key)
        )
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_key_from_pem(self, pem: bytes, use: KeyUse) -> bytes:
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise InvalidKey("not a PEM public key") from exc
        wanted = ed25519.Ed25519PublicKey if use is KeyUse.SIGNING else x25519.X25519PublicKey
        if not isinstance(key, wanted):
            raise InvalidKey(f"not an {_algorithm(use)} public key")
        return self._raw_public(key)

    def private_key_to_pem(self, private_key: bytes, use: KeyUse) -> bytes:
        key = (
            self._ed25519_private(private_key)
            if use is KeyUse.SIGNING
            else self._x25519_private(private_key)
        )
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def private_key_from_pem(self, pem: bytes, use: KeyUse) -> bytes:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise InvalidKey("not an unencrypted PEM private key") from exc
        wanted = ed25519.Ed25519PrivateKey if use is KeyUse.SIGNING else x25519.X25519PrivateKey
        if not isinstance(key, wanted):
            raise InvalidKey(f"not an {_algorithm(use)} private key")
        return self._raw_private(key)

    def _canonical_encryption_public_key(self, public_key: bytes) -> bytes:
        return self._raw_public(self._x25519_public(public_key))

    def _wrap(self, public_key: bytes, data_key: bytes) -> bytes:
        try:
            return self._hpke.encrypt(data_key, self._x25519_public(public_key), self._hpke_info)
        except ValueError as exc:  # e.g. a low-order point: the shared secret would be zero
            raise InvalidKey("unusable X25519 public key") from exc

    def _unwrap(self, private_key: bytes, wrapped: bytes) -> bytes:
        try:
            return self._hpke.decrypt(wrapped, self._x25519_private(private_key), self._hpke_info)
        except (InvalidTag, ValueError) as exc:
            raise DecryptionFailed("the wrapped data key does not open with this key") from exc

    def _aead_encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    def _aead_decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(key).decrypt(nonce, ciphertext, aad)
        except InvalidTag as exc:
            raise DecryptionFailed("AES-256-GCM authentication failed") from exc


class NationalSuite(Suite):
    """``sm-2026``: SM2 signatures (SM3, default user id), SM2 encryption, SM4-GCM, SM3."""

    name = "sm-2026"
    _hash_algorithm = hashes.SM3()
    _aead_key_size = sm.SM4_KEY_SIZE

    def generate_signing_key(self) -> KeyPair:
        private_key, public_key = sm.generate_keypair()
        return KeyPair(private_key, public_key)

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return sm.sign(private_key, message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        return sm.verify(public_key, message, signature)

    def generate_encryption_key(self) -> KeyPair:
        return self.generate_signing_key()

    def public_key(self, private_key: bytes, use: KeyUse) -> bytes:
        return sm.public_key_from_private(private_key)

    def public_key_to_pem(self, public_key: bytes, use: KeyUse) -> bytes:
        return sm.public_key_to_pem(public_key)

    def public_key_from_pem(self, pem: bytes, use: KeyUse) -> bytes:
        return sm.public_key_from_pem(pem)

    def private_key_to_pem(self, private_key: bytes, use: KeyUse) -> bytes:
        return sm.private_key_to_pem(private_key)

    def private_key_from_pem(self, pem: bytes, use: KeyUse) -> bytes:
        return sm.private_key_from_pem(pem)

    def _canonical_encryption_public_key(self, public_key: bytes) -> bytes:
        return sm.public_key_uncompressed(public_key)

    def _wrap(self, public_key: bytes, data_key: bytes) -> bytes:
        return sm.encrypt(public_key, data_key)

    def _unwrap(self, private_key: bytes, wrapped: bytes) -> bytes:
        return sm.decrypt(private_key, wrapped)

    def _aead_encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return sm.sm4_gcm_encrypt(key, nonce, plaintext, aad)

    def _aead_decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return sm.sm4_gcm_decrypt(key, nonce, ciphertext, aad)


SUITES: dict[str, Suite] = {
    InternationalSuite.name: InternationalSuite(),
    NationalSuite.name: NationalSuite(),
}


def get_suite(name: str) -> Suite:
    """The suite called ``name``; raises ``KeyError`` naming the known suites otherwise."""
    try:
        return SUITES[name]
    except KeyError:
        raise KeyError(f"unknown crypto suite {name!r}; known: {', '.join(SUITES)}") from None
