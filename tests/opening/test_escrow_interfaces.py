"""The key escrow through its interfaces: the sealing API a bidder reads before sealing, the
managers' escrow API and page, a custodian's share through the API and the opening room, the
``openbid escrow`` command that makes an escrow, and the per-tender sealing settings."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from openbid.cli import main as openbid_main
from openbid.core.errors import InvalidInput
from openbid.crypto import escrow as crypto_escrow
from openbid.crypto.suites import KeyUse, get_suite
from openbid.opening.models import Escrow, OpenedBid, OpeningSession
from openbid.tendering import services as tendering
from tests.opening.test_api import API, bearer, post
from tests.opening.test_escrow import (
    ONE_SECTION,
    custodians,
    escrowed_tender,
    four_bids,
    in_escrow_period,
)
from tests.tendering.factories import draft_tender

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def test_a_bidder_reads_how_to_seal_and_the_escrow_key(client):
    tender, _manager, people, record = escrowed_tender(decryption_window_minutes=45)
    sealing = client.get(f"{API}/tenders/{tender.pk}/sealing").json()  # public: no token
    assert sealing["suite"] == "intl-2026" and sealing["decryption_window_minutes"] == 45
    escrow = sealing["escrow"]
    assert escrow["key_id"] == record.key_id.hex() and escrow["threshold"] == 2
    assert [c["credit_code"] for c in escrow["custodians"]] == [p.org.credit_code for p in people]
    assert escrow["custodians"][0]["name"] == people[0].org.name
    suite = get_suite("intl-2026")
    pem = escrow["public_key_pem"].encode()
    assert suite.public_key_from_pem(pem, KeyUse.ENCRYPTION) == record.public_key
    page = client.get(reverse("opening:escrow_key", args=[tender.pk]))
    assert page.status_code == 200 and page.content == pem

    plain, _manager = draft_tender(sections=ONE_SECTION)
    assert client.get(f"{API}/tenders/{plain.pk}/sealing").status_code == 404  # a draft
    assert client.get(reverse("opening:escrow_key", args=[plain.pk])).status_code == 404


def test_managers_register_and_remove_an_escrow_through_the_api(client):
    tender, manager = draft_tender(sections=ONE_SECTION)
    people, record = custodians()
    auth = bearer(manager)
    url = f"{API}/tenders/{tender.pk}/escrow"
    put = client.put(
        url, data=json.dumps({"record": record.to_dict()}), content_type="application/json", **auth
    )
    assert put.status_code == 200, put.content
    assert put.json()["escrow"]["key_id"] == record.key_id.hex()

    bad = record.to_dict() | {"suite": "sm-2026"}
    refused = client.put(
        url, data=json.dumps({"record": bad}), content_type="application/json", **auth
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "escrow"
    stranger = bearer(people[0].user)
    assert (
        client.put(
            url,
            data=json.dumps({"record": record.to_dict()}),
            content_type="application/json",
            **stranger,
        ).status_code
        == 403
    )
    assert client.delete(url, **stranger).status_code == 403
    assert client.delete(url, **auth).status_code == 204
    assert not Escrow.objects.exists()
    assert client.delete(url, **auth).status_code == 404


def test_custodians_give_their_shares_through_the_api(client, clock):
    tender, _manager, people, record = escrowed_tender()
    sealed = four_bids(clock, tender, record)
    in_escrow_period(clock, tender, sealed)
    url = f"/tenders/{tender.pk}/opening/escrow-shares"
    state = client.get(f"{API}/tenders/{tender.pk}/opening", **bearer(people[0].user)).json()
    assert state["status"] == "escrow" and state["escrow_deadline"]

    wrong = post(client, url, {"share": people[1].share}, bearer(people[0].user))
    assert wrong.status_code == 403 and wrong.json()["error"]["rule"] == "escrow_custodian"
    first = post(client, url, {"share": people[0].share}, bearer(people[0].user))
    assert first.status_code == 200 and first.json()["status"] == "escrow"
    second = post(client, url, {"share": people[1].share}, bearer(people[1].user))
    assert second.status_code == 200
    state = second.json()
    assert state["status"] == "closed"
    last = next(b for b in state["bids"] if b["bid"] == sealed[3].bid.pk)
    assert last["status"] == "opened" and last["via_escrow"] and last["price"] == "12500000.00"


def test_the_room_offers_custodians_the_share_form(clock):
    tender, _manager, people, record = escrowed_tender()
    sealed = four_bids(clock, tender, record)
    in_escrow_period(clock, tender, sealed)
    room = reverse("opening:room", args=[tender.pk])
    page = client_for(sealed[0].user).get(room).content.decode()
    assert 'data-testid="escrow-period"' in page and "share-form" not in page

    centre = client_for(people[0].user)
    assert 'data-testid="share-form"' in centre.get(room).content.decode()
    give = reverse("opening:give_share", args=[tender.pk])
    refused = centre.post(give, {"share": "not a share at all"})
    assert refused.status_code == 422 and "This is not a share" in refused.content.decode()
    assert centre.post(give, {"share": people[0].share}).status_code == 302
    assert client_for(people[2].user).post(give, {"share": people[2].share}).status_code == 302
    assert OpeningSession.objects.get(tender=tender).status == "closed"
    page = centre.get(room).content.decode()
    assert 'data-testid="via-escrow"' in page
    assert OpenedBid.objects.get(bid=sealed[3].bid).via_escrow


def test_managers_register_the_escrow_on_the_tender_page():
    tender, manager = draft_tender(sections=ONE_SECTION)
    _people, record = custodians()
    browser = client_for(manager)
    page = browser.get(reverse("tendering:tender", args=[tender.pk])).content.decode()
    assert 'data-testid="escrow-form"' in page and 'data-suite="intl-2026"' in page
    upload = SimpleUploadedFile("escrow.json", json.dumps(record.to_dict()).encode())
    done = browser.post(
        reverse("opening:register_escrow", args=[tender.pk]), {"record_file": upload}, follow=True
    )
    assert "The key escrow is registered." in done.content.decode()
    assert Escrow.objects.get(tender=tender).key_id == record.key_id.hex()
    assert record.key_id.hex() in done.content.decode()
    junk = browser.post(
        reverse("opening:register_escrow", args=[tender.pk]), {"record": "{nope"}, follow=True
    )
    assert "escrow.json" in junk.content.decode()
    removed = browser.post(
        reverse("opening:register_escrow", args=[tender.pk]), {"remove": "1"}, follow=True
    )
    assert "The key escrow is removed." in removed.content.decode()


# --- openbid escrow -------------------------------------------------------------------------------


def test_openbid_escrow_create_and_check(tmp_path, capsys):
    people, _record = custodians()
    codes = [p.org.credit_code for p in people]
    out = tmp_path / "escrow"
    args = ["escrow", "create", "--suite", "sm-2026", "--threshold", "2", "--out", str(out)]
    for code in codes:
        args += ["--custodian", code]
    assert openbid_main(args) == 0
    record = crypto_escrow.EscrowPublic.from_dict(json.loads((out / "escrow.json").read_text()))
    assert record.suite == "sm-2026" and (record.threshold, record.count) == (2, 3)
    shares = {code: (out / f"share-{code}.txt").read_text().strip() for code in codes}
    for code in codes:
        assert stat.S_IMODE(os.stat(out / f"share-{code}.txt").st_mode) == 0o600
    suite = get_suite("sm-2026")
    pem = (out / "escrow.pub").read_bytes()
    assert suite.public_key_from_pem(pem, KeyUse.ENCRYPTION) == record.public_key
    key = crypto_escrow.recover_private_key(record, [shares[codes[0]], shares[codes[2]]])
    assert suite.public_key(key, KeyUse.ENCRYPTION) == record.public_key

    capsys.readouterr()
    share_file = str(out / f"share-{codes[1]}.txt")
    assert openbid_main(["escrow", "check", str(out / "escrow.json"), share_file]) == 0
    assert f"held by {codes[1]}" in capsys.readouterr().out
    assert openbid_main(args) == 2  # the files exist: never overwritten
    assert "exist" in capsys.readouterr().err
    bad = ["escrow", "create", "--suite", "sm-2026", "--threshold", "2", "--out", str(tmp_path)]
    assert openbid_main([*bad, "--custodian", codes[0], "--custodian", "91330100MA0000001X"]) == 2
    assert "GB 32100" in capsys.readouterr().err
    assert openbid_main([*bad, "--custodian", codes[0]]) == 2  # threshold above the count
    assert not (tmp_path / "escrow.json").exists()


# --- per-tender sealing settings ------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [9, 241, "half an hour", 12.5])
def test_the_decryption_window_is_refused_out_of_range(minutes):
    with pytest.raises(InvalidInput) as refused:
        draft_tender(decryption_window_minutes=minutes)
    assert refused.value.field == "decryption_window_minutes"
    assert refused.value.rule == "decryption_window"


def test_the_crypto_suite_and_window_are_the_tenders(clock):
    tender, manager = draft_tender(crypto_suite="sm-2026", decryption_window_minutes=20)
    assert (tender.crypto_suite, tender.decryption_window_minutes) == ("sm-2026", 20)
    with pytest.raises(InvalidInput) as refused:
        tendering.update_tender(manager, tender, crypto_suite="rot13")
    assert refused.value.field == "crypto_suite"
    default, _m = draft_tender()
    assert default.crypto_suite == "intl-2026"
    assert default.decryption_window_minutes == settings.OPENBID_DECRYPTION_WINDOW_MINUTES
