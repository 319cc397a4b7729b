"""The opening room and the record page: they render for each role, release keys from a pasted key
or the client's key file, refresh the read-out, and keep the bidders secret until the opening."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from openbid.ledger import keys
from openbid.ledger.note import verify_note
from openbid.opening.models import OpenedBid, OpeningSession
from tests.factories import market_entity
from tests.opening.helpers import at_deadline, tender_with_bids

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    """A signed-in client reading the English pages (the assertions quote English text)."""
    c = Client()
    c.force_login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def test_the_waiting_room_shows_nothing_about_bids(clock, client):
    tender, manager, sealed = tender_with_bids(clock)
    url = reverse("opening:room", args=[tender.pk])
    assert client.get(url).status_code == 302  # sign in first
    for user in (manager, sealed[0].user, market_entity()[1]):
        page = client_for(user).get(url)
        assert page.status_code == 200
        text = page.content.decode()
        assert 'data-testid="waiting"' in text
        assert 'hx-trigger="every 2s"' in text
        for s in sealed:
            assert s.org.name not in text
        assert "release-form" not in text


def test_a_bidder_releases_a_pasted_key_and_the_read_out_updates(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    at_deadline(clock, tender)
    owner = client_for(sealed[0].user)
    room = reverse("opening:room", args=[tender.pk])
    page = owner.get(room).content.decode()  # looking at the room starts the opening
    assert 'data-testid="decrypting"' in page
    assert page.count('data-testid="release-form"') == 1  # only its own bid
    assert all(s.org.name in page for s in sealed)

    url = reverse("opening:release", args=[tender.pk, sealed[0].bid.pk])
    field = f"bid{sealed[0].bid.pk}-data_key"
    refused = owner.post(url, {field: "not a key"})
    assert refused.status_code == 422 and "32" in refused.content.decode()
    response = owner.post(url, {field: base64.b64encode(sealed[0].data_key).decode()})
    assert response.status_code == 302
    assert OpenedBid.objects.get(bid=sealed[0].bid).status == OpenedBid.Status.OPENED

    # Someone else's page picks it up through the polled part, without a reload.
    live = reverse("opening:live", args=[tender.pk])
    watcher = client_for(market_entity()[1])
    part = watcher.get(f"{live}?phase=open", HTTP_HX_REQUEST="true")
    assert part.status_code == 200
    assert "12,345,678.00" in part.content.decode()
    assert 'data-testid="opening-live"' in part.content.decode()

    # Another bidder cannot release this bid.
    other = client_for(sealed[1].user).post(
        url, {field: base64.b64encode(sealed[0].data_key).decode()}
    )
    assert other.status_code == 403

    # The key file of the bidder client; one written for another bid is refused.
    url2 = reverse("opening:release", args=[tender.pk, sealed[1].bid.pk])
    wrong_file = json.dumps(
        {"data_key": base64.b64encode(sealed[2].data_key).decode(), "bid": sealed[2].bid.pk}
    ).encode()
    refused = client_for(sealed[1].user).post(
        url2,
        {
            f"bid{sealed[1].bid.pk}-key_file": SimpleUploadedFile(
                "bid.obenv.datakey.json", wrong_file
            )
        },
    )
    assert refused.status_code == 422
    assert f"for bid {sealed[2].bid.pk}" in refused.content.decode()
    key_file = json.dumps(
        {"data_key": base64.b64encode(sealed[1].data_key).decode(), "bid": sealed[1].bid.pk}
    ).encode()
    done = client_for(sealed[1].user).post(
        url2,
        {f"bid{sealed[1].bid.pk}-key_file": SimpleUploadedFile("bid.obenv.datakey.json", key_file)},
    )
    assert done.status_code == 302
    assert OpenedBid.objects.get(bid=sealed[1].bid).price is not None

    # A raw 32-byte key file, but the wrong one: the bid is rejected, with the reason shown.
    url3 = reverse("opening:release", args=[tender.pk, sealed[2].bid.pk])
    client3 = client_for(sealed[2].user)
    client3.post(
        url3, {f"bid{sealed[2].bid.pk}-key_file": SimpleUploadedFile("k.bin", sealed[0].data_key)}
    )
    page = client3.get(room).content.decode()
    assert 'data-testid="own-reason"' in page and "Wrong key" in page

    # Every bid is decided: the phase moved on, so a polling page reloads itself.
    stale = watcher.get(f"{live}?phase=open", HTTP_HX_REQUEST="true")
    assert stale.status_code == 204 and stale["HX-Refresh"] == "true"


def test_objections_replies_and_the_signed_record(clock, client):
    tender, manager, sealed = tender_with_bids(clock)
    session_start = at_deadline(clock, tender)
    room = reverse("opening:room", args=[tender.pk])
    bidder = client_for(sealed[1].user)
    assert 'data-testid="objection-form"' in bidder.get(room).content.decode()
    response = bidder.post(reverse("opening:objection", args=[tender.pk]), {"text": "解密窗口过短"})
    assert response.status_code == 302
    stranger = client_for(market_entity()[1])
    assert 'data-testid="objection-form"' not in stranger.get(room).content.decode()
    refused = stranger.post(reverse("opening:objection", args=[tender.pk]), {"text": "x"})
    assert refused.status_code == 422

    boss = client_for(manager)
    page = boss.get(room).content.decode()
    assert 'data-testid="reply-form"' in page and 'hx-preserve="true"' in page
    objection = OpeningSession.objects.get(tender=tender).objections.get()
    response = boss.post(
        reverse("opening:reply", args=[tender.pk, objection.pk]),
        {f"reply{objection.pk}-reply": "依招标文件设定"},
    )
    assert response.status_code == 302

    for s in sealed:
        client_for(s.user).post(
            reverse("opening:release", args=[tender.pk, s.bid.pk]),
            {f"bid{s.bid.pk}-data_key": base64.b64encode(s.data_key).decode()},
        )
    assert session_start  # all three released: decryption closed without waiting
    page = boss.get(room).content.decode()
    assert 'data-testid="sign-record"' in page
    assert bidder.post(reverse("opening:sign", args=[tender.pk])).status_code == 302
    assert OpeningSession.objects.get(tender=tender).published_at is None  # not a manager
    response = boss.post(reverse("opening:sign", args=[tender.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("opening:record", args=[tender.pk])

    record = client.get(reverse("opening:record", args=[tender.pk]))  # public
    assert record.status_code == 200
    assert "依招标文件设定" in record.content.decode()
    note = client.get(reverse("opening:record_note", args=[tender.pk]))
    verified = verify_note(note.content, [keys.log_signer().verifier()])
    assert sealed[0].org.credit_code in verified.text
    page = boss.get(room).content.decode()
    assert "hx-trigger" not in page  # final: no more polling
    assert 'data-testid="record-link"' in page


def test_no_record_page_before_it_is_signed(clock, client):
    tender, _manager, _sealed = tender_with_bids(clock)
    assert client.get(reverse("opening:record", args=[tender.pk])).status_code == 404
    assert client.get(reverse("opening:record_note", args=[tender.pk])).status_code == 404


def test_a_key_sent_after_the_window_is_refused_on_the_page(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    at_deadline(clock, tender)
    owner = client_for(sealed[0].user)
    room = reverse("opening:room", args=[tender.pk])
    owner.get(room)
    at_deadline(clock, tender, minutes=30)  # the window has just closed
    response = owner.post(
        reverse("opening:release", args=[tender.pk, sealed[0].bid.pk]),
        {f"bid{sealed[0].bid.pk}-data_key": base64.b64encode(sealed[0].data_key).decode()},
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert 'data-testid="release-errors"' in text and "10:00:00" in text
    assert OpenedBid.objects.get(bid=sealed[0].bid).reason_code == "no_key"


def test_a_cancelled_tender_has_no_opening(clock, client):
    from openbid.tendering import services as tendering

    tender, manager, _sealed = tender_with_bids(clock)
    tendering.cancel_tender(manager, tender, reason="项目取消")
    at_deadline(clock, tender)
    page = client_for(manager).get(reverse("opening:room", args=[tender.pk])).content.decode()
    assert "项目取消" in page and "hx-trigger" not in page
