"""The event record: written with its state change or rolled back with it, and never altered."""

from __future__ import annotations

import pytest
from django.db import transaction

from openbid.accounts.models import Organisation
from openbid.core.events import record_event, salted_digest, service, timeline
from openbid.core.models import DomainEvent, EventSubject
from tests.factories import market_entity

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@service
def rename_then_fail(org: Organisation, name: str, fail: bool) -> None:
    org.name = name
    org.save(update_fields=["name"])
    record_event(
        "test.organisation.renamed", subjects=[("organisation", org.pk)], payload={"name": name}
    )
    if fail:
        raise Boom


def test_event_and_state_change_commit_together():
    org, _ = market_entity()
    before = DomainEvent.objects.count()
    rename_then_fail(org, "新名称", fail=False)
    org.refresh_from_db()
    assert org.name == "新名称"
    assert DomainEvent.objects.count() == before + 1
    assert timeline("organisation", org.pk).last().payload == {"name": "新名称"}


def test_event_and_state_change_roll_back_together():
    org, _ = market_entity()
    old_name = org.name
    before = (DomainEvent.objects.count(), EventSubject.objects.count())
    with pytest.raises(Boom):
        rename_then_fail(org, "不该保存", fail=True)
    org.refresh_from_db()
    assert org.name == old_name
    assert (DomainEvent.objects.count(), EventSubject.objects.count()) == before


def test_failing_listener_rolls_back_the_state_change():
    from openbid.core import events

    org, _ = market_entity()
    old_name = org.name

    def broken_listener(event):
        raise Boom

    events.on_event(broken_listener)
    try:
        with pytest.raises(Boom):
            rename_then_fail(org, "监听失败", fail=False)
    finally:
        events._listeners.remove(broken_listener)
    org.refresh_from_db()
    assert org.name == old_name


def test_record_event_outside_a_transaction_is_a_programming_error(transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event("test.nothing")


def test_events_are_append_only():
    market_entity()
    event = DomainEvent.objects.first()
    event.type = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        DomainEvent.objects.filter(pk=event.pk).update(type="changed")
    with pytest.raises(PermissionError):
        DomainEvent.objects.all().delete()
    assert DomainEvent.objects.get(pk=event.pk).type == "accounts.organisation.registered"


def test_database_refuses_updates_of_events():
    market_entity()
    event = DomainEvent.objects.first()
    from django.db import DatabaseError, connection

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_domainevent SET type = %s WHERE id = %s", ["forged", event.pk])
    assert DomainEvent.objects.get(pk=event.pk).type == "accounts.organisation.registered"


def test_payload_is_stored_as_published_json():
    import datetime as dt
    from decimal import Decimal

    org, _ = market_entity()
    with transaction.atomic():
        event = record_event(
            "test.values",
            subjects=[("organisation", org.pk), ("organisation", org.pk)],
            payload={"amount": Decimal("12.50"), "day": dt.date(2026, 3, 2)},
        )
    event.refresh_from_db()
    assert event.payload == {"amount": "12.50", "day": "2026-03-02"}
    assert event.subjects.count() == 1


def test_salted_digest_hides_and_proves():
    digest, salt = salted_digest(b"sealed bid")
    assert salted_digest(b"sealed bid", salt)[0] == digest
    assert salted_digest(b"sealed bid")[0] != digest


def test_clock_loop_runs_handlers_and_survives_a_failing_one(clock, caplog):
    from openbid.core import clockloop

    calls = []

    @clockloop.on_tick("test.broken")
    def broken() -> int:
        raise Boom

    @clockloop.on_tick("test.counting")
    def counting() -> int:
        calls.append(clock.now())
        return 1

    try:
        results = clockloop.tick()
    finally:
        clockloop._handlers.pop("test.broken")
        clockloop._handlers.pop("test.counting")
    assert results["test.broken"] == -1
    assert results["test.counting"] == 1
    assert calls == [clock.now()]
    assert "core.calendar_coverage" in results


def test_calendar_coverage_warning_is_logged_once_a_day(clock, caplog):
    from openbid.core import clockloop, tasks

    clock.set("2026-10-31T12:00")
    tasks._warned_on.clear()
    assert clockloop.tick()["core.calendar_coverage"] == 0
    clock.set("2026-11-02T12:00")
    assert clockloop.tick()["core.calendar_coverage"] == 1
    assert clockloop.tick()["core.calendar_coverage"] == 0
    assert "2027" in caplog.text
