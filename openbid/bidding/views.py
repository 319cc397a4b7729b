"""The bidder's pages: submitting a sealed bid to a section, withdrawing it, and "my bids".

Thin: every change goes through ``openbid.bidding.services``, which check the role, the obtained
documents, the deadline against the server clock, the hashes and the signature. The browser cannot
seal a bid (that needs the bidder's keys); the bidder seals it with ``openbid-bidder seal`` and
chooses the envelope and its sidecar here. The envelope is streamed to the upload in chunks of
``services.CHUNK_BYTES`` straight from the uploaded file, as the bidder client sends it.
"""

from __future__ import annotations

from typing import IO, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import memberships
from openbid.accounts.roles import Role
from openbid.bidding import services
from openbid.bidding.forms import SubmitBidForm
from openbid.bidding.models import Bid
from openbid.core import clock
from openbid.core.errors import DomainError
from openbid.core.web import add_refusal
from openbid.ledger import keys
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Section

# The services name what they refuse; on the page, that is one of the form's fields.
_FIELDS = {
    "size": "envelope",
    "sha256": "envelope",
    "length": "envelope",
    "offset": "envelope",
    "upload": "envelope",
    "suite": "sidecar",
    "commitment": "sidecar",
}


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _refused(request: HttpRequest, message: Any, status: int = 403) -> HttpResponse:
    return render(request, "tendering/refused.html", {"message": str(message)}, status=status)


def _bidder_org(request: HttpRequest) -> Organisation | None:
    """The organisation the person bids for, as the services choose it (first membership)."""
    membership = memberships(request.user, Role.BIDDER_STAFF).order_by("id").first()
    return membership.organisation if membership is not None else None


def _section(pk: int) -> Section:
    return get_object_or_404(
        Section.objects.select_related("tender__project"), pk=pk, tender__published_at__isnull=False
    )


def _submit_url(section: Section, anchor: str = "") -> str:
    return reverse("bidding:submit", args=[section.pk]) + (f"#{anchor}" if anchor else "")


def _refuse(form: SubmitBidForm, error: DomainError) -> None:
    error.field = _FIELDS.get(error.field or "", error.field)
    add_refusal(form, error)


def _row(bid: Bid) -> dict[str, Any]:
    return {
        "bid": bid,
        "section": bid.section,
        "tender": bid.section.tender,
        "status": bid.status,
        "status_label": bid.get_status_display(),
        "committed_at": _when(bid.committed_at),
        "withdrawn_at": _when(bid.withdrawn_at),
    }


def _render_submit(
    request: HttpRequest,
    section: Section,
    org: Organisation,
    form: SubmitBidForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tender = section.tender
    now = clock.now()
    bids = list(
        Bid.objects.filter(section=section, organisation=org)
        .select_related("section__tender")
        .order_by("-version")
    )
    valid = next((b for b in bids if b.status == Bid.Status.VALID), None)
    accepting = tender.status == State.PUBLISHED and now < tender.bid_deadline
    message = services.commitment_message(
        section, org, "<ciphertext_sha256>", "<commitment>"
    ).decode()
    context = {
        "section": section,
        "tender": tender,
        "organisation": org,
        "deadline": _when(tender.bid_deadline),
        "now": _when(now),
        "accepting": accepting,
        "obtained": DocumentObtainer.objects.filter(tender=tender, organisation=org).exists(),
        "valid": _row(valid) if valid is not None else None,
        "history": [_row(b) for b in bids if b is not valid],
        "form": form or SubmitBidForm(section_id=section.pk),
        "commitment_message": message,
        "chunk_mib": services.CHUNK_BYTES // (1024 * 1024),
        "max_mib": services.max_bid_bytes() // (1024 * 1024),
        "platform_url": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "bidding/submit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the section's submission page. POST: upload the sealed envelope and commit the bid."""
    section = _section(pk)
    org = _bidder_org(request)
    if org is None:
        return _refused(request, _("Only the staff of a bidder submit bids."))
    if request.method == "GET":
        return _render_submit(request, section, org)
    form = SubmitBidForm(request.POST, request.FILES, section_id=section.pk)
    if form.is_valid():
        data = form.cleaned_data
        envelope = data["envelope"]
        try:
            upload = services.start_upload(
                request.user, section, size=data["size"], sha256=data["sha256"]
            )
            envelope.seek(0)
            offset = 0
            while offset < data["size"]:
                length = min(services.CHUNK_BYTES, data["size"] - offset)
                services.append_chunk(
                    request.user,
                    upload.pk,
                    offset=offset,
                    stream=cast(IO[bytes], envelope),
                    length=length,
                )
                offset += length
            bid = services.commit_bid(
                request.user,
                upload.pk,
                suite=data["sidecar"]["suite"],
                commitment=data["sidecar"]["commitment"],
                signature=data["signature"],
                public_key=data["public_key"],
            )
        except DomainError as error:
            _refuse(form, error)
        else:
            messages.success(
                request,
                _(
                    "Your bid is received (submission %(version)d) at %(at)s. Keep the receipt: "
                    "it proves what you submitted and when."
                )
                % {"version": bid.version, "at": _when(bid.committed_at)},
            )
            return redirect(_submit_url(section, "my-bid"))
    return _render_submit(request, section, org, form, status=422)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw the bidder's valid bid before the deadline (撤回)."""
    org = _bidder_org(request)
    if org is None:
        return _refused(request, _("Only the staff of a bidder withdraw bids."))
    bid = get_object_or_404(
        Bid.objects.select_related("section__tender"),
        pk=pk,
        organisation__in=[m.organisation_id for m in memberships(request.user, Role.BIDDER_STAFF)],
    )
    try:
        services.withdraw_bid(request.user, bid)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Your bid is withdrawn. You may submit a new one until the deadline."),
        )
    return redirect(_submit_url(bid.section, "my-bid"))


@login_required
@require_safe
def my_bids(request: HttpRequest) -> HttpResponse:
    """The organisation's bids, every submission with its status and receipt (回执)."""
    try:
        bids = services.my_bids(request.user)
    except DomainError as error:
        return _refused(request, error)
    rows = [_row(b) for b in sorted(bids, key=lambda b: (b.committed_at, b.pk), reverse=True)]
    return render(
        request,
        "bidding/my_bids.html",
        {
            "rows": rows,
            "verifier_key": keys.log_verifier_key(),
            "platform_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )
