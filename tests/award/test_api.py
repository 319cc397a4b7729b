"""The award through the API: the public award, decision, notices, signing through the documents
API, the contract, payments and the written reports; errors in the one shape."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from openbid.accounts.services import issue_api_token
from openbid.award import services
from openbid.award.models import Decision
from openbid.crypto.document_message import signing_message
from openbid.crypto.suites import get_suite
from tests.award import helpers as h
from tests.factories import centre_with_staff, regulator_with_staff

pytestmark = pytest.mark.django_db
API = "/api/v1"


def auth(user: Any) -> dict[str, str]:
    _token, raw = issue_api_token(user, name="test client")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client: Client, url: str, body: Any, headers: dict[str, str]) -> Any:
    return client.post(API + url, data=json.dumps(body), content_type="application/json", **headers)


def sign_body(user: Any, org: Any, kind: str, doc: int, sha: str) -> dict[str, str]:
    key = h.signing_key(user, org)
    suite = get_suite(h.SUITE)
    return {
        "sha256": sha,
        "signature": base64.b64encode(
            suite.sign(key.private, signing_message(kind, doc, sha))
        ).decode(),
        "public_key": base64.b64encode(key.public).decode(),
    }


def test_award_through_the_api(client: Client, clock: Any) -> None:
    publicity, manager, sealed = h.in_publicity(clock)
    tender = publicity.tender
    me = auth(manager)
    public = client.get(f"{API}/tenders/{tender.pk}/award").json()
    assert public["publicities"][0]["in_publicity"] is True
    assert [c["rank"] for c in public["publicities"][0]["candidates"]] == [1, 2, 3]

    early = post(client, f"/award/publicities/{publicity.pk}/decision", {}, me)
    assert early.status_code == 409
    error = early.json()["error"]
    assert error["rule"] == "publicity_min" and error["article"] == "Reg art. 54" and error["at"]

    bad = post(client, f"/award/publicities/{publicity.pk}/decision", {"colour": "red"}, me)
    assert bad.status_code == 422 and bad.json()["error"]["rule"] == "schema"

    h.after_publicity(clock, publicity)
    first = publicity.candidates.get(position=1)
    made = post(
        client,
        f"/award/publicities/{publicity.pk}/decision",
        {"passed_over": [{"candidate": first.pk, "reason": "gave_up", "explanation": "书面放弃"}]},
        me,
    )
    assert made.status_code == 201, made.content
    assert made.json()["method"] == "next_ranked"
    decision = Decision.objects.get()

    notices = post(client, f"/award/decisions/{decision.pk}/notices", {}, me)
    assert notices.status_code == 201
    award = next(n for n in notices.json() if n["kind"] == "award")
    signing = client.get(f"{API}/documents/award-notice/{award['id']}/signing", **me).json()
    assert signing["sha256"] == award["sha256"]
    tenderer = tender.project.tenderer
    signed = post(
        client,
        f"/documents/award-notice/{award['id']}/signatures",
        sign_body(manager, tenderer, "award-notice", award["id"], award["sha256"]),
        me,
    )
    assert signed.status_code == 201, signed.content

    staff = centre_with_staff()[1]
    template = post(
        client, "/award/contract-templates", {"name": "范本", "body": h.TEMPLATE}, auth(staff)
    )
    assert template.status_code == 201
    wrong = post(
        client,
        f"/award/decisions/{decision.pk}/contract",
        {
            "template": template.json()["id"],
            "duration_days": 300,
            "key_terms": "条款",
            "price": "1.00",
        },
        me,
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["rule"] == "contract_terms_match"
    drafted = post(
        client,
        f"/award/decisions/{decision.pk}/contract",
        {"template": template.json()["id"], "duration_days": 300, "key_terms": "条款"},
        me,
    )
    assert drafted.status_code == 201
    contract = drafted.json()
    sha = contract["versions"][0]["sha256"]
    # Not public before it is signed.
    assert client.get(f"{API}/award/contracts/{contract['id']}").status_code == 404
    winner = next(s for s in sealed if s.org.credit_code == contract["winner"])
    for user, org in ((manager, tenderer), (winner.user, winner.org)):
        r = post(
            client,
            f"/documents/contract/{contract['id']}/signatures",
            sign_body(user, org, "contract", contract["id"], sha),
            auth(user),
        )
        assert r.status_code == 201, r.content
    published = client.get(f"{API}/award/contracts/{contract['id']}").json()
    assert published["signed_at"] and published["versions"][0]["published_at"]
    assert [c["number"] for c in client.get(f"{API}/award/contracts").json()] == [
        contract["number"]
    ]

    paid = post(
        client,
        f"/award/contracts/{contract['id']}/payments",
        {
            "amount": "1000000.00",
            "paid_on": str(clock.now().date()),
            "milestone": "预付款",
            "reference": "P1",
        },
        me,
    )
    assert paid.status_code == 201, paid.content
    listing = client.get(f"{API}/award/contracts/{contract['id']}/payments", **me).json()
    assert listing["total"] == "1000000.00"
    evaluated = post(
        client,
        f"/award/contracts/{contract['id']}/performance",
        {"milestone": "竣工", "rating": "good", "comments": "良好", "final": True},
        me,
    )
    assert evaluated.status_code == 201
    credit = post(client, f"/award/performance/{evaluated.json()['id']}/credit", {}, auth(staff))
    assert credit.status_code == 201 and credit.json()["category"] == "good"

    report = post(client, f"/tenders/{tender.pk}/award/written-report", {}, me)
    assert report.status_code == 201 and report.json()["late"] is False
    _org, regulator = regulator_with_staff(staff)
    reports = client.get(f"{API}/award/written-reports", **auth(regulator)).json()
    assert [r["tender"] for r in reports] == [tender.pk]
    assert client.get(f"{API}/award/written-reports", **me).status_code == 403


def test_suspend_and_resume_through_the_api(client: Client, clock: Any) -> None:
    publicity, manager, sealed = h.in_publicity(clock)
    tender = publicity.tender
    me = auth(manager)
    assert (
        post(
            client, f"/tenders/{tender.pk}/award/suspend", {"reason": "异议"}, auth(sealed[0].user)
        ).status_code
        == 403
    )
    assert (
        post(client, f"/tenders/{tender.pk}/award/suspend", {"reason": "异议"}, me).status_code
        == 201
    )
    assert client.get(f"{API}/tenders/{tender.pk}/award").json()["suspended"] == "异议"
    assert post(client, f"/tenders/{tender.pk}/award/resume", {}, me).status_code == 200
    assert services.award_blocked(tender) is None
