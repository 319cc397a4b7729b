"""Objections: raised within their windows, replied to online, and the suspension (hold) they
cause — tested through the opening service (the opening waits) and the award hook."""

from __future__ import annotations

import datetime as dt

import pytest

from openbid.core import holds
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.disputes import services, windows
from openbid.disputes.models import Objection, Suspension, Timer
from openbid.opening import services as opening
from openbid.opening.models import OpeningSession
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from tests.disputes.helpers import counts, regulator_for_region, world
from tests.factories import market_entity
from tests.opening.helpers import at_deadline, bidder, tender_with_bids
from tests.tendering.factories import at

pytestmark = pytest.mark.django_db

TEXT = "招标文件第三章资格条件要求“近三年在本市有类似业绩”，属于以特定行政区域业绩为加分条件，违反公平竞争原则。"


def test_raise_and_reply(clock):
    w = world(clock)
    objection = services.raise_objection(w.bidder_user, w.tender, matter="tender_docs", text=TEXT)
    # Raised Monday 2 March 10:01; reply due 2 + 3 = Thursday 5 March, 24:00.
    assert objection.raised_at == at("2026-03-02 10:01")
    assert objection.reply_due == at("2026-03-06 00:00")
    assert objection.status == Objection.Status.PENDING
    hold = holds.active_holds(w.tender, "open")
    assert [h.rule for h in hold] == ["objection_reply"]
    assert hold[0].steps == holds.ORDER  # the opening and all that follows
    timer = Timer.objects.get(case="objection", case_id=objection.pk)
    assert timer.handler == w.tender.project.tenderer  # no agency in the factory project
    assert timer.due_at == objection.reply_due
    assert timer.target_at == at("2026-03-04 00:00")  # ⌊3 × 50%⌋ = 1 day: Tuesday 3 March
    event = DomainEvent.objects.get(type="disputes.objection.raised")
    # The objector is not named in public (Law art. 22: who obtained the documents is secret).
    assert w.bidder.credit_code not in str(event.payload)
    assert event.private_digest

    clock.advance(hours=20)
    services.reply_objection(
        w.manager, objection, reply="经研究，删除该业绩地域限制，详见澄清。", changes_documents=True
    )
    objection.refresh_from_db()
    assert objection.status == Objection.Status.ANSWERED
    assert objection.replied_by_org == w.tender.project.tenderer
    assert holds.active_holds(w.tender) == []
    assert Suspension.objects.get().release_reason
    timer.refresh_from_db()
    assert timer.done_at == objection.replied_at
    with pytest.raises(Conflict) as refused:
        services.reply_objection(w.manager, objection, reply="again")
    assert refused.value.rule == "objection_answered"


def test_objection_window_closes_ten_days_before_the_deadline(clock):
    w = world(clock)
    assert w.tender.bid_deadline == at("2026-03-27 09:30")
    window = windows.documents_window(w.tender, w.tender.rules_date)
    assert window.closes == at("2026-03-18 00:00")  # 17 March, 24:00
    _other, other_user = bidder(w.tender, clock)
    clock.set(at("2026-03-17 23:59"))
    services.raise_objection(w.bidder_user, w.tender, matter="tender_docs", text=TEXT)
    clock.set(at("2026-03-18 00:00"))
    before = counts()
    with pytest.raises(Conflict) as refused:
        services.raise_objection(other_user, w.tender, matter="tender_docs", text=TEXT)
    assert refused.value.rule == "objection_tender_docs"
    assert refused.value.article == "Reg art. 22"
    assert refused.value.at == at("2026-03-18 00:00")
    assert counts() == before


def test_refusals_write_nothing(clock):
    w = world(clock)
    _stranger, stranger_user = market_entity()  # did not obtain the documents
    before = counts()
    with pytest.raises(NotAllowed) as refused:
        services.raise_objection(stranger_user, w.tender, matter="tender_docs", text=TEXT)
    assert refused.value.rule == "objection_tender_docs"
    with pytest.raises(Conflict) as refused:
        services.raise_objection(w.bidder_user, w.tender, matter="opening", text=TEXT)
    assert refused.value.rule == "objection_opening"
    with pytest.raises(Conflict) as refused:
        services.raise_objection(w.bidder_user, w.tender, matter="evaluation", text=TEXT)
    assert refused.value.rule == "objection_evaluation"
    with pytest.raises(Conflict) as refused:
        services.raise_objection(w.bidder_user, w.tender, matter="prequal_docs", text=TEXT)
    assert refused.value.rule == "objection_prequal_docs"
    with pytest.raises(InvalidInput):
        services.raise_objection(w.bidder_user, w.tender, matter="other", text=TEXT)
    with pytest.raises(InvalidInput):
        services.raise_objection(w.bidder_user, w.tender, matter="tender_docs", text="  ")
    with pytest.raises(NotAllowed):
        services.raise_objection(w.manager, w.tender, matter="tender_docs", text=TEXT)
    assert counts() == before
    objection = services.raise_objection(w.bidder_user, w.tender, matter="tender_docs", text=TEXT)
    before = counts()
    with pytest.raises(Conflict) as refused:
        services.raise_objection(w.bidder_user, w.tender, matter="tender_docs", text=TEXT)
    assert refused.value.rule == "objection_pending"
    with pytest.raises(NotAllowed):  # only the tenderer or its agency replies
        services.reply_objection(w.bidder_user, objection, reply="自己答复")
    assert counts() == before


def test_a_pending_objection_holds_the_opening_until_the_reply(clock):
    regulator_for_region()
    tender, manager, sealed = tender_with_bids(clock)
    objector = sealed[0]
    objection = services.raise_objection(objector.user, tender, matter="tender_docs", text=TEXT)
    # Nobody replies; the bid deadline passes: bidding closes, but the opening does not start.
    at_deadline(clock, tender, minutes=1)
    before = counts()
    assert opening.start_due_openings() == 1  # bidding closed only
    assert opening.start_due_openings() == 0
    tender.refresh_from_db()
    assert tender.status == State.BIDDING_CLOSED
    assert not OpeningSession.objects.filter(tender=tender).exists()
    with pytest.raises(Conflict) as refused:
        holds.require_no_hold(tender, "open")
    assert refused.value.code == "suspended"
    assert refused.value.rule == "objection_reply"
    assert refused.value.article == "Reg art. 22, 54"
    assert objection.reference in str(refused.value)
    assert counts()["Tender"] == before["Tender"]

    # The reply releases the hold; the next tick starts the opening, with its full window.
    clock.advance(hours=2)
    services.reply_objection(manager, objection, reply="招标文件无误，维持原规定。")
    assert opening.start_due_openings() == 1
    session = OpeningSession.objects.get(tender=tender)
    assert session.started_at == clock.now()
    assert session.decryption_deadline == clock.now() + dt.timedelta(minutes=30)
    tender.refresh_from_db()
    assert tender.status == State.OPENED


def test_an_objection_to_the_evaluation_result_holds_the_award(clock):
    """The award context's hook: ``holds.require_no_hold(tender, "award")`` before the award."""
    regulator_for_region()
    tender, manager, sealed = tender_with_bids(clock)
    _onlooker_org, onlooker = bidder(tender, clock)  # obtained the documents, did not bid
    # The candidates are in publicity from 10 to 13 April (the award context will provide this).
    start, end = at("2026-04-10 09:00"), at("2026-04-14 00:00")
    windows.PUBLICITY_SOURCES.append(lambda t: (start, end) if t.pk == tender.pk else None)
    try:
        Tender.objects.filter(pk=tender.pk).update(status=State.PUBLICITY)
        tender.refresh_from_db()
        clock.set(at("2026-04-09 17:00"))
        objector = sealed[1].user
        with pytest.raises(Conflict) as refused:  # before the publicity
            services.raise_objection(objector, tender, matter="evaluation", text=TEXT)
        assert refused.value.at == start
        clock.set(at("2026-04-13 20:00"))
        with pytest.raises(NotAllowed):  # not a bidder
            services.raise_objection(onlooker, tender, matter="evaluation", text=TEXT)
        objection = services.raise_objection(
            objector, tender, matter="evaluation", text="第一中标候选人业绩证明材料虚假。"
        )
        assert objection.reply_due == at("2026-04-17 00:00")  # 13 + 3 = Thursday 16 April
        holds.require_no_hold(tender, "publish_candidates")  # not stopped
        with pytest.raises(Conflict) as refused:
            holds.require_no_hold(tender, "award")
        assert refused.value.rule == "objection_reply"
        with pytest.raises(Conflict):
            holds.require_no_hold(tender, "sign_contract")
        clock.set(at("2026-04-14 00:00"))  # the publicity is over
        with pytest.raises(Conflict) as refused:
            services.raise_objection(sealed[2].user, tender, matter="evaluation", text="late")
        assert refused.value.at == end
        services.reply_objection(manager, objection, reply="经核查，业绩证明材料真实。")
        holds.require_no_hold(tender, "award")
    finally:
        windows.PUBLICITY_SOURCES.clear()
