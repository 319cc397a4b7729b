"""Centre staff configure witnesses in the admin; the admin goes through the services."""

from __future__ import annotations

import pytest

from openbid.core.models import DomainEvent
from openbid.ledger.checkpoint import CosignatureV1Signer
from openbid.ledger.models import Witness
from tests.factories import centre_with_staff, market_entity

pytestmark = pytest.mark.django_db


def test_staff_add_a_witness_and_a_bad_key_is_refused_on_its_field(client):
    _, staff = centre_with_staff()
    client.force_login(staff)
    key = CosignatureV1Signer.generate("witness.example.org").verifier().verifier_key()
    bad = client.post(
        "/admin/ledger/witness/add/",
        {"name": "witness.example.org", "url": "https://w.example.org", "verifier_key": "nonsense"},
    )
    assert bad.status_code == 200
    assert "errorlist" in bad.content.decode()
    assert not Witness.objects.exists()
    ok = client.post(
        "/admin/ledger/witness/add/",
        {"name": "witness.example.org", "url": "https://w.example.org/", "verifier_key": key},
    )
    assert ok.status_code == 302, ok.content.decode()[:2000]
    witness = Witness.objects.get()
    assert witness.url == "https://w.example.org"
    assert DomainEvent.objects.filter(type="ledger.witness.added").count() == 1


def test_bidders_cannot_open_the_ledger_admin(client):
    _, bidder = market_entity()
    client.force_login(bidder)
    assert client.get("/admin/ledger/witness/add/").status_code == 302
