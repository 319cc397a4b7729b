"""Credit API (``/api/v1/credit/``). Thin over ``openbid.credit.services``.

Public: an entity's grade, score and public records; the serious-dishonesty list (JSON, and CSV
at ``/credit/serious-list.csv``). Signed in: the entity's full working and its repair
applications; staff record, correct, revoke, import, accept and decide. Dates are ISO 8601
(``YYYY-MM-DD``); points and scores are decimal strings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from pydantic import PlainSerializer

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import signed_in
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import NotAllowed, NotFound
from openbid.credit import exchange, services
from openbid.credit.models import CreditRecord, CreditSubject, RepairApplication
from openbid.credit.scoring import Working, working_for

router = Router(tags=["credit"])

Points = Annotated[
    Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="always")
]


class LineOut(Schema):
    record: str
    title: str
    source: str
    category: str
    valid_from: dt.date
    valid_until: dt.date
    public: bool
    counts: bool
    reason: str
    nominal: Points
    weight: Points
    points: Points


class WorkingOut(Schema):
    subject: str
    on: dt.date
    model_version: str
    base: Points
    additions: Points
    additions_counted: Points
    deductions: Points
    raw: Points
    score: Points
    grade: str
    score_grade: str
    listed_by: list[str]
    thresholds: dict[str, Points]
    lines: list[LineOut]


class RecordIn(Schema):
    credit_code: str | None = Field(None, max_length=18)
    person: int | None = None
    source: str
    category: str
    title: str = Field(..., max_length=200)
    facts: str = Field(..., max_length=5000)
    legal_basis: str = Field("", max_length=2000)
    issuing_body: str = Field(..., max_length=200)
    document_number: str = Field("", max_length=120)
    decided_on: dt.date
    valid_from: dt.date
    valid_until: dt.date
    is_public: bool = True
    serious_list: bool = False
    special_domain: bool = False
    repairable: bool = True


class CorrectionIn(Schema):
    reason: str = Field(..., max_length=2000)
    title: str | None = Field(None, max_length=200)
    facts: str | None = Field(None, max_length=5000)
    legal_basis: str | None = Field(None, max_length=2000)
    issuing_body: str | None = Field(None, max_length=200)
    document_number: str | None = Field(None, max_length=120)
    category: str | None = None
    decided_on: dt.date | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    serious_list: bool | None = None
    is_public: bool | None = None


class ReasonIn(Schema):
    reason: str = Field(..., max_length=2000)


class DecisionIn(Schema):
    approve: bool
    reason: str = Field(..., max_length=2000)


class RecordOut(Schema):
    number: str
    subject: str
    subject_name: str
    source: str
    category: str
    title: str
    facts: str
    legal_basis: str
    issuing_body: str
    document_number: str
    decided_on: dt.date
    valid_from: dt.date
    valid_until: dt.date
    public: bool
    serious_list: bool
    repairable: bool
    status: str
    status_reason: str
    supersedes: str | None
    source_platform: str
    external_id: str


class RepairOut(Schema):
    id: int
    record: str
    status: str
    statement: str
    evidence_name: str
    evidence_sha256: str
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    decision_reason: str


class ImportIn(Schema):
    source_platform: str = Field(..., max_length=80)
    records: list[dict[str, Any]]


class EntityOut(Schema):
    credit_code: str
    name: str
    grade: str
    score: Points
    listed_until: dt.date | None
    public_records: list[RecordOut]
    repaired: list[str]
    working: WorkingOut


def _working_out(working: Working, subject: str, *, public_only: bool) -> dict[str, Any]:
    lines = [ln for ln in working.lines if not public_only or (ln.record.is_public and ln.counts)]
    return {
        "subject": subject,
        "on": working.on,
        "model_version": working.model.version,
        "base": working.model.base,
        "additions": working.additions,
        "additions_counted": working.additions_counted,
        "deductions": working.deductions,
        "raw": working.raw,
        "score": working.score,
        "grade": working.grade,
        "score_grade": working.score_grade,
        "listed_by": [r.ref for r in working.listed_by if r.is_public or not public_only],
        "thresholds": dict(working.model.grades),
        "lines": [
            {
                "record": ln.record.ref,
                "title": ln.record.title,
                "source": ln.record.source,
                "category": ln.record.category,
                "valid_from": ln.record.valid_from,
                "valid_until": ln.record.valid_until,
                "public": ln.record.is_public,
                "counts": ln.counts,
                "reason": ln.reason,
                "nominal": ln.nominal,
                "weight": ln.weight,
                "points": ln.points,
            }
            for ln in lines
        ],
    }


def _record_out(rec: CreditRecord) -> dict[str, Any]:
    return {
        "number": rec.number,
        "subject": rec.subject.reference,
        "subject_name": str(rec.subject),
        "source": rec.source,
        "category": rec.category,
        "title": rec.title,
        "facts": rec.facts,
        "legal_basis": rec.legal_basis,
        "issuing_body": rec.issuing_body,
        "document_number": rec.document_number,
        "decided_on": rec.decided_on,
        "valid_from": rec.valid_from,
        "valid_until": rec.valid_until,
        "public": rec.is_public,
        "serious_list": rec.serious_list,
        "repairable": rec.repairable,
        "status": rec.status,
        "status_reason": rec.status_reason,
        "supersedes": rec.supersedes.number if rec.supersedes is not None else None,
        "source_platform": rec.source_platform,
        "external_id": rec.external_id,
    }


def _repair_out(a: RepairApplication) -> dict[str, Any]:
    return {
        "id": a.pk,
        "record": a.record.number,
        "status": a.status,
        "statement": a.statement,
        "evidence_name": a.evidence_name,
        "evidence_sha256": a.evidence_sha256,
        "submitted_at": a.submitted_at,
        "accepted_at": a.accepted_at,
        "decided_at": a.decided_at,
        "decision_reason": a.decision_reason,
    }


def _record(number: str) -> CreditRecord:
    text = number.strip().upper().removeprefix("CR-")
    if not text.isdigit():
        raise NotFound(
            _("No credit record %(number)s.") % {"number": number}, field="number", rule="exists"
        )
    return get_object_or_404(
        CreditRecord.objects.select_related("subject__organisation"), pk=int(text)
    )


def _visible(request: HttpRequest, rec: CreditRecord) -> bool:
    return services.is_credit_staff(request.user) or services.may_apply(request.user, rec)


@router.get(
    "/entities/{credit_code}", response=EntityOut, auth=PUBLIC, summary="An entity's public credit"
)
def entity(request: HttpRequest, credit_code: str) -> dict[str, Any]:
    """Grade and score today, the public records in effect with their points, repaired records."""
    org = get_object_or_404(Organisation, credit_code=credit_code.strip().upper())
    subject = services.subject_of(org)
    working = working_for(subject)
    public = []
    repaired: list[str] = []
    if subject is not None:
        by_ref = {r.number: r for r in subject.records.all()}
        public = [
            _record_out(by_ref[ln.record.ref])
            for ln in working.lines
            if ln.record.is_public and ln.counts
        ]
        repaired = [
            r.number
            for r in by_ref.values()
            if r.status == CreditRecord.Status.REPAIRED and r.is_public
        ]
    from openbid.credit.gate import listing

    listed = listing(org)
    return {
        "credit_code": org.credit_code,
        "name": org.name,
        "grade": working.grade,
        "score": working.score,
        "listed_until": listed.valid_until if listed is not None and listed.is_public else None,
        "public_records": public,
        "repaired": repaired,
        "working": _working_out(working, org.credit_code, public_only=True),
    }


@router.get("/entities/{credit_code}/working", response=WorkingOut, summary="The full working")
def full_working(
    request: HttpRequest, credit_code: str, on: dt.date | None = None
) -> dict[str, Any]:
    """Every record, public or not, with its points: for the entity's own people and staff."""
    org = get_object_or_404(Organisation, credit_code=credit_code.strip().upper())
    if not (
        services.is_credit_staff(request.user)
        or services.has_role(request.user, *services.MARKET_ROLES, organisation=org)
    ):
        raise NotAllowed(
            _("Only the entity's own people and staff see the full working."),
            rule="credit_own_working",
        )
    return _working_out(
        working_for(services.subject_of(org), on), org.credit_code, public_only=False
    )


@router.get("/serious-list", auth=PUBLIC, summary="The serious-dishonesty list (exchange format)")
def serious_list(request: HttpRequest) -> dict[str, Any]:
    """Public records in effect that list an entity; the format is in docs/credit-exchange.md."""
    return exchange.export_json()


@router.post("/records", response={201: RecordOut}, summary="Record credit information (staff)")
def create_record(request: HttpRequest, payload: RecordIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    code = (data.pop("credit_code") or "").strip().upper()
    person = data.pop("person")
    target: dict[str, Any] = {}
    if code:
        org = Organisation.objects.filter(credit_code=code).first()
        if org is None:
            raise NotFound(
                _("No organisation with this unified social credit code is registered here."),
                field="credit_code",
                rule="credit_registered_entity",
            )
        target["organisation"] = org
    if person:
        target["subject"] = get_object_or_404(
            CreditSubject, pk=person, kind=CreditSubject.Kind.PERSON
        )
    rec = services.record_credit(request.user, **target, **data)
    return Status(201, _record_out(rec))


@router.get("/records/{number}", response=RecordOut, auth=PUBLIC)
def get_record(request: HttpRequest, number: str) -> dict[str, Any]:
    rec = _record(number)
    if not _visible(request, rec) and not (
        rec.is_public and rec.status == CreditRecord.Status.ACTIVE
    ):
        raise NotFound(
            _("No credit record %(number)s.") % {"number": number}, field="number", rule="exists"
        )
    return _record_out(rec)


@router.post("/records/{number}/supersede", response={201: RecordOut}, summary="Correct a record")
def supersede(request: HttpRequest, number: str, payload: CorrectionIn) -> Status[dict[str, Any]]:
    fields = {k: v for k, v in payload.dict().items() if v is not None and k != "reason"}
    new = services.supersede_record(request.user, _record(number), reason=payload.reason, **fields)
    return Status(201, _record_out(new))


@router.post("/records/{number}/revoke", response=RecordOut, summary="Revoke a record")
def revoke(request: HttpRequest, number: str, payload: ReasonIn) -> dict[str, Any]:
    return _record_out(services.revoke_record(request.user, _record(number), reason=payload.reason))


@router.post(
    "/records/{number}/repairs", response={201: RepairOut}, summary="Apply for credit repair"
)
def apply_repair(
    request: HttpRequest,
    number: str,
    statement: Form[str],
    evidence: UploadedFile | None = File(None),  # noqa: B008 - ninja's parameter marker
) -> Status[dict[str, Any]]:
    """Multipart form: ``statement`` and an optional ``evidence`` file (PDF, OFD, JPEG, PNG, ZIP)."""
    application = services.apply_for_repair(
        request.user, _record(number), statement=statement, evidence=evidence
    )
    return Status(201, _repair_out(application))


@router.get("/repairs", response=list[RepairOut], summary="Repair applications")
def list_repairs(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    """Staff: all applications; others: their organisations' and their own."""
    qs = RepairApplication.objects.select_related("record").order_by("-submitted_at", "-id")
    if not services.is_credit_staff(request.user):
        from openbid.accounts.permissions import memberships

        orgs = memberships(request.user, *services.MARKET_ROLES).values_list(
            "organisation_id", flat=True
        )
        qs = qs.filter(record__subject__organisation_id__in=list(orgs)) | qs.filter(
            record__subject__user=signed_in(request.user)
        )
    if status:
        qs = qs.filter(status=status)
    return [_repair_out(a) for a in qs[:200]]


def _application(request: HttpRequest, pk: int) -> RepairApplication:
    return get_object_or_404(RepairApplication.objects.select_related("record"), pk=pk)


@router.post("/repairs/{pk}/accept", response=RepairOut, summary="Accept for review (staff)")
def accept(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _repair_out(services.accept_repair(request.user, _application(request, pk)))


@router.post("/repairs/{pk}/decide", response=RepairOut, summary="Decide with reasons (staff)")
def decide(request: HttpRequest, pk: int, payload: DecisionIn) -> dict[str, Any]:
    return _repair_out(
        services.decide_repair(
            request.user, _application(request, pk), approve=payload.approve, reason=payload.reason
        )
    )


@router.post("/imports", response={201: list[RecordOut]}, summary="Import external records (staff)")
def import_records(request: HttpRequest, payload: ImportIn) -> Status[list[dict[str, Any]]]:
    """All or nothing; the rows use the exchange format (docs/credit-exchange.md)."""
    created = services.import_records(
        request.user, source_platform=payload.source_platform, rows=payload.records
    )
    return Status(201, [_record_out(r) for r in created])
