"""Refunds: due dates in working days across the 2026 holidays, interest with worked numbers,
export for the bank, confirmation, and the overdue warning."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from openbid.core import clockloop
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.deposits import interest, services
from openbid.deposits.models import Refund, SubAccount
from tests.deposits.helpers import (
    BANK,
    at,
    bidder_with_account,
    deposit_rows,
    line,
    statement,
    tender,
)

pytestmark = pytest.mark.django_db

A, B = "6222020200112233445", "6222020200998877665"


# --- interest: worked numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "days", "expected"),
    [
        # 200,000.00 × 0.35% × 21 / 360 = 40.8333… → 40.83
        ("200000.00", 21, "40.83"),
        # 80,000.00 × 0.35% × 45 / 360 = 35.00 exactly
        ("80000.00", 45, "35.00"),
        # 1,000.00 × 0.35% × 18 / 360 = 0.175 → 0.18 (half up, 四舍五入)
        ("1000.00", 18, "0.18"),
        # 200,000.00 × 0.35% × 203 / 360 = 394.7222… → 394.72
        ("200000.00", 203, "394.72"),
        ("200000.00", 0, "0.00"),
    ],
)
def test_interest_worked_examples(principal, days, expected):
    result = interest.interest_for(
        Decimal(principal), days, rate_percent=Decimal("0.35"), day_basis=360
    )
    assert result.interest == Decimal(expected)
    assert result.total == Decimal(principal) + Decimal(expected)


def test_interest_on_365_days_and_days_held():
    # 200,000.00 × 0.35% × 21 / 365 = 40.2739… → 40.27
    assert interest.interest_for(
        Decimal("200000.00"), 21, rate_percent=Decimal("0.35"), day_basis=365
    ).interest == Decimal("40.27")
    # 算头不算尾: booked 20 March, refunded 10 April: 21 days.
    assert interest.days_held(dt.date(2026, 3, 20), dt.date(2026, 4, 10)) == 21
    assert interest.days_held(dt.date(2026, 4, 10), dt.date(2026, 3, 20)) == 0
    with pytest.raises(ValueError):
        interest.interest_for(Decimal("-1"), 1)
    with pytest.raises(ValueError):
        interest.interest_for(Decimal("1.00"), -1)


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("800000.00"), places=2)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("5"), places=4)
day_counts = st.integers(min_value=0, max_value=3650)


@hsettings(max_examples=300, deadline=None)
@given(amounts, day_counts, day_counts, rates, st.sampled_from([360, 365]))
def test_interest_properties(principal, d1, d2, rate, basis):
    a = interest.interest_for(principal, min(d1, d2), rate_percent=rate, day_basis=basis)
    b = interest.interest_for(principal, max(d1, d2), rate_percent=rate, day_basis=basis)
    for r in (a, b):
        assert r.interest >= 0  # never negative
        assert r.interest == r.interest.quantize(Decimal("0.01"))  # exact to the fen
        assert r.total == principal + r.interest
        # within half a fen of the exact value
        exact = principal * rate * r.days / (Decimal(100) * basis)
        assert abs(r.interest - exact) <= Decimal("0.005")
    assert a.interest <= b.interest  # monotonic in days


@hsettings(max_examples=200, deadline=None)
@given(amounts, amounts, day_counts)
def test_interest_is_monotonic_in_the_principal(p1, p2, days):
    low, high = sorted((p1, p2))
    assert interest.interest_for(low, days).interest <= interest.interest_for(high, days).interest


# --- due dates across the holidays -------------------------------------------------------------


def _paid_tender(clock, staff):
    """Two bidders, each paid 200,000.00 on 20 March 2026 from its basic account."""
    t, manager = tender()
    org_a, _ua, sub_a = bidder_with_account(t, clock, A)
    org_b, _ub, sub_b = bidder_with_account(t, clock, B)
    services.import_statement(
        staff,
        bank=BANK,
        data=statement(
            line("P-A", "2026-03-20T10:15:00+08:00", "200000.00", sub_a.number, A),
            line("P-B", "2026-03-20T14:00:00+08:00", "200000.00", sub_b.number, B),
        ),
    )
    return t, manager, org_a, org_b


@pytest.mark.parametrize(
    ("result_at", "due"),
    [
        # Wednesday 30 September 2026, the last working day before the National Day holiday
        # (1–7 October): 1st working day Thu 8 Oct, 2nd Fri 9 Oct.
        ("2026-09-30 15:00", "2026-10-09"),
        # Tuesday 29 September: Wed 30 Sep, then Thu 8 Oct.
        ("2026-09-29 10:00", "2026-10-08"),
        # Thursday 24 September, before the Mid-autumn holiday (Fri 25 – Sun 27 Sep): Mon 28, Tue 29.
        ("2026-09-24 10:00", "2026-09-29"),
        # Friday 9 October: Saturday 10 October is a make-up working day (调休上班), then Mon 12.
        ("2026-10-09 10:00", "2026-10-12"),
        # An ordinary Friday: Mon, Tue.
        ("2026-04-10 10:00", "2026-04-14"),
    ],
)
def test_unsuccessful_bidders_refund_due_two_working_days_after_the_result(
    clock, staff, result_at, due
):
    t, _manager, org_a, org_b = _paid_tender(clock, staff)
    clock.set(at(result_at))
    services.result_published(t, [org_a.pk], at(result_at))
    loser = SubAccount.objects.get(organisation=org_b)
    assert (
        loser.refund_due_on.isoformat() == due
        and loser.refund_rule == "deposit_refund_after_result"
    )
    assert Refund.objects.get(line__bank_reference="P-B").due_on.isoformat() == due
    winner = SubAccount.objects.get(organisation=org_a)
    assert (
        winner.released_at is None
        and not Refund.objects.filter(line__bank_reference="P-A").exists()
    )


@pytest.mark.parametrize(
    ("signed_at", "due"),
    [
        # Monday 28 September + 5 days = Saturday 3 October, in the National Day holiday: the period
        # ends on the next working day, Thursday 8 October (民法典 art. 203).
        ("2026-09-28 10:00", "2026-10-08"),
        # Wednesday 15 April + 5 days = Monday 20 April, a working day.
        ("2026-04-15 10:00", "2026-04-20"),
    ],
)
def test_the_winner_is_refunded_within_five_days_of_the_contract(clock, staff, signed_at, due):
    t, _manager, org_a, org_b = _paid_tender(clock, staff)
    clock.set(at("2026-04-01 10:00"))
    services.result_published(t, [org_a.pk], at("2026-04-01 10:00"))
    clock.set(at(signed_at))
    services.contract_signed(t, org_a, at(signed_at))
    winner = SubAccount.objects.get(organisation=org_a)
    assert winner.refund_due_on.isoformat() == due
    assert winner.refund_rule == "deposit_refund_after_contract"
    assert Refund.objects.get(line__bank_reference="P-A").reason == "contract"
    # The loser's date from the result is kept (idempotent).
    assert SubAccount.objects.get(organisation=org_b).refund_due_on.isoformat() == "2026-04-03"
    # Again: nothing changes.
    events = DomainEvent.objects.count()
    assert services.contract_signed(t, org_a, at(signed_at)) == 0
    assert Refund.objects.count() == 2 and DomainEvent.objects.count() == events + 1


def test_export_with_interest_confirmation_and_overdue_warning(clock, staff):
    t, _manager, org_a, _org_b = _paid_tender(clock, staff)
    clock.set(at("2026-04-08 10:00"))
    services.result_published(t, [org_a.pk], at("2026-04-08 10:00"))
    # B's refund is due Fri 10 April. Staff export on 10 April: 21 days held since 20 March.
    clock.set(at("2026-04-10 09:00"))
    batch = services.export_refunds(staff)
    rows = list(csv.DictReader(io.StringIO(batch.csv)))
    assert len(rows) == 1
    row = rows[0]
    assert row["to_account"] == B and row["principal"] == "200000.00"
    assert row["interest_days"] == "21" and row["annual_rate_percent"] == "0.35"
    assert row["day_basis"] == "360"
    assert row["interest"] == "40.83" and row["amount"] == "200040.83"
    assert row["value_date"] == "2026-04-10" and row["due_on"] == "2026-04-10"
    refund = Refund.objects.get(line__bank_reference="P-B")
    assert refund.status == "exported" and refund.total == Decimal("200040.83")
    # Nothing more to export: refused, nothing written.
    before = deposit_rows()
    with pytest.raises(Conflict):
        services.export_refunds(staff)
    assert deposit_rows() == before

    # The bank confirms it the same day; a confirmation with a bad line is refused whole.
    bad = f"instruction_id,bank_reference,completed_at\r\n{refund.pk},BANK-RF-1,2026-04-10T15:00:00\r\n"
    with pytest.raises(InvalidInput) as refused:
        services.import_refund_confirmations(staff, bad.encode())
    assert refused.value.field == "completed_at"
    assert deposit_rows() == before
    good = f"instruction_id,bank_reference,completed_at\r\n{refund.pk},BANK-RF-1,2026-04-10T15:00:00+08:00\r\n"
    services.import_refund_confirmations(staff, good.encode())
    refund.refresh_from_db()
    assert refund.status == "completed" and refund.bank_reference == "BANK-RF-1"

    # The winner: contract on Mon 13 April, due Sat 18 April → Mon 20 April. Not exported by then:
    # the clock loop warns once, on 21 April.
    clock.set(at("2026-04-13 10:00"))
    services.contract_signed(t, org_a, at("2026-04-13 10:00"))
    winner_refund = Refund.objects.get(line__bank_reference="P-A")
    assert winner_refund.due_on.isoformat() == "2026-04-20"
    clock.set(at("2026-04-20 23:00"))
    assert services.warn_overdue_refunds() == 0
    clock.set(at("2026-04-21 08:00"))
    results = clockloop.tick()
    assert results["deposits.warn_overdue_refunds"] == 1
    assert clockloop.tick()["deposits.warn_overdue_refunds"] == 0
    warning = DomainEvent.objects.get(type="deposits.refund.overdue")
    assert warning.payload["due_on"] == "2026-04-20"
    assert [r.pk for r in services.overdue_refunds()] == [winner_refund.pk]
    # Exported on 21 April: 32 days held. 200,000.00 × 0.35% × 32 / 360 = 62.2222… → 62.22
    batch = services.export_refunds(staff)
    row = next(csv.DictReader(io.StringIO(batch.csv)))
    assert row["interest_days"] == "32" and row["interest"] == "62.22"
    assert row["amount"] == "200062.22"


def test_refund_services_refuse_others(clock, staff):
    _t, manager, _org_a, _org_b = _paid_tender(clock, staff)
    before = deposit_rows()
    with pytest.raises(NotAllowed):
        services.export_refunds(manager)
    with pytest.raises(NotAllowed):
        services.import_refund_confirmations(
            manager, b"instruction_id,bank_reference,completed_at\r\n"
        )
    assert deposit_rows() == before


def test_a_late_payment_after_release_is_refunded_by_the_clock_loop(clock, staff):
    t, _manager, org_a, org_b = _paid_tender(clock, staff)
    clock.set(at("2026-04-08 10:00"))
    services.result_published(t, [org_a.pk], at("2026-04-08 10:00"))
    sub_b = SubAccount.objects.get(organisation=org_b)
    services.import_statement(
        staff,
        bank=BANK,
        data=statement(line("P-B2", "2026-04-08T11:00:00+08:00", "10.00", sub_b.number, B)),
    )
    # Late (after the deadline): a refund of its own, due 2 working days after recording.
    assert Refund.objects.get(line__bank_reference="P-B2").reason == "not_counted"
    assert services.create_due_refunds() == 0


def test_a_payment_is_recorded_even_when_the_holiday_schedule_is_unknown(clock, staff):
    _t, _manager, _org_a, org_b = _paid_tender(clock, staff)
    sub_b = SubAccount.objects.get(organisation=org_b)
    # 2031 is not covered by the package and no table year is complete: the late payment is
    # recorded and its refund falls due 2 calendar days later (never later than 2 working days).
    clock.set(at("2031-03-03 10:00"))
    services.import_statement(
        staff,
        bank=BANK,
        data=statement(line("P-LATE", "2031-03-03T09:00:00+08:00", "10.00", sub_b.number, B)),
    )
    assert Refund.objects.get(line__bank_reference="P-LATE").due_on == dt.date(2031, 3, 5)
