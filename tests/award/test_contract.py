"""Contracts: templates, drafting with the bid's terms (Reg art. 57), signing by both parties with
their certificates within 30 days of the award notice (Law art. 46), refusals, publication
(合同订立公开), changes, warnings and the late flag; performance evaluation → credit; payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openbid.award import hooks, services
from openbid.award.models import Contract, ContractVersion, Payment, PerformanceEvaluation
from openbid.core import clock as platform_clock
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.credit.models import CreditRecord
from openbid.crypto.models import DocumentSignature
from openbid.tendering.lifecycle import State
from tests.award import helpers as h
from tests.factories import centre_with_staff, market_entity, regulator_with_staff
from tests.tendering.factories import at, row_counts

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        **row_counts(),
        "Contract": Contract.objects.count(),
        "Version": ContractVersion.objects.count(),
        "Signature": DocumentSignature.objects.count(),
        "Payment": Payment.objects.count(),
        "Evaluation": PerformanceEvaluation.objects.count(),
        "Credit": CreditRecord.objects.count(),
    }


def test_templates_are_kept_by_centre_staff_with_known_placeholders(clock):
    staff = centre_with_staff()[1]
    _org, tenderer = market_entity("tenderer")
    with pytest.raises(NotAllowed):
        services.create_template(tenderer, name="范本", body=h.TEMPLATE)
    with pytest.raises(InvalidInput) as refused:
        services.create_template(staff, name="范本", body="甲方 ${buyer}")
    assert refused.value.rule == "template_placeholders" and "${buyer}" in str(refused.value)
    template = services.create_template(staff, name="范本", body=h.TEMPLATE, kind="works")
    services.retire_template(staff, template)
    with pytest.raises(Conflict):
        services.retire_template(staff, template)


def test_the_contract_is_drafted_from_the_award_and_due_30_days_after_the_notice(clock):
    decision, manager, _sealed = h.decided(clock)
    services.prepare_notices(manager, decision)
    notice = services.award_notice_of(decision)
    with pytest.raises(Conflict) as early:  # not issued yet
        services.draft_contract(
            manager, decision, template=h.template(), duration_days=301, key_terms="条款"
        )
    assert early.value.rule == "award_notice"
    clock.set("2026-04-03 10:00")  # Friday
    h.sign(
        manager,
        decision.publicity.tender.project.tenderer,
        "award-notice",
        notice.pk,
        notice.sha256,
    )
    before = counts()
    with pytest.raises(InvalidInput) as price:
        services.draft_contract(
            manager,
            decision,
            template=h.template(),
            duration_days=301,
            key_terms="条款",
            price="11000000",
        )
    assert (
        price.value.rule == "contract_terms_match"
        and price.value.article == "Law art. 46; Reg art. 57"
    )
    with pytest.raises(InvalidInput):
        services.draft_contract(
            manager, decision, template=h.template(), duration_days=0, key_terms="条款"
        )
    assert counts() == {**before, "Contract": before["Contract"]}
    contract = services.draft_contract(
        manager, decision, template=h.template(), duration_days=301, key_terms="按招标文件合同条款"
    )
    # 3 April not counted; the 30th day, 3 May, falls in the May Day break (1–5 May): 6 May, 24:00.
    assert contract.due_at == at("2026-05-07 00:00")
    version = services.current_version(contract)
    assert version.number == 1 and version.price == decision.winner.price
    assert decision.winner.bidder.name in version.text and "11,800,000.50 元" in version.text
    assert "2026年4月3日" in version.text
    with pytest.raises(Conflict):
        services.draft_contract(
            manager, decision, template=h.template(), duration_days=301, key_terms="条款"
        )


def test_both_parties_sign_the_same_digest_then_it_is_published(clock, monkeypatch):
    contract, manager, sealed = h.drafted(clock)
    signed: list[tuple[object, object, dt.datetime]] = []
    monkeypatch.setattr(hooks, "_contract_signed", [lambda t, b, a: signed.append((t, b, a))])
    version = services.current_version(contract)
    winner = h.winner_of(contract, sealed)
    loser = next(s for s in sealed if s.org.pk != contract.winner_id)
    loser_key = h.signing_key(loser.user, loser.org)
    winner_key = h.signing_key(winner.user, winner.org)
    before = counts()
    with pytest.raises(NotAllowed) as wrong_party:
        h.sign(loser.user, loser.org, "contract", contract.pk, version.sha256, loser_key)
    assert wrong_party.value.rule == "contract_party"
    with pytest.raises(Conflict) as wrong_version:
        h.sign(winner.user, winner.org, "contract", contract.pk, "ab" * 32, winner_key)
    assert wrong_version.value.rule == "document_version"
    assert counts() == before

    h.sign(manager, contract.tenderer, "contract", contract.pk, version.sha256)
    version.refresh_from_db()
    assert version.signed_at is None and version.published_at is None  # one party only
    with pytest.raises(Conflict):  # the tenderer again
        h.sign(manager, contract.tenderer, "contract", contract.pk, version.sha256)
    h.sign(winner.user, winner.org, "contract", contract.pk, version.sha256, winner_key)
    version.refresh_from_db()
    contract.refresh_from_db()
    assert version.signed_at == version.published_at == clock.now()
    assert contract.signed_at == clock.now() and not contract.late
    tender = contract.decision.publicity.tender
    tender.refresh_from_db()
    assert tender.status == State.CONTRACTED
    assert signed == [(tender, contract.winner, clock.now())]
    published = DomainEvent.objects.get(type="award.contract.published")
    assert published.payload["sha256"] == version.sha256 and published.payload["version"] == 1


def test_after_the_period_signing_is_refused_until_a_reason_is_recorded(clock):
    contract, manager, sealed = h.drafted(clock)
    version = services.current_version(contract)
    winner = h.winner_of(contract, sealed)
    with pytest.raises(Conflict):  # not late yet: no reason to record
        services.record_late_reason(manager, contract, reason="因故延误")
    clock.set(contract.due_at)
    before = counts()
    with pytest.raises(Conflict) as late:
        h.sign(manager, contract.tenderer, "contract", contract.pk, version.sha256)
    assert late.value.rule == "contract_within" and late.value.at == contract.due_at
    assert late.value.article == "Law art. 46"
    assert counts()["Signature"] == before["Signature"]
    services.record_late_reason(manager, contract, reason="中标人办理履约保证金延误")
    h.sign(manager, contract.tenderer, "contract", contract.pk, version.sha256)
    h.sign(winner.user, winner.org, "contract", contract.pk, version.sha256)
    contract.refresh_from_db()
    assert contract.late and contract.signed_at is not None


def test_warnings_before_the_deadline_and_the_overdue_flag_once_each(clock):
    contract, _manager, _sealed = h.drafted(clock)
    services.record_publicity_ends()
    assert services.contract_deadlines() == 0
    clock.set(contract.due_at - dt.timedelta(days=7))
    assert services.contract_deadlines() == 1
    assert services.contract_deadlines() == 0
    clock.set(contract.due_at - dt.timedelta(hours=12))
    assert services.contract_deadlines() == 1
    clock.set(contract.due_at)
    assert services.contract_deadlines() == 1
    assert services.contract_deadlines() == 0
    contract.refresh_from_db()
    assert contract.warned_days == [7, 1] and contract.overdue_at == contract.due_at
    assert [
        e.payload.get("days") for e in DomainEvent.objects.filter(type="award.contract.due_soon")
    ] == [7, 1]


def test_a_change_is_a_new_version_signed_again_and_published(clock):
    contract, manager, sealed = h.signed_contract(clock)
    winner = h.winner_of(contract, sealed)
    before = counts()
    with pytest.raises(InvalidInput):  # no reason
        services.change_contract(manager, contract, reason="", duration_days=320)
    with pytest.raises(InvalidInput) as nothing:
        services.change_contract(manager, contract, reason="无变化")
    assert nothing.value.rule == "contract_change"
    with pytest.raises(NotAllowed):
        services.change_contract(winner.user, contract, reason="延期", duration_days=320)
    assert counts() == before
    v2 = services.change_contract(
        manager, contract, reason="设计变更增加排水管线", price="12000000.50", duration_days=320
    )
    assert v2.number == 2 and v2.published_at is None and "设计变更增加排水管线" in v2.text
    old = services.current_version(contract)
    assert old == v2
    # The first version's signatures do not sign the second.
    with pytest.raises(Conflict):
        h.sign(
            winner.user, winner.org, "contract", contract.pk, contract.versions.get(number=1).sha256
        )
    h.sign(manager, contract.tenderer, "contract", contract.pk, v2.sha256)
    h.sign(winner.user, winner.org, "contract", contract.pk, v2.sha256)
    v2.refresh_from_db()
    assert v2.published_at is not None
    assert services.signed_price(contract) == Decimal("12000000.50")
    assert DomainEvent.objects.filter(type="award.contract.published").count() == 2


def test_performance_evaluations_feed_the_credit_context(clock):
    contract, manager, sealed = h.signed_contract(clock)
    staff = centre_with_staff()[1]
    winner = h.winner_of(contract, sealed)
    before = counts()
    with pytest.raises(NotAllowed):
        services.evaluate_performance(
            winner.user, contract, milestone="基础完工", rating="good", comments="好"
        )
    with pytest.raises(InvalidInput):
        services.evaluate_performance(
            manager, contract, milestone="基础完工", rating="great", comments="好"
        )
    assert counts() == before
    qualified = services.evaluate_performance(
        manager, contract, milestone="基础完工", rating="qualified", comments="按期完成"
    )
    with pytest.raises(Conflict) as neither:
        services.forward_to_credit(staff, qualified)
    assert neither.value.rule == "credit_category_fits_source"
    final = services.evaluate_performance(
        manager,
        contract,
        milestone="竣工验收",
        rating="excellent",
        comments="质量优良，提前完工",
        final=True,
    )
    with pytest.raises(NotAllowed):  # only centre staff and regulators record credit
        services.forward_to_credit(manager, final)
    record = services.forward_to_credit(staff, final)
    assert record.source == "performance" and record.category == "good"
    assert record.subject.organisation == contract.winner
    assert record.issuing_body == contract.tenderer.name
    assert "第四十八条" in record.legal_basis
    assert record.valid_until == record.valid_from.replace(
        year=record.valid_from.year + 1
    ) - dt.timedelta(days=1)
    with pytest.raises(Conflict):
        services.forward_to_credit(staff, final)
    with pytest.raises(Conflict) as after_final:
        services.evaluate_performance(
            manager, contract, milestone="保修期", rating="good", comments="好"
        )
    assert after_final.value.rule == "performance_final"


def test_an_unqualified_performance_is_ordinary_dishonesty_recorded_by_a_regulator(clock):
    contract, manager, _sealed = h.signed_contract(clock)
    staff = centre_with_staff()[1]
    _org, regulator = regulator_with_staff(staff)
    evaluation = services.evaluate_performance(
        manager,
        contract,
        milestone="主体结构",
        rating="unqualified",
        comments="质量不合格，返工两次",
    )
    record = services.forward_to_credit(regulator, evaluation)
    assert record.category == "ordinary"


def test_payments_are_recorded_and_queried(clock):
    contract, manager, sealed = h.signed_contract(clock)
    signed_day = platform_clock.today()
    clock.set(clock.now() + dt.timedelta(days=40))
    first = services.record_payment(
        manager,
        contract,
        amount="3540000.15",
        paid_on=signed_day + dt.timedelta(days=10),
        milestone="预付款",
        reference="ZF-2026-001",
    )
    services.record_payment(
        manager,
        contract,
        amount=Decimal("5000000.00"),
        paid_on=signed_day + dt.timedelta(days=35),
        milestone="进度款",
        reference="ZF-2026-002",
    )
    rows, total = services.payments_of(contract)
    assert [p.reference for p in rows] == ["ZF-2026-001", "ZF-2026-002"]
    assert total == Decimal("8540000.15")
    rows, total = services.payments_of(contract, milestone="预付款")
    assert rows == [first] and total == Decimal("3540000.15")
    rows, _total = services.payments_of(contract, since=signed_day + dt.timedelta(days=11))
    assert [p.reference for p in rows] == ["ZF-2026-002"]
    winner = h.winner_of(contract, sealed)
    before = counts()
    for kwargs, rule in [
        ({"amount": "0"}, "money_range"),
        ({"amount": 100.5}, "money_format"),
        ({"reference": "ZF-2026-001"}, "payment_once"),
        ({"paid_on": signed_day - dt.timedelta(days=1)}, "payment_date"),
        ({"paid_on": platform_clock.today() + dt.timedelta(days=1)}, "payment_date"),
        ({"paid_on": "3 May"}, "date"),
        ({"amount": "3260000.36"}, "payments_within_price"),  # 0.01 over 11,800,000.50
    ]:
        args = {
            "amount": "1.00",
            "paid_on": signed_day,
            "milestone": "进度款",
            "reference": "ZF-X",
            **kwargs,
        }
        with pytest.raises((InvalidInput, Conflict)) as refused:
            services.record_payment(manager, contract, **args)
        assert refused.value.rule == rule, kwargs
    with pytest.raises(NotAllowed):
        services.record_payment(
            winner.user, contract, amount="1", paid_on=signed_day, milestone="x", reference="y"
        )
    assert counts() == before
    services.record_payment(
        manager,
        contract,
        amount="3260000.35",
        paid_on=signed_day,
        milestone="结算款",
        reference="ZF-3",
    )
    assert services.payments_of(contract)[1] == Decimal("11800000.50")


def test_payments_and_evaluations_need_a_signed_contract(clock):
    contract, manager, _sealed = h.drafted(clock)
    before = counts()
    with pytest.raises(Conflict):
        services.record_payment(
            manager,
            contract,
            amount="1",
            paid_on=platform_clock.today(),
            milestone="x",
            reference="y",
        )
    with pytest.raises(Conflict):
        services.evaluate_performance(manager, contract, milestone="x", rating="good", comments="y")
    assert counts() == before
