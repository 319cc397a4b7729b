"""Disputes API: an objection and a complaint through the API, refusals in the error shape,
published decisions, holds and figures for everyone."""

from __future__ import annotations

import pytest

from openbid.accounts import services as accounts
from tests.disputes.helpers import counts, world
from tests.tendering.factories import at

pytestmark = pytest.mark.django_db


def bearer(user):
    _token, raw = accounts.issue_api_token(user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, user, data=None):
    return client.post(url, data or {}, content_type="application/json", **bearer(user))


def test_objection_and_complaint_through_the_api(client, clock):
    w = world(clock)
    r = post(
        client,
        "/api/v1/disputes/objections",
        w.bidder_user,
        {"tender": w.tender.pk, "matter": "tender_docs", "text": "资格条件排斥外地投标人。"},
    )
    assert r.status_code == 201, r.content
    objection = r.json()
    assert objection["reply_due"] == "2026-03-06T00:00:00+08:00"
    assert objection["suspension_active"] is True
    holds = client.get(f"/api/v1/disputes/tenders/{w.tender.pk}/holds").json()
    assert [h["rule"] for h in holds] == ["objection_reply"]
    assert holds[0]["steps"][0] == "open"
    # Only the parties see the objection.
    assert client.get(f"/api/v1/disputes/objections/{objection['id']}").status_code in (401, 404)
    clock.set(at("2026-03-03 09:00"))
    r = post(
        client,
        f"/api/v1/disputes/objections/{objection['id']}/reply",
        w.manager,
        {"reply": "维持原规定。"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["letters"] == ["objection_receipt", "objection_reply"]
    assert client.get(f"/api/v1/disputes/tenders/{w.tender.pk}/holds").json() == []

    regulator = client.get(f"/api/v1/disputes/tenders/{w.tender.pk}/regulator").json()
    assert regulator["credit_code"] == w.regulator.credit_code
    r = post(
        client,
        "/api/v1/disputes/complaints",
        w.bidder_user,
        {
            "tender": w.tender.pk,
            "matter": "tender_docs",
            "knew_on": "2026-03-02",
            "text": "答复未纠正排斥性条款。",
            "requests": "责令修改招标文件。",
        },
    )
    assert r.status_code == 201, r.content
    complaint = r.json()
    assert complaint["accept_due"] == "2026-03-07T00:00:00+08:00"  # Tue 3 → Wed 4, Thu 5, Fri 6
    pk = complaint["id"]
    assert post(client, f"/api/v1/disputes/complaints/{pk}/accept", w.officer).status_code == 200
    r = post(
        client,
        f"/api/v1/disputes/complaints/{pk}/requests",
        w.officer,
        {
            "addressee": w.tender.project.tenderer.credit_code,
            "text": "提供依据",
            "due_on": "2026-03-06",
        },
    )
    assert r.status_code == 201, r.content
    step = r.json()["id"]
    r = post(
        client,
        f"/api/v1/disputes/complaints/{pk}/requests/{step}/reply",
        w.manager,
        {"text": "依据如下……"},
    )
    assert r.status_code == 201, r.content
    r = post(
        client,
        f"/api/v1/disputes/complaints/{pk}/decide",
        w.officer,
        {
            "outcome": "partly",
            "findings": "部分条款排斥外地投标人。",
            "measures": "责令修改。",
            "penalty": "警告",
            "decision_number": "杭发改投诉〔2026〕2号",
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "decided"
    public = client.get("/api/v1/disputes/decisions").json()
    assert [d["decision_number"] for d in public] == ["杭发改投诉〔2026〕2号"]
    assert public[0]["penalty"] == "警告"
    assert w.bidder.name not in str(public) and w.bidder.credit_code not in str(public)
    one = client.get(f"/api/v1/disputes/decisions/{pk}").json()
    assert "依法不公开" in one["text"]
    figures = client.get("/api/v1/disputes/figures").json()
    assert figures["objection.reply"]["within_target_rate"] == "1.0000"
    assert figures["complaint.accept"]["done"] == 1


def test_refusal_in_the_error_shape_writes_nothing(client, clock):
    w = world(clock)
    bidder_auth, officer_auth = bearer(w.bidder_user), bearer(w.officer)
    before = counts()
    r = client.post(
        "/api/v1/disputes/complaints",
        {
            "tender": w.tender.pk,
            "matter": "tender_docs",
            "knew_on": "2026-03-02",
            "text": "x",
            "requests": "y",
        },
        content_type="application/json",
        **bidder_auth,
    )
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["rule"] == "complaint_objection_first"
    assert error["article"] == "Reg art. 60"
    assert counts() == before
    r = client.post(
        "/api/v1/disputes/objections",
        {"tender": w.tender.pk, "matter": "tender_docs", "text": "x"},
        content_type="application/json",
        **officer_auth,
    )
    assert r.status_code == 403
    assert client.get("/api/v1/disputes/decisions/999").status_code == 404
    assert counts() == before
