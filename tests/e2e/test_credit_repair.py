"""Credit repair end to end in a real browser: the bidder sees its record and grade, applies for
repair with evidence; centre staff accept it and approve it with reasons in the workspace; the
bidder is notified at each step, and the public credit page no longer shows the record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from openbid.credit.models import CreditRecord, RepairApplication
from tests.credit.helpers import make_record
from tests.factories import PASSWORD, centre_with_staff, market_entity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")


def log_out(page: Any) -> None:
    page.context.clear_cookies()


def test_credit_repair_in_the_browser(page, live_server, clock):
    _centre, staff = centre_with_staff()
    org, bidder = market_entity()
    rec = make_record(staff, org, decided_on=dt.date(2025, 11, 1), valid_from=dt.date(2025, 11, 1))
    entity_url = f"{live_server.url}{reverse('credit:entity', args=[org.credit_code])}"

    # The bidder sees the record on its home page and its grade with the working.
    log_in(page, live_server, bidder.username)
    assert rec.number in page.inner_text("[data-testid=notifications]")
    page.goto(f"{live_server.url}{reverse('credit:mine')}")
    assert page.inner_text("[data-testid=grade]") == "A"
    assert (
        page.get_attribute(f"[data-testid=working-line][data-record='{rec.number}']", "data-counts")
        == "yes"
    )

    # It applies for repair with a statement and evidence.
    page.click(f"[data-testid=own-record][data-record='{rec.number}'] [data-testid=apply-repair]")
    page.fill("#id_statement", "已按要求完成整改，并作出信用承诺。")
    page.set_input_files(
        "#id_evidence",
        {"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 report"},
    )
    page.click("[data-testid=submit-repair]")
    page.wait_for_selector("[data-testid=own-application][data-status=submitted]")
    application = RepairApplication.objects.get(record=rec)

    # Centre staff accept it and approve it with reasons.
    log_out(page)
    log_in(page, live_server, staff.username)
    page.goto(f"{live_server.url}{reverse('credit:workspace')}")
    page.click(f"[data-testid=open-application][data-application='{application.pk}'] a")
    page.click("[data-testid=accept-repair]")
    page.wait_for_selector("[data-testid=application][data-status=under_review]")
    page.check("input[name=decision][value=approve]")
    page.fill("#id_reason", "整改材料齐全，符合信用修复条件。")
    page.click("[data-testid=decide-repair]")
    page.wait_for_selector("[data-testid=application][data-status=approved]")
    rec.refresh_from_db()
    assert rec.status == CreditRecord.Status.REPAIRED

    # The bidder was notified of each step; the record no longer counts or shows publicly.
    log_out(page)
    log_in(page, live_server, bidder.username)
    notes = page.inner_text("[data-testid=notifications]")
    assert "整改材料齐全" in notes
    page.goto(f"{live_server.url}{reverse('credit:mine')}")
    page.wait_for_selector("[data-testid=own-application][data-status=approved]")
    assert page.inner_text("[data-testid=grade]") == "AA"
    assert len(page.inner_text("[data-testid=credit-notifications]").strip().splitlines()) == 4
    page.goto(entity_url)
    assert rec.number not in page.inner_text("[data-testid=public-records]")
    assert rec.number in page.inner_text("[data-testid=repairs]")
