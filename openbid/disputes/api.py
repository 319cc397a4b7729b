"""Disputes API (``/api/v1/disputes/``). Thin over ``openbid.disputes.services``.

Public: published complaint decisions (complainants never named), a tender's active holds, the
competent regulator of a tender, handling figures. Signed in: objections and complaints of the
parties (objector or complainant, tenderer and agency, the regulator), each step of the handling,
and the feedback ledger. Times are ISO 8601 in China time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from openbid.core import holds
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import NotFound
from openbid.disputes import letters, services, timers
from openbid.disputes.models import Complaint, Feedback, InvestigationStep, Objection
from openbid.tendering.models import Tender

router = Router(tags=["disputes"])


def _tender(pk: int) -> Tender:
    found = Tender.objects.select_related("project").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such tender."), field="tender", rule="exists")
    return found


def _objection(request: HttpRequest, pk: int) -> Objection:
    found = Objection.objects.select_related("tender__project").filter(pk=pk).first()
    if found is None or not services.may_see_objection(request.user, found):
        raise NotFound(_("No such objection."), field="objection", rule="exists")
    return found


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    found = Complaint.objects.select_related("tender__project", "regulator").filter(pk=pk).first()
    if found is None or not services.may_see_complaint(request.user, found):
        raise NotFound(_("No such complaint."), field="complaint", rule="exists")
    return found


# --- objections -----------------------------------------------------------------------------------


class ObjectionIn(Schema):
    tender: int
    matter: str
    text: str = Field(..., max_length=10000)


class ObjectionOut(Schema):
    id: int
    reference: str
    tender: int
    matter: str
    status: str
    raised_by: str
    text: str
    raised_at: dt.datetime
    reply_due: dt.datetime
    reply: str
    changes_documents: bool
    replied_at: dt.datetime | None
    suspension_active: bool
    letters: list[str]


def _objection_out(o: Objection) -> dict[str, Any]:
    return {
        "id": o.pk,
        "reference": o.reference,
        "tender": o.tender_id,
        "matter": o.matter,
        "status": o.status,
        "raised_by": o.raised_by.credit_code,
        "text": o.text,
        "raised_at": o.raised_at,
        "reply_due": o.reply_due,
        "reply": o.reply,
        "changes_documents": o.changes_documents,
        "replied_at": o.replied_at,
        "suspension_active": o.suspensions.filter(released_at__isnull=True).exists(),
        "letters": [x.kind for x in letters.objection_letters(o)],
    }


@router.post("/objections", response={201: ObjectionOut}, summary="Raise an objection")
def raise_objection(request: HttpRequest, payload: ObjectionIn) -> Status[dict[str, Any]]:
    o = services.raise_objection(
        request.user, _tender(payload.tender), matter=payload.matter, text=payload.text
    )
    return Status(201, _objection_out(o))


@router.get("/objections/{pk}", response=ObjectionOut, summary="An objection (its parties)")
def get_objection(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _objection_out(_objection(request, pk))


class ReplyIn(Schema):
    reply: str = Field(..., max_length=10000)
    changes_documents: bool = False


@router.post("/objections/{pk}/reply", response=ObjectionOut, summary="Reply to an objection")
def reply_objection(request: HttpRequest, pk: int, payload: ReplyIn) -> dict[str, Any]:
    o = services.reply_objection(request.user, _objection(request, pk), **payload.dict())
    return _objection_out(o)


# --- complaints -------------------------------------------------------------------------------------


class ComplaintIn(Schema):
    tender: int
    matter: str
    knew_on: dt.date
    text: str = Field(..., max_length=20000)
    requests: str = Field(..., max_length=5000)


class StepOut(Schema):
    id: int
    kind: str
    by: str
    addressee: str | None
    request: int | None
    text: str
    due: dt.datetime | None
    ended_at: dt.datetime | None
    at: dt.datetime


class TimerOut(Schema):
    step: str
    rule: str
    article: str
    started_at: dt.datetime
    target_at: dt.datetime
    due_at: dt.datetime
    paused_at: dt.datetime | None
    done_at: dt.datetime | None


class ComplaintOut(Schema):
    id: int
    reference: str
    tender: int
    matter: str
    status: str
    complainant: str
    regulator: str
    knew_on: dt.date
    window_end: dt.datetime
    text: str
    requests: str
    filed_at: dt.datetime
    accept_due: dt.datetime
    accepted_at: dt.datetime | None
    rejected_at: dt.datetime | None
    rejection: str
    rejection_reason: str
    decide_due: dt.datetime | None
    decided_at: dt.datetime | None
    outcome: str
    findings: str
    measures: str
    penalty: str
    decision_number: str
    published_at: dt.datetime | None
    suspension_active: bool
    steps: list[StepOut]
    timers: list[TimerOut]
    letters: list[str]


def _step_out(s: InvestigationStep) -> dict[str, Any]:
    return {
        "id": s.pk,
        "kind": s.kind,
        "by": s.by_org.credit_code,
        "addressee": s.addressee.credit_code if s.addressee else None,
        "request": s.request_id,
        "text": s.text,
        "due": s.due,
        "ended_at": s.ended_at,
        "at": s.at,
    }


def _complaint_out(c: Complaint) -> dict[str, Any]:
    out = {
        f: getattr(c, f)
        for f in (
            "matter",
            "status",
            "knew_on",
            "window_end",
            "text",
            "requests",
            "filed_at",
            "accept_due",
            "accepted_at",
            "rejected_at",
            "rejection",
            "rejection_reason",
            "decide_due",
            "decided_at",
            "outcome",
            "findings",
            "measures",
            "penalty",
            "decision_number",
            "published_at",
        )
    }
    from openbid.disputes.models import Timer

    out.update(
        id=c.pk,
        reference=c.reference,
        tender=c.tender_id,
        complainant=c.complainant.credit_code,
        regulator=c.regulator.credit_code,
        suspension_active=c.suspensions.filter(released_at__isnull=True).exists(),
        steps=[_step_out(s) for s in c.steps.select_related("by_org", "addressee")],
        timers=[
            {
                f: getattr(t, f)
                for f in (
                    "step",
                    "rule",
                    "article",
                    "started_at",
                    "target_at",
                    "due_at",
                    "paused_at",
                    "done_at",
                )
            }
            for t in Timer.objects.filter(case=Timer.Case.COMPLAINT, case_id=c.pk)
        ],
        letters=[x.kind for x in letters.complaint_letters(c)],
    )
    return out


@router.post("/complaints", response={201: ComplaintOut}, summary="File a complaint")
def file_complaint(request: HttpRequest, payload: ComplaintIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    tender = _tender(data.pop("tender"))
    c = services.file_complaint(request.user, tender, **data)
    return Status(201, _complaint_out(c))


@router.get("/complaints/{pk}", response=ComplaintOut, summary="A complaint (its parties)")
def get_complaint(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _complaint_out(_complaint(request, pk))


@router.post("/complaints/{pk}/accept", response=ComplaintOut, summary="Accept (受理)")
def accept(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _complaint_out(services.accept_complaint(request.user, _complaint(request, pk)))


class RejectIn(Schema):
    ground: str
    reason: str = Field(..., max_length=5000)


@router.post("/complaints/{pk}/reject", response=ComplaintOut, summary="Do not accept")
def reject(request: HttpRequest, pk: int, payload: RejectIn) -> dict[str, Any]:
    c = services.reject_complaint(request.user, _complaint(request, pk), **payload.dict())
    return _complaint_out(c)


class RequestIn(Schema):
    addressee: str = Field(..., max_length=18)
    text: str = Field(..., max_length=5000)
    due_on: dt.date


@router.post("/complaints/{pk}/requests", response={201: StepOut}, summary="Request materials")
def request_materials(request: HttpRequest, pk: int, payload: RequestIn) -> Status[dict[str, Any]]:
    step = services.request_materials(request.user, _complaint(request, pk), **payload.dict())
    return Status(201, _step_out(step))


class TextIn(Schema):
    text: str = Field(..., max_length=20000)


@router.post(
    "/complaints/{pk}/requests/{step}/reply", response={201: StepOut}, summary="Reply to a request"
)
def reply_request(
    request: HttpRequest, pk: int, step: int, payload: TextIn
) -> Status[dict[str, Any]]:
    complaint = _complaint(request, pk)
    found = get_object_or_404(
        InvestigationStep, pk=step, complaint=complaint, kind=InvestigationStep.Kind.REQUEST
    )
    return Status(201, _step_out(services.reply_to_request(request.user, found, text=payload.text)))


@router.post("/complaints/{pk}/hearings", response={201: StepOut}, summary="Record a hearing")
def hearing(request: HttpRequest, pk: int, payload: TextIn) -> Status[dict[str, Any]]:
    step = services.record_hearing(request.user, _complaint(request, pk), text=payload.text)
    return Status(201, _step_out(step))


class ReasonIn(Schema):
    reason: str = Field(..., max_length=2000)


@router.post("/complaints/{pk}/pause", response={201: StepOut}, summary="Pause the decision period")
def pause(request: HttpRequest, pk: int, payload: ReasonIn) -> Status[dict[str, Any]]:
    step = services.pause_decision_clock(request.user, _complaint(request, pk), **payload.dict())
    return Status(201, _step_out(step))


@router.post("/complaints/{pk}/resume", response=ComplaintOut, summary="Resume the decision period")
def resume(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _complaint_out(services.resume_decision_clock(request.user, _complaint(request, pk)))


class SuspendIn(Schema):
    reason: str = Field(..., max_length=2000)
    steps: list[str] | None = None


@router.post("/complaints/{pk}/suspend", response=ComplaintOut, summary="Suspend the tender")
def suspend(request: HttpRequest, pk: int, payload: SuspendIn) -> dict[str, Any]:
    c = _complaint(request, pk)
    services.suspend_tender(request.user, c, **payload.dict())
    return _complaint_out(c)


@router.post("/complaints/{pk}/lift", response=ComplaintOut, summary="Lift the suspension")
def lift(request: HttpRequest, pk: int, payload: ReasonIn) -> dict[str, Any]:
    c = _complaint(request, pk)
    services.lift_suspension(request.user, c, **payload.dict())
    return _complaint_out(c)


class DecideIn(Schema):
    outcome: str
    findings: str = Field(..., max_length=20000)
    measures: str = Field("", max_length=5000)
    penalty: str = Field("", max_length=5000)
    decision_number: str = Field(..., max_length=120)
    credit_subject: str = Field("", max_length=18)
    credit_category: str = ""
    credit_valid_until: dt.date | None = None


@router.post("/complaints/{pk}/decide", response=ComplaintOut, summary="Decide and publish")
def decide(request: HttpRequest, pk: int, payload: DecideIn) -> dict[str, Any]:
    c = services.decide_complaint(request.user, _complaint(request, pk), **payload.dict())
    return _complaint_out(c)


class ReferIn(Schema):
    body: str
    body_name: str = Field(..., max_length=200)
    reference: str = Field(..., max_length=120)
    reason: str = Field(..., max_length=5000)


class ReferralOut(Schema):
    id: int
    body: str
    body_name: str
    reference: str
    at: dt.datetime


@router.post("/complaints/{pk}/referrals", response={201: ReferralOut}, summary="Record a referral")
def refer(request: HttpRequest, pk: int, payload: ReferIn) -> Status[dict[str, Any]]:
    r = services.refer_case(request.user, _complaint(request, pk), **payload.dict())
    return Status(
        201,
        {
            "id": r.pk,
            "body": r.body,
            "body_name": r.body_name,
            "reference": r.reference,
            "at": r.at,
        },
    )


# --- public ---------------------------------------------------------------------------------------


class DecisionOut(Schema):
    id: int
    decision_number: str
    regulator: str
    regulator_name: str
    tender: int
    tender_title: str
    project_code: str
    matter: str
    outcome: str
    findings: str
    measures: str
    penalty: str
    respondents: list[str]
    referrals: list[str]
    decided_at: dt.datetime
    published_at: dt.datetime
    text: str


def _decision_out(c: Complaint) -> dict[str, Any]:
    return {
        "id": c.pk,
        "decision_number": c.decision_number,
        "regulator": c.regulator.credit_code,
        "regulator_name": c.regulator.name,
        "tender": c.tender_id,
        "tender_title": c.tender.title,
        "project_code": c.tender.project.code,
        "matter": c.matter,
        "outcome": c.outcome,
        "findings": c.findings,
        "measures": c.measures,
        "penalty": c.penalty,
        "respondents": [o.credit_code for o in c.respondents.order_by("id")],
        "referrals": [f"{r.body}:{r.body_name}" for r in c.referrals.all()],
        "decided_at": c.decided_at,
        "published_at": c.published_at,
        "text": letters.render("complaint_decision", c, public=True),
    }


@router.get("/decisions", response=list[DecisionOut], auth=PUBLIC, summary="Published decisions")
def list_decisions(request: HttpRequest, limit: int = 100) -> list[dict[str, Any]]:
    """Complaint decisions as published, newest first; the complainant is never named."""
    return [_decision_out(c) for c in services.published_decisions()[: max(1, min(limit, 500))]]


@router.get("/decisions/{pk}", response=DecisionOut, auth=PUBLIC, summary="A published decision")
def get_decision(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _decision_out(get_object_or_404(services.published_decisions(), pk=pk))


class HoldOut(Schema):
    case: str
    reason: str
    rule: str
    article: str
    steps: list[str]
    since: dt.datetime
    url: str


@router.get("/tenders/{pk}/holds", response=list[HoldOut], auth=PUBLIC, summary="Active holds")
def tender_holds(request: HttpRequest, pk: int) -> list[dict[str, Any]]:
    """What suspends the tender now, and which steps it stops."""
    return [
        {
            "case": h.case,
            "reason": h.reason,
            "rule": h.rule,
            "article": h.article,
            "steps": list(h.steps),
            "since": h.since,
            "url": h.url,
        }
        for h in holds.active_holds(_tender(pk))
    ]


class RegulatorOut(Schema):
    credit_code: str
    name: str
    region_code: str
    industry: str
    basis: str


@router.get(
    "/tenders/{pk}/regulator", response=RegulatorOut, auth=PUBLIC, summary="Competent regulator"
)
def regulator(request: HttpRequest, pk: int) -> dict[str, Any]:
    entry = services.competent_regulator(_tender(pk).project)
    if entry is None:
        raise NotFound(
            _("No regulator is set in the responsibility list for this project."),
            field="tender",
            rule="responsibility_list",
        )
    return {
        "credit_code": entry.regulator.credit_code,
        "name": entry.regulator.name,
        "region_code": entry.region_code,
        "industry": entry.industry or "*",
        "basis": entry.basis,
    }


class RateOut(Schema):
    count: int
    done: int
    within_target_rate: str | None
    within_limit_rate: str | None
    mean_working_days: str | None


@router.get(
    "/figures", response=dict[str, RateOut], auth=PUBLIC, summary="Handling times and on-time rates"
)
def figures(request: HttpRequest) -> dict[str, Any]:
    """Per ``case.step``: counts, on-time rates (decimal strings) and mean working days."""
    rates = timers.handling_rates(timers.handling_figures())
    return {
        k: {
            kk: (str(v) if v is not None and kk not in ("count", "done") else v)
            for kk, v in r.items()
        }
        for k, r in rates.items()
    }


# --- feedback --------------------------------------------------------------------------------------


class FeedbackIn(Schema):
    kind: str
    subject: str = Field(..., max_length=200)
    text: str = Field(..., max_length=10000)


class FeedbackOut(Schema):
    id: int
    reference: str
    kind: str
    subject: str
    text: str
    submitted_at: dt.datetime
    answer_due: dt.datetime
    answer: str
    answered_at: dt.datetime | None


def _feedback_out(f: Feedback) -> dict[str, Any]:
    return {
        "id": f.pk,
        "reference": f.reference,
        "kind": f.kind,
        "subject": f.subject,
        "text": f.text,
        "submitted_at": f.submitted_at,
        "answer_due": f.answer_due,
        "answer": f.answer,
        "answered_at": f.answered_at,
    }


@router.post("/feedback", response={201: FeedbackOut}, summary="Submit a suggestion")
def submit_feedback(request: HttpRequest, payload: FeedbackIn) -> Status[dict[str, Any]]:
    return Status(201, _feedback_out(services.submit_feedback(request.user, **payload.dict())))


class AnswerIn(Schema):
    answer: str = Field(..., max_length=10000)


@router.post("/feedback/{pk}/answer", response=FeedbackOut, summary="Answer a suggestion (centre)")
def answer_feedback(request: HttpRequest, pk: int, payload: AnswerIn) -> dict[str, Any]:
    found = get_object_or_404(Feedback, pk=pk)
    return _feedback_out(services.answer_feedback(request.user, found, answer=payload.answer))
