"""Credit pages: public credit information (公共服务平台), the entity's own view with its working,
credit repair, and the staff workspace. Thin: every change goes through ``services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import memberships
from openbid.core import clock
from openbid.core.errors import DomainError
from openbid.core.events import timeline
from openbid.core.web import add_refusal
from openbid.credit import exchange, gate, services
from openbid.credit.forms import (
    DecisionForm,
    ImportForm,
    PersonForm,
    ReasonForm,
    RecordForm,
    RepairForm,
)
from openbid.credit.models import CreditRecord, CreditSubject, RepairApplication
from openbid.credit.notifications import text as notification_text
from openbid.credit.notifications import visible_to
from openbid.credit.periods import earliest_repair_date
from openbid.credit.scoring import Working, working_for


def _refused(request: HttpRequest, message: Any, status: int = 403) -> HttpResponse:
    return render(request, "tendering/refused.html", {"message": str(message)}, status=status)


def _is_staff(request: HttpRequest) -> bool:
    return services.is_credit_staff(request.user)


def _public_lines(working: Working) -> list[Any]:
    return [ln for ln in working.lines if ln.record.is_public and ln.counts]


# --- public ------------------------------------------------------------------------------------


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Credit information: find an entity; the serious-dishonesty list."""
    query = (request.GET.get("q") or "").strip()
    orgs = Organisation.objects.none()
    if query:
        orgs = Organisation.objects.filter(
            Q(name__icontains=query) | Q(credit_code__iexact=query)
        ).order_by("name")[:50]
    listed = list(exchange.listed_records())
    return render(
        request,
        "credit/index.html",
        {"query": query, "orgs": orgs, "listed": listed, "today": clock.today()},
    )


@require_safe
def entity(request: HttpRequest, credit_code: str) -> HttpResponse:
    """An entity's public credit page: grade and score, public records in effect, repairs."""
    org = get_object_or_404(Organisation, credit_code=credit_code.upper())
    subject = services.subject_of(org)
    working = working_for(subject)
    repaired = []
    public = []
    if subject is not None:
        by_pk = {r.pk: r for r in subject.records.all()}
        public = [(ln, by_pk[ln.record.pk]) for ln in _public_lines(working)]
        repaired = list(
            subject.records.filter(status=CreditRecord.Status.REPAIRED, is_public=True).order_by(
                "-status_changed_at"
            )
        )
    return render(
        request,
        "credit/entity.html",
        {
            "org": org,
            "working": working,
            "lines": [ln for ln, _rec in public],
            "public": public,
            "repaired": repaired,
            "listing": gate.listing(org),
            "own": services.has_role(request.user, *services.MARKET_ROLES, organisation=org),
        },
    )


@require_safe
def export_csv(request: HttpRequest) -> HttpResponse:
    """The serious-dishonesty list as CSV (docs/credit-exchange.md)."""
    response = HttpResponse(exchange.export_csv(), content_type="text/csv; charset=utf-8")
    name = f"serious-dishonesty-list-{clock.today().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_safe
def export_json(request: HttpRequest) -> HttpResponse:
    """The serious-dishonesty list as JSON (docs/credit-exchange.md)."""
    return JsonResponse(exchange.export_json(), json_dumps_params={"ensure_ascii": False})


# --- the entity's own view ---------------------------------------------------------------------


def own_subjects(user: Any) -> list[tuple[str, Organisation | None, CreditSubject | None]]:
    """(name, organisation, subject) for each organisation the person acts for, and for the
    person as an expert."""
    out: list[tuple[str, Organisation | None, CreditSubject | None]] = []
    seen = set()
    for m in memberships(user, *services.MARKET_ROLES).order_by("id"):
        if m.organisation_id in seen:
            continue
        seen.add(m.organisation_id)
        out.append((m.organisation.name, m.organisation, services.subject_of(m.organisation)))
    for subject in CreditSubject.objects.filter(user=user, kind=CreditSubject.Kind.PERSON):
        out.append((subject.person_name, None, subject))
    return out


def _record_row(record: CreditRecord, today: Any) -> dict[str, Any]:
    refusal = services.repair_refusal(record, today)
    earliest = None
    if record.is_negative and record.repairable:
        earliest = earliest_repair_date(record)[0]
    return {
        "record": record,
        "may_apply": refusal is None,
        "refusal": str(refusal) if refusal is not None else "",
        "earliest": earliest,
    }


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """The entity's own credit: grade with the full working (public and non-public records),
    repair applications and notifications."""
    today = clock.today()
    blocks = []
    for name, org, subject in own_subjects(request.user):
        working = working_for(subject, today)
        records = list(subject.records.all()) if subject is not None else []
        by_ref = {r.number: r for r in records}
        blocks.append(
            {
                "name": name,
                "org": org,
                "subject": subject,
                "working": working,
                "lines": [(ln, by_ref[ln.record.ref]) for ln in working.lines],
                "rows": [_record_row(r, today) for r in records],
                "applications": list(
                    RepairApplication.objects.filter(record__subject=subject).select_related(
                        "record"
                    )
                )
                if subject is not None
                else [],
                "listing": gate.listing(org) if org is not None else None,
            }
        )
    notes = [
        {"at": n.created_at, "text": notification_text(n), "link": n.link}
        for n in visible_to(request.user)[:50]
    ]
    return render(
        request, "credit/mine.html", {"blocks": blocks, "notifications": notes, "today": today}
    )


def _may_see_record(request: HttpRequest, record: CreditRecord) -> bool:
    if _is_staff(request) or services.may_apply(request.user, record):
        return True
    today = clock.today()
    return (
        record.is_public
        and record.status == CreditRecord.Status.ACTIVE
        and record.valid_from <= today <= record.valid_until
    )


@require_safe
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """One record: its facts, basis, validity and status; for staff and the subject also its
    history and repair applications."""
    rec = get_object_or_404(CreditRecord.objects.select_related("subject__organisation"), pk=pk)
    if not _may_see_record(request, rec):
        raise Http404
    privileged = _is_staff(request) or services.may_apply(request.user, rec)
    return render(
        request,
        "credit/record.html",
        {
            "rec": rec,
            "privileged": privileged,
            "staff": _is_staff(request),
            "events": list(timeline("credit_record", rec.pk)) if privileged else [],
            "applications": list(rec.repair_applications.all()) if privileged else [],
            "row": _record_row(rec, clock.today()) if privileged else None,
            "revoke_form": ReasonForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply_repair(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply for credit repair of one's own record, with a statement and evidence."""
    rec = get_object_or_404(CreditRecord.objects.select_related("subject__organisation"), pk=pk)
    if not services.may_apply(request.user, rec):
        return _refused(
            request,
            _("Only the people of the entity the record is about may apply for its repair."),
        )
    form = RepairForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.apply_for_repair(
                request.user,
                rec,
                statement=form.cleaned_data["statement"],
                evidence=form.cleaned_data.get("evidence"),
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                _("Your repair application no. %(id)s is submitted.") % {"id": application.pk},
            )
            return redirect("credit:mine")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "credit/apply_repair.html",
        {"rec": rec, "form": form, "row": _record_row(rec, clock.today())},
        status=status,
    )


@login_required
@require_safe
def repair(request: HttpRequest, pk: int) -> HttpResponse:
    """A repair application: staff review and decide it here; the applicant follows it."""
    application = get_object_or_404(
        RepairApplication.objects.select_related("record__subject__organisation"), pk=pk
    )
    staff = _is_staff(request)
    if not staff and not services.may_apply(request.user, application.record):
        raise Http404
    return render(
        request,
        "credit/repair.html",
        {
            "application": application,
            "rec": application.record,
            "staff": staff,
            "due": services.due_dates(application),
            "decision_form": DecisionForm(),
            "events": list(timeline("credit_repair", application.pk)),
        },
    )


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(RepairApplication, pk=pk)
    try:
        services.accept_repair(request.user, application)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The application is accepted for review."))
    return redirect("credit:repair", pk=pk)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(RepairApplication, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.decide_repair(
                request.user,
                application,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The decision is recorded and the applicant notified."))
            return redirect("credit:repair", pk=pk)
    else:
        messages.error(request, _("Choose a decision and give its reasons."))
    return redirect("credit:repair", pk=pk)


@login_required
@require_safe
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    application = get_object_or_404(RepairApplication, pk=pk)
    if not (_is_staff(request) or services.may_apply(request.user, application.record)):
        raise Http404
    if not application.evidence:
        raise Http404
    return FileResponse(
        application.evidence.open("rb"), as_attachment=True, filename=application.evidence_name
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(CreditRecord, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.revoke_record(request.user, rec, reason=form.cleaned_data["reason"])
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The record is revoked."))
    else:
        messages.error(request, _("Give the reason."))
    return redirect("credit:record", pk=pk)


# --- staff workspace ---------------------------------------------------------------------------


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not _is_staff(request):
        return _refused(
            request, _("The credit workspace is for trading centre staff and regulators.")
        )
    return None


@login_required
@require_safe
def workspace(request: HttpRequest) -> HttpResponse:
    """Open repair applications, the latest records, and the forms to record and import."""
    if (refusal := _staff_only(request)) is not None:
        return refusal
    open_apps = RepairApplication.objects.filter(
        status__in=[RepairApplication.Status.SUBMITTED, RepairApplication.Status.UNDER_REVIEW]
    ).select_related("record__subject__organisation")
    page = Paginator(
        CreditRecord.objects.select_related("subject__organisation").order_by(
            "-recorded_at", "-id"
        ),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "credit/workspace.html",
        {
            "open_apps": [(a, services.due_dates(a)) for a in open_apps],
            "page": page,
            "import_form": ImportForm(),
            "people": CreditSubject.objects.filter(kind=CreditSubject.Kind.PERSON).order_by("-id")[
                :50
            ],
        },
    )


def _form_subject(request: HttpRequest, form: RecordForm) -> dict[str, Any] | None:
    data = form.cleaned_data
    code = (data.get("credit_code") or "").strip().upper()
    if code and data.get("person"):
        form.add_error("credit_code", _("Name either the entity or the person, not both."))
        return None
    if code:
        org = Organisation.objects.filter(credit_code=code).first()
        if org is None:
            form.add_error("credit_code", _("No organisation with this code is registered."))
            return None
        return {"organisation": org}
    if data.get("person"):
        subject = CreditSubject.objects.filter(
            pk=data["person"], kind=CreditSubject.Kind.PERSON
        ).first()
        if subject is None:
            form.add_error("person", _("No such person."))
            return None
        return {"subject": subject}
    form.add_error("credit_code", _("Name the entity or the person the record is about."))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def record_new(request: HttpRequest) -> HttpResponse:
    if (refusal := _staff_only(request)) is not None:
        return refusal
    initial = {"credit_code": request.GET.get("credit_code", ""), "decided_on": clock.today()}
    form = RecordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        target = _form_subject(request, form)
        if target is not None:
            data = {
                k: v for k, v in form.cleaned_data.items() if k not in ("credit_code", "person")
            }
            try:
                rec = services.record_credit(request.user, **target, **data)
            except DomainError as error:
                add_refusal(form, error)
            else:
                messages.success(request, _("Recorded as %(record)s.") % {"record": rec.number})
                return redirect("credit:record", pk=rec.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "credit/record_new.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    if (refusal := _staff_only(request)) is not None:
        return refusal
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = None
        if data.get("username"):
            user = User.objects.filter(username=data["username"]).first()
            if user is None:
                form.add_error("username", _("No person with this login name."))
        if not form.errors:
            try:
                subject = services.register_person(
                    request.user, name=data["person_name"], id_number=data["id_number"], user=user
                )
            except DomainError as error:
                add_refusal(form, error)
            else:
                messages.success(request, _("Registered as %(ref)s.") % {"ref": subject.reference})
                return redirect("credit:workspace")
    status = 422 if request.method == "POST" else 200
    return render(request, "credit/person_new.html", {"form": form}, status=status)


@login_required
@require_POST
def import_records(request: HttpRequest) -> HttpResponse:
    if (refusal := _staff_only(request)) is not None:
        return refusal
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = exchange.parse_upload(upload.read(), upload.name or "")
            created = services.import_records(
                request.user, source_platform=form.cleaned_data["source_platform"], rows=rows
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(count)d records imported.") % {"count": len(created)})
    else:
        messages.error(request, _("Choose the platform and the file."))
    return redirect("credit:workspace")
