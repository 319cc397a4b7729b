"""Complaints: filing to the competent regulator within the period (objection first where the law
requires it), each refusal writing nothing, acceptance, investigation, suspension, pauses, the
decision with its credit record and publication, referral."""

from __future__ import annotations

import datetime as dt

import pytest

from openbid.core import holds
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.models import DomainEvent
from openbid.credit.models import CreditRecord
from openbid.disputes import letters, services
from openbid.disputes.models import Complaint, InvestigationStep, ResponsibilityEntry, Timer
from openbid.tendering.services import register_project
from tests.disputes.helpers import World, counts, world
from tests.factories import market_entity, regulator_with_staff
from tests.tendering.factories import at

pytestmark = pytest.mark.django_db

OBJECTION = "招标文件要求“近三年在本市有类似业绩”，排斥外地投标人。"
FACTS = "招标人对异议的答复未纠正以特定行政区域业绩作为资格条件的规定，违反《招标投标法实施条例》第三十二条。"
REQUESTS = "责令招标人修改招标文件。"


def objected(w: World, clock) -> None:
    objection = services.raise_objection(
        w.bidder_user, w.tender, matter="tender_docs", text=OBJECTION
    )
    clock.set(at("2026-03-03 10:00"))
    services.reply_objection(w.manager, objection, reply="维持原规定。")


def file(w: World, **overrides):
    fields = {
        "matter": "tender_docs",
        "knew_on": dt.date(2026, 3, 2),
        "text": FACTS,
        "requests": REQUESTS,
    }
    fields.update(overrides)
    return services.file_complaint(w.bidder_user, w.tender, **fields)


def test_competent_regulator_by_industry_and_region(clock):
    w = world(clock)
    assert services.competent_regulator(w.tender.project).regulator == w.regulator
    # A county project (330106 西湖区) falls back to the city's entry (330100).
    project = register_project(
        w.manager,
        code="2026-330106-48-01-900001",
        name="西湖区道路工程",
        region_code="330106",
        industry="municipal",
        funding_source="budget",
        state_funding_percent="100",
        estimated_investment="9000000",
        approval_ref="西发改〔2026〕1号",
    )
    assert services.competent_regulator(project).regulator == w.regulator
    # A province-wide entry for every industry catches a water project; a county entry for
    # municipal works is preferred for municipal works there.
    water_office, _u = regulator_with_staff(w.staff, username="water")
    services.set_responsibility(
        w.staff, region_code="330000", industry="", regulator=water_office.credit_code, basis="省级"
    )
    project.industry = "water"
    assert services.competent_regulator(project).regulator == water_office
    county, _u2 = regulator_with_staff(w.staff, username="county")
    entry = services.set_responsibility(
        w.staff,
        region_code="330106",
        industry="municipal",
        regulator=county.credit_code,
        basis="区级",
    )
    project.industry = "municipal"
    assert services.competent_regulator(project).regulator == county
    # A new entry for the same key retires the old one; retiring makes the city's apply again.
    services.retire_responsibility(w.staff, entry)
    assert services.competent_regulator(project).regulator == w.regulator
    with pytest.raises(NotAllowed):
        services.set_responsibility(
            w.bidder_user,
            region_code="330100",
            industry="",
            regulator=county.credit_code,
            basis="x",
        )
    with pytest.raises(InvalidInput):  # not a regulator
        services.set_responsibility(
            w.staff, region_code="330100", industry="", regulator=w.bidder.credit_code, basis="x"
        )


def test_from_filing_to_the_published_decision(clock):
    w = world(clock)
    objected(w, clock)
    clock.set(at("2026-03-06 16:00"))  # Friday
    complaint = file(w)
    assert complaint.regulator == w.regulator
    assert complaint.objection is not None
    # Knew on 2 March, objection's reply period 2–3 March (1 day) not counted: 2 + 11 = 13 March.
    assert complaint.window_end == at("2026-03-14 00:00")
    # Acceptance within 3 working days: Monday 9, Tuesday 10, Wednesday 11 March.
    assert complaint.accept_due == at("2026-03-12 00:00")
    assert set(complaint.respondents.all()) == {w.tender.project.tenderer}
    filed = DomainEvent.objects.get(type="disputes.complaint.filed")
    assert w.bidder.credit_code not in str(filed.payload)  # anonymous to the public

    clock.set(at("2026-03-09 10:00"))
    with pytest.raises(NotAllowed):  # another regulator
        _other, other_officer = regulator_with_staff(w.staff, username="other")
        services.accept_complaint(other_officer, complaint)
    services.accept_complaint(w.officer, complaint)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.ACCEPTED
    # 30 working days from Monday 9 March, Qingming (4–6 April) off: Tuesday 21 April.
    assert complaint.decide_due == at("2026-04-22 00:00")
    accept_timer = Timer.objects.get(case="complaint", case_id=complaint.pk, step="accept")
    assert accept_timer.done_at == clock.now()

    # The regulator suspends the tender while it investigates (Reg art. 62).
    services.suspend_tender(w.officer, complaint, reason="投诉事项可能影响招标文件合法性。")
    with pytest.raises(Conflict) as refused:
        holds.require_no_hold(w.tender, "open")
    assert refused.value.rule == "complaint_suspension"
    assert complaint.reference in str(refused.value)

    request = services.request_materials(
        w.officer,
        complaint,
        addressee=w.tender.project.tenderer.credit_code,
        text="请提供资格条件设置的依据。",
        due_on=dt.date(2026, 3, 12),
    )
    with pytest.raises(NotAllowed):
        services.reply_to_request(w.bidder_user, request, text="not ours")
    clock.set(at("2026-03-10 09:00"))
    services.reply_to_request(w.manager, request, text="该条件系参照本单位以往项目设置。")
    services.record_hearing(w.officer, complaint, text="2026年3月10日询问招标人代表，记录如下……")

    # Expert review from Wednesday 11 to Friday 13 March: 2 working days (12, 13) not counted.
    clock.set(at("2026-03-11 09:00"))
    services.pause_decision_clock(w.officer, complaint, reason="组织专家评审资格条件。")
    with pytest.raises(Conflict):  # no decision while paused
        services.decide_complaint(
            w.officer, complaint, outcome="upheld", findings="x", decision_number="x"
        )
    clock.set(at("2026-03-13 17:00"))
    services.resume_decision_clock(w.officer, complaint)
    complaint.refresh_from_db()
    assert complaint.decide_due == at("2026-04-24 00:00")  # 21 April + 2 working days

    clock.set(at("2026-03-16 10:00"))
    before = CreditRecord.objects.count()
    services.decide_complaint(
        w.officer,
        complaint,
        outcome="upheld",
        findings="招标文件以本市业绩为资格条件，属于以不合理条件限制、排斥潜在投标人。",
        measures="责令招标人修改招标文件并顺延投标截止时间。",
        penalty="",
        decision_number="杭发改投诉〔2026〕1号",
        credit_subject=w.tender.project.tenderer.credit_code,
        credit_category="minor",
        credit_valid_until=dt.date(2027, 3, 15),
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.DECIDED
    assert complaint.published_at == clock.now()
    assert holds.active_holds(w.tender) == []  # the decision ends the suspension
    record = CreditRecord.objects.get()
    assert CreditRecord.objects.count() == before + 1
    assert record.source == "complaint_finding"
    assert record.subject.organisation == w.tender.project.tenderer
    assert record.document_number == "杭发改投诉〔2026〕1号"
    assert record.issuing_body == w.regulator.name

    services.refer_case(
        w.officer,
        complaint,
        body="discipline",
        body_name="杭州市纪委监委",
        reference="杭发改移〔2026〕1号",
        reason="招标人工作人员可能存在违纪行为。",
    )
    # The published decision does not name the complainant; the party's letter does.
    public = letters.render("complaint_decision", complaint, public=True)
    assert w.bidder.name not in public and "依法不公开" in public
    assert "杭发改投诉〔2026〕1号" in public and "投诉成立" in public
    assert w.bidder.name in letters.render("complaint_decision", complaint)
    kinds = [x.kind for x in letters.complaint_letters(complaint)]
    assert kinds == [
        "complaint_receipt",
        "complaint_acceptance",
        "suspension_order",
        "complaint_decision",
        "referral",
        "materials_request",
    ]
    for letter in letters.complaint_letters(complaint):
        obj = request if letter.kind == "materials_request" else complaint
        assert complaint.tender.project.code in letters.render(letter.kind, obj)
    decided = DomainEvent.objects.get(type="disputes.complaint.decided")
    assert decided.payload["credit_record"] == record.number
    assert w.bidder.credit_code not in str(decided.payload)
    assert list(services.published_decisions()) == [complaint]


def test_each_refusal_writes_nothing(clock):
    w = world(clock)
    _stranger, stranger_user = market_entity()
    before = counts()
    # No standing: did not obtain the documents, did not bid.
    with pytest.raises(NotAllowed) as refused:
        services.file_complaint(
            stranger_user,
            w.tender,
            matter="other",
            knew_on=dt.date(2026, 3, 2),
            text=FACTS,
            requests=REQUESTS,
        )
    assert refused.value.rule == "complaint_standing"
    # Objection first: none raised.
    with pytest.raises(Conflict) as refused:
        file(w)
    assert refused.value.rule == "complaint_objection_first"
    assert refused.value.article == "Reg art. 60"
    # A day in the future, or before the tender was published.
    with pytest.raises(InvalidInput):
        file(w, matter="other", knew_on=dt.date(2026, 3, 3))
    with pytest.raises(InvalidInput):
        file(w, matter="other", knew_on=dt.date(2026, 2, 27))
    assert counts() == before

    # Objection pending: wait for the reply (due Thursday 5 March, 24:00).
    services.raise_objection(w.bidder_user, w.tender, matter="tender_docs", text=OBJECTION)
    before = counts()
    with pytest.raises(Conflict) as refused:
        file(w)
    assert refused.value.rule == "complaint_objection_first"
    assert refused.value.at == at("2026-03-06 00:00")
    assert counts() == before

    # Out of time: knew Monday 2 March + 10 = Thursday 12 March, 24:00.
    clock.set(at("2026-03-13 00:00"))
    before = counts()
    with pytest.raises(Conflict) as refused:
        file(w, matter="other")
    assert refused.value.rule == "complaint_window"
    assert refused.value.at == at("2026-03-13 00:00")
    # No reply came: the whole reply period (2–5 March, 3 days) is not counted: 2 + 13 = 15 March,
    # a Sunday → Monday 16 March, 24:00. Still in time on 13 March.
    clock.set(at("2026-03-12 23:00"))
    complaint = file(w, matter="other")
    before = counts()
    # Pending on the same matter.
    with pytest.raises(Conflict) as refused:
        file(w, matter="other")
    assert refused.value.rule == "complaint_pending"
    assert counts() == before

    # Repeat of a decided matter.
    services.accept_complaint(w.officer, complaint)
    services.decide_complaint(
        w.officer, complaint, outcome="dismissed", findings="查无实据。", decision_number="D-1"
    )
    before = counts()
    with pytest.raises(Conflict) as refused:
        file(w, matter="other")
    assert refused.value.rule == "complaint_repeat"
    assert counts() == before

    # The objection was never answered: its whole reply period (2–5 March: 3 days) is not
    # counted, and the complainant knew at the latest when it objected (2 March, although it says
    # 6 March): 2 + 3 + 10 = Sunday 15 March → Monday 16 March, 24:00.
    clock.set(at("2026-03-13 09:00"))
    tender_docs = file(w, knew_on=dt.date(2026, 3, 6))
    assert tender_docs.knew_on == dt.date(2026, 3, 2)
    assert tender_docs.window_end == at("2026-03-17 00:00")


def test_no_regulator_listed_is_refused(clock):
    w = world(clock)
    ResponsibilityEntry.objects.update(active=False)
    before = counts()
    with pytest.raises(NotFound) as refused:
        file(w, matter="other")
    assert refused.value.rule == "responsibility_list"
    assert counts() == before


def test_rejection_with_its_legal_ground(clock):
    w = world(clock)
    complaint = file(w, matter="other", text="听说有人串标。")
    clock.set(at("2026-03-04 10:00"))
    with pytest.raises(InvalidInput):
        services.reject_complaint(w.officer, complaint, ground="dislike", reason="x")
    services.reject_complaint(
        w.officer, complaint, ground="not_specific", reason="投诉事项不具体，且未提供有效线索。"
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.REJECTED
    text = letters.render("complaint_rejection", complaint)
    assert "投诉事项不具体" in text
    with pytest.raises(Conflict):
        services.accept_complaint(w.officer, complaint)
    timer = Timer.objects.get(case="complaint", case_id=complaint.pk, step="accept")
    assert timer.done_at == clock.now()
    assert not InvestigationStep.objects.exists()
