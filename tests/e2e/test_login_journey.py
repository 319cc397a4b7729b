"""A person logs in and sees their role's home page; switches language; the staff review flow."""

from __future__ import annotations

import pytest

from openbid.accounts.models import Organisation
from openbid.demo import DEMO_PASSWORD, run_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")


def test_bidder_logs_in_and_sees_their_home_page(page, live_server):
    list(run_demo())
    log_in(page, live_server, "bidder1")
    page.wait_for_selector("section.role[data-role=bidder_staff]")
    assert "第一建设工程有限公司" in page.inner_text("section.role")
    assert "投标人" in page.inner_text("section.role h2") or "投标" in page.inner_text("main")
    assert page.inner_text("[data-testid=whoami]")
    # The language switch turns the same page into English and remembers it.
    page.click("nav.lang a[lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert "bidder staff" in page.inner_text("section.role h2")
    page.goto(f"{live_server.url}/")
    assert page.get_attribute("html", "lang") == "en"


def test_centre_staff_suspend_an_organisation_with_htmx(page, live_server):
    list(run_demo())
    target = Organisation.objects.get(name="第二建设工程有限公司")
    log_in(page, live_server, "centre")
    page.wait_for_selector("section.role[data-role=centre_staff]")
    page.goto(f"{live_server.url}/organisations/{target.credit_code}/")
    page.fill("#status-reason", "提供虚假材料")
    page.click("button:has-text('暂停')")
    page.wait_for_selector("[data-testid=org-status].suspended")
    target.refresh_from_db()
    assert target.status == Organisation.Status.SUSPENDED
    assert target.status_reason == "提供虚假材料"
