"""`openbid ledger verify`: passes on the demo log, and names the first bad entry after tampering."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from openbid.demo import run_demo
from openbid.ledger import services
from openbid.ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_log():
    list(run_demo())
    services.issue_checkpoint()
    return list(Entry.objects.order_by("index").select_related("event"))


def verify() -> str:
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    return out.getvalue()


def verify_fails() -> str:
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("ledger", "verify", stdout=out)
    return f"{caught.value}\n{out.getvalue()}"


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def without_event_guard(sql: str, params: list) -> None:
    """Tamper as someone with database access would: past the append-only trigger."""
    if connection.vendor == "postgresql":
        raw(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # ALTER TABLE refuses while deferred checks are pending
        raw("ALTER TABLE core_domainevent DISABLE TRIGGER core_domainevent_no_update")
        raw(sql, params)
        raw("ALTER TABLE core_domainevent ENABLE TRIGGER core_domainevent_no_update")
    else:
        raw("DROP TRIGGER core_domainevent_no_update")
        raw(sql, params)


def test_demo_log_verifies(demo_log):
    output = verify()
    assert "every leaf matches its event record" in output
    assert f"checkpoint at size {len(demo_log)}" in output
    assert output.strip().endswith("verified")


def test_changed_event_row_is_named(demo_log):
    target = demo_log[5]
    without_event_guard(
        "UPDATE core_domainevent SET payload = %s WHERE id = %s",
        ['{"name": "forged"}', target.event_id],
    )
    report = verify_fails()
    assert f"entry 5 (event #{target.event_id}" in report
    assert "does not match the event record" in report


def test_rewritten_leaf_is_named(demo_log):
    raw('UPDATE ledger_entry SET leaf = %s WHERE "index" = %s', [b'{"forged":true}', 3])
    report = verify_fails()
    assert "entry 3" in report


def test_deleted_event_is_named(demo_log):
    target = demo_log[7]
    raw('DELETE FROM ledger_entry WHERE "index" = %s', [7])
    raw("DELETE FROM core_eventsubject WHERE event_id = %s", [target.event_id])
    raw("DELETE FROM core_domainevent WHERE id = %s", [target.event_id])
    report = verify_fails()
    assert "entry 7 is missing" in report


def test_reordered_events_are_named(demo_log):
    a, b = demo_log[4], demo_log[9]
    # Swap which event entries 4 and 9 stand for (foreign keys are checked at commit).
    raw('UPDATE ledger_entry SET event_id = %s WHERE "index" = %s', [-1, 4])
    raw('UPDATE ledger_entry SET event_id = %s WHERE "index" = %s', [a.event_id, 9])
    raw('UPDATE ledger_entry SET event_id = %s WHERE "index" = %s', [b.event_id, 4])
    report = verify_fails()
    assert f"entry 4 (event #{b.event_id}" in report


def test_truncated_log_is_named(demo_log):
    size = len(demo_log)
    for entry in demo_log[-3:]:
        raw('DELETE FROM ledger_entry WHERE "index" = %s', [entry.index])
        raw("DELETE FROM core_eventsubject WHERE event_id = %s", [entry.event_id])
        raw("DELETE FROM core_domainevent WHERE id = %s", [entry.event_id])
    raw("UPDATE ledger_ledgerstate SET size = %s", [size - 3])
    report = verify_fails()
    assert f"checkpoint at size {size}" in report
    assert "truncated" in report


def test_cli_exits_non_zero_and_names_the_entry(demo_log, capsys):
    from openbid.cli import main

    raw('UPDATE ledger_entry SET leaf_hash = %s WHERE "index" = %s', [b"\x00" * 32, 2])
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "verify"])
    assert exited.value.code != 0
    assert "entry 2" in capsys.readouterr().err
