"""Working days on the official calendar: 2026 from the package, 2027 from the table."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from openbid.accounts.models import Membership, Organisation, User
from openbid.accounts.roles import OrgType, Role
from openbid.core import calendar_services, workdays
from openbid.core.errors import DomainError
from openbid.core.workdays import (
    CalendarNotCovered,
    WorkingCalendar,
    add_calendar_days_period,
    add_working_days,
    coverage_warning,
    is_working_day,
    next_working_day,
    period_end_datetime,
    working_days_between,
)

pytestmark = pytest.mark.django_db

D = dt.date
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE_2027 = "国务院办公厅关于2027年部分节假日安排的通知 (test schedule)"


@pytest.fixture
def staff(clock) -> User:
    now = clock.now()
    org = Organisation.objects.create(
        name="Test trading centre",
        credit_code="12310000TESTWD0001",
        org_type=OrgType.TRADING_CENTRE,
        region_code="310000",
        commitment_version="test",
        commitment_digest="0" * 64,
        registered_at=now,
        status_changed_at=now,
    )
    user = User.objects.create_user(username="calendar-staff", password="x")
    Membership.objects.create(user=user, organisation=org, role=Role.CENTRE_STAFF, created_at=now)
    return user


def enter_2027(staff: User, *, complete: bool = True) -> None:
    """A plausible 2027 schedule (the real one is not published at the time of writing)."""
    days = [
        (D(2027, 1, 1), "holiday", "元旦"),
        *[(D(2027, 2, d), "holiday", "春节") for d in range(5, 12)],  # Fri 5 – Thu 11 February
        (D(2027, 2, 20), "workday", "春节"),  # Saturday, make-up working day
        *[(D(2027, 4, d), "holiday", "清明节") for d in (3, 4, 5)],
        *[(D(2027, 5, d), "holiday", "劳动节") for d in range(1, 6)],
        *[(D(2027, 10, d), "holiday", "国庆节、中秋节") for d in range(1, 8)],
        (D(2027, 10, 9), "workday", "国庆节"),
    ]
    for day, kind, name in days:
        calendar_services.set_calendar_day(
            staff, date=day, kind=kind, name=name, source=NOTICE_2027
        )
    if complete:
        calendar_services.mark_calendar_year_complete(staff, year=2027, source=NOTICE_2027)


# --- 2026 from the package ---------------------------------------------------------------------


def test_spring_festival_2026_with_make_up_saturdays():
    # 2026: days off Sun 15 – Mon 23 February; make-up working Saturdays 14 and 28 February.
    assert is_working_day(D(2026, 2, 13))  # Friday
    assert is_working_day(D(2026, 2, 14))  # Saturday, 调休上班
    assert not is_working_day(D(2026, 2, 16))  # Monday, Spring Festival
    assert not is_working_day(D(2026, 2, 23))  # Monday, last day off
    assert is_working_day(D(2026, 2, 28))  # Saturday, 调休上班
    assert not is_working_day(D(2026, 3, 1))  # Sunday

    assert next_working_day(D(2026, 2, 14)) == D(2026, 2, 24)  # first working day after the break
    assert add_working_days(D(2026, 2, 12), 1) == D(2026, 2, 13)
    assert add_working_days(D(2026, 2, 12), 2) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 12), 3) == D(2026, 2, 24)
    # 24, 25, 26, 27 February (Tue–Fri), then Saturday 28 February is the 5th working day.
    assert add_working_days(D(2026, 2, 23), 5) == D(2026, 2, 28)
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 27)) == 5  # 14, 24, 25, 26, 27


def test_mid_autumn_and_national_day_2026():
    # Mid-Autumn Fri 25 – Sun 27 September; National Day Thu 1 – Wed 7 October;
    # make-up working days Sunday 20 September and Saturday 10 October.
    assert is_working_day(D(2026, 9, 20))  # Sunday, 调休上班
    assert not is_working_day(D(2026, 9, 25))
    assert next_working_day(D(2026, 9, 24)) == D(2026, 9, 28)
    assert next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)  # 8, 9, Saturday 10
    assert add_working_days(D(2026, 9, 30), 4) == D(2026, 10, 12)
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4
    assert working_days_between(D(2026, 10, 12), D(2026, 9, 30)) == -4
    assert add_working_days(D(2026, 10, 12), -4) == D(2026, 9, 30)

    # complaint_decide: 30 working days from Friday 18 September 2026: Sun 20 Sep, 21–24 Sep,
    # 28–30 Sep, 8–10 Oct, then 19 more Mon–Fri days to Thursday 5 November.
    assert add_working_days(D(2026, 9, 18), 30) == D(2026, 11, 5)


def test_calendar_day_periods_roll_over_holidays_and_weekends():
    # contract_within (30 days) from 1 September ends on 1 October, a holiday: on 8 October.
    assert add_calendar_days_period(D(2026, 9, 1), 30) == D(2026, 10, 8)
    assert add_calendar_days_period(D(2026, 9, 1), 30, end_on_working_day=False) == D(2026, 10, 1)
    # A plain Saturday rolls to Monday ...
    assert add_calendar_days_period(D(2026, 3, 2), 5) == D(2026, 3, 9)
    # ... but a make-up working Saturday ends the period itself.
    assert add_calendar_days_period(D(2026, 2, 18), 10) == D(2026, 2, 28)
    # A working day stays.
    assert add_calendar_days_period(D(2026, 9, 10), 20) == D(2026, 9, 30)
    assert add_calendar_days_period(D(2026, 3, 2), 0) == D(2026, 3, 2)


def test_minimum_lead_before_a_deadline_keeps_the_full_period_by_default(settings):
    # clarification_lead_bid: 15 days before a bid deadline on Monday 12 October 2026 is
    # Sunday 27 September (Mid-Autumn). Conservative: the previous working day, Thursday 24.
    assert add_calendar_days_period(D(2026, 10, 12), -15) == D(2026, 9, 24)
    assert add_calendar_days_period(D(2026, 10, 12), -15, end_on_working_day=False) == D(
        2026, 9, 27
    )
    settings.OPENBID_MIN_PERIOD_HOLIDAY_ROLLOVER = True
    assert add_calendar_days_period(D(2026, 10, 12), -15) == D(2026, 9, 28)


def test_period_ends_at_2400_china_time():
    end = period_end_datetime(D(2026, 10, 8))
    assert end == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    assert end.astimezone(dt.UTC) == dt.datetime(2026, 10, 8, 16, 0, tzinfo=dt.UTC)


def test_an_aware_datetime_counts_on_its_china_date():
    # 2026-02-13 17:00 UTC is 14 February 01:00 in Shanghai (a make-up working Saturday).
    instant = dt.datetime(2026, 2, 13, 17, 0, tzinfo=dt.UTC)
    assert next_working_day(instant) == D(2026, 2, 24)


def test_the_package_data_is_read_as_the_package_reads_it():
    calendar = WorkingCalendar()
    day = D(2004, 1, 1)
    while day <= D(2026, 12, 31):
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_add_and_between_are_inverse_and_land_on_working_days():
    calendar = WorkingCalendar()
    start = D(2026, 1, 1)
    for offset, n in itertools.product(range(0, 300, 3), (0, 1, 2, 3, 5, 7, 10, 15, 30)):
        day = start + dt.timedelta(days=offset)
        end = calendar.add_working_days(day, n)
        assert calendar.working_days_between(day, end) == n
        if n:
            assert calendar.is_working_day(end)
            assert calendar.working_days_between(day, end - dt.timedelta(days=1)) == n - 1


def test_thirty_working_days_take_one_query(django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert add_working_days(D(2026, 9, 1), 30) == D(2026, 10, 19)


# --- the table ---------------------------------------------------------------------------------


def test_table_entries_override_the_package(staff):
    assert is_working_day(D(2026, 3, 2))
    calendar_services.set_calendar_day(staff, date=D(2026, 3, 2), kind="holiday", name="test")
    assert not is_working_day(D(2026, 3, 2))
    assert add_working_days(D(2026, 2, 27), 1) == D(2026, 2, 28)
    assert add_working_days(D(2026, 2, 28), 1) == D(2026, 3, 3)

    calendar_services.set_calendar_day(staff, date=D(2026, 3, 7), kind="workday")  # a Saturday
    assert is_working_day(D(2026, 3, 7))
    # A package holiday can be corrected to a working day too.
    calendar_services.set_calendar_day(staff, date=D(2026, 10, 2), kind="workday")
    assert is_working_day(D(2026, 10, 2))

    calendar_services.clear_calendar_day(staff, date=D(2026, 3, 2))
    assert is_working_day(D(2026, 3, 2))


def test_into_2027_from_a_complete_table_year(staff):
    enter_2027(staff)
    # Wednesday 30 December 2026 + 3 working days: Thu 31 Dec, (New Year's Day off), Mon 4, Tue 5.
    assert add_working_days(D(2026, 12, 30), 3) == D(2027, 1, 5)
    assert next_working_day(D(2026, 12, 31)) == D(2027, 1, 4)
    # A 30-day period from 2 December 2026 ends on New Year's Day 2027: on Monday 4 January.
    assert add_calendar_days_period(D(2026, 12, 2), 30) == D(2027, 1, 4)
    # Spring Festival 2027 as entered, and its make-up Saturday.
    assert next_working_day(D(2027, 2, 4)) == D(2027, 2, 12)
    assert is_working_day(D(2027, 2, 20))
    assert not is_working_day(D(2027, 2, 21))  # a plain Sunday: Mon–Fri rule
    assert working_days_between(D(2027, 2, 4), D(2027, 2, 22)) == 8  # 12, 15–19, 20, 22
    assert add_working_days(D(2027, 9, 30), 1) == D(2027, 10, 8)


def test_without_2027_the_platform_refuses_and_names_the_year(staff):
    with pytest.raises(CalendarNotCovered) as refused:
        add_working_days(D(2026, 12, 30), 3)
    error = refused.value
    assert isinstance(error, DomainError)
    assert error.code == "calendar_not_covered"
    assert error.rule == "working_day_calendar"
    assert error.field == "date"
    assert error.year == 2027
    assert error.date == D(2027, 1, 1)
    assert "2027" in str(error)
    assert error.as_dict()["code"] == "calendar_not_covered"

    with pytest.raises(CalendarNotCovered):
        add_calendar_days_period(D(2026, 12, 20), 15)
    # Within 2026 everything still works.
    assert add_working_days(D(2026, 12, 28), 3) == D(2026, 12, 31)


def test_a_half_entered_year_is_not_used(staff):
    enter_2027(staff, complete=False)
    # The entered day answers for itself ...
    assert not is_working_day(D(2027, 1, 1))
    # ... but the days around it are not guessed.
    with pytest.raises(CalendarNotCovered) as refused:
        add_working_days(D(2026, 12, 31), 1)
    assert refused.value.date == D(2027, 1, 2)  # not even a Saturday is assumed to be a day off


def test_years_before_the_package_are_not_guessed():
    with pytest.raises(CalendarNotCovered) as refused:
        is_working_day(D(2003, 6, 2))
    assert "2003" in str(refused.value)


# --- coverage warning --------------------------------------------------------------------------


def test_coverage_warning_from_1_november(staff, clock):
    assert coverage_warning(D(2026, 10, 31)) is None
    warning = coverage_warning(D(2026, 11, 1))
    assert warning is not None and "2027" in warning
    assert coverage_warning(D(2026, 12, 31)) is not None
    # The package covers 2026, so late 2025 needs nothing.
    assert coverage_warning(D(2025, 11, 15)) is None

    clock.set("2026-11-02T09:00")
    assert coverage_warning() is not None  # today from the platform clock

    enter_2027(staff)
    assert coverage_warning(D(2026, 11, 1)) is None
    assert workdays.year_covered(2027)
    assert not workdays.year_covered(2028)
