"""Web pages for registration, organisations, people and API tokens (thin: services do the work)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from openbid.accounts import commitment, services
from openbid.accounts.forms import (
    AddPersonForm,
    PasswordForm,
    ReasonForm,
    RegistrationForm,
    TokenForm,
)
from openbid.accounts.home import PUBLIC_TASKS, ROLE_TASKS, notifications_for
from openbid.accounts.models import ApiToken, Membership, Organisation
from openbid.accounts.permissions import has_role, memberships, signed_in
from openbid.accounts.regions import region
from openbid.accounts.roles import Role
from openbid.core import clock, rules
from openbid.core.errors import DomainError
from openbid.core.events import timeline
from openbid.core.models import DomainEvent
from openbid.core.web import add_refusal
from openbid.core.workdays import coverage_warning


def home(request: HttpRequest) -> HttpResponse:
    """The home page: for a signed-in person, one section per role they hold."""
    sections = []
    for membership in memberships(request.user):
        sections.append({"membership": membership, "tasks": ROLE_TASKS.get(membership.role, [])})
    warning = None
    if has_role(request.user, Role.CENTRE_STAFF):
        warning = coverage_warning(clock.today())
    return render(
        request,
        "accounts/home.html",
        {
            "sections": sections,
            "public_tasks": PUBLIC_TASKS,
            "calendar_warning": warning,
            "notifications": notifications_for(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org, user = services.register_market_entity(**form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            from django.contrib.auth import login

            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("%(org)s is registered and can take part at once.") % {"org": org.name},
            )
            return redirect("organisation", credit_code=org.credit_code)
    return render(
        request,
        "accounts/register.html",
        {
            "form": form,
            "commitment_text": commitment.text(),
            "commitment_summary": commitment.SUMMARY,
        },
    )


def organisations(request: HttpRequest) -> HttpResponse:
    """The market entity registry (public service platform)."""
    qs = Organisation.objects.all().order_by("-registered_at")
    status = request.GET.get("status")
    if status in Organisation.Status.values:
        qs = qs.filter(status=status)
    if q := request.GET.get("q", "").strip():
        qs = qs.filter(name__icontains=q) | qs.filter(credit_code=q.upper())
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/organisations.html",
        {"page": page, "statuses": Organisation.Status.choices, "status": status, "q": q},
    )


def _organisation_context(request: HttpRequest, org: Organisation) -> dict:
    is_staff = has_role(request.user, Role.CENTRE_STAFF)
    is_admin = is_staff or (
        request.user.is_authenticated
        and Membership.objects.filter(
            user_id=request.user.pk or 0, organisation=org, is_admin=True, active=True
        ).exists()
    )
    return {
        "org": org,
        "region": region(org.region_code),
        "is_centre_staff": is_staff,
        "is_org_admin": is_admin,
        "people": org.memberships.select_related("user").order_by("-active", "user__username")
        if is_admin
        else None,
        "events": timeline("organisation", org.pk).select_related("actor_user")[:50],
        "reason_form": ReasonForm(),
        "person_form": AddPersonForm(),
    }


def organisation(request: HttpRequest, credit_code: str) -> HttpResponse:
    org = get_object_or_404(Organisation, credit_code=credit_code)
    return render(request, "accounts/organisation.html", _organisation_context(request, org))


@login_required
def my_organisation(request: HttpRequest) -> HttpResponse:
    membership = memberships(request.user).first()
    if membership is None:
        messages.info(request, _("You do not belong to any organisation."))
        return redirect("home")
    return redirect("organisation", credit_code=membership.organisation.credit_code)


@login_required
@require_POST
def change_status(request: HttpRequest, credit_code: str, action: str) -> HttpResponse:
    """Verify, suspend or reinstate (htmx posts here and swaps the status panel)."""
    org = get_object_or_404(Organisation, credit_code=credit_code)
    reason = request.POST.get("reason", "")
    try:
        if action == "verify":
            services.verify_organisation(request.user, org, note=reason)
        elif action == "suspend":
            services.suspend_organisation(request.user, org, reason=reason)
        elif action == "reinstate":
            services.reinstate_organisation(request.user, org, reason=reason)
        else:
            return HttpResponse(status=404)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Status changed."))
    org.refresh_from_db()
    if request.headers.get("HX-Request"):
        return render(request, "accounts/_status.html", _organisation_context(request, org))
    return redirect("organisation", credit_code=org.credit_code)


@login_required
@require_POST
def add_person(request: HttpRequest, credit_code: str) -> HttpResponse:
    org = get_object_or_404(Organisation, credit_code=credit_code)
    form = AddPersonForm(request.POST)
    if form.is_valid():
        try:
            services.add_person(request.user, org, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Person added."))
            return redirect("organisation", credit_code=org.credit_code)
    context = _organisation_context(request, org)
    context["person_form"] = form
    return render(request, "accounts/organisation.html", context, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                services.revoke_api_token(request.user, int(request.POST["revoke"]))
                messages.success(request, _("Token revoked."))
            except (DomainError, ValueError) as error:
                messages.error(request, str(error))
            return redirect("api_tokens")
        if form.is_valid():
            try:
                _token, new_token = services.issue_api_token(request.user, **form.cleaned_data)
            except DomainError as error:
                add_refusal(form, error)
            else:
                form = TokenForm()
    tokens = ApiToken.objects.filter(user_id=request.user.pk or 0).order_by("-created_at")
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )


def rules_table(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/rules.html", {"rules": rules.all_rules(on=clock.today())})


def events(request: HttpRequest) -> HttpResponse:
    """The public event record, newest first."""
    qs = (
        DomainEvent.objects.select_related("actor_org").prefetch_related("subjects").order_by("-id")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/events.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password through the service, keeping the session signed in."""
    from django.contrib.auth import update_session_auth_hash

    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            update_session_auth_hash(request, signed_in(request.user))
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(request, "registration/password_change_form.html", {"form": form})
