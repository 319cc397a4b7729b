"""C2SP signed-note: parsing, serialisation, key strings, signing and verification.

Implements https://c2sp.org/signed-note (sections cited as "signed-note §Format",
"§Signatures", "§Signature types", "§Ed25519 signatures") and the key string encodings of the
reference implementation, golang.org/x/mod/sumdb/note:

* verifier key: ``<name>+<8 hex digits key ID>+<base64(signature type || public key)>``;
* signer key: ``PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(signature type || private key)>``
  (for Ed25519 the private key is the 32-byte RFC 8032 seed).

A signed note is::

    <text, ending in a newline>
    <one blank line>
    — <key name> <base64(4-byte big-endian key ID || signature)>
    — ...

Pluggable algorithms
--------------------
A :class:`Verifier` (and optionally a :class:`Signer`) exists per signature type. Key strings
are decoded by looking up the *type prefix* of the key material in a registry
(:func:`register_algorithm`). Built in: ``0x01`` Ed25519 (this module) and ``0x04``
timestamped Ed25519 witness cosignatures (:mod:`openbid.ledger.checkpoint`, loaded on demand).

signed-note §Signature types assigns: ``0x01`` Ed25519; ``0x02`` ECDSA on NIST P-256/P-384/P-521
only, as implemented by transparency-dev/witness (key ID = truncated SHA-256 of the SPKI DER
key, not the name-based formula); ``0x03`` reserved; ``0x04`` tlog-cosignature v1 (Ed25519);
``0x05`` RFC 6962 ``TreeHeadSignature``; (c2sp.org/tlog-cosignature additionally uses ``0x06``
for ML-DSA-44 cosignatures); ``0xfa``–``0xfe`` reserved for future use; ``0xff`` reserved for
signature types without an identifier byte assigned by the specification, and it is
RECOMMENDED that ``0xff`` be followed by a longer identifier unlikely to collide.

**SM2 with SM3** (GB/T 32918 / GM/T 0003) has no assigned byte and cannot use ``0x02`` (NIST
curves only). Per the spec it must therefore use type prefix ``0xff || <identifier>``, where
the identifier is a fixed byte string chosen by whoever implements it, long enough not to
collide. Everything else follows the generic rules: the key material is
``0xff || identifier || public key``, the key ID is
``SHA-256(name || 0x0A || 0xff || identifier || public key)[:4]`` and the verifier key string is
``<name>+<key ID hex>+<base64(0xff || identifier || public key)>``. Register it with
:func:`register_algorithm` using ``type_prefix = b"\\xff" + identifier``; ``0xff`` identifiers
must be prefix-free so the longest-prefix lookup is unambiguous (enforced at registration).
Interoperable verifiers other than ours will not know such keys, and per signed-note §Signatures
they simply ignore those signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "DEFAULT_MAX_NOTE_BYTES",
    "DEFAULT_MAX_SIGNATURES",
    "SIGNATURE_PREFIX",
    "TYPE_COSIGNATURE_V1",
    "TYPE_ECDSA",
    "TYPE_ED25519",
    "TYPE_EXTENSION",
    "TYPE_RFC6962_STH",
    "Ed25519Signer",
    "Ed25519Verifier",
    "InvalidSignatureError",
    "KeyFormatError",
    "MalformedNoteError",
    "Note",
    "NoteError",
    "NoteSignature",
    "SignatureAlgorithm",
    "Signer",
    "UnknownAlgorithmError",
    "UnverifiedNoteError",
    "VerifiedNote",
    "Verifier",
    "b64decode_strict",
    "compute_key_id",
    "format_note",
    "generate_ed25519_key",
    "is_valid_key_name",
    "parse_note",
    "parse_signer_key",
    "parse_verifier_key",
    "register_algorithm",
    "registered_algorithms",
    "sign_note",
    "unregister_algorithm",
    "validate_note_text",
    "verifiers_from_keys",
    "verify_note",
]

# signed-note §Signature types.
TYPE_ED25519 = 0x01
TYPE_ECDSA = 0x02
TYPE_COSIGNATURE_V1 = 0x04
TYPE_RFC6962_STH = 0x05
TYPE_EXTENSION = 0xFF
"""Reserved for types without an assigned byte; followed by a longer identifier."""

SIGNATURE_PREFIX = "\u2014 "
"""Em dash (U+2014) then space (U+0020): the start of every signature line (signed-note §Format)."""

DEFAULT_MAX_SIGNATURES = 100
"""signed-note §Format: verifiers SHOULD cap signatures and MUST accept at least 16. 100 is the
cap of golang.org/x/mod/sumdb/note."""

DEFAULT_MAX_NOTE_BYTES = 1 << 20
"""Local cap on a whole note (1 MiB): room for 100 post-quantum (~5 kB) signatures."""

_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
# ASCII control characters other than newline (signed-note §Format), and lone surrogates
# (which cannot be encoded as UTF-8).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x09\x0b-\x1f\ud800-\udfff]")
_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

# Unicode White_Space property (what Go's unicode.IsSpace tests): key names MUST NOT contain any.
_UNICODE_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class NoteError(ValueError):
    """Base class for every signed-note failure."""


class MalformedNoteError(NoteError):
    """The bytes are not a well-formed signed note (signed-note §Format)."""


class KeyFormatError(NoteError):
    """A verifier or signer key string is malformed or its key ID does not match."""


class UnknownAlgorithmError(KeyFormatError):
    """The key material's signature type is not registered here."""


class InvalidSignatureError(NoteError):
    """A signature by a known key failed to verify; the whole note is rejected."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class UnverifiedNoteError(NoteError):
    """The note is well-formed but no signature from a known key is on it."""

    def __init__(self, note: Note) -> None:
        super().__init__("note has no signature from a known key")
        self.note = note


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def b64decode_strict(value: str) -> bytes:
    """Decode standard base64 (RFC 4648 §4) with padding, rejecting non-canonical encodings.

    Only the canonical encoding of each byte string is accepted (RFC 4648 §3.5 lets decoders
    reject non-zero pad bits), so every decoded value has exactly one textual form.
    """
    if not _B64.fullmatch(value):
        raise ValueError("not canonical standard base64")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError("not canonical standard base64") from exc
    if base64.b64encode(raw).decode("ascii") != value:
        raise ValueError("not canonical standard base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def is_valid_key_name(name: str) -> bool:
    """signed-note §Format: non-empty, no Unicode spaces, no plus (U+002B), no control chars."""
    return (
        bool(name) and "+" not in name and not any(c in _UNICODE_SPACES or c < "\x20" for c in name)
    )


def compute_key_id(name: str, key_material: bytes) -> int:
    """The RECOMMENDED key ID of signed-note §Signatures.

    ``SHA-256(key name || 0x0A || signature type || public key)[:4]`` read as a big-endian
    uint32; ``key_material`` is ``signature type || public key``.
    """
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + key_material).digest()
    return int.from_bytes(digest[:4], "big")


def _check_chars(text: str) -> None:
    bad = _FORBIDDEN_CHARS.search(text)
    if bad is None:
        return
    c = bad.group()
    if c >= "\ud800":
        raise MalformedNoteError("lone surrogate in note (not valid UTF-8)")
    raise MalformedNoteError(f"control character U+{ord(c):04X} in note")


def validate_note_text(text: str) -> None:
    """Check a note text for signing (signed-note §Format).

    The text must be non-empty, end in a newline, be valid UTF-8 and contain no ASCII control
    character other than newline.
    """
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end in a newline")
    _check_chars(text)


# --------------------------------------------------------------------------------------------
# Verifier / signer interface and registry
# --------------------------------------------------------------------------------------------


class Verifier(ABC):
    """Verifies note signatures by one key (signed-note §Signatures).

    A verifier is identified by ``(name, key_id)``; :attr:`key_material` is
    ``signature type || public key`` as encoded in verifier key strings.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """The key name."""

    @property
    @abstractmethod
    def key_id(self) -> int:
        """The 32-bit key ID."""

    @property
    @abstractmethod
    def key_material(self) -> bytes:
        """``signature type || public key`` (the base64 part of the verifier key)."""

    @abstractmethod
    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (without the 4-byte key ID) is valid over the note text."""

    def verifier_key(self) -> str:
        """The verifier key string ``<name>+<key ID hex>+<base64(key material)>``."""
        return f"{self.name}+{self.key_id:08x}+{_b64(self.key_material)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.verifier_key()!r})"


class Signer(ABC):
    """Signs note texts with one key (signed-note §Signatures)."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The key name."""

    @property
    @abstractmethod
    def key_id(self) -> int:
        """The 32-bit key ID (of the public key)."""

    @abstractmethod
    def sign(self, message: bytes) -> bytes:
        """The signature over the note text, without the 4-byte key ID."""

    @abstractmethod
    def verifier(self) -> Verifier:
        """The matching verifier."""

    def signer_key(self) -> str:
        """The ``PRIVATE+KEY+...`` string for this key, if the algorithm defines one."""
        raise NotImplementedError(f"{type(self).__name__} has no signer key encoding")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, key_id={self.key_id:08x})"


@dataclass(frozen=True)
class SignatureAlgorithm:
    """A registered signature type.

    ``type_prefix`` is the signature type byte (``0x01``…``0xfe``), or ``0xff`` followed by the
    algorithm's identifier. ``verifier_from_key(name, public_key)`` and
    ``signer_from_key(name, private_key)`` receive the key bytes *after* the prefix.
    """

    type_prefix: bytes
    description: str
    verifier_from_key: Callable[[str, bytes], Verifier]
    signer_from_key: Callable[[str, bytes], Signer] | None = None


_ALGORITHMS: dict[bytes, SignatureAlgorithm] = {}
# Built-in algorithms defined in other modules of this package, imported on first use.
_LAZY_MODULES: dict[bytes, str] = {bytes([TYPE_COSIGNATURE_V1]): "openbid.ledger.checkpoint"}


def register_algorithm(algorithm: SignatureAlgorithm, *, replace: bool = False) -> None:
    """Make a signature type available to :func:`parse_verifier_key` / :func:`parse_signer_key`.

    Single-byte prefixes ``0x01``–``0xfe`` are the types assigned by signed-note §Signature
    types; anything else must be ``0xff`` followed by a non-empty identifier, and ``0xff``
    identifiers must be prefix-free among themselves.
    """
    prefix = bytes(algorithm.type_prefix)
    if not prefix:
        raise ValueError("empty type prefix")
    if prefix[0] == TYPE_EXTENSION:
        if len(prefix) < 2:
            raise ValueError("0xff must be followed by an identifier")
        for other in _ALGORITHMS:
            if (
                other != prefix
                and other[0] == TYPE_EXTENSION
                and (other.startswith(prefix) or prefix.startswith(other))
            ):
                raise ValueError(f"0xff identifiers {prefix!r} and {other!r} are not prefix-free")
    elif len(prefix) != 1:
        raise ValueError("only 0xff may be followed by an identifier")
    if prefix in _ALGORITHMS and not replace:
        raise ValueError(f"signature type {prefix.hex()} is already registered")
    _ALGORITHMS[prefix] = algorithm


def unregister_algorithm(type_prefix: bytes) -> None:
    """Remove a registered signature type (mainly for tests); unknown prefixes are ignored."""
    _ALGORITHMS.pop(bytes(type_prefix), None)


def registered_algorithms() -> dict[bytes, SignatureAlgorithm]:
    """A copy of the registry (type prefix → algorithm)."""
    for prefix in list(_LAZY_MODULES):
        _load_lazy(prefix)
    return dict(_ALGORITHMS)


def _load_lazy(prefix: bytes) -> None:
    module = _LAZY_MODULES.get(prefix)
    if module is not None and prefix not in _ALGORITHMS:
        importlib.import_module(module)


def _lookup_algorithm(material: bytes) -> tuple[SignatureAlgorithm, bytes]:
    if not material:
        raise KeyFormatError("empty key material")
    if material[0] == TYPE_EXTENSION:
        matches = [p for p in _ALGORITHMS if p[0] == TYPE_EXTENSION and material.startswith(p)]
        if not matches:
            raise UnknownAlgorithmError("unknown 0xff signature type identifier")
        prefix = max(matches, key=len)
    else:
        prefix = material[:1]
        _load_lazy(prefix)
        if prefix not in _ALGORITHMS:
            raise UnknownAlgorithmError(f"unknown signature type 0x{material[0]:02x}")
    return _ALGORITHMS[prefix], material[len(prefix) :]


def _split_key(value: str) -> tuple[str, int, bytes]:
    """``name+hash+base64`` → parts, with the syntax checks of sumdb/note's NewVerifier."""
    name, _, rest = value.partition("+")
    hash16, _, key64 = rest.partition("+")
    if not is_valid_key_name(name) or not _HEX8.fullmatch(hash16):
        raise KeyFormatError("malformed key: bad name or key ID")
    try:
        material = b64decode_strict(key64)
    except ValueError as exc:
        raise KeyFormatError("malformed key: bad base64") from exc
    if not material:
        raise KeyFormatError("malformed key: empty key material")
    return name, int(hash16, 16), material


def parse_verifier_key(vkey: str) -> Verifier:
    """Decode ``<name>+<key ID hex>+<base64(type || public key)>`` into a :class:`Verifier`.

    The key ID in the string must equal the one the algorithm computes for the name and key.
    """
    name, key_id, material = _split_key(vkey)
    algorithm, public_key = _lookup_algorithm(material)
    verifier = algorithm.verifier_from_key(name, public_key)
    if verifier.key_id != key_id:
        raise KeyFormatError(f"key ID {key_id:08x} does not match the key ({verifier.key_id:08x})")
    return verifier


def parse_signer_key(skey: str) -> Signer:
    """Decode ``PRIVATE+KEY+<name>+<key ID hex>+<base64(type || private key)>`` into a signer.

    The key ID (of the *public* key) must match the key derived from the private key.
    """
    if not skey.startswith(_PRIVATE_KEY_PREFIX):
        raise KeyFormatError("signer key must start with PRIVATE+KEY+")
    name, key_id, material = _split_key(skey[len(_PRIVATE_KEY_PREFIX) :])
    algorithm, private_key = _lookup_algorithm(material)
    if algorithm.signer_from_key is None:
        raise UnknownAlgorithmError(f"no signer for signature type {algorithm.type_prefix.hex()}")
    signer = algorithm.signer_from_key(name, private_key)
    if signer.key_id != key_id:
        raise KeyFormatError(f"key ID {key_id:08x} does not match the key ({signer.key_id:08x})")
    return signer


# --------------------------------------------------------------------------------------------
# Ed25519 (signature type 0x01), signed-note §Ed25519 signatures
# --------------------------------------------------------------------------------------------


def _ed25519_public(key: bytes) -> Ed25519PublicKey:
    if len(key) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    try:
        return Ed25519PublicKey.from_public_bytes(key)
    except ValueError as exc:
        raise KeyFormatError("invalid Ed25519 public key") from exc


def _ed25519_private(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != 32:
        raise KeyFormatError("an Ed25519 private key (seed) is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _raw_seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


class Ed25519Verifier(Verifier):
    """Signature type ``0x01``: RFC 8032 Ed25519 over the note text.

    Key ID ``SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]`` (signed-note §Ed25519).
    """

    TYPE = TYPE_ED25519

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise KeyFormatError(f"invalid key name {name!r}")
        self._key = _ed25519_public(bytes(public_key))
        self._name = name
        self._public = bytes(public_key)
        self._key_id = compute_key_id(name, self.key_material)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public

    @property
    def key_material(self) -> bytes:
        return bytes([self.TYPE]) + self._public

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._key.verify(bytes(signature), bytes(message))
        except InvalidSignature:
            return False
        return True


class Ed25519Signer(Signer):
    """Signs with Ed25519 (type ``0x01``); deterministic, so signatures are reproducible."""

    TYPE = TYPE_ED25519

    def __init__(self, name: str, private_key: bytes | Ed25519PrivateKey) -> None:
        if not is_valid_key_name(name):
            raise KeyFormatError(f"invalid key name {name!r}")
        self._key = (
            private_key
            if isinstance(private_key, Ed25519PrivateKey)
            else _ed25519_private(bytes(private_key))
        )
        self._name = name
        self._verifier = Ed25519Verifier(name, _raw_public(self._key))

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        """A new random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The Ed25519 private key (keep secret)."""
        return self._key

    def seed(self) -> bytes:
        """The 32-byte RFC 8032 private key seed (keep secret)."""
        return _raw_seed(self._key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(bytes(message))

    def verifier(self) -> Ed25519Verifier:
        return self._verifier

    def signer_key(self) -> str:
        """``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || seed)>`` (sumdb/note format)."""
        material = bytes([self.TYPE]) + self.seed()
        return f"{_PRIVATE_KEY_PREFIX}{self._name}+{self.key_id:08x}+{_b64(material)}"


def generate_ed25519_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key pair as ``(signer key, verifier key)`` strings (like sumdb/note)."""
    signer = Ed25519Signer.generate(name)
    return signer.signer_key(), signer.verifier().verifier_key()


register_algorithm(
    SignatureAlgorithm(
        type_prefix=bytes([TYPE_ED25519]),
        description="Ed25519 (signed-note)",
        verifier_from_key=Ed25519Verifier,
        signer_from_key=Ed25519Signer,
    )
)


# --------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: ``— <name> base64(key ID || signature)`` (signed-note §Signatures)."""

    name: str
    key_id: int
    signature: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise MalformedNoteError(f"invalid key name {self.name!r}")
        if not 0 <= self.key_id < 1 << 32:
            raise MalformedNoteError("key ID must be a uint32")
        if not self.signature:
            raise MalformedNoteError("empty signature")

    @property
    def encoded(self) -> str:
        """``base64(4-byte big-endian key ID || signature)``."""
        return _b64(self.key_id.to_bytes(4, "big") + self.signature)

    @property
    def line(self) -> str:
        """The full signature line, including the final newline."""
        return f"{SIGNATURE_PREFIX}{self.name} {self.encoded}\n"

    @classmethod
    def from_line(cls, line: str) -> NoteSignature:
        """Parse one signature line (with or without its final newline)."""
        line = line.removesuffix("\n")
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNoteError("signature line must start with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not is_valid_key_name(name):
            raise MalformedNoteError(f"invalid key name in signature line: {name!r}")
        try:
            raw = b64decode_strict(encoded)
        except ValueError as exc:
            raise MalformedNoteError("signature is not canonical base64") from exc
        if len(raw) < 5:
            raise MalformedNoteError("signature too short (key ID plus at least one byte)")
        return cls(name, int.from_bytes(raw[:4], "big"), raw[4:])


@dataclass(frozen=True)
class Note:
    """A note text and its signature lines, in order (signed-note §Format)."""

    text: str
    signatures: tuple[NoteSignature, ...] = field(default=())

    def to_text(self) -> str:
        """The serialised note: text, blank line, one line per signature."""
        if not self.signatures:
            raise MalformedNoteError("a signed note has at least one signature")
        validate_note_text(self.text)
        return self.text + "\n" + "".join(s.line for s in self.signatures)

    def to_bytes(self) -> bytes:
        """:meth:`to_text` encoded as UTF-8."""
        return self.to_text().encode("utf-8")

    def add_signatures(self, *signers: Signer) -> Note:
        """Sign the text with ``signers``; existing signatures by the same keys are replaced.

        New signatures follow the kept ones, as golang.org/x/mod/sumdb/note's ``Sign`` does.
        """
        validate_note_text(self.text)
        message = self.text.encode("utf-8")
        new = tuple(NoteSignature(s.name, s.key_id, s.sign(message)) for s in signers)
        replaced = {(s.name, s.key_id) for s in new}
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) not in replaced)
        return Note(self.text, kept + new)


def parse_note(
    msg: bytes | str,
    *,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
    max_bytes: int | None = DEFAULT_MAX_NOTE_BYTES,
) -> Note:
    """Parse a signed note without verifying it (signed-note §Format).

    Checks: size limits; valid UTF-8 without control characters other than newline; the text is
    everything up to and including the newline before the *last* blank line; at least one
    signature line after it, each ``— <valid name> <canonical base64 of at least 5 bytes>`` and
    newline-terminated.
    """
    raw = msg.encode("utf-8", errors="surrogatepass") if isinstance(msg, str) else bytes(msg)
    if max_bytes is not None and len(raw) > max_bytes:
        raise MalformedNoteError(f"note larger than {max_bytes} bytes")
    try:
        text_all = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNoteError("note is not valid UTF-8") from exc
    _check_chars(text_all)
    split = text_all.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("no blank line before the signatures")
    text, sig_block = text_all[: split + 1], text_all[split + 2 :]
    if not sig_block or not sig_block.endswith("\n"):
        raise MalformedNoteError("signature block must be non-empty and end in a newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > max_signatures:
        raise MalformedNoteError(f"more than {max_signatures} signatures")
    return Note(text, tuple(NoteSignature.from_line(line) for line in lines))


def format_note(note: Note) -> bytes:
    """Serialise a note (signed-note §Format); same as ``note.to_bytes()``."""
    return note.to_bytes()


def sign_note(text: str, *signers: Signer) -> bytes:
    """Sign ``text`` with every signer and return the serialised signed note."""
    if not signers:
        raise ValueError("at least one signer is needed")
    return Note(text).add_signatures(*signers).to_bytes()


@dataclass(frozen=True)
class VerifiedNote:
    """The result of :func:`verify_note`.

    ``verified`` are the signatures by known keys (all of them verified); ``unknown`` are the
    signatures by keys not in the verifier set, which signed-note §Signatures says to ignore.
    """

    note: Note
    verified: tuple[NoteSignature, ...]
    unknown: tuple[NoteSignature, ...]
    verifiers: tuple[Verifier, ...]

    @property
    def text(self) -> str:
        """The note text; only meaningful because at least one known key signed it."""
        return self.note.text

    def verifier_for(self, signature: NoteSignature) -> Verifier:
        """The verifier that checked a signature in :attr:`verified`."""
        for v in self.verifiers:
            if (v.name, v.key_id) == (signature.name, signature.key_id):
                return v
        raise KeyError((signature.name, signature.key_id))


def verify_note(
    msg: bytes | str | Note,
    verifiers: Iterable[Verifier],
    *,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
    max_bytes: int | None = DEFAULT_MAX_NOTE_BYTES,
) -> VerifiedNote:
    """Parse (if needed) and verify a note against known keys (signed-note §Signatures).

    A signature belongs to a known key when *both* its name and key ID match a verifier; others
    are ignored (kept in :attr:`VerifiedNote.unknown`). Every signature by a known key is
    verified, and one failure rejects the whole note (:class:`InvalidSignatureError`). If no
    known key signed, raises :class:`UnverifiedNoteError`. Two verifiers with the same name and
    key ID are a configuration error (:class:`ValueError`).
    """
    note = (
        msg
        if isinstance(msg, Note)
        else parse_note(msg, max_signatures=max_signatures, max_bytes=max_bytes)
    )
    if isinstance(msg, Note):
        validate_note_text(note.text)
        if len(note.signatures) > max_signatures:
            raise MalformedNoteError(f"more than {max_signatures} signatures")
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        ident = (v.name, v.key_id)
        if ident in known:
            raise ValueError(f"ambiguous verifiers for key {v.name}+{v.key_id:08x}")
        known[ident] = v
    message = note.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unknown: list[NoteSignature] = []
    used: dict[tuple[str, int], Verifier] = {}
    for sig in note.signatures:
        ident = (sig.name, sig.key_id)
        verifier = known.get(ident)
        if verifier is None:
            unknown.append(sig)
            continue
        if not verifier.verify(message, sig.signature):
            raise InvalidSignatureError(sig.name, sig.key_id)
        verified.append(sig)
        used[ident] = verifier
    if not verified:
        raise UnverifiedNoteError(note)
    return VerifiedNote(note, tuple(verified), tuple(unknown), tuple(used.values()))


def verifiers_from_keys(vkeys: Sequence[str]) -> list[Verifier]:
    """Parse several verifier key strings."""
    return [parse_verifier_key(k) for k in vkeys]
