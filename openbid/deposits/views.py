"""Deposit and guarantee pages. Thin: every change goes through ``services`` or ``guarantees``.

* the bidder's page: its basic account, sub-accounts with the amount required and its basis, the
  money received and its status, refunds; its e-guarantees and one-stop applications;
* the staff page: statements imported, unmatched lines, refunds due and late, the export for the
  bank and the import of its confirmations, the issuers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import memberships
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import DomainError
from openbid.deposits import guarantees, services
from openbid.deposits.forms import (
    ApplyForm,
    BasicAccountForm,
    ConfirmationsForm,
    GuaranteeFileForm,
    PayForm,
    StatementForm,
)
from openbid.deposits.models import (
    CreditLine,
    Guarantee,
    GuaranteeApplication,
    GuaranteeIssuer,
    Refund,
    RefundBatch,
    Statement,
)
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Section, Tender


def _refused(request: HttpRequest, message: Any, status: int = 403) -> HttpResponse:
    return render(request, "tendering/refused.html", {"message": str(message)}, status=status)


def _bidder_org(request: HttpRequest) -> Organisation | None:
    membership = memberships(request.user, Role.BIDDER_STAFF).order_by("id").first()
    return membership.organisation if membership is not None else None


def _open_sections(org: Organisation) -> list[Section]:
    """Sections of tenders still accepting bids whose documents the bidder obtained."""
    tenders = DocumentObtainer.objects.filter(
        organisation=org, tender__status=State.PUBLISHED, tender__bid_deadline__gt=clock.now()
    ).values_list("tender_id", flat=True)
    return list(
        Section.objects.filter(tender_id__in=list(tenders))
        .exclude(tender__deposit_form=Tender.DepositForm.WAIVED)
        .select_related("tender")
        .order_by("tender_id", "number")
    )


def _apply_form(org: Organisation, data: Any = None) -> ApplyForm:
    sections = [(s.pk, f"{s.tender.title} · {s.number}. {s.name}") for s in _open_sections(org)]
    issuers = [
        (i.pk, f"{i.name} ({i.fee_percent}%)")
        for i in GuaranteeIssuer.objects.filter(active=True).exclude(api_url="")
    ]
    return ApplyForm(data, sections=sections, issuers=issuers)


def _render_mine(
    request: HttpRequest, org: Organisation, forms: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    forms = forms or {}
    basic = services.active_basic_account(org)
    subs = []
    for sub in services.visible_sub_accounts(request.user).filter(organisation=org):
        state = services.status_for(sub.section, org)
        subs.append(
            {
                "sub": sub,
                "received": services.received(sub),
                "status": state,
                "lines": [(line, services.line_message(line)) for line in sub.lines.all()],
                "refunds": Refund.objects.filter(line__sub_account=sub).select_related("line"),
            }
        )
    open_sections = _open_sections(org)
    have = {row["sub"].section_id for row in subs}
    context = {
        "org": org,
        "basic": basic,
        "basic_form": forms.get("basic")
        or BasicAccountForm(
            initial={
                "account_name": org.name,
                **(
                    {
                        "bank_name": basic.bank_name,
                        "account_number": basic.account_number,
                        "sme": basic.sme,
                    }
                    if basic
                    else {}
                ),
            }
        ),
        "subs": subs,
        "can_open": [
            s
            for s in open_sections
            if s.pk not in have and s.tender.deposit_form == Tender.DepositForm.CASH_OR_GUARANTEE
        ],
        "guarantees": Guarantee.objects.filter(organisation=org).select_related(
            "issuer", "section__tender"
        ),
        "applications": GuaranteeApplication.objects.filter(organisation=org).select_related(
            "issuer", "section__tender"
        ),
        "apply_form": forms.get("apply") or _apply_form(org),
        "file_form": forms.get("file") or GuaranteeFileForm(),
        "pay_form": PayForm(),
        "bank_name": settings.OPENBID_DEPOSIT_BANK_NAME,
        "account_name": settings.OPENBID_DEPOSIT_ACCOUNT_NAME,
    }
    return render(request, "deposits/mine.html", context, status=status)


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    org = _bidder_org(request)
    if org is None:
        return _refused(request, _("This page is for the staff of bidders."))
    return _render_mine(request, org)


def _bidder_post(request: HttpRequest) -> Organisation | HttpResponse:
    org = _bidder_org(request)
    if org is None:
        return _refused(request, _("This page is for the staff of bidders."))
    return org


@login_required
@require_POST
def basic_account(request: HttpRequest) -> HttpResponse:
    org = _bidder_post(request)
    if isinstance(org, HttpResponse):
        return org
    form = BasicAccountForm(request.POST)
    if form.is_valid():
        try:
            services.register_basic_account(request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Your basic account is registered."))
            return redirect("deposits:mine")
    return _render_mine(request, org, {"basic": form}, status=422)


@login_required
@require_POST
def open_sub_account(request: HttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(Section, pk=pk)
    try:
        sub = services.open_sub_account(request.user, section)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Your sub-account for this section is %(number)s.") % {"number": sub.number}
        )
    return redirect("deposits:mine")


@login_required
@require_POST
def register_guarantee(request: HttpRequest) -> HttpResponse:
    org = _bidder_post(request)
    if isinstance(org, HttpResponse):
        return org
    form = GuaranteeFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            guarantee = guarantees.register_guarantee(
                request.user, form.cleaned_data["file"].read(guarantees.MAX_ENVELOPE_BYTES + 1)
            )
        except DomainError as error:
            form.add_error("file", str(error))
        else:
            messages.success(
                request,
                _("E-guarantee %(number)s is verified and registered.")
                % {"number": guarantee.number},
            )
            return redirect("deposits:mine")
    return _render_mine(request, org, {"file": form}, status=422)


@login_required
@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    org = _bidder_post(request)
    if isinstance(org, HttpResponse):
        return org
    form = _apply_form(org, request.POST)
    if form.is_valid():
        try:
            app = guarantees.apply_for_guarantee(
                request.user,
                get_object_or_404(Section, pk=form.cleaned_data["section"]),
                get_object_or_404(GuaranteeIssuer, pk=form.cleaned_data["issuer"]),
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Applied. Pay the fee of %(fee)s yuan to the issuer, then record the payment.")
                % {"fee": app.fee},
            )
            return redirect("deposits:mine")
    return _render_mine(request, org, {"apply": form}, status=422)


def _own_application(request: HttpRequest, pk: int) -> GuaranteeApplication:
    orgs = [m.organisation_id for m in memberships(request.user, Role.BIDDER_STAFF)]
    return get_object_or_404(GuaranteeApplication, pk=pk, organisation_id__in=orgs)


@login_required
@require_POST
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    app = _own_application(request, pk)
    form = PayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the payment reference."))
        return redirect("deposits:mine")
    try:
        guarantees.pay_guarantee_fee(
            request.user, app, payment_reference=form.cleaned_data["payment_reference"]
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The fee payment is recorded."))
    return redirect("deposits:mine")


@login_required
@require_POST
def issue(request: HttpRequest, pk: int) -> HttpResponse:
    app = _own_application(request, pk)
    try:
        app = guarantees.issue_guarantee(request.user, app)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        if app.status == GuaranteeApplication.Status.ISSUED:
            messages.success(request, _("The issuer issued the e-guarantee; it is registered."))
        else:
            messages.error(request, _("The issuer refused: %(reason)s") % {"reason": app.failure})
    return redirect("deposits:mine")


# --- staff ------------------------------------------------------------------------------------


def _render_staff(
    request: HttpRequest, forms: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    forms = forms or {}
    today = clock.today()
    context = {
        "statements": Statement.objects.all()[:20],
        "unmatched": [
            (line, services.line_message(line))
            for line in CreditLine.objects.filter(match=CreditLine.Match.UNMATCHED)[:200]
        ],
        "pending": Refund.objects.exclude(status=Refund.Status.COMPLETED)
        .select_related("line__sub_account__section__tender", "line__sub_account__organisation")
        .order_by("due_on", "id")[:500],
        "overdue": list(services.overdue_refunds()[:500]),
        "batches": RefundBatch.objects.all()[:10],
        "issuers": GuaranteeIssuer.objects.all(),
        "statement_form": forms.get("statement")
        or StatementForm(initial={"bank": settings.OPENBID_DEPOSIT_BANK_CODE}),
        "confirmations_form": forms.get("confirmations") or ConfirmationsForm(),
        "today": today,
        "rate": settings.OPENBID_DEPOSIT_INTEREST_RATE_PERCENT,
        "basis": settings.OPENBID_DEPOSIT_INTEREST_DAY_BASIS,
    }
    return render(request, "deposits/staff.html", context, status=status)


@login_required
@require_safe
def staff(request: HttpRequest) -> HttpResponse:
    if not services.is_deposit_staff(request.user):
        return _refused(request, _("This page is for trading centre staff."))
    return _render_staff(request)


@login_required
@require_POST
def staff_import(request: HttpRequest) -> HttpResponse:
    if not services.is_deposit_staff(request.user):
        return _refused(request, _("This page is for trading centre staff."))
    form = StatementForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.import_statement(
                request.user,
                bank=form.cleaned_data["bank"],
                data=upload.read(services.MAX_STATEMENT_BYTES + 1),
                filename=upload.name or "",
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request,
                _("%(new)d new credit lines recorded, %(dup)d already recorded.")
                % {"new": result.new, "dup": result.duplicates},
            )
            return redirect("deposits:staff")
    return _render_staff(request, {"statement": form}, status=422)


@login_required
@require_POST
def staff_export(request: HttpRequest) -> HttpResponse:
    try:
        batch = services.export_refunds(request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("deposits:staff")
    messages.success(request, _("Refund batch %(id)s exported.") % {"id": batch.pk})
    return redirect("deposits:staff")


@login_required
@require_safe
def batch_csv(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.is_deposit_staff(request.user):
        return _refused(request, _("This page is for trading centre staff."))
    batch = get_object_or_404(RefundBatch, pk=pk)
    response = HttpResponse(batch.csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="refunds-{batch.pk}.csv"'
    return response


@login_required
@require_POST
def staff_confirmations(request: HttpRequest) -> HttpResponse:
    if not services.is_deposit_staff(request.user):
        return _refused(request, _("This page is for trading centre staff."))
    form = ConfirmationsForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            done = services.import_refund_confirmations(
                request.user, form.cleaned_data["file"].read(10 * 1024 * 1024)
            )
        except DomainError as error:
            form.add_error("file", str(error))
        else:
            messages.success(
                request, _("%(count)d refunds confirmed as completed.") % {"count": len(done)}
            )
            return redirect("deposits:staff")
    return _render_staff(request, {"confirmations": form}, status=422)
