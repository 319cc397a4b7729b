"""Award pages: what each role sees and may do; refusals shown as messages, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openbid.award.models import Decision
from tests.award import helpers as h
from tests.factories import PASSWORD, centre_with_staff, regulator_with_staff

pytestmark = pytest.mark.django_db


def login(client: Client, user: Any) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_public_sees_publicity_decision_and_published_contract(client: Client, clock: Any) -> None:
    contract, _manager, _sealed = h.signed_contract(clock)
    tender = contract.decision.publicity.tender
    page = client.get(reverse("award:tender", args=[tender.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert contract.winner.name in text and "decide-form" not in text
    assert client.get(reverse("award:contract", args=[contract.pk])).status_code == 200
    assert contract.number in client.get(reverse("award:contracts")).content.decode()
    assert (
        reverse("award:tender", args=[tender.pk])
        in client.get(reverse("tendering:tender", args=[tender.pk])).content.decode()
    )


def test_the_tenderer_decides_on_the_page_and_a_refusal_writes_nothing(
    client: Client, clock: Any
) -> None:
    publicity, manager, _sealed = h.in_publicity(clock)
    login(client, manager)
    url = reverse("award:tender", args=[publicity.tender_id])
    assert "decide-form" not in client.get(url).content.decode()  # still in publicity
    refused = client.post(reverse("award:decide", args=[publicity.pk]), follow=True)
    assert not Decision.objects.exists()
    assert "publicity" in refused.content.decode().lower() or refused.status_code == 200
    h.after_publicity(clock, publicity)
    assert "decide-form" in client.get(url).content.decode()
    client.post(reverse("award:decide", args=[publicity.pk]))
    assert Decision.objects.get().winner.position == 1
    client.post(reverse("award:prepare_notices", args=[Decision.objects.get().pk]))
    assert "sign-notice-link" in client.get(url).content.decode()


def test_a_drafted_contract_is_for_its_parties_until_signed(client: Client, clock: Any) -> None:
    contract, _manager, sealed = h.drafted(clock)
    url = reverse("award:contract", args=[contract.pk])
    assert client.get(url).status_code == 404
    winner = h.winner_of(contract, sealed)
    page = login(client, winner.user).get(url)
    assert page.status_code == 200 and "sign-form" in page.content.decode()
    loser = next(s for s in sealed if s.org.pk != contract.winner_id)
    other = Client()
    assert login(other, loser.user).get(url).status_code == 404
    mine = client.get(reverse("award:my_notices")).content.decode()
    assert contract.number in mine


def test_staff_and_regulators_see_reports_and_templates(client: Client, clock: Any) -> None:
    decision, manager, _sealed = h.decided(clock)
    staff = centre_with_staff()[1]
    _org, regulator = regulator_with_staff(staff)
    assert login(client, manager).get(reverse("award:reports")).status_code == 404
    client.logout()
    page = login(client, regulator).get(reverse("award:reports"))
    assert decision.publicity.tender.title in page.content.decode()
    client.logout()
    login(client, staff)
    client.post(reverse("award:templates"), {"name": "范本", "body": h.TEMPLATE, "kind": "works"})
    assert "范本" in client.get(reverse("award:templates")).content.decode()
