"""API of the evaluation session (``/api/v1/tenders/{id}/evaluation…``): thin over
``openbid.evaluation.session``.

Members sign documents (their sign-in, their score sheets, the report) with
``POST /api/v1/documents/{kind}/{id}/signatures`` (or ``openbid-bidder sign KIND ID``); the kinds
are ``evaluation-sign-in``, ``evaluation-scores`` and ``evaluation-report``. Before the reveal, the
technical part names bids only by their codes; nothing here links a code to a bidder.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from openbid.accounts.permissions import has_role, signed_in
from openbid.accounts.roles import Role
from openbid.core.errors import InvalidInput, NotAllowed, NotFound
from openbid.evaluation import committee as committees
from openbid.evaluation import session as evaluation
from openbid.evaluation.models import (
    ClarificationRequest,
    EvaluationSession,
    ExpertFee,
    ScoreSheet,
)
from openbid.opening.models import OpenedBid
from openbid.tendering.models import Tender

router = Router(tags=["evaluation session"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class VenueIn(In):
    kind: str = Field(..., description="main (主场) or secondary (副场)")
    name: str = Field(..., max_length=120)
    region_code: str = Field(..., description="GB/T 2260")


class StartIn(In):
    venues: list[VenueIn] = Field(..., min_length=1, max_length=20)


class CheckInIn(In):
    venue: int


class TextIn(In):
    text: str = Field(..., max_length=4000)


class ScoreIn(In):
    bid: str = Field(..., description="technical part: the bid's code; commercial part: its id")
    criterion: str
    points: Decimal
    reason: str = ""


class ScoresIn(In):
    scores: list[ScoreIn] = Field(..., min_length=1, max_length=2000)


class QuestionIn(In):
    bid: int
    question: str = Field(..., max_length=4000)


class AnswerIn(In):
    answer: str = Field(..., max_length=10000)


class AdjustmentIn(In):
    bid: int
    amount: Decimal
    reason: str = Field(..., max_length=2000)
    clause: str = ""


class PaidIn(In):
    reference: str = Field(..., max_length=100)


def _tender(tender_id: int) -> Tender:
    tender = Tender.objects.select_related("project").filter(pk=tender_id).first()
    if tender is None:
        raise NotFound(_("No such tender."), field="tender_id", rule="exists")
    return tender


def _session(tender_id: int, user: Any) -> EvaluationSession:
    session = evaluation.session_of(_tender(tender_id))
    if session is None or not evaluation.may_follow(user, session):
        raise NotFound(_("This tender's evaluation has not started."), field="tender_id")
    return session


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _sheet_out(session: EvaluationSession, sheet: ScoreSheet) -> dict[str, Any]:
    technical = sheet.part == ScoreSheet.Part.TECHNICAL
    me = evaluation.labels(session)[sheet.member_id]
    own = []
    if sheet.submitted_at and evaluation.all_submitted(session, sheet.part):
        for o in evaluation.outliers(session, sheet.part):
            if o.expert == me:
                bid = int(o.bidder)
                own.append(
                    {
                        "bid": evaluation.code_of(session, bid) if technical else str(bid),
                        "criterion": o.criterion,
                        "points": str(o.points),
                        "others_mean": str(round(o.others_mean, 2)),
                        "reason_given": bool(o.reason.strip()),
                    }
                )
    document = evaluation.sheet_document(session, sheet)
    return {
        "id": sheet.pk,
        "part": sheet.part,
        "submitted_at": _when(sheet.submitted_at),
        "signed_at": _when(sheet.signed_at),
        "kind": evaluation.SCORES_KIND,
        "sha256": sheet.sha256 or evaluation._digest(document),
        "document": document,
        "outliers": own,
        "criteria": evaluation.criteria(session, sheet.part),
    }


def session_out(session: EvaluationSession, user: Any) -> dict[str, Any]:
    member = committees.member_of(user, session.committee)
    staff = has_role(user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR)
    names = committees.may_see_members(user, session.committee)
    labels = evaluation.labels(session)
    completed = session.status == EvaluationSession.Status.COMPLETED
    inside = member is not None or staff
    out: dict[str, Any] = {
        "tender": session.tender_id,
        "status": session.status,
        "method": session.tender.evaluation_method,
        "opened_at": _when(session.opened_at),
        "rules": session.rules,
        "venues": [
            {
                "id": v.pk,
                "kind": v.kind,
                "name": v.name,
                "region_code": v.region_code,
                "present": v.attendance.filter(signed_in_at__isnull=False).count(),
            }
            for v in session.venues.all()
        ],
        "attendance": [
            {
                "seat": a.member_id,
                "label": labels.get(a.member_id),
                "name": a.member.display_name if names else None,
                "venue": a.venue_id,
                "signed_in_at": _when(a.signed_in_at),
            }
            for a in session.attendance.filter(signed_in_at__isnull=False).select_related(
                "member__expert", "member__user"
            )
        ],
        "coefficient": {
            "value": session.coefficient or None,
            "index": session.coefficient_index,
            "draw": session.coefficient_draw_id,
            "verify": f"/api/v1/draws/{session.coefficient_draw_id}"
            if session.coefficient_draw_id
            else None,
        },
        "blind": {
            "commitment": session.blind_commitment,
            "revealed_at": _when(session.revealed_at),
            "plan": session.blind_plan,
        },
        "progress": [
            {
                "label": labels.get(s.member_id),
                "part": s.part,
                "submitted": s.submitted_at is not None,
                "signed": s.signed_at is not None,
            }
            for s in session.sheets.order_by("part", "member_id")
        ],
        "report": None,
    }
    if inside or completed:
        out["clearing"] = session.clearing
        out["similarity"] = session.similarity
        out["clarifications"] = [
            {
                "id": c.pk,
                "bid": c.bid_id,
                "finding": c.finding,
                "question": c.question,
                "answer": c.answer,
                "asked_at": _when(c.asked_at),
                "answered_at": _when(c.answered_at),
            }
            for c in session.clarifications.all()
        ]
    if inside:
        out["messages"] = [
            {"label": labels.get(m.member_id), "text": m.text, "posted_at": _when(m.posted_at)}
            for m in session.messages.all()
        ]
    if session.result is not None and (inside or completed):
        out["result"] = session.result
    report = getattr(session, "report", None)
    if report is not None and (inside or completed):
        out["report"] = {
            "id": report.pk,
            "kind": evaluation.REPORT_KIND,
            "sha256": report.sha256,
            "generated_at": _when(report.generated_at),
            "completed_at": _when(report.completed_at),
            "signatures": len(evaluation.report_signers(report)),
            "candidates": report.candidates,
            "download": f"/api/v1/tenders/{session.tender_id}/evaluation/report.pdf",
        }
    if member is not None:
        attendance = session.attendance.filter(member=member).order_by("-pk").first()
        out["me"] = {
            "seat": member.pk,
            "label": labels.get(member.pk),
            "chair": session.committee.chair_id == member.pk,
            "sign_in": None
            if attendance is None
            else {
                "id": attendance.pk,
                "kind": evaluation.SIGN_IN_KIND,
                "sha256": attendance.sha256,
                "venue": attendance.venue_id,
                "signed_in_at": _when(attendance.signed_in_at),
            },
            "sheets": [
                {"id": s.pk, "part": s.part, "signed": s.signed_at is not None}
                for s in session.sheets.filter(member=member)
            ],
        }
    return out


@router.get(
    "/tenders/{tender_id}/evaluation",
    response=dict[str, Any],
    summary="The evaluation session: venues, attendance, progress, findings, results, report",
)
def get_session(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    return session_out(_session(tender_id, request.user), request.user)


@router.post(
    "/tenders/{tender_id}/evaluation",
    response={201: dict[str, Any]},
    summary="Start the evaluation (the committee formed; the tender's managers or centre staff)",
)
def start(request: HttpRequest, tender_id: int, body: StartIn) -> Any:
    session = evaluation.start_session(
        request.user, _tender(tender_id), venues=[v.model_dump() for v in body.venues]
    )
    return Status(201, session_out(session, request.user))


@router.post(
    "/tenders/{tender_id}/evaluation/check-in",
    response=dict[str, Any],
    summary="Ask to sign in at a venue: returns the sign-in document to sign with your certificate",
)
def check_in(request: HttpRequest, tender_id: int, body: CheckInIn) -> dict[str, Any]:
    session = _session(tender_id, request.user)
    venue = session.venues.filter(pk=body.venue).first()
    if venue is None:
        raise InvalidInput(_("Choose one of this evaluation's venues."), field="venue")
    attendance = evaluation.check_in(request.user, session, venue=venue)
    return {
        "id": attendance.pk,
        "kind": evaluation.SIGN_IN_KIND,
        "sha256": attendance.sha256,
        "document": attendance.document,
        "sign": f"/api/v1/documents/{evaluation.SIGN_IN_KIND}/{attendance.pk}/signatures",
    }


@router.post(
    "/tenders/{tender_id}/evaluation/messages",
    response={201: dict[str, Any]},
    summary="Add to the discussion record (signed-in members)",
)
def message(request: HttpRequest, tender_id: int, body: TextIn) -> Any:
    m = evaluation.post_message(request.user, _session(tender_id, request.user), text=body.text)
    return Status(201, {"id": m.pk, "posted_at": _when(m.posted_at)})


@router.get(
    "/tenders/{tender_id}/evaluation/blind",
    response=list[dict[str, Any]],
    summary="Your blind review: the technical bids in your order, under codes",
)
def blind_list(request: HttpRequest, tender_id: int) -> list[dict[str, Any]]:
    return evaluation.blind_list(request.user, _session(tender_id, request.user))


@router.get(
    "/tenders/{tender_id}/evaluation/blind/{code}/files/{n}",
    summary="A technical file of the bid under a code (members)",
)
def blind_file(request: HttpRequest, tender_id: int, code: str, n: int) -> HttpResponse:
    name, data = evaluation.technical_file(request.user, _session(tender_id, request.user), code, n)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _own_sheet(request: HttpRequest, tender_id: int, part: str) -> tuple[Any, ScoreSheet]:
    if part not in ScoreSheet.Part.values:
        raise NotFound(_("No such part."), field="part", rule="part")
    session = _session(tender_id, request.user)
    return session, evaluation.sheet_for(request.user, session, part)


@router.get(
    "/tenders/{tender_id}/evaluation/sheets/{part}",
    response=dict[str, Any],
    summary="Your score sheet of a part (technical or commercial), with what you sign",
)
def get_sheet(request: HttpRequest, tender_id: int, part: str) -> dict[str, Any]:
    session, sheet = _own_sheet(request, tender_id, part)
    return _sheet_out(session, sheet)


@router.put(
    "/tenders/{tender_id}/evaluation/sheets/{part}",
    response=dict[str, Any],
    summary="Enter scores (and reasons); after submitting, only reasons",
)
def put_sheet(request: HttpRequest, tender_id: int, part: str, body: ScoresIn) -> dict[str, Any]:
    session, sheet = _own_sheet(request, tender_id, part)
    evaluation.save_scores(request.user, session, part, [s.model_dump() for s in body.scores])
    sheet.refresh_from_db()
    return _sheet_out(session, sheet)


@router.post(
    "/tenders/{tender_id}/evaluation/sheets/{part}/submit",
    response=dict[str, Any],
    summary="Submit your points (every bid on every factor); then give reasons and sign",
)
def submit_sheet(request: HttpRequest, tender_id: int, part: str) -> dict[str, Any]:
    session, sheet = _own_sheet(request, tender_id, part)
    sheet = evaluation.submit_sheet(request.user, session, part)
    return _sheet_out(session, sheet)


@router.post(
    "/tenders/{tender_id}/evaluation/clarifications",
    response={201: dict[str, Any]},
    summary="Ask a bidder for a clarification (signed-in members)",
)
def ask(request: HttpRequest, tender_id: int, body: QuestionIn) -> Any:
    session = _session(tender_id, request.user)
    bid = OpenedBid.objects.filter(pk=body.bid, session__tender_id=tender_id).first()
    if bid is None:
        raise InvalidInput(_("Ask about a bid under evaluation."), field="bid", rule="bid")
    c = evaluation.ask_clarification(request.user, session, bid=bid, question=body.question)
    return Status(201, {"id": c.pk, "asked_at": _when(c.asked_at)})


def _clarification_out(c: ClarificationRequest) -> dict[str, Any]:
    return {
        "id": c.pk,
        "tender": c.session.tender_id,
        "tender_title": c.session.tender.title,
        "bid": c.bid_id,
        "question": c.question,
        "answer": c.answer,
        "asked_at": _when(c.asked_at),
        "answered_at": _when(c.answered_at),
    }


@router.get(
    "/my/clarification-requests",
    response=list[dict[str, Any]],
    summary="The evaluation committees' clarification requests to your organisation (bidders)",
)
def my_clarifications(request: HttpRequest) -> list[dict[str, Any]]:
    return [_clarification_out(c) for c in evaluation.clarifications_for(signed_in(request.user))]


@router.post(
    "/clarification-requests/{request_id}/answer",
    response=dict[str, Any],
    summary="Answer a clarification request (the bidder's staff)",
)
def answer(request: HttpRequest, request_id: int, body: AnswerIn) -> dict[str, Any]:
    found = ClarificationRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise NotFound(_("No such clarification request."), field="request_id", rule="exists")
    c = evaluation.answer_clarification(request.user, found, answer=body.answer)
    return _clarification_out(c)


@router.post(
    "/tenders/{tender_id}/evaluation/adjustments",
    response={201: dict[str, Any]},
    summary="Record a price adjustment (lowest evaluated price method; the chair)",
)
def adjustment(request: HttpRequest, tender_id: int, body: AdjustmentIn) -> Any:
    session = _session(tender_id, request.user)
    bid = OpenedBid.objects.filter(pk=body.bid, session__tender_id=tender_id).first()
    if bid is None:
        raise InvalidInput(_("Adjust a bid under evaluation."), field="bid", rule="bid")
    a = evaluation.record_adjustment(
        request.user, session, bid=bid, amount=body.amount, reason=body.reason, clause=body.clause
    )
    return Status(201, {"id": a.pk, "amount": str(a.amount)})


@router.post(
    "/tenders/{tender_id}/evaluation/results",
    response=dict[str, Any],
    summary="Compute the results once every sheet is signed (the chair)",
)
def results(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    session = evaluation.compute_results(request.user, _session(tender_id, request.user))
    evaluation.perform_draws(session)
    session.refresh_from_db()
    return session_out(session, request.user)


@router.post(
    "/tenders/{tender_id}/evaluation/report",
    response={201: dict[str, Any]},
    summary="Generate the evaluation report for every member to sign (the chair)",
)
def report(request: HttpRequest, tender_id: int) -> Any:
    session = _session(tender_id, request.user)
    evaluation.generate_report(request.user, session)
    session.refresh_from_db()
    return Status(201, session_out(session, request.user))


@router.get(
    "/tenders/{tender_id}/evaluation/report.pdf",
    summary="The evaluation report (members; others once every member has signed)",
)
def report_pdf(request: HttpRequest, tender_id: int) -> HttpResponse:
    session = _session(tender_id, request.user)
    if not evaluation.may_download_report(request.user, session):
        raise NotFound(_("The report is not available to you yet."), field="report")
    response = HttpResponse(bytes(session.report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="evaluation-{tender_id}.pdf"'
    return response


def _fee_out(fee: ExpertFee, labels: dict[int, str]) -> dict[str, Any]:
    return {
        "id": fee.pk,
        "label": labels.get(fee.member_id),
        "seat": fee.member_id,
        "amount": str(fee.amount),
        "basis": fee.basis,
        "status": fee.status,
        "payment_reference": fee.payment_reference,
        "paid_at": _when(fee.paid_at),
    }


@router.get(
    "/tenders/{tender_id}/evaluation/fees",
    response=list[dict[str, Any]],
    summary="Experts' fees (centre staff: all; a member: their own)",
)
def fees(request: HttpRequest, tender_id: int) -> list[dict[str, Any]]:
    session = _session(tender_id, request.user)
    labels = evaluation.labels(session)
    rows = session.fees.all()
    if not has_role(request.user, Role.CENTRE_STAFF):
        member = committees.member_of(request.user, session.committee)
        if member is None:
            raise NotAllowed(_("Fees are for centre staff and the member paid."), rule="fees")
        rows = rows.filter(member=member)
    return [_fee_out(f, labels) for f in rows]


@router.post(
    "/evaluation-fees/{fee_id}/paid",
    response=dict[str, Any],
    summary="Record a fee paid online (centre staff)",
)
def paid(request: HttpRequest, fee_id: int, body: PaidIn) -> dict[str, Any]:
    fee = ExpertFee.objects.filter(pk=fee_id).first()
    if fee is None:
        raise NotFound(_("No such fee."), field="fee_id", rule="exists")
    fee = evaluation.pay_fee(request.user, fee, reference=body.reference)
    return _fee_out(fee, evaluation.labels(fee.session))


__all__ = ["router"]
