"""Deposits and e-guarantees API (``/api/v1/deposits/``). Thin over ``services`` and
``guarantees``. Amounts are decimal strings in yuan with two places; times are ISO 8601.

* bidders: the basic account, sub-accounts and their status, guarantees (register a signed file,
  or apply → pay → issue through a registered issuer);
* centre staff: bank statements (CSV), refunds (export, confirmations), issuers, claims' answers;
* banks: ``POST /deposits/banks/{bank}/credits``, authenticated by its HMAC signature only;
* the opening and supervision: a bidder's deposit status, shared payer accounts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status, UploadedFile
from pydantic import PlainSerializer

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import has_role, signed_in
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import NotAllowed, NotFound
from openbid.deposits import guarantees, services
from openbid.deposits.models import (
    BasicAccount,
    CreditLine,
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeIssuer,
    Refund,
    SubAccount,
)
from openbid.tendering.models import Section, Tender

router = Router(tags=["deposits"])

Yuan = Annotated[
    Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="always")
]


class BasicAccountIn(Schema):
    bank_name: str
    account_name: str
    account_number: str
    sme: bool = False


class BasicAccountOut(Schema):
    bank_name: str
    account_name: str
    account_number: str
    sme: bool
    registered_at: dt.datetime


class SubAccountOut(Schema):
    id: int
    number: str
    tender: int
    section: int
    bank_name: str
    account_name: str
    base_amount: Yuan
    amount_due: Yuan
    reduction_percent: Yuan
    credit_grade: str
    reduction_reason: str
    policy_basis: str
    received: Yuan
    status: str
    reasons: list[str]
    refund_due_on: dt.date | None


class LineOut(Schema):
    bank_reference: str
    outcome: str
    match: str
    message: str


class IntakeOut(Schema):
    statement: int | None
    new: int
    duplicates: int
    lines: list[LineOut]


class StatusOut(Schema):
    status: str
    ok: bool
    reasons: list[str]
    amount_due: Yuan
    received: Yuan
    guarantee: str | None


class RefundOut(Schema):
    id: int
    bank_reference: str
    to_account: str
    principal: Yuan
    reason: str
    rule: str
    due_on: dt.date
    status: str
    value_date: dt.date | None
    interest_days: int | None
    interest: Yuan | None
    total: Yuan | None
    completed_at: dt.datetime | None
    overdue: bool


class ConfirmIn(Schema):
    bank_reference: str
    completed_at: dt.datetime


class IssuerIn(Schema):
    name: str
    kind: str
    certificate_pem: str
    intermediates_pem: str = ""
    api_url: str = ""
    fee_percent: str = "0"


class IssuerOut(Schema):
    id: int
    name: str
    kind: str
    credit_code: str
    fingerprint: str
    suite: str
    api_url: str
    fee_percent: str
    active: bool


class GuaranteeOut(Schema):
    id: int
    number: str
    issuer: str
    section: int
    bidder: str
    amount: Yuan
    valid_from: dt.date
    valid_until: dt.date
    status: str
    document: str
    signature: str


class ApplicationIn(Schema):
    section: int
    issuer: int


class PayIn(Schema):
    payment_reference: str


class ApplicationOut(Schema):
    id: int
    section: int
    issuer: str
    amount: Yuan
    valid_from: dt.date
    valid_until: dt.date
    fee: Yuan
    status: str
    failure: str
    guarantee: int | None
    invoice_number: str
    invoice_amount: Yuan | None
    invoice_issued_on: dt.date | None
    request_note: str


class ClaimIn(Schema):
    amount: str
    reason: str


class AnswerIn(Schema):
    outcome: str
    answer: str


class ClaimOut(Schema):
    id: int
    guarantee: int
    amount: Yuan
    reason: str
    outcome: str
    answer: str
    claimed_at: dt.datetime
    answered_at: dt.datetime | None


class PayerOut(Schema):
    payer_account: str
    bidders: list[str]


def _basic_out(b: BasicAccount) -> dict[str, Any]:
    return {
        "bank_name": b.bank_name,
        "account_name": b.account_name,
        "account_number": b.account_number,
        "sme": b.sme,
        "registered_at": b.registered_at,
    }


def sub_account_out(sub: SubAccount) -> dict[str, Any]:
    from django.conf import settings

    status = services.status_for(sub.section, sub.organisation)
    return {
        "id": sub.pk,
        "number": sub.number,
        "tender": sub.section.tender_id,
        "section": sub.section_id,
        "bank_name": settings.OPENBID_DEPOSIT_BANK_NAME,
        "account_name": settings.OPENBID_DEPOSIT_ACCOUNT_NAME,
        "base_amount": sub.base_amount,
        "amount_due": sub.amount_due,
        "reduction_percent": sub.reduction_percent,
        "credit_grade": sub.credit_grade,
        "reduction_reason": sub.reduction_reason,
        "policy_basis": sub.policy_basis,
        "received": services.received(sub),
        "status": status.status,
        "reasons": list(status.reasons),
        "refund_due_on": sub.refund_due_on,
    }


def _intake_out(result: services.IntakeResult) -> dict[str, Any]:
    return {
        "statement": result.statement.pk if result.statement else None,
        "new": result.new,
        "duplicates": result.duplicates,
        "lines": [
            {
                "bank_reference": r.bank_reference,
                "outcome": r.outcome,
                "match": r.match,
                "message": r.message,
            }
            for r in result.results
        ],
    }


def refund_out(r: Refund) -> dict[str, Any]:
    return {
        "id": r.pk,
        "bank_reference": r.line.bank_reference,
        "to_account": r.line.payer_account,
        "principal": r.line.amount,
        "reason": r.reason,
        "rule": r.rule,
        "due_on": r.due_on,
        "status": r.status,
        "value_date": r.value_date,
        "interest_days": r.interest_days,
        "interest": r.interest,
        "total": r.total,
        "completed_at": r.completed_at,
        "overdue": r.status != Refund.Status.COMPLETED and r.due_on < clock.today(),
    }


def _issuer_out(i: GuaranteeIssuer) -> dict[str, Any]:
    return {
        "id": i.pk,
        "name": i.name,
        "kind": i.kind,
        "credit_code": i.credit_code,
        "fingerprint": i.fingerprint,
        "suite": i.suite,
        "api_url": i.api_url,
        "fee_percent": str(i.fee_percent),
        "active": i.active,
    }


def _guarantee_out(g: Guarantee) -> dict[str, Any]:
    return {
        "id": g.pk,
        "number": g.number,
        "issuer": g.issuer.name,
        "section": g.section_id,
        "bidder": g.organisation.credit_code,
        "amount": g.amount,
        "valid_from": g.valid_from,
        "valid_until": g.valid_until,
        "status": g.status,
        "document": g.document,
        "signature": g.signature,
    }


def _application_out(a: GuaranteeApplication) -> dict[str, Any]:
    guarantee = Guarantee.objects.filter(application=a).first()
    return {
        "id": a.pk,
        "section": a.section_id,
        "issuer": a.issuer.name,
        "amount": a.amount,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "fee": a.fee,
        "status": a.status,
        "failure": a.failure,
        "guarantee": guarantee.pk if guarantee else None,
        "invoice_number": a.invoice_number,
        "invoice_amount": a.invoice_amount,
        "invoice_issued_on": a.invoice_issued_on,
        "request_note": a.request_note,
    }


def _claim_out(c: GuaranteeClaim) -> dict[str, Any]:
    return {
        "id": c.pk,
        "guarantee": c.guarantee_id,
        "amount": c.amount,
        "reason": c.reason,
        "outcome": c.outcome,
        "answer": c.answer,
        "claimed_at": c.claimed_at,
        "answered_at": c.answered_at,
    }


def _require_staff(request: HttpRequest) -> None:
    if not services.is_deposit_staff(request.user):
        raise NotAllowed(_("This is for trading centre staff."), rule="role_required")


# --- bidders --------------------------------------------------------------------------------------


@router.get("/deposits/basic-account", response=BasicAccountOut | None, summary="Our basic account")
def get_basic_account(request: HttpRequest) -> dict[str, Any] | None:
    from openbid.accounts.permissions import memberships

    membership = memberships(signed_in(request.user), Role.BIDDER_STAFF).order_by("id").first()
    if membership is None:
        raise NotAllowed(_("This is for bidders' staff."), rule="role_required")
    basic = services.active_basic_account(membership.organisation)
    return _basic_out(basic) if basic else None


@router.post(
    "/deposits/basic-account", response={201: BasicAccountOut}, summary="Register our basic account"
)
def post_basic_account(request: HttpRequest, payload: BasicAccountIn) -> Status[dict[str, Any]]:
    account = services.register_basic_account(request.user, **payload.dict())
    return Status(201, _basic_out(account))


@router.get("/deposits/sub-accounts", response=list[SubAccountOut], summary="Our sub-accounts")
def list_sub_accounts(request: HttpRequest) -> list[dict[str, Any]]:
    return [sub_account_out(s) for s in services.visible_sub_accounts(request.user)]


@router.post(
    "/deposits/sections/{section_id}/sub-account",
    response={200: SubAccountOut},
    summary="Open (or look up) our sub-account for a section",
)
def open_sub_account(request: HttpRequest, section_id: int) -> dict[str, Any]:
    section = get_object_or_404(Section, pk=section_id)
    return sub_account_out(services.open_sub_account(request.user, section))


@router.get(
    "/deposits/sections/{section_id}/status/{credit_code}",
    response=StatusOut,
    summary="A bidder's deposit status for a section (as found at the bid deadline)",
)
def deposit_status(request: HttpRequest, section_id: int, credit_code: str) -> dict[str, Any]:
    """Centre staff and regulators; the tender's manager after the bid deadline; the bidder
    itself."""
    section = get_object_or_404(Section.objects.select_related("tender__project"), pk=section_id)
    org = get_object_or_404(Organisation, credit_code=credit_code.upper())
    user = signed_in(request.user)
    allowed = has_role(user, Role.CENTRE_STAFF, Role.REGULATOR) or has_role(
        user, Role.BIDDER_STAFF, organisation=org
    )
    if not allowed and clock.now() >= section.tender.bid_deadline:
        from openbid.tendering.services import require_manager

        require_manager(user, section.tender.project, _("Reading a deposit status"))
        allowed = True
    if not allowed:
        raise NotAllowed(
            _("Who put up a deposit stays secret until the opening."), rule="obtainers_secret"
        )
    status = services.status_for(section, org)
    return {
        "status": status.status,
        "ok": status.ok,
        "reasons": list(status.reasons),
        "amount_due": status.amount_due,
        "received": status.received,
        "guarantee": status.guarantee.number if status.guarantee else None,
    }


# --- banks and staff ------------------------------------------------------------------------------


@router.post(
    "/deposits/banks/{bank}/credits",
    response=IntakeOut,
    auth=None,
    summary="Bank webhook: credit lines (HMAC-signed)",
)
def bank_webhook(request: HttpRequest, bank: str) -> dict[str, Any]:
    """Headers ``X-Openbid-Timestamp`` (Unix seconds) and ``X-Openbid-Signature``
    (``sha256=`` + hex HMAC-SHA256 over ``<timestamp>.<raw body>`` with the bank's secret).
    See docs/operators/deposits.md."""
    result = services.receive_webhook(
        bank=bank,
        body=request.body,
        timestamp=request.headers.get("X-Openbid-Timestamp", ""),
        signature=request.headers.get("X-Openbid-Signature", ""),
    )
    return _intake_out(result)


@router.post(
    "/deposits/statements", response={201: IntakeOut}, summary="Import a bank statement (CSV)"
)
def import_statement(
    request: HttpRequest,
    bank: Form[str],
    file: UploadedFile = File(...),  # noqa: B008 - ninja's parameter marker
) -> Status[dict[str, Any]]:
    data = file.read(services.MAX_STATEMENT_BYTES + 1)
    result = services.import_statement(request.user, bank=bank, data=data, filename=file.name or "")
    return Status(201, _intake_out(result))


@router.get("/deposits/unmatched", response=list[LineOut], summary="Credit lines not matched")
def unmatched(request: HttpRequest) -> list[dict[str, Any]]:
    _require_staff(request)
    return [
        {
            "bank_reference": f"{line.bank}:{line.bank_reference}",
            "outcome": "recorded",
            "match": line.match,
            "message": services.line_message(line),
        }
        for line in CreditLine.objects.filter(match=CreditLine.Match.UNMATCHED)
    ]


@router.get("/deposits/refunds", response=list[RefundOut], summary="Refunds")
def list_refunds(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    _require_staff(request)
    qs = Refund.objects.select_related("line").order_by("due_on", "id")
    if status:
        qs = qs.filter(status=status)
    return [refund_out(r) for r in qs[:1000]]


@router.post("/deposits/refunds/export", summary="Export the refund instructions due (CSV)")
def export_refunds(request: HttpRequest) -> HttpResponse:
    batch = services.export_refunds(request.user)
    response = HttpResponse(batch.csv, content_type="text/csv; charset=utf-8", status=201)
    response["Content-Disposition"] = f'attachment; filename="refunds-{batch.pk}.csv"'
    return response


@router.post(
    "/deposits/refunds/{refund_id}/confirm", response=RefundOut, summary="Confirm a refund"
)
def confirm_refund(request: HttpRequest, refund_id: int, payload: ConfirmIn) -> dict[str, Any]:
    refund = get_object_or_404(Refund, pk=refund_id)
    return refund_out(services.confirm_refund(request.user, refund, **payload.dict()))


@router.post(
    "/deposits/refunds/confirmations",
    response=list[RefundOut],
    summary="Import the bank's refund confirmations (CSV)",
)
def import_confirmations(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008 - ninja's parameter marker
) -> list[dict[str, Any]]:
    done = services.import_refund_confirmations(request.user, file.read(10 * 1024 * 1024))
    return [refund_out(r) for r in done]


@router.get(
    "/deposits/tenders/{tender_id}/shared-payers",
    response=list[PayerOut],
    summary="Payer accounts used by more than one bidder",
)
def shared_payers(request: HttpRequest, tender_id: int) -> list[dict[str, Any]]:
    if not has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR):
        raise NotAllowed(
            _("This is for trading centre staff and regulators."), rule="role_required"
        )
    tender = get_object_or_404(Tender, pk=tender_id)
    return [
        {"payer_account": payer, "bidders": [o.credit_code for o in orgs]}
        for payer, orgs in services.shared_payer_accounts(tender).items()
    ]


# --- guarantees -----------------------------------------------------------------------------------


@router.get("/guarantees/issuers", response=list[IssuerOut], summary="Guarantee issuers")
def list_issuers(request: HttpRequest) -> list[dict[str, Any]]:
    return [_issuer_out(i) for i in GuaranteeIssuer.objects.filter(active=True)]


@router.post("/guarantees/issuers", response={201: IssuerOut}, summary="Register an issuer")
def post_issuer(request: HttpRequest, payload: IssuerIn) -> Status[dict[str, Any]]:
    return Status(201, _issuer_out(guarantees.register_issuer(request.user, **payload.dict())))


@router.post("/guarantees", response={201: GuaranteeOut}, summary="Register a signed e-guarantee")
def post_guarantee(request: HttpRequest) -> Status[dict[str, Any]]:
    """The body is the issuer's file: ``{"guarantee": {...}, "signature": "<base64>"}``."""
    return Status(201, _guarantee_out(guarantees.register_guarantee(request.user, request.body)))


@router.get("/guarantees", response=list[GuaranteeOut], summary="Our e-guarantees")
def list_guarantees(request: HttpRequest) -> list[dict[str, Any]]:
    from openbid.accounts.permissions import memberships

    orgs = [m.organisation_id for m in memberships(signed_in(request.user), Role.BIDDER_STAFF)]
    qs = Guarantee.objects.filter(organisation_id__in=orgs).select_related("issuer", "organisation")
    return [_guarantee_out(g) for g in qs]


@router.get("/guarantees/{int:guarantee_id}", response=GuaranteeOut, summary="One e-guarantee")
def get_guarantee(request: HttpRequest, guarantee_id: int) -> dict[str, Any]:
    guarantee = get_object_or_404(Guarantee, pk=guarantee_id)
    if not guarantees.can_see_guarantee(request.user, guarantee):
        raise NotFound(_("Not found."), rule="exists")
    return _guarantee_out(guarantee)


@router.post(
    "/guarantees/applications", response={201: ApplicationOut}, summary="Apply for an e-guarantee"
)
def post_application(request: HttpRequest, payload: ApplicationIn) -> Status[dict[str, Any]]:
    section = get_object_or_404(Section, pk=payload.section)
    issuer = get_object_or_404(GuaranteeIssuer, pk=payload.issuer)
    return Status(
        201, _application_out(guarantees.apply_for_guarantee(request.user, section, issuer))
    )


def _application(request: HttpRequest, pk: int) -> GuaranteeApplication:
    from openbid.accounts.permissions import memberships

    orgs = [m.organisation_id for m in memberships(signed_in(request.user), Role.BIDDER_STAFF)]
    return get_object_or_404(GuaranteeApplication, pk=pk, organisation_id__in=orgs)


@router.post(
    "/guarantees/applications/{application_id}/pay",
    response=ApplicationOut,
    summary="Record the fee payment",
)
def pay(request: HttpRequest, application_id: int, payload: PayIn) -> dict[str, Any]:
    app = guarantees.pay_guarantee_fee(
        request.user,
        _application(request, application_id),
        payment_reference=payload.payment_reference,
    )
    return _application_out(app)


@router.post(
    "/guarantees/applications/{application_id}/issue",
    response=ApplicationOut,
    summary="Receive the guarantee from the issuer",
)
def issue(request: HttpRequest, application_id: int) -> dict[str, Any]:
    app = guarantees.issue_guarantee(request.user, _application(request, application_id))
    return _application_out(app)


@router.post(
    "/guarantees/{int:guarantee_id}/claims",
    response={201: ClaimOut},
    summary="Claim on a guarantee",
)
def post_claim(request: HttpRequest, guarantee_id: int, payload: ClaimIn) -> Status[dict[str, Any]]:
    guarantee = get_object_or_404(Guarantee, pk=guarantee_id)
    claim = guarantees.claim_guarantee(
        request.user, guarantee, amount=payload.amount, reason=payload.reason
    )
    return Status(201, _claim_out(claim))


@router.post(
    "/guarantees/claims/{claim_id}/answer", response=ClaimOut, summary="Record the issuer's answer"
)
def answer_claim(request: HttpRequest, claim_id: int, payload: AnswerIn) -> dict[str, Any]:
    claim = get_object_or_404(GuaranteeClaim, pk=claim_id)
    return _claim_out(guarantees.answer_claim(request.user, claim, **payload.dict()))
