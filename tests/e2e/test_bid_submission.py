"""A bidder's journey in a real browser: it obtains the documents, submits the envelope and
sidecar it sealed with ``openbid-bidder seal`` through the submission page, sees its receipt; at
the deadline it enters the opening room, releases its data key and sees its bid read out.

Two other bidders submit through the bidding services (as the bidder client does), so the opening
has the three bids it needs. The page is driven through headless Chromium against a live server
(``page`` from this folder's conftest); the platform clock is frozen (``clock``).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from openbid.bidding.models import Bid
from openbid.opening import services as opening
from openbid.opening.models import OpenedBid
from openbid.tendering.models import DocumentObtainer
from tests.bidding.test_web import seal
from tests.factories import PASSWORD, market_entity
from tests.opening.helpers import at_deadline, bid_package, bidder, one_section_tender, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")


def test_a_bidder_submits_in_the_browser_and_opens_its_bid(page, live_server, clock, tmp_path):
    tender, _manager = one_section_tender()
    section = tender.sections.get()
    clock.set(tender.doc_issue_start + dt.timedelta(minutes=1))
    org, user = market_entity()
    others = []
    for n, price in enumerate(("11800000.50", "12990000.00")):
        other_org, other_user = bidder(tender, clock)
        others.append(submit(other_user, other_org, section, bid_package(price, 300 + n)))

    # The bidder obtains the documents on the tender's page.
    log_in(page, live_server, user.username)
    page.goto(f"{live_server.url}{reverse('tendering:tender', args=[tender.pk])}")
    page.click("[data-testid=obtain]")
    page.wait_for_selector("[data-testid=obtained]")
    assert DocumentObtainer.objects.filter(tender=tender, organisation=org).exists()

    # It follows the link to the section's submission page and chooses the files seal wrote.
    page.click(f"[data-testid=submit-bid-link][data-section='{section.pk}']")
    page.wait_for_selector("[data-testid=submit-form]")
    assert f"bidder {org.credit_code}" in page.inner_text("[data-testid=commitment-message]")
    sealed = seal(tmp_path, section, "10500000.00")
    page.set_input_files(
        "#id_envelope",
        {"name": "bid.obenv", "mimeType": "application/octet-stream", "buffer": sealed.envelope},
    )
    page.set_input_files(
        "#id_sidecar",
        {"name": "bid.obenv.json", "mimeType": "application/json", "buffer": sealed.sidecar},
    )
    page.fill("#id_signature", sealed.signature(section, org))
    page.click("[data-testid=submit-bid]")
    page.wait_for_selector("[data-testid=valid-bid][data-status=valid]")
    bid = Bid.objects.get(section=section, organisation=org)
    receipt = page.inner_text("[data-testid=receipt]")
    assert receipt.startswith("openbid bid receipt v1")
    assert f"bid {bid.pk}" in receipt and bid.ciphertext_sha256 in receipt
    assert receipt.strip() == bid.receipt.strip()

    # "My bids" lists it with its receipt.
    page.goto(f"{live_server.url}{reverse('bidding:my_bids')}")
    page.wait_for_selector(f"[data-testid=bid-row][data-bid='{bid.pk}'][data-status=valid]")

    # The deadline passes: the submission page closes and leads to the opening room.
    at_deadline(clock, tender)
    page.goto(f"{live_server.url}{reverse('bidding:submit', args=[section.pk])}")
    page.wait_for_selector("[data-testid=closed]")
    page.click("[data-testid=opening-room]")
    page.wait_for_selector("[data-testid=release-form]")
    assert page.locator("[data-testid=readout-row]").count() == 3

    # The bidder pastes the data key its client unwrapped; the bid is opened and read out.
    page.fill(f"#id_bid{bid.pk}-data_key", base64.b64encode(sealed.data_key).decode())
    page.click("[data-testid=release]")
    page.wait_for_selector(f"[data-testid=own-bid][data-bid='{bid.pk}'][data-status=opened]")
    row = f"[data-testid=readout-row][data-bid='{bid.pk}'][data-status=opened]"
    page.wait_for_selector(row)
    assert "10,500,000.00" in page.inner_text(row)

    # The other two release through their clients; the decryption closes with three bids opened.
    for other in others:
        opening.release_key(other.user, other.bid, other.data_key)
    page.wait_for_selector("[data-testid=decryption-closed]", timeout=6_000)
    assert OpenedBid.objects.filter(status=OpenedBid.Status.OPENED).count() == 3
