"""A bidder's complaint in a real browser, from filing to the published decision: the bidder files
it from the tender page; the regulator accepts it, records a hearing and decides; the decision is
published without the complainant's name and the bidder sees it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openbid.disputes.models import Complaint
from tests.disputes.helpers import world
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")


def test_a_bidders_complaint_from_filing_to_the_published_decision(page, live_server, clock):
    w = world(clock)

    # The bidder files its complaint from the tender page.
    log_in(page, live_server, w.bidder_user.username)
    page.goto(f"{live_server.url}{reverse('tendering:tender', args=[w.tender.pk])}")
    page.click("[data-testid=complain-link]")
    assert w.regulator.name in page.inner_text("[data-testid=regulator]")
    page.select_option("#id_matter", "other")
    page.fill("#id_knew_on", "2026-03-02")
    page.fill("#id_text", "招标代理机构工作人员向个别投标人透露潜在投标人名单。")
    page.fill("#id_requests", "请依法调查处理。")
    page.click("[data-testid=submit-complaint]")
    page.wait_for_selector("[data-testid=complaint][data-status=filed]")
    complaint = Complaint.objects.get()
    page.context.clear_cookies()

    # The regulator accepts it, records a hearing and decides.
    log_in(page, live_server, w.officer.username)
    page.goto(f"{live_server.url}{reverse('disputes:index')}")
    page.click(f"[data-testid=complaints-handled] [data-complaint='{complaint.pk}'] a")
    page.click("[data-testid=accept]")
    page.wait_for_selector("[data-testid=complaint][data-status=accepted]")
    page.fill("form:has([data-testid=hearing]) textarea", "询问代理机构项目负责人，记录在案。")
    page.click("[data-testid=hearing]")
    page.wait_for_selector("[data-testid=step][data-kind=hearing]")
    page.select_option("[data-testid=decide-form] #id_outcome", "upheld")
    page.fill("[data-testid=decide-form] #id_decision_number", "杭发改投诉〔2026〕9号")
    page.fill(
        "[data-testid=decide-form] #id_findings", "经查，代理机构工作人员泄露潜在投标人名单属实。"
    )
    page.fill("[data-testid=decide-form] #id_penalty", "对代理机构处以警告。")
    page.click("[data-testid=decide]")
    page.wait_for_selector("[data-testid=complaint][data-status=decided]")
    page.context.clear_cookies()

    # The public sees the decision, without the complainant.
    page.goto(f"{live_server.url}{reverse('disputes:decisions')}")
    row = page.inner_text(f"[data-testid=decision-row][data-complaint='{complaint.pk}']")
    assert "杭发改投诉〔2026〕9号" in row and "警告" in row
    page.click(f"[data-testid=decision-row][data-complaint='{complaint.pk}'] a")
    text = page.inner_text("[data-testid=letter-text]")
    assert "依法不公开" in text and w.bidder.name not in text

    # The bidder is told on its home page.
    log_in(page, live_server, w.bidder_user.username)
    assert complaint.reference in page.inner_text("[data-testid=notifications]")
