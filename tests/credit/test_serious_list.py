"""The serious-dishonesty list at the doors: a listed bidder cannot obtain tender documents or
submit a bid while listed, and the refusal names the record and the last day of the listing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io

import pytest
from django.utils import translation

from openbid.bidding import services as bidding
from openbid.bidding.models import Bid, BidUpload
from openbid.core.errors import NotAllowed
from openbid.credit import gate, services
from openbid.crypto.suites import get_suite
from openbid.tendering import services as tendering
from openbid.tendering.models import DocumentObtainer
from tests.bidding.test_services import SUITE, seal, submit
from tests.certificates import certify
from tests.credit.helpers import make_record
from tests.factories import market_entity
from tests.tendering.factories import published_tender, row_counts

pytestmark = pytest.mark.django_db

D = dt.date


def listing_fields(**overrides):
    return {
        "source": "admin_penalty",
        "category": "serious",
        "serious_list": True,
        "title": "串通投标",
        "document_number": "测发改罚〔2026〕9号",
        "decided_on": D(2026, 2, 1),
        "valid_from": D(2026, 2, 1),
        "valid_until": D(2027, 1, 31),
        **overrides,
    }


@pytest.fixture
def open_tender(clock):
    tender, _manager = published_tender()
    clock.advance(hours=2)
    return tender


def test_a_listed_bidder_cannot_obtain_documents(staff, open_tender):
    org, user = market_entity()
    rec = make_record(staff, org, **listing_fields())
    before = row_counts()
    with translation.override("en"), pytest.raises(NotAllowed) as caught:
        tendering.obtain_documents(user, open_tender)
    error = caught.value
    assert error.rule == "credit_serious_list_bidding_ban" and error.field == "tender"
    assert rec.number in str(error) and "until 2027-01-31" in str(error)
    assert "Obtaining tender documents is refused" in str(error)
    assert error.at == D(2027, 2, 1)
    assert row_counts() == before
    assert not DocumentObtainer.objects.filter(organisation=org).exists()


def test_a_bidder_listed_after_obtaining_cannot_start_an_upload(staff, open_tender):
    org, user = market_entity()
    tendering.obtain_documents(user, open_tender)
    rec = make_record(staff, org, **listing_fields())
    _s, envelope, _signing, _e = seal(b"bid")
    with translation.override("en"), pytest.raises(NotAllowed) as caught:
        bidding.start_upload(
            user,
            open_tender.sections.first(),
            size=len(envelope),
            sha256=hashlib.sha256(envelope).hexdigest(),
        )
    assert caught.value.rule == "credit_serious_list_bidding_ban"
    assert "Submitting a bid is refused" in str(caught.value) and rec.number in str(caught.value)
    assert not BidUpload.objects.exists()


def test_a_bidder_listed_during_its_upload_cannot_commit(staff, open_tender):
    org, user = market_entity()
    tendering.obtain_documents(user, open_tender)
    section = open_tender.sections.first()
    suite = get_suite(SUITE)
    _s, envelope, signing, _e = seal(b"bid")
    certify(user, org, SUITE, signing)
    sha = hashlib.sha256(envelope).hexdigest()
    upload = bidding.start_upload(user, section, size=len(envelope), sha256=sha)
    bidding.append_chunk(
        user, upload.pk, offset=0, stream=io.BytesIO(envelope), length=len(envelope)
    )
    rec = make_record(staff, org, **listing_fields())
    commitment = suite.hash(b"bid").hex()
    message = bidding.commitment_message(section, org, sha, commitment)
    with pytest.raises(NotAllowed) as caught:
        bidding.commit_bid(
            user,
            upload.pk,
            suite=SUITE,
            commitment=commitment,
            signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
            public_key=base64.b64encode(signing.public).decode(),
        )
    assert caught.value.rule == "credit_serious_list_bidding_ban" and rec.number in str(
        caught.value
    )
    assert not Bid.objects.exists()


def test_listing_ends_with_its_period_and_with_repair(staff, open_tender, clock):
    org, user = market_entity()
    rec = make_record(
        staff,
        org,
        **listing_fields(
            decided_on=D(2025, 1, 2), valid_from=D(2025, 1, 2), valid_until=D(2026, 12, 31)
        ),
    )
    assert gate.listing(org) == rec
    assert gate.listing(org, D(2027, 1, 1)) is None
    assert gate.listing(org, D(2025, 1, 1)) is None
    application = services.apply_for_repair(user, rec, statement="已整改并信用承诺。")
    services.accept_repair(staff, application)
    services.decide_repair(staff, application, approve=True, reason="符合提前移出条件。")
    assert gate.listing(org) is None
    obtained = tendering.obtain_documents(user, open_tender)
    assert obtained.organisation == org
    _s, envelope, signing, _e = seal(b"bid")
    bid = submit(user, open_tender.sections.first(), org, envelope, signing, plaintext=b"bid")
    assert bid.status == Bid.Status.VALID


def test_other_records_and_revoked_listings_do_not_block(staff, open_tender):
    org, user = market_entity()
    make_record(staff, org, category="serious", document_number="S-1")  # serious, not listed
    listed = make_record(staff, org, **listing_fields())
    services.revoke_record(staff, listed, reason="复议撤销")
    assert tendering.obtain_documents(user, open_tender).organisation == org
