"""API of the award and the contract (``/api/v1/...``). Thin: every change is a service.

Public: a tender's award (publicities with their candidates and periods, decisions with method
and reasons, the result) and published contract versions. Signing uses the documents API
(``/documents/award-notice/{id}/signatures``, ``/documents/contract/{id}/signatures``) or
``openbid-bidder sign``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from openbid.accounts.permissions import has_role, memberships
from openbid.accounts.roles import Role
from openbid.award import services
from openbid.award.models import (
    AwardNotice,
    Contract,
    ContractTemplate,
    ContractVersion,
    Decision,
    Payment,
    PerformanceEvaluation,
    Publicity,
    WrittenReport,
)
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import NotAllowed, NotFound
from openbid.tendering.models import Tender

router = Router(tags=["award"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


def _tender(pk: int) -> Tender:
    tender = Tender.objects.select_related("project").filter(pk=pk).first()
    if tender is None:
        raise NotFound(_("No such tender."), field="tender", rule="exists")
    return tender


def _candidate(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "position": c.position,
        "rank": c.rank,
        "bidder": c.bidder.credit_code,
        "name": c.bidder.name,
        "price": str(c.price),
        "score": None if c.score is None else str(c.score),
        "evaluated_price": None if c.evaluated_price is None else str(c.evaluated_price),
        "disclosed": c.disclosed,
    }


def _decision(d: Decision) -> dict[str, Any]:
    return {
        "id": d.pk,
        "method": d.method,
        "status": d.status,
        "winner": d.winner.bidder.credit_code if d.winner else None,
        "reasons": d.reasons,
        "passed_over": d.passed_over,
        "votes": [
            {"member": v.member, "bidder": v.candidate.bidder.credit_code, "reason": v.reason}
            for v in d.votes.select_related("candidate__bidder")
        ],
        "draw": d.draw_id,
        "decided_at": d.decided_at,
        "text": d.text,
        "sha256": d.sha256,
    }


def _publicity(p: Publicity) -> dict[str, Any]:
    decision = Decision.objects.filter(publicity=p).first()
    return {
        "id": p.pk,
        "section": p.section.number,
        "report_sha256": p.report_sha256,
        "ranked": p.ranked,
        "published_at": p.published_at,
        "ends_at": p.ends_at,
        "days": p.days,
        "in_publicity": services.publicity_open(p),
        "candidates": [_candidate(c) for c in p.candidates.select_related("bidder")],
        "decision": _decision(decision) if decision else None,
    }


@router.get(
    "/tenders/{tender_id}/award",
    response=dict[str, Any],
    auth=PUBLIC,
    summary="A tender's candidate publicities and award decisions (public)",
)
def get_award(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    tender = _tender(tender_id)
    return {
        "tender": tender.pk,
        "status": tender.status,
        "suspended": services.award_blocked(tender),
        "publicities": [_publicity(p) for p in services.publicities_of(tender)],
        "contracts": [
            _contract(c, full=False)
            for c in Contract.objects.filter(decision__publicity__tender=tender)
        ],
    }


class SuspendIn(In):
    reason: str = Field(..., max_length=2000)


class ResumeIn(In):
    note: str = Field("", max_length=2000)


@router.post(
    "/tenders/{tender_id}/award/suspend",
    response={201: dict[str, Any]},
    summary="Suspend the award (an objection during the publicity)",
)
def suspend(request: HttpRequest, tender_id: int, payload: SuspendIn) -> Status[dict[str, Any]]:
    row = services.suspend_publicity(_tender(tender_id), payload.reason, by=request.user)
    return Status(
        201, {"suspension": row.pk, "reason": row.reason, "suspended_at": row.suspended_at}
    )


@router.post(
    "/tenders/{tender_id}/award/resume",
    response=dict[str, Any],
    summary="Resume the suspended award",
)
def resume(request: HttpRequest, tender_id: int, payload: ResumeIn) -> dict[str, Any]:
    row = services.resume_publicity(_tender(tender_id), by=request.user, note=payload.note)
    return {"suspension": row.pk, "resumed_at": row.resumed_at}


class PassOverIn(In):
    candidate: int | str
    reason: str = Field(..., description="gave_up | cannot_perform | ineligible (Reg art. 55)")
    explanation: str = Field(..., max_length=2000)


class VoteIn(In):
    member: str = Field(..., max_length=80)
    candidate: int | str
    reason: str = Field("", max_length=1000)


class DecisionIn(In):
    passed_over: list[PassOverIn] = Field(default_factory=list, max_length=3)
    votes: list[VoteIn] = Field(default_factory=list, max_length=99)
    winner: int | str | None = Field(None, description="collective deliberation: the candidate")
    reasons: str = Field("", max_length=5000)


def _publicity_of(pk: int) -> Publicity:
    return services.get_publicity(pk)


@router.post(
    "/award/publicities/{publicity_id}/decision",
    response={201: dict[str, Any]},
    summary="Decide the award of a section (the tenderer)",
)
def decide(request: HttpRequest, publicity_id: int, payload: DecisionIn) -> Status[dict[str, Any]]:
    decision = services.decide_award(
        request.user,
        _publicity_of(publicity_id),
        passed_over=[p.dict() for p in payload.passed_over],
        votes=[v.dict() for v in payload.votes],
        winner=payload.winner,
        reasons=payload.reasons,
    )
    return Status(201, _decision(decision))


def _notice(n: AwardNotice) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "recipient": n.recipient.credit_code,
        "sha256": n.sha256,
        "text": n.text,
        "prepared_at": n.prepared_at,
        "issued_at": n.issued_at,
    }


@router.post(
    "/award/decisions/{decision_id}/notices",
    response={201: list[dict[str, Any]]},
    summary="Prepare the award notice and the result notices",
)
def prepare(request: HttpRequest, decision_id: int) -> Status[list[dict[str, Any]]]:
    rows = services.prepare_notices(request.user, services.get_decision(decision_id))
    return Status(201, [_notice(n) for n in rows])


@router.get(
    "/award/notices",
    response=list[dict[str, Any]],
    summary="Award and result notices addressed to your organisation",
)
def my_notices(request: HttpRequest) -> list[dict[str, Any]]:
    orgs = [m.organisation_id for m in memberships(request.user, Role.BIDDER_STAFF)]
    rows = AwardNotice.objects.filter(recipient__in=orgs, issued_at__isnull=False).select_related(
        "recipient"
    )
    return [_notice(n) for n in rows]


@router.get(
    "/award/notices/{notice_id}",
    response=dict[str, Any],
    summary="A notice (its recipient, the tender's managers, centre staff, regulators)",
)
def get_notice(request: HttpRequest, notice_id: int) -> dict[str, Any]:
    notice = (
        AwardNotice.objects.select_related("recipient", "decision__publicity__tender__project")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None or not services.may_see_notice(request.user, notice):
        raise NotFound(_("No such notice."), field="notice", rule="exists")
    return _notice(notice)


def _report(r: WrittenReport) -> dict[str, Any]:
    return {
        "tender": r.tender_id,
        "title": r.tender.title,
        "decided_at": r.decided_at,
        "due_at": r.due_at,
        "filed_at": r.filed_at,
        "late": r.late,
        "warned_at": r.warned_at,
        "overdue_at": r.overdue_at,
        "sha256": r.sha256,
        "text": r.text,
    }


@router.post(
    "/tenders/{tender_id}/award/written-report",
    response={201: dict[str, Any]},
    summary="File the written report to the regulator (Law art. 47)",
)
def file_report(request: HttpRequest, tender_id: int) -> Status[dict[str, Any]]:
    return Status(201, _report(services.file_written_report(request.user, _tender(tender_id))))


@router.get(
    "/award/written-reports",
    response=list[dict[str, Any]],
    summary="Written reports with their due times and late flags (centre staff, regulators)",
)
def reports(request: HttpRequest, late: bool | None = None) -> list[dict[str, Any]]:
    if not has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR):
        raise NotAllowed(
            _("Written reports are for centre staff and regulators."), rule="role_required"
        )
    rows = WrittenReport.objects.select_related("tender")
    if late is True:
        rows = [r for r in rows if r.late or r.overdue_at is not None]  # type: ignore[assignment]
    return [_report(r) for r in rows]


class TemplateIn(In):
    name: str = Field(..., max_length=120)
    body: str = Field(..., max_length=100_000)
    kind: str = Field("", max_length=20)


def _template(t: ContractTemplate) -> dict[str, Any]:
    return {"id": t.pk, "name": t.name, "kind": t.kind, "body": t.body, "active": t.active}


@router.get(
    "/award/contract-templates",
    response=list[dict[str, Any]],
    auth=PUBLIC,
    summary="Contract templates in use",
)
def templates(request: HttpRequest) -> list[dict[str, Any]]:
    return [_template(t) for t in ContractTemplate.objects.filter(active=True)]


@router.post(
    "/award/contract-templates",
    response={201: dict[str, Any]},
    summary="Add a contract template (centre staff)",
)
def add_template(request: HttpRequest, payload: TemplateIn) -> Status[dict[str, Any]]:
    return Status(201, _template(services.create_template(request.user, **payload.dict())))


class ContractIn(In):
    template: int
    duration_days: int
    key_terms: str = Field(..., max_length=20_000)
    price: Decimal | None = None


class ChangeIn(In):
    reason: str = Field(..., max_length=2000)
    price: Decimal | None = None
    duration_days: int | None = None
    key_terms: str | None = Field(None, max_length=20_000)


class LateIn(In):
    reason: str = Field(..., max_length=2000)


def _version(v: ContractVersion) -> dict[str, Any]:
    return {
        "version": v.number,
        "price": str(v.price),
        "duration_days": v.duration_days,
        "key_terms": v.key_terms,
        "text": v.text,
        "sha256": v.sha256,
        "reason": v.reason,
        "created_at": v.created_at,
        "signed_at": v.signed_at,
        "published_at": v.published_at,
    }


def _contract(c: Contract, *, full: bool) -> dict[str, Any]:
    versions = c.versions.order_by("number")
    if not full:
        versions = versions.filter(published_at__isnull=False)
    return {
        "id": c.pk,
        "number": c.number,
        "tender": c.decision.publicity.tender_id,
        "tenderer": c.tenderer.credit_code,
        "winner": c.winner.credit_code,
        "due_at": c.due_at,
        "signed_at": c.signed_at,
        "late": c.late,
        "late_reason": c.late_reason,
        "versions": [_version(v) for v in versions],
    }


def _visible_contract(request: HttpRequest, pk: int) -> tuple[Contract, bool]:
    contract = services.get_contract(pk)
    full = services.may_see_contract(request.user, contract)
    if not full and contract.signed_at is None:
        raise NotFound(_("No such contract."), field="contract", rule="exists")
    return contract, full


@router.post(
    "/award/decisions/{decision_id}/contract",
    response={201: dict[str, Any]},
    summary="Draft the contract from a template",
)
def draft(request: HttpRequest, decision_id: int, payload: ContractIn) -> Status[dict[str, Any]]:
    contract = services.draft_contract(
        request.user,
        services.get_decision(decision_id),
        template=payload.template,
        duration_days=payload.duration_days,
        key_terms=payload.key_terms,
        price=None if payload.price is None else str(payload.price),
    )
    return Status(201, _contract(contract, full=True))


@router.get(
    "/award/contracts",
    response=list[dict[str, Any]],
    auth=PUBLIC,
    summary="Published contracts (合同订立公开)",
)
def contracts(request: HttpRequest) -> list[dict[str, Any]]:
    rows = Contract.objects.filter(signed_at__isnull=False).select_related(
        "decision__publicity", "tenderer", "winner"
    )
    return [_contract(c, full=False) for c in rows]


@router.get(
    "/award/contracts/{contract_id}",
    response=dict[str, Any],
    auth=PUBLIC,
    summary="A contract: published versions for everyone, every version for its parties",
)
def get_contract(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    contract, full = _visible_contract(request, contract_id)
    return _contract(contract, full=full)


@router.post(
    "/award/contracts/{contract_id}/changes",
    response={201: dict[str, Any]},
    summary="Change a contract: a new version with reasons, signed again",
)
def change(request: HttpRequest, contract_id: int, payload: ChangeIn) -> Status[dict[str, Any]]:
    version = services.change_contract(
        request.user,
        services.get_contract(contract_id),
        reason=payload.reason,
        price=None if payload.price is None else str(payload.price),
        duration_days=payload.duration_days,
        key_terms=payload.key_terms,
    )
    return Status(201, _version(version))


@router.post(
    "/award/contracts/{contract_id}/late-reason",
    response=dict[str, Any],
    summary="Record why the contract is signed after the statutory period",
)
def late_reason(request: HttpRequest, contract_id: int, payload: LateIn) -> dict[str, Any]:
    contract = services.record_late_reason(
        request.user, services.get_contract(contract_id), reason=payload.reason
    )
    return _contract(contract, full=True)


class EvaluationIn(In):
    milestone: str = Field(..., max_length=120)
    rating: PerformanceEvaluation.Rating
    comments: str = Field(..., max_length=5000)
    final: bool = False


def _evaluation(e: PerformanceEvaluation) -> dict[str, Any]:
    return {
        "id": e.pk,
        "milestone": e.milestone,
        "final": e.final,
        "rating": e.rating,
        "comments": e.comments,
        "evaluated_on": e.evaluated_on,
        "credit_record": e.credit_record.number if e.credit_record else None,
    }


@router.post(
    "/award/contracts/{contract_id}/performance",
    response={201: dict[str, Any]},
    summary="Evaluate the winner's performance (履约评价)",
)
def evaluate(
    request: HttpRequest, contract_id: int, payload: EvaluationIn
) -> Status[dict[str, Any]]:
    row = services.evaluate_performance(
        request.user,
        services.get_contract(contract_id),
        milestone=payload.milestone,
        rating=str(payload.rating),
        comments=payload.comments,
        final=payload.final,
    )
    return Status(201, _evaluation(row))


@router.post(
    "/award/performance/{evaluation_id}/credit",
    response={201: dict[str, Any]},
    summary="Record a performance evaluation in the credit context (centre staff, regulators)",
)
def to_credit(request: HttpRequest, evaluation_id: int) -> Status[dict[str, Any]]:
    row = PerformanceEvaluation.objects.filter(pk=evaluation_id).first()
    if row is None:
        raise NotFound(_("No such evaluation."), field="evaluation", rule="exists")
    record = services.forward_to_credit(request.user, row)
    return Status(201, {"credit_record": record.number, "category": record.category})


class PaymentIn(In):
    amount: Decimal
    paid_on: dt.date
    milestone: str = Field(..., max_length=120)
    reference: str = Field(..., max_length=80)


def _payment(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "amount": str(p.amount),
        "paid_on": p.paid_on,
        "milestone": p.milestone,
        "reference": p.reference,
        "recorded_at": p.recorded_at,
    }


@router.post(
    "/award/contracts/{contract_id}/payments",
    response={201: dict[str, Any]},
    summary="Record a payment under a contract (the tenderer)",
)
def pay(request: HttpRequest, contract_id: int, payload: PaymentIn) -> Status[dict[str, Any]]:
    row = services.record_payment(
        request.user,
        services.get_contract(contract_id),
        amount=str(payload.amount),
        paid_on=payload.paid_on,
        milestone=payload.milestone,
        reference=payload.reference,
    )
    return Status(201, _payment(row))


@router.get(
    "/award/contracts/{contract_id}/payments",
    response=dict[str, Any],
    summary="A contract's payments and their total (parties, managers, centre staff, regulators)",
)
def payments(
    request: HttpRequest,
    contract_id: int,
    milestone: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    contract = services.get_contract(contract_id)
    if not services.may_see_contract(request.user, contract):
        raise NotFound(_("No such contract."), field="contract", rule="exists")
    rows, total = services.payments_of(contract, milestone=milestone, since=since, until=until)
    return {"contract": contract.pk, "total": str(total), "payments": [_payment(p) for p in rows]}
