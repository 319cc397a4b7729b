"""API for tendering (``/api/v1/``): projects, plans, tenders, documents, questions, clarifications.

Thin over ``openbid.tendering.services``: every change and every rule is checked there, and a
refusal comes back in the API's one error shape. What is here besides the calls: the schemas
(whose constraints turn malformed payloads into a 422 naming the field), and read-only queries —
who may see a draft, who may download the documents.

Money is a string of a decimal number of yuan (``"400000.00"``); JSON numbers are refused, so no
binary float ever carries an amount. Date-times are ISO 8601 with an offset, in and out (out in
the platform's time zone, ``+08:00``). Schema errors name list items from 0 as JSON does
(``sections.0.deposit``); the rules name sections by their number, from 1 (``sections.1.deposit``).

Who obtained the tender documents is secret until the opening (Law art. 22): no answer here tells
anyone but the obtainer itself that an organisation obtained them, or how many did.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Model, Q, QuerySet
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from pydantic import AwareDatetime, ConfigDict, PlainSerializer, StringConstraints

from openbid.accounts.permissions import has_role, memberships
from openbid.accounts.roles import Role
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import NotAllowed, NotFound
from openbid.core.models import EventSubject
from openbid.tendering import evaluation_rules, lifecycle, services
from openbid.tendering.lifecycle import State
from openbid.tendering.models import (
    Clarification,
    Document,
    DocumentObtainer,
    FundingSource,
    Industry,
    Notice,
    Project,
    Question,
    Tender,
    TenderPlan,
)
from openbid.tendering.rules import EXEMPTIBLE

router = Router(tags=["tendering"])

MAX_PAGE = 100


# --- value types -------------------------------------------------------------------------------


def _yuan_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _local_text(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat()


# Amounts in: a decimal number as a string (the services check places and range).
Money = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^-?\d{1,17}(\.\d{1,17})?$")
]
# Amounts out: two decimal places, as a string.
Yuan = Annotated[Decimal, PlainSerializer(_yuan_text, return_type=str, when_used="always")]
# Date-times out: ISO 8601 in the platform's time zone, with its offset.
LocalDateTime = Annotated[
    dt.datetime, PlainSerializer(_local_text, return_type=str, when_used="always")
]
Percent = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,3}(\.\d{1,2})?$")]
CreditCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=18)]
Criterion = Annotated[str, StringConstraints(min_length=1, max_length=80)]


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _local_text(value)
    return value.isoformat()


# --- schemas -----------------------------------------------------------------------------------


class In(Schema):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class ProjectIn(In):
    code: str = Field(..., max_length=24, description="项目代码, e.g. 2026-330100-48-01-123456")
    name: str = Field(..., max_length=200)
    region_code: str = Field(..., max_length=6)
    industry: Industry
    funding_source: FundingSource
    state_funding_percent: Percent
    estimated_investment: Money
    approval_ref: str = Field(..., max_length=120)
    tenderer: CreditCode | None = Field(
        None, description="the tenderer's credit code (required when an agency registers)"
    )
    agency: CreditCode | None = Field(None, description="the appointed agency's credit code")
    green_channel: bool = False
    green_reason: str = Field("", max_length=1000)
    green_exemptions: list[str] = Field(
        default_factory=list, max_length=len(EXEMPTIBLE), description="rules exempted"
    )


class TenderBrief(Schema):
    id: int
    title: str
    status: str
    published_at: LocalDateTime | None


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    region_code: str
    industry: str
    funding_source: str
    state_funding_percent: Yuan
    estimated_investment: Yuan
    tenderer: str = Field(..., alias="tenderer.credit_code")
    tenderer_name: str = Field(..., alias="tenderer.name")
    agency: str | None
    agency_name: str | None
    approval_ref: str
    green_channel: bool
    green_reason: str
    green_exemptions: list[str]
    registered_at: LocalDateTime
    tenders: list[TenderBrief]

    @staticmethod
    def resolve_agency(obj: Project) -> str | None:
        return obj.agency.credit_code if obj.agency else None

    @staticmethod
    def resolve_agency_name(obj: Project) -> str | None:
        return obj.agency.name if obj.agency else None

    @staticmethod
    def resolve_tenders(obj: Project) -> list[Tender]:
        return list(obj.tenders.order_by("created_at", "id"))


class PlanIn(In):
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=5000)
    expected_notice_date: dt.date
    estimated_amount: Money


class PlanOut(Schema):
    id: int
    project: str = Field(..., alias="project.code")
    project_name: str = Field(..., alias="project.name")
    region_code: str = Field(..., alias="project.region_code")
    tenderer_name: str = Field(..., alias="project.tenderer.name")
    title: str
    description: str
    expected_notice_date: dt.date
    estimated_amount: Yuan
    published_at: LocalDateTime


class PlanPage(Schema):
    count: int
    offset: int
    limit: int
    items: list[PlanOut]


class SectionIn(In):
    name: str = Field(..., max_length=200)
    estimated_price: Money
    deposit: Money
    ceiling_price: Money | None = None


class TenderIn(In):
    title: str = Field(..., max_length=200)
    kind: Tender.Kind
    method: Tender.Method
    evaluation_method: Tender.Evaluation
    evaluation_weights: dict[Criterion, int | Percent] = Field(
        default_factory=dict, max_length=30, description="criterion → percent (comprehensive)"
    )
    evaluation_rules: dict[str, Any] = Field(
        default_factory=dict,
        description="announced evaluation rules (docs/evaluation-methods.md); empty: the defaults",
    )
    separated_award: bool = False
    award_method: Tender.AwardMethod | None = Field(
        None, description="how a separated award (评定分离) is decided: vote, lottery, deliberation"
    )
    candidates_ranked: bool = True
    deposit_form: Tender.DepositForm
    qualification: str = Field(..., max_length=10000)
    crypto_suite: Tender.CryptoSuite = Tender.CryptoSuite.INTERNATIONAL
    decryption_window_minutes: int | None = Field(
        None, description="minutes bidders have to release their keys (default: the platform's)"
    )
    doc_issue_start: AwareDatetime
    doc_issue_end: AwareDatetime
    question_deadline: AwareDatetime
    bid_deadline: AwareDatetime
    sections: list[SectionIn] = Field(..., min_length=1, max_length=100)
    invited: list[CreditCode] = Field(
        default_factory=list, max_length=500, description="invitation tenders: bidders' codes"
    )
    plan: int | None = Field(None, description="id of the project's tender plan")


class TenderPatch(In):
    """Only the fields sent change; ``sections`` and ``invited``, when sent, replace the lists."""

    title: str | None = Field(None, max_length=200)
    kind: Tender.Kind | None = None
    method: Tender.Method | None = None
    evaluation_method: Tender.Evaluation | None = None
    evaluation_weights: dict[Criterion, int | Percent] | None = Field(None, max_length=30)
    evaluation_rules: dict[str, Any] | None = None
    separated_award: bool | None = None
    award_method: Tender.AwardMethod | None = None
    candidates_ranked: bool | None = None
    deposit_form: Tender.DepositForm | None = None
    qualification: str | None = Field(None, max_length=10000)
    crypto_suite: Tender.CryptoSuite | None = None
    decryption_window_minutes: int | None = None
    doc_issue_start: AwareDatetime | None = None
    doc_issue_end: AwareDatetime | None = None
    question_deadline: AwareDatetime | None = None
    bid_deadline: AwareDatetime | None = None
    sections: list[SectionIn] | None = Field(None, min_length=1, max_length=100)
    invited: list[CreditCode] | None = Field(None, max_length=500)


class SectionOut(Schema):
    number: int
    name: str
    estimated_price: Yuan
    ceiling_price: Yuan | None
    deposit: Yuan


class NoticeBrief(Schema):
    id: int
    kind: str
    title: str
    sha256: str
    published_at: LocalDateTime


class NoticeOut(NoticeBrief):
    tender: int = Field(..., alias="tender_id")
    body: str


class TenderSummary(Schema):
    id: int
    title: str
    project: str
    project_name: str
    region_code: str
    tenderer: str
    tenderer_name: str
    agency: str | None
    agency_name: str | None
    kind: str
    method: str
    status: str
    published_at: LocalDateTime | None
    doc_issue_start: LocalDateTime
    doc_issue_end: LocalDateTime
    question_deadline: LocalDateTime
    bid_deadline: LocalDateTime


class TenderOut(TenderSummary):
    evaluation_method: str
    evaluation_weights: dict[str, str]
    evaluation_rules: dict[str, Any] = Field(
        ..., description="the announced evaluation rules, defaults filled in"
    )
    separated_award: bool
    award_method: str
    candidates_ranked: bool
    deposit_form: str
    qualification: str
    crypto_suite: str
    decryption_window_minutes: int
    status_reason: str
    rules_date: dt.date | None
    plan: int | None
    retender_of: int | None
    sections: list[SectionOut]
    notices: list[NoticeBrief]
    invited: list[str] | None = Field(
        None, description="invited bidders' credit codes: for the tender's managers only"
    )


class TenderPage(Schema):
    count: int
    offset: int
    limit: int
    items: list[TenderSummary]


class ProblemOut(Schema):
    field: str
    rule: str
    article: str
    message: str
    earliest: str | None


class ChecksOut(Schema):
    status: str
    publishable: bool
    problems: list[ProblemOut]


class DocumentOut(Schema):
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: LocalDateTime


class TenderReasonIn(In):
    reason: str = Field(..., max_length=2000)


class ObtainedOut(Schema):
    tender: int = Field(..., alias="tender_id")
    organisation: str = Field(..., alias="organisation.credit_code")
    obtained_at: LocalDateTime


class ObtainerOut(Schema):
    organisation: str = Field(..., alias="organisation.credit_code")
    organisation_name: str = Field(..., alias="organisation.name")
    obtained_at: LocalDateTime


class QuestionIn(In):
    text: str = Field(..., max_length=5000)


class AnswerOut(Schema):
    clarification: int = Field(..., alias="number")
    text: str
    issued_at: LocalDateTime


class QuestionOut(Schema):
    """A question as everyone sees it: never who asked."""

    id: int
    text: str
    asked_at: LocalDateTime
    answer: AnswerOut | None = Field(None, alias="answered_by")


class ClarificationIn(In):
    text: str = Field(..., max_length=20000)
    affects_preparation: bool
    new_bid_deadline: AwareDatetime | None = None
    answers: list[int] = Field(
        default_factory=list, max_length=500, description="ids of the questions it answers"
    )


class ClarificationOut(Schema):
    number: int
    text: str
    affects_preparation: bool
    previous_deadline: LocalDateTime
    bid_deadline: LocalDateTime
    issued_at: LocalDateTime
    answers: list[int]
    notice: NoticeBrief | None


class StateOut(Schema):
    value: str
    label: str
    main_line: bool


class TransitionOut(Schema):
    name: str
    label: str
    sources: list[str]
    target: str
    by: str


class LifecycleOut(Schema):
    states: list[StateOut]
    main_line: list[str]
    side_states: list[str]
    transitions: list[TransitionOut]


class PageQuery(Schema):
    offset: int = Field(0, ge=0)
    limit: int = Field(20, ge=1, le=MAX_PAGE)


class TenderQuery(PageQuery):
    status: State | None = None
    region_code: str | None = Field(None, max_length=6)


# --- read-only queries -------------------------------------------------------------------------


def _get(model: type[Model], field: str, qs: QuerySet[Any] | None = None, **lookup: Any) -> Any:
    found = (qs if qs is not None else model._default_manager.all()).filter(**lookup).first()
    if found is None:
        raise NotFound(
            _("No such %(what)s.") % {"what": model._meta.verbose_name},
            field=field,
            rule="exists",
        )
    return found


def _tenders() -> QuerySet[Tender]:
    return Tender.objects.select_related("project__tenderer", "project__agency")


def _project(project_id: int) -> Project:
    project: Project = _get(
        Project,
        "project_id",
        Project.objects.select_related("tenderer", "agency"),
        pk=project_id,
    )
    return project


def _tender(tender_id: int) -> Tender:
    tender: Tender = _get(Tender, "tender_id", _tenders(), pk=tender_id)
    return tender


def _manages(user: Any, project: Project) -> bool:
    """Whether ``user`` acts for the project's tenderer or its appointed agency."""
    if has_role(user, Role.TENDERER_STAFF, organisation=project.tenderer):
        return True
    return project.agency is not None and has_role(
        user, Role.AGENCY_STAFF, organisation=project.agency
    )


def _is_public(tender: Tender) -> bool:
    """A tender is public once its notice is published (a draft cancelled unpublished never is)."""
    return tender.published_at is not None


def _visible_tender(request: HttpRequest, tender_id: int) -> tuple[Tender, bool]:
    """The tender and whether the caller manages it; a draft is not found for anyone else."""
    tender = _tender(tender_id)
    manager = _manages(request.user, tender.project)
    if not (manager or _is_public(tender)):
        raise NotFound(_("No such tender."), field="tender_id", rule="exists")
    return tender, manager


def _may_read_documents(user: Any, tender: Tender) -> bool:
    """The tender's managers, and organisations that obtained the documents, may read them."""
    if _manages(user, tender.project):
        return True
    bidder_orgs = memberships(user, Role.BIDDER_STAFF).values("organisation")
    return DocumentObtainer.objects.filter(tender=tender, organisation__in=bidder_orgs).exists()


def _require_documents_access(request: HttpRequest, tender: Tender) -> None:
    if not _may_read_documents(request.user, tender):
        raise NotAllowed(
            _(
                "The tender documents are for the tender's managers and for organisations that "
                "obtained them."
            ),
            field="tender",
            rule="obtained_documents",
        )


def _summary(tender: Tender) -> dict[str, Any]:
    project = tender.project
    return {
        "id": tender.pk,
        "title": tender.title,
        "project": project.code,
        "project_name": project.name,
        "region_code": project.region_code,
        "tenderer": project.tenderer.credit_code,
        "tenderer_name": project.tenderer.name,
        "agency": project.agency.credit_code if project.agency else None,
        "agency_name": project.agency.name if project.agency else None,
        "kind": tender.kind,
        "method": tender.method,
        "status": tender.status,
        "published_at": tender.published_at,
        "doc_issue_start": tender.doc_issue_start,
        "doc_issue_end": tender.doc_issue_end,
        "question_deadline": tender.question_deadline,
        "bid_deadline": tender.bid_deadline,
    }


def _tender_out(tender: Tender, *, manager: bool) -> dict[str, Any]:
    return {
        **_summary(tender),
        "evaluation_method": tender.evaluation_method,
        "evaluation_weights": {k: str(v) for k, v in (tender.evaluation_weights or {}).items()},
        "evaluation_rules": evaluation_rules.effective(tender),
        "separated_award": tender.separated_award,
        "award_method": tender.award_method,
        "candidates_ranked": tender.candidates_ranked,
        "deposit_form": tender.deposit_form,
        "qualification": tender.qualification,
        "crypto_suite": tender.crypto_suite,
        "decryption_window_minutes": tender.decryption_window_minutes,
        "status_reason": tender.status_reason,
        "rules_date": tender.rules_date,
        "plan": tender.plan_id,
        "retender_of": tender.retender_of_id,
        "sections": list(tender.sections.order_by("number")),
        "notices": list(tender.notices.order_by("published_at", "id")),
        # Potential bidders stay secret until the opening (Law art. 22): managers only.
        "invited": (
            sorted(tender.invited.values_list("credit_code", flat=True)) if manager else None
        ),
    }


def _managed_view(tender: Tender) -> dict[str, Any]:
    tender = _tender(tender.pk)  # reloaded: the services may have changed it
    return _tender_out(tender, manager=True)


# --- projects and plans ------------------------------------------------------------------------


@router.post("/projects", response={201: ProjectOut}, summary="Register a project (项目登记)")
def register_project(request: HttpRequest, payload: ProjectIn) -> Status[Project]:
    """The tenderer's staff register for their organisation; an agency's staff name the tenderer
    by credit code and become the project's agency."""
    project = services.register_project(request.user, **payload.dict())
    return Status(201, _project(project.pk))


@router.get("/projects", response=list[ProjectOut], summary="Projects the caller manages")
def my_projects(request: HttpRequest) -> Any:
    orgs = memberships(request.user, Role.TENDERER_STAFF, Role.AGENCY_STAFF).values("organisation")
    return (
        Project.objects.filter(Q(tenderer__in=orgs) | Q(agency__in=orgs))
        .select_related("tenderer", "agency")
        .order_by("-registered_at", "-id")
    )


@router.get("/projects/{project_id}", response=ProjectOut, summary="One project")
def get_project(request: HttpRequest, project_id: int) -> Project:
    """For the project's managers, the trading centre, regulators and auditors."""
    project = _project(project_id)
    if not (
        _manages(request.user, project)
        or has_role(request.user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR)
    ):
        raise NotFound(_("No such project."), field="project_id", rule="exists")
    return project


@router.post(
    "/projects/{project_id}/plans",
    response={201: PlanOut},
    summary="Publish a tender plan (招标计划)",
)
def publish_plan(request: HttpRequest, project_id: int, payload: PlanIn) -> Status[TenderPlan]:
    plan = services.publish_plan(request.user, _project(project_id), **payload.dict())
    return Status(201, plan)


@router.get("/plans", response=PlanPage, auth=PUBLIC, summary="Published tender plans")
def list_plans(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """Tender plans, the soonest expected notice first."""
    qs = TenderPlan.objects.select_related("project__tenderer").order_by(
        "expected_notice_date", "id"
    )
    return {
        "count": qs.count(),
        "offset": page.offset,
        "limit": page.limit,
        "items": list(qs[page.offset : page.offset + page.limit]),
    }


# --- tenders -----------------------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/tenders",
    response={201: TenderOut},
    summary="Create a draft tender with its sections",
)
def create_tender(request: HttpRequest, project_id: int, payload: TenderIn) -> Status[Any]:
    """Statutory periods, the deposit cap and the invitation count are checked again at
    publication (``GET /tenders/{id}/checks`` lists what would stop it)."""
    project = _project(project_id)
    data = payload.dict()
    plan_id = data.pop("plan")
    plan = _get(TenderPlan, "plan", pk=plan_id) if plan_id is not None else None
    tender = services.create_tender(request.user, project, plan=plan, **data)
    return Status(201, _managed_view(tender))


@router.patch("/tenders/{tender_id}", response=TenderOut, summary="Change a draft tender")
def update_tender(request: HttpRequest, tender_id: int, payload: TenderPatch) -> dict[str, Any]:
    """A published tender changes only by clarification."""
    tender = services.update_tender(
        request.user, _tender(tender_id), **payload.dict(exclude_unset=True)
    )
    return _managed_view(tender)


@router.get("/tenders", response=TenderPage, auth=PUBLIC, summary="Published tenders")
def list_tenders(request: HttpRequest, filters: Query[TenderQuery]) -> dict[str, Any]:
    """Tenders whose notice is published (in any later state), newest first."""
    qs = _tenders().filter(published_at__isnull=False).order_by("-published_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.region_code:
        qs = qs.filter(project__region_code=filters.region_code)
    rows = qs[filters.offset : filters.offset + filters.limit]
    return {
        "count": qs.count(),
        "offset": filters.offset,
        "limit": filters.limit,
        "items": [_summary(t) for t in rows],
    }


@router.get("/tenders/{tender_id}", response=TenderOut, auth=PUBLIC, summary="One tender")
def get_tender(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    """Public once published; drafts only for the tender's managers."""
    tender, manager = _visible_tender(request, tender_id)
    return _tender_out(tender, manager=manager)


@router.get(
    "/tenders/{tender_id}/checks",
    response=ChecksOut,
    summary="What would stop the notice from being published",
)
def publication_checks(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    """Every statutory check the publication makes, each failure with its field, rule, article
    and, where one exists, the earliest date or time that would satisfy it."""
    tender = _tender(tender_id)
    services.require_manager(request.user, tender.project, _("Checking a tender"))
    found = services.publication_problems(tender) if tender.status == State.DRAFT else []
    return {
        "status": tender.status,
        "publishable": tender.status == State.DRAFT and not found,
        "problems": [
            {
                "field": p.field,
                "rule": p.rule,
                "article": p.article,
                "message": str(p.message),
                "earliest": _iso(p.earliest),
            }
            for p in found
        ],
    }


@router.post(
    "/tenders/{tender_id}/publish",
    response={201: NoticeOut},
    summary="Publish the tender notice (or invitation)",
)
def publish_tender(request: HttpRequest, tender_id: int) -> Status[Notice]:
    """Refused with the first failed check (see ``/checks``); the notice is immutable."""
    return Status(201, services.publish_tender(request.user, _tender(tender_id)))


@router.post("/tenders/{tender_id}/cancel", response=TenderOut, summary="Terminate (招标终止)")
def cancel_tender(request: HttpRequest, tender_id: int, payload: TenderReasonIn) -> dict[str, Any]:
    """Before the award; a published tender's termination notice is public at once."""
    tender = services.cancel_tender(request.user, _tender(tender_id), reason=payload.reason)
    return _managed_view(tender)


@router.post("/tenders/{tender_id}/fail", response=TenderOut, summary="Declare it failed (流标)")
def fail_tender(request: HttpRequest, tender_id: int, payload: TenderReasonIn) -> dict[str, Any]:
    tender = services.fail_tender(request.user, _tender(tender_id), reason=payload.reason)
    return _tender_out(_tender(tender.pk), manager=_manages(request.user, tender.project))


@router.post(
    "/tenders/{tender_id}/retender",
    response={201: TenderOut},
    summary="Start a new draft from a failed tender",
)
def retender(request: HttpRequest, tender_id: int) -> Status[Any]:
    tender = services.create_retender(request.user, _tender(tender_id))
    return Status(201, _managed_view(tender))


# --- documents ---------------------------------------------------------------------------------


@router.post(
    "/tenders/{tender_id}/documents",
    response={201: DocumentOut},
    summary="Upload the tender documents (a new version)",
)
def upload_document(
    request: HttpRequest, tender_id: int, file: File[UploadedFile]
) -> Status[Document]:
    """Multipart, field ``file``: PDF, OFD, ZIP, DOCX or XLSX, checked by extension and content."""
    return Status(201, services.upload_document(request.user, _tender(tender_id), file))


@router.post(
    "/tenders/{tender_id}/obtain",
    response=ObtainedOut,
    summary="Obtain the tender documents (获取招标文件)",
)
def obtain_documents(request: HttpRequest, tender_id: int) -> DocumentObtainer:
    """Free, with no other precondition; repeating it changes nothing. Nobody else learns of it
    before the opening."""
    tender, _manager = _visible_tender(request, tender_id)
    obtained = services.obtain_documents(request.user, tender)
    return _get(
        DocumentObtainer,
        "tender_id",
        DocumentObtainer.objects.select_related("organisation"),
        pk=obtained.pk,
    )


@router.get(
    "/tenders/{tender_id}/documents",
    response=list[DocumentOut],
    summary="The tender documents' versions",
)
def list_documents(request: HttpRequest, tender_id: int) -> Any:
    """For the tender's managers and for organisations that obtained the documents."""
    tender = _tender(tender_id)
    _require_documents_access(request, tender)
    return tender.documents.order_by("version")


@router.get(
    "/tenders/{tender_id}/documents/{version}",
    response={200: None},
    summary="Download one version of the tender documents",
)
def download_document(request: HttpRequest, tender_id: int, version: int) -> FileResponse:
    """The file as uploaded; its SHA-256 (as in the ledger) is the ``ETag``."""
    tender = _tender(tender_id)
    _require_documents_access(request, tender)
    document: Document = _get(Document, "version", tender=tender, version=version)
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.filename,
        content_type=document.content_type,
    )
    response["ETag"] = f'"{document.sha256}"'
    return response


@router.get(
    "/tenders/{tender_id}/obtainers",
    response=list[ObtainerOut],
    summary="Who obtained the documents (after the opening)",
)
def list_obtainers(request: HttpRequest, tender_id: int) -> list[DocumentObtainer]:
    """Refused before the opening to everyone, without saying how many there are (Law art. 22)."""
    return services.obtainers(request.user, _tender(tender_id))


# --- questions, clarifications, notices --------------------------------------------------------


@router.post(
    "/tenders/{tender_id}/questions", response={201: QuestionOut}, summary="Ask a question"
)
def ask_question(request: HttpRequest, tender_id: int, payload: QuestionIn) -> Status[Question]:
    """For organisations that obtained the documents, until the question deadline."""
    tender, _manager = _visible_tender(request, tender_id)
    return Status(201, services.ask_question(request.user, tender, text=payload.text))


@router.get(
    "/tenders/{tender_id}/questions",
    response=list[QuestionOut],
    auth=PUBLIC,
    summary="Questions and their answers",
)
def list_questions(request: HttpRequest, tender_id: int) -> Any:
    """Every question with the clarification that answers it, never who asked."""
    tender, _manager = _visible_tender(request, tender_id)
    return tender.questions.select_related("answered_by").order_by("asked_at", "id")


def _clarification_notice(clarification: Clarification) -> Notice | None:
    """The notice that published the clarification, as the event record links them."""
    notice_ref = (
        EventSubject.objects.filter(
            kind="notice",
            event__type="tendering.clarification.issued",
            event__subjects__kind="clarification",
            event__subjects__ref=str(clarification.pk),
        )
        .values_list("ref", flat=True)
        .first()
    )
    if notice_ref is None:
        return None
    return Notice.objects.filter(pk=int(notice_ref), tender_id=clarification.tender_id).first()


def _clarification_out(clarification: Clarification) -> dict[str, Any]:
    return {
        "number": clarification.number,
        "text": clarification.text,
        "affects_preparation": clarification.affects_preparation,
        "previous_deadline": clarification.previous_deadline,
        "bid_deadline": clarification.bid_deadline,
        "issued_at": clarification.issued_at,
        "answers": sorted(clarification.answers.values_list("pk", flat=True)),
        "notice": _clarification_notice(clarification),
    }


@router.post(
    "/tenders/{tender_id}/clarifications",
    response={201: ClarificationOut},
    summary="Issue a clarification or amendment (澄清/修改)",
)
def issue_clarification(
    request: HttpRequest, tender_id: int, payload: ClarificationIn
) -> Status[dict[str, Any]]:
    """One that may affect bid preparation must come at least 15 days before the bid deadline;
    otherwise it is refused with ``at`` = the earliest lawful deadline to send as
    ``new_bid_deadline``."""
    clarification = services.issue_clarification(request.user, _tender(tender_id), **payload.dict())
    return Status(201, _clarification_out(clarification))


@router.get(
    "/tenders/{tender_id}/clarifications",
    response=list[ClarificationOut],
    auth=PUBLIC,
    summary="The tender's clarifications",
)
def list_clarifications(request: HttpRequest, tender_id: int) -> list[dict[str, Any]]:
    tender, _manager = _visible_tender(request, tender_id)
    return [_clarification_out(c) for c in tender.clarifications.order_by("number")]


@router.get("/notices/{notice_id}", response=NoticeOut, auth=PUBLIC, summary="One notice")
def get_notice(request: HttpRequest, notice_id: int) -> Notice:
    """The immutable text as published, and its SHA-256 (the digest in the ledger)."""
    notice: Notice = _get(Notice, "notice_id", pk=notice_id)
    return notice


@router.get(
    "/lifecycle", response=LifecycleOut, auth=PUBLIC, summary="A tender's states and transitions"
)
def tender_lifecycle(request: HttpRequest) -> dict[str, Any]:
    """The same definition the services enforce (``tendering.lifecycle``)."""
    order = {state: i for i, state in enumerate((*lifecycle.MAIN_LINE, *lifecycle.SIDE_STATES))}
    return {
        "states": [
            {"value": s.value, "label": str(s.label), "main_line": s in lifecycle.MAIN_LINE}
            for s in State
        ],
        "main_line": [s.value for s in lifecycle.MAIN_LINE],
        "side_states": [s.value for s in lifecycle.SIDE_STATES],
        "transitions": [
            {
                "name": t.name,
                "label": str(t.label),
                "sources": sorted(t.sources, key=lambda s: order.get(State(s), 99)),
                "target": str(t.target),
                "by": str(t.by),
            }
            for t in lifecycle.TRANSITIONS
        ],
    }
