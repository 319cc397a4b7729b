"""Submitting, replacing and withdrawing sealed bids (投标文件递交、修改、撤回).

A bid is ciphertext the bidder sealed on their own machine (``openbid.crypto.suites``); the
platform checks its size and SHA-256, the bidder's signature over the commitment, and — in the
same transaction that records it — that the server clock is before the bid deadline (E-Bidding
arts. 27–28: a late bid is refused, an unfinished transfer is not a bid). The receipt is a signed
note (C2SP signed-note) by the platform's key, naming the ciphertext, the commitment, the server
time and the ledger index.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import Actor, require_role, signed_in
from openbid.accounts.roles import Role
from openbid.bidding.models import Bid, BidUpload
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, service
from openbid.credit.gate import refuse_if_listed
from openbid.crypto.errors import CryptoError
from openbid.crypto.services import require_signing_key
from openbid.crypto.suites import SUITES, EnvelopeHeader, get_suite, parse_header
from openbid.ledger import keys
from openbid.ledger.note import sign_note
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Section, Tender

CHUNK_BYTES = 8 * 1024 * 1024


def max_bid_bytes() -> int:
    return int(getattr(settings, "OPENBID_MAX_BID_BYTES", 512 * 1024 * 1024))


def partial_dir() -> Path:
    path = Path(settings.OPENBID_HOME) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _create_durably(path: Path) -> None:
    """Create an empty file and fsync its folder: the upload's row and its file survive a power
    cut together (a chunk then finds the file to write into)."""
    with path.open("ab") as handle:
        os.fsync(handle.fileno())
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def partial_path(upload: BidUpload) -> Path:
    return partial_dir() / f"{upload.pk}.part"


def commitment_message(
    section: Section, bidder: Organisation, ciphertext_sha256: str, commitment: str
) -> bytes:
    """What the bidder signs: binds the plaintext commitment to this section, bidder and ciphertext."""
    return (
        "openbid bid commitment v1\n"
        f"tender {section.tender_id}\nsection {section.pk}\nbidder {bidder.credit_code}\n"
        f"ciphertext-sha256 {ciphertext_sha256}\ncommitment {commitment}\n"
    ).encode()


def _deadline_error(tender: Tender, now: dt.datetime) -> Conflict:
    local = timezone.localtime
    return Conflict(
        _(
            "The bid deadline was %(deadline)s; the server time is %(now)s. Bids are no longer accepted."
        )
        % {
            "deadline": local(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S"),
            "now": local(now).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        },
        field="bid_deadline",
        rule="late_bid_refused",
        article="E-Bidding art. 27",
        at=tender.bid_deadline,
    )


def _bidder(actor: Actor, section: Section) -> Organisation:
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Submitting a bid"))
    org = membership.organisation
    refuse_if_listed(org, action=_("Submitting a bid"), field="section")
    tender = section.tender
    if tender.method == Tender.Method.INVITED and not tender.invited.filter(pk=org.pk).exists():
        raise NotAllowed(
            _("This is an invitation tender and your organisation is not invited."),
            field="section",
            rule="invited_only",
        )
    if not DocumentObtainer.objects.filter(tender=tender, organisation=org).exists():
        raise NotAllowed(
            _("Obtain the tender documents before submitting a bid."),
            field="section",
            rule="obtained_documents",
        )
    return org


@service
def start_upload(actor: Actor, section: Section, *, size: int, sha256: str) -> BidUpload:
    """Open a resumable upload of ``size`` bytes whose SHA-256 is ``sha256`` (before the deadline)."""
    org = _bidder(actor, section)
    now = clock.now()
    tender = section.tender
    if tender.status != State.PUBLISHED:
        raise Conflict(
            _("The tender is not accepting bids."), field="section", rule="tender_lifecycle"
        )
    if now >= tender.bid_deadline:
        raise _deadline_error(tender, now)
    if not 0 < size <= max_bid_bytes():
        raise InvalidInput(
            _("A sealed bid must be between 1 byte and %(max)d bytes.") % {"max": max_bid_bytes()},
            field="size",
            rule="bid_size",
        )
    sha256 = (sha256 or "").strip().lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput(
            _("Give the SHA-256 of the ciphertext as 64 hexadecimal digits."),
            field="sha256",
            rule="sha256",
        )
    upload = BidUpload.objects.create(
        section=section,
        organisation=org,
        started_by=signed_in(actor),
        size=size,
        sha256=sha256,
        started_at=now,
        updated_at=now,
    )
    _create_durably(partial_path(upload))
    return upload


def _own_upload(actor: Actor, upload_id: object) -> BidUpload:
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Uploading a bid"))
    upload = BidUpload.objects.select_for_update().filter(pk=str(upload_id)).first()
    if upload is None or upload.organisation_id != membership.organisation_id:
        raise NotFound(_("No such upload."), field="upload", rule="exists")
    return upload


def append_chunk(
    actor: Actor, upload_id: object, *, offset: int, stream: IO[bytes], length: int
) -> BidUpload:
    """Append ``length`` bytes read from ``stream`` at ``offset`` (resumable, streamed to disk).

    A chunk at an offset other than the bytes received so far is refused naming the offset to
    resume from, so a retried chunk is never written twice. The bytes are written before the
    transaction that records them, so a slow connection holds no database lock; if two requests
    race for the same offset, only one is recorded, and a mismatch shows at the commit's hash
    check. Chunks are refused once the deadline has passed.
    """
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Uploading a bid"))
    upload = (
        BidUpload.objects.select_related("section__tender")
        .filter(pk=str(upload_id), organisation=membership.organisation)
        .first()
    )
    if upload is None:
        raise NotFound(_("No such upload."), field="upload", rule="exists")
    _check_chunk(upload, offset, length)
    tender = upload.section.tender
    now = clock.now()
    if tender.status != State.PUBLISHED or now >= tender.bid_deadline:
        raise _deadline_error(tender, now)
    path = partial_path(upload)
    written = 0
    with path.open("r+b") as handle:
        handle.seek(offset)
        while written < length:
            block = stream.read(min(1024 * 1024, length - written))
            if not block:
                break
            handle.write(block)
            written += len(block)
        handle.flush()
        os.fsync(handle.fileno())
    if written != length:
        raise InvalidInput(
            _("The chunk ended after %(n)d of %(length)d bytes; send it again.")
            % {"n": written, "length": length},
            field="length",
            rule="chunk_size",
        )
    return _record_chunk(actor, upload.pk, offset, length)


def _check_chunk(upload: BidUpload, offset: int, length: int) -> None:
    if upload.bid_id is not None:
        raise Conflict(_("This upload is already committed."), field="upload", rule="upload_state")
    if offset != upload.received:
        raise Conflict(
            _("Resume the upload at byte %(offset)d.") % {"offset": upload.received},
            field="offset",
            rule="upload_offset",
        )
    if length <= 0 or length > CHUNK_BYTES or upload.received + length > upload.size:
        raise InvalidInput(
            _("A chunk holds 1 to %(max)d bytes and may not go past the declared size.")
            % {"max": CHUNK_BYTES},
            field="length",
            rule="chunk_size",
        )


@service
def _record_chunk(actor: Actor, upload_id: object, offset: int, length: int) -> BidUpload:
    upload = _own_upload(actor, upload_id)
    _check_chunk(upload, offset, length)
    upload.received = offset + length
    upload.updated_at = clock.now()
    upload.save(update_fields=["received", "updated_at"])
    return upload


def _stored_copy_is(storage: Any, name: str, sha256: str) -> bool:
    """Whether the stored file ``name`` has the SHA-256 ``sha256``."""
    digest = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest() == sha256


def _make_durable(storage: Any, name: str) -> None:
    """fsync a file stored on local disk (and its folder) before its receipt is issued.

    Object stores acknowledge a write once it is durable; the local file system does not.
    """
    try:
        local = Path(storage.path(name))
    except NotImplementedError:
        return
    with local.open("rb") as handle:
        os.fsync(handle.fileno())
    folder = os.open(local.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


# Enough of a stored envelope to hold its header: 85 bytes, the suite name and one entry of at
# most 34 + 161 bytes per recipient (the bidder and a few escrow or backup keys).
_HEADER_BYTES = 64 * 1024


def _envelope_header(path: Path, suite: str) -> EnvelopeHeader:
    """The header of the uploaded envelope, which must be of ``suite``."""
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    try:
        header = parse_header(head)
    except CryptoError:
        header = None
    if header is None or header.suite != suite:
        raise InvalidInput(
            _("The upload is not a sealed envelope of the suite %(suite)s.") % {"suite": suite},
            field="suite",
            rule="crypto_suite",
        )
    return header


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(_("Not valid base64."), field=field, rule="base64") from exc


def commit_bid(
    actor: Actor,
    upload_id: object,
    *,
    suite: str,
    commitment: str,
    signature: str,
    public_key: str,
) -> Bid:
    """Turn a complete upload into the bidder's bid, if the deadline has not passed.

    Checks: the upload is complete and its SHA-256 is the declared one; the suite is known, is the
    tender's, and is the envelope's; the bidder's signature over ``commitment_message`` verifies with ``public_key``; and the server
    clock is before the bid deadline, read with the tender row locked in the transaction that
    records the bid, so a clarification moving the deadline and a commit cannot interleave. A
    previous valid bid of the same bidder in the section is superseded (the last one counts).
    Where the tender has a key escrow, the bid records (and the receipt names) whether it is sealed
    to the escrow key as well: only such a bid can be opened by the custodians.

    Hashing and storing the ciphertext happen before that transaction, so a surge of commits at
    the deadline does not queue behind each other's file work; an upload that reached its
    declared size can no longer change.
    """
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Submitting a bid"))
    upload = BidUpload.objects.filter(
        pk=str(upload_id), organisation=membership.organisation
    ).first()
    if upload is None:
        raise NotFound(_("No such upload."), field="upload", rule="exists")
    if upload.bid_id is not None:
        bid = Bid.objects.get(pk=upload.bid_id)
        return bid  # an idempotent retry of a commit that succeeded
    if upload.received != upload.size:
        raise Conflict(
            _("The upload is incomplete: %(received)d of %(size)d bytes.")
            % {"received": upload.received, "size": upload.size},
            field="upload",
            rule="upload_incomplete",
        )
    path = partial_path(upload)
    actual = _file_sha256(path)
    if actual != upload.sha256:
        raise InvalidInput(
            _("The uploaded bytes do not match the declared SHA-256; upload again."),
            field="sha256",
            rule="ciphertext_hash",
        )
    if suite not in SUITES:
        raise InvalidInput(
            _("Unknown crypto suite %(suite)s.") % {"suite": suite},
            field="suite",
            rule="crypto_suite",
        )
    crypto = get_suite(suite)
    header = _envelope_header(path, suite)
    commitment = (commitment or "").strip().lower()
    if len(commitment) != 2 * len(crypto.hash(b"")) or any(
        c not in "0123456789abcdef" for c in commitment
    ):
        raise InvalidInput(
            _("The commitment is the suite's hash of the plaintext, in hexadecimal."),
            field="commitment",
            rule="commitment",
        )
    section = Section.objects.select_related("tender").get(pk=upload.section_id)
    tender = section.tender
    if suite != tender.crypto_suite:
        raise InvalidInput(
            _("This tender's bids are sealed with the crypto suite %(tender)s, not %(suite)s.")
            % {"tender": tender.crypto_suite, "suite": suite},
            field="suite",
            rule="tender_crypto_suite",
        )
    # The escrow is fixed at publication; whether this bid may be opened through it is decided
    # by the envelope itself: sealed to the escrow key as well, or not.
    escrow = getattr(tender, "escrow", None)
    escrow_key_id = ""
    if escrow is not None and bytes.fromhex(escrow.key_id) in header.key_ids:
        escrow_key_id = escrow.key_id
    message = commitment_message(section, upload.organisation, actual, commitment)
    if not crypto.verify(_b64(public_key, "public_key"), message, _b64(signature, "signature")):
        raise InvalidInput(
            _("The signature over the commitment does not verify."),
            field="signature",
            rule="bid_signature",
        )
    from django.core.files.storage import default_storage

    name = f"bids/{section.tender_id}/{section.pk}/{upload.pk}.obenv"
    # A retried commit may find a copy under the final name that a crash cut short (the local
    # file system writes it in place): reuse it only if it is whole, else copy again. Either way
    # it is made durable before the receipt, and the partial file goes only after the commit.
    if default_storage.exists(name) and not _stored_copy_is(default_storage, name, actual):
        default_storage.delete(name)
    if not default_storage.exists(name):
        with path.open("rb") as handle:
            stored = default_storage.save(name, File(handle))
        if stored != name:
            raise Conflict(
                _("The ciphertext could not be stored; commit again."),
                field="upload",
                rule="ciphertext_store",
            )
    _make_durable(default_storage, name)
    return _record_bid(
        actor, upload.pk, name, actual, suite, commitment, signature, public_key, escrow_key_id
    )


@service
def _record_bid(
    actor: Actor,
    upload_id: object,
    stored_name: str,
    sha256: str,
    suite: str,
    commitment: str,
    signature: str,
    public_key: str,
    escrow_key_id: str = "",
) -> Bid:
    upload = BidUpload.objects.select_for_update().get(pk=str(upload_id))
    section = Section.objects.get(pk=upload.section_id)
    tender = Tender.objects.select_for_update().get(pk=section.tender_id)
    now = clock.now()
    if tender.status != State.PUBLISHED or now >= tender.bid_deadline:
        raise _deadline_error(tender, now)
    if upload.bid_id is not None:
        return Bid.objects.get(pk=upload.bid_id)
    organisation = upload.organisation
    # Listed after the upload started: still refused (credit_serious_list_bidding_ban).
    refuse_if_listed(organisation, action=_("Submitting a bid"), field="section", on=clock.today())
    # The signing key must be certified: a registered, currently valid signing certificate of
    # the person who submits, for this organisation, from any trusted CA (CA 互认).
    certificate = require_signing_key(
        upload.started_by or signed_in(actor),
        organisation,
        _b64(public_key, "public_key"),
        now,
        field="public_key",
    )
    if certificate.suite != suite:
        raise InvalidInput(
            _(
                "The signing certificate is for the crypto suite %(cert)s, but the bid is sealed "
                "with %(suite)s."
            )
            % {"cert": certificate.suite or "-", "suite": suite},
            field="suite",
            rule="certificate_suite",
        )
    previous = (
        Bid.objects.select_for_update()
        .filter(section=section, organisation=organisation, status=Bid.Status.VALID)
        .first()
    )
    if previous is not None:
        previous.status = Bid.Status.SUPERSEDED
        previous.save(update_fields=["status"])
    version = (
        Bid.objects.filter(section=section, organisation=organisation).aggregate(v=Max("version"))[
            "v"
        ]
        or 0
    ) + 1
    salt = secrets.token_bytes(16)
    bid = Bid.objects.create(
        section=section,
        organisation=organisation,
        submitted_by=signed_in(actor),
        version=version,
        suite=suite,
        escrow_key_id=escrow_key_id,
        ciphertext=stored_name,
        ciphertext_sha256=sha256,
        size=upload.size,
        commitment=commitment,
        signature=signature,
        signer_public_key=public_key,
        signer_certificate=certificate,
        committed_at=now,
        digest_salt=salt,
    )
    upload.bid = bid
    upload.save(update_fields=["bid"])
    # The ledger sees only a salted digest: neither the bidder nor the number of bids in a section
    # may be known before the opening.
    digest = hashlib.sha256(salt + f"{bid.pk}:{sha256}:{commitment}".encode()).hexdigest()
    event = record_event("bidding.bid.received", actor=actor, payload={}, private_digest=digest)
    bid.ledger_index = event.ledger_entry.index
    bid.receipt = sign_note(receipt_text(bid), keys.log_signer()).decode()
    bid.save(update_fields=["ledger_index", "receipt"])
    part = partial_path(upload)
    transaction.on_commit(lambda: part.unlink(missing_ok=True))
    return bid


def receipt_text(bid: Bid) -> str:
    return (
        "openbid bid receipt v1\n"
        f"bid {bid.pk}\ntender {bid.section.tender_id}\nsection {bid.section_id}\n"
        f"bidder {bid.organisation.credit_code}\nversion {bid.version}\nsuite {bid.suite}\n"
        f"ciphertext-sha256 {bid.ciphertext_sha256}\ncommitment {bid.commitment}\n"
        f"time {bid.committed_at.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}\n"
        f"ledger-index {bid.ledger_index}\n"
        + (f"escrow-key {bid.escrow_key_id}\n" if bid.escrow_key_id else "")
        + (
            f"signer-certificate {bid.signer_certificate.fingerprint}\n"
            if bid.signer_certificate is not None
            else ""
        )
    )


@service
def withdraw_bid(actor: Actor, bid: Bid) -> Bid:
    """Withdraw a bid before the deadline (撤回, Reg art. 35); a later submission may follow."""
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Withdrawing a bid"))
    bid = Bid.objects.select_for_update().get(pk=bid.pk)
    if bid.organisation_id != membership.organisation_id:
        raise NotFound(_("No such bid."), field="bid", rule="exists")
    tender = Tender.objects.select_for_update().get(pk=bid.section.tender_id)
    now = clock.now()
    if tender.status != State.PUBLISHED or now >= tender.bid_deadline:
        raise _deadline_error(tender, now)
    if bid.status != Bid.Status.VALID:
        raise Conflict(_("Only the valid bid can be withdrawn."), field="bid", rule="bid_state")
    bid.status = Bid.Status.WITHDRAWN
    bid.withdrawn_at = now
    bid.save(update_fields=["status", "withdrawn_at"])
    digest = hashlib.sha256(bytes(bid.digest_salt) + f"{bid.pk}:withdrawn".encode()).hexdigest()
    record_event("bidding.bid.withdrawn", actor=actor, payload={}, private_digest=digest)
    return bid


def my_bids(actor: Actor) -> Iterable[Bid]:
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Listing your bids"))
    return Bid.objects.filter(organisation=membership.organisation).select_related(
        "section__tender"
    )
