"""The statutory checks at publication, one by one, with the rule, its article and the earliest
date that satisfies it; the green-channel exemptions; and two properties checked against an
independent computation (the schedule verdict of the publish service, and the deposit cap)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from openbid.accounts.roles import OrgType
from openbid.core import rules
from openbid.core.errors import DomainError, InvalidInput
from openbid.core.models import DomainEvent
from openbid.tendering import rules as tender_rules
from openbid.tendering import services
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Notice, Project, Section, Tender
from tests.factories import market_entity
from tests.tendering.factories import at, pdf, tender_fields

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

CN = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def w(clock):
    tenderer, t_user = market_entity(OrgType.TENDERER)
    bidders = [market_entity(OrgType.BIDDER)[0] for _ in range(3)]
    return SimpleNamespace(clock=clock, tenderer=tenderer, t_user=t_user, bidders=bidders)


_codes = iter(range(1, 10**6))


def make_project(w: Any, **overrides: Any) -> Project:
    fields: dict[str, Any] = {
        "code": f"2026-330100-48-01-{next(_codes):06d}",
        "name": "示范道路改造工程",
        "region_code": "330100",
        "industry": "municipal",
        "funding_source": "budget",
        "state_funding_percent": "100",
        "estimated_investment": "50000000",
        "approval_ref": "杭发改审批〔2026〕12号",
        **overrides,
    }
    return services.register_project(w.t_user, **fields)


def plan(start: str, end: str, deadline: str, questions: str | None = None) -> dict[str, Any]:
    """A schedule from China-time texts; questions close a day after issue starts by default."""
    begin = at(start)
    return {
        "doc_issue_start": begin,
        "doc_issue_end": at(end),
        "question_deadline": at(questions) if questions else begin + dt.timedelta(days=1),
        "bid_deadline": at(deadline),
    }


def draft(w: Any, project: Project | None = None, **overrides: Any) -> Tender:
    tender = services.create_tender(
        w.t_user, project or make_project(w), **tender_fields(**overrides)
    )
    services.upload_document(w.t_user, tender, pdf())
    return tender


def publish_refused(tender: Tender, w: Any) -> DomainError:
    """Publishing must be refused; the tender stays a draft without a notice or an event."""
    events = DomainEvent.objects.count()
    with pytest.raises(InvalidInput) as info:
        services.publish_tender(w.t_user, tender)
    tender.refresh_from_db()
    assert tender.status == State.DRAFT
    assert not tender.notices.exists()
    assert DomainEvent.objects.count() == events
    return info.value


def article(key: str) -> str:
    return rules.rule(key, on=dt.date(2026, 3, 2)).article


def test_articles_in_the_rules_table():
    assert article("bid_period_min") == "Law art. 24"
    assert article("doc_issue_period_min") == "Reg art. 16"
    assert article("bid_deposit_max_ratio") == "Reg art. 26"
    assert article("bid_deposit_cap_works").startswith("Works-30 art. 37")
    assert article("invited_min") == "Law art. 17"
    assert article("clarification_lead_bid") == "Law art. 23; Reg art. 21"
    assert article("obtainers_secret") == "Law art. 22"


# --- the bid period (Law art. 24) ----------------------------------------------------------------


class TestBidPeriod:
    def test_eighteen_days_refused_with_the_earliest_deadline(self, w):
        tender = draft(w, **plan("2026-03-02 09:00", "2026-03-09 17:00", "2026-03-20 09:30"))
        error = publish_refused(tender, w)
        assert (error.field, error.rule, error.article) == (
            "bid_deadline",
            "bid_period_min",
            "Law art. 24",
        )
        # 20 days after 2 March is Sunday 22 March; the first working day is Monday 23 March
        assert error.at == at("2026-03-23 09:30")
        assert "2026-03-23 09:30" in str(error) and "Law art. 24" in str(error)

    def test_twenty_days_on_a_rest_day_is_a_working_day_problem(self, w):
        tender = draft(w, **plan("2026-03-02 09:00", "2026-03-09 17:00", "2026-03-22 09:30"))
        error = publish_refused(tender, w)
        assert (error.field, error.rule, error.article, error.at) == (
            "bid_deadline",
            "deadline_on_working_day",
            "民法典 art. 203",
            at("2026-03-23 09:30"),
        )

    def test_the_earliest_deadline_is_accepted(self, w):
        tender = draft(w, **plan("2026-03-02 09:00", "2026-03-09 17:00", "2026-03-23 09:30"))
        services.publish_tender(w.t_user, tender)
        tender.refresh_from_db()
        assert tender.status == State.PUBLISHED

    def test_the_day_of_issue_is_not_counted(self, w):
        # issue starting late on 2 March still counts from 2 March: 21 days to 23 March
        w.clock.set("2026-03-02T23:50:00")
        tender = draft(w, **plan("2026-03-02 23:55", "2026-03-09 17:00", "2026-03-23 00:05"))
        services.publish_tender(w.t_user, tender)


# --- working days: the deadline (the opening) is not on a holiday ---------------------------------


class TestHolidays:
    def test_national_day(self, w):
        w.clock.set("2026-09-10T09:00:00")
        tender = draft(w, **plan("2026-09-10 09:00", "2026-09-17 17:00", "2026-10-05 09:30"))
        error = publish_refused(tender, w)
        # National Day holiday 1-7 October 2026: the next working day is Thursday 8 October
        assert (error.field, error.rule, error.article, error.at) == (
            "bid_deadline",
            "deadline_on_working_day",
            "民法典 art. 203",
            at("2026-10-08 09:30"),
        )
        assert "2026-10-08" in str(error)

    def test_make_up_working_saturday_is_a_working_day(self, w):
        w.clock.set("2026-09-10T09:00:00")
        tender = draft(w, **plan("2026-09-10 09:00", "2026-09-17 17:00", "2026-10-10 09:30"))
        services.publish_tender(w.t_user, tender)  # 10 October 2026 is a 调休 working Saturday

    def test_period_met_but_deadline_in_the_holiday(self, w):
        # 20 days after 14 September is 4 October (a holiday); a deadline on 6 October meets the
        # period and is refused only because the opening would fall in the holiday.
        w.clock.set("2026-09-14T09:00:00")
        tender = draft(w, **plan("2026-09-14 09:00", "2026-09-21 17:00", "2026-10-06 09:30"))
        error = publish_refused(tender, w)
        assert (error.rule, error.at) == ("deadline_on_working_day", at("2026-10-08 09:30"))

    def test_period_not_met_earliest_skips_the_holiday(self, w):
        w.clock.set("2026-09-14T09:00:00")
        tender = draft(w, **plan("2026-09-14 09:00", "2026-09-21 17:00", "2026-10-03 09:30"))
        error = publish_refused(tender, w)
        assert (error.rule, error.article, error.at) == (
            "bid_period_min",
            "Law art. 24",
            at("2026-10-08 09:30"),
        )

    def test_spring_festival(self, w):
        w.clock.set("2026-01-26T09:00:00")
        tender = draft(w, **plan("2026-01-26 09:00", "2026-02-02 17:00", "2026-02-16 09:30"))
        error = publish_refused(tender, w)
        assert (error.rule, error.at) == ("deadline_on_working_day", at("2026-02-24 09:30"))

    def test_uncovered_year_is_refused_naming_the_year(self, w):
        w.clock.set("2026-11-02T09:00:00")  # (the factory's default schedule needs the calendar)
        tender = draft(w, **plan("2026-12-21 09:00", "2026-12-28 17:00", "2027-01-15 09:30"))
        w.clock.set("2026-12-20T09:00:00")
        events = DomainEvent.objects.count()
        with pytest.raises(DomainError) as info:
            services.publish_tender(w.t_user, tender)
        assert info.value.rule == "working_day_calendar"
        assert "2027" in str(info.value)
        assert DomainEvent.objects.count() == events


# --- the document issue period (Reg art. 16) -----------------------------------------------------


class TestIssuePeriod:
    def test_four_days_refused(self, w):
        tender = draft(w, **plan("2026-03-02 09:00", "2026-03-06 17:00", "2026-03-27 09:30"))
        error = publish_refused(tender, w)
        assert (error.field, error.rule, error.article, error.at) == (
            "doc_issue_end",
            "doc_issue_period_min",
            "Reg art. 16",
            at("2026-03-07 17:00"),
        )
        assert "Reg art. 16" in str(error)

    def test_five_days_accepted(self, w):
        tender = draft(w, **plan("2026-03-02 09:00", "2026-03-07 17:00", "2026-03-27 09:30"))
        services.publish_tender(w.t_user, tender)


# --- deposits (Reg art. 26; Works-30 art. 37 and the survey-and-design cap) -----------------------


def one_section(price: str, deposit: str) -> list[dict[str, str]]:
    return [{"name": "一标段", "estimated_price": price, "deposit": deposit}]


class TestDeposit:
    @pytest.mark.parametrize(
        ("kind", "price", "cap", "rule", "articles"),
        [
            ("works", "10000000", "200000.00", "bid_deposit_max_ratio", "Reg art. 26"),
            ("services", "50000000", "1000000.00", "bid_deposit_max_ratio", "Reg art. 26"),
            (
                "works",
                "50000000",
                "800000.00",
                "bid_deposit_cap_works",
                "Reg art. 26; Works-30 art. 37; 工程建设项目货物招标投标办法 art. 27",
            ),
            (
                "goods",
                "50000000",
                "800000.00",
                "bid_deposit_cap_works",
                "Reg art. 26; Works-30 art. 37; 工程建设项目货物招标投标办法 art. 27",
            ),
            (
                "survey_design",
                "10000000",
                "100000.00",
                "bid_deposit_cap_survey_design",
                "Reg art. 26; 工程建设项目勘察设计招标投标办法 art. 24",
            ),
            ("works", "12345.67", "246.91", "bid_deposit_max_ratio", "Reg art. 26"),
        ],
    )
    def test_cap(self, w, kind, price, cap, rule, articles):
        project = make_project(w)
        over = str(Decimal(cap) + Decimal("0.01"))
        with pytest.raises(InvalidInput) as info:
            services.create_tender(
                w.t_user, project, **tender_fields(kind=kind, sections=one_section(price, over))
            )
        error = info.value
        assert (error.field, error.rule, error.article) == ("sections.1.deposit", rule, articles)
        assert not Tender.objects.filter(project=project).exists()
        tender = draft(w, project, kind=kind, sections=one_section(price, cap))
        services.publish_tender(w.t_user, tender)
        assert tender.sections.get().deposit == Decimal(cap)

    def test_cap_checked_again_at_publication(self, w):
        # A deposit that became unlawful after the draft was saved (here: written directly to
        # simulate a rules-table change) is still refused when the notice is published.
        tender = draft(w, sections=one_section("10000000", "200000"))
        Section.objects.filter(tender=tender).update(deposit=Decimal("200000.01"))
        error = publish_refused(tender, w)
        assert (error.field, error.rule, error.article) == (
            "sections.1.deposit",
            "bid_deposit_max_ratio",
            "Reg art. 26",
        )


# --- invitation tenders (Law art. 17) and evaluation weights -------------------------------------


class TestInvitation:
    def test_fewer_than_three_invitees(self, w):
        codes = [w.bidders[0].credit_code, w.bidders[1].credit_code, w.bidders[1].credit_code]
        tender = draft(w, method=Tender.Method.INVITED, invited=codes)
        error = publish_refused(tender, w)
        assert (error.field, error.rule, error.article) == ("invited", "invited_min", "Law art. 17")
        assert "2" in str(error)

    def test_three_invitees(self, w):
        tender = draft(w, method=Tender.Method.INVITED, invited=[b.credit_code for b in w.bidders])
        notice = services.publish_tender(w.t_user, tender)
        assert notice.kind == Notice.Kind.INVITATION


class TestWeights:
    @pytest.mark.parametrize(
        "weights", [{}, {"价格": 60, "技术": 30}, {"价格": "60.5", "技术": 40}]
    )
    def test_must_add_up_to_100(self, w, weights):
        tender = draft(
            w, evaluation_method=Tender.Evaluation.COMPREHENSIVE, evaluation_weights=weights
        )
        error = publish_refused(tender, w)
        assert (error.field, error.rule) == ("evaluation_weights", "weights_total")

    def test_weights_of_100(self, w):
        tender = draft(
            w,
            evaluation_method=Tender.Evaluation.COMPREHENSIVE,
            evaluation_weights={"价格": "60.5", "技术": "39.5"},
        )
        services.publish_tender(w.t_user, tender)


def test_every_problem_at_once(w):
    tender = draft(
        w,
        method=Tender.Method.INVITED,
        invited=[w.bidders[0].credit_code],
        **plan("2026-03-02 09:00", "2026-03-04 17:00", "2026-03-13 09:30"),
    )
    found = services.publication_problems(tender)
    assert [(p.field, p.rule, p.article) for p in found] == [
        ("bid_deadline", "bid_period_min", "Law art. 24"),
        ("doc_issue_end", "doc_issue_period_min", "Reg art. 16"),
        ("invited", "invited_min", "Law art. 17"),
    ]
    assert publish_refused(tender, w).rule == "bid_period_min"  # the first


# --- green channel -------------------------------------------------------------------------------


class TestGreenChannel:
    SHORT = plan("2026-03-02 09:00", "2026-03-04 17:00", "2026-03-12 09:30")

    def green(self, w, exemptions):
        return make_project(
            w,
            green_channel=True,
            green_reason="抢险救灾：防汛应急工程",
            green_exemptions=exemptions,
        )

    def test_exempted_periods(self, w):
        project = self.green(w, ["bid_period_min", "doc_issue_period_min"])
        tender = draft(w, project, **self.SHORT)
        services.publish_tender(w.t_user, tender)
        event = DomainEvent.objects.get(type="tendering.tender.published")
        assert event.payload["exemptions"] == ["bid_period_min", "doc_issue_period_min"]

    def test_the_same_schedule_without_the_channel(self, w):
        error = publish_refused(draft(w, **self.SHORT), w)
        assert error.rule == "bid_period_min"

    def test_only_the_rules_exempted(self, w):
        tender = draft(w, self.green(w, ["bid_period_min"]), **self.SHORT)
        error = publish_refused(tender, w)
        assert (error.rule, error.article) == ("doc_issue_period_min", "Reg art. 16")

    def test_never_the_working_day_or_the_deposit(self, w):
        project = self.green(w, list(tender_rules.EXEMPTIBLE))
        tender = draft(
            w, project, **plan("2026-03-02 09:00", "2026-03-04 17:00", "2026-03-08 09:30")
        )
        error = publish_refused(tender, w)  # Sunday
        assert (error.rule, error.at) == ("deadline_on_working_day", at("2026-03-09 09:30"))
        with pytest.raises(InvalidInput) as info:
            draft(w, project, sections=one_section("1000000", "20000.01"))
        assert info.value.rule == "bid_deposit_max_ratio"


# --- properties ----------------------------------------------------------------------------------

BASES = ["2026-03-02T09:00:00", "2026-01-26T09:00:00", "2026-09-08T09:00:00", "2026-04-20T14:00:00"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(BASES),
    start_minutes=st.integers(0, 3 * 24 * 60),
    issue_days=st.sampled_from(range(3, 8)),
    issue_minutes=st.integers(-600, 600),
    deadline_days=st.sampled_from(range(17, 27)),
    deadline_hour=st.integers(0, 23),
)
@example(BASES[0], 0, 7, 0, 21, 9)  # published
@example(BASES[0], 0, 7, 0, 19, 9)  # bid period
@example(BASES[0], 0, 7, 0, 20, 9)  # Sunday
@example(BASES[0], 0, 4, 480, 24, 9)  # issue period (4 days and 8 hours: 4 calendar days)
def test_publish_verdict_matches_a_simple_computation(
    w, base, start_minutes, issue_days, issue_minutes, deadline_days, deadline_hour
):
    now = w.clock.set(base)
    start = now + dt.timedelta(minutes=start_minutes)
    end = start + dt.timedelta(days=issue_days, minutes=issue_minutes)
    start_day = start.astimezone(CN).date()
    deadline_day = start_day + dt.timedelta(days=deadline_days)
    deadline = dt.datetime.combine(deadline_day, dt.time(deadline_hour, 30), tzinfo=CN)
    # the independent verdict: whole calendar days between the dates, the official calendar
    period = (deadline_day - start_day).days
    issue = (end.astimezone(CN).date() - start_day).days
    working = chinese_calendar.is_workday(deadline_day)
    expected = None
    if period < 20:
        expected = "bid_period_min"
    elif not working:
        expected = "deadline_on_working_day"
    elif issue < 5:
        expected = "doc_issue_period_min"
    event(f"verdict: {expected or 'published'}")

    tender = draft(
        w,
        doc_issue_start=start,
        doc_issue_end=end,
        question_deadline=start + dt.timedelta(days=1),
        bid_deadline=deadline,
    )
    try:
        services.publish_tender(w.t_user, tender)
    except InvalidInput as error:
        assert error.rule == expected, (start, end, deadline)
    else:
        assert expected is None, (start, end, deadline)


_ABSOLUTE_FEN = {"works": 80_000_000, "goods": 80_000_000, "survey_design": 10_000_000}


@settings(max_examples=300, deadline=None)
@given(
    fen=st.one_of(st.integers(1, 10**12), st.integers(39_999_000, 40_001_000)),
    kind=st.sampled_from(["works", "goods", "services", "survey_design"]),
)
def test_deposit_cap_is_two_percent_rounded_down_or_the_absolute_cap(fen, kind):
    on = dt.date(2026, 3, 2)
    price = Decimal(fen) / 100
    ratio_fen = fen * 2 // 100  # 2%, rounded down to the fen
    absolute = _ABSOLUTE_FEN.get(kind)
    expected_fen = ratio_fen if absolute is None else min(ratio_fen, absolute)
    cap, _applied = tender_rules.deposit_cap(kind, price, on)
    assert cap == Decimal(expected_fen) / 100
    assert cap.as_tuple().exponent == -2

    def check(deposit_fen: int) -> list[tender_rules.Problem]:
        terms = tender_rules.SectionTerms(1, price, None, Decimal(deposit_fen) / 100)
        return tender_rules.section_problems(kind, "cash_or_guarantee", terms, on)

    assert check(expected_fen) == []
    (problem,) = check(expected_fen + 1)
    binding = "bid_deposit_max_ratio"
    if absolute is not None and absolute < ratio_fen:
        binding = (
            "bid_deposit_cap_survey_design" if kind == "survey_design" else "bid_deposit_cap_works"
        )
    assert (problem.field, problem.rule) == ("sections.1.deposit", binding)
    assert problem.article.startswith("Reg art. 26")
