"""The secret obtainer record can be proven after opening: its ledger digest matches the row."""

from __future__ import annotations

import hashlib

import pytest

from openbid.core.models import DomainEvent
from openbid.tendering import services
from tests.factories import market_entity
from tests.tendering.factories import published_tender

pytestmark = pytest.mark.django_db


def test_obtainer_digest_matches_its_salt(clock):
    tender, _manager = published_tender()
    clock.advance(hours=2)
    org, bidder = market_entity()
    obtained = services.obtain_documents(bidder, tender)
    event = DomainEvent.objects.get(type="tendering.documents.obtained")
    expected = hashlib.sha256(
        bytes(obtained.digest_salt) + f"{tender.pk}:{org.credit_code}".encode()
    )
    assert event.private_digest == expected.hexdigest()
