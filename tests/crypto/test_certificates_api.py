"""API for CA mutual recognition: the public list of trusted CAs, staff adding CAs and CRLs, people
registering and listing their own certificates, and the public view of an organisation's."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization

from openbid.accounts import services as accounts
from openbid.crypto.models import PersonCertificate, RevocationList, TrustedCA
from openbid.crypto.testca import TestCA, to_pem
from openbid.crypto.x509 import KeyType
from tests.factories import centre_with_staff, market_entity

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def post(client, url, body, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def get(client, url, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(url, **headers)


def token_for(user) -> str:
    return accounts.issue_api_token(user, name="test")[1]


@pytest.fixture
def cas():
    zhejiang = TestCA.create_root("浙江CA", seed="zj", not_before=T0, organisation="浙江测试CA")
    guangdong = TestCA.create_root(
        "广东CA", seed="gd", not_before=T0, organisation="广东测试CA", key_type=KeyType.P256
    )
    return zhejiang, guangdong


@pytest.fixture
def staff_token(clock):
    return token_for(centre_with_staff()[1])


def add_ca(client, token, ca: TestCA, name: str, region: str):
    response = post(
        client,
        "/api/v1/trust/cas",
        {"name": name, "region_code": region, "certificate_pem": ca.certificate_pem},
        token,
    )
    assert response.status_code == 201, response.content
    return response.json()


def add_crl(client, token, ca_id: int, crl: str):
    return post(client, f"/api/v1/trust/cas/{ca_id}/crls", {"crl": crl}, token)


def test_staff_add_cas_and_crls_and_anyone_lists_the_trusted_cas(client, cas, staff_token, clock):
    zhejiang, guangdong = cas
    zj = add_ca(client, staff_token, zhejiang, "浙江CA", "330000")
    gd = add_ca(client, staff_token, guangdong, "广东CA", "440000")
    assert zj["kind"] == "root" and zj["active"] and len(zj["fingerprint"]) == 64

    pem = to_pem(zhejiang.crl(this_update=clock.now() - DAY))
    created = add_crl(client, staff_token, zj["id"], pem)
    assert created.status_code == 201, created.content
    assert created.json()["ca"] == zj["id"] and created.json()["revoked_count"] == 0
    der = guangdong.crl(this_update=clock.now() - DAY).public_bytes(serialization.Encoding.DER)
    as_base64 = add_crl(client, staff_token, gd["id"], base64.b64encode(der).decode())
    assert as_base64.status_code == 201, as_base64.content
    assert RevocationList.objects.count() == 2

    public = get(client, "/api/v1/trust/cas")
    assert public.status_code == 200
    listed = {ca["name"]: ca for ca in public.json()}
    assert set(listed) == {"浙江CA", "广东CA"}
    assert listed["广东CA"]["region_code"] == "440000"
    assert listed["广东CA"]["fingerprint"] == gd["fingerprint"]
    assert listed["广东CA"]["valid_until"].startswith("2044-")
    assert listed["浙江CA"]["certificate_pem"] == zhejiang.certificate_pem

    wrong = add_crl(client, staff_token, gd["id"], pem)
    assert wrong.status_code == 422
    assert wrong.json()["error"]["rule"] == "crl_issuer"
    assert wrong.json()["error"]["field"] == "crl"
    assert add_crl(client, staff_token, 999, pem).status_code == 404

    gone = post(
        client, f"/api/v1/trust/cas/{gd['id']}/deactivate", {"reason": "停止互认"}, staff_token
    )
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert [ca["name"] for ca in get(client, "/api/v1/trust/cas").json()] == ["浙江CA"]
    everything = get(client, "/api/v1/trust/cas?include_inactive=true").json()
    assert len(everything) == 2


def test_a_bidder_cannot_add_a_ca_or_a_crl(client, cas, clock):
    zhejiang, _ = cas
    _, bidder = market_entity()
    token = token_for(bidder)
    response = post(
        client,
        "/api/v1/trust/cas",
        {"name": "浙江CA", "region_code": "330000", "certificate_pem": zhejiang.certificate_pem},
        token,
    )
    assert response.status_code == 403
    assert response.json()["error"]["rule"] == "role_required"
    anonymous = post(
        client,
        "/api/v1/trust/cas",
        {"name": "浙江CA", "region_code": "330000", "certificate_pem": zhejiang.certificate_pem},
    )
    assert anonymous.status_code == 401
    assert not TrustedCA.objects.exists()


def test_a_person_registers_and_lists_their_own_certificates(client, cas, staff_token, clock):
    zhejiang, guangdong = cas
    for ca, name, region in ((zhejiang, "浙江CA", "330000"), (guangdong, "广东CA", "440000")):
        row = add_ca(client, staff_token, ca, name, region)
        crl = to_pem(ca.crl(this_update=clock.now() - DAY))
        assert add_crl(client, staff_token, row["id"], crl).status_code == 201
    org, user = market_entity()
    other_org, other_user = market_entity()
    token, other_token = token_for(user), token_for(other_user)
    holder = guangdong.issue_person("张三", org.credit_code, seed="zhang", not_before=T0)

    response = post(
        client,
        "/api/v1/certificates",
        {"certificate_pem": holder.signing_certificate_pem, "purpose": "signing"},
        token,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organisation"] == org.credit_code and body["status"] == "active"
    assert base64.b64decode(body["public_key"]) == holder.signing_key.public
    encryption = post(
        client,
        "/api/v1/certificates",
        {"certificate_pem": holder.encryption_certificate_pem, "purpose": "encryption"},
        token,
    )
    assert encryption.status_code == 201, encryption.content

    mine = get(client, "/api/v1/certificates", token).json()
    assert {c["purpose"] for c in mine} == {"signing", "encryption"}
    assert get(client, "/api/v1/certificates", other_token).json() == []
    assert get(client, "/api/v1/certificates").status_code == 401

    # someone else cannot register it: their organisation is not the certificate's
    stolen = post(
        client,
        "/api/v1/certificates",
        {"certificate_pem": to_pem(holder.signing_certificate), "purpose": "signing"},
        other_token,
    )
    assert stolen.status_code == 409  # already registered
    foreign = guangdong.issue_person("李四", org.credit_code, seed="li", not_before=T0)
    refused = post(
        client,
        "/api/v1/certificates",
        {"certificate_pem": foreign.signing_certificate_pem, "purpose": "signing"},
        other_token,
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["rule"] == "certificate_wrong_organisation"
    assert error["reason"] == "wrong_organisation"
    assert error["field"] == "certificate_pem"
    assert org.credit_code in error["message"] and other_org.credit_code in error["message"]

    public = get(client, f"/api/v1/organisations/{org.credit_code}/certificates")
    assert public.status_code == 200
    assert {c["fingerprint"] for c in public.json()} == {
        c.fingerprint for c in PersonCertificate.objects.filter(user=user)
    }
    assert set(public.json()[0]) == {"fingerprint", "purpose", "not_before", "not_after"}
    assert "张三" not in public.content.decode()
    assert get(client, "/api/v1/organisations/91330100MA0000000X/certificates").status_code == 404


def test_a_refused_certificate_reports_the_reason_in_the_error(client, cas, staff_token, clock):
    zhejiang, _ = cas
    add_ca(client, staff_token, zhejiang, "浙江CA", "330000")  # no CRL yet
    org, user = market_entity()
    token = token_for(user)
    holder = zhejiang.issue_person("张三", org.credit_code, seed="zhang", not_before=T0)
    response = post(
        client,
        "/api/v1/certificates",
        {"certificate_pem": holder.signing_certificate_pem, "purpose": "signing"},
        token,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["rule"] == "certificate_crl_missing" and error["reason"] == "crl_missing"
    assert error["field"] == "certificate_pem"
    untrusted = TestCA.create_root("别处CA", seed="elsewhere", not_before=T0)
    stranger = untrusted.issue_person("张三", org.credit_code, seed="zhang", not_before=T0)
    response = post(
        client,
        "/api/v1/certificates",
        {"certificate_pem": stranger.signing_certificate_pem, "purpose": "signing"},
        token,
    )
    assert response.json()["error"]["reason"] == "untrusted"
    assert not PersonCertificate.objects.exists()


def test_the_openapi_document_lists_the_certificate_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/trust/cas",
        "/api/v1/trust/cas/{ca_id}/crls",
        "/api/v1/certificates",
        "/api/v1/organisations/{credit_code}/certificates",
    ):
        assert path in paths
