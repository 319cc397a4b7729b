"""The opening: it starts by itself at the deadline, fails with fewer than 3 bids, opens a bid with
its key and reads it out, rejects every kind of bad key or bad bid with its reason, and ends in a
signed, published record."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.utils import translation

from openbid.accounts.roles import OrgType
from openbid.bidding import services as bidding
from openbid.core import clockloop
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.ledger import keys
from openbid.ledger.note import verify_note
from openbid.opening import services
from openbid.opening.aad import bid_aad
from openbid.opening.models import OpenedBid, OpeningSession
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from tests.factories import market_entity
from tests.opening.helpers import (
    at_deadline,
    bid_package,
    bidder,
    one_section_tender,
    submit,
    tender_with_bids,
)
from tests.tendering.factories import published_tender

pytestmark = pytest.mark.django_db


def opened(sealed) -> OpenedBid:
    return OpenedBid.objects.get(bid=sealed.bid)


def started(clock, tender) -> OpeningSession:
    at_deadline(clock, tender)
    services.start_due_openings()
    return OpeningSession.objects.get(tender=tender)


# --- starting ------------------------------------------------------------------------------------


def test_the_opening_starts_by_itself_at_the_deadline(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    clock.set(tender.bid_deadline - dt.timedelta(seconds=1))
    clockloop.tick()
    tender.refresh_from_db()
    assert tender.status == State.PUBLISHED and not OpeningSession.objects.exists()

    at_deadline(clock, tender)
    results = clockloop.tick()
    assert results["opening.start_due"] >= 1
    tender.refresh_from_db()
    assert tender.status == State.OPENED
    session = OpeningSession.objects.get(tender=tender)
    assert session.started_at == clock.now() and session.scheduled_at == tender.bid_deadline
    assert session.decryption_deadline == clock.now() + dt.timedelta(minutes=30)
    assert [o.status for o in session.bids.all()] == [OpenedBid.Status.AWAITING_KEY] * 3
    assert [o.bid_id for o in session.bids.order_by("order")] == [s.bid.pk for s in sealed]
    event = DomainEvent.objects.get(type="opening.session.started")
    names = [b["bidder_name"] for b in event.payload["bids"]]
    assert names == [s.org.name for s in sealed]
    # The revealed salt proves the ledger's receipt digest was this bid.
    first = event.payload["bids"][0]
    digest = hashlib.sha256(
        bytes.fromhex(first["digest_salt"])
        + f"{first['bid']}:{first['ciphertext_sha256']}:{first['commitment']}".encode()
    ).hexdigest()
    assert DomainEvent.objects.filter(type="bidding.bid.received", private_digest=digest).exists()

    assert clockloop.tick()["opening.start_due"] == 0  # idempotent
    assert OpeningSession.objects.count() == 1


def test_a_late_clock_still_gives_the_full_window_and_reading_starts_it(clock, settings):
    settings.OPENBID_DECRYPTION_WINDOW_MINUTES = 10
    tender, _manager, _sealed = tender_with_bids(clock)
    at_deadline(clock, tender, hours=2)  # nobody ran the clock loop
    session = services.session_of(tender)  # the room is looked at: applied lazily
    assert session is not None
    assert session.started_at == clock.now()
    assert session.decryption_deadline == clock.now() + dt.timedelta(minutes=10)


def test_fewer_than_three_bids_is_a_failed_tender_with_the_rule(clock):
    tender, _manager, _sealed = tender_with_bids(clock, prices=("100.00", "200.00"))
    at_deadline(clock, tender)
    clockloop.tick()
    tender.refresh_from_db()
    assert tender.status == State.FAILED
    assert "Law art. 28; Reg art. 44" in tender.status_reason
    assert not OpeningSession.objects.exists()
    event = DomainEvent.objects.get(type="tendering.tender.failed")
    assert event.payload["rule"] == "min_bidders"
    assert event.payload["sections"] == [{"number": 1, "bids": 2}]
    assert event.actor_user is None


def test_withdrawn_and_superseded_bids_do_not_count(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    section = tender.sections.get()
    again = submit(sealed[0].user, sealed[0].org, section, bid_package("99.00"))  # supersedes
    bidding.withdraw_bid(sealed[1].user, sealed[1].bid)
    assert again.bid.version == 2
    at_deadline(clock, tender)
    services.start_due_openings()
    tender.refresh_from_db()
    assert tender.status == State.FAILED
    assert "Law art. 28" in tender.status_reason and "2" in tender.status_reason


def test_every_section_needs_three_bids(clock):
    tender, _manager = published_tender()  # two sections
    first, second = tender.sections.order_by("number")
    for n in range(3):
        org, user = bidder(tender, clock)
        submit(user, org, first, bid_package(f"{1000 + n}.00"))
        if n < 2:
            submit(user, org, second, bid_package(f"{2000 + n}.00"))
    at_deadline(clock, tender)
    services.start_due_openings()
    tender.refresh_from_db()
    assert tender.status == State.FAILED
    event = DomainEvent.objects.get(type="tendering.tender.failed")
    assert event.payload["sections"] == [{"number": 1, "bids": 3}, {"number": 2, "bids": 2}]


# --- releasing keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("suite_name", ["intl-2026", "sm-2026"])
def test_the_right_key_opens_the_bid_and_reads_it_out(clock, suite_name):
    tender, _manager = one_section_tender(crypto_suite=suite_name)
    section = tender.sections.get()
    sealed = []
    for n, price in enumerate(("12345678.00", "11800000.5", "13000000")):
        org, user = bidder(tender, clock)
        plaintext = bid_package(price, 360 + n, 质量="合格", 项目经理="李四")
        sealed.append(submit(user, org, section, plaintext, suite_name=suite_name))
    started(clock, tender)
    clock.advance(minutes=1)
    result = services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)
    assert result.status == OpenedBid.Status.OPENED
    assert result.price == Decimal("12345678.00") and result.duration_days == 360
    assert result.form["质量"] == "合格" and result.form["项目经理"] == "李四"
    assert result.data_key_sha256 == hashlib.sha256(sealed[0].data_key).hexdigest()
    assert bytes(result.data_key) == sealed[0].data_key
    event = DomainEvent.objects.get(type="opening.bid.opened")
    assert event.payload["price"] == "12345678.00"
    assert event.payload["bidder_name"] == sealed[0].org.name
    assert event.payload["form"]["质量"] == "合格"
    assert "data_key" not in event.payload  # only its hash
    assert services.opened_package(result).files["技术标.pdf"].endswith(b"tech")

    with pytest.raises(Conflict) as caught:
        services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)
    assert caught.value.rule == "key_released"

    # The last key closes decryption at once: nobody waits for the window.
    session = result.session
    for s in sealed[1:]:
        services.release_key(s.user, s.bid, s.data_key)
    session.refresh_from_db()
    assert session.status == OpeningSession.Status.CLOSED
    assert opened(sealed[1]).price == Decimal("11800000.50")
    assert DomainEvent.objects.filter(type="opening.decryption.closed").count() == 1


def _rejected(result: OpenedBid, code: str, fault: str) -> None:
    assert result.status == OpenedBid.Status.REJECTED
    assert result.reason_code == code
    assert result.fault == fault
    assert result.price is None
    event = DomainEvent.objects.filter(type="opening.bid.rejected").latest("id")
    assert event.payload["reason"] == code
    assert event.payload["rule"] == "decrypt_failure"
    assert event.payload["article"] == "E-Bidding art. 31"
    assert event.payload["fault"] == fault


def test_a_wrong_key_rejects_the_bid_as_revoked(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    started(clock, tender)
    result = services.release_key(sealed[0].user, sealed[0].bid, sealed[1].data_key)
    _rejected(result, "wrong_key", OpenedBid.Fault.BIDDER)
    with translation.override("en"):
        assert "Wrong key" in services.reason_message(result.reason_code)
    assert "撤销" in services.treatment(result.fault)
    with pytest.raises(Conflict):  # final: the bid is revoked (E-Bidding art. 31)
        services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)


def test_tampered_ciphertext_in_storage_is_detected_and_not_the_bidders_fault(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    started(clock, tender)
    bid = sealed[0].bid
    path = bid.ciphertext.path
    data = bytearray(open(path, "rb").read())  # noqa: SIM115
    data[-20] ^= 0x01
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    result = services.release_key(sealed[0].user, bid, sealed[0].data_key)
    _rejected(result, "tampered_ciphertext", OpenedBid.Fault.NOT_BIDDER)
    assert hashlib.sha256(bytes(data)).hexdigest() in result.reason_detail
    assert "撤回" in services.treatment(result.fault)


def test_a_row_changed_to_match_tampered_ciphertext_is_caught_by_the_receipt(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    started(clock, tender)
    bid = sealed[0].bid
    other = sealed[1].envelope
    with open(bid.ciphertext.path, "wb") as handle:
        handle.write(other)
    type(bid).objects.filter(pk=bid.pk).update(ciphertext_sha256=hashlib.sha256(other).hexdigest())
    result = services.release_key(sealed[0].user, bid, sealed[1].data_key)
    _rejected(result, "tampered_ciphertext", OpenedBid.Fault.NOT_BIDDER)


def test_a_plaintext_that_does_not_match_the_commitment_is_rejected(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    org, user = bidder(tender, clock)
    section = tender.sections.get()
    swapped = submit(
        user,
        org,
        section,
        bid_package("9000000.00"),
        committed=bid_package("15000000.00"),  # signs one bid, seals another
    )
    started(clock, tender)
    result = services.release_key(user, swapped.bid, swapped.data_key)
    _rejected(result, "commitment_mismatch", OpenedBid.Fault.BIDDER)
    assert sealed  # the others are unaffected
    assert opened(sealed[0]).status == OpenedBid.Status.AWAITING_KEY


def test_a_bid_sealed_for_another_section_or_not_a_package_is_rejected(clock):
    tender, _manager, _sealed = tender_with_bids(clock)
    section = tender.sections.get()
    org, user = bidder(tender, clock)
    other_aad = submit(user, org, section, bid_package("1.00"), aad=b"bid")
    org2, user2 = bidder(tender, clock)
    not_a_package = submit(user2, org2, section, b"just some bytes, not a zip")
    started(clock, tender)
    _rejected(
        services.release_key(user, other_aad.bid, other_aad.data_key),
        "undecryptable",
        OpenedBid.Fault.BIDDER,
    )
    result = services.release_key(user2, not_a_package.bid, not_a_package.data_key)
    _rejected(result, "bad_package", OpenedBid.Fault.BIDDER)
    assert "ZIP" in result.reason_detail


def test_only_the_bidder_may_release_and_only_a_32_byte_key(clock):
    tender, manager, sealed = tender_with_bids(clock)
    started(clock, tender)
    _org, stranger = market_entity()
    for actor in (sealed[1].user, stranger, manager, None):
        with pytest.raises(NotAllowed):
            services.release_key(actor, sealed[0].bid, sealed[0].data_key)
    with pytest.raises(InvalidInput) as caught:
        services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key[:16])
    assert caught.value.field == "data_key"
    assert opened(sealed[0]).status == OpenedBid.Status.AWAITING_KEY
    assert not DomainEvent.objects.filter(type__startswith="opening.bid.").exists()


def test_no_release_before_the_opening_or_after_the_window(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    with pytest.raises(Conflict) as caught:
        services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)
    assert caught.value.rule == "opening_started"
    session = started(clock, tender)
    services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)
    clock.set(session.decryption_deadline + dt.timedelta(milliseconds=1))
    with pytest.raises(Conflict) as caught:
        services.release_key(sealed[1].user, sealed[1].bid, sealed[1].data_key)
    assert caught.value.rule == "decryption_window"
    assert caught.value.at == session.decryption_deadline


def test_bids_without_a_key_are_rejected_when_the_window_closes(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    session = started(clock, tender)
    services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)
    clock.set(session.decryption_deadline - dt.timedelta(seconds=1))
    assert services.close_decryption() == 0
    clock.set(session.decryption_deadline)
    assert clockloop.tick()["opening.start_due"] == 1
    session.refresh_from_db()
    assert session.status == OpeningSession.Status.CLOSED
    assert opened(sealed[0]).status == OpenedBid.Status.OPENED
    for s in sealed[1:]:
        result = opened(s)
        assert result.status == OpenedBid.Status.REJECTED and result.reason_code == "no_key"
        assert result.fault == OpenedBid.Fault.BIDDER
    assert services.close_decryption() == 0


# --- parsing what a person gives ----------------------------------------------------------------


def test_parse_data_key_accepts_the_usual_forms():
    key = bytes(range(32))
    b64 = base64.b64encode(key).decode()
    assert services.parse_data_key(key) == key
    assert services.parse_data_key(b64) == key
    assert services.parse_data_key(f"  {b64}\n") == key
    assert services.parse_data_key(base64.urlsafe_b64encode(key).decode().rstrip("=")) == key
    assert services.parse_data_key(key.hex()) == key
    assert services.parse_data_key(f'{{"data_key": "{b64}", "bid": 7}}'.encode(), bid_id=7) == key
    with pytest.raises(InvalidInput) as caught:
        services.parse_data_key(f'{{"data_key": "{b64}", "bid": 8}}', bid_id=7)
    assert caught.value.rule == "data_key_bid"
    for bad in ("", "abc", base64.b64encode(key[:31]).decode(), b"\xff" * 31):
        with pytest.raises(InvalidInput):
            services.parse_data_key(bad)


def test_bid_aad_is_the_section_id():
    assert bid_aad(42) == b"openbid-bid section 42"
    with pytest.raises(ValueError):
        bid_aad(0)


# --- objections and the record -------------------------------------------------------------------


def _all_released(clock, tender, sealed) -> OpeningSession:
    session = started(clock, tender)
    services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)
    services.release_key(sealed[1].user, sealed[1].bid, sealed[2].data_key)  # wrong key
    services.release_key(sealed[2].user, sealed[2].bid, sealed[2].data_key)
    session.refresh_from_db()
    return session


def test_objections_are_raised_by_bidders_and_answered_by_the_tenderer(clock):
    tender, manager, sealed = tender_with_bids(clock)
    session = started(clock, tender)
    objection = services.raise_objection(
        sealed[1].user, session, text="我方对解密时限有异议\n请说明。"
    )
    assert objection.number == 1 and objection.raised_by == sealed[1].org
    _org, stranger = market_entity()
    with pytest.raises(NotAllowed) as caught:
        services.raise_objection(stranger, session, text="旁观者")
    assert caught.value.rule == "opening_bidder"
    with pytest.raises(NotAllowed):
        services.reply_objection(sealed[0].user, objection, reply="不是招标人")
    answered = services.reply_objection(manager, objection, reply="解密时限依招标文件设定。")
    assert answered.replied_at == clock.now()
    with pytest.raises(Conflict):
        services.reply_objection(manager, objection, reply="again")
    assert (
        DomainEvent.objects.get(type="opening.objection.raised").payload["text"].startswith("我方")
    )
    assert DomainEvent.objects.filter(type="opening.objection.answered").count() == 1


def test_the_signed_record_verifies_and_is_published(clock):
    tender, manager, sealed = tender_with_bids(clock)
    session = started(clock, tender)
    with pytest.raises(Conflict) as caught:
        services.sign_opening_record(manager, session)
    assert caught.value.rule == "decryption_window"  # keys may still be released

    session = _all_released(clock, tender, sealed)
    objection = services.raise_objection(sealed[1].user, session, text="我方密钥无误")
    with pytest.raises(Conflict) as caught:
        services.sign_opening_record(manager, session)
    assert caught.value.rule == "objection_opening" and caught.value.article == "Reg art. 44"
    services.reply_objection(manager, objection, reply="经核验，所释放密钥与投标文件不符。")
    with pytest.raises(NotAllowed):
        services.sign_opening_record(sealed[0].user, session)

    signed = services.sign_opening_record(manager, session)
    assert signed.published_at == clock.now()
    verified = verify_note(signed.record_note, [keys.log_signer().verifier()])
    text = verified.text
    assert text == signed.record_text
    assert text.startswith("openbid opening record v1\n")
    assert f"tender {tender.pk} " in text
    for s in sealed:
        assert s.org.name in text and s.org.credit_code in text
    assert "price 12345678.00 duration-days 300" in text
    assert "reason wrong_key fault bidder" in text
    assert '"项目经理": "张0"' in text
    assert "我方密钥无误" in text and "经核验" in text
    assert hashlib.sha256(signed.record_note.encode()).hexdigest() == signed.record_sha256
    event = DomainEvent.objects.get(type="opening.record.signed")
    assert event.payload["sha256"] == signed.record_sha256

    with pytest.raises(Conflict):
        services.sign_opening_record(manager, session)
    with pytest.raises(Conflict) as caught:
        services.raise_objection(sealed[0].user, session, text="too late")
    assert caught.value.rule == "objection_opening"


def test_an_agency_signs_for_its_project(clock):
    agency, agency_user = market_entity(OrgType.AGENCY)
    tenderer, _tenderer_user = market_entity(OrgType.TENDERER)
    from tests.tendering.factories import project

    proj, _ = project(agency_user, tenderer=tenderer.credit_code)
    tender, _user = one_section_tender(project_obj=proj, user=agency_user)
    section = tender.sections.get()
    sealed = []
    for price in ("1.00", "2.00", "3.00"):
        org, user = bidder(tender, clock)
        sealed.append(submit(user, org, section, bid_package(price)))
    session = started(clock, tender)
    for s in sealed:
        services.release_key(s.user, s.bid, s.data_key)
    session.refresh_from_db()
    signed = services.sign_opening_record(agency_user, session)
    assert signed.signed_by_org == agency
    assert f"agency {agency.credit_code}" in signed.record_text
    assert Tender.objects.get(pk=tender.pk).status == State.OPENED
