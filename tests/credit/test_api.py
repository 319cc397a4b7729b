"""Credit API: public credit, the full working, recording, repair end to end, imports, errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openbid.accounts import services as accounts
from openbid.credit.models import CreditRecord
from tests.credit.helpers import credit_counts, make_record, record_fields
from tests.factories import market_entity

pytestmark = pytest.mark.django_db

D = dt.date


def bearer(user):
    _token, raw = accounts.issue_api_token(user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def body(**overrides):
    data = record_fields(**overrides)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}


def test_staff_record_through_the_api_and_the_public_sees_the_grade(client, staff, bidder):
    org, _user = bidder
    response = client.post(
        "/api/v1/credit/records",
        {**body(), "credit_code": org.credit_code},
        content_type="application/json",
        **bearer(staff),
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    public = client.get(f"/api/v1/credit/entities/{org.credit_code}").json()
    assert public["grade"] == "A" and public["score"] == "82.00"
    assert [r["number"] for r in public["public_records"]] == [number]
    line = public["working"]["lines"][0]
    assert (line["record"], line["points"], line["counts"]) == (number, "-8.00", True)
    assert public["working"]["thresholds"]["AAA"] == "95.00"


def test_non_public_records_count_but_show_only_in_the_own_working(client, staff, bidder):
    org, user = bidder
    rec = make_record(staff, org, is_public=False, category="minor")
    public = client.get(f"/api/v1/credit/entities/{org.credit_code}").json()
    assert public["score"] == "88.00" and public["public_records"] == []
    assert public["working"]["lines"] == []
    assert client.get(f"/api/v1/credit/records/{rec.number}").status_code == 404
    own = client.get(f"/api/v1/credit/entities/{org.credit_code}/working", **bearer(user)).json()
    assert [ln["record"] for ln in own["lines"]] == [rec.number] and own["score"] == "88.00"
    _other, stranger = market_entity()
    refused = client.get(f"/api/v1/credit/entities/{org.credit_code}/working", **bearer(stranger))
    assert refused.status_code == 403


def test_refusals_have_the_error_shape_and_write_nothing(client, staff, bidder):
    org, user = bidder
    staff_auth, user_auth = bearer(staff), bearer(user)
    before = credit_counts()
    response = client.post(
        "/api/v1/credit/records",
        {**body(legal_basis=""), "credit_code": org.credit_code},
        content_type="application/json",
        **staff_auth,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["field"], error["rule"]) == ("legal_basis", "credit_record_legal_basis")
    response = client.post(
        "/api/v1/credit/records",
        {**body(), "credit_code": org.credit_code},
        content_type="application/json",
        **user_auth,
    )
    assert response.status_code == 403
    assert credit_counts() == before


def test_repair_end_to_end_through_the_api(client, staff, bidder):
    org, user = bidder
    rec = make_record(staff, org, decided_on=D(2025, 11, 1), valid_from=D(2025, 11, 1))
    response = client.post(
        f"/api/v1/credit/records/{rec.number}/repairs",
        {
            "statement": "已完成整改。",
            "evidence": SimpleUploadedFile("整改.pdf", b"%PDF-1.7 x", "application/pdf"),
        },
        **bearer(user),
    )
    assert response.status_code == 201, response.content
    application = response.json()
    assert application["status"] == "submitted" and application["evidence_name"] == "整改.pdf"
    mine = client.get("/api/v1/credit/repairs", **bearer(user)).json()
    assert [a["id"] for a in mine] == [application["id"]]
    pk = application["id"]
    assert client.post(f"/api/v1/credit/repairs/{pk}/accept", **bearer(user)).status_code == 403
    accepted = client.post(f"/api/v1/credit/repairs/{pk}/accept", **bearer(staff))
    assert accepted.json()["status"] == "under_review"
    decided = client.post(
        f"/api/v1/credit/repairs/{pk}/decide",
        {"approve": True, "reason": "整改到位。"},
        content_type="application/json",
        **bearer(staff),
    )
    assert decided.json()["status"] == "approved"
    rec.refresh_from_db()
    assert rec.status == CreditRecord.Status.REPAIRED
    public = client.get(f"/api/v1/credit/entities/{org.credit_code}").json()
    assert public["grade"] == "AA" and public["public_records"] == []
    assert public["repaired"] == [rec.number]


def test_repair_too_early_names_the_date(client, staff, bidder):
    org, user = bidder
    rec = make_record(staff, org)
    response = client.post(
        f"/api/v1/credit/records/{rec.number}/repairs", {"statement": "x"}, **bearer(user)
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["rule"], error["at"]) == ("penalty_display", "2026-04-05")


def test_supersede_revoke_and_import(client, staff, bidder):
    org, _user = bidder
    rec = make_record(staff, org)
    response = client.post(
        f"/api/v1/credit/records/{rec.number}/supersede",
        {"reason": "更正", "category": "minor"},
        content_type="application/json",
        **bearer(staff),
    )
    assert response.status_code == 201 and response.json()["supersedes"] == rec.number
    new = response.json()["number"]
    revoked = client.post(
        f"/api/v1/credit/records/{new}/revoke",
        {"reason": "撤销"},
        content_type="application/json",
        **bearer(staff),
    )
    assert revoked.json()["status"] == "revoked"
    rows = [
        {
            **body(),
            "record_number": "XY-9",
            "credit_code": org.credit_code,
            "source": "external",
        }
    ]
    created = client.post(
        "/api/v1/credit/imports",
        {"source_platform": "信用中国", "records": rows},
        content_type="application/json",
        **bearer(staff),
    )
    assert created.status_code == 201 and created.json()[0]["external_id"] == "XY-9"
    again = client.post(
        "/api/v1/credit/imports",
        {"source_platform": "信用中国", "records": rows},
        content_type="application/json",
        **bearer(staff),
    )
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "records.1.external_id"
    listing = client.get("/api/v1/credit/serious-list").json()
    assert listing["records"] == []
