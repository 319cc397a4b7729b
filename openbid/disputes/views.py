"""Disputes pages: complainants and objectors, respondents (tenderer, agency), regulators, the
trading centre and the public. Thin: every change goes through ``services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from openbid.accounts.permissions import has_role, memberships
from openbid.accounts.roles import Role
from openbid.core import clock, holds
from openbid.core.errors import DomainError
from openbid.core.events import timeline
from openbid.core.web import add_refusal
from openbid.disputes import forms, letters, services, timers
from openbid.disputes.models import (
    Complaint,
    Feedback,
    InvestigationStep,
    Objection,
    ResponsibilityEntry,
    Timer,
)
from openbid.tendering.models import Tender


def _refused(request: HttpRequest, message: Any, status: int = 403) -> HttpResponse:
    return render(request, "tendering/refused.html", {"message": str(message)}, status=status)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Objections and complaints: each person's cases by role, and the public decisions."""
    user = request.user
    cases = services.cases_for(user) if user.is_authenticated else None
    return render(
        request,
        "disputes/index.html",
        {
            "cases": cases,
            "decisions": services.published_decisions()[:10],
            "is_centre": has_role(user, Role.CENTRE_STAFF),
        },
    )


# --- objections -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def objection_new(request: HttpRequest, pk: int) -> HttpResponse:
    tender = get_object_or_404(Tender.objects.select_related("project"), pk=pk)
    form = forms.ObjectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            objection = services.raise_objection(request.user, tender, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                _("Objection %(ref)s is raised; the reply is due by %(due)s.")
                % {
                    "ref": objection.reference,
                    "due": objection.reply_due.astimezone().strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect("disputes:objection", pk=objection.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "disputes/objection_new.html", {"tender": tender, "form": form}, status=status
    )


@login_required
@require_safe
def objection(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(Objection.objects.select_related("tender__project"), pk=pk)
    if not services.may_see_objection(request.user, obj):
        raise Http404
    return render(
        request,
        "disputes/objection.html",
        {
            "o": obj,
            "respondent": services.is_respondent(request.user, obj.tender),
            "form": forms.ReplyForm(),
            "letters": letters.objection_letters(obj),
            "timer": timers.timer_of(Timer.Case.OBJECTION, obj.pk, Timer.Step.REPLY),
            "suspensions": obj.suspensions.all(),
        },
    )


@login_required
@require_POST
def objection_reply(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(Objection, pk=pk)
    form = forms.ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.reply_objection(request.user, obj, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The reply is delivered to the objector."))
    else:
        messages.error(request, _("Write the reply."))
    return redirect("disputes:objection", pk=pk)


# --- complaints -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest, pk: int) -> HttpResponse:
    tender = get_object_or_404(Tender.objects.select_related("project"), pk=pk)
    form = forms.ComplaintForm(
        request.POST or None,
        initial={"matter": request.GET.get("matter", ""), "knew_on": clock.today()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.file_complaint(request.user, tender, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                _("Complaint %(ref)s is filed with %(regulator)s.")
                % {"ref": complaint.reference, "regulator": complaint.regulator.name},
            )
            return redirect("disputes:complaint", pk=complaint.pk)
    entry = services.competent_regulator(tender.project)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "disputes/complaint_new.html",
        {"tender": tender, "form": form, "entry": entry},
        status=status,
    )


@login_required
@require_safe
def complaint(request: HttpRequest, pk: int) -> HttpResponse:
    c = get_object_or_404(
        Complaint.objects.select_related("tender__project", "regulator", "complainant"), pk=pk
    )
    user = request.user
    if not services.may_see_complaint(user, c):
        raise Http404
    regulator = services.is_regulator_of(user, c)
    my_orgs = set(memberships(user).values_list("organisation_id", flat=True))
    open_requests = [
        s
        for s in c.steps.filter(kind=InvestigationStep.Kind.REQUEST, ended_at__isnull=True)
        if s.addressee_id in my_orgs
    ]
    return render(
        request,
        "disputes/complaint.html",
        {
            "c": c,
            "regulator": regulator,
            "complainant": services.is_complainant(user, c),
            "steps": list(c.steps.select_related("addressee", "by_org")),
            "open_requests": open_requests,
            "paused": c.steps.filter(
                kind=InvestigationStep.Kind.PAUSE, ended_at__isnull=True
            ).exists(),
            "suspensions": list(c.suspensions.all()),
            "referrals": list(c.referrals.all()),
            "letters": letters.complaint_letters(c),
            "timers": list(Timer.objects.filter(case=Timer.Case.COMPLAINT, case_id=c.pk)),
            "events": list(timeline("complaint", c.pk)) if regulator else [],
            "forms": {
                "reject": forms.RejectForm(),
                "request": forms.RequestForm(),
                "hearing": forms.TextForm(),
                "pause": forms.ReasonForm(),
                "suspend": forms.SuspendForm(),
                "lift": forms.ReasonForm(),
                "decide": forms.DecideForm(),
                "refer": forms.ReferForm(),
                "reply": forms.TextForm(),
            },
        },
    )


ACTIONS: dict[str, tuple[Any, Any]] = {
    # action: (form class or None, service call taking (user, complaint, cleaned data))
    "accept": (None, lambda u, c, d: services.accept_complaint(u, c)),
    "reject": (forms.RejectForm, lambda u, c, d: services.reject_complaint(u, c, **d)),
    "request": (forms.RequestForm, lambda u, c, d: services.request_materials(u, c, **d)),
    "hearing": (forms.TextForm, lambda u, c, d: services.record_hearing(u, c, **d)),
    "pause": (forms.ReasonForm, lambda u, c, d: services.pause_decision_clock(u, c, **d)),
    "resume": (None, lambda u, c, d: services.resume_decision_clock(u, c)),
    "suspend": (forms.SuspendForm, lambda u, c, d: services.suspend_tender(u, c, **d)),
    "lift": (forms.ReasonForm, lambda u, c, d: services.lift_suspension(u, c, **d)),
    "decide": (forms.DecideForm, lambda u, c, d: services.decide_complaint(u, c, **d)),
    "refer": (forms.ReferForm, lambda u, c, d: services.refer_case(u, c, **d)),
}


@login_required
@require_POST
def complaint_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of the regulator's steps on a complaint."""
    c = get_object_or_404(Complaint, pk=pk)
    if action not in ACTIONS:
        raise Http404
    form_class, call = ACTIONS[action]
    data: dict[str, Any] = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            first = next(iter(form.errors.items()))
            messages.error(
                request,
                f"{form.fields[first[0]].label if first[0] in form.fields else ''}: {first[1][0]}",
            )
            return redirect("disputes:complaint", pk=pk)
        data = dict(form.cleaned_data)
        if action == "decide":
            data = {k: v for k, v in data.items() if v not in (None, "")} | {
                k: data[k] for k in ("outcome", "findings", "decision_number")
            }
    try:
        call(request.user, c, data)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Done."))
    return redirect("disputes:complaint", pk=pk)


@login_required
@require_POST
def request_reply(request: HttpRequest, pk: int) -> HttpResponse:
    step = get_object_or_404(InvestigationStep, pk=pk, kind=InvestigationStep.Kind.REQUEST)
    form = forms.TextForm(request.POST)
    if form.is_valid():
        try:
            services.reply_to_request(request.user, step, text=form.cleaned_data["text"])
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your reply is delivered to the regulator."))
    else:
        messages.error(request, _("Write the reply."))
    return redirect("disputes:complaint", pk=step.complaint_id)


# --- letters ----------------------------------------------------------------------------------------


@require_safe
def letter(request: HttpRequest, case: str, pk: int, kind: str) -> HttpResponse:
    """A standard letter as an HTML page, or as plain text with ``?format=txt``. Parties see the
    letters of their case; everyone sees a published decision, without the complainant."""
    user = request.user
    public = False
    obj: Any
    if case == "objection" and kind in letters.OBJECTION_LETTERS:
        obj = get_object_or_404(Objection, pk=pk)
        if not services.may_see_objection(user, obj):
            raise Http404
        available = {x.kind for x in letters.objection_letters(obj)}
    elif case == "complaint" and kind in letters.COMPLAINT_LETTERS:
        obj = get_object_or_404(Complaint, pk=pk)
        if not services.may_see_complaint(user, obj):
            if kind != "complaint_decision" or obj.published_at is None:
                raise Http404
            public = True
        available = {x.kind for x in letters.complaint_letters(obj)}
    elif case == "request" and kind == "materials_request":
        obj = get_object_or_404(InvestigationStep, pk=pk, kind=InvestigationStep.Kind.REQUEST)
        if not services.may_see_complaint(user, obj.complaint):
            raise Http404
        available = {kind}
    else:
        raise Http404
    if kind not in available:
        raise Http404
    text = letters.render(kind, obj, public=public)
    if request.GET.get("format") == "txt":
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{kind}-{pk}.txt"'
        return response
    return render(
        request,
        "disputes/letter.html",
        {"text": text, "title": letters.TITLES[kind], "case": case, "pk": pk, "kind": kind},
    )


# --- publication -------------------------------------------------------------------------------------


@require_safe
def decisions(request: HttpRequest) -> HttpResponse:
    """Published complaint decisions and the penalties arising from them (complainants not named)."""
    return render(
        request, "disputes/decisions.html", {"decisions": services.published_decisions()[:200]}
    )


@require_safe
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    c = get_object_or_404(services.published_decisions(), pk=pk)
    return render(
        request,
        "disputes/decision.html",
        {
            "c": c,
            "text": letters.render("complaint_decision", c, public=True),
            "referrals": list(c.referrals.all()),
        },
    )


@require_safe
def figures(request: HttpRequest) -> HttpResponse:
    """Handling times against targets and statutory limits (for the indicators)."""
    rates = timers.handling_rates(timers.handling_figures())
    return render(request, "disputes/figures.html", {"rates": rates})


# --- feedback ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest) -> HttpResponse:
    """Submit a suggestion or problem report; see your own (staff: all, with their timers)."""
    staff = has_role(request.user, Role.CENTRE_STAFF)
    form = forms.FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.submit_feedback(request.user, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                _("%(ref)s is submitted; the answer is due by %(due)s.")
                % {
                    "ref": item.reference,
                    "due": item.answer_due.astimezone().strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect("disputes:feedback")
    orgs = memberships(request.user).values_list("organisation_id", flat=True)
    items = Feedback.objects.all() if staff else Feedback.objects.filter(submitted_by_id__in=orgs)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "disputes/feedback.html",
        {"form": form, "items": items[:200], "staff": staff},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def feedback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Feedback, pk=pk)
    staff = has_role(request.user, Role.CENTRE_STAFF)
    if not staff and not has_role(request.user, organisation=item.submitted_by):
        raise Http404
    form = forms.AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_feedback(request.user, item, answer=form.cleaned_data["answer"])
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("The answer is sent."))
            return redirect("disputes:feedback_detail", pk=pk)
    return render(
        request,
        "disputes/feedback_detail.html",
        {
            "item": item,
            "form": form,
            "staff": staff,
            "timer": timers.timer_of(Timer.Case.FEEDBACK, item.pk, Timer.Step.ANSWER),
        },
    )


# --- the responsibility list -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def responsibilities(request: HttpRequest) -> HttpResponse:
    """The responsibility list (public); centre staff add and retire entries."""
    staff = has_role(request.user, Role.CENTRE_STAFF)
    form = forms.ResponsibilityForm(request.POST or None)
    if request.method == "POST":
        if not staff:
            return _refused(request, _("The responsibility list is kept by trading centre staff."))
        retire = request.POST.get("retire")
        try:
            if retire:
                services.retire_responsibility(
                    request.user, get_object_or_404(ResponsibilityEntry, pk=retire)
                )
                messages.success(request, _("The entry is retired."))
                return redirect("disputes:responsibilities")
            if form.is_valid():
                services.set_responsibility(request.user, **form.cleaned_data)
                messages.success(request, _("The entry is added."))
                return redirect("disputes:responsibilities")
        except DomainError as error:
            add_refusal(form, error)
    return render(
        request,
        "disputes/responsibilities.html",
        {
            "entries": ResponsibilityEntry.objects.filter(active=True).select_related("regulator"),
            "form": form,
            "staff": staff,
            "steps": holds.STEPS,
        },
        status=422 if request.method == "POST" else 200,
    )
