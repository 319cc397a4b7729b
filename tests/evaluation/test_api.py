"""The evaluation API: the pool, a committee drawn and answered, draws exported and verified."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from openbid.accounts.services import issue_api_token
from openbid.draws.models import Draw
from openbid.draws.verify import verify_export
from openbid.evaluation.models import CommitteeMember, Expert
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from tests.evaluation.helpers import employer, evaluation_day, id_number, opened_tender, pool, staff
from tests.factories import market_entity

pytestmark = pytest.mark.django_db

API = "/api/v1"


def bearer(user: Any) -> dict[str, str]:
    _token, raw = issue_api_token(user, name="test client")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client: Client, url: str, body: Any, auth: dict[str, str]) -> Any:
    return client.post(API + url, data=json.dumps(body), content_type="application/json", **auth)


def test_pool_through_the_api(client: Client, clock: Any) -> None:
    centre = bearer(staff())
    org = employer()
    body = {
        "name": "赵工",
        "id_number": id_number(901),
        "employer": org.credit_code,
        "region_code": "330106",
        "specialties": ["A0201"],
        "qualifications": ["注册造价工程师"],
    }
    created = post(client, "/experts", body, centre)
    assert created.status_code == 201, created.content
    expert = created.json()
    assert expert["specialties"] == ["A0201"] and "id_number" not in expert
    again = post(client, "/experts", body, centre)
    assert again.status_code == 409 and again.json()["error"]["field"] == "id_number"
    bad = post(client, "/experts", {**body, "id_number": id_number(902)[:-1] + "0"}, centre)
    assert bad.status_code == 422 and bad.json()["error"]["rule"] == "gb11643"
    _org, bidder = market_entity()
    assert client.get(API + "/experts", **bearer(bidder)).status_code == 403
    assert len(client.get(API + "/experts", **centre).json()) == 1
    suspended = post(client, f"/experts/{expert['id']}/suspend", {"reason": "考核"}, centre)
    assert suspended.json()["status"] == "suspended"
    removed = post(client, f"/experts/{expert['id']}/remove", {"reason": "清退"}, centre)
    assert removed.json()["status"] == "removed"
    refused = post(client, f"/experts/{expert['id']}/reinstate", {"reason": "x"}, centre)
    assert refused.status_code == 409
    away = post(
        client,
        f"/experts/{expert['id']}/unavailability",
        {"start": "2026-04-01", "end": "2026-04-03"},
        centre,
    )
    assert away.status_code == 201


def test_committee_through_the_api(client: Client, clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    experts = pool(staff(), 7)
    body = {
        "evaluation_date": evaluation_day(clock).isoformat(),
        "groups": [{"specialty": "A02", "count": 5, "region": "local"}],
    }
    _org, outsider = market_entity()
    assert (
        post(client, f"/tenders/{tender.pk}/committee", body, bearer(outsider)).status_code == 403
    )
    even = {**body, "groups": [{"specialty": "A02", "count": 4}]}
    refused = post(client, f"/tenders/{tender.pk}/committee", even, bearer(manager))
    assert refused.status_code == 422
    assert refused.json()["error"]["rule"] == "committee_min"
    assert refused.json()["error"]["article"] == "Law art. 37"

    created = post(client, f"/tenders/{tender.pk}/committee", body, bearer(manager))
    assert created.status_code == 201, created.content
    state = created.json()
    assert state["status"] == "confirming" and len(state["seats"]) == 5
    assert all(s["name"] is None for s in state["seats"])  # the manager does not see names
    assert state["draws"][0]["seed"] and state["draws"][0]["checkpoint_size"]
    assert (
        client.get(API + f"/tenders/{tender.pk}/committee", **bearer(outsider)).status_code == 404
    )
    seen_by_staff = client.get(API + f"/tenders/{tender.pk}/committee", **bearer(staff())).json()
    assert all(s["name"] for s in seen_by_staff["seats"])

    # The draw's export: redacted for the public, and it still verifies.
    draw_id = state["draws"][0]["id"]
    public = client.get(API + f"/draws/{draw_id}").json()
    assert public["redacted"] and public["result"] is None
    assert verify_export(public, lambda _line: None).passed
    full = client.get(API + f"/draws/{draw_id}", **bearer(staff())).json()
    assert full["result"] is not None and verify_export(full, lambda _line: None).passed

    # Experts answer.
    seats = CommitteeMember.objects.filter(committee__tender=tender).order_by("pk")
    first = seats[0]
    expert_auth = bearer(first.expert.user)
    mine = client.get(API + "/experts/me/assignments", **expert_auth).json()
    assert [a["seat"] for a in mine] == [first.pk]
    own_view = client.get(API + f"/tenders/{tender.pk}/committee", **expert_auth).json()
    assert [s["name"] for s in own_view["seats"] if s["name"]] == [first.expert.name]
    other = bearer(seats[1].expert.user)
    assert post(client, f"/committee-seats/{first.pk}/confirm", {}, other).status_code == 404
    no_reason = post(client, f"/committee-seats/{first.pk}/decline", {"reason": ""}, expert_auth)
    assert no_reason.status_code == 422
    declined = post(
        client, f"/committee-seats/{first.pk}/decline", {"reason": "时间冲突"}, expert_auth
    )
    assert declined.json()["status"] == "declined"
    after = client.get(API + f"/tenders/{tender.pk}/committee", **bearer(manager)).json()
    assert len(after["draws"]) == 2 and after["draws"][1]["previous"] == draw_id
    assert after["draws"][1]["status"] == "performed" and after["missing_seats"] == {}
    for seat in CommitteeMember.objects.filter(
        committee__tender=tender, status=CommitteeMember.Status.INVITED
    ):
        ok = post(client, f"/committee-seats/{seat.pk}/confirm", {}, bearer(seat.expert.user))
        assert ok.status_code == 200
    formed = client.get(API + f"/tenders/{tender.pk}/committee", **bearer(manager)).json()
    assert formed["status"] == "formed"
    voters = CommitteeMember.objects.filter(
        committee__tender=tender, status=CommitteeMember.Status.CONFIRMED
    ).order_by("pk")
    for voter in voters[:3]:
        voted = post(
            client,
            f"/tenders/{tender.pk}/committee/chair-votes",
            {"seat": voters[0].pk},
            bearer(voter.expert.user),
        )
        assert voted.status_code == 201, voted.content
    assert voted.json()["chair_seat"] == voters[0].pk

    # Published with the result: anyone sees the names and the full draws.
    Tender.objects.filter(pk=tender.pk).update(status=State.PUBLICITY)
    published = client.get(API + f"/tenders/{tender.pk}/committee").json()
    assert all(s["name"] for s in published["seats"])
    names = {s["name"] for s in published["seats"] if s["status"] == "confirmed"}
    assert names <= {e.name for e in experts}
    doc = client.get(API + f"/draws/{draw_id}").json()
    assert doc["result"] is not None and not doc["redacted"]
    assert Draw.objects.filter(published_at__isnull=False).count() == 2
    assert Expert.objects.count() == 7
