"""Administration pages for the holiday calendar and a read-only view of the event record.

The admin is one more door onto the services, never around them: saving or deleting a calendar
entry calls ``openbid.core.calendar_services``, which checks the role and records the event. A
refusal from a service is shown as an error message and nothing is written. The site itself opens
for centre staff only (``openbid.core.admin_site``); adding, changing and deleting calendar rows
needs the centre-staff role itself (a superuser without it may look, as the services would refuse).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from openbid.accounts.permissions import has_role
from openbid.accounts.roles import Role
from openbid.core import calendar_services
from openbid.core.admin_site import CentreStaffAdmin
from openbid.core.errors import DomainError, InvalidInput
from openbid.core.models import CalendarDay, CalendarYear, DomainEvent, EventSubject


def _holds_centre_staff_role(request: HttpRequest) -> bool:
    return has_role(request.user, Role.CENTRE_STAFF)


class ServiceAdmin(CentreStaffAdmin):
    """Centre staff change rows through services; a refusal becomes a message, not a crash."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _holds_centre_staff_role(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _holds_centre_staff_role(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _holds_centre_staff_role(request)

    def _refused(self, request: HttpRequest, error: DomainError) -> HttpResponse:
        # The admin view ran in a transaction that the error rolled back: nothing was written.
        self.message_user(request, str(error), level=messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            return self._refused(request, error)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            return self._refused(request, error)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as error:
            return self._refused(request, error)


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name", "source"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        checks: list[tuple[str, Any]] = [
            ("date", lambda v: calendar_services.check_date(v)),
            ("kind", lambda v: calendar_services.check_kind(v)),
            ("name", lambda v: calendar_services.check_text(v, "name", 60)),
            ("source", lambda v: calendar_services.check_text(v, "source", 200)),
        ]
        for field, check in checks:
            if field in data:
                try:
                    data[field] = check(data[field])
                except InvalidInput as error:
                    self.add_error(field, ValidationError(str(error), code=error.code))
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(ServiceAdmin):
    form = CalendarDayForm
    list_display = ["date", "kind", "name", "source", "entered_by", "entered_at"]
    list_filter = ["kind"]
    search_fields = ["name", "source"]
    date_hierarchy = "date"
    list_select_related = ["entered_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The date is what a row is about: to move an entry, clear it and enter the other day.
        readonly = ["entered_by", "entered_at"]
        return ["date", *readonly] if obj is not None else readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        row = calendar_services.set_calendar_day(
            request.user, date=obj.date, kind=obj.kind, name=obj.name, source=obj.source
        )
        obj.pk = row.pk
        obj.entered_by = row.entered_by
        obj.entered_at = row.entered_at

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        calendar_services.clear_calendar_day(request.user, date=obj.date)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for day in list(queryset.order_by("date").values_list("date", flat=True)):
                calendar_services.clear_calendar_day(request.user, date=day)


class CalendarYearForm(forms.ModelForm):
    class Meta:
        model = CalendarYear
        fields = ["year", "source"]

    def clean_year(self) -> int:
        try:
            return calendar_services.check_year(self.cleaned_data["year"])
        except InvalidInput as error:
            raise ValidationError(str(error), code=error.code) from None


@admin.register(CalendarYear)
class CalendarYearAdmin(ServiceAdmin):
    form = CalendarYearForm
    list_display = ["year", "source", "entered_by", "entered_at"]
    list_select_related = ["entered_by"]
    fields = ["year", "source", "entered_by", "entered_at"]
    readonly_fields = ["entered_by", "entered_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A year is marked complete once; correct its days, or reopen (delete) and mark again.
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        row = calendar_services.mark_calendar_year_complete(
            request.user, year=obj.year, source=obj.source
        )
        obj.pk = row.pk
        obj.entered_by = row.entered_by
        obj.entered_at = row.entered_at

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        calendar_services.reopen_calendar_year(
            request.user, year=obj.year, reason=_("Reopened in the administration site.")
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for year in list(queryset.order_by("year").values_list("year", flat=True)):
                calendar_services.reopen_calendar_year(
                    request.user, year=year, reason=_("Reopened in the administration site.")
                )


class EventSubjectInline(admin.TabularInline):
    model = EventSubject
    fields = ["kind", "ref"]
    readonly_fields = ["kind", "ref"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(DomainEvent)
class DomainEventAdmin(CentreStaffAdmin):
    """The event record, read-only: events are appended by services and never changed."""

    list_display = ["id", "occurred_at", "type", "actor_user", "actor_org"]
    list_filter = ["type"]
    search_fields = ["type"]
    list_select_related = ["actor_user", "actor_org"]
    fields = ("occurred_at", "type", "actor_user", "actor_org", "payload", "private_digest")
    readonly_fields = (
        "occurred_at",
        "type",
        "actor_user",
        "actor_org",
        "payload",
        "private_digest",
    )
    inlines = [EventSubjectInline]
    show_full_result_count = False
    actions = None
