"""Submitting sealed bids: chunked upload, commit before the deadline, receipts, withdrawal."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from cryptography import x509

from openbid.bidding import services
from openbid.bidding.models import Bid, BidUpload
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.crypto import services as crypto
from openbid.crypto.models import PersonCertificate
from openbid.crypto.suites import get_suite
from openbid.crypto.testca import to_pem
from openbid.ledger import keys
from openbid.ledger.note import verify_note
from openbid.tendering import services as tendering
from openbid.tendering.models import Tender
from tests.certificates import ca_staff, certify, test_ca, trust_test_ca
from tests.factories import market_entity
from tests.tendering.factories import published_tender

pytestmark = pytest.mark.django_db

SUITE = "intl-2026"


@pytest.fixture
def open_tender(clock):
    tender, _manager = published_tender()
    clock.advance(hours=2)
    org, bidder = market_entity()
    tendering.obtain_documents(bidder, tender)
    return tender, org, bidder


def seal(plaintext: bytes, suite_name: str = SUITE):
    suite = get_suite(suite_name)
    enc = suite.generate_encryption_key()
    signing = suite.generate_signing_key()
    envelope = suite.seal([enc.public], plaintext, b"bid")
    return suite, envelope, signing, enc


def submit(
    bidder,
    section,
    org,
    envelope,
    signing,
    suite_name=SUITE,
    chunk=1000,
    plaintext=b"bid package",
    *,
    certified=True,
):
    suite = get_suite(suite_name)
    if certified:
        certify(bidder, org, suite_name, signing)
    sha = hashlib.sha256(envelope).hexdigest()
    upload = services.start_upload(bidder, section, size=len(envelope), sha256=sha)
    for offset in range(0, len(envelope), chunk):
        part = envelope[offset : offset + chunk]
        services.append_chunk(
            bidder, upload.pk, offset=offset, stream=io.BytesIO(part), length=len(part)
        )
    commitment = suite.hash(plaintext).hex()
    message = services.commitment_message(section, org, sha, commitment)
    return services.commit_bid(
        bidder,
        upload.pk,
        suite=suite_name,
        commitment=commitment,
        signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
        public_key=base64.b64encode(signing.public).decode(),
    )


@pytest.mark.parametrize("suite_name", ["intl-2026", "sm-2026"])
def test_submit_and_receipt(open_tender, suite_name):
    tender, org, bidder = open_tender
    Tender.objects.filter(pk=tender.pk).update(crypto_suite=suite_name)  # as if published so
    section = tender.sections.first()
    _suite, envelope, signing, _enc = seal(b"bid package" * 500, suite_name)
    bid = submit(
        bidder, section, org, envelope, signing, suite_name, plaintext=b"bid package" * 500
    )
    assert bid.status == Bid.Status.VALID
    assert bid.ciphertext.read() == envelope
    verified = verify_note(bid.receipt, [keys.log_signer().verifier()])
    assert f"ciphertext-sha256 {hashlib.sha256(envelope).hexdigest()}" in verified.text
    assert f"ledger-index {bid.ledger_index}" in verified.text
    assert bid.signer_certificate is not None and bid.signer_certificate.suite == suite_name
    assert f"signer-certificate {bid.signer_certificate.fingerprint}" in verified.text.splitlines()
    event = DomainEvent.objects.get(type="bidding.bid.received")
    assert event.payload == {} and not event.subjects.exists()
    assert org.credit_code not in str(event.payload)


def test_a_later_submission_supersedes_and_withdrawal(open_tender):
    tender, org, bidder = open_tender
    section = tender.sections.first()
    _s, envelope, signing, _e = seal(b"first")
    first = submit(bidder, section, org, envelope, signing)
    _s, envelope2, signing2, _e = seal(b"second")
    second = submit(bidder, section, org, envelope2, signing2)
    first.refresh_from_db()
    assert first.status == Bid.Status.SUPERSEDED and second.version == 2
    services.withdraw_bid(bidder, second)
    second.refresh_from_db()
    assert second.status == Bid.Status.WITHDRAWN


def test_one_millisecond_late_is_refused_with_deadline_and_server_time(open_tender, clock):
    tender, org, bidder = open_tender
    section = tender.sections.first()
    _s, envelope, signing, _e = seal(b"late")
    sha = hashlib.sha256(envelope).hexdigest()
    upload = services.start_upload(bidder, section, size=len(envelope), sha256=sha)
    services.append_chunk(
        bidder, upload.pk, offset=0, stream=io.BytesIO(envelope), length=len(envelope)
    )
    certify(bidder, org, SUITE, signing)
    clock.set(tender.bid_deadline + dt.timedelta(milliseconds=1))
    suite = get_suite(SUITE)
    commitment = suite.hash(b"late").hex()
    message = services.commitment_message(section, org, sha, commitment)
    with pytest.raises(Conflict) as caught:
        services.commit_bid(
            bidder,
            upload.pk,
            suite=SUITE,
            commitment=commitment,
            signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
            public_key=base64.b64encode(signing.public).decode(),
        )
    assert caught.value.rule == "late_bid_refused"
    assert ".001" in str(caught.value)  # the server time, to the millisecond
    assert not Bid.objects.exists()


def test_refusals(open_tender):
    tender, _org, bidder = open_tender
    section = tender.sections.first()
    _s, envelope, signing, _e = seal(b"x")
    sha = hashlib.sha256(envelope).hexdigest()
    upload = services.start_upload(bidder, section, size=len(envelope), sha256=sha)
    with pytest.raises(Conflict) as caught:
        services.append_chunk(bidder, upload.pk, offset=5, stream=io.BytesIO(b"abc"), length=3)
    assert caught.value.rule == "upload_offset"
    with pytest.raises(Conflict) as caught:
        services.commit_bid(
            bidder, upload.pk, suite=SUITE, commitment="00" * 32, signature="", public_key=""
        )
    assert caught.value.rule == "upload_incomplete"
    services.append_chunk(
        bidder, upload.pk, offset=0, stream=io.BytesIO(envelope), length=len(envelope)
    )
    with pytest.raises(InvalidInput) as caught:
        services.commit_bid(
            bidder,
            upload.pk,
            suite=SUITE,
            commitment="00" * 32,
            signature=base64.b64encode(b"\0" * 64).decode(),
            public_key=base64.b64encode(signing.public).decode(),
        )
    assert caught.value.rule == "bid_signature"
    _other_org, stranger = market_entity()
    with pytest.raises(NotAllowed) as caught:
        services.start_upload(stranger, section, size=10, sha256="0" * 64)
    assert caught.value.rule == "obtained_documents"
    assert not Bid.objects.exists()
    assert BidUpload.objects.count() == 1


def test_package_round_trip_and_tamper():
    from openbid.bidding import package

    data = package.build(
        {"商务标.pdf": b"%PDF-1.7 a", "技术标.pdf": b"%PDF-1.7 b"},
        {"price": "12345678.5", "duration_days": 360},
        tool="t",
        machine="m",
    )
    parsed = package.read(data)
    assert parsed.price == Decimal("12345678.50")
    assert parsed.files["技术标.pdf"] == b"%PDF-1.7 b"
    with pytest.raises(package.PackageError):
        package.read(data.replace(b"%PDF-1.7 b", b"%PDF-1.7 c"))
    with pytest.raises(package.PackageError):
        package.build({"a.pdf": b"x"}, {"price": "-1"}, tool="t", machine="m")


def test_unfinished_uploads_are_discarded_after_the_deadline(open_tender, clock):
    from openbid.core import clockloop

    tender, _org, bidder = open_tender
    section = tender.sections.first()
    upload = services.start_upload(bidder, section, size=10, sha256="0" * 64)
    services.append_chunk(bidder, upload.pk, offset=0, stream=io.BytesIO(b"12345"), length=5)
    assert services.partial_path(upload).exists()
    assert clockloop.tick()["bidding.discard_unfinished_uploads"] == 0
    clock.set(tender.bid_deadline)
    with pytest.raises(Conflict) as caught:
        services.append_chunk(bidder, upload.pk, offset=5, stream=io.BytesIO(b"67890"), length=5)
    assert caught.value.rule == "late_bid_refused"
    assert clockloop.tick()["bidding.discard_unfinished_uploads"] == 1
    assert not services.partial_path(upload).exists()
    assert not Bid.objects.exists()


def test_a_partial_file_left_behind_by_a_committed_upload_is_removed(open_tender):
    """A crash between the bid's commit and the removal of its partial file leaves the file;
    the clock loop removes it (the stored copy was made durable before the receipt)."""
    from openbid.core import clockloop

    tender, org, bidder = open_tender
    _s, envelope, signing, _e = seal(b"committed")
    bid = submit(bidder, tender.sections.first(), org, envelope, signing)
    upload = BidUpload.objects.get(bid=bid)
    left = services.partial_path(upload)
    left.write_bytes(envelope)  # as if the process died before its on-commit unlink
    assert clockloop.tick()["bidding.discard_unfinished_uploads"] == 1
    assert not left.exists() and bid.ciphertext.read() == envelope


def test_a_truncated_stored_copy_is_replaced_on_a_retried_commit(open_tender):
    """The file under the bid's final name may be a copy a crash cut short: never receipted."""
    from django.core.files.storage import default_storage

    tender, org, bidder = open_tender
    section = tender.sections.first()
    _s, envelope, signing, _e = seal(b"x" * 100_000)
    sha = hashlib.sha256(envelope).hexdigest()
    upload = services.start_upload(bidder, section, size=len(envelope), sha256=sha)
    services.append_chunk(
        bidder, upload.pk, offset=0, stream=io.BytesIO(envelope), length=len(envelope)
    )
    name = f"bids/{tender.pk}/{section.pk}/{upload.pk}.obenv"
    default_storage.save(name, io.BytesIO(envelope[:4096]))  # the crash's leftover
    certify(bidder, org, SUITE, signing)
    suite = get_suite(SUITE)
    commitment = suite.hash(b"bid package").hex()
    message = services.commitment_message(section, org, sha, commitment)
    bid = services.commit_bid(
        bidder,
        upload.pk,
        suite=SUITE,
        commitment=commitment,
        signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
        public_key=base64.b64encode(signing.public).decode(),
    )
    assert bid.ciphertext.name == name
    with default_storage.open(name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == sha == bid.ciphertext_sha256


# --- the signing key must be certified (CA 互认) ---------------------------------------------------


def refused_commit(error, rule, bidder, section, org, envelope, signing, suite_name=SUITE):
    with pytest.raises(error) as caught:
        submit(bidder, section, org, envelope, signing, suite_name, certified=False)
    assert caught.value.rule == rule, caught.value
    assert not Bid.objects.exists()
    assert not DomainEvent.objects.filter(type="bidding.bid.received").exists()
    return caught.value


def test_a_key_without_a_registered_certificate_is_refused(open_tender):
    tender, org, bidder = open_tender
    trust_test_ca()
    _s, envelope, signing, _e = seal(b"uncertified")
    error = refused_commit(
        InvalidInput,
        "certificate_not_registered",
        bidder,
        tender.sections.first(),
        org,
        envelope,
        signing,
    )
    assert error.field == "public_key"


def test_a_certificate_revoked_before_the_commit_is_refused(open_tender, clock):
    tender, org, bidder = open_tender
    _s, envelope, signing, _e = seal(b"revoked")
    registered = certify(bidder, org, SUITE, signing)
    ca = test_ca()
    certificate = x509.load_pem_x509_certificate(registered.certificate_pem.encode())
    ca.revoke(certificate, at=clock.now() - dt.timedelta(minutes=1))
    staff = ca_staff()
    crypto.add_crl(
        staff,
        ca=trust_test_ca(),
        crl_pem_or_der=to_pem(ca.crl(this_update=clock.now())),
    )
    refused_commit(
        InvalidInput, "certificate_revoked", bidder, tender.sections.first(), org, envelope, signing
    )


def test_a_certificate_of_another_organisation_is_refused(open_tender):
    tender, org, bidder = open_tender
    other, other_admin = market_entity()
    _s, envelope, signing, _e = seal(b"other org")
    # The key is certified, but for another organisation (and its person).
    certify(other_admin, other, SUITE, signing)
    refused_commit(
        InvalidInput,
        "certificate_not_registered",
        bidder,
        tender.sections.first(),
        org,
        envelope,
        signing,
    )


def test_a_certificate_of_another_suite_is_refused(open_tender):
    tender, org, bidder = open_tender
    _s, envelope, signing, _e = seal(b"suite")
    registered = certify(bidder, org, SUITE, signing)
    # A certificate row whose suite is not the bid's (the key checks alone cannot produce one:
    # the bid's signature verifies only with a key of the bid's suite).
    PersonCertificate.objects.filter(pk=registered.pk).update(suite="sm-2026")
    refused_commit(
        InvalidInput, "certificate_suite", bidder, tender.sections.first(), org, envelope, signing
    )
