"""API for sealed bids (``/api/v1/``): resumable upload, commit, receipts, withdrawal.

Thin over ``openbid.bidding.services``: every change and every rule (role, obtained documents,
deadline against the server clock, sizes, hashes, the bidder's signature) is checked there. The
upload protocol, as the ``openbid-bidder`` client speaks it:

1. ``GET /sections/{id}`` — the tender, the deadline, the server time and the caller's credit
   code: what the bidder's signature over the commitment names;
2. ``POST /sections/{id}/uploads`` ``{size, sha256}`` — a resumable upload of the ciphertext;
3. ``PUT /uploads/{id}?offset=N`` with the raw chunk (``application/octet-stream``, with a
   ``Content-Length``) — repeat; ``GET /uploads/{id}`` says where to resume after an
   interruption, and a chunk at any other offset is refused naming the offset to resume from;
4. ``POST /uploads/{id}/commit`` ``{suite, commitment, signature, public_key}`` — the bid counts
   only if this arrives before the deadline; the answer is the receipt (回执), a signed note.
   Retrying a commit that succeeded returns the same receipt.

Bearer-token calls are not CSRF-checked; browser-session calls are (``openbid.core.api_auth``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from typing import IO, Annotated, Any, cast

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, PlainSerializer, StringConstraints

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import has_role, memberships, require_role
from openbid.accounts.roles import Role
from openbid.bidding import services
from openbid.bidding.models import Bid, BidUpload
from openbid.core import clock
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import InvalidInput, NotFound
from openbid.crypto.suites import SUITES
from openbid.ledger import keys
from openbid.ledger.note import MalformedNoteError, NoteError, verify_note
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Section

router = Router(tags=["bidding"])

# A chunk is copied from the connection to a spool (memory up to this size, then a temporary
# file) before the service appends it, so the upload's row lock — on SQLite the database's write
# lock — is held for a local copy, never for a slow network transfer.
SPOOL_MEMORY_BYTES = 1024 * 1024
READ_BLOCK_BYTES = 256 * 1024
MAX_RECEIPT_CHARS = 8192


class LengthRequired(InvalidInput):
    status = 411


class ChunkTooLarge(InvalidInput):
    status = 413


class UnsupportedMediaType(InvalidInput):
    status = 415


def _local_text(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat()


LocalDateTime = Annotated[
    dt.datetime, PlainSerializer(_local_text, return_type=str, when_used="always")
]
Hex64 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9a-fA-F]{64}$")]


# --- schemas -----------------------------------------------------------------------------------


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class SectionBiddingOut(Schema):
    id: int
    number: int
    name: str
    tender: int
    tender_title: str
    tender_status: str
    bid_deadline: LocalDateTime
    server_time: LocalDateTime
    accepting_bids: bool
    bidder: str | None = Field(
        None, description="the caller's organisation's credit code, if the caller is bidder staff"
    )
    obtained_documents: bool | None = Field(
        None, description="whether the caller's organisation obtained the tender documents"
    )
    suites: list[str]
    chunk_bytes: int
    max_bid_bytes: int


class UploadIn(In):
    size: int = Field(..., gt=0, description="bytes of ciphertext that will be sent")
    sha256: Hex64 = Field(..., description="SHA-256 of the whole ciphertext, hex")


class UploadOut(Schema):
    upload_id: uuid.UUID
    section: int
    size: int
    sha256: str
    received: int = Field(..., description="bytes received so far: the offset to send next")
    chunk_bytes: int = Field(..., description="the largest chunk one PUT may carry")
    bid: int | None = Field(None, description="the bid, once the upload is committed")


class ReceivedOut(Schema):
    upload_id: uuid.UUID
    received: int
    size: int


class CommitIn(In):
    suite: str = Field(..., max_length=20)
    commitment: str = Field(..., max_length=128, description="suite hash of the plaintext, hex")
    signature: str = Field(
        ..., max_length=512, description="base64 signature over the commitment message"
    )
    public_key: str = Field(..., max_length=512, description="base64 signing public key")


class BidOut(Schema):
    bid: int = Field(..., alias="pk")
    tender: int = Field(..., alias="section.tender_id")
    section: int = Field(..., alias="section_id")
    bidder: str = Field(..., alias="organisation.credit_code")
    version: int
    status: str
    suite: str
    size: int
    ciphertext_sha256: str
    commitment: str
    committed_at: LocalDateTime
    withdrawn_at: LocalDateTime | None
    ledger_index: int | None
    receipt: str = Field(..., description="the signed note (C2SP signed-note) the platform issued")


class ReceiptIn(In):
    receipt: str = Field(..., max_length=MAX_RECEIPT_CHARS, description="the signed note")


class ReceiptCheckOut(Schema):
    signature_valid: bool = Field(..., description="signed by this platform's log key")
    matches_stored_bid: bool | None = Field(
        None, description="the text is that of a stored bid (null: not yours to check)"
    )
    bid: int | None = None
    status: str | None = Field(None, description="valid, superseded or withdrawn")
    counts: bool = Field(..., description="the receipt is genuine and its bid is the valid one")
    problem: str | None = Field(
        None,
        description="forged, malformed, no_such_bid, does_not_match, superseded, withdrawn",
    )
    message: str
    fields: dict[str, str] = Field(default_factory=dict, description="the receipt's lines")


# --- helpers -----------------------------------------------------------------------------------


def _bidder_org(request: HttpRequest) -> Organisation | None:
    """The organisation the caller bids for, as the services choose it (first membership)."""
    membership = memberships(request.user, Role.BIDDER_STAFF).order_by("id").first()
    return membership.organisation if membership is not None else None


def _published_section(section_id: int) -> Section:
    section = (
        Section.objects.select_related("tender")
        .filter(pk=section_id, tender__published_at__isnull=False)
        .first()
    )
    if section is None:
        raise NotFound(_("No such section."), field="section_id", rule="exists")
    return section


def _own_upload(request: HttpRequest, upload_id: uuid.UUID) -> BidUpload:
    membership = require_role(request.user, Role.BIDDER_STAFF, action=_("Uploading a bid"))
    upload = BidUpload.objects.filter(
        pk=upload_id, organisation_id=membership.organisation_id
    ).first()
    if upload is None:
        raise NotFound(_("No such upload."), field="upload", rule="exists")
    return upload


def _upload_out(upload: BidUpload) -> dict[str, Any]:
    return {
        "upload_id": upload.pk,
        "section": upload.section_id,
        "size": upload.size,
        "sha256": upload.sha256,
        "received": upload.received,
        "chunk_bytes": services.CHUNK_BYTES,
        "bid": upload.bid_id,
    }


def _bid(pk: int) -> Bid:
    return Bid.objects.select_related("section", "organisation").get(pk=pk)


def _chunk_length(request: HttpRequest) -> int:
    content_type = request.content_type or ""
    if content_type not in ("", "application/octet-stream"):
        raise UnsupportedMediaType(
            _("Send the chunk as application/octet-stream."),
            field="content_type",
            rule="chunk_media_type",
        )
    raw = request.META.get("CONTENT_LENGTH") or ""
    if not raw.isdigit():
        raise LengthRequired(
            _("Send the chunk with a Content-Length header."),
            field="length",
            rule="chunk_size",
        )
    length = int(raw)
    if length > services.CHUNK_BYTES:
        raise ChunkTooLarge(
            _("A chunk holds at most %(max)d bytes; this one declares %(length)d.")
            % {"max": services.CHUNK_BYTES, "length": length},
            field="length",
            rule="chunk_size",
        )
    return length


def _spool(request: HttpRequest, length: int) -> IO[bytes]:
    """Up to ``length`` bytes of the request body, read in blocks (never ``request.body``)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
    remaining = length
    while remaining > 0:
        block = request.read(min(READ_BLOCK_BYTES, remaining))
        if not block:
            break  # the client went away: the service reports the short chunk
        spool.write(block)
        remaining -= len(block)
    spool.seek(0)
    return spool


def _receipt_fields(text: str) -> dict[str, str]:
    lines = text.splitlines()
    fields = {}
    for line in lines[1:]:
        key, _sep, value = line.partition(" ")
        fields[key] = value
    return fields


def _may_check_bid(request: HttpRequest, bid: Bid) -> bool:
    """The bidder itself, and the centre, regulators and auditors, may learn a bid's status."""
    return has_role(request.user, Role.BIDDER_STAFF, organisation=bid.organisation) or has_role(
        request.user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR
    )


# --- endpoints ---------------------------------------------------------------------------------


@router.get(
    "/sections/{section_id}",
    response=SectionBiddingOut,
    auth=PUBLIC,
    summary="A section, for bidding: tender, deadline, server time",
)
def section_for_bidding(request: HttpRequest, section_id: int) -> dict[str, Any]:
    """What a bidding client needs before it uploads: the tender and section ids and the
    caller's credit code (all named in the commitment message the bidder signs), the deadline
    and the server's clock (the deadline is checked against the server clock, not the client's).
    """
    section = _published_section(section_id)
    tender = section.tender
    now = clock.now()
    org = _bidder_org(request)
    obtained = (
        DocumentObtainer.objects.filter(tender=tender, organisation=org).exists()
        if org is not None
        else None
    )
    return {
        "id": section.pk,
        "number": section.number,
        "name": section.name,
        "tender": tender.pk,
        "tender_title": tender.title,
        "tender_status": tender.status,
        "bid_deadline": tender.bid_deadline,
        "server_time": now,
        "accepting_bids": tender.status == State.PUBLISHED and now < tender.bid_deadline,
        "bidder": org.credit_code if org is not None else None,
        "obtained_documents": obtained,
        "suites": sorted(SUITES),
        "chunk_bytes": services.CHUNK_BYTES,
        "max_bid_bytes": services.max_bid_bytes(),
    }


@router.post(
    "/sections/{section_id}/uploads",
    response={201: UploadOut},
    summary="Start a resumable upload of a sealed bid",
)
def start_upload(request: HttpRequest, section_id: int, payload: UploadIn) -> Status[Any]:
    """Before the deadline, by bidder staff whose organisation obtained the documents. Nothing
    is a bid until the upload is complete and committed."""
    section = _published_section(section_id)
    upload = services.start_upload(request.user, section, size=payload.size, sha256=payload.sha256)
    return Status(201, _upload_out(upload))


@router.get("/uploads/{upload_id}", response=UploadOut, summary="Where to resume an upload")
def get_upload(request: HttpRequest, upload_id: uuid.UUID) -> dict[str, Any]:
    """``received`` is the offset of the next chunk; only the uploading organisation sees it."""
    return _upload_out(_own_upload(request, upload_id))


@router.put(
    "/uploads/{upload_id}",
    response=ReceivedOut,
    summary="Append one chunk (raw body, application/octet-stream)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
def put_chunk(request: HttpRequest, upload_id: uuid.UUID, offset: int) -> dict[str, Any]:
    """The chunk goes at ``offset``, which must be the bytes received so far (otherwise 409 with
    the offset to resume from, so a retried chunk is never written twice). ``Content-Length``
    is required and at most ``chunk_bytes``; the chunk may not go past the declared size."""
    length = _chunk_length(request)
    with _spool(request, length) as spool:
        upload = services.append_chunk(
            request.user, upload_id, offset=offset, stream=spool, length=length
        )
    return {"upload_id": upload.pk, "received": upload.received, "size": upload.size}


@router.post(
    "/uploads/{upload_id}/commit",
    response={200: BidOut, 201: BidOut},
    summary="Commit a complete upload as the bid (before the deadline)",
)
def commit(request: HttpRequest, upload_id: uuid.UUID, payload: CommitIn) -> Status[Bid]:
    """Checks the ciphertext against the declared SHA-256, the bidder's signature over the
    commitment message, and — in the transaction that records the bid — the server clock
    against the deadline (a late commit is refused with the deadline and the server time).
    The previous valid bid of the bidder in the section is superseded. 201 with the receipt;
    a retry of a commit that succeeded answers 200 with the same bid and receipt."""
    already = _own_upload(request, upload_id).bid_id is not None
    bid = services.commit_bid(request.user, upload_id, **payload.dict())
    return Status(200 if already else 201, _bid(bid.pk))


@router.get("/bids", response=list[BidOut], summary="My organisation's bids, with receipts")
def my_bids(request: HttpRequest, section: int | None = None) -> list[Bid]:
    """Every submission, valid, superseded or withdrawn, oldest first."""
    bids = cast("QuerySet[Bid]", services.my_bids(request.user))
    if section is not None:
        bids = bids.filter(section_id=section)
    return list(bids.select_related("organisation").order_by("section_id", "version"))


@router.post("/bids/{bid_id}/withdraw", response=BidOut, summary="Withdraw a bid (撤回)")
def withdraw(request: HttpRequest, bid_id: int) -> Bid:
    """Before the deadline only; a later submission may follow (the last valid one counts)."""
    bid = Bid.objects.filter(pk=bid_id).first()
    if bid is None:
        raise NotFound(_("No such bid."), field="bid", rule="exists")
    bid = services.withdraw_bid(request.user, bid)
    return _bid(bid.pk)


@router.post(
    "/receipts/verify",
    response=ReceiptCheckOut,
    auth=PUBLIC,
    summary="Check a receipt: genuine, and still the bid that counts?",
)
def verify_receipt(request: HttpRequest, payload: ReceiptIn) -> dict[str, Any]:
    """Anyone may check that the platform signed a receipt (the same check as with the key at
    ``/ledger/key``). The bidder, the centre, regulators and auditors also learn whether it is
    the text of a stored bid, and whether that bid still counts: a receipt of a submission that
    was replaced or withdrawn is reported as such (a replayed receipt)."""
    try:
        verified = verify_note(payload.receipt, [keys.log_signer().verifier()])
    except MalformedNoteError:
        return _check(False, "malformed", _("This is not a signed receipt."))
    except NoteError:
        return _check(False, "forged", _("The platform's signature does not verify: forged."))
    text = verified.text
    fields = _receipt_fields(text)
    if not text.startswith("openbid bid receipt v1\n") or not fields.get("bid", "").isdigit():
        return _check(False, "malformed", _("The signed note is not a bid receipt."), fields)
    bid = Bid.objects.select_related("section", "organisation").filter(pk=fields["bid"]).first()
    if bid is not None and not _may_check_bid(request, bid):
        return _check(
            True,
            None,
            _("The platform's signature is valid. Only the bidder can check its bid's status."),
            fields,
            matches=None,
        )
    if bid is None:
        return _check(True, "no_such_bid", _("No stored bid has this receipt."), fields)
    if services.receipt_text(bid) != text:
        return _check(
            True, "does_not_match", _("The receipt does not match the stored bid."), fields
        )
    problem, message = {
        Bid.Status.VALID: (None, _("Genuine: this is the bid that counts.")),
        Bid.Status.SUPERSEDED: (
            "superseded",
            _("Genuine, but this submission was replaced by a later one; it does not count."),
        ),
        Bid.Status.WITHDRAWN: (
            "withdrawn",
            _("Genuine, but this bid was withdrawn; it does not count."),
        ),
    }[Bid.Status(bid.status)]
    return _check(True, problem, message, fields, matches=True, bid=bid)


def _check(
    signature_valid: bool,
    problem: str | None,
    message: str,
    fields: dict[str, str] | None = None,
    *,
    matches: bool | None = False,
    bid: Bid | None = None,
) -> dict[str, Any]:
    if not signature_valid:
        matches = None
    return {
        "signature_valid": signature_valid,
        "matches_stored_bid": matches,
        "bid": bid.pk if bid is not None else None,
        "status": bid.status if bid is not None else None,
        "counts": bid is not None and bid.status == Bid.Status.VALID,
        "problem": problem,
        "message": message,
        "fields": fields or {},
    }
