"""The opening room in a real browser: bidders release their keys (pasted, and as the client's key
file), everyone's read-out updates without a reload, and the tenderer signs the record.

The bids are submitted through the bidding services (as the ``openbid-bidder`` client does); the
room is driven through headless Chromium against a live server (``browser`` from this folder's
conftest). Service-level tests of the opening are in ``tests/opening``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.urls import reverse

from openbid.opening import services
from openbid.opening.models import OpenedBid, OpeningSession
from tests.factories import PASSWORD
from tests.opening.helpers import at_deadline, tender_with_bids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_page(browser: Any, live_server: Any, username: str) -> Any:
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
    return page


def test_bidders_open_their_bids_in_the_opening_room(browser, live_server, clock):
    tender, manager, sealed = tender_with_bids(clock)
    room = f"{live_server.url}{reverse('opening:room', args=[tender.pk])}"

    # A bidder waits in the room before the deadline; it shows no bid.
    watcher = new_page(browser, live_server, sealed[1].user.username)
    watcher.goto(room)
    watcher.wait_for_selector("[data-testid=waiting]")
    assert sealed[0].org.name not in watcher.inner_text("main")

    # The deadline passes: the waiting page turns into the opening by itself.
    at_deadline(clock, tender)
    watcher.wait_for_selector("[data-testid=release-form]")
    assert watcher.locator("[data-testid=readout-row]").count() == 3
    watcher.evaluate("window.__notReloaded = true")

    # Another bidder releases its key by pasting it.
    first = new_page(browser, live_server, sealed[0].user.username)
    first.goto(room)
    first.fill(f"#id_bid{sealed[0].bid.pk}-data_key", base64.b64encode(sealed[0].data_key).decode())
    first.click("[data-testid=release]")
    first.wait_for_selector(
        f"[data-testid=own-bid][data-bid='{sealed[0].bid.pk}'][data-status=opened]"
    )

    # The waiting bidder's read-out shows the price without a reload (htmx polling).
    row = f"[data-testid=readout-row][data-bid='{sealed[0].bid.pk}'][data-status=opened]"
    watcher.wait_for_selector(row, timeout=6_000)
    assert "12,345,678.00" in watcher.inner_text(row)
    assert watcher.evaluate("window.__notReloaded") is True

    # A third bidder elsewhere (its client releases through the service); then the watcher
    # uploads the key file its bidder client wrote.
    services.release_key(sealed[2].user, sealed[2].bid, sealed[2].data_key)
    key_file = json.dumps(
        {"data_key": base64.b64encode(sealed[1].data_key).decode(), "bid": sealed[1].bid.pk}
    ).encode()
    watcher.set_input_files(
        f"#id_bid{sealed[1].bid.pk}-key_file",
        {"name": "bid.obenv.datakey.json", "mimeType": "application/json", "buffer": key_file},
    )
    watcher.click("[data-testid=release]")
    watcher.wait_for_selector("[data-testid=decryption-closed]")
    assert OpenedBid.objects.filter(status=OpenedBid.Status.OPENED).count() == 3

    # The tenderer signs the record and it is published.
    boss = new_page(browser, live_server, manager.username)
    boss.goto(room)
    boss.click("[data-testid=sign-record]")
    boss.wait_for_selector("[data-testid=record-text]")
    session = OpeningSession.objects.get(tender=tender)
    assert boss.inner_text("[data-testid=record-sha256]") == session.record_sha256
    assert sealed[1].org.name in boss.inner_text("[data-testid=record-text]")
    for page in (watcher, first, boss):
        page.context.close()
