"""The evaluation session through the API: start, sign-in signed with the certificate through the
documents endpoint, the blind review without names, scores, results, the report; refusals in the
API's error shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from openbid.evaluation import session as evaluation
from openbid.evaluation.models import EvaluationSession
from tests.evaluation.session_helpers import VENUES, ready
from tests.evaluation.test_session import C1, REASON, T1
from tests.opening.test_api import API, bearer, post

pytestmark = pytest.mark.django_db


def put(client: Client, url: str, body: Any, auth: dict[str, str]) -> Any:
    return client.put(API + url, data=json.dumps(body), content_type="application/json", **auth)


def test_an_evaluation_through_the_api(client: Client, clock: Any) -> None:
    r = ready(clock)
    url = f"/tenders/{r.tender.pk}/evaluation"
    manager = bearer(r.manager)
    auth = {m.pk: bearer(r.user(m)) for m in r.members}
    bidder = bearer(r.sealed[0].user)

    assert client.get(API + url, **manager).status_code == 404
    bad = post(client, url, {"venues": [VENUES[1]]}, manager)
    assert bad.status_code == 422 and bad.json()["error"]["rule"] == "main_venue"
    assert post(client, url, {"venues": VENUES}, bidder).status_code == 403
    started = post(client, url, {"venues": VENUES}, manager)
    assert started.status_code == 201, started.content
    state = started.json()
    assert state["status"] == "technical" and state["coefficient"]["value"] == "0.97"
    assert client.get(API + url, **bidder).status_code == 404  # bidders follow once it is done

    # Sign in: the platform's document, signed with the certificate through the documents API.
    for n, m in enumerate(r.members):
        venue = state["venues"][n % 2]["id"]
        doc = post(client, url + "/check-in", {"venue": venue}, auth[m.pk]).json()
        body = r.body(m, doc["kind"], doc["id"], doc["sha256"])
        signed = post(client, f"/documents/{doc['kind']}/{doc['id']}/signatures", body, auth[m.pk])
        assert signed.status_code == 201, signed.content
    state = client.get(API + url, **manager).json()
    assert sum(v["present"] for v in state["venues"]) == 5
    assert all(a["name"] is None for a in state["attendance"])  # names stay secret

    # The blind review names no bidder.
    names = [x.org.name for x in r.sealed]
    first = r.members[0]
    listing = client.get(API + url + "/blind", **auth[first.pk])
    assert listing.status_code == 200
    assert not any(name in listing.content.decode() for name in names)
    code = listing.json()[0]["code"]
    file = client.get(API + url + f"/blind/{code}/files/1", **auth[first.pk])
    assert file.status_code == 200 and code in file["Content-Disposition"]
    assert client.get(API + url + "/blind", **manager).status_code == 403

    s = EvaluationSession.objects.get(tender=r.tender)
    for n, m in enumerate(r.members):
        rows = [
            {
                "bid": evaluation.code_of(s, r.bid_of(p).pk),
                "criterion": "T1",
                "points": str(v[n]),
                "reason": REASON if v[n] == 12 else "",
            }
            for p, v in T1.items()
        ]
        out_of_range = put(
            client, url + "/sheets/technical", {"scores": [{**rows[0], "points": "31"}]}, auth[m.pk]
        )
        assert out_of_range.status_code == 422
        assert out_of_range.json()["error"]["rule"] == "score_range"
        sheet = put(client, url + "/sheets/technical", {"scores": rows}, auth[m.pk]).json()
        assert not any(name in json.dumps(sheet, ensure_ascii=False) for name in names)
        post(client, url + "/sheets/technical/submit", {}, auth[m.pk])
    for m in r.members:
        sheet = client.get(API + url + "/sheets/technical", **auth[m.pk]).json()
        body = r.body(m, sheet["kind"], sheet["id"], sheet["sha256"])
        signed = post(
            client, f"/documents/{sheet['kind']}/{sheet['id']}/signatures", body, auth[m.pk]
        )
        assert signed.status_code == 201, signed.content
    state = client.get(API + url, **auth[first.pk]).json()
    assert state["status"] == "commercial" and state["blind"]["plan"]["secret"]

    for n, m in enumerate(r.members):
        rows = [
            {"bid": str(r.bid_of(p).pk), "criterion": "C1", "points": str(v[n])}
            for p, v in C1.items()
        ]
        put(client, url + "/sheets/commercial", {"scores": rows}, auth[m.pk])
        post(client, url + "/sheets/commercial/submit", {}, auth[m.pk])
    for m in r.members:
        sheet = client.get(API + url + "/sheets/commercial", **auth[m.pk]).json()
        body = r.body(m, sheet["kind"], sheet["id"], sheet["sha256"])
        post(client, f"/documents/{sheet['kind']}/{sheet['id']}/signatures", body, auth[m.pk])

    chair = auth[r.chair.pk]
    other = auth[r.members[1].pk]
    assert post(client, url + "/results", {}, other).status_code == 403
    state = post(client, url + "/results", {}, chair).json()
    assert [row["total"] for row in state["result"]["bids"]] == ["83.82", "83.24", "74.97"]
    state = post(client, url + "/report", {}, chair).json()
    report = state["report"]
    assert client.get(API + url + "/report.pdf", **manager).status_code == 404
    assert client.get(API + url + "/report.pdf", **chair).status_code == 200
    for m in r.members:
        body = r.body(m, report["kind"], report["id"], report["sha256"])
        post(client, f"/documents/{report['kind']}/{report['id']}/signatures", body, auth[m.pk])
    state = client.get(API + url, **manager).json()
    assert state["status"] == "completed" and state["report"]["signatures"] == 5
    pdf = client.get(API + url + "/report.pdf", **manager)
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    centre = bearer(r.centre)
    fees = client.get(API + url + "/fees", **centre).json()
    assert len(fees) == 5 and fees[0]["status"] == "payable"
    assert len(client.get(API + url + "/fees", **auth[first.pk]).json()) == 1
    paid = post(client, f"/evaluation-fees/{fees[0]['id']}/paid", {"reference": "PAY-1"}, centre)
    assert paid.json()["status"] == "paid"


def test_clarifications_through_the_api(client: Client, clock: Any) -> None:
    r = ready(clock, prices=("9600000.00", "7000000.00", "9900000.00"))
    evaluation.start_session(r.manager, r.tender, venues=VENUES)
    low = next(x for x in r.sealed if x.bid.opening.price == 7000000)
    mine = client.get(API + "/my/clarification-requests", **bearer(low.user)).json()
    assert len(mine) == 1 and mine[0]["answer"] == ""
    answered = post(
        client,
        f"/clarification-requests/{mine[0]['id']}/answer",
        {"answer": "主材自有"},
        bearer(low.user),
    )
    assert answered.status_code == 200 and answered.json()["answer"] == "主材自有"
    again = post(
        client, f"/clarification-requests/{mine[0]['id']}/answer", {"answer": "x"}, bearer(low.user)
    )
    assert again.status_code == 409
