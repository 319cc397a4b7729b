"""Pages of the expert pool (centre staff), a tender's committee draw (its managers and centre
staff) and experts' assignments. Thin: every change goes through the services; a refusal is shown
as a message and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import has_role
from openbid.accounts.roles import Role
from openbid.core.errors import DomainError
from openbid.core.web import add_refusal
from openbid.draws import services as draws
from openbid.evaluation import committee as committees
from openbid.evaluation import services, specialties
from openbid.evaluation.forms import (
    CommitteeForm,
    DeclineForm,
    ExpertForm,
    ReasonForm,
    RepresentativeForm,
    UnavailabilityForm,
)
from openbid.evaluation.models import CommitteeMember, Expert
from openbid.ledger import keys
from openbid.tendering.models import Tender


def _refused(request: HttpRequest, message: Any, status: int = 403) -> HttpResponse:
    return render(request, "tendering/refused.html", {"message": str(message)}, status=status)


def _is_staff(request: HttpRequest) -> bool:
    return has_role(request.user, Role.CENTRE_STAFF)


@login_required
@require_http_methods(["GET", "POST"])
def pool(request: HttpRequest) -> HttpResponse:
    """The expert pool: list and admit (centre staff)."""
    if not _is_staff(request):
        return _refused(request, _("The expert pool is managed by centre staff."))
    form = ExpertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        org = Organisation.objects.filter(credit_code=data["employer"].strip().upper()).first()
        account = (
            User.objects.filter(username=data["username"].strip()).first()
            if data["username"]
            else None
        )
        if org is None:
            form.add_error("employer", _("No organisation has this credit code."))
        elif data["username"] and account is None:
            form.add_error("username", _("No such account."))
        else:
            try:
                expert = services.admit_expert(
                    request.user,
                    name=data["name"],
                    id_number=data["id_number"],
                    employer=org,
                    region_code=data["region_code"],
                    specialties=data["specialties"],
                    title=data["title"],
                    qualifications=data["qualifications"].splitlines(),
                    user=account,
                )
            except DomainError as error:
                add_refusal(form, error)
            else:
                messages.success(request, _("%(name)s is admitted.") % {"name": expert.name})
                return redirect("evaluation:pool")
    status = request.GET.get("status") or ""
    experts = Expert.objects.select_related("employer").prefetch_related("specialties")
    if status:
        experts = experts.filter(status=status)
    return render(
        request,
        "evaluation/pool.html",
        {
            "experts": experts,
            "form": form,
            "status": status,
            "statuses": Expert.Status.choices,
            "specialties": specialties.table(),
        },
    )


_STATUS_ACTIONS = {
    "suspend": services.suspend_expert,
    "reinstate": services.reinstate_expert,
    "remove": services.remove_expert,
}


@login_required
@require_http_methods(["GET", "POST"])
def expert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One expert: status changes with reasons, unavailable days, the record of changes."""
    expert = get_object_or_404(Expert.objects.select_related("employer"), pk=pk)
    mine = expert.user_id is not None and expert.user_id == request.user.pk
    if not (_is_staff(request) or mine):
        return _refused(request, _("The expert pool is managed by centre staff."))
    reason_form = ReasonForm()
    away_form = UnavailabilityForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in _STATUS_ACTIONS:
                reason_form = ReasonForm(request.POST)
                if reason_form.is_valid():
                    _STATUS_ACTIONS[action](
                        request.user, expert, reason=reason_form.cleaned_data["reason"]
                    )
                    messages.success(request, _("The expert's status is changed."))
                    return redirect("evaluation:expert", pk=expert.pk)
            elif action == "unavailable":
                away_form = UnavailabilityForm(request.POST)
                if away_form.is_valid():
                    services.add_unavailability(request.user, expert, **away_form.cleaned_data)
                    messages.success(request, _("The days are entered."))
                    return redirect("evaluation:expert", pk=expert.pk)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("evaluation:expert", pk=expert.pk)
    return render(
        request,
        "evaluation/expert.html",
        {
            "expert": expert,
            "is_staff": _is_staff(request),
            "reason_form": reason_form,
            "away_form": away_form,
            "unavailable": expert.unavailable.filter(withdrawn=False),
            "specialties": [specialties.table().get(c) for c in expert.specialty_codes],
        },
    )


def _tender(pk: int) -> Tender:
    return get_object_or_404(
        Tender.objects.select_related("project__tenderer", "project__agency"),
        pk=pk,
        published_at__isnull=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def committee_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The tender's committee: start the draw, its status, the draws' verification data, seats,
    representatives and the chair's election."""
    tender = _tender(pk)
    manage = committees.may_manage(request.user, tender)
    committee = committees.committee_of(tender)
    member = committees.member_of(request.user, committee) if committee else None
    published = committee is not None and committee.published_at is not None
    if not (manage or draws.may_see_secrets(request.user) or member or published):
        return _refused(request, _("This page is for the tender's managers and centre staff."))
    form = CommitteeForm(request.POST or None) if committee is None else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            committees.start_committee_draw(
                request.user,
                tender,
                evaluation_date=form.cleaned_data["evaluation_date"],
                groups=form.groups(),
                representatives=form.cleaned_data["representatives"],
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("The experts are drawn."))
            return redirect("evaluation:committee", pk=tender.pk)
    context: dict[str, Any] = {
        "tender": tender,
        "committee": committee,
        "form": form,
        "manage": manage,
        "member": member,
        "verifier_key": keys.log_verifier_key(),
    }
    if committee is not None:
        names = committees.may_see_members(request.user, committee)
        seats = []
        for m in committee.members.select_related("expert__employer", "user").order_by("pk"):
            visible = names or m.kind == CommitteeMember.Kind.REPRESENTATIVE or m == member
            seats.append({"m": m, "name": m.display_name if visible else "", "visible": visible})
        context.update(
            seats=seats,
            names=names,
            draws=draws.draws_of("tender", tender.pk)
            .filter(purpose=committees.PURPOSE)
            .select_related("checkpoint"),
            missing=committees.missing_seats(committee),
            representative_form=RepresentativeForm(),
            recusals=committee.recusals.select_related("expert") if names else [],
            votes=committee.votes.select_related("voter", "candidate"),
            candidates=committee.members.filter(status=CommitteeMember.Status.CONFIRMED),
        )
    return render(request, "evaluation/committee.html", context)


@login_required
@require_POST
def committee_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    tender = _tender(pk)
    committee = committees.committee_of(tender)
    if committee is None:
        return redirect("evaluation:committee", pk=tender.pk)
    try:
        if action == "redraw":
            committees.redraw_missing(request.user, committee)
            committees.perform_committee_draws(committee)
            messages.success(request, _("The open seats are drawn again."))
        elif action == "representative":
            form = RepresentativeForm(request.POST)
            person = (
                User.objects.filter(username=form.data.get("username", "").strip()).first()
                if form.is_valid()
                else None
            )
            if person is None:
                messages.error(request, _("No such account."))
            else:
                committees.add_representative(request.user, committee, user=person)
                messages.success(request, _("The representative is seated."))
        elif action == "vote":
            candidate = committee.members.filter(pk=request.POST.get("seat") or 0).first()
            if candidate is None:
                messages.error(request, _("Vote for a member of this committee."))
            else:
                committees.vote_chair(request.user, committee, candidate=candidate)
                messages.success(request, _("Your vote is recorded."))
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("evaluation:committee", pk=tender.pk)


@login_required
@require_http_methods(["GET", "POST"])
def my_assignments(request: HttpRequest) -> HttpResponse:
    """The signed-in expert's seats: confirm or decline (with a reason)."""
    expert = services.expert_for_user(request.user)
    if request.method == "POST":
        seat = CommitteeMember.objects.filter(pk=request.POST.get("seat") or 0).first()
        try:
            if seat is None:
                messages.error(request, _("No such assignment of yours."))
            elif request.POST.get("action") == "confirm":
                committees.confirm_seat(request.user, seat)
                messages.success(request, _("You confirmed."))
            else:
                form = DeclineForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("Say why you decline."))
                else:
                    committees.decline_seat(request.user, seat, reason=form.cleaned_data["reason"])
                    committees.perform_committee_draws(seat.committee)
                    messages.success(request, _("You declined; the seat is drawn again."))
        except DomainError as error:
            messages.error(request, str(error))
        return redirect("evaluation:my_assignments")
    return render(
        request,
        "evaluation/assignments.html",
        {
            "expert": expert,
            "seats": committees.assignments(request.user) if expert else [],
            "decline_form": DeclineForm(),
        },
    )
