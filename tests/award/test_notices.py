"""Award notice and result notices (Law art. 45), the result announcement, the deposits hook, and
the written report to the regulator (Law art. 47): on time, warned once, late."""

from __future__ import annotations

import datetime as dt

import pytest

from openbid.award import hooks, services
from openbid.award.models import AwardNotice, WrittenReport
from openbid.core.clockloop import tick
from openbid.core.errors import Conflict, NotAllowed
from openbid.core.models import DomainEvent
from openbid.crypto.models import DocumentSignature
from openbid.tendering.models import Notice
from tests.award import helpers as h
from tests.factories import market_entity
from tests.tendering.factories import at, row_counts

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        **row_counts(),
        "AwardNotice": AwardNotice.objects.count(),
        "Signature": DocumentSignature.objects.count(),
    }


def test_notices_to_the_winner_and_every_other_bidder(clock, monkeypatch):
    decision, manager, _sealed = h.decided(clock)
    notices = services.prepare_notices(manager, decision)
    award = [n for n in notices if n.kind == AwardNotice.Kind.AWARD]
    results = [n for n in notices if n.kind == AwardNotice.Kind.RESULT]
    assert [n.recipient for n in award] == [decision.winner.bidder]
    # Four bidders: the winner's award notice, three result notices (one to a non-candidate).
    assert len(results) == 3 and decision.winner.bidder not in [n.recipient for n in results]
    assert all(n.issued_at is None for n in notices)
    with pytest.raises(Conflict):
        services.prepare_notices(manager, decision)

    published: list[tuple[object, list[int], dt.datetime]] = []
    monkeypatch.setattr(
        hooks, "_result_published", [lambda t, w, a, section=None: published.append((t, w, a))]
    )
    notice = award[0]
    h.sign(
        manager,
        decision.publicity.tender.project.tenderer,
        "award-notice",
        notice.pk,
        notice.sha256,
    )
    now = clock.now()
    assert all(n.issued_at == now for n in decision.notices.all())
    result = Notice.objects.get(tender=decision.publicity.tender, kind=Notice.Kind.RESULT)
    assert decision.winner.bidder.name in result.body and "中标通知书发出时间" in result.body
    assert published == [(decision.publicity.tender, [decision.winner.bidder_id], now)]
    event = DomainEvent.objects.get(type="award.notices.issued")
    assert event.payload["contract_due_at"]
    assert event.payload["article"] == "Law art. 46"


def test_only_the_tenderer_signs_the_award_notice_once(clock):
    decision, manager, sealed = h.decided(clock)
    services.prepare_notices(manager, decision)
    notice = services.award_notice_of(decision)
    tenderer = decision.publicity.tender.project.tenderer
    winner = next(s for s in sealed if s.org == decision.winner.bidder)
    key = h.signing_key(winner.user, winner.org)
    before = counts()
    with pytest.raises(NotAllowed):
        h.sign(winner.user, winner.org, "award-notice", notice.pk, notice.sha256, key)
    with pytest.raises(Conflict) as wrong:
        h.sign(manager, tenderer, "award-notice", notice.pk, "00" * 32)
    assert wrong.value.rule == "document_version"
    result = decision.notices.filter(kind="result").first()
    with pytest.raises(Exception) as not_award:
        h.sign(manager, tenderer, "award-notice", result.pk, result.sha256)
    assert getattr(not_award.value, "rule", None) == "exists"
    services.suspend_publicity(decision.publicity.tender, "异议处理中", by=manager)
    with pytest.raises(Conflict) as blocked:
        h.sign(manager, tenderer, "award-notice", notice.pk, notice.sha256)
    assert blocked.value.rule == "award_suspended"
    services.resume_publicity(decision.publicity.tender, by=manager)
    after_suspension = counts()
    assert after_suspension["Signature"] == before["Signature"]
    h.sign(manager, tenderer, "award-notice", notice.pk, notice.sha256)
    with pytest.raises(Conflict):
        h.sign(manager, tenderer, "award-notice", notice.pk, notice.sha256)


def test_notices_need_a_decision_and_a_manager(clock):
    decision, _manager, sealed = h.decided(clock)
    with pytest.raises(NotAllowed):
        services.prepare_notices(sealed[0].user, decision)
    assert not AwardNotice.objects.exists()


def _report_case(clock):
    publicity, manager, _sealed = h.in_publicity(clock)
    clock.set("2026-04-07 09:00")  # after the publicity
    services.decide_award(manager, publicity)
    return publicity.tender, manager


def test_the_written_report_is_due_15_days_after_the_decision(clock):
    tender, manager = _report_case(clock)
    report = WrittenReport.objects.get(tender=tender)
    # 7 April not counted; the 15th day is Wednesday 22 April; due at its 24:00.
    assert report.due_at == at("2026-04-23 00:00")
    clock.set("2026-04-10 10:00")
    filed = services.file_written_report(manager, tender)
    assert not filed.late and filed.filed_at == clock.now()
    assert "招标投标情况书面报告" in filed.text and "中标人" in filed.text
    assert filed.sha256 == services.documents.sha256(filed.text)
    with pytest.raises(Conflict):
        services.file_written_report(manager, tender)


def test_the_report_is_warned_once_then_flagged_and_filed_late(clock):
    tender, manager = _report_case(clock)
    services.record_publicity_ends()
    clock.set("2026-04-19 23:59")
    assert services.report_deadlines() == 0
    clock.set("2026-04-20 00:00")  # three days before the due time
    assert tick()["award.deadlines"] == 1
    assert tick()["award.deadlines"] == 0  # once
    clock.set("2026-04-23 00:00")
    assert services.report_deadlines() == 1
    assert services.report_deadlines() == 0
    report = WrittenReport.objects.get(tender=tender)
    assert report.warned_at == at("2026-04-20 00:00") and report.overdue_at == at(
        "2026-04-23 00:00"
    )
    assert [e.type for e in DomainEvent.objects.filter(type__startswith="award.report.")] == [
        "award.report.due_soon",
        "award.report.overdue",
    ]
    clock.set("2026-04-24 09:00")
    filed = services.file_written_report(manager, tender)
    assert filed.late
    assert DomainEvent.objects.get(type="award.report.filed").payload["late"] is True


def test_the_report_needs_a_decision_and_a_manager(clock):
    publicity, manager, _sealed = h.in_publicity(clock)
    with pytest.raises(Conflict):
        services.file_written_report(manager, publicity.tender)
    outsider = market_entity()[1]
    h.after_publicity(clock, publicity)
    services.decide_award(manager, publicity)
    with pytest.raises(NotAllowed):
        services.file_written_report(outsider, publicity.tender)
    assert WrittenReport.objects.get().filed_at is None
