"""A tenderer takes a tender from project registration to a published notice in the browser; a
bidder then obtains the documents and downloads them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from openbid.demo import DEMO_PASSWORD, run_demo
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Tender

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.7\n% e2e tender document\n" + b"0" * 2048


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("section.role")


def test_tender_from_registration_to_published_notice(page, live_server, clock):
    clock.set("2026-03-02T09:00:00")  # a Monday morning, Beijing time
    list(run_demo())  # after the clock is set: the demo's records carry its time
    log_in(page, live_server, "tenderer")

    # Register a project from the home page.
    page.click(f"section.role a[href='{reverse('tendering:project_new')}']")
    page.fill("#id_code", "2026-330100-48-01-000123")
    page.fill("#id_name", "示范大道综合改造工程")
    assert page.input_value("#id_region_code") == "330100"
    page.select_option("#id_industry", "municipal")
    page.select_option("#id_funding_source", "budget")
    page.fill("#id_estimated_investment", "60000000")
    page.fill("#id_approval_ref", "杭发改审批〔2026〕123号")
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=project-name]:has-text('示范大道综合改造工程')")

    # A tender with two sections; the schedule is proposed by the form.
    page.click("[data-testid=new-tender]")
    page.fill("#id_title", "示范大道综合改造工程施工招标")
    page.fill("#id_qualification", "具备市政公用工程施工总承包二级及以上资质")
    assert page.input_value("#id_doc_issue_start") == "2026-03-02T10:00"
    page.fill("#id_sections-0-name", "一标段 道路工程")
    page.fill("#id_sections-0-estimated_price", "30000000")
    page.fill("#id_sections-0-ceiling_price", "31000000")
    page.fill("#id_sections-0-deposit", "600000")
    page.fill("#id_sections-1-name", "二标段 桥梁工程")
    page.fill("#id_sections-1-estimated_price", "20000000")
    page.fill("#id_sections-1-deposit", "400000")
    page.click("[data-testid=add-section]")  # htmx adds a row (left blank: ignored)
    page.wait_for_selector("#id_sections-2-name")
    assert page.input_value("#id_sections-TOTAL_FORMS") == "3"
    page.click("[data-testid=save-tender]")

    # The checks name what is missing; upload the documents and they pass.
    page.wait_for_selector("[data-testid=problems] li[data-rule=documents_required]")
    assert page.locator("[data-testid=publish]").count() == 0  # no publish button yet
    page.set_input_files(
        "#id_file", {"name": "招标文件.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.click("[data-testid=upload]")
    page.wait_for_selector("[data-testid=checks-pass]")
    assert page.inner_text("[data-testid=documents]").count("招标文件.pdf") == 1
    tender = Tender.objects.get(title="示范大道综合改造工程施工招标")
    assert tender.sections.count() == 2

    # Publish: the public notice page, with the text's hash and the ledger link.
    page.click("[data-testid=publish]")
    page.wait_for_selector("[data-testid=notice-title]")
    tender.refresh_from_db()
    notice = tender.notices.get()
    assert tender.status == State.PUBLISHED
    assert "招标公告" in page.inner_text("[data-testid=notice-title]")
    assert "二标段 桥梁工程" in page.inner_text("[data-testid=notice-body]")
    assert page.inner_text("[data-testid=notice-sha256]") == notice.sha256
    assert re.search(
        rf"/ledger/\?subject=tender%3A{tender.pk}$",
        page.get_attribute("[data-testid=ledger-link]", "href") or "",
    )

    # A bidder, once documents are issued, obtains them free and downloads them.
    page.context.clear_cookies()
    clock.advance(hours=2)
    log_in(page, live_server, "bidder1")
    page.goto(f"{live_server.url}{reverse('tendering:tenders')}")
    page.click(f"a:has-text('{tender.title}')")
    page.click("[data-testid=obtain]")
    page.wait_for_selector("[data-testid=obtained]")
    with page.expect_download() as download:
        page.click("[data-testid=download]")
    assert Path(download.value.path()).read_bytes() == PDF
    assert DocumentObtainer.objects.filter(tender=tender).count() == 1
