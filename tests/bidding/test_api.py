"""The bidding API over HTTP with bearer tokens: resumable upload, commit, receipts, withdrawal.

Each refusal is checked for its error (status, rule, and for deadlines the deadline and the
server time) and for writing no bid.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.storage import default_storage
from django.test import Client

from openbid.accounts.services import issue_api_token
from openbid.bidding import client as bidder_client
from openbid.bidding import package, services
from openbid.bidding.models import Bid, BidUpload
from openbid.core.models import DomainEvent
from openbid.crypto.suites import KeyPair, get_suite
from openbid.ledger import keys, store
from openbid.ledger.note import verify_note
from openbid.opening.aad import bid_aad
from openbid.tendering import services as tendering
from openbid.tendering.models import Section
from tests.certificates import certify
from tests.factories import market_entity
from tests.tendering.factories import published_tender

pytestmark = pytest.mark.django_db

API = "/api/v1"
SUITE = "intl-2026"


@dataclass
class Bidder:
    org: Any
    user: Any
    auth: dict[str, str]


@dataclass
class Sealed:
    plaintext: bytes
    envelope: bytes
    commitment: str
    sha256: str
    signing: KeyPair
    encryption: KeyPair


def bearer(user: Any) -> dict[str, str]:
    _token, raw = issue_api_token(user, name="bidding client")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def api() -> Client:
    """Bearer-token calls need no CSRF token: the client enforces CSRF like a browser would."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def tender(clock: Any) -> Any:
    tender, _manager = published_tender()
    clock.advance(hours=2)
    return tender


@pytest.fixture
def section(tender: Any) -> Section:
    return tender.sections.order_by("number").first()


def new_bidder(tender: Any) -> Bidder:
    org, user = market_entity()
    tendering.obtain_documents(user, tender)
    return Bidder(org, user, bearer(user))


@pytest.fixture
def bidder(tender: Any) -> Bidder:
    return new_bidder(tender)


def seal(section: Section, price: str = "12345678.00", suite_name: str = SUITE) -> Sealed:
    suite = get_suite(suite_name)
    plaintext = package.build(
        {"投标函.pdf": b"%PDF-1.7 bid " + price.encode(), "技术标.pdf": b"%PDF-1.7 t" * 300},
        {"price": price, "duration_days": 360},
        tool="test",
        machine="0" * 64,
    )
    signing, encryption = suite.generate_signing_key(), suite.generate_encryption_key()
    envelope = suite.seal([encryption.public], plaintext, bid_aad(section.pk))
    return Sealed(
        plaintext,
        envelope,
        suite.hash(plaintext).hex(),
        hashlib.sha256(envelope).hexdigest(),
        signing,
        encryption,
    )


def commit_body(
    sealed: Sealed, section: Section, bidder: Bidder, *, commitment: str | None = None
) -> dict[str, str]:
    suite = get_suite(SUITE)
    certify(bidder.user, bidder.org, SUITE, sealed.signing)
    commitment = commitment or sealed.commitment
    message = services.commitment_message(section, bidder.org, sealed.sha256, commitment)
    return {
        "suite": SUITE,
        "commitment": commitment,
        "signature": base64.b64encode(suite.sign(sealed.signing.private, message)).decode(),
        "public_key": base64.b64encode(sealed.signing.public).decode(),
    }


def post(client: Client, url: str, body: Any, auth: dict[str, str] | None = None) -> Any:
    return client.post(
        API + url, data=json.dumps(body), content_type="application/json", **(auth or {})
    )


def put_chunk(client: Client, upload: str, offset: int, data: bytes, auth: dict[str, str]) -> Any:
    return client.put(
        f"{API}/uploads/{upload}?offset={offset}",
        data=data,
        content_type="application/octet-stream",
        **auth,
    )


def start(client: Client, section: Section, sealed: Sealed, bidder: Bidder) -> str:
    response = post(
        client,
        f"/sections/{section.pk}/uploads",
        {"size": len(sealed.envelope), "sha256": sealed.sha256},
        bidder.auth,
    )
    assert response.status_code == 201, response.content
    return str(response.json()["upload_id"])


def submit(client: Client, section: Section, sealed: Sealed, bidder: Bidder) -> dict[str, Any]:
    upload = start(client, section, sealed, bidder)
    assert put_chunk(client, upload, 0, sealed.envelope, bidder.auth).status_code == 200
    response = post(
        client, f"/uploads/{upload}/commit", commit_body(sealed, section, bidder), bidder.auth
    )
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()["error"]
    assert body["message"]
    return body


def verify(client: Client, receipt: str, auth: dict[str, str] | None = None) -> dict[str, Any]:
    response = post(client, "/receipts/verify", {"receipt": receipt}, auth)
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    return result


# --- the whole flow ----------------------------------------------------------------------------


def test_submit_with_an_interrupted_upload_then_commit_and_receipt(api, section, bidder):
    info = api.get(f"{API}/sections/{section.pk}", **bidder.auth).json()
    assert info["tender"] == section.tender_id and info["bidder"] == bidder.org.credit_code
    assert info["accepting_bids"] and info["obtained_documents"]
    sealed = seal(section)
    half = len(sealed.envelope) // 2
    upload = start(api, section, sealed, bidder)
    first = put_chunk(api, upload, 0, sealed.envelope[:half], bidder.auth)
    assert first.status_code == 200 and first.json()["received"] == half

    # A retried chunk (its answer was lost) is refused, naming the offset; nothing is written twice.
    retried = error(put_chunk(api, upload, 0, sealed.envelope[:half], bidder.auth), 409)
    assert retried["rule"] == "upload_offset" and str(half) in retried["message"]

    # The client is killed; a new session asks where to resume and sends the rest.
    resumed = Client(enforce_csrf_checks=True)
    state = resumed.get(f"{API}/uploads/{upload}", **bidder.auth).json()
    assert state["received"] == half and state["size"] == len(sealed.envelope)
    assert state["bid"] is None and state["chunk_bytes"] == services.CHUNK_BYTES
    rest = put_chunk(resumed, upload, half, sealed.envelope[half:], bidder.auth)
    assert rest.json()["received"] == len(sealed.envelope)
    assert not Bid.objects.exists()  # a complete upload is still not a bid

    response = post(
        resumed, f"/uploads/{upload}/commit", commit_body(sealed, section, bidder), bidder.auth
    )
    assert response.status_code == 201, response.content
    bid = response.json()
    assert bid["status"] == "valid" and bid["version"] == 1
    assert bid["bidder"] == bidder.org.credit_code and bid["section"] == section.pk
    verified = verify_note(bid["receipt"], [keys.log_signer().verifier()])
    for line in (
        f"bid {bid['bid']}",
        f"section {section.pk}",
        f"bidder {bidder.org.credit_code}",
        f"ciphertext-sha256 {sealed.sha256}",
        f"commitment {sealed.commitment}",
        f"ledger-index {bid['ledger_index']}",
        f"signer-certificate {Bid.objects.get(pk=bid['bid']).signer_certificate.fingerprint}",
    ):
        assert line in verified.text.splitlines()
    stored = Bid.objects.get(pk=bid["bid"])
    assert stored.ciphertext.read() == sealed.envelope
    # The ledger sees a salted digest only: no bidder, no section.
    event = DomainEvent.objects.get(type="bidding.bid.received")
    assert event.payload == {} and not event.subjects.exists()

    # A retried commit (the answer was lost) is idempotent: the same bid, the same receipt.
    again = post(
        resumed, f"/uploads/{upload}/commit", commit_body(sealed, section, bidder), bidder.auth
    )
    assert again.status_code == 200 and again.json() == bid
    assert Bid.objects.count() == 1
    listed = api.get(f"{API}/bids", **bidder.auth).json()
    assert listed == [bid]
    assert verify(api, bid["receipt"], bidder.auth)["counts"] is True


def test_the_clients_commitment_message_is_the_services(section, bidder):
    sha, commitment = "ab" * 32, "cd" * 32
    assert bidder_client.commitment_message(
        section.tender_id, section.pk, bidder.org.credit_code, sha, commitment
    ) == services.commitment_message(section, bidder.org, sha, commitment)


def test_a_commit_one_millisecond_late_is_refused_with_deadline_and_server_time(
    api, section, bidder, clock
):
    sealed = seal(section)
    upload = start(api, section, sealed, bidder)
    put_chunk(api, upload, 0, sealed.envelope, bidder.auth)
    deadline = section.tender.bid_deadline
    clock.set(deadline + dt.timedelta(milliseconds=1))
    body = error(
        post(api, f"/uploads/{upload}/commit", commit_body(sealed, section, bidder), bidder.auth),
        409,
    )
    assert body["rule"] == "late_bid_refused"
    local = deadline.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M:%S") in body["message"]
    assert local.strftime("%H:%M:%S") + ".001" in body["message"]  # the server time, to the ms
    assert dt.datetime.fromisoformat(body["at"]) == deadline
    assert not Bid.objects.exists()
    # The unfinished submission is not a bid, and the list says so.
    assert api.get(f"{API}/bids", **bidder.auth).json() == []


def test_chunk_refusals(api, section, bidder, monkeypatch):
    sealed = seal(section)
    upload = start(api, section, sealed, bidder)
    url = f"{API}/uploads/{upload}?offset=0"
    wrong = error(put_chunk(api, upload, 10, sealed.envelope[10:20], bidder.auth), 409)
    assert wrong["rule"] == "upload_offset" and wrong["field"] == "offset"
    too_large = api.put(
        url,
        data=b"x" * 10,
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(services.CHUNK_BYTES + 1),
        **bidder.auth,
    )
    assert error(too_large, 413)["rule"] == "chunk_size"
    missing = api.put(
        url, data=b"abc", content_type="application/octet-stream", CONTENT_LENGTH="", **bidder.auth
    )
    assert error(missing, 411)["rule"] == "chunk_size"
    form = api.put(
        url, data=b"a=b", content_type="application/x-www-form-urlencoded", **bidder.auth
    )
    assert error(form, 415)["rule"] == "chunk_media_type"
    past_end = put_chunk(api, upload, 0, sealed.envelope + b"extra", bidder.auth)
    assert error(past_end, 422)["rule"] == "chunk_size"
    # The connection drops mid-chunk (the server sees fewer bytes than the Content-Length).
    dropped = api.put(
        url,
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(len(sealed.envelope)),
        **{"wsgi.input": io.BytesIO(sealed.envelope[:100])},
        **bidder.auth,
    )
    assert error(dropped, 422)["rule"] == "chunk_size"
    assert api.get(f"{API}/uploads/{upload}", **bidder.auth).json()["received"] == 0
    incomplete = post(
        api, f"/uploads/{upload}/commit", commit_body(sealed, section, bidder), bidder.auth
    )
    assert error(incomplete, 409)["rule"] == "upload_incomplete"
    # A chunk the size the platform announces is accepted.
    monkeypatch.setattr(services, "CHUNK_BYTES", 1000)
    assert put_chunk(api, upload, 0, sealed.envelope[:1000], bidder.auth).status_code == 200
    assert error(put_chunk(api, upload, 1000, sealed.envelope[1000:2001], bidder.auth), 413)
    assert not Bid.objects.exists()


def test_tampered_ciphertext_a_forged_signature_and_a_swapped_plaintext(api, section, bidder):
    sealed = seal(section)
    upload = start(api, section, sealed, bidder)
    tampered = bytearray(sealed.envelope)
    tampered[-1] ^= 1
    put_chunk(api, upload, 0, bytes(tampered), bidder.auth)
    body = commit_body(sealed, section, bidder)
    assert error(post(api, f"/uploads/{upload}/commit", body, bidder.auth), 422)["rule"] == (
        "ciphertext_hash"
    )

    upload = start(api, section, sealed, bidder)
    put_chunk(api, upload, 0, sealed.envelope, bidder.auth)
    forged = {**body, "signature": base64.b64encode(b"\x01" * 64).decode()}
    assert error(post(api, f"/uploads/{upload}/commit", forged, bidder.auth), 422)["rule"] == (
        "bid_signature"
    )
    # Signed for another plaintext, presented with this one's commitment.
    swapped = {
        **commit_body(sealed, section, bidder, commitment="ee" * 32),
        "commitment": sealed.commitment,
    }
    assert error(post(api, f"/uploads/{upload}/commit", swapped, bidder.auth), 422)["rule"] == (
        "bid_signature"
    )
    # Signed by someone else's key.
    other = get_suite(SUITE).generate_signing_key()
    stranger = {**body, "public_key": base64.b64encode(other.public).decode()}
    assert error(post(api, f"/uploads/{upload}/commit", stranger, bidder.auth), 422)["rule"] == (
        "bid_signature"
    )
    assert not Bid.objects.exists()
    assert post(api, f"/uploads/{upload}/commit", body, bidder.auth).status_code == 201


def test_receipts_forged_replayed_withdrawn(api, section, bidder, tender):
    first = submit(api, section, seal(section, "100.00"), bidder)
    genuine = verify(api, first["receipt"], bidder.auth)
    assert genuine["signature_valid"] and genuine["matches_stored_bid"] and genuine["counts"]
    assert genuine["fields"]["bid"] == str(first["bid"])

    # One line changed: the signature no longer verifies.
    forged_text = first["receipt"].replace("\nversion 1\n", "\nversion 9\n")
    assert forged_text != first["receipt"]
    forged = verify(api, forged_text, bidder.auth)
    assert forged["signature_valid"] is False and forged["problem"] == "forged"
    assert forged["counts"] is False
    assert verify(api, "not a receipt", bidder.auth)["problem"] == "malformed"

    # The last valid submission counts; the first receipt, replayed, is reported as replaced.
    second = submit(api, section, seal(section, "99.00"), bidder)
    assert second["version"] == 2
    replayed = verify(api, first["receipt"], bidder.auth)
    assert replayed["signature_valid"] and replayed["matches_stored_bid"]
    assert replayed["status"] == "superseded" and replayed["problem"] == "superseded"
    assert replayed["counts"] is False

    # Someone else learns only that the platform signed it.
    other = new_bidder(tender)
    outsider = verify(api, second["receipt"], other.auth)
    assert outsider["signature_valid"] and outsider["matches_stored_bid"] is None
    assert outsider["status"] is None and outsider["counts"] is False
    anonymous = verify(Client(), second["receipt"])
    assert anonymous["signature_valid"] and anonymous["status"] is None

    withdrawn = post(api, f"/bids/{second['bid']}/withdraw", {}, bidder.auth)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert verify(api, second["receipt"], bidder.auth)["problem"] == "withdrawn"
    again = post(api, f"/bids/{second['bid']}/withdraw", {}, bidder.auth)
    assert error(again, 409)["rule"] == "bid_state"


def test_withdrawal_after_the_deadline_is_refused(api, section, bidder, clock):
    bid = submit(api, section, seal(section), bidder)
    clock.set(section.tender.bid_deadline)
    body = error(post(api, f"/bids/{bid['bid']}/withdraw", {}, bidder.auth), 409)
    assert body["rule"] == "late_bid_refused"
    assert Bid.objects.get(pk=bid["bid"]).status == Bid.Status.VALID


def test_another_bidder_cannot_see_touch_or_commit_my_upload(api, section, bidder, tender):
    sealed = seal(section)
    upload = start(api, section, sealed, bidder)
    put_chunk(api, upload, 0, sealed.envelope[:100], bidder.auth)
    other = new_bidder(tender)
    assert error(api.get(f"{API}/uploads/{upload}", **other.auth), 404)["rule"] == "exists"
    assert error(put_chunk(api, upload, 100, sealed.envelope[100:], other.auth), 404)
    put_chunk(api, upload, 100, sealed.envelope[100:], bidder.auth)
    commit = post(api, f"/uploads/{upload}/commit", commit_body(sealed, section, other), other.auth)
    assert error(commit, 404)["rule"] == "exists"
    bid = submit(api, section, seal(section), bidder)
    assert error(post(api, f"/bids/{bid['bid']}/withdraw", {}, other.auth), 404)
    assert api.get(f"{API}/bids", **other.auth).json() == []
    # Without a token nothing but the public section information is served.
    assert error(Client().get(f"{API}/uploads/{upload}"), 401)["code"] == "unauthenticated"
    assert Client().get(f"{API}/sections/{section.pk}").json()["bidder"] is None


def test_a_bidder_who_did_not_obtain_the_documents_cannot_start(api, section):
    _org, user = market_entity()
    body = {"size": 10, "sha256": "0" * 64}
    response = post(api, f"/sections/{section.pk}/uploads", body, bearer(user))
    assert error(response, 403)["rule"] == "obtained_documents"
    bad = post(api, f"/sections/{section.pk}/uploads", {"size": 10, "sha256": "xyz"}, bearer(user))
    assert error(bad, 422)["field"] == "sha256"
    assert error(post(api, "/sections/999999/uploads", body, bearer(user)), 404)
    assert not BidUpload.objects.exists()


def test_session_calls_are_csrf_checked(section, bidder):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bidder.user)
    response = post(browser, f"/sections/{section.pk}/uploads", {"size": 10, "sha256": "0" * 64})
    assert response.status_code == 403
    assert not BidUpload.objects.exists()


def test_a_receipted_bid_survives_a_restart(api, section, bidder):
    sealed = seal(section)
    bid = submit(api, section, sealed, bidder)
    # "Restart": every in-process cache goes, the files and the database stay.
    keys.log_signer.cache_clear()
    store.clear_cache()
    for cache in caches.all():
        cache.clear()
    fresh = Client(enforce_csrf_checks=True)
    listed = fresh.get(f"{API}/bids", **bidder.auth).json()
    assert listed == [bid]
    assert verify(fresh, bid["receipt"], bidder.auth)["counts"] is True
    stored = Bid.objects.get(pk=bid["bid"])
    with default_storage.open(stored.ciphertext.name, "rb") as handle:
        ciphertext = handle.read()
    assert hashlib.sha256(ciphertext).hexdigest() == bid["ciphertext_sha256"]
    suite = get_suite(SUITE)
    plaintext = suite.open(sealed.encryption.private, ciphertext, bid_aad(section.pk))
    assert suite.hash(plaintext).hex() == bid["commitment"]
    assert package.read(plaintext).form["price"] == "12345678.00"
    # A wrong key or another section's aad does not open it.
    with pytest.raises(Exception, match=r"data key|authentication|recipient"):
        suite.open(suite.generate_encryption_key().private, ciphertext, bid_aad(section.pk))
    with pytest.raises(Exception, match="authentication"):
        suite.open(sealed.encryption.private, ciphertext, bid_aad(section.pk + 1))
