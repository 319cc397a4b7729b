"""The opening API: state and read-out, releasing a key, objections, signing, the public record."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from openbid.accounts.services import issue_api_token
from openbid.ledger.note import parse_verifier_key, verify_note
from tests.factories import market_entity
from tests.opening.helpers import at_deadline, tender_with_bids

pytestmark = pytest.mark.django_db

API = "/api/v1"


def bearer(user: Any) -> dict[str, str]:
    _token, raw = issue_api_token(user, name="test client")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client: Client, url: str, body: Any, auth: dict[str, str]) -> Any:
    return client.post(API + url, data=json.dumps(body), content_type="application/json", **auth)


def test_an_opening_through_the_api(client, clock):
    tender, manager, sealed = tender_with_bids(clock)
    watcher = bearer(market_entity()[1])
    url = f"/tenders/{tender.pk}/opening"

    state = client.get(API + url, **watcher).json()
    assert state["status"] == "scheduled" and state["bids"] == []
    assert client.get(API + url).status_code == 401

    early = post(
        client,
        f"/bids/{sealed[0].bid.pk}/release-key",
        {"data_key": base64.b64encode(sealed[0].data_key).decode()},
        bearer(sealed[0].user),
    )
    assert early.status_code == 409 and early.json()["error"]["rule"] == "opening_started"

    at_deadline(clock, tender)  # no clock loop: reading the opening starts it
    state = client.get(API + url, **watcher).json()
    assert state["status"] == "open" and state["tender_status"] == "opened"
    assert [b["bidder"] for b in state["bids"]] == [s.org.credit_code for s in sealed]
    assert {b["status"] for b in state["bids"]} == {"awaiting_key"}

    owner = bearer(sealed[0].user)
    body = {"data_key": base64.b64encode(sealed[0].data_key).decode()}
    other = post(client, f"/bids/{sealed[0].bid.pk}/release-key", body, bearer(sealed[1].user))
    assert other.status_code == 404  # another bidder's bid is not found
    bad = post(client, f"/bids/{sealed[0].bid.pk}/release-key", {"data_key": "abc"}, owner)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "data_key"

    released = post(client, f"/bids/{sealed[0].bid.pk}/release-key", body, owner)
    assert released.status_code == 200, released.content
    out = released.json()
    assert out["status"] == "opened" and out["price"] == "12345678.00"
    assert out["duration_days"] == 300 and out["form"]["项目经理"] == "张0"
    assert "data_key" not in out and len(out["data_key_sha256"]) == 64

    wrong = post(
        client,
        f"/bids/{sealed[1].bid.pk}/release-key",
        {"data_key": base64.b64encode(sealed[0].data_key).decode()},
        bearer(sealed[1].user),
    )
    assert wrong.json()["status"] == "rejected"
    assert wrong.json()["reason_code"] == "wrong_key" and wrong.json()["fault"] == "bidder"

    objection = post(client, f"{url}/objections", {"text": "密钥无误"}, bearer(sealed[1].user))
    assert objection.status_code == 201
    number = objection.json()["id"]
    refused = post(client, f"{url}/record", {}, bearer(manager))
    assert refused.status_code == 409  # bid 3 may still be released
    key_file = json.dumps(
        {"data_key": base64.b64encode(sealed[2].data_key).decode(), "bid": sealed[2].bid.pk}
    )
    third = post(
        client,
        f"/bids/{sealed[2].bid.pk}/release-key",
        {"data_key": key_file},
        bearer(sealed[2].user),
    )
    assert third.json()["status"] == "opened"
    unanswered = post(client, f"{url}/record", {}, bearer(manager))
    assert unanswered.json()["error"]["rule"] == "objection_opening"
    reply = post(
        client, f"/opening/objections/{number}/reply", {"reply": "密钥不符"}, bearer(manager)
    )
    assert reply.status_code == 200 and reply.json()["reply"] == "密钥不符"

    assert client.get(f"{API}{url}/record").status_code == 404
    signed = post(client, f"{url}/record", {}, bearer(manager))
    assert signed.status_code == 201, signed.content
    public = client.get(f"{API}{url}/record").json()  # anyone, signed in or not
    assert public["sha256"] == signed.json()["sha256"]
    verified = verify_note(public["signed_note"], [parse_verifier_key(public["verifier_key"])])
    assert verified.text == public["text"]
    state = client.get(API + url, **watcher).json()
    assert state["status"] == "closed" and state["record_sha256"] == public["sha256"]
    assert [o["reply"] for o in state["objections"]] == ["密钥不符"]


def test_a_failed_tender_reports_why(client, clock):
    tender, _manager, _sealed = tender_with_bids(clock, prices=("1.00",))
    at_deadline(clock, tender)
    state = client.get(f"{API}/tenders/{tender.pk}/opening", **bearer(market_entity()[1])).json()
    assert state["status"] == "failed" and "Law art. 28" in state["status_reason"]
