"""The evaluation pages: the pool (centre staff), a committee draw, an expert's assignments."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from openbid.evaluation.models import Committee, CommitteeMember, Expert
from tests.evaluation.helpers import employer, evaluation_day, id_number, opened_tender, pool, staff
from tests.factories import market_entity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client: Client) -> None:
    client.cookies["openbid_language"] = "en"


def test_pool_page_admits_and_suspends(client: Client, clock: Any) -> None:
    centre = staff()
    _org, bidder = market_entity()
    client.force_login(bidder)
    assert client.get("/experts/").status_code == 403
    client.force_login(centre)
    org = employer()
    page = client.get("/experts/")
    assert page.status_code == 200 and "Admit an expert" in page.content.decode()
    form = {
        "name": "钱工",
        "id_number": id_number(555),
        "employer": org.credit_code,
        "region_code": "330106",
        "specialties": ["A0201", "A0601"],
        "qualifications": "一级建造师\n注册造价工程师",
    }
    done = client.post("/experts/", form, follow=True)
    assert "钱工 is admitted" in done.content.decode()
    expert = Expert.objects.get()
    assert expert.qualifications == ["一级建造师", "注册造价工程师"]
    again = client.post("/experts/", form)
    assert "already in the expert pool" in again.content.decode()
    client.post(f"/experts/{expert.pk}/", {"action": "suspend", "reason": "年度考核"})
    expert.refresh_from_db()
    assert expert.status == Expert.Status.SUSPENDED


def test_committee_page_and_assignments(client: Client, clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    pool(staff(), 6)
    client.force_login(manager)
    page = client.get(f"/tenders/{tender.pk}/committee/")
    assert page.status_code == 200 and 'data-testid="draw-form"' in page.content.decode()
    form = {
        "evaluation_date": evaluation_day(clock).isoformat(),
        "specialty_1": "A02",
        "count_1": 4,
        "reserves_1": 0,
        "region_1": "local",
        "representatives": 0,
    }
    refused = client.post(f"/tenders/{tender.pk}/committee/", form)
    assert "at least 5 members" in refused.content.decode()
    assert not Committee.objects.exists()
    drawn = client.post(f"/tenders/{tender.pk}/committee/", {**form, "count_1": 5}, follow=True)
    text = drawn.content.decode()
    assert "The experts are drawn." in text and 'data-testid="verification"' in text
    assert text.count('data-testid="seat"') == 5 and "secret" in text
    seat = CommitteeMember.objects.first()
    assert seat is not None and seat.expert.name not in text

    client.force_login(seat.expert.user)
    mine = client.get("/my/assignments/").content.decode()
    assert f'data-seat="{seat.pk}"' in mine
    client.post("/my/assignments/", {"seat": seat.pk, "action": "decline", "reason": "出差"})
    seat.refresh_from_db()
    assert seat.status == CommitteeMember.Status.DECLINED
    assert CommitteeMember.objects.exclude(status="declined").count() == 5
    _org, outsider = market_entity()
    client.force_login(outsider)
    assert client.get(f"/tenders/{tender.pk}/committee/").status_code == 403


def test_home_pages_link_the_pool_and_assignments(client: Client, clock: Any) -> None:
    with translation.override("en"):
        client.force_login(staff())
        assert "/experts/" in client.get("/").content.decode()
