"""API for the opening (``/api/v1/``): the session's state and read-out, releasing a key,
objections and replies, signing the record, and the public record.

Thin over ``openbid.opening.services``. Reading an opening applies what the clock loop would do
(the session starts at the bid deadline, the decryption window closes), so a client that polls
``GET /tenders/{id}/opening`` sees the opening start by itself. Released data keys are never
returned — only their SHA-256.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, PlainSerializer

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import has_role
from openbid.accounts.roles import Role
from openbid.bidding.models import Bid
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import Conflict, NotFound
from openbid.ledger import keys
from openbid.opening import escrow as escrow_services
from openbid.opening import services
from openbid.opening.models import Escrow, OpenedBid, OpeningObjection, OpeningSession
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender

router = Router(tags=["opening"])

LocalDateTime = Annotated[
    dt.datetime,
    PlainSerializer(lambda v: timezone.localtime(v).isoformat(), return_type=str),
]
Yuan = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ReleaseKeyIn(In):
    data_key: str = Field(
        ...,
        min_length=1,
        max_length=4096,
        description="the bid's 32-byte data key, base64 (or the bidder client's JSON key file)",
    )


class ShareIn(In):
    share: str = Field(
        ..., min_length=1, max_length=2000, description="the custodian's SLIP-0039 share (words)"
    )


class EscrowIn(In):
    record: dict[str, Any] = Field(
        ..., description="the escrow's public record, as written by `openbid escrow create`"
    )


class CustodianOut(Schema):
    credit_code: str
    name: str
    index: int


class ObjectionIn(In):
    text: str = Field(..., max_length=5000)


class ReplyIn(In):
    reply: str = Field(..., max_length=5000)


class EscrowOut(Schema):
    suite: str
    key_id: str = Field(..., description="the escrow key's recipient id in sealed envelopes")
    threshold: int
    count: int
    custodians: list[CustodianOut]
    public_key_pem: str = Field(..., description="for `openbid-bidder seal --to`")
    record: dict[str, Any]
    registered_at: LocalDateTime
    used_at: LocalDateTime | None


class SealingOut(Schema):
    tender: int
    suite: str = Field(..., description="every bid is sealed and signed with this suite")
    decryption_window_minutes: int
    escrow: EscrowOut | None


class OpenedBidOut(Schema):
    bid: int
    order: int
    section: int
    section_name: str
    bidder: str
    bidder_name: str
    status: str
    price: Yuan | None
    duration_days: int | None
    form: dict[str, Any]
    reason_code: str
    reason: str
    fault: str
    treatment: str
    released_at: LocalDateTime | None
    decided_at: LocalDateTime | None
    data_key_sha256: str
    via_escrow: bool = Field(..., description="the data key was recovered through the key escrow")
    ciphertext_sha256: str
    commitment: str


class ObjectionOut(Schema):
    id: int
    number: int
    raised_by: str
    raised_by_name: str
    text: str
    raised_at: LocalDateTime
    reply: str
    replied_by: str | None
    replied_at: LocalDateTime | None


class OpeningOut(Schema):
    tender: int
    tender_status: str
    status: str = Field(
        ...,
        description=(
            "scheduled; failed or cancelled (no opening); open (keys are released); escrow "
            "(custodians give their shares for bids sealed to the key escrow); closed"
        ),
    )
    status_reason: str
    scheduled_at: LocalDateTime
    started_at: LocalDateTime | None
    decryption_deadline: LocalDateTime | None
    escrow_deadline: LocalDateTime | None
    closed_at: LocalDateTime | None
    published_at: LocalDateTime | None
    record_sha256: str | None
    bids: list[OpenedBidOut]
    objections: list[ObjectionOut]


class RecordOut(Schema):
    tender: int
    text: str
    signed_note: str
    sha256: str
    published_at: LocalDateTime
    signer: str
    signer_name: str
    verifier_key: str = Field(..., description="the platform's note verifier key")


def opened_bid_out(opened: OpenedBid) -> dict[str, Any]:
    bid = opened.bid
    return {
        "bid": bid.pk,
        "order": opened.order,
        "section": bid.section.number,
        "section_name": bid.section.name,
        "bidder": bid.organisation.credit_code,
        "bidder_name": bid.organisation.name,
        "status": opened.status,
        "price": opened.price,
        "duration_days": opened.duration_days,
        "form": opened.form if opened.status == OpenedBid.Status.OPENED else {},
        "reason_code": opened.reason_code,
        "reason": services.reason_message(opened.reason_code) if opened.reason_code else "",
        "fault": opened.fault,
        "treatment": services.treatment(opened.fault),
        "released_at": opened.released_at,
        "decided_at": opened.decided_at,
        "data_key_sha256": opened.data_key_sha256,
        "via_escrow": opened.via_escrow,
        "ciphertext_sha256": bid.ciphertext_sha256,
        "commitment": bid.commitment,
    }


def objection_out(o: OpeningObjection) -> dict[str, Any]:
    return {
        "id": o.pk,
        "number": o.number,
        "raised_by": o.raised_by.credit_code,
        "raised_by_name": o.raised_by.name,
        "text": o.text,
        "raised_at": o.raised_at,
        "reply": o.reply,
        "replied_by": o.replied_by_org.credit_code if o.replied_by_org else None,
        "replied_at": o.replied_at,
    }


def opening_out(tender: Tender, session: OpeningSession | None) -> dict[str, Any]:
    if session is None:
        ended = tender.status in (State.FAILED, State.CANCELLED)
        return {
            "tender": tender.pk,
            "tender_status": tender.status,
            "status": tender.status if ended else "scheduled",
            "status_reason": tender.status_reason if ended else "",
            "scheduled_at": tender.bid_deadline,
            "started_at": None,
            "decryption_deadline": None,
            "escrow_deadline": None,
            "closed_at": None,
            "published_at": None,
            "record_sha256": None,
            "bids": [],
            "objections": [],
        }
    bids = session.bids.select_related("bid__organisation", "bid__section").order_by("order")
    objections = session.objections.select_related("raised_by", "replied_by_org")
    return {
        "tender": tender.pk,
        "tender_status": tender.status,
        "status": session.status,
        "status_reason": "",
        "scheduled_at": session.scheduled_at,
        "started_at": session.started_at,
        "decryption_deadline": session.decryption_deadline,
        "escrow_deadline": session.escrow_deadline,
        "closed_at": session.closed_at,
        "published_at": session.published_at,
        "record_sha256": session.record_sha256 or None,
        "bids": [opened_bid_out(o) for o in bids],
        "objections": [objection_out(o) for o in objections],
    }


def _tender(tender_id: int) -> Tender:
    tender = (
        Tender.objects.select_related("project")
        .filter(pk=tender_id, published_at__isnull=False)
        .first()
    )
    if tender is None:
        raise NotFound(_("No such tender."), field="tender_id", rule="exists")
    return tender


def _session(tender: Tender) -> OpeningSession:
    session = services.session_of(tender)
    if session is None:
        tender.refresh_from_db()
        raise Conflict(
            tender.status_reason
            if tender.status == State.FAILED
            else _("The opening starts at the bid deadline."),
            field="tender_id",
            rule="min_bidders" if tender.status == State.FAILED else "opening_started",
            at=tender.bid_deadline,
        )
    return session


def record_out(session: OpeningSession) -> dict[str, Any]:
    assert session.signed_by_org is not None and session.published_at is not None
    return {
        "tender": session.tender_id,
        "text": session.record_text,
        "signed_note": session.record_note,
        "sha256": session.record_sha256,
        "published_at": session.published_at,
        "signer": session.signed_by_org.credit_code,
        "signer_name": session.signed_by_org.name,
        "verifier_key": keys.log_verifier_key(),
    }


@router.get(
    "/tenders/{tender_id}/opening",
    response=OpeningOut,
    summary="The opening: its state and the bids read out (唱标)",
)
def get_opening(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    tender = _tender(tender_id)
    session = services.session_of(tender)
    tender.refresh_from_db()
    return opening_out(tender, session)


@router.post(
    "/bids/{bid_id}/release-key",
    response=OpenedBidOut,
    summary="Release a bid's data key at the opening (bidder)",
)
def release_key(request: HttpRequest, bid_id: int, payload: ReleaseKeyIn) -> dict[str, Any]:
    bid = Bid.objects.select_related("organisation").filter(pk=bid_id).first()
    # Another organisation's bid is "not found", as in bidding: ids tell nothing about others.
    if bid is None or not has_role(request.user, Role.BIDDER_STAFF, organisation=bid.organisation):
        raise NotFound(_("No such bid."), field="bid_id", rule="exists")
    data_key = services.parse_data_key(payload.data_key, bid_id=bid.pk)
    opened = services.release_key(request.user, bid, data_key)
    return opened_bid_out(
        OpenedBid.objects.select_related("bid__organisation", "bid__section").get(pk=opened.pk)
    )


@router.post(
    "/tenders/{tender_id}/opening/objections",
    response={201: ObjectionOut},
    summary="Raise an objection at the opening (bidder; Reg art. 44)",
)
def raise_objection(
    request: HttpRequest, tender_id: int, payload: ObjectionIn
) -> Status[dict[str, Any]]:
    session = _session(_tender(tender_id))
    objection = services.raise_objection(request.user, session, text=payload.text)
    return Status(201, objection_out(objection))


@router.post(
    "/opening/objections/{objection_id}/reply",
    response=ObjectionOut,
    summary="Answer an objection at the opening (tenderer or agency)",
)
def reply_objection(request: HttpRequest, objection_id: int, payload: ReplyIn) -> dict[str, Any]:
    objection = services.objection_of(objection_id)
    answered = services.reply_objection(request.user, objection, reply=payload.reply)
    return objection_out(answered)


@router.post(
    "/tenders/{tender_id}/opening/record",
    response={201: RecordOut},
    summary="Sign and publish the opening record (tenderer or agency)",
)
def sign_record(request: HttpRequest, tender_id: int) -> Status[dict[str, Any]]:
    session = services.sign_opening_record(request.user, _session(_tender(tender_id)))
    session = OpeningSession.objects.select_related("signed_by_org").get(pk=session.pk)
    return Status(201, record_out(session))


@router.get(
    "/tenders/{tender_id}/opening/record",
    response=RecordOut,
    auth=PUBLIC,
    summary="The published opening record (a C2SP signed note)",
)
def get_record(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    session = (
        OpeningSession.objects.select_related("signed_by_org")
        .filter(tender_id=tender_id, published_at__isnull=False)
        .first()
    )
    if session is None:
        raise NotFound(
            _("No opening record has been published for this tender."),
            field="tender_id",
            rule="exists",
        )
    return record_out(session)


# --- sealing parameters and the key escrow --------------------------------------------------------


def escrow_out(escrow: Escrow) -> dict[str, Any]:
    record = escrow_services.public_record(escrow)
    names = dict(
        Organisation.objects.filter(credit_code__in=list(record.custodians)).values_list(
            "credit_code", "name"
        )
    )
    return {
        "suite": escrow.suite,
        "key_id": escrow.key_id,
        "threshold": escrow.threshold,
        "count": escrow.count,
        "custodians": [
            {
                "credit_code": share.custodian,
                "name": names.get(share.custodian, ""),
                "index": share.index,
            }
            for share in record.shares
        ],
        "public_key_pem": escrow_services.public_key_pem(escrow).decode(),
        "record": escrow.record,
        "registered_at": escrow.registered_at,
        "used_at": escrow.used_at,
    }


def sealing_out(tender: Tender) -> dict[str, Any]:
    escrow = escrow_services.escrow_of(tender)
    return {
        "tender": tender.pk,
        "suite": tender.crypto_suite,
        "decryption_window_minutes": tender.decryption_window_minutes,
        "escrow": escrow_out(escrow) if escrow is not None else None,
    }


def _managed_tender(request: HttpRequest, tender_id: int) -> Tender:
    tender = Tender.objects.select_related("project").filter(pk=tender_id).first()
    if tender is None:
        raise NotFound(_("No such tender."), field="tender_id", rule="exists")
    return tender


@router.get(
    "/tenders/{tender_id}/sealing",
    response=SealingOut,
    auth=PUBLIC,
    summary="How bids for a tender are sealed: its crypto suite, decryption window and key escrow",
)
def get_sealing(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    """What a bidder needs before sealing (``openbid-bidder escrow-key`` reads it)."""
    return sealing_out(_tender(tender_id))


@router.put(
    "/tenders/{tender_id}/escrow",
    response=SealingOut,
    summary="Register or replace the key escrow of a draft tender (tenderer or agency)",
)
def put_escrow(request: HttpRequest, tender_id: int, payload: EscrowIn) -> dict[str, Any]:
    tender = _managed_tender(request, tender_id)
    escrow_services.register_escrow(request.user, tender, payload.record)
    return sealing_out(tender)


@router.delete(
    "/tenders/{tender_id}/escrow",
    response={204: None},
    summary="Remove the key escrow of a draft tender (tenderer or agency)",
)
def delete_escrow(request: HttpRequest, tender_id: int) -> Status[None]:
    escrow_services.remove_escrow(request.user, _managed_tender(request, tender_id))
    return Status(204, None)


@router.post(
    "/tenders/{tender_id}/opening/escrow-shares",
    response=OpeningOut,
    summary="Give a custodian's escrow share at the opening (custodian's staff)",
)
def give_share(request: HttpRequest, tender_id: int, payload: ShareIn) -> dict[str, Any]:
    """Accepted only after the decryption window, while bids sealed to the escrow await their
    keys; the share that reaches the threshold opens those bids."""
    tender = _tender(tender_id)
    session = escrow_services.give_share(request.user, tender, payload.share)
    tender.refresh_from_db()
    return opening_out(tender, session)
