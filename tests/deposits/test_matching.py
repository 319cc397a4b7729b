"""Sub-accounts, the required amount, bank statements and matching: worked examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.deposits import numbers, services
from openbid.deposits.models import CreditLine, Refund, SubAccount
from openbid.tendering.models import Tender
from tests.deposits.helpers import (
    BANK,
    at,
    bidder_with_account,
    deposit_rows,
    line,
    statement,
    tender,
)
from tests.factories import market_entity
from tests.opening.helpers import bidder

ACCOUNT_A = "6222020200112233445"
ACCOUNT_B = "6222020200998877665"

pytestmark = pytest.mark.django_db


def test_luhn_known_vectors():
    # ISO/IEC 7812 examples: 7992739871 → check digit 3.
    assert numbers.luhn_check_digit("7992739871") == "3"
    assert numbers.luhn_valid("79927398713")
    assert not numbers.luhn_valid("79927398710")
    assert not numbers.luhn_valid("")
    number = numbers.new_number(42, random_part=12345)
    assert number == "621700" + "00000042" + "12345" + numbers.luhn_check_digit(
        "6217000000004212345"
    )
    assert numbers.luhn_valid(number) and len(number) == 20
    # Every single-digit mistake is caught.
    for i in range(len(number)):
        for d in "0123456789":
            if d != number[i]:
                assert not numbers.luhn_valid(number[:i] + d + number[i + 1 :])


def test_obtaining_documents_opens_a_sub_account_with_the_credit_effect(clock):
    t, _manager = tender()
    org, user = bidder(t, clock)
    sub = SubAccount.objects.get(organisation=org)
    assert sub.via == SubAccount.Via.OBTAINED and numbers.luhn_valid(sub.number)
    # A bidder without credit records is graded AA: half of the 400,000.00 yuan is waived
    # (credit policy default, region "*").
    assert sub.base_amount == Decimal("400000.00")
    assert sub.amount_due == Decimal("200000.00")
    assert (sub.credit_grade, sub.reduction_reason, sub.reduction_percent) == (
        "AA",
        "grade_reduction",
        Decimal("50.00"),
    )
    assert sub.policy_basis
    # The ledger learns nothing about who: no subjects, no organisation, a digest only.
    event = DomainEvent.objects.get(type="deposits.sub_account.opened")
    assert event.actor_org is None and not event.subjects.exists() and event.payload == {}
    assert event.private_digest
    # On demand: the same sub-account.
    assert services.open_sub_account(user, t.sections.get()).pk == sub.pk


def test_an_sme_is_exempt_once_declared(clock):
    t, _manager = tender()
    org, user = bidder(t, clock)
    services.register_basic_account(
        user, bank_name="工行", account_name=org.name, account_number=ACCOUNT_A, sme=True
    )
    sub = services.open_sub_account(user, t.sections.get())  # reassessed: nothing paid yet
    assert sub.amount_due == Decimal("0.00") and sub.reduction_reason == "sme_exempt"
    status = services.status_for(t.sections.get(), org)
    assert status.status == "exempt" and status.ok


def test_no_sub_account_for_a_guarantee_only_or_waived_tender(clock):
    t, _manager = tender(deposit_form=Tender.DepositForm.GUARANTEE)
    org, user = bidder(t, clock)
    assert not SubAccount.objects.filter(organisation=org).exists()
    before = deposit_rows()
    with pytest.raises(Conflict) as refused:
        services.open_sub_account(user, t.sections.get())
    assert refused.value.rule == "deposit_form"
    assert deposit_rows() == before


def test_open_on_demand_needs_the_documents(clock):
    t, _manager = tender()
    clock.set(t.doc_issue_start)
    _org, user = market_entity()
    before = deposit_rows()
    with pytest.raises(Conflict) as refused:
        services.open_sub_account(user, t.sections.get())
    assert refused.value.rule == "documents_obtained"
    assert deposit_rows() == before


def test_basic_account_must_be_in_the_organisations_name(clock):
    org, user = market_entity()
    before = deposit_rows()
    with pytest.raises(InvalidInput) as refused:
        services.register_basic_account(
            user, bank_name="工行", account_name="别人的公司", account_number=ACCOUNT_A
        )
    assert (
        refused.value.field == "account_name" and refused.value.rule == "deposit_from_basic_account"
    )
    with pytest.raises(InvalidInput):
        services.register_basic_account(
            user, bank_name="工行", account_name=org.name, account_number="12-34"
        )
    assert deposit_rows() == before


def _three_bidders(clock):
    t, manager = tender()
    a = bidder_with_account(t, clock, ACCOUNT_A)
    b = bidder_with_account(t, clock, ACCOUNT_B)
    c = bidder_with_account(t, clock, "6222020200555566667")
    return t, manager, a, b, c


def test_matching_on_time_late_and_wrong_payer(clock, staff):
    t, _manager, (org_a, _ua, sub_a), (org_b, _ub, sub_b), (org_c, _uc, sub_c) = _three_bidders(
        clock
    )
    assert t.bid_deadline == at("2026-03-27 09:30")
    clock.set("2026-03-27T12:00:00")
    data = statement(
        # A: 200,000.00 on 20 March from its basic account — counts.
        line("ICBC0001", "2026-03-20T10:15:00+08:00", "200000.00", sub_a.number, ACCOUNT_A),
        # B: on time but from another account (someone else's) — does not count.
        line("ICBC0002", "2026-03-25T16:00:00+08:00", "200000.00", sub_b.number, ACCOUNT_A),
        # C: one minute after the deadline (01:31 UTC) — late.
        line(
            "ICBC0003",
            "2026-03-27T01:31:00+00:00",
            "200000.00",
            sub_c.number,
            "6222020200555566667",
        ),
        # An unknown sub-account number.
        line("ICBC0004", "2026-03-26T09:00:00+08:00", "1000.00", "62170000000099000001", ACCOUNT_B),
        bom=True,
    )
    result = services.import_statement(staff, bank=BANK, data=data, filename="stmt.csv")
    assert result.new == 4 and result.duplicates == 0
    matches = {r.bank_reference: r.match for r in result.results}
    assert matches == {
        "ICBC0001": "accepted",
        "ICBC0002": "wrong_payer",
        "ICBC0003": "late",
        "ICBC0004": "unmatched",
    }
    late = CreditLine.objects.get(bank_reference="ICBC0003")
    from django.utils import translation

    with translation.override("en"):
        message = services.line_message(late)
    assert "2026-03-27 09:31:00" in message and "2026-03-27 09:30:00" in message
    with translation.override("en"):
        wrong = services.line_message(CreditLine.objects.get(bank_reference="ICBC0002"))
    assert ACCOUNT_A in wrong and ACCOUNT_B in wrong
    # The payer account is recorded on every line.
    assert CreditLine.objects.get(bank_reference="ICBC0002").payer_account == ACCOUNT_A

    section = t.sections.get()
    assert services.status_for(section, org_a).status == "paid"
    status_b = services.status_for(section, org_b)
    assert status_b.status == "missing" and not status_b.ok
    assert any(ACCOUNT_A in r for r in status_b.reasons)
    assert services.status_for(section, org_c).status == "missing"
    # A and B paid from one account: a finding for supervision.
    shared = services.shared_payer_accounts(t)
    assert list(shared) == [ACCOUNT_A]
    assert [o.pk for o in shared[ACCOUNT_A]] == sorted([org_a.pk, org_b.pk])
    # Money that does not count goes back within 2 working days of being recorded (Fri 27 March
    # → Tue 31 March); the unmatched line waits for staff.
    refunds = {r.line.bank_reference: r for r in Refund.objects.all()}
    assert set(refunds) == {"ICBC0002", "ICBC0003"}
    assert {r.due_on.isoformat() for r in refunds.values()} == {"2026-03-31"}
    assert {r.reason for r in refunds.values()} == {"not_counted"}


def test_insufficient_amount(clock, staff):
    t, _manager = tender()
    org, _user, sub = bidder_with_account(t, clock, ACCOUNT_A)
    data = statement(
        line("R1", "2026-03-10T10:00:00+08:00", "150000.00", sub.number, ACCOUNT_A),
        line("R2", "2026-03-11T10:00:00+08:00", "49999.99", sub.number, ACCOUNT_A),
    )
    services.import_statement(staff, bank=BANK, data=data)
    status = services.status_for(t.sections.get(), org)
    assert status.status == "insufficient" and status.received == Decimal("199999.99")
    services.import_statement(
        staff,
        bank=BANK,
        data=statement(line("R3", "2026-03-12T10:00:00+08:00", "0.01", sub.number, ACCOUNT_A)),
    )
    assert services.status_for(t.sections.get(), org).status == "paid"


def test_reimport_is_idempotent_and_conflicting_references_are_not_recorded(clock, staff):
    t, _manager = tender()
    _org, _user, sub = bidder_with_account(t, clock, ACCOUNT_A)
    data = statement(line("R1", "2026-03-10T10:00:00+08:00", "200000.00", sub.number, ACCOUNT_A))
    services.import_statement(staff, bank=BANK, data=data)
    again = services.import_statement(staff, bank=BANK, data=data)
    assert again.new == 0 and again.results[0].outcome == "duplicate"
    other = statement(line("R1", "2026-03-10T10:00:00+08:00", "1.00", sub.number, ACCOUNT_A))
    assert services.import_statement(staff, bank=BANK, data=other).results[0].outcome == "conflict"
    assert CreditLine.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            statement(line("R1", "2026-03-10T10:00:00", "1.00", "6217000001", "62220202")),
            "booked_at",
        ),
        (
            statement(line("R1", "2026-03-10T10:00:00+08:00", "1.5", "6217000001", "62220202")),
            "amount",
        ),
        (
            statement(line("R1", "2026-03-10T10:00:00+08:00", "0.00", "6217000001", "62220202")),
            "amount",
        ),
        (
            statement(line("R 1", "2026-03-10T10:00:00+08:00", "1.00", "6217000001", "62220202")),
            "bank_reference",
        ),
        (
            statement(line("R1", "2026-03-10T10:00:00+08:00", "1.00", "6217000001", "x")),
            "payer_account",
        ),
        (
            statement(
                line("R1", "2026-03-10T10:00:00+08:00", "1.00", "6217000001", "62220202"),
                line("R1", "2026-03-10T10:00:00+08:00", "1.00", "6217000001", "62220202"),
            ),
            "bank_reference",
        ),
        (b"bank_reference,amount\r\nR1,1.00\r\n", "file"),
        ("bank_reference".encode("utf-16"), "file"),
    ],
)
def test_malformed_statements_are_refused_whole(clock, staff, data, field):
    before = deposit_rows()
    with pytest.raises(InvalidInput) as refused:
        services.import_statement(staff, bank=BANK, data=data)
    assert refused.value.field == field
    assert deposit_rows() == before


def test_only_staff_import_and_only_known_banks(clock, staff):
    _org, user = market_entity()
    data = statement(line("R1", "2026-03-10T10:00:00+08:00", "1.00", "6217000001", "62220202"))
    before = deposit_rows()
    with pytest.raises(NotAllowed):
        services.import_statement(user, bank=BANK, data=data)
    with pytest.raises(InvalidInput) as refused:
        services.import_statement(staff, bank="nobank", data=data)
    assert refused.value.field == "bank"
    assert deposit_rows() == before


def test_a_payment_before_the_basic_account_is_registered_is_matched_on_registration(clock, staff):
    t, _manager = tender()
    org, user = bidder(t, clock)
    sub = SubAccount.objects.get(organisation=org)
    services.import_statement(
        staff,
        bank=BANK,
        data=statement(line("R1", "2026-03-10T10:00:00+08:00", "200000.00", sub.number, ACCOUNT_A)),
    )
    assert CreditLine.objects.get().match == "no_basic_account"
    services.register_basic_account(
        user, bank_name="工行", account_name=org.name, account_number="6222 0202 0011 2233 445"
    )
    assert CreditLine.objects.get().match == "accepted"
    assert services.status_for(t.sections.get(), org).status == "paid"


def test_deposit_status_of_a_real_bid(clock, staff):
    from openbid.deposits.models import DepositFinding
    from tests.opening.helpers import at_deadline, bid_package, submit

    t, manager = tender()
    org, user, sub = bidder_with_account(t, clock, ACCOUNT_A)
    sealed = submit(user, org, t.sections.get(), bid_package())
    services.import_statement(
        staff,
        bank=BANK,
        data=statement(line("R1", "2026-03-10T10:00:00+08:00", "200000.00", sub.number, ACCOUNT_A)),
    )
    assert services.deposit_status(sealed.bid).status == "paid"
    with pytest.raises(Conflict):
        services.record_opening_findings(manager, t)  # before the deadline
    at_deadline(clock, t, minutes=1)
    findings = services.record_opening_findings(manager, t)
    assert [f.status for f in findings] == ["paid"]
    assert services.record_opening_findings(manager, t)[0].pk == findings[0].pk
    assert DepositFinding.objects.count() == 1
