"""Service-level tests of tendering: every state change, allowed and refused.

Each refusal is checked for its field, rule (and article and earliest time where the law gives
one), and for leaving nothing half-written: the rows of every tendering table, the domain events
and the ledger entries are counted before and after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openbid.accounts import services as accounts
from openbid.accounts.roles import OrgType
from openbid.core import clock as platform_clock
from openbid.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from openbid.core.models import DomainEvent
from openbid.ledger.models import Entry
from openbid.tendering import services, tasks
from openbid.tendering.lifecycle import State
from openbid.tendering.models import (
    Notice,
    Project,
    Tender,
)
from tests.factories import centre_with_staff, market_entity, regulator_with_staff
from tests.tendering.factories import PDF, at, pdf, row_counts, schedule, tender_fields

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

CN = ZoneInfo("Asia/Shanghai")


# --- helpers -------------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    return row_counts()


def refused(error: type[DomainError], call: Any, *args: Any, **kwargs: Any) -> DomainError:
    """Call a service that must refuse; check that nothing was written; return the refusal."""
    before = counts()
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    assert counts() == before
    return info.value


def in_ledger() -> None:
    """Every domain event is a ledger leaf."""
    assert Entry.objects.count() == DomainEvent.objects.count()


def leaf(event: DomainEvent) -> dict[str, Any]:
    return json.loads(bytes(Entry.objects.get(event=event).leaf))


def last(event_type: str) -> DomainEvent:
    return DomainEvent.objects.filter(type=event_type).latest("id")


@pytest.fixture
def w(clock):
    """People of every role: the tenderer with its appointed agency, bidders, outsiders."""
    tenderer, t_user = market_entity(OrgType.TENDERER)
    agency, a_user = market_entity(OrgType.AGENCY)
    other_tenderer, ot_user = market_entity(OrgType.TENDERER)
    other_agency, oa_user = market_entity(OrgType.AGENCY)
    bidders = [market_entity(OrgType.BIDDER) for _ in range(4)]
    centre, c_user = centre_with_staff()
    regulator, r_user = regulator_with_staff(c_user)
    return SimpleNamespace(
        clock=clock,
        tenderer=tenderer,
        t_user=t_user,
        agency=agency,
        a_user=a_user,
        other_tenderer=other_tenderer,
        ot_user=ot_user,
        other_agency=other_agency,
        oa_user=oa_user,
        bidders=[b for b, _u in bidders],
        b_users=[u for _b, u in bidders],
        centre=centre,
        c_user=c_user,
        regulator=regulator,
        r_user=r_user,
    )


_codes = iter(range(1, 10**6))


def project_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "code": f"2026-330100-48-01-{next(_codes):06d}",
        "name": "示范道路改造工程",
        "region_code": "330100",
        "industry": "municipal",
        "funding_source": "budget",
        "state_funding_percent": "100",
        "estimated_investment": "50000000",
        "approval_ref": "杭发改审批〔2026〕12号",
    }
    fields.update(overrides)
    return fields


def make_project(w: Any, **overrides: Any) -> Project:
    return services.register_project(
        w.t_user, **project_fields(**{"agency": w.agency.credit_code, **overrides})
    )


def make_tender(w: Any, project: Project | None = None, **overrides: Any) -> Tender:
    """A draft tender created by the agency, documents issued from now (default schedule)."""
    fields = tender_fields(**{**schedule(start=platform_clock.now()), **overrides})
    return services.create_tender(w.a_user, project or make_project(w), **fields)


def publish(w: Any, tender: Tender) -> Tender:
    services.upload_document(w.a_user, tender, pdf())
    services.publish_tender(w.a_user, tender)
    tender.refresh_from_db()
    return tender


def published(w: Any, project: Project | None = None, **overrides: Any) -> Tender:
    return publish(w, make_tender(w, project, **overrides))


# --- projects ------------------------------------------------------------------------------------


class TestRegisterProject:
    def test_by_the_tenderer_appointing_an_agency(self, w):
        project = make_project(w, name="示范道路改造工程", green_channel=False)
        assert project.tenderer == w.tenderer
        assert project.agency == w.agency
        assert project.registered_at == w.clock.now()
        assert project.estimated_investment == Decimal("50000000.00")
        event = last("tendering.project.registered")
        assert event.actor_org == w.tenderer
        assert event.payload["code"] == project.code
        assert event.payload["agency"] == w.agency.credit_code
        assert {str(s) for s in event.subjects.all()} == {
            f"project:{project.pk}",
            f"organisation:{w.tenderer.pk}",
        }
        assert leaf(event)["payload"]["code"] == project.code
        in_ledger()

    def test_by_an_agency_for_a_named_tenderer(self, w):
        project = services.register_project(
            w.a_user, **project_fields(tenderer=w.tenderer.credit_code)
        )
        assert (project.tenderer, project.agency) == (w.tenderer, w.agency)
        assert last("tendering.project.registered").actor_org == w.agency

    def test_region_code_is_normalised(self, w):
        project = make_project(w, region_code=" 330106 ")
        assert project.region_code == "330106"

    @pytest.mark.parametrize(
        "code",
        [
            "",
            "2026-33010-48-01-123456",  # region too short
            "2026-330100-48-01-12345",  # serial too short
            "2026/330100/48/01/123456",
            "26-330100-48-01-123456",
            "２０２６-330100-48-01-123456",  # full-width digits
            "2026-330100-4８-01-123456",
            "2026-330100-48-01-123456-1",
        ],
    )
    def test_code_format(self, w, code):
        error = refused(InvalidInput, make_project, w, code=code)
        assert (error.field, error.rule) == ("code", "project_code_format")

    @pytest.mark.parametrize("year", ["1999", "2028"])
    def test_code_year_is_plausible(self, w, year):
        error = refused(InvalidInput, make_project, w, code=f"{year}-330100-48-01-000001")
        assert (error.field, error.rule) == ("code", "project_code_format")

    def test_next_year_is_plausible(self, w):
        assert make_project(w, code="2027-330100-48-01-000001").code.startswith("2027-")

    def test_code_region_must_be_a_division(self, w):
        error = refused(InvalidInput, make_project, w, code="2026-990100-48-01-000001")
        assert (error.field, error.rule) == ("code", "gb2260_region")

    @pytest.mark.parametrize("region", ["999999", "33010", "", "hangzh"])
    def test_region_must_be_a_division(self, w, region):
        error = refused(InvalidInput, make_project, w, region_code=region)
        assert (error.field, error.rule) == ("region_code", "gb2260_region")

    def test_code_is_unique(self, w):
        project = make_project(w)
        error = refused(Conflict, make_project, w, code=project.code)
        assert (error.field, error.rule) == ("code", "unique_project_code")

    @pytest.mark.parametrize(
        ("overrides", "field", "rule"),
        [
            ({"industry": "mining"}, "industry", "choice"),
            ({"funding_source": "lottery"}, "funding_source", "choice"),
            ({"state_funding_percent": "100.01"}, "state_funding_percent", "range"),
            ({"state_funding_percent": "-1"}, "state_funding_percent", "money_range"),
            ({"estimated_investment": "0"}, "estimated_investment", "range"),
            ({"estimated_investment": 1.5}, "estimated_investment", "money_format"),
            ({"name": "  "}, "name", "required"),
            ({"approval_ref": ""}, "approval_ref", "required"),
        ],
    )
    def test_bad_values(self, w, overrides, field, rule):
        error = refused(InvalidInput, make_project, w, **overrides)
        assert (error.field, error.rule) == (field, rule)

    def test_bidder_cannot_register(self, w):
        error = refused(NotAllowed, services.register_project, w.b_users[0], **project_fields())
        assert error.rule == "tender_manager"
        error = refused(
            NotAllowed,
            services.register_project,
            w.b_users[0],
            **project_fields(tenderer=w.tenderer.credit_code),
        )
        assert error.rule == "tender_manager"

    def test_another_tenderers_staff_cannot_register_for_it(self, w):
        error = refused(
            NotAllowed,
            services.register_project,
            w.ot_user,
            **project_fields(tenderer=w.tenderer.credit_code),
        )
        assert error.rule == "tender_manager"

    def test_agency_staff_cannot_act_as_another_agency(self, w):
        error = refused(
            NotAllowed,
            services.register_project,
            w.oa_user,
            **project_fields(tenderer=w.tenderer.credit_code, agency=w.agency.credit_code),
        )
        assert error.rule == "tender_manager"

    def test_agency_must_name_the_tenderer(self, w):
        error = refused(InvalidInput, services.register_project, w.a_user, **project_fields())
        assert (error.field, error.rule) == ("tenderer", "required")

    def test_named_organisations_must_exist_and_have_the_right_type(self, w):
        error = refused(NotFound, make_project, w, agency="91330100MA0000000X")
        assert (error.field, error.rule) == ("agency", "registered_organisation")
        error = refused(InvalidInput, make_project, w, agency=w.bidders[0].credit_code)
        assert (error.field, error.rule) == ("agency", "organisation_type")

    def test_suspended_agency_cannot_be_appointed(self, w):
        accounts.suspend_organisation(w.c_user, w.other_agency, reason="虚假材料")
        error = refused(NotAllowed, make_project, w, agency=w.other_agency.credit_code)
        assert (error.field, error.rule) == ("agency", "organisation_status")

    def test_anonymous_cannot_register(self, w):
        error = refused(NotAllowed, services.register_project, None, **project_fields())
        assert error.rule == "login_required"


class TestGreenChannel:
    def test_flag_reason_and_exemptions_are_recorded(self, w):
        project = make_project(
            w,
            green_channel=True,
            green_reason="抢险救灾：防汛应急工程",
            green_exemptions=["bid_period_min", "doc_issue_period_min", "bid_period_min"],
        )
        assert project.green_channel
        assert project.green_exemptions == ["bid_period_min", "doc_issue_period_min"]
        payload = last("tendering.project.registered").payload
        assert payload["green_channel"] is True
        assert payload["green_reason"] == "抢险救灾：防汛应急工程"
        assert payload["green_exemptions"] == ["bid_period_min", "doc_issue_period_min"]

    def test_one_exemption_given_as_text(self, w):
        project = make_project(
            w, green_channel=True, green_reason="应急", green_exemptions="bid_period_min"
        )
        assert project.green_exemptions == ["bid_period_min"]

    def test_needs_a_reason(self, w):
        error = refused(InvalidInput, make_project, w, green_channel=True, green_reason=" ")
        assert (error.field, error.rule) == ("green_reason", "required")

    def test_only_green_projects_are_exempted(self, w):
        error = refused(InvalidInput, make_project, w, green_exemptions=["bid_period_min"])
        assert (error.field, error.rule) == ("green_exemptions", "green_channel")

    @pytest.mark.parametrize(
        "key", ["bid_deposit_max_ratio", "invited_min", "obtainers_secret", "unknown"]
    )
    def test_only_exemptible_rules(self, w, key):
        error = refused(
            InvalidInput,
            make_project,
            w,
            green_channel=True,
            green_reason="应急",
            green_exemptions=[key],
        )
        assert (error.field, error.rule) == ("green_exemptions", "green_channel")
        assert key in str(error)


# --- plans ---------------------------------------------------------------------------------------


class TestPublishPlan:
    def test_published_at_once(self, w):
        project = make_project(w)
        plan = services.publish_plan(
            w.a_user,
            project,
            title="2026年道路改造招标计划",
            expected_notice_date=dt.date(2026, 3, 20),
            estimated_amount="28000000",
        )
        assert plan.published_at == w.clock.now()
        event = last("tendering.plan.published")
        assert event.actor_org == w.agency
        assert event.payload["expected_notice_date"] == "2026-03-20"
        in_ledger()

    def test_today_is_allowed_the_past_is_not(self, w):
        project = make_project(w)
        services.publish_plan(
            w.t_user,
            project,
            title="计划",
            expected_notice_date=dt.date(2026, 3, 2),
            estimated_amount="1",
        )
        error = refused(
            InvalidInput,
            services.publish_plan,
            w.t_user,
            project,
            title="计划",
            expected_notice_date=dt.date(2026, 3, 1),
            estimated_amount="1",
        )
        assert (error.field, error.rule) == ("expected_notice_date", "schedule_order")

    @pytest.mark.parametrize("value", [dt.datetime(2026, 3, 20, 9, 0, tzinfo=CN), "2026-03-20"])
    def test_needs_a_date(self, w, value):
        project = make_project(w)
        error = refused(
            InvalidInput,
            services.publish_plan,
            w.t_user,
            project,
            title="计划",
            expected_notice_date=value,
            estimated_amount="1",
        )
        assert (error.field, error.rule) == ("expected_notice_date", "required")

    def test_amount_must_be_positive(self, w):
        project = make_project(w)
        error = refused(
            InvalidInput,
            services.publish_plan,
            w.t_user,
            project,
            title="计划",
            expected_notice_date=dt.date(2026, 3, 20),
            estimated_amount="0",
        )
        assert (error.field, error.rule) == ("estimated_amount", "range")

    @pytest.mark.parametrize("who", ["ot_user", "oa_user", "c_user", "r_user"])
    def test_wrong_organisation(self, w, who):
        project = make_project(w)
        error = refused(
            NotAllowed,
            services.publish_plan,
            getattr(w, who),
            project,
            title="计划",
            expected_notice_date=dt.date(2026, 3, 20),
            estimated_amount="1",
        )
        assert error.rule == "tender_manager"

    def test_bidder_cannot_publish(self, w):
        project = make_project(w)
        error = refused(
            NotAllowed,
            services.publish_plan,
            w.b_users[0],
            project,
            title="计划",
            expected_notice_date=dt.date(2026, 3, 20),
            estimated_amount="1",
        )
        assert error.rule == "tender_manager"


# --- tenders -------------------------------------------------------------------------------------


class TestCreateTender:
    def test_draft_with_two_sections(self, w):
        project = make_project(w)
        plan = services.publish_plan(
            w.a_user,
            project,
            title="计划",
            expected_notice_date=dt.date(2026, 3, 2),
            estimated_amount="28000000",
        )
        tender = make_tender(
            w,
            project,
            plan=plan,
            evaluation_method=Tender.Evaluation.COMPREHENSIVE,
            evaluation_weights={"价格": 60, "技术": "30", "商务": Decimal("10")},
            separated_award=True,
            award_method=Tender.AwardMethod.LOTTERY,
        )
        assert tender.status == State.DRAFT
        assert tender.plan == plan
        assert tender.separated_award
        assert tender.evaluation_weights == {"价格": "60", "技术": "30", "商务": "10"}
        sections = list(tender.sections.all())
        assert [(s.number, s.estimated_price, s.ceiling_price, s.deposit) for s in sections] == [
            (1, Decimal("20000000.00"), Decimal("21000000.00"), Decimal("400000.00")),
            (2, Decimal("8000000.00"), None, Decimal("160000.00")),
        ]
        event = last("tendering.tender.created")
        assert event.actor_org == w.agency
        assert event.payload["sections"] == 2
        in_ledger()

    def test_naive_times_are_china_time(self, w):
        fields = {
            k: v.astimezone(CN).replace(tzinfo=None)
            for k, v in schedule(start=platform_clock.now()).items()
        }
        tender = make_tender(w, **fields)
        assert tender.bid_deadline == at("2026-03-27 09:30")

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            # documents end before they start
            ({"doc_issue_end": at("2026-03-02 08:00")}, "doc_issue_end"),
            # the deadline comes before documents stop being issued
            ({"doc_issue_end": at("2026-03-28 09:00")}, "bid_deadline"),
            # questions close after the deadline, or at it
            ({"question_deadline": at("2026-03-27 09:30")}, "question_deadline"),
            # questions close before any document is issued
            ({"question_deadline": at("2026-03-02 08:59")}, "question_deadline"),
        ],
    )
    def test_dates_in_the_wrong_order(self, w, change, field):
        project = make_project(w)
        error = refused(InvalidInput, make_tender, w, project, **change)
        assert (error.field, error.rule) == (field, "schedule_order")

    def test_issue_cannot_start_in_the_past(self, w):
        project = make_project(w)
        start = w.clock.now() - dt.timedelta(minutes=6)
        error = refused(InvalidInput, make_tender, w, project, **schedule(start=start, days=25))
        assert (error.field, error.rule, error.at) == (
            "doc_issue_start",
            "schedule_order",
            w.clock.now(),
        )
        # a few minutes of form-filling are tolerated
        make_tender(w, project, **schedule(start=w.clock.now() - dt.timedelta(minutes=4)))

    def test_a_draft_needs_no_holiday_calendar(self, w):
        # 2030's holidays are not known: the periods are checked at publication, not in a draft
        tender = make_tender(
            w,
            doc_issue_start=at("2030-03-04 09:00"),
            doc_issue_end=at("2030-03-11 17:00"),
            question_deadline=at("2030-03-20 17:00"),
            bid_deadline=at("2030-03-29 09:30"),
        )
        assert tender.status == State.DRAFT

    @pytest.mark.parametrize(
        ("section", "field", "rule"),
        [
            ({"ceiling_price": "-1"}, "sections.1.ceiling_price", "positive_amount"),
            ({"ceiling_price": "0"}, "sections.1.ceiling_price", "positive_amount"),
            ({"estimated_price": "0"}, "sections.1.estimated_price", "positive_amount"),
            ({"estimated_price": "-5"}, "sections.1.estimated_price", "positive_amount"),
            ({"deposit": "-0.01"}, "sections.1.deposit", "positive_amount"),
            ({"deposit": "1.001"}, "sections.1.deposit", "money_places"),
            ({"deposit": 100.0}, "sections.1.deposit", "money_format"),
            ({"name": ""}, "sections.1.name", "required"),
            ({"deposit": None}, "sections.1.deposit", "required"),
            ({"lot": "x"}, "sections.1.lot", "schema"),
        ],
    )
    def test_bad_sections(self, w, section, field, rule):
        project = make_project(w)
        first = {"name": "一标段", "estimated_price": "1000000", "deposit": "20000", **section}
        error = refused(InvalidInput, make_tender, w, project, sections=[first])
        assert (error.field, error.rule) == (field, rule)

    def test_needs_a_section(self, w):
        error = refused(InvalidInput, make_tender, w, make_project(w), sections=[])
        assert (error.field, error.rule) == ("sections", "section_required")

    def test_deposit_over_two_percent(self, w):
        project = make_project(w)
        second = {"name": "二标段", "estimated_price": "8000000", "deposit": "160000.01"}
        first = {"name": "一标段", "estimated_price": "1000000", "deposit": "20000"}
        error = refused(InvalidInput, make_tender, w, project, sections=[first, second])
        assert (error.field, error.rule, error.article) == (
            "sections.2.deposit",
            "bid_deposit_max_ratio",
            "Reg art. 26",
        )
        assert "160,000.00" in str(error)

    def test_waived_deposit_must_be_zero(self, w):
        project = make_project(w)
        error = refused(
            InvalidInput, make_tender, w, project, deposit_form=Tender.DepositForm.WAIVED
        )
        assert (error.field, error.rule) == ("sections.1.deposit", "deposit_waived")
        sections = [{"name": "一标段", "estimated_price": "1000000", "deposit": "0"}]
        make_tender(w, project, deposit_form=Tender.DepositForm.WAIVED, sections=sections)

    @pytest.mark.parametrize(
        ("change", "field", "rule"),
        [
            ({"method": "negotiated"}, "method", "choice"),
            ({"kind": "software"}, "kind", "choice"),
            ({"deposit_form": "cheque"}, "deposit_form", "choice"),
            ({"bid_deadline": "2026-03-27"}, "bid_deadline", "required"),
            ({"title": ""}, "title", "required"),
            ({"evaluation_weights": {"价格": "sixty"}}, "evaluation_weights", "weights_total"),
            ({"evaluation_weights": {"价格": 60.0}}, "evaluation_weights", "weights_total"),
            ({"evaluation_weights": {"价格": "120"}}, "evaluation_weights", "weights_total"),
            ({"evaluation_weights": ["价格"]}, "evaluation_weights", "weights_total"),
            ({"colour": "red"}, "colour", "schema"),
        ],
    )
    def test_bad_fields(self, w, change, field, rule):
        project = make_project(w)
        error = refused(InvalidInput, make_tender, w, project, **change)
        assert (error.field, error.rule) == (field, rule)

    def test_plan_of_another_project(self, w):
        other = make_project(w)
        plan = services.publish_plan(
            w.a_user,
            other,
            title="计划",
            expected_notice_date=dt.date(2026, 3, 20),
            estimated_amount="1",
        )
        error = refused(InvalidInput, make_tender, w, make_project(w), plan=plan)
        assert (error.field, error.rule) == ("plan", "same_project")

    def test_unknown_invitee_writes_nothing(self, w):
        project = make_project(w)
        error = refused(
            NotFound,
            make_tender,
            w,
            project,
            method=Tender.Method.INVITED,
            invited=[w.bidders[0].credit_code, "91330100MA0000000X"],
        )
        assert (error.field, error.rule) == ("invited", "registered_organisation")
        error = refused(
            InvalidInput,
            make_tender,
            w,
            project,
            method=Tender.Method.INVITED,
            invited=[w.agency.credit_code],
        )
        assert (error.field, error.rule) == ("invited", "organisation_type")

    @pytest.mark.parametrize("who", ["ot_user", "oa_user", "c_user", "r_user"])
    def test_wrong_organisation(self, w, who):
        project = make_project(w)
        error = refused(
            NotAllowed,
            services.create_tender,
            getattr(w, who),
            project,
            **tender_fields(**schedule(start=w.clock.now())),
        )
        assert error.rule == "tender_manager"

    def test_bidder_cannot_create(self, w):
        project = make_project(w)
        error = refused(
            NotAllowed,
            services.create_tender,
            w.b_users[0],
            project,
            **tender_fields(**schedule(start=w.clock.now())),
        )
        assert error.rule == "tender_manager"

    def test_the_tenderer_may_create_too(self, w):
        project = make_project(w)
        tender = services.create_tender(
            w.t_user, project, **tender_fields(**schedule(start=w.clock.now()))
        )
        assert last("tendering.tender.created").actor_org == w.tenderer
        assert tender.created_by == w.t_user


class TestUpdateTender:
    def test_draft_fields_and_sections(self, w):
        tender = make_tender(w)
        services.update_tender(
            w.a_user,
            tender,
            title="示范道路改造工程施工招标（调整）",
            sections=[{"name": "全部工程", "estimated_price": "30000000", "deposit": "600000"}],
        )
        tender.refresh_from_db()
        assert tender.title == "示范道路改造工程施工招标（调整）"
        assert list(tender.sections.values_list("name", "deposit")) == [
            ("全部工程", Decimal("600000.00"))
        ]
        assert last("tendering.tender.updated").payload == {
            "fields": ["title"],
            "sections": 1,
            "invited_changed": False,
        }
        in_ledger()

    def test_bad_update_writes_nothing(self, w):
        tender = make_tender(w)
        error = refused(
            InvalidInput,
            services.update_tender,
            w.a_user,
            tender,
            title="新标题",
            sections=[{"name": "全部", "estimated_price": "1000000", "deposit": "20000.01"}],
        )
        assert error.rule == "bid_deposit_max_ratio"
        tender.refresh_from_db()
        assert tender.title == "示范道路改造工程施工招标"
        assert tender.sections.count() == 2

    def test_published_tender_changes_only_by_clarification(self, w):
        tender = published(w)
        error = refused(Conflict, services.update_tender, w.a_user, tender, title="新标题")
        assert (error.field, error.rule) == ("status", "tender_lifecycle")

    def test_wrong_organisation(self, w):
        tender = make_tender(w)
        error = refused(NotAllowed, services.update_tender, w.oa_user, tender, title="新标题")
        assert error.rule == "tender_manager"


class TestPublishTender:
    def test_notice_public_at_once_and_immutable_record(self, w):
        tender = make_tender(w)
        services.upload_document(w.a_user, tender, pdf())
        notice = services.publish_tender(w.a_user, tender)
        tender.refresh_from_db()
        assert tender.status == State.PUBLISHED
        assert tender.published_at == w.clock.now()
        assert tender.rules_date == dt.date(2026, 3, 2)
        assert notice.kind == Notice.Kind.TENDER
        assert notice.published_at == w.clock.now()
        assert notice.sha256 == hashlib.sha256(notice.body.encode()).hexdigest()
        assert w.tenderer.credit_code in notice.body
        assert "2026年03月27日 09:30" in notice.body
        assert "无需报名" in notice.body
        event = last("tendering.tender.published")
        assert event.payload["notice_sha256"] == notice.sha256
        assert event.payload["exemptions"] == []
        assert [s["deposit"] for s in event.payload["sections"]] == ["400000.00", "160000.00"]
        assert leaf(event)["payload"]["notice_sha256"] == notice.sha256
        in_ledger()

    def test_twice_is_refused(self, w):
        tender = published(w)
        error = refused(Conflict, services.publish_tender, w.a_user, tender)
        assert (error.field, error.rule) == ("status", "tender_lifecycle")

    @pytest.mark.parametrize("who", ["ot_user", "oa_user", "c_user", "r_user"])
    def test_wrong_organisation(self, w, who):
        tender = make_tender(w)
        services.upload_document(w.a_user, tender, pdf())
        error = refused(NotAllowed, services.publish_tender, getattr(w, who), tender)
        assert error.rule == "tender_manager"
        error = refused(NotAllowed, services.publish_tender, w.b_users[0], tender)
        assert error.rule == "tender_manager"

    def test_needs_documents(self, w):
        tender = make_tender(w)
        error = refused(InvalidInput, services.publish_tender, w.a_user, tender)
        assert (error.field, error.rule) == ("documents", "documents_required")

    def test_issue_start_passed_while_in_draft(self, w):
        tender = make_tender(w)
        services.upload_document(w.a_user, tender, pdf())
        w.clock.advance(hours=1)
        error = refused(InvalidInput, services.publish_tender, w.a_user, tender)
        assert (error.field, error.rule, error.at) == (
            "doc_issue_start",
            "schedule_order",
            w.clock.now(),
        )

    def test_cancelled_draft_cannot_be_published(self, w):
        tender = make_tender(w)
        services.upload_document(w.a_user, tender, pdf())
        services.cancel_tender(w.a_user, tender, reason="项目调整")
        error = refused(Conflict, services.publish_tender, w.a_user, tender)
        assert error.rule == "tender_lifecycle"


# --- documents -----------------------------------------------------------------------------------


class TestDocuments:
    def test_versions_with_sha256_in_the_ledger(self, w, media_dir):
        tender = make_tender(w)
        first = services.upload_document(w.a_user, tender, pdf())
        second_content = b"%PDF-1.7\n% version 2\n" + b"1" * 2048
        second = services.upload_document(
            w.t_user, tender, pdf("ignored.pdf", second_content), filename="招标文件（修订）.pdf"
        )
        assert (first.version, second.version) == (1, 2)
        assert first.sha256 == hashlib.sha256(PDF).hexdigest()
        assert second.sha256 == hashlib.sha256(second_content).hexdigest()
        assert (first.size, second.size) == (len(PDF), len(second_content))
        assert second.filename == "招标文件（修订）.pdf"
        assert first.content_type == "application/pdf"
        with second.file.open("rb") as f:
            assert f.read() == second_content
        assert str(media_dir) in second.file.path
        events = DomainEvent.objects.filter(type="tendering.document.uploaded").order_by("id")
        assert [e.payload["sha256"] for e in events] == [first.sha256, second.sha256]
        assert [leaf(e)["payload"]["version"] for e in events] == [1, 2]
        assert events[1].actor_org == w.tenderer
        in_ledger()

    @pytest.mark.parametrize(
        ("name", "content", "content_type"),
        [
            ("招标文件.zip", b"PK\x03\x04rest-of-a-zip", "application/zip"),
            (
                "清单.xlsx",
                b"PK\x03\x04rest",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            ("C:\\fakepath\\文件.OFD", b"PK\x03\x04rest", "application/ofd"),
        ],
    )
    def test_other_allowed_types(self, w, name, content, content_type):
        tender = make_tender(w)
        document = services.upload_document(
            w.a_user, tender, SimpleUploadedFile("x", content), filename=name
        )
        assert document.content_type == content_type
        assert "\\" not in document.filename and "/" not in document.filename

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("招标文件.exe", b"MZ\x90\x00"),
            ("招标文件", PDF),
            ("招标文件.pdf.js", PDF),
            ("招标文件.pdf", b"PK\x03\x04 a zip named pdf"),
            ("招标文件.docx", PDF),
            ("招标文件.pdf", b"<html>%PDF-</html>"),
        ],
    )
    def test_wrong_type(self, w, name, content, media_dir):
        tender = make_tender(w)
        error = refused(
            InvalidInput,
            services.upload_document,
            w.a_user,
            tender,
            SimpleUploadedFile(name, content),
        )
        assert (error.field, error.rule) == ("file", "document_type")
        assert not any(p.is_file() for p in media_dir.rglob("*"))

    def test_over_the_size_limit(self, w, settings, media_dir):
        settings.OPENBID_MAX_DOCUMENT_BYTES = 1000
        tender = make_tender(w)
        error = refused(InvalidInput, services.upload_document, w.a_user, tender, pdf())
        assert (error.field, error.rule) == ("file", "document_size")
        assert "1000" in str(error)
        # a stream whose declared size is unknown is measured as it is read
        stream = pdf()
        stream.size = None
        error = refused(InvalidInput, services.upload_document, w.a_user, tender, stream)
        assert (error.field, error.rule) == ("file", "document_size")
        assert not any(p.is_file() for p in media_dir.rglob("*"))
        # exactly at the limit is accepted
        services.upload_document(w.a_user, tender, pdf(content=PDF[:1000]))

    def test_empty_file(self, w):
        tender = make_tender(w)
        error = refused(InvalidInput, services.upload_document, w.a_user, tender, pdf(content=b""))
        assert (error.field, error.rule) == ("file", "document_size")

    @pytest.mark.parametrize("who", ["ot_user", "oa_user", "c_user"])
    def test_wrong_organisation(self, w, who):
        tender = make_tender(w)
        error = refused(NotAllowed, services.upload_document, getattr(w, who), tender, pdf())
        assert error.rule == "tender_manager"
        error = refused(NotAllowed, services.upload_document, w.b_users[0], tender, pdf())
        assert error.rule == "tender_manager"

    def test_amended_documents_need_the_clarification_lead(self, w):
        tender = published(w)  # deadline 2026-03-27 09:30
        w.clock.set("2026-03-10T09:00:00")  # 17 days before: a new version may be issued
        assert services.upload_document(w.a_user, tender, pdf()).version == 2
        w.clock.set("2026-03-17T09:00:00")  # 10 days before: first move the deadline
        error = refused(InvalidInput, services.upload_document, w.a_user, tender, pdf())
        assert (error.field, error.rule, error.article, error.at) == (
            "file",
            "clarification_lead_bid",
            "Law art. 23; Reg art. 21",
            at("2026-04-01 09:30"),
        )
        services.issue_clarification(
            w.a_user,
            tender,
            text="招标文件第三章修改，详见新版招标文件。",
            affects_preparation=True,
            new_bid_deadline=error.at,
        )
        assert services.upload_document(w.a_user, tender, pdf()).version == 3

    def test_not_after_the_deadline(self, w):
        tender = published(w)
        w.clock.set("2026-03-27T09:30:00")  # the deadline; bidding not yet marked closed
        error = refused(Conflict, services.upload_document, w.a_user, tender, pdf())
        assert (error.field, error.rule, error.at) == (
            "status",
            "tender_lifecycle",
            tender.bid_deadline,
        )

    def test_not_on_a_cancelled_tender(self, w):
        tender = make_tender(w)
        services.cancel_tender(w.a_user, tender, reason="项目取消")
        error = refused(Conflict, services.upload_document, w.a_user, tender, pdf())
        assert error.rule == "tender_lifecycle"


# --- obtaining documents and their secrecy -------------------------------------------------------


class TestObtainDocuments:
    def test_free_and_recorded_without_revealing_the_bidder(self, w):
        tender = published(w)
        bidder, user = w.bidders[0], w.b_users[0]
        obtained = services.obtain_documents(user, tender)
        assert (obtained.organisation, obtained.obtained_by) == (bidder, user)
        assert obtained.obtained_at == w.clock.now()
        event = last("tendering.documents.obtained")
        assert event.payload == {}
        assert event.actor_org is None
        assert len(event.private_digest) == 64
        in_ledger()
        raw = bytes(Entry.objects.get(event=event).leaf).decode()
        document = json.loads(raw)
        assert bidder.credit_code not in raw
        assert bidder.name not in raw
        assert user.username not in raw
        assert document["actor_org"] is None
        assert document["subjects"] == []  # not even the tender: the number stays secret
        values = [v for k, v in document.items() if k not in ("seq", "event", "time")]
        assert bidder.pk not in values and str(bidder.pk) not in values
        assert not any(str(bidder.pk) in s or bidder.credit_code in s for s in document["subjects"])

    def test_tender_timeline_does_not_count_obtainers(self, w):
        tender = published(w)
        for user in w.b_users[:3]:
            services.obtain_documents(user, tender)
        about_tender = Entry.objects.filter(
            event__subjects__kind="tender", event__subjects__ref=str(tender.pk)
        )
        assert not about_tender.filter(event__type="tendering.documents.obtained").exists()
        assert DomainEvent.objects.filter(type="tendering.documents.obtained").count() == 3

    def test_twice_is_once(self, w):
        tender = published(w)
        first = services.obtain_documents(w.b_users[0], tender)
        before = counts()
        assert services.obtain_documents(w.b_users[0], tender) == first
        assert counts() == before

    def test_only_during_the_issue_period(self, w):
        tender = published(w, **schedule(start=w.clock.now() + dt.timedelta(hours=2), days=25))
        error = refused(Conflict, services.obtain_documents, w.b_users[0], tender)
        assert (error.field, error.rule, error.at) == (
            "tender",
            "doc_issue_period",
            tender.doc_issue_start,
        )
        w.clock.set(tender.doc_issue_end + dt.timedelta(seconds=1))
        error = refused(Conflict, services.obtain_documents, w.b_users[0], tender)
        assert error.at == tender.doc_issue_end

    def test_not_from_a_draft(self, w):
        tender = make_tender(w)
        error = refused(Conflict, services.obtain_documents, w.b_users[0], tender)
        assert (error.field, error.rule) == ("status", "tender_lifecycle")

    def test_only_bidders(self, w):
        tender = published(w)
        for user in (w.t_user, w.a_user, w.c_user):
            error = refused(NotAllowed, services.obtain_documents, user, tender)
            assert error.rule == "role_required"

    def test_invitation_tender_only_for_invitees(self, w):
        invited = [b.credit_code for b in w.bidders[:3]]
        tender = published(w, method=Tender.Method.INVITED, invited=invited)
        assert tender.notices.get().kind == Notice.Kind.INVITATION
        services.obtain_documents(w.b_users[0], tender)
        error = refused(NotAllowed, services.obtain_documents, w.b_users[3], tender)
        assert (error.field, error.rule) == ("tender", "invited_only")

    def test_suspended_bidder_cannot_obtain(self, w):
        tender = published(w)
        accounts.suspend_organisation(w.c_user, w.bidders[0], reason="失信被执行人")
        error = refused(NotAllowed, services.obtain_documents, w.b_users[0], tender)
        assert error.rule == "role_required"


class TestObtainerSecrecy:
    def _obtained(self, w):
        tender = published(w)
        services.obtain_documents(w.b_users[0], tender)
        services.obtain_documents(w.b_users[1], tender)
        return tender

    def _secret_for_everyone(self, w, tender):
        for user in (w.t_user, w.a_user, w.c_user, w.r_user, w.b_users[0], None):
            error = refused(NotAllowed, services.obtainers, user, tender)
            assert (error.rule, error.article, error.at) == (
                "obtainers_secret",
                "Law art. 22",
                tender.bid_deadline,
            )

    def test_secret_while_bidding(self, w):
        self._secret_for_everyone(w, self._obtained(w))

    def test_secret_when_bidding_closed(self, w):
        tender = self._obtained(w)
        w.clock.set(tender.bid_deadline)
        assert services.close_bidding_due() == 1
        self._secret_for_everyone(w, tender)

    def test_secret_when_terminated_or_failed_before_opening(self, w):
        tender = self._obtained(w)
        services.cancel_tender(w.a_user, tender, reason="项目取消")
        self._secret_for_everyone(w, tender)
        other = self._obtained(w)
        w.clock.set(other.bid_deadline)
        services.close_bidding_due()
        services.fail_tender(w.c_user, other, reason="投标人少于3个，不予开标")
        self._secret_for_everyone(w, other)

    def test_visible_after_opening_to_those_in_charge(self, w):
        tender = self._obtained(w)
        w.clock.set(tender.bid_deadline)
        services.close_bidding_due()
        # There is no opening service yet: the tender is put in the "opened" state directly, the
        # one transition ("open", bidding_closed -> opened) the lifecycle allows from here.
        from openbid.tendering import lifecycle

        assert lifecycle.check("open", State.BIDDING_CLOSED).target == State.OPENED
        Tender.objects.filter(pk=tender.pk).update(status=State.OPENED)
        for user in (w.t_user, w.a_user, w.c_user, w.r_user):
            listed = services.obtainers(user, tender)  # the caller's object is stale on purpose
            assert [o.organisation for o in listed] == w.bidders[:2]
        for user in (w.b_users[0], w.ot_user, w.oa_user):
            error = refused(NotAllowed, services.obtainers, user, tender)
            assert error.rule == "tender_manager"


# --- questions and clarifications ----------------------------------------------------------------


class TestQuestions:
    def test_asked_anonymously(self, w):
        tender = published(w)
        services.obtain_documents(w.b_users[0], tender)
        question = services.ask_question(w.b_users[0], tender, text="第二标段的工期是否可以调整？")
        assert question.asked_by == w.bidders[0]
        event = last("tendering.question.asked")
        assert event.actor_org is None
        raw = bytes(Entry.objects.get(event=event).leaf).decode()
        assert w.bidders[0].credit_code not in raw and w.bidders[0].name not in raw
        assert json.loads(raw)["payload"] == {"text": "第二标段的工期是否可以调整？"}
        in_ledger()

    def test_only_after_obtaining(self, w):
        tender = published(w)
        error = refused(NotAllowed, services.ask_question, w.b_users[0], tender, text="问题")
        assert (error.field, error.rule) == ("tender", "obtained_documents")

    def test_only_bidders(self, w):
        tender = published(w)
        error = refused(NotAllowed, services.ask_question, w.a_user, tender, text="问题")
        assert error.rule == "role_required"

    def test_until_the_question_deadline(self, w):
        tender = published(w)
        services.obtain_documents(w.b_users[0], tender)
        w.clock.set(tender.question_deadline)
        services.ask_question(w.b_users[0], tender, text="最后一刻的问题")
        w.clock.advance(seconds=1)
        error = refused(Conflict, services.ask_question, w.b_users[0], tender, text="问题")
        assert (error.field, error.rule, error.at) == (
            "tender",
            "question_deadline",
            tender.question_deadline,
        )

    def test_empty_question(self, w):
        tender = published(w)
        services.obtain_documents(w.b_users[0], tender)
        error = refused(InvalidInput, services.ask_question, w.b_users[0], tender, text="  ")
        assert (error.field, error.rule) == ("text", "required")


class TestClarifications:
    def test_answer_without_moving_the_deadline(self, w):
        tender = published(w)
        services.obtain_documents(w.b_users[0], tender)
        question = services.ask_question(w.b_users[0], tender, text="工期可否调整？")
        w.clock.set("2026-03-20T09:00:00")  # 7 days before the deadline
        clarification = services.issue_clarification(
            w.a_user,
            tender,
            text="工期按招标文件执行，不作调整。",
            affects_preparation=False,
            answers=[question.pk],
        )
        tender.refresh_from_db()
        assert tender.bid_deadline == at("2026-03-27 09:30")  # never forced to move
        assert clarification.number == 1
        assert clarification.previous_deadline == clarification.bid_deadline
        question.refresh_from_db()
        assert question.answered_by == clarification
        notice = tender.notices.get(kind=Notice.Kind.CLARIFICATION)
        assert notice.body.startswith("第1号澄清/修改：")
        assert "调整为" not in notice.body
        event = last("tendering.clarification.issued")
        assert event.payload["answers"] == [question.pk]
        assert event.payload["notice_sha256"] == notice.sha256
        assert event.actor_org == w.agency
        in_ledger()
        second = services.issue_clarification(
            w.t_user, tender, text="补充说明。", affects_preparation=False
        )
        assert second.number == 2

    def test_affecting_twenty_days_before_is_fine(self, w):
        tender = published(w)
        w.clock.set("2026-03-07T09:30:00")  # 20 days before 2026-03-27 09:30
        clarification = services.issue_clarification(
            w.a_user, tender, text="工程量清单第5项修改。", affects_preparation=True
        )
        assert clarification.bid_deadline == clarification.previous_deadline
        w.clock.set("2026-03-12T09:30:00")  # exactly 15 days before
        services.issue_clarification(
            w.a_user, tender, text="工程量清单第6项修改。", affects_preparation=True
        )
        tender.refresh_from_db()
        assert tender.bid_deadline == at("2026-03-27 09:30")

    def test_affecting_ten_days_before_moves_the_deadline(self, w):
        tender = published(w)
        w.clock.set("2026-03-17T09:00:00")  # 10 days before 2026-03-27 09:30
        error = refused(
            InvalidInput,
            services.issue_clarification,
            w.a_user,
            tender,
            text="技术标准修改。",
            affects_preparation=True,
        )
        # 15 days later is 2026-04-01 09:00; at the deadline's time of day: 09:30, a Wednesday
        assert (error.field, error.rule, error.article, error.at) == (
            "new_bid_deadline",
            "clarification_lead_bid",
            "Law art. 23; Reg art. 21",
            at("2026-04-01 09:30"),
        )
        assert "2026-04-01 09:30" in str(error)
        tender.refresh_from_db()
        assert tender.bid_deadline == at("2026-03-27 09:30")
        # a later deadline that is still too early is refused the same way
        error = refused(
            InvalidInput,
            services.issue_clarification,
            w.a_user,
            tender,
            text="技术标准修改。",
            affects_preparation=True,
            new_bid_deadline=at("2026-03-31 09:30"),
        )
        assert error.at == at("2026-04-01 09:30")
        # the proposed deadline is accepted, and the notice says the deadline moved
        clarification = services.issue_clarification(
            w.a_user,
            tender,
            text="技术标准修改。",
            affects_preparation=True,
            new_bid_deadline=error.at,
        )
        tender.refresh_from_db()
        assert tender.bid_deadline == at("2026-04-01 09:30")
        assert (clarification.previous_deadline, clarification.bid_deadline) == (
            at("2026-03-27 09:30"),
            at("2026-04-01 09:30"),
        )
        body = tender.notices.get(kind=Notice.Kind.CLARIFICATION).body
        assert "由 2026年03月27日 09:30 调整为 2026年04月01日 09:30" in body
        payload = last("tendering.clarification.issued").payload
        assert dt.datetime.fromisoformat(payload["bid_deadline"]) == at("2026-04-01 09:30")
        assert dt.datetime.fromisoformat(payload["previous_deadline"]) == at("2026-03-27 09:30")

    def test_earliest_deadline_skips_a_holiday(self, w):
        w.clock.set("2026-04-01T09:00:00")
        tender = published(w, **schedule(start=w.clock.now(), days=29))
        assert tender.bid_deadline == at("2026-04-30 09:30")
        w.clock.set("2026-04-20T09:00:00")
        error = refused(
            InvalidInput,
            services.issue_clarification,
            w.a_user,
            tender,
            text="修改。",
            affects_preparation=True,
        )
        # 15 days later is 5 May, inside the Labour Day holiday (1-5 May): 6 May
        assert error.at == at("2026-05-06 09:30")

    def test_non_affecting_never_forces_a_move(self, w):
        tender = published(w)
        w.clock.set("2026-03-26T09:00:00")  # one day before
        services.issue_clarification(
            w.a_user, tender, text="答疑：开标地点为线上。", affects_preparation=False
        )
        tender.refresh_from_db()
        assert tender.bid_deadline == at("2026-03-27 09:30")

    def test_the_deadline_never_moves_earlier(self, w):
        tender = published(w)
        error = refused(
            InvalidInput,
            services.issue_clarification,
            w.a_user,
            tender,
            text="提前截止。",
            affects_preparation=False,
            new_bid_deadline=at("2026-03-26 09:30"),
        )
        assert (error.field, error.rule) == ("new_bid_deadline", "schedule_order")

    def test_new_deadline_on_a_holiday(self, w):
        tender = published(w)
        error = refused(
            InvalidInput,
            services.issue_clarification,
            w.a_user,
            tender,
            text="延期。",
            affects_preparation=False,
            new_bid_deadline=at("2026-04-05 09:30"),  # Qingming holiday, 4-6 April
        )
        assert (error.field, error.rule, error.at) == (
            "new_bid_deadline",
            "deadline_on_working_day",
            at("2026-04-07 09:30"),
        )
        services.issue_clarification(
            w.a_user, tender, text="延期。", affects_preparation=False, new_bid_deadline=error.at
        )
        tender.refresh_from_db()
        assert tender.bid_deadline == at("2026-04-07 09:30")

    def test_green_channel_exempt_from_the_lead(self, w):
        project = make_project(
            w,
            green_channel=True,
            green_reason="抢险救灾",
            green_exemptions=["clarification_lead_bid"],
        )
        tender = published(w, project)
        w.clock.set("2026-03-20T09:00:00")
        clarification = services.issue_clarification(
            w.a_user, tender, text="修改。", affects_preparation=True
        )
        assert clarification.bid_deadline == at("2026-03-27 09:30")

    def test_not_after_the_deadline(self, w):
        tender = published(w)
        w.clock.set("2026-03-27T09:30:00")  # the deadline, before the close-bidding job ran
        error = refused(
            Conflict,
            services.issue_clarification,
            w.a_user,
            tender,
            text="延期。",
            affects_preparation=False,
            new_bid_deadline=at("2026-04-10 09:30"),
        )
        assert (error.rule, error.at) == ("tender_lifecycle", tender.bid_deadline)

    def test_not_on_a_draft(self, w):
        tender = make_tender(w)
        error = refused(
            Conflict,
            services.issue_clarification,
            w.a_user,
            tender,
            text="说明。",
            affects_preparation=False,
        )
        assert (error.field, error.rule) == ("status", "tender_lifecycle")

    def test_answers_only_this_tenders_questions(self, w):
        tender = published(w)
        other = published(w)
        services.obtain_documents(w.b_users[0], other)
        foreign = services.ask_question(w.b_users[0], other, text="另一项目的问题")
        error = refused(
            InvalidInput,
            services.issue_clarification,
            w.a_user,
            tender,
            text="答复。",
            affects_preparation=False,
            answers=[foreign.pk],
        )
        assert (error.field, error.rule) == ("answers", "same_tender")

    @pytest.mark.parametrize("who", ["ot_user", "oa_user", "c_user", "r_user"])
    def test_wrong_organisation(self, w, who):
        tender = published(w)
        error = refused(
            NotAllowed,
            services.issue_clarification,
            getattr(w, who),
            tender,
            text="说明。",
            affects_preparation=False,
        )
        assert error.rule == "tender_manager"

    def test_bidder_cannot_clarify(self, w):
        tender = published(w)
        error = refused(
            NotAllowed,
            services.issue_clarification,
            w.b_users[0],
            tender,
            text="说明。",
            affects_preparation=False,
        )
        assert error.rule == "tender_manager"


# --- the rest of the lifecycle -------------------------------------------------------------------


class TestCloseBidding:
    def test_after_the_deadline_once(self, w):
        tender = published(w)
        assert services.close_bidding_due() == 0
        w.clock.set(tender.bid_deadline - dt.timedelta(seconds=1))
        assert services.close_bidding_due() == 0
        w.clock.set(tender.bid_deadline)
        assert services.close_bidding_due() == 1
        tender.refresh_from_db()
        assert tender.status == State.BIDDING_CLOSED
        event = last("tendering.tender.bidding_closed")
        assert event.actor_user is None
        before = counts()
        assert services.close_bidding_due() == 0  # idempotent
        assert tasks.close_bidding() == 0  # the clock-loop handler
        assert counts() == before
        in_ledger()

    def test_handler_closes_only_what_is_due(self, w):
        early = published(w)
        late = published(w, **schedule(start=w.clock.now(), days=40))
        draft = make_tender(w)
        w.clock.set(early.bid_deadline + dt.timedelta(hours=1))
        assert tasks.close_bidding() == 1
        statuses = dict(Tender.objects.values_list("pk", "status"))
        assert statuses[early.pk] == State.BIDDING_CLOSED
        assert statuses[late.pk] == State.PUBLISHED
        assert statuses[draft.pk] == State.DRAFT


class TestCancel:
    def test_draft_without_a_notice(self, w):
        tender = make_tender(w)
        services.cancel_tender(w.a_user, tender, reason="项目调整")
        tender.refresh_from_db()
        assert (tender.status, tender.status_reason) == (State.CANCELLED, "项目调整")
        assert not tender.notices.exists()
        assert last("tendering.tender.cancelled").payload == {"reason": "项目调整", "notice": None}
        in_ledger()

    def test_published_with_a_termination_notice(self, w):
        tender = published(w)
        services.cancel_tender(w.t_user, tender, reason="上级批复调整，终止招标")
        notice = tender.notices.get(kind=Notice.Kind.CANCELLATION)
        assert "终止原因：上级批复调整，终止招标" in notice.body
        assert last("tendering.tender.cancelled").payload["notice"] == notice.pk

    def test_refusals(self, w):
        tender = published(w)
        error = refused(InvalidInput, services.cancel_tender, w.a_user, tender, reason=" ")
        assert (error.field, error.rule) == ("reason", "required")
        for user in (w.oa_user, w.ot_user, w.b_users[0], w.c_user):
            error = refused(NotAllowed, services.cancel_tender, user, tender, reason="x")
            assert error.rule == "tender_manager"
        services.cancel_tender(w.a_user, tender, reason="终止")
        error = refused(Conflict, services.cancel_tender, w.a_user, tender, reason="再次终止")
        assert (error.field, error.rule) == ("status", "tender_lifecycle")


class TestFailAndRetender:
    def _closed(self, w, **overrides):
        tender = published(w, **overrides)
        w.clock.set(tender.bid_deadline)
        services.close_bidding_due()
        tender.refresh_from_db()
        return tender

    def test_fail_only_after_bidding_closed(self, w):
        tender = published(w)
        error = refused(Conflict, services.fail_tender, w.c_user, tender, reason="投标人不足3家")
        assert (error.field, error.rule) == ("status", "tender_lifecycle")
        draft = make_tender(w)
        refused(Conflict, services.fail_tender, w.a_user, draft, reason="投标人不足3家")

    def test_fail_by_centre_or_manager(self, w):
        tender = self._closed(w)
        for user in (w.b_users[0], w.oa_user, w.r_user):
            error = refused(NotAllowed, services.fail_tender, user, tender, reason="流标")
            assert error.rule == "tender_manager"
        services.fail_tender(w.c_user, tender, reason="投标人不足3家，不予开标")
        tender.refresh_from_db()
        assert (tender.status, tender.status_reason) == (State.FAILED, "投标人不足3家，不予开标")
        assert last("tendering.tender.failed").payload == {"reason": "投标人不足3家，不予开标"}
        in_ledger()
        error = refused(Conflict, services.fail_tender, w.a_user, tender, reason="流标")
        assert error.rule == "tender_lifecycle"

    def test_retender_is_a_linked_draft(self, w):
        invited = [b.credit_code for b in w.bidders[:3]]
        tender = self._closed(w, method=Tender.Method.INVITED, invited=invited)
        services.fail_tender(w.a_user, tender, reason="投标人不足3家")
        retender = services.create_retender(w.a_user, tender)
        assert retender.retender_of == tender
        assert retender.status == State.DRAFT
        assert retender.title == "示范道路改造工程施工招标（重新招标）"
        assert list(retender.sections.values_list("number", "name", "deposit")) == list(
            tender.sections.values_list("number", "name", "deposit")
        )
        assert set(retender.invited.all()) == set(w.bidders[:3])
        assert not retender.documents.exists()
        event = last("tendering.tender.retendered")
        assert event.payload == {"retender_of": tender.pk}
        assert {str(s) for s in event.subjects.all()} >= {
            f"tender:{retender.pk}",
            f"tender:{tender.pk}",
        }
        in_ledger()
        # once only
        error = refused(Conflict, services.create_retender, w.a_user, tender)
        assert (error.field, error.rule) == ("retender_of", "retender_once")
        # the re-tender gets a new schedule and is published like any tender
        services.update_tender(w.a_user, retender, **schedule(start=w.clock.now(), days=25))
        publish(w, retender)
        assert retender.status == State.PUBLISHED

    def test_retender_after_termination(self, w):
        tender = published(w)
        services.cancel_tender(w.a_user, tender, reason="招标文件存在重大错误，终止后重新招标")
        assert services.create_retender(w.t_user, tender).retender_of == tender

    def test_retender_refusals(self, w):
        tender = published(w)
        error = refused(Conflict, services.create_retender, w.a_user, tender)
        assert (error.field, error.rule) == ("status", "tender_lifecycle")
        closed = self._closed(w)
        services.fail_tender(w.c_user, closed, reason="流标")
        for user in (w.oa_user, w.ot_user, w.b_users[0], w.c_user):
            error = refused(NotAllowed, services.create_retender, user, closed)
            assert error.rule == "tender_manager"
