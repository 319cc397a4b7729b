"""The opening room (开标室) and the published opening record.

Thin: every change goes through ``openbid.opening.services``. Every signed-in person may watch an
opening; the read-out (唱标) refreshes every 2 seconds without reloading the page (htmx polling of
``live``), and the page reloads itself when the opening moves on (starts, closes, is signed), so
the forms shown always fit the state. Reading the room applies the clock lazily: the session starts
at the bid deadline even if the clock loop is late.

Bidders release their keys here: the data key file written by the bidder client, or the key pasted
in base64. A browser cannot unwrap the key itself — that needs the bidder's private key.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from openbid.accounts.permissions import has_role, memberships
from openbid.accounts.roles import Role
from openbid.bidding.models import Bid
from openbid.core import clock
from openbid.core.errors import DomainError
from openbid.core.money import format_yuan
from openbid.core.web import add_refusal
from openbid.crypto import document_signatures
from openbid.crypto.document_signatures import verifies
from openbid.ledger import keys
from openbid.opening import escrow as escrow_services
from openbid.opening import services
from openbid.opening.forms import (
    EscrowRecordForm,
    EscrowShareForm,
    ObjectionForm,
    ReleaseKeyForm,
    ReplyForm,
)
from openbid.opening.models import OpenedBid, OpeningObjection, OpeningSession
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from openbid.tendering.services import require_manager


def _tender(pk: int) -> Tender:
    return get_object_or_404(
        Tender.objects.select_related("project__tenderer", "project__agency"),
        pk=pk,
        published_at__isnull=False,
    )


def _is_manager(request: HttpRequest, tender: Tender) -> bool:
    try:
        require_manager(request.user, tender.project, _("Managing the opening"))
    except DomainError:
        return False
    return True


def _phase(tender: Tender, session: OpeningSession | None) -> str:
    """What the page's forms depend on; the page reloads when it changes."""
    if session is None:
        return tender.status
    return f"{session.status}{'-signed' if session.published_at else ''}"


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _row(opened: OpenedBid) -> dict[str, Any]:
    bid = opened.bid
    others = {k: v for k, v in opened.form.items() if k not in ("price", "duration_days")}
    return {
        "opened": opened,
        "bid": bid,
        "order": opened.order,
        "section": bid.section,
        "bidder": bid.organisation,
        "status": opened.status,
        "status_label": opened.get_status_display(),
        "price": format_yuan(opened.price) if opened.price is not None else "",
        "duration_days": opened.duration_days,
        "others": sorted(others.items()),
        "reason": services.reason_message(opened.reason_code) if opened.reason_code else "",
        "treatment": services.treatment(opened.fault),
        "decided_at": _when(opened.decided_at),
    }


def _context(
    request: HttpRequest,
    tender: Tender,
    session: OpeningSession | None,
    *,
    release_form: tuple[int, ReleaseKeyForm] | None = None,
    objection_form: ObjectionForm | None = None,
    reply_form: tuple[int, ReplyForm] | None = None,
    share_form: EscrowShareForm | None = None,
) -> dict[str, Any]:
    manager = _is_manager(request, tender)
    signed = session is not None and session.published_at is not None
    context: dict[str, Any] = {
        "tender": tender,
        "project": tender.project,
        "session": session,
        "phase": _phase(tender, session),
        "polling": tender.status not in (State.FAILED, State.CANCELLED) and not signed,
        "now": _when(clock.now()),
        "scheduled_at": _when(session.scheduled_at if session else tender.bid_deadline),
        "is_manager": manager,
        "rows": [],
        "objections": [],
        "own": [],
        "escrow": escrow_services.escrow_of(tender),
    }
    if session is None:
        return context
    if escrow_services.may_give_share(request.user, session):
        context["share_form"] = share_form or EscrowShareForm()
    context.update(
        started_at=_when(session.started_at),
        decryption_deadline=_when(session.decryption_deadline),
        escrow_deadline=_when(session.escrow_deadline),
        closed_at=_when(session.closed_at),
        published_at=_when(session.published_at),
    )
    opened_bids = list(
        session.bids.select_related("bid__organisation", "bid__section").order_by("order")
    )
    context["rows"] = [_row(o) for o in opened_bids]
    own_orgs = {m.organisation_id for m in memberships(request.user, Role.BIDDER_STAFF)}
    forms_by_bid = dict([release_form]) if release_form else {}
    releasing = session.status == OpeningSession.Status.OPEN
    context["own"] = [
        {
            **_row(o),
            "form": forms_by_bid.get(o.bid_id) or ReleaseKeyForm(prefix=f"bid{o.bid_id}"),
            "show_form": releasing and o.status == OpenedBid.Status.AWAITING_KEY,
        }
        for o in opened_bids
        if o.bid.organisation_id in own_orgs
    ]
    replies = dict([reply_form]) if reply_form else {}
    objections = list(session.objections.select_related("raised_by", "replied_by_org"))
    context["objections"] = [
        {
            "objection": o,
            "raised_at": _when(o.raised_at),
            "replied_at": _when(o.replied_at),
            "form": (replies.get(o.pk) or ReplyForm(prefix=f"reply{o.pk}"))
            if manager and o.replied_at is None and not signed
            else None,
        }
        for o in objections
    ]
    present = any(o.bid.organisation_id in own_orgs for o in opened_bids)
    if present and not signed:
        context["objection_form"] = objection_form or ObjectionForm()
    context["can_sign"] = (
        manager
        and not signed
        and session.status == OpeningSession.Status.CLOSED
        and all(o.replied_at is not None for o in objections)
    )
    context["unanswered"] = sum(1 for o in objections if o.replied_at is None)
    return context


def _render_room(request: HttpRequest, tender: Tender, status: int = 200, **forms: Any) -> Any:
    session = services.session_of(tender)
    tender.refresh_from_db()
    return render(
        request,
        "opening/room.html",
        _context(request, tender, session, **forms),
        status=status,
    )


def _room_url(tender: Tender, anchor: str = "") -> str:
    return reverse("opening:room", args=[tender.pk]) + (f"#{anchor}" if anchor else "")


@login_required
@require_safe
def room(request: HttpRequest, pk: int) -> HttpResponse:
    """The opening room: waits for the deadline, then shows the read-out as bids are opened."""
    return _render_room(request, _tender(pk))


@login_required
@require_safe
def live(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the room that refreshes itself: state, read-out and objections."""
    tender = _tender(pk)
    session = services.session_of(tender)
    tender.refresh_from_db()
    if request.headers.get("HX-Request") and request.GET.get("phase") not in (
        None,
        _phase(tender, session),
    ):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "opening/_live.html", _context(request, tender, session))


@login_required
@require_POST
def release(request: HttpRequest, pk: int, bid_pk: int) -> HttpResponse:
    """A bidder releases the data key of its bid; the bid is opened and read out, or rejected."""
    tender = _tender(pk)
    bid = get_object_or_404(Bid, pk=bid_pk, section__tender=tender)
    form = ReleaseKeyForm(request.POST, request.FILES, prefix=f"bid{bid.pk}", bid_id=bid.pk)
    if not has_role(request.user, Role.BIDDER_STAFF, organisation=bid.organisation):
        return render(
            request,
            "tendering/refused.html",
            {"message": _("Only the bidder that submitted a bid releases its key.")},
            status=403,
        )
    if form.is_valid():
        try:
            opened = services.release_key(request.user, bid, form.cleaned_data["key"])
        except DomainError as error:
            add_refusal(form, error)
        else:
            if opened.status == OpenedBid.Status.OPENED:
                messages.success(
                    request,
                    _("Your bid is opened and read out: %(price)s.")
                    % {"price": format_yuan(opened.price) if opened.price is not None else ""},
                )
            else:
                messages.error(
                    request,
                    _("Your bid is rejected: %(reason)s %(treatment)s")
                    % {
                        "reason": services.reason_message(opened.reason_code),
                        "treatment": services.treatment(opened.fault),
                    },
                )
            return redirect(_room_url(tender, f"bid-{bid.pk}"))
    return _render_room(request, tender, status=422, release_form=(bid.pk, form))


@login_required
@require_POST
def give_share(request: HttpRequest, pk: int) -> HttpResponse:
    """A custodian's staff gives its escrow share; the last one needed opens the waiting bids."""
    tender = _tender(pk)
    form = EscrowShareForm(request.POST)
    if form.is_valid():
        try:
            session = escrow_services.give_share(request.user, tender, form.cleaned_data["share"])
        except DomainError as error:
            add_refusal(form, error)
        else:
            if session.status == OpeningSession.Status.ESCROW:
                messages.success(
                    request, _("Your share is recorded; the other custodians' shares are awaited.")
                )
            else:
                messages.success(
                    request, _("The escrow key was recombined: the waiting bids are opened.")
                )
            return redirect(_room_url(tender))
    return _render_room(request, tender, status=422, share_form=form)


@require_safe
def escrow_key(request: HttpRequest, pk: int) -> HttpResponse:
    """The escrow public key of a published tender (PEM), for ``openbid-bidder seal --to``."""
    escrow = escrow_services.escrow_of(_tender(pk))
    if escrow is None:
        raise Http404
    response = HttpResponse(
        escrow_services.public_key_pem(escrow), content_type="application/x-pem-file"
    )
    response["Content-Disposition"] = f'attachment; filename="escrow-{pk}.pub"'
    return response


@login_required
@require_POST
def register_escrow(request: HttpRequest, pk: int) -> HttpResponse:
    """The tender's managers register (or remove) its key escrow while it is a draft."""
    tender = get_object_or_404(Tender.objects.select_related("project"), pk=pk)
    tender_url = reverse("tendering:tender", args=[tender.pk]) + "#sealing"
    if "remove" in request.POST:
        try:
            escrow_services.remove_escrow(request.user, tender)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The key escrow is removed."))
        return redirect(tender_url)
    form = EscrowRecordForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            escrow_services.register_escrow(request.user, tender, form.cleaned_data["parsed"])
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The key escrow is registered."))
    else:
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
    return redirect(tender_url)


@login_required
@require_POST
def objection(request: HttpRequest, pk: int) -> HttpResponse:
    """A bidder at the opening raises an objection (Reg art. 44)."""
    tender = _tender(pk)
    session = services.session_of(tender)
    if session is None:
        raise Http404
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.raise_objection(request.user, session, text=form.cleaned_data["text"])
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Your objection is recorded; it is answered on the spot."))
            return redirect(_room_url(tender, "objections"))
    return _render_room(request, tender, status=422, objection_form=form)


@login_required
@require_POST
def reply(request: HttpRequest, pk: int, objection_pk: int) -> HttpResponse:
    """The tenderer or agency answers an objection on the spot."""
    tender = _tender(pk)
    found = get_object_or_404(OpeningObjection, pk=objection_pk, session__tender=tender)
    form = ReplyForm(request.POST, prefix=f"reply{found.pk}")
    if form.is_valid():
        try:
            services.reply_objection(request.user, found, reply=form.cleaned_data["reply"])
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("The reply is recorded."))
            return redirect(_room_url(tender, "objections"))
    return _render_room(request, tender, status=422, reply_form=(found.pk, form))


@login_required
@require_POST
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The tenderer or agency signs the opening record, which is published at once."""
    tender = _tender(pk)
    session = services.session_of(tender)
    if session is None:
        raise Http404
    try:
        services.sign_opening_record(request.user, session)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(_room_url(tender, "sign"))
    messages.success(request, _("The opening record is signed and published."))
    return redirect("opening:record", pk=tender.pk)


def _published(pk: int) -> OpeningSession:
    return get_object_or_404(
        OpeningSession.objects.select_related("tender__project", "signed_by_org"),
        tender_id=pk,
        published_at__isnull=False,
    )


@require_safe
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """The published opening record (开标记录): public, with how to verify its signature."""
    session = _published(pk)
    return render(
        request,
        "opening/record.html",
        {
            "session": session,
            "tender": session.tender,
            "published_at": _when(session.published_at),
            "verifier_key": keys.log_verifier_key(),
            "ledger_subject": f"tender:{session.tender_id}",
            "signatures": [
                {"row": row, "signed_at": _when(row.signed_at), "verifies": verifies(row)}
                for row in document_signatures.signatures(services.RECORD_KIND, session.tender_id)
            ],
            "may_sign": _is_manager(request, session.tender),
            "record_kind": services.RECORD_KIND,
            "platform_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )


@require_safe
def record_note(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed note's exact bytes, so anyone can check the signature and the SHA-256."""
    session = _published(pk)
    response = HttpResponse(
        session.record_note.encode("utf-8"), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="opening-record-{pk}.txt"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
