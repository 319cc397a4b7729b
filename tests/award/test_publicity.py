"""Candidate publicity (中标候选人公示, Reg art. 54): what the evaluation hands over, the period with
worked dates, refusals that write nothing, and suspension blocking the next step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openbid.award import hooks, services
from openbid.award.models import Candidate, Publicity, Suspension
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Notice
from tests.award import helpers as h
from tests.factories import market_entity
from tests.tendering.factories import at, row_counts

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        **row_counts(),
        "Publicity": Publicity.objects.count(),
        "Candidate": Candidate.objects.count(),
    }


def test_publicity_lasts_three_days_from_the_day_after_to_2400(clock):
    tender, _manager, sealed = h.opened_tender(clock)
    clock.set("2026-03-31 10:00")  # Tuesday
    publicity = services.publish_candidates(tender, h.candidates(sealed), h.REPORT_SHA256)
    # 31 March is not counted: 1, 2, 3 April; the period ends at 24:00 on Friday 3 April.
    assert publicity.ends_at == at("2026-04-04 00:00")
    assert publicity.days == 3
    tender.refresh_from_db()
    assert tender.status == State.PUBLICITY
    rows = list(publicity.candidates.order_by("position"))
    assert [c.rank for c in rows] == [1, 2, 3]
    assert [c.price for c in rows] == [
        Decimal("11800000.50"),
        Decimal("12345678.00"),
        Decimal("12990000.00"),
    ]
    notice = Notice.objects.get(tender=tender, kind=Notice.Kind.CANDIDATES)
    assert "2026年04月04日 00:00" in notice.body
    assert "一级注册建造师" in notice.body and "异议" in notice.body
    event = DomainEvent.objects.get(type="award.candidates.published")
    assert event.payload["report_sha256"] == h.REPORT_SHA256
    assert event.payload["article"] == "Reg art. 54"
    assert len(event.payload["candidates"]) == 3


def test_a_last_day_in_the_qingming_break_moves_to_the_next_working_day(clock):
    tender, _manager, sealed = h.opened_tender(clock)
    clock.set("2026-04-01 10:00")  # Wednesday: 2, 3, 4 April; 4–6 April are the Qingming break
    publicity = services.publish_candidates(tender, h.candidates(sealed), h.REPORT_SHA256)
    assert publicity.ends_at == at("2026-04-08 00:00")  # 24:00 on Tuesday 7 April
    assert services.publicity_open(publicity, at("2026-04-07 23:59"))
    assert not services.publicity_open(publicity, at("2026-04-08 00:00"))


def test_a_longer_period_may_be_chosen_but_not_a_shorter_one(clock):
    tender, _manager, sealed = h.opened_tender(clock)
    clock.set("2026-03-31 10:00")
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.publish_candidates(tender, h.candidates(sealed), h.REPORT_SHA256, publicity_days=2)
    assert refused.value.rule == "publicity_min" and refused.value.article == "Reg art. 54"
    assert counts() == before
    publicity = services.publish_candidates(
        tender, h.candidates(sealed), h.REPORT_SHA256, publicity_days=5
    )
    assert publicity.ends_at == at("2026-04-08 00:00")  # 5 April is a holiday too: 7 April


@pytest.mark.parametrize(
    "change, field, rule",
    [
        (lambda c: [*c, dict(c[0], bidder="x")], "candidates", "candidates_max"),
        (lambda c: [dict(c[0], rank=2), c[1], c[2]], "candidates", "candidates_max"),
        (
            lambda c: [dict(c[0], disclosed={"quality": "合格"}), *c[1:]],
            "candidates.1.disclosed.duration",
            "publicity_contents",
        ),
        (
            lambda c: [dict(c[0], evaluated_price=None), *c[1:]],
            "candidates.1.evaluated_price",
            "required",
        ),
        (lambda c: [dict(c[0], price=1.5), *c[1:]], "candidates.1.price", "money_format"),
        (
            lambda c: [c[0], dict(c[1], bidder=c[0]["bidder"]), c[2]],
            "candidates.2.bidder",
            "unique_candidate",
        ),
        (lambda c: [dict(c[0], colour="red"), *c[1:]], "candidates.1.colour", "schema"),
        (lambda c: [], "candidates", "candidates_max"),
    ],
)
def test_bad_candidates_are_refused_and_nothing_is_written(clock, change, field, rule):
    tender, _manager, sealed = h.opened_tender(clock)
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.publish_candidates(tender, change(h.candidates(sealed)), h.REPORT_SHA256)
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert counts() == before
    tender.refresh_from_db()
    assert tender.status == State.OPENED


def test_only_bidders_of_the_section_can_be_candidates(clock):
    tender, _manager, sealed = h.opened_tender(clock)
    stranger, _user = market_entity()
    listed = h.candidates(sealed)
    listed[2]["bidder"] = stranger.credit_code
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.publish_candidates(tender, listed, h.REPORT_SHA256)
    assert refused.value.rule == "candidate_is_bidder"
    assert counts() == before


def test_the_report_digest_state_and_repeat_are_checked(clock):
    tender, manager, sealed = h.opened_tender(clock)
    outsider = market_entity()[1]
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.publish_candidates(tender, h.candidates(sealed), "not-a-digest")
    assert refused.value.field == "report_sha256"
    with pytest.raises(NotAllowed):
        services.publish_candidates(tender, h.candidates(sealed), h.REPORT_SHA256, actor=outsider)
    assert counts() == before
    services.publish_candidates(tender, h.candidates(sealed), h.REPORT_SHA256, actor=manager)
    with pytest.raises(Conflict) as again:
        services.publish_candidates(tender, h.candidates(sealed), h.REPORT_SHA256)
    assert again.value.rule == "publicity_once"


def test_unranked_candidates_when_the_tender_says_so(clock):
    tender, _manager, sealed = h.opened_tender(
        clock, separated_award=True, award_method="deliberation", candidates_ranked=False
    )
    with pytest.raises(InvalidInput) as refused:
        services.publish_candidates(tender, h.candidates(sealed), h.REPORT_SHA256)
    assert refused.value.rule == "award_method"
    publicity = services.publish_candidates(
        tender, h.candidates(sealed, ranked=False), h.REPORT_SHA256
    )
    assert not publicity.ranked
    assert [c.rank for c in publicity.candidates.all()] == [None, None, None]
    assert "不排序" in publicity.notice.body


def test_suspension_blocks_the_decision_until_resumed(clock):
    publicity, manager, _sealed = h.in_publicity(clock)
    tender = publicity.tender
    suspension = services.suspend_publicity(tender, "投标人对评标结果提出异议", by=manager)
    assert services.award_blocked(tender) == "投标人对评标结果提出异议"
    with pytest.raises(Conflict):
        services.suspend_publicity(tender, "again", by=manager)
    h.after_publicity(clock, publicity)
    before = counts()
    with pytest.raises(Conflict) as refused:
        services.decide_award(manager, publicity)
    assert refused.value.rule == "award_suspended"
    assert "投标人对评标结果提出异议" in str(refused.value)
    assert counts() == before
    services.resume_publicity(tender, by=None, note="异议已答复")
    suspension.refresh_from_db()
    assert suspension.resumed_at is not None
    assert services.award_blocked(tender) is None
    with pytest.raises(Conflict):
        services.resume_publicity(tender, by=manager)
    assert services.decide_award(manager, publicity).winner is not None
    assert [
        e.type for e in DomainEvent.objects.filter(type__in=["award.suspended", "award.resumed"])
    ] == [
        "award.suspended",
        "award.resumed",
    ]


def test_outsiders_cannot_suspend(clock):
    publicity, _manager, sealed = h.in_publicity(clock)
    with pytest.raises(NotAllowed):
        services.suspend_publicity(publicity.tender, "no", by=sealed[0].user)
    assert not Suspension.objects.exists()


def test_other_contexts_holds_block_the_award(clock, monkeypatch):
    publicity, manager, _sealed = h.in_publicity(clock)
    seen: list[object] = []

    def hold(tender, step):
        seen.append(step)
        return "投诉处理期间暂停" if step in (None, "award") else None

    monkeypatch.setattr(hooks, "_block_checks", [hold])
    assert services.award_blocked(publicity.tender) == "投诉处理期间暂停"
    h.after_publicity(clock, publicity)
    with pytest.raises(Conflict) as refused:
        services.decide_award(manager, publicity)
    assert refused.value.rule == "award_suspended"
    assert seen == [None, "award"]
    assert services.award_blocked(publicity.tender, "sign_contract") is None


def test_no_decision_during_the_publicity(clock):
    publicity, manager, _sealed = h.in_publicity(clock)
    clock.set(publicity.ends_at - dt.timedelta(seconds=1))
    with pytest.raises(Conflict) as refused:
        services.decide_award(manager, publicity)
    assert refused.value.rule == "publicity_min" and refused.value.at == publicity.ends_at


def test_the_clock_loop_records_the_end_once(clock):
    publicity, _manager, _sealed = h.in_publicity(clock)
    assert services.record_publicity_ends() == 0
    h.after_publicity(clock, publicity)
    assert services.record_publicity_ends() == 1
    assert services.record_publicity_ends() == 0
    assert DomainEvent.objects.filter(type="award.publicity.ended").count() == 1
