"""Entering the holiday calendar: centre staff only, one event per change, clear refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from openbid.accounts.models import Membership, Organisation, User
from openbid.accounts.roles import OrgType, Role
from openbid.core.calendar_services import (
    clear_calendar_day,
    mark_calendar_year_complete,
    reopen_calendar_year,
    set_calendar_day,
)
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.models import CalendarDay, CalendarYear, DomainEvent

pytestmark = pytest.mark.django_db

D = dt.date
NOTICE = "国务院办公厅关于2027年部分节假日安排的通知"
_codes = iter(range(1, 1000))


def _member(clock, username: str, org_type: str, role: str) -> User:
    now = clock.now()
    org = Organisation.objects.create(
        name=f"{username} organisation",
        credit_code=f"91310000TESTCS{next(_codes):04d}",
        org_type=org_type,
        region_code="310000",
        commitment_version="test",
        commitment_digest="0" * 64,
        registered_at=now,
        status_changed_at=now,
    )
    user = User.objects.create_user(username=username, password="pw")
    Membership.objects.create(user=user, organisation=org, role=role, created_at=now)
    return user


@pytest.fixture
def staff(clock) -> User:
    return _member(clock, "staff", OrgType.TRADING_CENTRE, Role.CENTRE_STAFF)


@pytest.fixture
def bidder(clock) -> User:
    return _member(clock, "bidder", OrgType.BIDDER, Role.BIDDER_STAFF)


@pytest.fixture
def auditor(clock) -> User:
    return _member(clock, "auditor", OrgType.TRADING_CENTRE, Role.AUDITOR)


def test_centre_staff_enter_a_day_and_an_event_is_written(staff, clock):
    row = set_calendar_day(staff, date=D(2027, 1, 1), kind="holiday", name="元旦", source=NOTICE)
    assert row.kind == "holiday" and row.name == "元旦" and row.entered_by == staff
    assert row.entered_at == clock.now()
    event = DomainEvent.objects.get(type="core.calendar_day.set")
    assert event.actor_user == staff
    assert event.actor_org is not None
    assert event.actor_org.org_type == OrgType.TRADING_CENTRE
    assert event.payload == {
        "date": "2027-01-01",
        "kind": "holiday",
        "name": "元旦",
        "source": NOTICE,
        "previous": None,
    }
    assert {(s.kind, s.ref) for s in event.subjects.all()} == {
        ("calendar_day", "2027-01-01"),
        ("calendar_year", "2027"),
    }


def test_setting_a_day_again_updates_it_and_records_the_previous_entry(staff):
    set_calendar_day(staff, date="2027-02-20", kind="holiday")
    set_calendar_day(staff, date="2027-02-20", kind="workday", name="春节", source=NOTICE)
    assert CalendarDay.objects.get().kind == "workday"
    last = DomainEvent.objects.filter(type="core.calendar_day.set").last()
    assert last is not None
    assert last.payload["previous"]["kind"] == "holiday"
    # The same entry again changes nothing and records nothing.
    set_calendar_day(staff, date=D(2027, 2, 20), kind="workday", name="春节", source=NOTICE)
    assert DomainEvent.objects.filter(type="core.calendar_day.set").count() == 2


@pytest.mark.parametrize("who", ["bidder", "auditor", "anonymous"])
def test_others_are_refused_and_nothing_is_written(request, who):
    from django.contrib.auth.models import AnonymousUser

    actor = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        set_calendar_day(actor, date=D(2027, 1, 1), kind="holiday")
    with pytest.raises(NotAllowed):
        mark_calendar_year_complete(actor, year=2027, source=NOTICE)
    with pytest.raises(NotAllowed):
        clear_calendar_day(actor, date=D(2027, 1, 1))
    assert not CalendarDay.objects.exists()
    assert not CalendarYear.objects.exists()
    assert not DomainEvent.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"date": D(2027, 1, 1), "kind": "vacation"}, "kind"),
        ({"date": "2027-13-01", "kind": "holiday"}, "date"),
        ({"date": dt.datetime(2027, 1, 1, 9, 0), "kind": "holiday"}, "date"),
        ({"date": D(1999, 1, 1), "kind": "holiday"}, "date"),
        ({"date": D(2027, 1, 1), "kind": "holiday", "name": "x" * 61}, "name"),
        ({"date": D(2027, 1, 1), "kind": "holiday", "source": "x" * 201}, "source"),
    ],
)
def test_bad_input_is_refused_naming_the_field(staff, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        set_calendar_day(staff, **kwargs)
    assert refused.value.field == field
    assert not CalendarDay.objects.exists()
    assert not DomainEvent.objects.exists()


def test_marking_a_year_complete(staff):
    set_calendar_day(staff, date=D(2027, 1, 1), kind="holiday", name="元旦")
    set_calendar_day(staff, date=D(2027, 2, 20), kind="workday", name="春节")
    set_calendar_day(staff, date=D(2026, 12, 31), kind="holiday")  # another year: not counted
    year = mark_calendar_year_complete(staff, year=2027, source=f"  {NOTICE}  ")
    assert year.year == 2027 and year.source == NOTICE and year.entered_by == staff
    event = DomainEvent.objects.get(type="core.calendar_year.completed")
    assert event.payload == {"year": 2027, "source": NOTICE, "holidays": 1, "workdays": 1}
    assert [(s.kind, s.ref) for s in event.subjects.all()] == [("calendar_year", "2027")]

    with pytest.raises(Conflict) as refused:
        mark_calendar_year_complete(staff, year=2027, source=NOTICE)
    assert refused.value.field == "year"


def test_a_year_without_holidays_cannot_be_complete(staff):
    with pytest.raises(InvalidInput) as refused:
        mark_calendar_year_complete(staff, year=2027, source=NOTICE)
    assert refused.value.field == "year"
    assert "2027" in str(refused.value)
    set_calendar_day(staff, date=D(2027, 2, 20), kind="workday")
    with pytest.raises(InvalidInput):
        mark_calendar_year_complete(staff, year=2027, source=NOTICE)
    assert not CalendarYear.objects.exists()


@pytest.mark.parametrize(
    ("year", "source", "field"),
    [
        (1999, NOTICE, "year"),
        (2101, NOTICE, "year"),
        ("2027", NOTICE, "year"),
        (2027, " ", "source"),
    ],
)
def test_marking_a_year_refuses_bad_input(staff, year, source, field):
    set_calendar_day(staff, date=D(2027, 1, 1), kind="holiday")
    with pytest.raises(InvalidInput) as refused:
        mark_calendar_year_complete(staff, year=year, source=source)
    assert refused.value.field == field


def test_clearing_a_day(staff):
    set_calendar_day(staff, date=D(2027, 1, 1), kind="holiday", name="元旦")
    set_calendar_day(staff, date=D(2027, 2, 5), kind="holiday", name="春节")
    clear_calendar_day(staff, date=D(2027, 2, 5))
    assert list(CalendarDay.objects.values_list("date", flat=True)) == [D(2027, 1, 1)]
    event = DomainEvent.objects.get(type="core.calendar_day.cleared")
    assert event.payload == {"date": "2027-02-05", "kind": "holiday", "name": "春节", "source": ""}
    with pytest.raises(NotFound) as refused:
        clear_calendar_day(staff, date=D(2027, 2, 5))
    assert refused.value.field == "date"


def test_a_complete_year_keeps_a_holiday_until_reopened(staff):
    set_calendar_day(staff, date=D(2027, 1, 1), kind="holiday")
    mark_calendar_year_complete(staff, year=2027, source=NOTICE)
    with pytest.raises(Conflict):
        clear_calendar_day(staff, date=D(2027, 1, 1))
    with pytest.raises(Conflict):
        set_calendar_day(staff, date=D(2027, 1, 1), kind="workday")
    assert CalendarDay.objects.get().kind == "holiday"

    reopen_calendar_year(staff, year=2027, reason="entered by mistake")
    assert not CalendarYear.objects.exists()
    assert DomainEvent.objects.get(type="core.calendar_year.reopened").payload == {
        "year": 2027,
        "source": NOTICE,
        "reason": "entered by mistake",
    }
    clear_calendar_day(staff, date=D(2027, 1, 1))
    with pytest.raises(NotFound):
        reopen_calendar_year(staff, year=2027, reason="again")


# --- the admin goes through the services -------------------------------------------------------


def test_admin_add_change_and_delete_go_through_the_services(client, staff):
    client.force_login(staff)
    response = client.post(
        "/admin/core/calendarday/add/",
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "source": NOTICE},
    )
    assert response.status_code == 302, response.content
    row = CalendarDay.objects.get()
    assert row.entered_by == staff
    assert DomainEvent.objects.filter(type="core.calendar_day.set").count() == 1

    response = client.post(
        f"/admin/core/calendarday/{row.pk}/change/",
        {"kind": "holiday", "name": "元旦 (New Year)", "source": NOTICE},
    )
    assert response.status_code == 302, response.content
    assert CalendarDay.objects.get().name == "元旦 (New Year)"
    assert DomainEvent.objects.filter(type="core.calendar_day.set").count() == 2

    response = client.post("/admin/core/calendaryear/add/", {"year": "2027", "source": NOTICE})
    assert response.status_code == 302, response.content
    assert CalendarYear.objects.filter(year=2027).exists()
    assert DomainEvent.objects.filter(type="core.calendar_year.completed").count() == 1

    # Deleting the last holiday of a complete year is refused: a message, nothing written.
    response = client.post(f"/admin/core/calendarday/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert CalendarDay.objects.exists()
    assert not DomainEvent.objects.filter(type="core.calendar_day.cleared").exists()

    year = CalendarYear.objects.get()
    response = client.post(f"/admin/core/calendaryear/{year.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not CalendarYear.objects.exists()
    assert DomainEvent.objects.filter(type="core.calendar_year.reopened").count() == 1

    response = client.post(
        "/admin/core/calendarday/",
        {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    assert DomainEvent.objects.filter(type="core.calendar_day.cleared").count() == 1


def test_admin_form_shows_bad_input_on_the_field(client, staff):
    client.force_login(staff)
    response = client.post(
        "/admin/core/calendarday/add/", {"date": "1999-01-01", "kind": "holiday"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"]
    assert not CalendarDay.objects.exists()


def test_admin_refuses_other_roles(client, bidder, clock):
    client.force_login(bidder)
    response = client.post(
        "/admin/core/calendarday/add/", {"date": "2027-01-01", "kind": "holiday"}
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    # A superuser without the centre-staff role may look but not enter the calendar.
    root = User.objects.create_superuser(username="root", password="pw")
    client.force_login(root)
    assert client.get("/admin/core/calendarday/").status_code == 200
    response = client.post(
        "/admin/core/calendarday/add/", {"date": "2027-01-01", "kind": "holiday"}
    )
    assert response.status_code == 403
    assert not CalendarDay.objects.exists()
    assert not DomainEvent.objects.exists()


def test_event_admin_is_read_only(client, staff):
    set_calendar_day(staff, date=D(2027, 1, 1), kind="holiday")
    event = DomainEvent.objects.get()
    client.force_login(staff)
    assert client.get("/admin/core/domainevent/").status_code == 200
    page = client.get(f"/admin/core/domainevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b"core.calendar_day.set" in page.content
    assert client.get("/admin/core/domainevent/add/").status_code == 403
    assert (
        client.post(f"/admin/core/domainevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    client.post(f"/admin/core/domainevent/{event.pk}/change/", {"type": "changed"})
    assert DomainEvent.objects.get().type == "core.calendar_day.set"
