"""The tendering web pages: they render, call the services, show refusals on their fields, and
keep what the law keeps secret (who obtained the documents) out of every page."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from openbid.accounts.roles import OrgType
from openbid.core.models import DomainEvent
from openbid.tendering import lifecycle, services
from openbid.tendering.lifecycle import State, Transition
from openbid.tendering.models import (
    DocumentObtainer,
    Project,
    Question,
    Tender,
    TenderPlan,
)
from tests.factories import market_entity
from tests.tendering.factories import PDF, draft_tender, pdf, project, published_tender

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def tender_post(**overrides: Any) -> dict[str, Any]:
    from tests.tendering.factories import schedule

    when = schedule()
    data: dict[str, Any] = {
        "title": "示范道路改造工程施工招标",
        "kind": "works",
        "method": "open",
        "evaluation_method": "lowest_price",
        "deposit_form": "cash_or_guarantee",
        "qualification": "具备市政公用工程施工总承包二级及以上资质",
        "doc_issue_start": local(when["doc_issue_start"]),
        "doc_issue_end": local(when["doc_issue_end"]),
        "question_deadline": local(when["question_deadline"]),
        "bid_deadline": local(when["bid_deadline"]),
        "sections-TOTAL_FORMS": "3",
        "sections-INITIAL_FORMS": "0",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "50",
        "sections-0-name": "一标段 道路工程",
        "sections-0-estimated_price": "20000000",
        "sections-0-ceiling_price": "21000000",
        "sections-0-deposit": "400000",
        "sections-1-name": "二标段 排水工程",
        "sections-1-estimated_price": "8000000",
        "sections-1-deposit": "160000",
    }
    data.update(overrides)
    return data


def obtain(tender: Tender, clock: Any) -> tuple[Any, Any, Client]:
    """A bidder obtains the documents once their issue has begun."""
    if clock.now() < tender.doc_issue_start:
        clock.set(tender.doc_issue_start + dt.timedelta(minutes=1))
    org, user = market_entity(OrgType.BIDDER)
    c = client_for(user)
    response = c.post(reverse("tendering:obtain", args=[tender.pk]))
    assert response.status_code == 302
    return org, user, c


# --- public pages -----------------------------------------------------------------------------


def test_public_pages_render(clock, client):
    tender, _user = published_tender()
    draft, _ = draft_tender(title="尚未发布的草稿招标")
    response = client.get(reverse("tendering:tenders"))
    assert response.status_code == 200
    assert tender.title in response.content.decode()
    assert "尚未发布的草稿招标" not in response.content.decode()
    assert client.get(reverse("tendering:tender", args=[tender.pk])).status_code == 200
    assert client.get(reverse("tendering:tender", args=[draft.pk])).status_code == 404
    assert client.get(reverse("tendering:questions", args=[tender.pk])).status_code == 200
    assert client.get(reverse("tendering:plans")).status_code == 200
    assert client.get(reverse("tendering:flowchart")).status_code == 200


def test_tender_list_is_newest_first(clock, client):
    published_tender(title="第一个招标")
    clock.advance(minutes=10)
    published_tender(title="第二个招标")
    text = client.get(reverse("tendering:tenders")).content.decode()
    assert text.index("第二个招标") < text.index("第一个招标")


def test_notice_page_shows_the_immutable_text_hash_and_ledger_link(clock, client):
    tender, _user = published_tender()
    notice = tender.notices.get()
    text = client.get(reverse("tendering:notice", args=[notice.pk])).content.decode()
    assert notice.sha256 in text
    assert "一、项目名称" in text
    assert f"/ledger/?subject=tender%3A{tender.pk}" in text
    raw = client.get(reverse("tendering:notice_text", args=[notice.pk])).content
    assert hashlib.sha256(raw).hexdigest() == notice.sha256


def test_plans_page_lists_published_plans(clock, client):
    proj, user = project()
    services.publish_plan(
        user,
        proj,
        title="二期工程招标计划",
        expected_notice_date=dt.date(2026, 4, 1),
        estimated_amount="3000000",
    )
    text = client.get(reverse("tendering:plans")).content.decode()
    assert "二期工程招标计划" in text


# --- the flowchart ----------------------------------------------------------------------------


def test_flowchart_draws_every_state_and_transition(client):
    text = client.get(reverse("tendering:flowchart"), {"lang": "en"}).content.decode()
    svg = text[text.index("<svg") : text.index("</svg>")]
    with translation.override("en"):
        for state in (*lifecycle.MAIN_LINE, *lifecycle.SIDE_STATES):
            assert f'data-state="{state}"' in svg
            assert f">{State(state).label}</text>" in svg
        for t in lifecycle.TRANSITIONS:
            assert f'data-transition="{t.name}"' in svg
            assert f">{t.label}</text>" in svg
            assert f">{t.by}</text>" in svg
            assert f'<tr data-transition="{t.name}">' in text
    assert svg.count("<rect") == len(lifecycle.MAIN_LINE) + len(lifecycle.SIDE_STATES)


def test_flowchart_follows_the_lifecycle_definition(client, monkeypatch):
    extra = Transition(
        "suspend_for_complaint",
        "suspend for a complaint",
        frozenset({State.PUBLISHED}),
        State.CANCELLED,
        "regulator",
    )
    monkeypatch.setattr(lifecycle, "TRANSITIONS", (*lifecycle.TRANSITIONS, extra))
    text = client.get(reverse("tendering:flowchart"), {"lang": "en"}).content.decode()
    assert 'data-transition="suspend_for_complaint"' in text
    assert "suspend for a complaint" in text


def test_flowchart_is_translated(client):
    text = client.get(reverse("tendering:flowchart"), {"lang": "zh-hans"}).content.decode()
    with translation.override("zh-hans"):
        assert str(State.DRAFT.label) in text


# --- projects ---------------------------------------------------------------------------------


def project_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "code": "2026-330100-48-01-000777",
        "name": "滨江路改造工程",
        "region_code": "330100",
        "industry": "municipal",
        "funding_source": "budget",
        "state_funding_percent": "100",
        "estimated_investment": "50000000",
        "approval_ref": "杭发改审批〔2026〕77号",
    }
    data.update(overrides)
    return data


def test_tenderer_registers_a_project_through_the_service(clock):
    org, user = market_entity(OrgType.TENDERER)
    c = client_for(user)
    page = c.get(reverse("tendering:project_new"))
    assert page.status_code == 200
    assert 'name="tenderer"' not in page.content.decode()  # only agencies name the tenderer
    response = c.post(reverse("tendering:project_new"), project_post())
    proj = Project.objects.get(code="2026-330100-48-01-000777")
    assert response.status_code == 302
    assert response["Location"] == reverse("tendering:project", args=[proj.pk])
    assert proj.tenderer == org
    assert DomainEvent.objects.filter(type="tendering.project.registered").exists()
    listing = c.get(reverse("tendering:projects")).content.decode()
    assert "滨江路改造工程" in listing


def test_agency_registers_for_a_tenderer_named_by_credit_code(clock):
    tenderer, _ = market_entity(OrgType.TENDERER)
    agency, user = market_entity(OrgType.AGENCY)
    c = client_for(user)
    assert 'name="tenderer"' in c.get(reverse("tendering:project_new")).content.decode()
    response = c.post(reverse("tendering:project_new"), project_post(tenderer=tenderer.credit_code))
    assert response.status_code == 302
    proj = Project.objects.get()
    assert (proj.tenderer, proj.agency) == (tenderer, agency)


def test_agency_naming_an_unknown_tenderer_is_refused_on_that_field(clock):
    _agency, user = market_entity(OrgType.AGENCY)
    response = client_for(user).post(
        reverse("tendering:project_new"), project_post(tenderer="91330100MA0000000X")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["tenderer"]


def test_project_refusal_is_shown_on_its_field(clock):
    _org, user = market_entity(OrgType.TENDERER)
    response = client_for(user).post(
        reverse("tendering:project_new"), project_post(code="2026-33-bad")
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["code"]
    assert "YYYY-RRRRRR" in form.errors["code"][0]
    assert not Project.objects.exists()


def test_project_page_and_plan_form(clock):
    proj, user = project()
    c = client_for(user)
    assert c.get(reverse("tendering:project", args=[proj.pk])).status_code == 200
    url = reverse("tendering:plan_new", args=[proj.pk])
    bad = c.post(
        url, {"title": "计划", "expected_notice_date": "2026-01-01", "estimated_amount": "100"}
    )
    assert bad.status_code == 422
    assert bad.context["plan_form"].errors["expected_notice_date"]
    ok = c.post(
        url, {"title": "计划", "expected_notice_date": "2026-04-01", "estimated_amount": "100"}
    )
    assert ok.status_code == 302
    assert TenderPlan.objects.filter(project=proj, title="计划").exists()


# --- tenders: create, edit, checks, publish ----------------------------------------------------


def test_tender_form_proposes_a_lawful_schedule(clock):
    proj, user = project()
    response = client_for(user).get(reverse("tendering:tender_new", args=[proj.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    initial = {k: form.initial[k] for k in ("doc_issue_start", "bid_deadline")}
    assert initial["doc_issue_start"] > clock.now()
    assert response.context["formset"].total_form_count() >= 2
    html = response.content.decode()
    assert 'type="datetime-local"' in html
    assert 'value="2026-03-02T10:00"' in html  # the next full hour, Beijing time


def test_create_tender_with_two_sections(clock):
    proj, user = project()
    response = client_for(user).post(reverse("tendering:tender_new", args=[proj.pk]), tender_post())
    tender = Tender.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tendering:tender", args=[tender.pk])
    assert [s.name for s in tender.sections.all()] == ["一标段 道路工程", "二标段 排水工程"]
    # datetime-local inputs are Beijing time
    assert timezone.localtime(tender.doc_issue_start).hour == 10
    assert tender.doc_issue_start.utcoffset() is not None
    assert DomainEvent.objects.filter(type="tendering.tender.created").exists()


def test_tender_refusals_land_on_the_field_and_the_section_row(clock):
    proj, user = project()
    c = client_for(user)
    url = reverse("tendering:tender_new", args=[proj.pk])
    # The deposit of section 2 is over 2% of its estimated price (the service refuses).
    response = c.post(url, tender_post(**{"sections-1-deposit": "500000"}))
    assert response.status_code == 422
    rows = response.context["formset"].forms
    assert rows[1].errors["deposit"]
    assert "Reg art. 26" in rows[1].errors["deposit"][0]
    # Dates out of order: the service names doc_issue_end.
    post = tender_post()
    post["doc_issue_end"] = post["doc_issue_start"]
    response = c.post(url, post)
    assert response.status_code == 422
    assert response.context["form"].errors["doc_issue_end"]
    # A half-filled row is refused by the form before reaching the service.
    response = c.post(url, tender_post(**{"sections-2-name": "三标段"}))
    assert response.status_code == 422
    assert response.context["formset"].forms[2].errors["estimated_price"]
    assert not Tender.objects.exists()


def test_add_a_section_row(clock):
    proj, user = project()
    c = client_for(user)
    response = c.get(reverse("tendering:section_row"), {"sections-TOTAL_FORMS": "3"})
    html = response.content.decode()
    assert 'name="sections-3-name"' in html
    assert 'hx-swap-oob="true"' in html
    assert 'value="4"' in html
    # Without script the same button posts the form, which comes back with one more row.
    response = c.post(reverse("tendering:tender_new", args=[proj.pk]), tender_post(add_section="1"))
    assert response.status_code == 200
    assert response.context["formset"].total_form_count() == 4
    assert not Tender.objects.exists()


def test_edit_a_draft_tender(clock):
    tender, user = draft_tender()
    c = client_for(user)
    url = reverse("tendering:tender_edit", args=[tender.pk])
    page = c.get(url)
    assert page.status_code == 200
    assert "二标段 排水工程" in page.content.decode()
    post = tender_post(title="改名后的招标")
    post.update({"sections-TOTAL_FORMS": "3", "sections-INITIAL_FORMS": "2"})
    post["sections-1-name"] = "二标段 雨污水工程"
    response = c.post(url, post)
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.title == "改名后的招标"
    assert [s.name for s in tender.sections.all()] == ["一标段 道路工程", "二标段 雨污水工程"]


def test_a_published_tender_is_not_edited_but_clarified(clock):
    tender, user = published_tender()
    c = client_for(user)
    response = c.get(reverse("tendering:tender_edit", args=[tender.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("tendering:tender", args=[tender.pk])
    page = c.get(reverse("tendering:tender", args=[tender.pk])).content.decode()
    assert 'data-testid="edit-tender"' not in page
    assert reverse("tendering:clarify", args=[tender.pk]) in page


def test_manager_sees_every_problem_then_publishes(clock):
    tender, user = draft_tender()
    c = client_for(user)
    url = reverse("tendering:tender", args=[tender.pk])
    page = c.get(url)
    html = page.content.decode()
    problems = page.context["problems"]
    assert [p["rule"] for p in problems] == ["documents_required"]
    assert 'data-testid="publish"' not in html
    # A second problem: a deadline on a Saturday, with the earliest lawful date shown.
    services.update_tender(
        user,
        tender,
        bid_deadline=dt.datetime(2026, 3, 28, 9, 30, tzinfo=tender.bid_deadline.tzinfo),
    )
    page = c.get(url)
    rules = {p["rule"]: p for p in page.context["problems"]}
    assert set(rules) >= {"documents_required", "deadline_on_working_day"}
    assert rules["deadline_on_working_day"]["earliest"].startswith("2026-03-30")
    assert "民法典 art. 203" in page.content.decode()
    services.update_tender(
        user,
        tender,
        bid_deadline=dt.datetime(2026, 3, 30, 9, 30, tzinfo=tender.bid_deadline.tzinfo),
    )

    upload = c.post(reverse("tendering:upload", args=[tender.pk]), {"file": pdf()})
    assert upload.status_code == 302
    page = c.get(url)
    assert page.context["problems"] == []
    assert 'data-testid="publish"' in page.content.decode()
    response = c.post(reverse("tendering:publish", args=[tender.pk]))
    tender.refresh_from_db()
    assert tender.status == State.PUBLISHED
    notice = tender.notices.get()
    assert response["Location"] == reverse("tendering:notice", args=[notice.pk])


def test_upload_refusal_is_shown_on_the_file_field(clock):
    tender, user = draft_tender()
    response = client_for(user).post(
        reverse("tendering:upload", args=[tender.pk]),
        {"file": pdf("招标文件.pdf", b"not a pdf at all")},
    )
    assert response.status_code == 422
    assert response.context["upload_form"].errors["file"]
    assert not tender.documents.exists()


# --- permissions ------------------------------------------------------------------------------


def test_a_bidder_cannot_open_manager_pages_or_publish(clock):
    tender, _user = draft_tender()
    services.upload_document(_user, tender, pdf())
    _org, bidder = market_entity(OrgType.BIDDER)
    c = client_for(bidder)
    for name, args in (
        ("tendering:project", [tender.project_id]),
        ("tendering:tender_new", [tender.project_id]),
        ("tendering:tender_edit", [tender.pk]),
        ("tendering:clarify", [tender.pk]),
    ):
        assert c.get(reverse(name, args=args)).status_code == 403, name
    assert c.get(reverse("tendering:tender", args=[tender.pk])).status_code == 404  # a draft
    response = c.post(reverse("tendering:publish", args=[tender.pk]))
    assert response.status_code == 403
    assert c.post(reverse("tendering:cancel", args=[tender.pk]), {"reason": "x"}).status_code == 403
    assert c.post(reverse("tendering:upload", args=[tender.pk]), {"file": pdf()}).status_code == 403
    tender.refresh_from_db()
    assert tender.status == State.DRAFT
    assert tender.documents.count() == 1
    # A bidder cannot register projects either.
    assert c.get(reverse("tendering:project_new")).status_code == 403


def test_anonymous_people_are_sent_to_log_in(clock, client):
    tender, _user = published_tender()
    response = client.get(reverse("tendering:projects"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    doc = tender.documents.get()
    response = client.get(reverse("tendering:document", args=[tender.pk, doc.pk]))
    assert response.status_code == 302


# --- documents: obtaining, downloading, and the secret list of who did ------------------------


def test_bidder_obtains_documents_and_downloads_them(clock):
    tender, manager = published_tender()
    org, _user, c = obtain(tender, clock)
    assert DocumentObtainer.objects.filter(tender=tender, organisation=org).exists()
    page = c.get(reverse("tendering:tender", args=[tender.pk]))
    html = page.content.decode()
    assert 'data-testid="obtained"' in html
    doc = tender.documents.get()
    assert reverse("tendering:document", args=[tender.pk, doc.pk]) in html
    response = c.get(reverse("tendering:document", args=[tender.pk, doc.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    # The managers may download too.
    response = client_for(manager).get(reverse("tendering:document", args=[tender.pk, doc.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_download_is_refused_to_bidders_that_did_not_obtain(clock):
    tender, _manager = published_tender()
    _org, bidder = market_entity(OrgType.BIDDER)
    c = client_for(bidder)
    doc = tender.documents.get()
    page = c.get(reverse("tendering:tender", args=[tender.pk])).content.decode()
    assert reverse("tendering:document", args=[tender.pk, doc.pk]) not in page
    assert 'data-testid="obtain"' in page
    response = c.get(reverse("tendering:document", args=[tender.pk, doc.pk]))
    assert response.status_code == 403


def test_obtain_refusal_is_shown(clock):
    tender, _manager = published_tender()  # issue starts at 10:00, it is 09:00
    _org, bidder = market_entity(OrgType.BIDDER)
    c = client_for(bidder)
    c.cookies["openbid_language"] = "en"
    response = c.post(reverse("tendering:obtain", args=[tender.pk]), follow=True)
    assert "Documents are issued from 2026-03-02 10:00" in response.content.decode()
    assert not DocumentObtainer.objects.exists()


def test_nobody_sees_who_obtained_the_documents(clock):
    tender, manager = published_tender()
    org, _user, _c = obtain(tender, clock)
    other_org, _u2, _c2 = obtain(tender, clock)
    for viewer in (manager, None):
        c = client_for(viewer) if viewer else Client()
        response = c.get(reverse("tendering:tender", args=[tender.pk]))
        html = response.content.decode()
        for o in (org, other_org):
            assert o.name not in html
            assert o.credit_code not in html
        assert 'data-testid="obtained"' not in html
        assert response.context["obtained"] is None
        for key in set(response.context.keys()):
            assert not isinstance(response.context[key], DocumentObtainer), key
        for page_name in ("tendering:questions",):
            assert org.name not in c.get(reverse(page_name, args=[tender.pk])).content.decode()
    # The managers' project page does not tell either.
    html = client_for(manager).get(reverse("tendering:project", args=[tender.project_id]))
    assert org.name not in html.content.decode()


# --- questions and clarifications --------------------------------------------------------------


def test_questions_are_anonymous_and_answered_by_clarification(clock):
    tender, manager = published_tender()
    org, _user, bidder = obtain(tender, clock)
    response = bidder.post(
        reverse("tendering:questions", args=[tender.pk]), {"text": "第二标段是否允许联合体投标？"}
    )
    assert response.status_code == 302
    question = Question.objects.get()
    assert question.asked_by == org
    own = bidder.get(reverse("tendering:tender", args=[tender.pk]))
    assert own.context["own_questions"] == [question]

    m = client_for(manager)
    public = Client().get(reverse("tendering:questions", args=[tender.pk])).content.decode()
    assert "联合体" in public and org.name not in public
    page = m.get(reverse("tendering:tender", args=[tender.pk])).content.decode()
    assert "联合体" in page and org.name not in page
    assert f"?answer={question.pk}" in page

    clarify_url = reverse("tendering:clarify", args=[tender.pk])
    form_page = m.get(clarify_url, {"answer": question.pk})
    assert form_page.status_code == 200
    assert form_page.context["form"].initial["answers"] == [str(question.pk)]
    response = m.post(clarify_url, {"text": "允许联合体投标。", "answers": [str(question.pk)]})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answered_by is not None
    public = Client().get(reverse("tendering:questions", args=[tender.pk])).content.decode()
    assert "允许联合体投标。" in public


def test_a_bidder_that_did_not_obtain_cannot_ask(clock):
    tender, _manager = published_tender()
    _org, user = market_entity(OrgType.BIDDER)
    c = client_for(user)
    response = c.post(reverse("tendering:questions", args=[tender.pk]), {"text": "问题"})
    assert response.status_code == 403
    assert not Question.objects.exists()


def test_late_clarification_proposes_the_earliest_lawful_deadline(clock):
    tender, manager = published_tender()
    m = client_for(manager)
    clock.set(tender.bid_deadline - dt.timedelta(days=10))
    url = reverse("tendering:clarify", args=[tender.pk])
    page = m.get(url)
    earliest = services.earliest_deadline_after_clarification(tender, clock.now())
    assert page.context["earliest"] == {
        "when": timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M"),
        "days": 15,
        "article": "Law art. 23; Reg art. 21",
    }
    assert 'data-testid="earliest-deadline"' in page.content.decode()

    response = m.post(url, {"text": "第3.2条修改为……", "affects_preparation": "on"})
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["new_bid_deadline"]
    assert "Law art. 23" in form.errors["new_bid_deadline"][0]
    # The form now proposes the earliest lawful deadline; sending it again is accepted.
    proposed = form.data["new_bid_deadline"]
    assert proposed == timezone.localtime(earliest).strftime("%Y-%m-%dT%H:%M")
    response = m.post(
        url,
        {"text": "第3.2条修改为……", "affects_preparation": "on", "new_bid_deadline": proposed},
    )
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.bid_deadline == earliest
    assert tender.clarifications.get().affects_preparation


def test_cancel_with_reason(clock):
    tender, manager = published_tender()
    m = client_for(manager)
    url = reverse("tendering:cancel", args=[tender.pk])
    response = m.post(url, {"reason": ""})
    assert response.status_code == 422
    assert response.context["cancel_form"].errors["reason"]
    response = m.post(url, {"reason": "项目取消立项"})
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.status == State.CANCELLED
    assert tender.status_reason == "项目取消立项"


# --- home page -------------------------------------------------------------------------------


def test_home_pages_link_to_tendering(clock, client):
    _org, user = market_entity(OrgType.TENDERER)
    html = client_for(user).get(reverse("home")).content.decode()
    assert reverse("tendering:projects") in html
    assert reverse("tendering:project_new") in html
    public = client.get(reverse("home")).content.decode()
    assert reverse("tendering:tenders") in public
    assert reverse("tendering:flowchart") in public
