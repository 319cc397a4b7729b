"""Web pages for projects, plans, tenders, notices, documents, questions and clarifications.

Thin: every change goes through ``openbid.tendering.services``; a refusal is shown on the field it
names. Pages only hide what a person may not do — the services check again.

Who obtained the tender documents is never shown here, nor how many did: the law keeps it secret
until the opening (Law art. 22), from the tenderer and the agency too.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import has_role, memberships
from openbid.accounts.roles import Role
from openbid.core import clock, rules
from openbid.core.errors import DomainError, NotAllowed
from openbid.core.money import format_yuan
from openbid.core.web import add_refusal
from openbid.tendering import evaluation_rules, flowchart, lifecycle, services
from openbid.tendering.forms import (
    SECTIONS_PREFIX,
    CancelForm,
    ClarificationForm,
    DocumentForm,
    PlanForm,
    ProjectForm,
    QuestionForm,
    SectionForm,
    TenderForm,
    section_formset,
    section_initial,
    suggested_schedule,
)
from openbid.tendering.lifecycle import State
from openbid.tendering.models import (
    Document,
    DocumentObtainer,
    Notice,
    Project,
    Tender,
    TenderPlan,
)

PAGE_SIZE = 50
# Roles that may read a project's registration page without managing it.
OVERSIGHT_ROLES = (Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR)
SCHEDULE_FIELDS = ("doc_issue_start", "doc_issue_end", "question_deadline", "bid_deadline")


# --- helpers ---------------------------------------------------------------------------------


def _refused(request: HttpRequest, error: DomainError | str, status: int = 403) -> HttpResponse:
    return render(request, "tendering/refused.html", {"message": str(error)}, status=status)


def _manager_of(request: HttpRequest, project: Project) -> Organisation | None:
    """The organisation the person manages ``project`` for, if any (the services check again)."""
    if not request.user.is_authenticated:
        return None
    try:
        return services.require_manager(request.user, project, _("Managing the project"))
    except DomainError:
        return None


def _when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _field_label(field: str) -> str:
    """A problem's field as people read it: "Section 2 · Bid deposit (yuan)"."""
    if field.startswith("sections."):
        _prefix, number, name = [*field.split("."), "", ""][:3]
        form_field = SectionForm.base_fields.get(name)
        return _("Section %(n)s") % {"n": number} + (f" · {form_field.label}" if form_field else "")
    labels = {
        "documents": _("Tender documents"),
        "sections": _("Sections"),
        "invited": _("Invited bidders"),
    }
    if field in labels:
        return str(labels[field])
    form_field = TenderForm.base_fields.get(field)
    return str(form_field.label) if form_field else field


def _add_tender_refusal(
    form: TenderForm, formset: Any, filled: list[int], error: DomainError
) -> None:
    """Show a refusal of create/update_tender on its field, sections on their row."""
    field = error.field or ""
    if field.startswith("sections."):
        parts = field.split(".")
        try:
            row = formset.forms[filled[int(parts[1]) - 1]]
        except (IndexError, ValueError):
            row = None
        if row is not None:
            name = parts[2] if len(parts) > 2 and parts[2] in row.fields else None
            row.add_error(name, str(error))
            return
    add_refusal(form, error)


def _bidder_orgs(request: HttpRequest) -> list[Organisation]:
    return [m.organisation for m in memberships(request.user, Role.BIDDER_STAFF)]


def _obtained(request: HttpRequest, tender: Tender) -> DocumentObtainer | None:
    """The person's own organisation's record of obtaining the documents (never anyone else's)."""
    orgs = _bidder_orgs(request)
    if not orgs:
        return None
    return DocumentObtainer.objects.filter(tender=tender, organisation__in=orgs).first()


def _sections(tender: Tender) -> list[dict[str, Any]]:
    return [
        {
            "number": s.number,
            "name": s.name,
            "estimated_price": format_yuan(s.estimated_price),
            "ceiling_price": format_yuan(s.ceiling_price) if s.ceiling_price is not None else "—",
            "deposit": format_yuan(s.deposit),
        }
        for s in tender.sections.all()
    ]


def _schedule(tender: Tender) -> list[tuple[str, str]]:
    return [
        (_("Documents issued from"), _when(tender.doc_issue_start)),
        (_("Documents issued until"), _when(tender.doc_issue_end)),
        (_("Questions until"), _when(tender.question_deadline)),
        (_("Bid deadline and opening time"), _when(tender.bid_deadline)),
    ]


def _earliest_clarified_deadline(tender: Tender) -> dict[str, Any] | None:
    """The earliest lawful deadline for a clarification that may affect bid preparation, issued
    now, with its rule — when the current deadline is earlier (else it need not move)."""
    if tender.status != State.PUBLISHED or "clarification_lead_bid" in (
        tender.project.green_exemptions or ()
    ):
        return None
    now = clock.now()
    earliest = services.earliest_deadline_after_clarification(tender, now)
    if earliest <= tender.bid_deadline:
        return None
    rule = rules.rule("clarification_lead_bid", on=tender.rules_date or timezone.localdate(now))
    return {"when": _when(earliest), "days": rule.int_value, "article": rule.article}


def _tender_context(request: HttpRequest, tender: Tender, **forms: Any) -> dict[str, Any]:
    manager = _manager_of(request, tender.project)
    if tender.status == State.DRAFT and manager is None:
        raise Http404
    is_bidder = has_role(request.user, Role.BIDDER_STAFF)
    obtained = _obtained(request, tender) if is_bidder else None
    context: dict[str, Any] = {
        "tender": tender,
        "project": tender.project,
        "sections": _sections(tender),
        "schedule": _schedule(tender),
        "documents": list(tender.documents.order_by("-version")),
        "notices": list(tender.notices.order_by("-published_at", "-id")),
        "clarifications": list(tender.clarifications.order_by("number")),
        "questions": list(tender.questions.select_related("answered_by").order_by("asked_at")),
        "is_manager": manager is not None,
        "manager_org": manager,
        "is_bidder": is_bidder,
        "obtained": obtained,
        "obtained_at": _when(obtained.obtained_at) if obtained else "",
        "can_download": manager is not None or obtained is not None,
        "ledger_subject": f"tender:{tender.pk}",
        "published_at": _when(tender.published_at),
        "evaluation_rules": evaluation_rules.effective(tender),
    }
    if is_bidder and obtained is not None:
        context["own_questions"] = list(
            tender.questions.filter(asked_by=obtained.organisation)
            .select_related("answered_by")
            .order_by("asked_at")
        )
        if tender.status == State.PUBLISHED:
            context["question_form"] = QuestionForm()
    if forms.get("question_form") is not None:
        context["question_form"] = forms["question_form"]
    if manager is not None:
        editable = tender.status == State.DRAFT
        context["can_edit"] = editable
        if editable:
            problems = services.publication_problems(tender)
            context["problems"] = [
                {
                    "field": p.field,
                    "field_label": _field_label(p.field),
                    "rule": p.rule,
                    "article": p.article,
                    "message": p.message,
                    "earliest": _when(p.earliest),
                }
                for p in problems
            ]
            context["can_publish"] = not problems
        if tender.status in (State.DRAFT, State.PUBLISHED):
            context["upload_form"] = DocumentForm()
        context["can_clarify"] = tender.status == State.PUBLISHED
        if tender.status in lifecycle.BY_NAME["cancel"].sources:
            context["cancel_form"] = CancelForm()
        # A form sent back with a refusal is shown whatever the status, so the refusal is seen.
        for name in ("upload_form", "cancel_form"):
            if forms.get(name) is not None:
                context[name] = forms[name]
        context["unanswered"] = sum(1 for q in context["questions"] if q.answered_by_id is None)
    return context


def _render_tender(
    request: HttpRequest, tender: Tender, status: int = 200, **forms: Any
) -> HttpResponse:
    return render(
        request, "tendering/tender.html", _tender_context(request, tender, **forms), status=status
    )


def _tender(pk: int) -> Tender:
    return get_object_or_404(Tender.objects.select_related("project"), pk=pk)


def _tender_url(tender: Tender, anchor: str = "") -> str:
    return reverse("tendering:tender", args=[tender.pk]) + (f"#{anchor}" if anchor else "")


# --- public pages ----------------------------------------------------------------------------


@require_safe
def tender_list(request: HttpRequest) -> HttpResponse:
    """Published tenders and those further along, newest first."""
    qs = (
        Tender.objects.exclude(status=State.DRAFT)
        .filter(published_at__isnull=False)
        .select_related("project")
        .order_by("-published_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in State.values and status != State.DRAFT:
        qs = qs.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(project__name__icontains=q) | Q(project__code=q))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tendering/tenders.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": [(v, lbl) for v, lbl in State.choices if v != State.DRAFT],
        },
    )


@require_safe
def plan_list(request: HttpRequest) -> HttpResponse:
    """Tender plans published ahead of their notices (招标计划提前发布), soonest first."""
    qs = TenderPlan.objects.select_related("project").order_by("expected_notice_date", "id")
    if request.GET.get("past") != "1":
        qs = qs.filter(expected_notice_date__gte=clock.today())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tendering/plans.html",
        {
            "page": page,
            "past": request.GET.get("past") == "1",
            "rows": [(p, format_yuan(p.estimated_amount)) for p in page],
        },
    )


@require_safe
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """A published notice: its immutable text, its SHA-256 and where to check it in the ledger."""
    obj = get_object_or_404(Notice.objects.select_related("tender__project"), pk=pk)
    return render(
        request,
        "tendering/notice.html",
        {
            "notice": obj,
            "tender": obj.tender,
            "published_at": _when(obj.published_at),
            "ledger_subject": f"tender:{obj.tender_id}",
            "others": obj.tender.notices.exclude(pk=obj.pk).order_by("published_at", "id"),
        },
    )


@require_safe
def notice_text(request: HttpRequest, pk: int) -> HttpResponse:
    """The notice's exact bytes (UTF-8), so anyone can recompute its SHA-256."""
    obj = get_object_or_404(Notice, pk=pk)
    response = HttpResponse(obj.body.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="notice-{obj.pk}.txt"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def flowchart_page(request: HttpRequest) -> HttpResponse:
    """办事流程图: drawn from the lifecycle the services enforce, with the same data as a table."""
    title = _("The life of a tender")
    return render(
        request,
        "tendering/flowchart.html",
        {
            "svg": flowchart.svg(title=title),
            "title": title,
            "rows": flowchart.transition_rows(),
        },
    )


@require_safe
def tender(request: HttpRequest, pk: int) -> HttpResponse:
    """The tender: public facts for everyone, a bidder's own panel, and the managers' panel."""
    return _render_tender(request, _tender(pk))


@require_http_methods(["GET", "POST"])
def questions(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the public questions and answers (never who asked). POST: a bidder asks."""
    obj = _tender(pk)
    if request.method == "GET":
        if obj.status == State.DRAFT and _manager_of(request, obj.project) is None:
            raise Http404
        return render(
            request,
            "tendering/questions.html",
            {
                "tender": obj,
                "questions": obj.questions.select_related("answered_by").order_by("asked_at"),
            },
        )
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={_tender_url(obj)}")
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.ask_question(request.user, obj, text=form.cleaned_data["text"])
        except DomainError as error:
            if isinstance(error, NotAllowed) and _obtained(request, obj) is None:
                return _refused(request, error)
            add_refusal(form, error)
        else:
            messages.success(
                request, _("Your question is sent. Its answer will be published to all.")
            )
            return redirect(_tender_url(obj, "my-questions"))
    return _render_tender(request, obj, status=422, question_form=form)


# --- bidders ----------------------------------------------------------------------------------


@login_required
@require_POST
def obtain(request: HttpRequest, pk: int) -> HttpResponse:
    """Obtain the tender documents (free); the platform records it and keeps it secret."""
    obj = _tender(pk)
    try:
        services.obtain_documents(request.user, obj)
    except NotAllowed as error:
        return _refused(request, error)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You have obtained the tender documents. Download them below."))
    return redirect(_tender_url(obj, "documents"))


@login_required
@require_safe
def document(request: HttpRequest, pk: int, doc_pk: int) -> HttpResponseBase:
    """A tender document file: only for managers and organisations that obtained the documents."""
    obj = _tender(pk)
    doc = get_object_or_404(Document, pk=doc_pk, tender=obj)
    if _manager_of(request, obj.project) is None and _obtained(request, obj) is None:
        return _refused(
            request,
            _("Obtain the tender documents on the tender's page first; they are free of charge."),
        )
    response = FileResponse(
        doc.file.open("rb"),
        as_attachment=True,
        filename=doc.filename,
        content_type=doc.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(doc.sha256)).decode()}:"
    return response


# --- tenderers and agencies: projects and plans ---------------------------------------------


def _manages_any(request: HttpRequest) -> bool:
    return has_role(request.user, Role.TENDERER_STAFF, Role.AGENCY_STAFF)


@login_required
@require_safe
def project_list(request: HttpRequest) -> HttpResponse:
    """The projects of the organisations the person works for as tenderer or agency staff."""
    tenderers = [m.organisation for m in memberships(request.user, Role.TENDERER_STAFF)]
    agencies = [m.organisation for m in memberships(request.user, Role.AGENCY_STAFF)]
    qs = (
        Project.objects.filter(Q(tenderer__in=tenderers) | Q(agency__in=agencies))
        .select_related("tenderer", "agency")
        .order_by("-registered_at")
        .distinct()
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tendering/projects.html",
        {"page": page, "can_register": bool(tenderers or agencies)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    """Register a project (项目登记)."""
    tenderer_roles = list(memberships(request.user, Role.TENDERER_STAFF))
    agency_roles = list(memberships(request.user, Role.AGENCY_STAFF))
    if not tenderer_roles and not agency_roles:
        return _refused(
            request, _("Projects are registered by tenderer staff or by their agency's staff.")
        )
    own = (tenderer_roles or agency_roles)[0].organisation
    form = ProjectForm(
        request.POST or None,
        initial={"region_code": own.region_code, "state_funding_percent": "100"},
        for_agency=bool(agency_roles),
        for_tenderer=bool(tenderer_roles),
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = services.register_project(request.user, **form.service_arguments())
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request, _("The project %(code)s is registered.") % {"code": project.code}
            )
            return redirect("tendering:project", pk=project.pk)
    return render(
        request,
        "tendering/project_form.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )


def _project_context(
    request: HttpRequest, project: Project, manager: Organisation | None, **forms: Any
) -> dict[str, Any]:
    return {
        "project": project,
        "is_manager": manager is not None,
        "tenders": project.tenders.order_by("-created_at"),
        "plans": [
            (plan, format_yuan(plan.estimated_amount))
            for plan in project.plans.order_by("expected_notice_date")
        ],
        "investment": format_yuan(project.estimated_investment),
        "plan_form": forms.get("plan_form") or PlanForm(),
    }


@login_required
@require_safe
def project(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(Project.objects.select_related("tenderer", "agency"), pk=pk)
    manager = _manager_of(request, obj)
    if manager is None and not has_role(request.user, *OVERSIGHT_ROLES):
        return _refused(request, _("This page is for the project's tenderer and its agency."))
    return render(request, "tendering/project.html", _project_context(request, obj, manager))


@login_required
@require_POST
def plan_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish a tender plan of the project."""
    obj = get_object_or_404(Project, pk=pk)
    manager = _manager_of(request, obj)
    if manager is None:
        return _refused(
            request, _("Publishing a tender plan is for the project's tenderer and its agency.")
        )
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            services.publish_plan(request.user, obj, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("The tender plan is published."))
            return redirect("tendering:project", pk=obj.pk)
    return render(
        request,
        "tendering/project.html",
        _project_context(request, obj, manager, plan_form=form),
        status=422,
    )


# --- tenderers and agencies: tenders --------------------------------------------------------


def _with_extra_row(data: QueryDict) -> QueryDict:
    """The posted data with one more (blank) section row — the no-script "add a section"."""
    data = data.copy()
    key = f"{SECTIONS_PREFIX}-TOTAL_FORMS"
    try:
        data[key] = str(min(int(data.get(key, "0")) + 1, 50))
    except ValueError:
        data[key] = "2"
    return data


def _tender_form_page(
    request: HttpRequest,
    project: Project,
    tender: Tender | None,
) -> HttpResponse:
    if tender is None:
        initial: dict[str, Any] = {
            "kind": Tender.Kind.WORKS,
            "method": Tender.Method.OPEN,
            "evaluation_method": Tender.Evaluation.LOWEST_PRICE,
            "deposit_form": Tender.DepositForm.CASH_OR_GUARANTEE,
            **suggested_schedule(),
        }
        sections: list[dict[str, Any]] = []
    else:
        initial = TenderForm.initial_for(tender)
        sections = section_initial(tender)
    data = None
    if request.method == "POST":
        data = _with_extra_row(request.POST) if "add_section" in request.POST else request.POST
    form = TenderForm(data, initial=initial, project=project)
    if tender is not None:
        form.fields["plan"].disabled = True  # the plan is chosen when the tender is created
    formset = section_formset(data, initial=sections)
    status = 200
    if request.method == "POST" and "add_section" not in request.POST:
        status = 422
        if form.is_valid() and formset.is_valid():
            filled = formset.filled()
            fields = dict(form.cleaned_data)
            invited = fields.pop("invited")
            plan = fields.pop("plan")
            try:
                if tender is None:
                    tender = services.create_tender(
                        request.user,
                        project,
                        sections=[f.as_section() for _i, f in filled],
                        invited=invited,
                        plan=plan,
                        **fields,
                    )
                    messages.success(request, _("The draft tender is saved."))
                else:
                    changed = {k: v for k, v in fields.items() if k in form.changed_data}
                    services.update_tender(
                        request.user,
                        tender,
                        sections=[f.as_section() for _i, f in filled]
                        if formset.has_changed()
                        else None,
                        invited=invited if "invited" in form.changed_data else None,
                        **changed,
                    )
                    messages.success(request, _("The draft tender is saved."))
            except DomainError as error:
                _add_tender_refusal(form, formset, [i for i, _f in filled], error)
            else:
                return redirect(_tender_url(tender))
    return render(
        request,
        "tendering/tender_form.html",
        {
            "form": form,
            "formset": formset,
            "project": project,
            "tender": tender,
            "schedule_fields": SCHEDULE_FIELDS,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tender_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a draft tender of the project, with its sections."""
    obj = get_object_or_404(Project, pk=pk)
    if _manager_of(request, obj) is None:
        return _refused(
            request, _("Creating a tender is for the project's tenderer and its agency.")
        )
    return _tender_form_page(request, obj, None)


@login_required
@require_http_methods(["GET", "POST"])
def tender_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft tender (a published one changes only by clarification)."""
    obj = _tender(pk)
    if _manager_of(request, obj.project) is None:
        return _refused(
            request, _("Changing a tender is for the project's tenderer and its agency.")
        )
    if obj.status != State.DRAFT:
        messages.error(
            request, _("Only a draft tender can be edited; publish a clarification instead.")
        )
        return redirect(_tender_url(obj))
    return _tender_form_page(request, obj.project, obj)


@login_required
@require_safe
def section_row(request: HttpRequest) -> HttpResponse:
    """htmx: one more blank section row, and the formset's new row count (out of band)."""
    try:
        index = max(0, min(int(request.GET.get(f"{SECTIONS_PREFIX}-TOTAL_FORMS", "0")), 49))
    except ValueError:
        index = 0
    form = SectionForm(prefix=f"{SECTIONS_PREFIX}-{index}")
    return render(
        request,
        "tendering/_section_row.html",
        {"row": form, "index": index, "total": index + 1, "oob": True},
    )


@login_required
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a tender document (multipart; Django streams large files to a temporary file)."""
    obj = _tender(pk)
    if _manager_of(request, obj.project) is None:
        return _refused(
            request, _("Uploading tender documents is for the project's tenderer and its agency.")
        )
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            doc = services.upload_document(request.user, obj, upload_file)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is uploaded as version %(version)d.")
                % {"name": doc.filename, "version": doc.version},
            )
            return redirect(_tender_url(obj, "documents"))
    return _render_tender(request, obj, status=422, upload_form=form)


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish the tender notice; the service checks every rule again."""
    obj = _tender(pk)
    if _manager_of(request, obj.project) is None:
        return _refused(
            request, _("Publishing a tender is for the project's tenderer and its agency.")
        )
    try:
        published = services.publish_tender(request.user, obj)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(_tender_url(obj, "checks"))
    messages.success(request, _("The notice is published."))
    return redirect("tendering:notice", pk=published.pk)


@login_required
@require_http_methods(["GET", "POST"])
def clarify(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a clarification or amendment; one that may affect bid preparation may have to move
    the bid deadline, and the page proposes the earliest lawful one."""
    obj = _tender(pk)
    if _manager_of(request, obj.project) is None:
        return _refused(
            request, _("Issuing a clarification is for the project's tenderer and its agency.")
        )
    if obj.status != State.PUBLISHED:
        messages.error(request, _("Clarifications are issued while the tender accepts bids."))
        return redirect(_tender_url(obj))
    initial: dict[str, Any] = {}
    if asked := request.GET.get("answer"):
        initial["answers"] = [asked]
    form = ClarificationForm(request.POST or None, initial=initial, tender=obj)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                clarification = services.issue_clarification(
                    request.user,
                    obj,
                    text=data["text"],
                    affects_preparation=data["affects_preparation"],
                    new_bid_deadline=data["new_bid_deadline"],
                    answers=form.answered_questions(),
                )
            except DomainError as error:
                add_refusal(form, error)
                if error.rule == "clarification_lead_bid" and isinstance(error.at, dt.datetime):
                    # Propose the earliest lawful deadline: the person confirms by sending again.
                    proposed = request.POST.copy()
                    proposed["new_bid_deadline"] = timezone.localtime(error.at).strftime(
                        "%Y-%m-%dT%H:%M"
                    )
                    form.data = proposed
            else:
                messages.success(
                    request,
                    _(
                        "Clarification no. %(n)d is published to everyone who obtained the documents."
                    )
                    % {"n": clarification.number},
                )
                return redirect(_tender_url(obj, "clarifications"))
    return render(
        request,
        "tendering/clarify.html",
        {
            "tender": obj,
            "form": form,
            "bid_deadline": _when(obj.bid_deadline),
            "earliest": _earliest_clarified_deadline(obj),
            "questions": obj.questions.filter(answered_by__isnull=True).order_by("asked_at"),
        },
        status=status,
    )


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Terminate the tender (招标终止), publishing the reason if it was public."""
    obj = _tender(pk)
    if _manager_of(request, obj.project) is None:
        return _refused(
            request, _("Terminating a tender is for the project's tenderer and its agency.")
        )
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_tender(request.user, obj, reason=form.cleaned_data["reason"])
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("The tender is terminated."))
            return redirect(_tender_url(obj))
    return _render_tender(request, obj, status=422, cancel_form=form)
