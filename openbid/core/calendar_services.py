"""Every change to the holiday calendar table (``CalendarDay``, ``CalendarYear``).

Trading centre staff enter the State Council's annual holiday notice (国务院办公厅关于某年
部分节假日安排的通知): the days off (``holiday``) and the make-up working days (``workday``,
调休上班), then mark the year complete so working-day arithmetic may use it (see
``openbid.core.workdays``). Each service runs in one transaction, checks the actor's role, and
records a domain event whose payload is public: the calendar is public information.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from openbid.accounts.permissions import require_role
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput, NotFound
from openbid.core.events import record_event, service
from openbid.core.models import CalendarDay, CalendarYear
from openbid.core.validation import clean_text

# Years the table accepts: the package covers 2004–2026; nothing before the platform's laws
# (2000) or implausibly far ahead is a real schedule.
MIN_YEAR = 2000
MAX_YEAR = 2100
RULE = "working_day_calendar"
ARTICLE = "《全国年节及纪念日放假办法》; 国务院办公厅 annual holiday notice"


def check_year(year: Any, field: str = "year") -> int:
    """A whole year within the range the calendar table accepts."""
    if isinstance(year, bool) or not isinstance(year, int):
        raise InvalidInput(_("The year must be a whole number."), field=field, rule="year_format")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(
            _("The year %(year)d is outside the calendar's range %(min)d–%(max)d.")
            % {"year": year, "min": MIN_YEAR, "max": MAX_YEAR},
            field=field,
            rule="year_range",
        )
    return year


def check_date(value: Any, field: str = "date") -> dt.date:
    """A calendar date (a ``date`` or an ISO ``YYYY-MM-DD`` string) within the table's years."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                _("%(value)s is not a date (YYYY-MM-DD).") % {"value": value},
                field=field,
                rule="date_format",
            ) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(_("A calendar date is required."), field=field, rule="date_format")
    check_year(value.year, field)
    return value


def check_kind(kind: Any, field: str = "kind") -> str:
    """``holiday`` or ``workday``."""
    if kind not in CalendarDay.Kind.values:
        raise InvalidInput(
            _("Unknown kind of day %(kind)s: use %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(CalendarDay.Kind.values)},
            field=field,
            rule="calendar_day_kind",
        )
    return str(kind)


def check_text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    """A stripped text of at most ``max_length`` characters (required if asked)."""
    return clean_text(value, field, max_length, required=required)


def _day_payload(row: CalendarDay) -> dict[str, Any]:
    return {
        "date": row.date.isoformat(),
        "kind": row.kind,
        "name": row.name,
        "source": row.source,
    }


def _subjects(day: dt.date) -> list[tuple[str, object]]:
    return [("calendar_day", day.isoformat()), ("calendar_year", day.year)]


def _year_days(year: int) -> Any:
    return CalendarDay.objects.filter(
        date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31)
    )


def _holidays_in_year(year: int) -> Any:
    return _year_days(year).filter(kind=CalendarDay.Kind.HOLIDAY)


def _refuse_removing_last_holiday(row: CalendarDay) -> None:
    """A year marked complete keeps at least one holiday: a year without any is not real."""
    day = row.date
    if (
        row.kind == CalendarDay.Kind.HOLIDAY
        and CalendarYear.objects.filter(year=day.year).exists()
        and not _holidays_in_year(day.year).exclude(pk=row.pk).exists()
    ):
        raise Conflict(
            _(
                "%(date)s is the last holiday entered for %(year)d, which is marked complete; "
                "reopen the year before removing it."
            )
            % {"date": day.isoformat(), "year": day.year},
            field="date",
            rule="calendar_year_complete",
            article=ARTICLE,
        )


@service
def set_calendar_day(
    actor: Any, *, date: dt.date | str, kind: str, name: str = "", source: str = ""
) -> CalendarDay:
    """Enter or correct one day of the holiday calendar (upsert by date).

    Changes: the ``CalendarDay`` row of ``date`` (created, or its kind, name and source replaced);
    records ``core.calendar_day.set`` with the new and the previous entry. Setting an entry to what
    it already is changes nothing and records nothing. Rule: only trading centre staff enter the
    State Council's holiday notice (``working_day_calendar``); a row overrides the package data.
    """
    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Entering the holiday calendar"))
    day = check_date(date)
    kind = check_kind(kind)
    name = check_text(name, "name", 60)
    source = check_text(source, "source", 200)

    row = CalendarDay.objects.select_for_update().filter(date=day).first()
    previous = _day_payload(row) if row is not None else None
    if row is not None and (row.kind, row.name, row.source) == (kind, name, source):
        return row
    if row is None:
        row = CalendarDay(date=day)
    elif kind != CalendarDay.Kind.HOLIDAY:
        _refuse_removing_last_holiday(row)
    row.kind = kind
    row.name = name
    row.source = source
    row.entered_by = actor
    row.entered_at = clock.now()
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:  # a concurrent entry of the same date won the race
        raise Conflict(
            _("%(date)s was entered by someone else at the same time; try again.")
            % {"date": day.isoformat()},
            field="date",
            rule="unique_calendar_day",
        ) from exc
    record_event(
        "core.calendar_day.set",
        actor=actor,
        actor_org=membership.organisation,
        subjects=_subjects(day),
        payload={**_day_payload(row), "previous": previous},
    )
    return row


@service
def clear_calendar_day(actor: Any, *, date: dt.date | str) -> None:
    """Remove the entry of one day, so the package (or the Mon–Fri rule) decides it again.

    Changes: deletes the ``CalendarDay`` row of ``date``; records ``core.calendar_day.cleared``
    with the removed entry. Refused when there is no entry, and when it is the last holiday of a
    year marked complete (a complete year without holidays is not a real schedule: reopen the year
    first). Rule: ``working_day_calendar``, centre staff only.
    """
    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Entering the holiday calendar"))
    day = check_date(date)
    row = CalendarDay.objects.select_for_update().filter(date=day).first()
    if row is None:
        raise NotFound(
            _("The calendar has no entry for %(date)s.") % {"date": day.isoformat()},
            field="date",
            rule=RULE,
        )
    _refuse_removing_last_holiday(row)
    payload = _day_payload(row)
    row.delete()
    record_event(
        "core.calendar_day.cleared",
        actor=actor,
        actor_org=membership.organisation,
        subjects=_subjects(day),
        payload=payload,
    )


@service
def mark_calendar_year_complete(actor: Any, *, year: int, source: str) -> CalendarYear:
    """Declare that the whole official holiday schedule of ``year`` has been entered.

    Changes: creates the ``CalendarYear`` row, after which working-day arithmetic treats every
    day of the year without an entry as a working day iff Monday–Friday; records
    ``core.calendar_year.completed`` with the number of holidays and make-up working days entered.
    Refused for a year without any holiday entered (every real year has public holidays) and for a
    year already complete. Rule: ``working_day_calendar``, centre staff only.
    """
    membership = require_role(
        actor, Role.CENTRE_STAFF, action=_("Marking a calendar year complete")
    )
    year = check_year(year, "year")
    source = check_text(source, "source", 200, required=True)
    holidays = _holidays_in_year(year).count()
    if holidays == 0:
        raise InvalidInput(
            _(
                "No public holidays have been entered for %(year)d. Enter the State Council's "
                "holiday notice for %(year)d before marking the year complete."
            )
            % {"year": year},
            field="year",
            rule="calendar_year_entries",
            article=ARTICLE,
        )
    if CalendarYear.objects.filter(year=year).exists():
        raise Conflict(
            _("The year %(year)d is already marked complete.") % {"year": year},
            field="year",
            rule="calendar_year_complete",
        )
    workdays = _year_days(year).filter(kind=CalendarDay.Kind.WORKDAY).count()
    try:
        with transaction.atomic():
            row = CalendarYear.objects.create(
                year=year, source=source, entered_by=actor, entered_at=clock.now()
            )
    except IntegrityError as exc:  # marked complete concurrently
        raise Conflict(
            _("The year %(year)d is already marked complete.") % {"year": year},
            field="year",
            rule="calendar_year_complete",
        ) from exc
    record_event(
        "core.calendar_year.completed",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("calendar_year", year)],
        payload={"year": year, "source": source, "holidays": holidays, "workdays": workdays},
    )
    return row


@service
def reopen_calendar_year(actor: Any, *, year: int, reason: str) -> None:
    """Withdraw the statement that ``year`` is complete (it was marked complete by mistake).

    Changes: deletes the ``CalendarYear`` row; the day entries stay. Until the year is marked
    complete again, working days in it that the package does not cover cannot be computed.
    Records ``core.calendar_year.reopened`` with the reason. Rule: ``working_day_calendar``,
    centre staff only.
    """
    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Reopening a calendar year"))
    year = check_year(year, "year")
    reason = check_text(reason, "reason", 500, required=True)
    row = CalendarYear.objects.select_for_update().filter(year=year).first()
    if row is None:
        raise NotFound(
            _("The year %(year)d is not marked complete.") % {"year": year},
            field="year",
            rule=RULE,
        )
    source = row.source
    row.delete()
    record_event(
        "core.calendar_year.reopened",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("calendar_year", year)],
        payload={"year": year, "source": source, "reason": reason},
    )
