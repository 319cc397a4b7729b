"""The banks' signed webhook: HMAC-SHA256 over the timestamp and raw body, replay window,
replays refused, duplicates recorded once — through the service and through HTTP."""

from __future__ import annotations

import json

import pytest

from openbid.core.errors import Conflict, InvalidInput
from openbid.deposits import services
from openbid.deposits.models import CreditLine
from tests.deposits.helpers import bidder_with_account, deposit_rows, tender

pytestmark = pytest.mark.django_db

SECRET = "test-webhook-secret"
A = "6222020200112233445"
URL = "/api/v1/deposits/banks/icbc/credits"


def body(sub_number: str, ref: str = "W1", amount: object = "200000.00") -> bytes:
    return json.dumps(
        {
            "credits": [
                {
                    "bank_reference": ref,
                    "booked_at": "2026-03-20T10:15:00+08:00",
                    "amount": amount,
                    "payee_account": sub_number,
                    "payer_account": A,
                    "payer_name": "测试单位",
                    "payer_bank": "中国工商银行",
                    "memo": "保证金",
                }
            ]
        },
        ensure_ascii=False,
    ).encode()


def signed(raw: bytes, clock, *, secret: str = SECRET, skew: int = 0) -> dict[str, str]:
    ts = str(int(clock.now().timestamp()) + skew)
    return {"timestamp": ts, "signature": "sha256=" + services.webhook_signature(secret, ts, raw)}


@pytest.fixture
def sub(clock):
    t, _manager = tender()
    _org, _user, sub = bidder_with_account(t, clock, A)
    return sub


def test_a_signed_delivery_is_recorded_and_matched(clock, sub):
    raw = body(sub.number)
    result = services.receive_webhook(bank="icbc", body=raw, **signed(raw, clock))
    assert result.new == 1 and result.results[0].match == "accepted"
    assert CreditLine.objects.get().bank == "icbc"
    # The same delivery again is a replay: refused, nothing written.
    before = deposit_rows()
    with pytest.raises(Conflict) as refused:
        services.receive_webhook(bank="icbc", body=raw, **signed(raw, clock))
    assert refused.value.rule == "webhook_replay"
    assert deposit_rows() == before
    # A new delivery (a later timestamp) repeating the line: recorded once.
    clock.advance(seconds=5)
    again = services.receive_webhook(bank="icbc", body=raw, **signed(raw, clock))
    assert again.new == 0 and again.results[0].outcome == "duplicate"
    assert CreditLine.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"secret": "wrong-secret"}, "webhook_signature"),
        ({"skew": -301}, "webhook_replay_window"),
        ({"skew": 301}, "webhook_replay_window"),
    ],
)
def test_bad_signature_and_stale_timestamps_are_refused(clock, sub, change, rule):
    raw = body(sub.number)
    before = deposit_rows()
    with pytest.raises(services.WebhookRefused) as refused:
        services.receive_webhook(bank="icbc", body=raw, **signed(raw, clock, **change))
    assert refused.value.rule == rule and refused.value.status == 401
    assert deposit_rows() == before


def test_a_tampered_body_or_unknown_bank_is_refused(clock, sub):
    raw = body(sub.number)
    headers = signed(raw, clock)
    before = deposit_rows()
    with pytest.raises(services.WebhookRefused):
        services.receive_webhook(bank="icbc", body=body(sub.number, amount="1.00"), **headers)
    with pytest.raises(services.WebhookRefused) as refused:
        services.receive_webhook(bank="ccb", body=raw, **headers)
    assert refused.value.rule == "webhook_bank"
    with pytest.raises(services.WebhookRefused):
        services.receive_webhook(bank="icbc", body=raw, timestamp="", signature="")
    assert deposit_rows() == before


def test_a_json_number_amount_is_refused(clock, sub):
    raw = body(sub.number, amount=200000.0)
    before = deposit_rows()
    with pytest.raises(InvalidInput) as refused:
        services.receive_webhook(bank="icbc", body=raw, **signed(raw, clock))
    assert refused.value.field == "amount"
    assert deposit_rows() == before


def test_the_webhook_over_http(client, clock, sub):
    raw = body(sub.number)
    headers = signed(raw, clock)
    response = client.post(
        URL,
        raw,
        content_type="application/json",
        headers={
            "X-Openbid-Timestamp": headers["timestamp"],
            "X-Openbid-Signature": headers["signature"],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["new"] == 1
    assert response.json()["lines"][0]["match"] == "accepted"
    replay = client.post(
        URL,
        raw,
        content_type="application/json",
        headers={
            "X-Openbid-Timestamp": headers["timestamp"],
            "X-Openbid-Signature": headers["signature"],
        },
    )
    assert replay.status_code == 409 and replay.json()["error"]["rule"] == "webhook_replay"
    bad = client.post(
        URL,
        raw,
        content_type="application/json",
        headers={"X-Openbid-Timestamp": headers["timestamp"], "X-Openbid-Signature": "sha256=00"},
    )
    assert bad.status_code == 401 and bad.json()["error"]["rule"] == "webhook_signature"
