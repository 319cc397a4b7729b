"""Key escrow for sealed bids: k-of-n custodians holding SLIP-0039 shares of an escrow key.

Where a tender's rules allow escrow, bidders seal their bids to their own encryption key **and**
to the tender's escrow public key (``suite.seal([own_public, escrow.public_key], ...)``). If a
bidder cannot release its data key at the opening, ``k`` of the ``n`` custodians (for example the
trading centre, the regulator and a notary) submit their shares, the escrow private key is
recombined in memory, the bid's data key is unwrapped with it, and the use is recorded (by the
opening app).

Splitting follows SLIP-0039 ("Shamir's Secret-Sharing for Mnemonic Codes") through Trezor's
reference implementation, the ``shamir-mnemonic`` package: one group, member threshold ``k``,
``n`` members, each share a mnemonic of 33 words from the SLIP-0039 word list, protected by an
RS1024 checksum. Nothing here is a new cipher or format: the escrow key is an ordinary encryption
key pair of the tender's suite (:meth:`~openbid.crypto.suites.Suite.generate_encryption_key`, 32
bytes for X25519 and for an SM2 scalar, which meets SLIP-0039's "128 bits or more, even number of
bytes"), and its private key is the SLIP-0039 master secret.

What is stored and what is not
------------------------------

The platform keeps an :class:`EscrowPublic` only: the suite, the escrow **public** key, the
SLIP-0039 identifier, the threshold and count, which custodian holds which member index, and a
fingerprint of each share (the suite's hash of a label and the share's canonical mnemonic) so that
a submitted share can be matched to its custodian and a foreign one refused. A share is 256 bits
of secret data, so its hash reveals nothing usable; knowing ``k - 1`` shares and every fingerprint
still leaves the ``k``-th share (and the key) unknown.

The platform never keeps the private key or any share: :func:`create_escrow` hands the mnemonics
out once (one per custodian) and drops its references. Before opening, therefore, no stored
material (database, files, logs, or backups of either) decrypts a bid sealed to the escrow key;
that takes ``k`` custodians (and the passphrase, if one was set).

The passphrase
--------------

SLIP-0039 has **one** optional passphrase per master secret: the secret is encrypted with it (a
four-round Feistel network over PBKDF2-HMAC-SHA256) *before* it is split, so every share is
combined the same way and the passphrase is needed once, at recombination. SLIP-0039 defines no
per-share passphrase, and this module invents none; a custodian protects its own mnemonic by its
own means (a safe, a sealed envelope, an HSM or an encrypted vault), outside the platform. When an
escrow passphrase is set it is a further factor held apart from the shares (for example by the
tenderer's agency), never stored by the platform.

SLIP-0039 cannot tell a wrong passphrase: by design, every passphrase decrypts to *some* secret.
:func:`recover_private_key` catches it by checking that the recovered private key has the escrow
public key (:attr:`EscrowFailure.KEY_MISMATCH`).

Wiping the recovered key, and its limits
----------------------------------------

Python cannot promise to erase a secret. The recovered key and the mnemonics are immutable
``bytes`` and ``str`` objects, copied inside ``shamir-mnemonic`` (Shamir interpolation, the
Feistel rounds), ``cryptography`` (X25519 and HPKE, in OpenSSL memory it frees but does not
always clear) and ``gmalg`` (the SM2 scalar becomes a Python ``int``). :func:`unwrap_with_escrow`
keeps the private key in a local variable only, deletes its reference as soon as the data key is
unwrapped and never logs, stores or returns it; the interpreter then frees that memory without
zeroing it, so until it is reused a memory dump, a core file or swap could still show it. Run
escrow openings in a short-lived worker process, with core dumps disabled and swap encrypted, and
prefer :func:`unwrap_with_escrow` (which returns only the bid's data key) to
:func:`recover_private_key`. Error messages never quote a share or any part of it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shamir_mnemonic
from cryptography.hazmat.primitives import constant_time
from shamir_mnemonic.share import Share

from openbid.crypto.errors import CryptoError, InvalidKey
from openbid.crypto.suites import KeyUse, Suite, get_suite

__all__ = [
    "MAX_CUSTODIANS",
    "EscrowError",
    "EscrowFailure",
    "EscrowPublic",
    "EscrowShare",
    "check_share",
    "create_escrow",
    "identify_custodians",
    "recover_private_key",
    "unwrap_with_escrow",
]

#: SLIP-0039 allows at most 16 members in a group.
MAX_CUSTODIANS = 16
#: The lowest threshold: one custodian alone must never be able to open a bid.
MIN_THRESHOLD = 2
#: The default SLIP-0039 iteration exponent (PBKDF2 runs 10000 * 2**e iterations in all).
DEFAULT_ITERATION_EXPONENT = 1
_FINGERPRINT_LABEL = b"openbid-escrow-share-v1 "


class EscrowFailure(enum.StrEnum):
    """Why a set of escrow shares was refused."""

    #: Fewer than ``threshold`` distinct valid shares of this escrow were given.
    NOT_ENOUGH_SHARES = "not_enough_shares"
    #: A share is well formed but not one of this escrow's shares.
    FOREIGN_SHARE = "foreign_share"
    #: The same share was given twice.
    DUPLICATE_SHARE = "duplicate_share"
    #: A share's RS1024 checksum fails: a word was mistyped or changed.
    BAD_CHECKSUM = "bad_checksum"
    #: A share is not a SLIP-0039 mnemonic (unknown word, wrong length or padding).
    MALFORMED_SHARE = "malformed_share"
    #: The recombined key does not have the escrow public key: a wrong passphrase (SLIP-0039
    #: cannot detect one itself), or an escrow record that does not match its shares.
    KEY_MISMATCH = "key_mismatch"


class EscrowError(CryptoError):
    """Escrow shares were refused. ``reason`` says why; ``position`` is the index of the
    offending mnemonic in the list given, where one is to blame. No share is ever quoted."""

    def __init__(self, reason: EscrowFailure, message: str, *, position: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class EscrowShare:
    """The public record of one share: who holds it, its SLIP-0039 member index, its hash."""

    custodian: str
    index: int
    fingerprint: bytes


@dataclass(frozen=True)
class EscrowPublic:
    """Everything the platform keeps about an escrow; nothing in it decrypts anything."""

    suite: str
    public_key: bytes
    identifier: int
    threshold: int
    count: int
    shares: tuple[EscrowShare, ...]

    @property
    def custodians(self) -> dict[str, int]:
        """Custodian → SLIP-0039 member index of the share it holds."""
        return {share.custodian: share.index for share in self.shares}

    @property
    def fingerprints(self) -> dict[int, bytes]:
        """Member index → fingerprint of that share."""
        return {share.index: share.fingerprint for share in self.shares}

    @property
    def key_id(self) -> bytes:
        """The escrow key's recipient id in sealed envelopes (:meth:`Suite.key_id`)."""
        return get_suite(self.suite).key_id(self.public_key)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for storage; :meth:`from_dict` reads it back."""
        return {
            "suite": self.suite,
            "public_key": self.public_key.hex(),
            "identifier": self.identifier,
            "threshold": self.threshold,
            "count": self.count,
            "shares": [
                {
                    "custodian": share.custodian,
                    "index": share.index,
                    "fingerprint": share.fingerprint.hex(),
                }
                for share in self.shares
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EscrowPublic:
        """Reads :meth:`to_dict`'s form back, checking it is consistent; raises ``ValueError``."""
        try:
            escrow = cls(
                suite=str(data["suite"]),
                public_key=bytes.fromhex(data["public_key"]),
                identifier=int(data["identifier"]),
                threshold=int(data["threshold"]),
                count=int(data["count"]),
                shares=tuple(
                    EscrowShare(
                        custodian=str(share["custodian"]),
                        index=int(share["index"]),
                        fingerprint=bytes.fromhex(share["fingerprint"]),
                    )
                    for share in data["shares"]
                ),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an escrow record: {exc}") from exc
        escrow._check()
        return escrow

    def _check(self) -> None:
        suite = get_suite(self.suite)
        suite.key_id(self.public_key)  # raises InvalidKey (a ValueError) if malformed
        if not MIN_THRESHOLD <= self.threshold <= self.count <= MAX_CUSTODIANS:
            raise ValueError("escrow threshold and count out of range")
        if len(self.shares) != self.count:
            raise ValueError("escrow record lists the wrong number of shares")
        if sorted(share.index for share in self.shares) != list(range(self.count)):
            raise ValueError("escrow record's share indices are not 0 .. count - 1")
        if len({share.custodian for share in self.shares}) != self.count:
            raise ValueError("escrow record names a custodian twice")
        if any(len(share.fingerprint) != 32 for share in self.shares):
            raise ValueError("escrow share fingerprints are 32 bytes")


def _fingerprint(suite: Suite, canonical_mnemonic: str) -> bytes:
    return suite.hash(_FINGERPRINT_LABEL + canonical_mnemonic.encode("ascii"))


def create_escrow(
    suite_name: str,
    *,
    threshold: int,
    custodians: Sequence[str],
    passphrase: bytes = b"",
    iteration_exponent: int = DEFAULT_ITERATION_EXPONENT,
) -> tuple[EscrowPublic, dict[str, str]]:
    """A new escrow key pair of suite ``suite_name``, its private key split ``threshold``-of-
    ``len(custodians)`` with SLIP-0039. Returns the public record to store and, for handing out
    once, each custodian's mnemonic (never store those, nor log them).

    ``passphrase`` is SLIP-0039's optional passphrase (printable ASCII) for the whole escrow, to
    be given again at recovery. Raises ``ValueError`` for unusable arguments and ``KeyError`` for
    an unknown suite."""
    suite = get_suite(suite_name)
    count = len(custodians)
    if not 1 <= count <= MAX_CUSTODIANS:
        raise ValueError(f"an escrow has 1 to {MAX_CUSTODIANS} custodians")
    if any(not isinstance(name, str) or not name.strip() for name in custodians):
        raise ValueError("custodian names must be non-empty strings")
    if len(set(custodians)) != count:
        raise ValueError("a custodian is named twice")
    if not MIN_THRESHOLD <= threshold <= count:
        raise ValueError(f"the threshold must lie between {MIN_THRESHOLD} and {count}")
    if not 0 <= iteration_exponent <= 15:
        raise ValueError("the SLIP-0039 iteration exponent lies between 0 and 15")
    key_pair = suite.generate_encryption_key()
    [mnemonics] = shamir_mnemonic.generate_mnemonics(
        group_threshold=1,
        groups=[(threshold, count)],
        master_secret=key_pair.private,
        passphrase=passphrase,
        iteration_exponent=iteration_exponent,
    )
    # Before the private key is dropped: the shares handed out must give it back.
    if shamir_mnemonic.combine_mnemonics(mnemonics[:threshold], passphrase) != key_pair.private:
        raise CryptoError("SLIP-0039 shares do not recombine to the escrow key")
    public_key = key_pair.public
    del key_pair

    decoded = [Share.from_mnemonic(mnemonic) for mnemonic in mnemonics]
    record = EscrowPublic(
        suite=suite.name,
        public_key=public_key,
        identifier=decoded[0].identifier,
        threshold=threshold,
        count=count,
        shares=tuple(
            EscrowShare(custodian, share.index, _fingerprint(suite, share.mnemonic()))
            for custodian, share in zip(custodians, decoded, strict=True)
        ),
    )
    handed_out = dict(zip(custodians, mnemonics, strict=True))
    del mnemonics, decoded
    return record, handed_out


def _verified_share(escrow: EscrowPublic, mnemonic: str, position: int) -> tuple[int, str]:
    """Member index and canonical mnemonic of one share, checked against the escrow."""
    suite = get_suite(escrow.suite)
    try:
        share = Share.from_mnemonic(mnemonic)
    except shamir_mnemonic.MnemonicError as exc:
        # The library's message may quote words of the share: never pass it on.
        checksum = "checksum" in str(exc)
        raise EscrowError(
            EscrowFailure.BAD_CHECKSUM if checksum else EscrowFailure.MALFORMED_SHARE,
            f"share {position + 1} is not a valid SLIP-0039 mnemonic"
            + (" (its checksum fails: a word is wrong)" if checksum else ""),
            position=position,
        ) from None
    canonical = share.mnemonic()
    fingerprint = _fingerprint(suite, canonical)
    expected = escrow.fingerprints.get(share.index)
    if (
        share.identifier != escrow.identifier
        or (share.group_threshold, share.group_count) != (1, 1)
        or share.member_threshold != escrow.threshold
        or expected is None
        or not constant_time.bytes_eq(fingerprint, expected)
    ):
        raise EscrowError(
            EscrowFailure.FOREIGN_SHARE,
            f"share {position + 1} is not a share of this escrow",
            position=position,
        )
    return share.index, canonical


def check_share(escrow: EscrowPublic, mnemonic: str) -> EscrowShare:
    """The public record of the custodian share ``mnemonic`` is, after the checks of
    :func:`recover_private_key` for one share (well formed, checksum, of this escrow); raises
    :class:`EscrowError`. For accepting shares one custodian at a time."""
    index, _canonical = _verified_share(escrow, mnemonic, 0)
    return next(share for share in escrow.shares if share.index == index)


def _verified_shares(escrow: EscrowPublic, mnemonics: Sequence[str]) -> dict[int, str]:
    """Member index → canonical mnemonic of the given shares, each checked against the escrow."""
    found: dict[int, str] = {}
    for position, mnemonic in enumerate(mnemonics):
        index, canonical = _verified_share(escrow, mnemonic, position)
        if index in found:
            raise EscrowError(
                EscrowFailure.DUPLICATE_SHARE,
                f"share {position + 1} was already given",
                position=position,
            )
        found[index] = canonical
    if len(found) < escrow.threshold:
        raise EscrowError(
            EscrowFailure.NOT_ENOUGH_SHARES,
            f"{escrow.threshold} custodians' shares are needed, {len(found)} given",
        )
    return found


def identify_custodians(escrow: EscrowPublic, mnemonics: Sequence[str]) -> list[str]:
    """The custodians whose shares these are, in the order given, after the same checks as
    :func:`recover_private_key` (except the passphrase); for recording who took part."""
    holders = {share.index: share.custodian for share in escrow.shares}
    found = _verified_shares(escrow, mnemonics)
    return [holders[index] for index in found]


def recover_private_key(
    escrow: EscrowPublic, mnemonics: Sequence[str], *, passphrase: bytes = b""
) -> bytes:
    """The escrow private key, recombined from at least ``threshold`` custodians' mnemonics.

    Every share must be a well-formed SLIP-0039 mnemonic (checksum) of this escrow (identifier,
    parameters and fingerprint), given once; more than ``threshold`` are accepted. The recovered
    key must have the escrow public key, which is how a wrong passphrase shows. Raises
    :class:`EscrowError`. Prefer :func:`unwrap_with_escrow`, which does not hand the key out."""
    suite = get_suite(escrow.suite)
    found = _verified_shares(escrow, mnemonics)
    chosen = [found[index] for index in sorted(found)[: escrow.threshold]]
    try:
        private_key: bytes = shamir_mnemonic.combine_mnemonics(chosen, passphrase)
    except shamir_mnemonic.MnemonicError:
        # Unreachable with fingerprinted shares, unless the escrow record itself was forged.
        raise EscrowError(
            EscrowFailure.FOREIGN_SHARE, "the shares do not recombine to one secret"
        ) from None
    finally:
        del chosen, found
    try:
        public_key = suite.public_key(private_key, KeyUse.ENCRYPTION)
    except InvalidKey:  # e.g. an SM2 scalar out of range, from a wrong passphrase
        public_key = b""
    if not constant_time.bytes_eq(public_key, escrow.public_key):
        del private_key
        raise EscrowError(
            EscrowFailure.KEY_MISMATCH,
            "the recombined key is not the escrow key: wrong passphrase, or the escrow record "
            "does not match these shares",
        )
    return private_key


def unwrap_with_escrow(
    escrow: EscrowPublic, mnemonics: Sequence[str], envelope: bytes, *, passphrase: bytes = b""
) -> bytes:
    """The 32-byte data key of a sealed envelope, unwrapped with the escrow private key that
    ``threshold`` custodians' mnemonics recombine; open the bid with
    :meth:`~openbid.crypto.suites.Suite.open_with_data_key`.

    The private key lives only inside this call (see the module's notes on wiping). Raises
    :class:`EscrowError` for refused shares, :class:`~openbid.crypto.errors.NotARecipient` if the
    bid was not sealed to the escrow key, and
    :class:`~openbid.crypto.errors.InvalidEnvelope` for an envelope of another suite."""
    suite = get_suite(escrow.suite)
    suite.parse(envelope)  # refuse a malformed or foreign envelope before recombining anything
    private_key = recover_private_key(escrow, mnemonics, passphrase=passphrase)
    try:
        return suite.unwrap(private_key, envelope)
    finally:
        del private_key
