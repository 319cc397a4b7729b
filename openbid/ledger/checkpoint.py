"""C2SP tlog-checkpoint bodies and C2SP tlog-cosignature v1 (Ed25519, signature type 0x04).

* https://c2sp.org/tlog-checkpoint §Note text: the checkpoint body is at least three non-empty,
  newline-terminated lines — origin, tree size (ASCII decimal, no leading zeroes), root hash
  (standard base64 of the RFC 6962 / RFC 9162 SHA-256 Merkle tree root) — then optional
  non-empty extension lines. The body is the text of a signed note (:mod:`.note`); the log signs
  it with a key whose name SHOULD equal the origin (§Signatures).
* https://c2sp.org/tlog-cosignature §Format and §Ed25519 signed message: a witness cosignature
  is a note signature with key ID ``SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]``
  whose bytes are ``timestamped_signature``: a big-endian ``u64`` POSIX timestamp (at most
  ``2**63 - 1``) followed by a 64-byte Ed25519 signature over::

      cosignature/v1
      time <timestamp, ASCII decimal, no leading zeroes>
      <the whole checkpoint body, including its final newline>

  so a signature line decodes to ``key ID (4) || timestamp (8) || signature (64)``: 76 bytes.
  Witness verifier keys are signed-note verifier keys with type ``0x04``:
  ``<name>+<key ID hex>+<base64(0x04 || public key)>``.

The ML-DSA-44 cosignature (type ``0x06``, ``subtree/v1`` message) of the same specification is
not implemented.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbid.ledger.note import (
    TYPE_COSIGNATURE_V1,
    Ed25519Signer,
    Ed25519Verifier,
    KeyFormatError,
    MalformedNoteError,
    Note,
    NoteError,
    NoteSignature,
    SignatureAlgorithm,
    Signer,
    VerifiedNote,
    Verifier,
    b64decode_strict,
    compute_key_id,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    register_algorithm,
    validate_note_text,
    verify_note,
)

__all__ = [
    "COSIGNATURE_V1_HEADER",
    "MAX_COSIGNATURE_TIMESTAMP",
    "MAX_TREE_SIZE",
    "ROOT_HASH_SIZE",
    "Checkpoint",
    "CheckpointError",
    "Cosignature",
    "CosignatureV1Signer",
    "CosignatureV1Verifier",
    "VerifiedCheckpoint",
    "add_cosignature",
    "cosignature_message",
    "format_checkpoint",
    "generate_witness_key",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_witness_verifier_key",
    "sign_checkpoint",
    "witness_verifier_key",
]

ROOT_HASH_SIZE = 32
"""SHA-256, the hash of RFC 6962 Merkle trees."""

MAX_TREE_SIZE = (1 << 64) - 1
"""Tree sizes are uint64 throughout the transparency-log ecosystem."""

COSIGNATURE_V1_HEADER = "cosignature/v1"
"""The fixed header line of the Ed25519 cosigned message (tlog-cosignature)."""

MAX_COSIGNATURE_TIMESTAMP = (1 << 63) - 1
"""tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_TIMESTAMP_SIZE = 8
_ED25519_SIGNATURE_SIZE = 64


class CheckpointError(NoteError):
    """A checkpoint body violates c2sp.org/tlog-checkpoint, or the wrong log signed it."""


# --------------------------------------------------------------------------------------------
# Checkpoint body (tlog-checkpoint §Note text)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint body: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "root_hash", bytes(self.root_hash))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("the origin must be a non-empty single line")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError("the tree size must be a uint64")
        if len(self.root_hash) != ROOT_HASH_SIZE:
            raise CheckpointError(f"the root hash must be {ROOT_HASH_SIZE} bytes")
        for ext in self.extensions:
            if not ext or "\n" in ext:
                raise CheckpointError("extension lines must be non-empty single lines")
        try:
            validate_note_text(self.to_text())
        except MalformedNoteError as exc:
            raise CheckpointError(str(exc)) from exc

    def to_text(self) -> str:
        """The note text: every line newline-terminated (tlog-checkpoint §Note text)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii")]
        return "".join(line + "\n" for line in (*lines, *self.extensions))

    def to_bytes(self) -> bytes:
        """:meth:`to_text` as UTF-8."""
        return self.to_text().encode("utf-8")

    @classmethod
    def from_text(cls, text: str | bytes) -> Checkpoint:
        """Parse a checkpoint body; see :func:`parse_checkpoint`."""
        return parse_checkpoint(text)


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse a checkpoint note text (tlog-checkpoint §Note text).

    Rules: valid signed-note text (UTF-8, newline-terminated, no control characters); at least
    three lines, none empty; origin non-empty; size is ASCII decimal without leading zeroes
    (``0`` for the empty tree) and fits a uint64; root hash is canonical standard base64 of
    exactly 32 bytes; every extension line non-empty.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError("checkpoint is not valid UTF-8") from exc
    try:
        validate_note_text(text)
    except MalformedNoteError as exc:
        raise CheckpointError(str(exc)) from exc
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has at least three lines")
    if any(not line for line in lines):
        raise CheckpointError("checkpoint lines must be non-empty")
    origin, size_line, root_line, *extensions = lines
    if not _DECIMAL.fullmatch(size_line):
        raise CheckpointError("the tree size must be ASCII decimal without leading zeroes")
    size = int(size_line)
    if size > MAX_TREE_SIZE:
        raise CheckpointError("the tree size does not fit in a uint64")
    try:
        root = b64decode_strict(root_line)
    except ValueError as exc:
        raise CheckpointError("the root hash is not canonical base64") from exc
    return Checkpoint(origin, size, root, tuple(extensions))


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint note text (tlog-checkpoint §Note text); same as ``to_text()``."""
    return checkpoint.to_text()


# --------------------------------------------------------------------------------------------
# Cosignatures (tlog-cosignature, Ed25519 / type 0x04)
# --------------------------------------------------------------------------------------------


def cosignature_message(checkpoint_text: str | bytes, timestamp: int) -> bytes:
    """The Ed25519 cosigned message (tlog-cosignature §Ed25519 signed message).

    ``cosignature/v1\\n`` ``time <timestamp>\\n`` then the whole checkpoint body (which must be a
    valid checkpoint, including its final newline).
    """
    body = checkpoint_text.encode("utf-8") if isinstance(checkpoint_text, str) else checkpoint_text
    parse_checkpoint(body)
    if isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_COSIGNATURE_TIMESTAMP:
        raise CheckpointError("the cosignature timestamp must be in [0, 2^63 - 1]")
    return f"{COSIGNATURE_V1_HEADER}\ntime {timestamp}\n".encode("ascii") + bytes(body)


class CosignatureV1Verifier(Verifier):
    """Verifier for tlog-cosignature v1 Ed25519 cosignatures (signature type ``0x04``).

    As a :class:`~openbid.ledger.note.Verifier` it plugs into :func:`~.note.verify_note`: the
    message is the checkpoint text and the signature ``timestamp (8) || Ed25519 signature (64)``.
    """

    TYPE = TYPE_COSIGNATURE_V1

    def __init__(self, name: str, public_key: bytes) -> None:
        # Reuse the Ed25519 key checks; the key ID differs (type byte 0x04).
        self._ed = Ed25519Verifier(name, public_key)
        self._key_id = compute_key_id(name, self.key_material)

    @property
    def name(self) -> str:
        return self._ed.name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._ed.public_key

    @property
    def key_material(self) -> bytes:
        return bytes([self.TYPE]) + self._ed.public_key

    @staticmethod
    def timestamp_of(signature: bytes) -> int:
        """The timestamp carried by a ``timestamped_signature``."""
        if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            raise CheckpointError("a v1 Ed25519 cosignature is 72 bytes after the key ID")
        return int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        try:
            signed = cosignature_message(bytes(message), timestamp)
        except CheckpointError:
            return False
        return self._ed.verify(signed, signature[_TIMESTAMP_SIZE:])


class CosignatureV1Signer(Signer):
    """Produces tlog-cosignature v1 Ed25519 cosignatures (type ``0x04``).

    :meth:`sign` timestamps with ``clock()`` (POSIX seconds; default: the system clock);
    :meth:`sign_at` takes an explicit timestamp.
    """

    TYPE = TYPE_COSIGNATURE_V1

    def __init__(
        self,
        name: str,
        private_key: bytes | Ed25519PrivateKey,
        *,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self._ed = Ed25519Signer(name, private_key)
        self._verifier = CosignatureV1Verifier(name, self._ed.verifier().public_key)
        self._clock = clock if clock is not None else (lambda: int(time.time()))

    @classmethod
    def generate(cls, name: str, *, clock: Callable[[], int] | None = None) -> CosignatureV1Signer:
        """A new random witness key."""
        return cls(name, Ed25519PrivateKey.generate(), clock=clock)

    @classmethod
    def from_signer_key(
        cls, skey: str, *, clock: Callable[[], int] | None = None
    ) -> CosignatureV1Signer:
        """From a ``PRIVATE+KEY+...`` string of type ``0x04``, or of type ``0x01`` reused as a
        cosigner (as transparency-dev/formats' ``NewSignerForCosignatureV1`` allows; the key ID
        then changes to the ``0x04`` one)."""
        signer = parse_signer_key(skey)
        if isinstance(signer, (CosignatureV1Signer, Ed25519Signer)):
            return cls(signer.name, signer.private_key, clock=clock)
        raise KeyFormatError("not an Ed25519 or cosignature/v1 signer key")

    @property
    def name(self) -> str:
        return self._ed.name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The Ed25519 private key (keep secret)."""
        return self._ed.private_key

    def now(self) -> int:
        """The current timestamp from this signer's clock."""
        return self._clock()

    def sign(self, message: bytes) -> bytes:
        return self.sign_at(message, self._clock())

    def sign_at(self, message: bytes | str, timestamp: int) -> bytes:
        """``timestamp (8, big-endian) || Ed25519(cosignature_message(message, timestamp))``."""
        signed = cosignature_message(message, timestamp)
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self._ed.sign(signed)

    def verifier(self) -> CosignatureV1Verifier:
        return self._verifier

    def signer_key(self) -> str:
        """``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x04 || seed)>``.

        The form transparency-dev/formats accepts for Ed25519 cosigners (type ``0x04``).
        """
        material = base64.b64encode(bytes([self.TYPE]) + self._ed.seed()).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{material}"


register_algorithm(
    SignatureAlgorithm(
        type_prefix=bytes([TYPE_COSIGNATURE_V1]),
        description="Timestamped Ed25519 witness cosignature (tlog-cosignature v1)",
        verifier_from_key=CosignatureV1Verifier,
        signer_from_key=CosignatureV1Signer,
    )
)


def witness_verifier_key(name: str, public_key: bytes) -> str:
    """``<name>+<key ID hex>+<base64(0x04 || public key)>`` (tlog-cosignature §Format)."""
    return CosignatureV1Verifier(name, public_key).verifier_key()


def parse_witness_verifier_key(vkey: str) -> CosignatureV1Verifier:
    """Parse a witness verifier key (type ``0x04``).

    A plain Ed25519 key (type ``0x01``) is accepted too and reinterpreted as a ``0x04`` key, as
    transparency-dev/formats' ``NewVerifierForCosignatureV1`` does; the key ID then becomes the
    ``0x04`` one.
    """
    verifier = parse_verifier_key(vkey)
    if isinstance(verifier, CosignatureV1Verifier):
        return verifier
    if isinstance(verifier, Ed25519Verifier):
        return CosignatureV1Verifier(verifier.name, verifier.public_key)
    raise KeyFormatError("not an Ed25519 cosignature/v1 verifier key")


def generate_witness_key(name: str) -> tuple[str, str]:
    """A new witness key pair as ``(signer key, verifier key)`` strings (type ``0x04``)."""
    signer = CosignatureV1Signer.generate(name)
    return signer.signer_key(), signer.verifier().verifier_key()


# --------------------------------------------------------------------------------------------
# Signed checkpoints
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cosignature:
    """A verified witness cosignature."""

    name: str
    key_id: int
    timestamp: int
    signature: bytes


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature verified, with the cosignatures that verified."""

    checkpoint: Checkpoint
    note: VerifiedNote
    log_signatures: tuple[NoteSignature, ...]
    cosignatures: tuple[Cosignature, ...]

    @property
    def witnesses(self) -> frozenset[str]:
        """Names of the witnesses whose cosignature verified."""
        return frozenset(c.name for c in self.cosignatures)


def sign_checkpoint(checkpoint: Checkpoint, *signers: Signer) -> bytes:
    """The signed note for ``checkpoint`` (tlog-checkpoint §Signatures)."""
    if not signers:
        raise ValueError("at least one signer is needed")
    return Note(checkpoint.to_text()).add_signatures(*signers).to_bytes()


def add_cosignature(
    signed_checkpoint: bytes | str | Note,
    signer: CosignatureV1Signer,
    *,
    timestamp: int | None = None,
) -> bytes:
    """Append (or replace) ``signer``'s cosignature on an already signed checkpoint note.

    The caller is responsible for having verified the log signature and consistency first:
    that is what a cosignature asserts (tlog-cosignature §Ed25519 signed message).
    """
    note = (
        signed_checkpoint if isinstance(signed_checkpoint, Note) else parse_note(signed_checkpoint)
    )
    parse_checkpoint(note.text)
    ts = signer.now() if timestamp is None else timestamp
    sig = NoteSignature(signer.name, signer.key_id, signer.sign_at(note.text, ts))
    kept = tuple(s for s in note.signatures if (s.name, s.key_id) != (sig.name, sig.key_id))
    return Note(note.text, (*kept, sig)).to_bytes()


def open_checkpoint(
    msg: bytes | str | Note,
    log_verifiers: Iterable[Verifier],
    witnesses: Iterable[Verifier] = (),
    *,
    origin: str | None = None,
) -> VerifiedCheckpoint:
    """Verify a signed checkpoint and its witness cosignatures.

    Every signature by a known key (log or witness) must verify, else
    :class:`~.note.InvalidSignatureError`; unknown signatures are ignored (signed-note
    §Signatures). At least one log signature must verify, else :class:`CheckpointError` (or
    :class:`~.note.UnverifiedNoteError` when no known key signed at all). With ``origin``, the
    origin line must equal it. Quorum policy over :attr:`VerifiedCheckpoint.cosignatures` is
    the caller's.
    """
    log_list = list(log_verifiers)
    witness_list = list(witnesses)
    verified = verify_note(msg, [*log_list, *witness_list])
    checkpoint = parse_checkpoint(verified.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    log_ids = {(v.name, v.key_id) for v in log_list}
    witness_by_id = {(v.name, v.key_id): v for v in witness_list}
    log_sigs = tuple(s for s in verified.verified if (s.name, s.key_id) in log_ids)
    if not log_sigs:
        raise CheckpointError("no valid signature by the log")
    cosigs: list[Cosignature] = []
    for s in verified.verified:
        w = witness_by_id.get((s.name, s.key_id))
        if isinstance(w, CosignatureV1Verifier):
            cosigs.append(
                Cosignature(s.name, s.key_id, w.timestamp_of(s.signature), s.signature[8:])
            )
    return VerifiedCheckpoint(checkpoint, verified, log_sigs, tuple(cosigs))
