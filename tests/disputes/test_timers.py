"""Timers: warnings before the target and before the statutory limit, escalation when overdue,
each given once however often the clock loop runs; measured handling times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openbid.accounts.home import notifications_for
from openbid.core import clockloop
from openbid.core.models import DomainEvent
from openbid.disputes import services, timers
from openbid.disputes.models import Alert, Timer
from tests.disputes.helpers import world
from tests.tendering.factories import at

pytestmark = pytest.mark.django_db


def tick() -> int:
    return clockloop.tick()["disputes.timers"]


def test_objection_warnings_and_escalation_once_each(clock):
    w = world(clock)
    objection = services.raise_objection(
        w.bidder_user, w.tender, matter="tender_docs", text="资格条件排斥外地投标人。"
    )
    timer = Timer.objects.get(case="objection", case_id=objection.pk)
    tenderer = w.tender.project.tenderer
    # Raised Monday 2 March 10:01: target Tuesday 3 March 24:00, limit Thursday 5 March 24:00;
    # warnings from 24 hours before each.
    assert (timer.target_at, timer.due_at) == (at("2026-03-04 00:00"), at("2026-03-06 00:00"))
    clock.set(at("2026-03-02 23:59"))
    assert tick() == 0
    clock.set(at("2026-03-03 00:00"))
    assert tick() == 1
    assert tick() == 0
    assert list(Alert.objects.values_list("kind", "to")) == [("target", tenderer.pk)]
    clock.set(at("2026-03-05 00:00"))
    assert tick() == 1
    assert tick() == 0
    clock.set(at("2026-03-06 00:00"))
    assert tick() == 1
    assert tick() == 0
    escalated = Alert.objects.get(kind="escalated")
    assert escalated.to == w.regulator  # the competent regulator supervises the tenderer
    assert DomainEvent.objects.filter(type="disputes.timer.warned").count() == 2
    assert DomainEvent.objects.filter(type="disputes.timer.escalated").count() == 1
    # The tenderer's people see the warnings on their home page; the regulator the escalation.
    assert any("Target" in n["text"] or "目标" in n["text"] for n in notifications_for(w.manager))
    assert len([n for n in notifications_for(w.officer) if "link" in n]) == 1

    # A late reply stops the timer: no more alerts; measured as late.
    clock.set(at("2026-03-06 09:00"))
    services.reply_objection(w.manager, objection, reply="答复：维持原规定。")
    clock.set(at("2026-03-09 09:00"))
    assert tick() == 0
    (figure,) = timers.handling_figures(case="objection")
    assert figure.within_target is False and figure.within_limit is False
    assert figure.working_days == 4  # 3, 4, 5, 6 March
    assert figure.hours == Decimal("94.98")  # 2 March 10:01 → 6 March 09:00


def test_complaint_acceptance_escalates_to_the_regulators_supervisors(clock):
    w = world(clock)
    complaint = services.file_complaint(
        w.bidder_user,
        w.tender,
        matter="other",
        knew_on=dt.date(2026, 3, 2),
        text="招标代理机构工作人员向个别投标人透露评标专家名单。",
        requests="请依法查处。",
    )
    # Filed Monday 2 March: target Tuesday 3 March (1 working day), limit Thursday 5 March (3).
    timer = Timer.objects.get(case="complaint", case_id=complaint.pk, step="accept")
    assert timer.due_at == at("2026-03-06 00:00")
    clock.set(at("2026-03-06 00:00"))
    assert tick() == 3  # target, limit and escalation, all due now, each once
    assert tick() == 0
    assert set(Alert.objects.values_list("kind", flat=True)) == {"target", "limit", "escalated"}
    assert set(Alert.objects.values_list("to", flat=True)) == {w.regulator.pk}


def test_paused_decision_gives_no_warnings_and_moves_its_limit(clock):
    w = world(clock)
    complaint = services.file_complaint(
        w.bidder_user,
        w.tender,
        matter="other",
        knew_on=dt.date(2026, 3, 2),
        text="x 投诉事实",
        requests="y",
    )
    services.accept_complaint(w.officer, complaint)
    services.pause_decision_clock(w.officer, complaint, reason="检测")
    timer = Timer.objects.get(case="complaint", case_id=complaint.pk, step="decide")
    # Accepted Monday 2 March: 3–6 March (4), 9–13 (9), 16–20 (14), 23–27 (19), 30–31 (21),
    # 1–3 April (24), Qingming 4–6 April off, 7–10 (28), 13 (29), 14 (30): Tuesday 14 April.
    assert timer.due_at == at("2026-04-15 00:00")
    clock.set(at("2026-03-20 09:00"))
    assert tick() == 0  # the acceptance is done and the decision paused
    assert not Alert.objects.exists()
    # The expert review took 2 March to Friday 20 March: 14 working days (3–6, 9–13, 16–20 March)
    # are not counted; the limit moves 14 working days: 15–17 April (3), 20–24 (8), 27–30 (12),
    # 1–5 May off, 6 (13), 7 May (14) → Thursday 7 May.
    services.resume_decision_clock(w.officer, complaint)
    timer.refresh_from_db()
    assert timer.due_at == at("2026-05-08 00:00")
    complaint.refresh_from_db()
    assert complaint.decide_due == timer.due_at


def test_feedback_answered_within_the_target(clock):
    w = world(clock)
    staff = w.staff
    feedback = services.submit_feedback(
        w.bidder_user,
        kind="problem",
        subject="CA证书无法登录",
        text="使用某CA的证书登录时提示签名无效。",
    )
    # Submitted Monday 2 March 10:01: target Tuesday 3 March, due Thursday 5 March (3 working days).
    assert feedback.answer_due == at("2026-03-06 00:00")
    clock.set(at("2026-03-03 15:00"))
    services.answer_feedback(staff, feedback, answer="已联系CA机构修复证书链，请重新下载根证书。")
    rates = timers.handling_rates(timers.handling_figures(case="feedback"))
    assert rates["feedback.answer"] == {
        "count": 1,
        "done": 1,
        "within_target_rate": Decimal("1.0000"),
        "within_limit_rate": Decimal("1.0000"),
        "mean_working_days": Decimal("1.00"),
    }
