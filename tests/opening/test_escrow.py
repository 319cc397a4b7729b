"""The key escrow at the opening: registered with a draft tender, bids sealed to it named on their
receipts, custodians' shares accepted one by one only in the escrow period, the threshold-th share
opening the bids whose keys were not released, and every refusal writing nothing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from dataclasses import dataclass

import pytest
from django.utils import translation

from openbid.accounts.models import Organisation, User
from openbid.accounts.roles import OrgType
from openbid.bidding import services as bidding
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.models import DomainEvent
from openbid.crypto import escrow as crypto_escrow
from openbid.crypto.suites import get_suite, parse_envelope
from openbid.ledger import keys
from openbid.ledger.note import verify_note
from openbid.opening import escrow, services
from openbid.opening.models import Escrow, EscrowShareSubmission, OpenedBid, OpeningSession
from openbid.tendering import services as tendering
from openbid.tendering.models import Tender
from tests.certificates import certify
from tests.factories import centre_with_staff, market_entity, regulator_with_staff
from tests.opening.helpers import Sealed, at_deadline, bid_package, bidder, submit
from tests.tendering.factories import draft_tender, pdf, row_counts

pytestmark = pytest.mark.django_db

ONE_SECTION = [{"name": "一标段 道路工程", "estimated_price": "20000000", "deposit": "400000"}]


@dataclass
class Custodian:
    org: Organisation
    user: User
    share: str


def custodians() -> tuple[list[Custodian], crypto_escrow.EscrowPublic]:
    """Three custodians (centre, regulator, a notary office), 2 of 3 needed."""
    centre, centre_staff = centre_with_staff()
    regulator, regulator_staff = regulator_with_staff(centre_staff)
    notary, notary_staff = market_entity(OrgType.AGENCY)
    orgs = [(centre, centre_staff), (regulator, regulator_staff), (notary, notary_staff)]
    record, shares = crypto_escrow.create_escrow(
        "intl-2026", threshold=2, custodians=[o.credit_code for o, _u in orgs]
    )
    return [Custodian(o, u, shares[o.credit_code]) for o, u in orgs], record


def escrowed_tender(
    **overrides,
) -> tuple[Tender, User, list[Custodian], crypto_escrow.EscrowPublic]:
    tender, manager = draft_tender(sections=ONE_SECTION, **overrides)
    people, record = custodians()
    escrow.register_escrow(manager, tender, record.to_dict())
    tendering.upload_document(manager, tender, pdf())
    tendering.publish_tender(manager, tender)
    tender.refresh_from_db()
    return tender, manager, people, record


def four_bids(clock, tender, record) -> list[Sealed]:
    """Bids 1 and 2 sealed to their bidders only; 3 and 4 also to the escrow key."""
    section = tender.sections.get()
    sealed = []
    for n, price in enumerate(("12345678.00", "11800000.50", "12990000.00", "12500000.00")):
        org, user = bidder(tender, clock)
        also = (record.public_key,) if n >= 2 else ()
        sealed.append(submit(user, org, section, bid_package(price, 300 + n), also_to=also))
    return sealed


def in_escrow_period(clock, tender, sealed) -> OpeningSession:
    """Bids 1 and 3 release their keys; 2 and 4 do not; the window closes."""
    at_deadline(clock, tender)
    services.start_due_openings()
    services.release_key(sealed[0].user, sealed[0].bid, sealed[0].data_key)
    services.release_key(sealed[2].user, sealed[2].bid, sealed[2].data_key)
    session = OpeningSession.objects.get(tender=tender)
    clock.set(session.decryption_deadline)
    services.close_decryption()
    session.refresh_from_db()
    return session


def status(sealed: Sealed) -> str:
    return OpenedBid.objects.get(bid=sealed.bid).status


def escrow_counts() -> dict[str, int]:
    return {
        **row_counts(),
        "escrow": Escrow.objects.count(),
        "shares": EscrowShareSubmission.objects.count(),
        "opened": OpenedBid.objects.exclude(status=OpenedBid.Status.AWAITING_ESCROW).count(),
    }


# --- registering ------------------------------------------------------------------------------


def test_the_escrow_is_registered_with_the_draft_and_fixed_at_publication():
    tender, manager = draft_tender(sections=ONE_SECTION)
    people, record = custodians()
    registered = escrow.register_escrow(manager, tender, record.to_dict())
    assert registered.key_id == record.key_id.hex()
    assert (registered.threshold, registered.count) == (2, 3)
    event = DomainEvent.objects.get(type="opening.escrow.registered")
    assert event.payload["custodians"] == sorted(p.org.credit_code for p in people)
    assert event.payload["public_key"] == record.public_key.hex()
    # Nothing stored decrypts anything: no share, nor any word of one.
    stored = str(registered.record) + str(event.payload)
    assert all(p.share.split()[5] not in stored.split() for p in people)

    again, _shares = crypto_escrow.create_escrow(
        "intl-2026", threshold=3, custodians=[p.org.credit_code for p in people]
    )
    replaced = escrow.register_escrow(manager, tender, again.to_dict())
    assert Escrow.objects.get().pk == replaced.pk and replaced.threshold == 3
    assert (
        DomainEvent.objects.filter(type="opening.escrow.registered").last().payload["replaces"]
        == registered.key_id
    )

    tendering.upload_document(manager, tender, pdf())
    tendering.publish_tender(manager, tender)
    before = escrow_counts()
    with pytest.raises(Conflict) as refused:
        escrow.register_escrow(manager, tender, record.to_dict())
    assert refused.value.rule == "escrow_before_publication"
    with pytest.raises(Conflict):
        escrow.remove_escrow(manager, tender)
    assert escrow_counts() == before


def test_registering_refusals_write_nothing():
    tender, manager = draft_tender(sections=ONE_SECTION)
    people, record = custodians()
    _stranger, stranger_staff = market_entity(OrgType.TENDERER)
    before = escrow_counts()
    with pytest.raises(NotAllowed):
        escrow.register_escrow(stranger_staff, tender, record.to_dict())
    with pytest.raises(InvalidInput) as bad:
        escrow.register_escrow(manager, tender, {"suite": "intl-2026"})
    assert bad.value.field == "escrow" and bad.value.rule == "escrow_record"
    sm, _shares = crypto_escrow.create_escrow(
        "sm-2026", threshold=2, custodians=[p.org.credit_code for p in people]
    )
    with pytest.raises(InvalidInput) as other_suite:
        escrow.register_escrow(manager, tender, sm.to_dict())
    assert other_suite.value.rule == "escrow_suite"
    unknown, _shares = crypto_escrow.create_escrow(
        "intl-2026", threshold=2, custodians=[people[0].org.credit_code, "91330100MA0000001F"]
    )
    with translation.override("en"), pytest.raises(InvalidInput) as no_such:
        escrow.register_escrow(manager, tender, unknown.to_dict())
    assert no_such.value.rule == "escrow_custodian" and "91330100MA0000001F" in str(no_such.value)
    tampered = record.to_dict()
    tampered["threshold"] = 1
    with pytest.raises(InvalidInput):
        escrow.register_escrow(manager, tender, tampered)
    with pytest.raises(NotFound):
        escrow.remove_escrow(manager, tender)
    assert escrow_counts() == before


def test_removing_the_escrow_of_a_draft():
    tender, manager = draft_tender(sections=ONE_SECTION)
    _people, record = custodians()
    escrow.register_escrow(manager, tender, record.to_dict())
    escrow.remove_escrow(manager, tender)
    assert not Escrow.objects.exists()
    assert DomainEvent.objects.filter(type="opening.escrow.removed").exists()


# --- submission ---------------------------------------------------------------------------------


def test_the_receipt_names_the_escrow_when_the_bid_is_sealed_to_it(clock):
    tender, _manager, _people, record = escrowed_tender()
    sealed = four_bids(clock, tender, record)
    for s in sealed[:2]:
        assert s.bid.escrow_key_id == ""
        assert "escrow-key" not in s.bid.receipt
    for s in sealed[2:]:
        assert s.bid.escrow_key_id == record.key_id.hex()
        verified = verify_note(s.bid.receipt, [keys.log_signer().verifier()])
        assert f"escrow-key {record.key_id.hex()}" in verified.text.splitlines()


def test_a_bid_of_another_suite_than_the_tenders_is_refused(clock):
    tender, _manager = draft_tender(sections=ONE_SECTION, crypto_suite="sm-2026")
    tendering.upload_document(_manager, tender, pdf())
    tendering.publish_tender(_manager, tender)
    tender.refresh_from_db()
    org, user = bidder(tender, clock)
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        submit(user, org, tender.sections.get(), bid_package(), suite_name="intl-2026")
    assert refused.value.field == "suite" and refused.value.rule == "tender_crypto_suite"
    assert "sm-2026" in str(refused.value)
    sealed = submit(user, org, tender.sections.get(), bid_package(), suite_name="sm-2026")
    assert sealed.bid.suite == "sm-2026"


# --- the opening ----------------------------------------------------------------------------------


def test_custodians_open_the_bids_whose_keys_were_not_released(clock):
    tender, manager, people, record = escrowed_tender()
    sealed = four_bids(clock, tender, record)
    session = in_escrow_period(clock, tender, sealed)

    # Bid 2 is not sealed to the escrow: rejected at the window as before. Bid 4 waits.
    assert session.status == OpeningSession.Status.ESCROW
    assert [status(s) for s in sealed] == ["opened", "rejected", "opened", "awaiting_escrow"]
    assert session.escrow_deadline == session.decryption_deadline + dt.timedelta(
        minutes=tender.decryption_window_minutes
    )
    with pytest.raises(Conflict) as late:
        services.release_key(sealed[3].user, sealed[3].bid, sealed[3].data_key)
    assert late.value.rule == "decryption_window"

    centre, regulator, notary = people
    escrow.give_share(centre.user, tender, centre.share)
    session.refresh_from_db()
    assert session.status == OpeningSession.Status.ESCROW and status(sealed[3]) == "awaiting_escrow"

    escrow.give_share(notary.user, tender, notary.share)
    session.refresh_from_db()
    assert session.status == OpeningSession.Status.CLOSED
    opened = OpenedBid.objects.get(bid=sealed[3].bid)
    assert opened.status == OpenedBid.Status.OPENED and opened.via_escrow
    assert str(opened.price) == "12500000.00" and bytes(opened.data_key) == sealed[3].data_key
    # The shares are erased once used; who gave them stays.
    assert set(EscrowShareSubmission.objects.values_list("mnemonic", flat=True)) == {""}
    assert EscrowShareSubmission.objects.filter(cleared_at__isnull=True).count() == 0
    used = DomainEvent.objects.get(type="opening.escrow.used")
    assert used.payload["custodians"] == sorted([centre.org.credit_code, notary.org.credit_code])
    assert used.payload["bids"] == [sealed[3].bid.pk]
    read_out = DomainEvent.objects.filter(type="opening.bid.opened").last()
    assert read_out.payload["bid"] == sealed[3].bid.pk and read_out.payload["via_escrow"] is True
    assert Escrow.objects.get().used_at is not None
    # A share given late is refused: the escrow period is over.
    with pytest.raises(Conflict) as over:
        escrow.give_share(regulator.user, tender, regulator.share)
    assert over.value.rule == "escrow_window"

    signed = services.sign_opening_record(manager, session)
    assert "via-escrow" in signed.record_text
    assert f"escrow {record.key_id.hex()} threshold 2 of 3" in signed.record_text


def test_share_refusals_write_nothing(clock):
    tender, _manager, people, record = escrowed_tender()
    sealed = four_bids(clock, tender, record)
    centre, regulator, _notary = people

    at_deadline(clock, tender)
    services.start_due_openings()
    before = escrow_counts()
    with translation.override("en"), pytest.raises(Conflict) as early:
        escrow.give_share(centre.user, tender, centre.share)
    assert early.value.rule == "escrow_window" and early.value.field == "share"
    assert "server time" in str(early.value)
    assert escrow_counts() == before

    session = OpeningSession.objects.get(tender=tender)
    clock.set(session.decryption_deadline)
    services.close_decryption()
    before = escrow_counts()

    _other, foreign = crypto_escrow.create_escrow(
        "intl-2026", threshold=2, custodians=[p.org.credit_code for p in people]
    )
    with pytest.raises(InvalidInput) as not_ours:
        escrow.give_share(centre.user, tender, foreign[centre.org.credit_code])
    assert not_ours.value.rule == "escrow_foreign_share"
    words = centre.share.split()
    words[3] = "academic" if words[3] != "academic" else "acid"
    with pytest.raises(InvalidInput) as mistyped:
        escrow.give_share(centre.user, tender, " ".join(words))
    assert mistyped.value.rule == "escrow_bad_checksum"
    assert centre.share not in str(mistyped.value)
    with pytest.raises(NotAllowed) as someone_elses:
        escrow.give_share(regulator.user, tender, centre.share)
    assert someone_elses.value.rule == "escrow_custodian"
    bidder_user = sealed[0].user
    with pytest.raises(NotAllowed):
        escrow.give_share(bidder_user, tender, centre.share)
    with pytest.raises(InvalidInput):
        escrow.give_share(centre.user, tender, "   ")
    assert escrow_counts() == before

    escrow.give_share(centre.user, tender, centre.share)
    after_one = escrow_counts()
    with pytest.raises(Conflict) as twice:
        escrow.give_share(centre.user, tender, centre.share)
    assert twice.value.rule == "escrow_share_given"
    assert escrow_counts() == after_one


def test_without_enough_shares_the_waiting_bids_are_rejected_at_the_escrow_deadline(clock):
    tender, _manager, people, record = escrowed_tender(decryption_window_minutes=15)
    sealed = four_bids(clock, tender, record)
    session = in_escrow_period(clock, tender, sealed)
    assert session.escrow_deadline - session.decryption_deadline == dt.timedelta(minutes=15)
    escrow.give_share(people[1].user, tender, people[1].share)
    assert EscrowShareSubmission.objects.get().mnemonic != ""

    clock.set(session.escrow_deadline - dt.timedelta(microseconds=1))
    services.close_decryption()
    assert status(sealed[3]) == "awaiting_escrow"
    clock.set(session.escrow_deadline)
    services.close_decryption()
    session.refresh_from_db()
    assert session.status == OpeningSession.Status.CLOSED
    rejected = OpenedBid.objects.get(bid=sealed[3].bid)
    assert rejected.status == "rejected" and rejected.reason_code == "no_key"
    assert rejected.fault == OpenedBid.Fault.BIDDER and not rejected.via_escrow
    assert EscrowShareSubmission.objects.get().mnemonic == ""  # erased all the same


def test_a_forged_escrow_wrapping_rejects_only_that_bid(clock):
    """A bidder that puts garbage in the escrow's copy of its data key cannot blame the escrow."""
    tender, _manager, people, record = escrowed_tender()
    sealed = four_bids(clock, tender, record)
    last = sealed[3]
    # The bidder alters the escrow's wrapped key before submitting: the receipt covers the
    # altered envelope, so this is the bidder's doing, not tampering in storage.
    envelope = bytearray(last.envelope)
    escrow_entry = parse_envelope(last.envelope).recipients[1]
    start = last.envelope.index(escrow_entry.key_id) + 34  # key id, then a 2-byte length
    envelope[start + 40] ^= 0xFF
    forged = submit_raw(last.user, last.org, tender.sections.get(), bytes(envelope), last)
    assert forged.bid.escrow_key_id == record.key_id.hex()

    session = in_escrow_period(clock, tender, [*sealed[:3], forged])
    escrow.give_share(people[0].user, tender, people[0].share)
    escrow.give_share(people[1].user, tender, people[1].share)
    rejected = OpenedBid.objects.get(bid=forged.bid)
    assert rejected.status == "rejected" and rejected.reason_code == "escrow_unwrap_failed"
    assert rejected.via_escrow and rejected.fault == OpenedBid.Fault.BIDDER
    session.refresh_from_db()
    assert session.status == OpeningSession.Status.CLOSED


def submit_raw(user, org, section, envelope: bytes, like: Sealed) -> Sealed:
    """Submit ``envelope`` as it is, committed to ``like``'s plaintext."""
    suite = get_suite("intl-2026")
    signing = suite.generate_signing_key()
    certify(user, org, "intl-2026", signing)
    sha = hashlib.sha256(envelope).hexdigest()
    upload = bidding.start_upload(user, section, size=len(envelope), sha256=sha)
    bidding.append_chunk(
        user, upload.pk, offset=0, stream=io.BytesIO(envelope), length=len(envelope)
    )
    commitment = suite.hash(like.plaintext).hex()
    message = bidding.commitment_message(section, org, sha, commitment)
    bid = bidding.commit_bid(
        user,
        upload.pk,
        suite="intl-2026",
        commitment=commitment,
        signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
        public_key=base64.b64encode(signing.public).decode(),
    )
    return Sealed(bid, org, user, like.data_key, like.plaintext, envelope, like.encryption)
