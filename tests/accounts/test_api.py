"""API tests: registration, status changes, tokens, error shape, and the OpenAPI document."""

from __future__ import annotations

import json

import pytest

from openbid.accounts import services
from openbid.accounts.models import Organisation
from openbid.accounts.roles import OrgType
from openbid.core.models import DomainEvent
from tests.factories import PASSWORD, centre_with_staff, credit_code, market_entity

pytestmark = pytest.mark.django_db


def post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def registration(**overrides):
    body = {
        "name": "杭州某某建设有限公司",
        "credit_code": credit_code(),
        "org_type": OrgType.BIDDER,
        "region_code": "330100",
        "admin_username": "apibidder",
        "admin_password": PASSWORD,
        "accept_commitment": True,
    }
    body.update(overrides)
    return body


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/organisations" in doc["paths"]
    assert "/api/v1/rules" in doc["paths"]
    assert client.get("/api/docs").status_code == 302
    assert client.get("/api/v1/docs").status_code == 200


def test_register_by_api(client):
    response = post(client, "/api/v1/organisations", registration())
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "committed"
    code = response.json()["credit_code"]
    assert client.get(f"/api/v1/organisations/{code}").json()["name"] == "杭州某某建设有限公司"


def test_refusal_shape_names_field_and_rule_in_the_callers_language(client):
    response = post(client, "/api/v1/organisations", registration(region_code="999999"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "region_code"
    assert error["rule"] == "gb2260_region"
    assert "999999" in error["message"]
    english = post(client, "/api/v1/organisations?lang=en", registration(region_code="999999"))
    assert english.json()["error"]["message"] != error["message"]
    assert Organisation.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "credit_code"),
        ({**registration(), "accept_commitment": "perhaps"}, "accept_commitment"),
        ({**registration(), "credit_code": "9" * 40}, "credit_code"),
    ],
)
def test_malformed_payloads_name_the_field(client, body, field):
    response = post(client, "/api/v1/organisations", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["rule"] == "schema"
    assert error["field"] == field
    assert Organisation.objects.count() == 0


def test_not_json_at_all(client):
    response = client.post(
        "/api/v1/organisations", data="{not json", content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_status_change_needs_authentication_and_role(client):
    _, staff = centre_with_staff()
    org, bidder = market_entity()
    url = f"/api/v1/organisations/{org.credit_code}/suspend"
    assert post(client, url, {"reason": "x"}).status_code == 401
    _token, bidder_token = services.issue_api_token(bidder, name="t")
    refused = post(client, url, {"reason": "x"}, HTTP_AUTHORIZATION=f"Bearer {bidder_token}")
    assert refused.status_code == 403
    assert refused.json()["error"]["rule"] == "role_required"
    _token, staff_token = services.issue_api_token(staff, name="t")
    ok = post(client, url, {"reason": "虚假材料"}, HTTP_AUTHORIZATION=f"Bearer {staff_token}")
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "suspended"


def test_session_api_calls_are_csrf_checked(client):
    from django.test import Client

    _, staff = centre_with_staff()
    org, _ = market_entity()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff)
    response = post(csrf_client, f"/api/v1/organisations/{org.credit_code}/verify", {})
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.status == Organisation.Status.COMMITTED


def test_tokens_and_me(client):
    org, user = market_entity(OrgType.TENDERER)
    client.force_login(user)
    created = post(client, "/api/v1/tokens", {"name": "ERP"})
    assert created.status_code == 201
    raw = created.json()["token"]
    client.logout()
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200
    assert me.json()["memberships"][0]["organisation"] == org.credit_code
    client.force_login(user)
    assert client.delete(f"/api/v1/tokens/{created.json()['id']}").status_code == 204
    client.logout()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_events_feed_pages_by_sequence(client):
    for _ in range(3):
        market_entity()
    first = client.get("/api/v1/events?limit=2").json()
    assert len(first) == 2
    rest = client.get(f"/api/v1/events?after={first[-1]['seq']}").json()
    seqs = [e["seq"] for e in first + rest]
    assert seqs == sorted(seqs) == list(DomainEvent.objects.values_list("id", flat=True))


def test_regions(client):
    provinces = client.get("/api/v1/regions").json()
    assert any(r["code"] == "330000" for r in provinces)
    cities = client.get("/api/v1/regions?parent=330000").json()
    assert any(r["code"] == "330100" for r in cities)
    assert client.get("/api/v1/regions?parent=990000").status_code == 422


def test_unknown_objects_answer_in_the_error_shape(client):
    response = client.get("/api/v1/organisations/91330100MA0000000X")
    assert response.status_code == 404
    assert response.json()["error"]["rule"] == "exists"


def test_refusal_times_are_in_china_time():
    import datetime as dt

    from openbid.core.errors import InvalidInput

    moment = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    assert InvalidInput("x", at=moment).as_dict()["at"] == "2026-03-02T09:30:00+08:00"
