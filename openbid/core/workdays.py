"""Working days (工作日) and calendar-day periods on the official Chinese holiday calendar.

Where each day's status comes from, in this order:

1. a ``CalendarDay`` row entered by centre staff (the table overrides everything else: a
   ``holiday`` row is a day off even on a weekday, a ``workday`` row is a make-up working day,
   调休上班, even on a weekend);
2. the ``chinese_calendar`` package, for the years its data covers (it raises
   ``NotImplementedError`` for any other year; the pinned version covers 2004–2026);
3. for a year marked complete in ``CalendarYear`` (its whole State Council schedule entered), a day
   without a row is a working day if and only if it is Monday to Friday;
4. otherwise the platform does not know the year's schedule and refuses with
   ``CalendarNotCovered`` naming the year. It never guesses: a guessed holiday calendar gives
   wrong deadlines silently.

Counting (民法典 arts. 200–204, "Computing periods" in the rules table): the day on which a period
starts is not counted; a period whose last day is a public holiday (法定休假日, which includes the
weekly rest days unless they are make-up working days) ends on the next working day; a day ends at
24:00 China time.

Minimum periods counted backwards. Whether the holiday roll-over may shorten a *minimum* period is
not settled (a clarification must reach bidders "at least 15 days before" the bid deadline: if
that day is a holiday, rolling it forward to the next working day leaves less than 15 days). The
policy setting ``OPENBID_MIN_PERIOD_HOLIDAY_ROLLOVER`` (read with ``getattr(settings, ...,
False)``) decides:

* ``False`` (default, conservative): the full period is kept and the day is not a holiday — the
  latest day moves *back* to the previous working day;
* ``True``: the 民法典 roll-over applies as for any period — the day moves forward to the next
  working day, shortening the lead.

Forward periods are unaffected by the setting: rolling their last day forward only lengthens them.

Each public function makes one ``WorkingCalendar``, which reads the table one year at a time (one
query for the complete years, one per year touched for the rows), never one query per day. Code
that asks many questions in a row (a report over many tenders) may make one ``WorkingCalendar`` and
call its methods; it sees the table as it was when each year was first read.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.core import clock
from openbid.core.errors import DomainError
from openbid.core.models import CalendarDay, CalendarYear

CHINA_TZ = ZoneInfo("Asia/Shanghai")
RULE = "working_day_calendar"
ARTICLE = "《全国年节及纪念日放假办法》; 国务院办公厅 annual holiday notice; 民法典 arts. 201, 203"
_ONE_DAY = dt.timedelta(days=1)


class CalendarNotCovered(DomainError):
    """The holiday schedule of a year is unknown: neither the package nor a complete table year.

    ``year`` and ``date`` say which; the message names the year and what staff must do.
    """

    code = "calendar_not_covered"

    def __init__(self, day: dt.date) -> None:
        super().__init__(
            _(
                "The official holiday schedule for %(year)d is not known to the platform, so "
                "whether %(date)s is a working day cannot be decided. Trading centre staff must "
                "enter the State Council's holiday notice for %(year)d (holidays and make-up "
                "working days) and mark the year complete."
            )
            % {"year": day.year, "date": day.isoformat()},
            field="date",
            rule=RULE,
            article=ARTICLE,
            at=day,
        )
        self.year = day.year
        self.date = day


# --- the package -----------------------------------------------------------------------------


@functools.cache
def package_covers(year: int) -> bool:
    """Whether the ``chinese_calendar`` package has the official schedule of ``year``.

    The package signals an uncovered year by raising ``NotImplementedError``.
    """
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return False
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _package_says_working(day: dt.date) -> bool:
    # The package's own data (its public ``holidays`` and ``workdays`` maps), looked up directly:
    # ``chinese_calendar.is_workday`` recomputes its covered range on every call.
    if day in chinese_calendar.workdays:
        return True
    return day.weekday() < 5 and day not in chinese_calendar.holidays


# --- the calendar ----------------------------------------------------------------------------


def _as_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        # An instant: the day it falls on in China.
        if timezone.is_aware(value):
            return value.astimezone(CHINA_TZ).date()
        return value.date()
    if not isinstance(value, dt.date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value


class WorkingCalendar:
    """Answers working-day questions, reading the calendar table at most once per year."""

    def __init__(self) -> None:
        self._rows: dict[int, dict[dt.date, bool]] = {}
        self._complete_years: frozenset[int] | None = None

    def _year_rows(self, year: int) -> dict[dt.date, bool]:
        rows = self._rows.get(year)
        if rows is None:
            rows = {
                day: kind == CalendarDay.Kind.WORKDAY
                for day, kind in CalendarDay.objects.filter(
                    date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31)
                ).values_list("date", "kind")
            }
            self._rows[year] = rows
        return rows

    def _complete(self) -> frozenset[int]:
        if self._complete_years is None:
            self._complete_years = frozenset(CalendarYear.objects.values_list("year", flat=True))
        return self._complete_years

    def covers_year(self, year: int) -> bool:
        """Whether every day of ``year`` can be answered (package or complete table year)."""
        return package_covers(year) or year in self._complete()

    def is_working_day(self, day: dt.date) -> bool:
        day = _as_date(day)
        row = self._year_rows(day.year).get(day)
        if row is not None:
            return row
        if package_covers(day.year):
            return _package_says_working(day)
        if day.year in self._complete():
            return day.weekday() < 5
        raise CalendarNotCovered(day)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day = _as_date(day) + _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: dt.date) -> dt.date:
        """The last working day strictly before ``day``."""
        day = _as_date(day) - _ONE_DAY
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        day = _as_date(day)
        return day if self.is_working_day(day) else self.next_working_day(day)

    def working_day_on_or_before(self, day: dt.date) -> dt.date:
        day = _as_date(day)
        return day if self.is_working_day(day) else self.previous_working_day(day)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted).

        ``n == 0`` gives ``start``; a negative ``n`` counts back: the ``|n|``-th working day before.
        """
        day = _as_date(start)
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``.

        The inverse of ``add_working_days``:
        ``working_days_between(a, add_working_days(a, n)) == n``.
        """
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a + _ONE_DAY
        while day <= b:
            if self.is_working_day(day):
                count += 1
            day += _ONE_DAY
        return count

    def add_calendar_days_period(
        self, start: dt.date, n: int, *, end_on_working_day: bool = True
    ) -> dt.date:
        """The last day of a period of ``n`` calendar days counted from ``start`` (not counted).

        ``n >= 0``: the day ``start + n``; when ``end_on_working_day`` and that day is not a
        working day, the period ends on the next working day (民法典 art. 203).

        ``n < 0``: a minimum lead before ``start`` (an objection "at least 10 days before" the bid
        deadline ``start``): the latest day that still leaves ``|n|`` days, ``start - |n|``. When
        ``end_on_working_day`` and that day is not a working day, it moves to the previous working
        day (full period kept), or to the next working day if the policy setting
        ``OPENBID_MIN_PERIOD_HOLIDAY_ROLLOVER`` is true (see the module docstring).
        """
        day = _as_date(start) + dt.timedelta(days=n)
        if not end_on_working_day:
            return day
        if n >= 0 or min_period_rollover_allowed():
            return self.working_day_on_or_after(day)
        return self.working_day_on_or_before(day)


def min_period_rollover_allowed() -> bool:
    """The policy setting ``OPENBID_MIN_PERIOD_HOLIDAY_ROLLOVER`` (default ``False``)."""
    return bool(getattr(settings, "OPENBID_MIN_PERIOD_HOLIDAY_ROLLOVER", False))


# --- module-level API (one WorkingCalendar per call) -----------------------------------------


def is_working_day(d: dt.date) -> bool:
    """Whether ``d`` is a working day (工作日) in mainland China."""
    return WorkingCalendar().is_working_day(d)


def next_working_day(d: dt.date) -> dt.date:
    """The first working day strictly after ``d``."""
    return WorkingCalendar().next_working_day(d)


def previous_working_day(d: dt.date) -> dt.date:
    """The last working day strictly before ``d``."""
    return WorkingCalendar().previous_working_day(d)


def working_day_on_or_after(d: dt.date) -> dt.date:
    """``d`` if it is a working day, else the next working day (the holiday roll-over)."""
    return WorkingCalendar().working_day_on_or_after(d)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start``; ``start`` is not counted (民法典 art. 201)."""
    return WorkingCalendar().add_working_days(start, n)


def working_days_between(a: dt.date, b: dt.date) -> int:
    """The number of working days after ``a`` up to and including ``b`` (negative if ``b < a``)."""
    return WorkingCalendar().working_days_between(a, b)


def add_calendar_days_period(start: dt.date, n: int, *, end_on_working_day: bool = True) -> dt.date:
    """The last day of a calendar-day period (民法典 arts. 201, 203); see the method's docstring."""
    return WorkingCalendar().add_calendar_days_period(
        start, n, end_on_working_day=end_on_working_day
    )


def period_end_datetime(d: dt.date) -> dt.datetime:
    """The end of day ``d`` (24:00 China time) as an aware datetime: the next day's midnight."""
    d = _as_date(d)
    return dt.datetime.combine(d + _ONE_DAY, dt.time(0, 0), tzinfo=CHINA_TZ)


def year_covered(year: int) -> bool:
    """Whether working days of ``year`` can be computed (package data or a complete table year)."""
    return WorkingCalendar().covers_year(year)


def coverage_warning(today: dt.date | None = None) -> str | None:
    """A warning for centre staff when next year's holiday schedule is missing, else ``None``.

    From 1 November on (the State Council usually publishes the next year's notice in
    November), periods start to reach into next year; if neither the package nor a complete table
    year covers it, deadlines there cannot be computed and staff must enter the schedule.
    """
    today = _as_date(today) if today is not None else clock.today()
    if today.month < 11:
        return None
    year = today.year + 1
    if year_covered(year):
        return None
    return _(
        "The official holiday schedule for %(year)d has not been entered. Deadlines that reach "
        "into %(year)d cannot be computed until trading centre staff enter the State Council's "
        "holiday notice for %(year)d and mark the year complete."
    ) % {"year": year}
