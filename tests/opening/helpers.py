"""Sealed bids for opening tests, made as a bidder makes them: a package, sealed with the section's
aad (``openbid.opening.aad.bid_aad``) to the bidder's own encryption key, submitted through the
bidding services; the data key is what the bidder client unwraps at the opening."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from openbid.accounts.models import Organisation, User
from openbid.bidding import package
from openbid.bidding import services as bidding
from openbid.bidding.models import Bid
from openbid.crypto.suites import KeyPair, get_suite
from openbid.opening.aad import bid_aad
from openbid.tendering import services as tendering
from openbid.tendering.models import Section, Tender
from tests.certificates import certify
from tests.factories import market_entity
from tests.tendering.factories import published_tender

SUITE = "intl-2026"
PDF = b"%PDF-1.7\n% bid document\n"


@dataclass
class Sealed:
    bid: Bid
    org: Organisation
    user: User
    data_key: bytes
    plaintext: bytes
    envelope: bytes
    encryption: KeyPair


def bid_package(price: str = "12345678.00", duration_days: int = 360, **items: Any) -> bytes:
    form = {"price": price, "duration_days": duration_days, **items}
    return package.build(
        {"投标函.pdf": PDF + price.encode(), "技术标.pdf": PDF + b"tech"},
        form,
        tool="tests",
        machine="test-machine",
    )


def one_section_tender(**overrides: Any) -> tuple[Tender, User]:
    sections = [{"name": "一标段 道路工程", "estimated_price": "20000000", "deposit": "400000"}]
    return published_tender(**{"sections": sections, **overrides})


def bidder(tender: Tender, clock: Any) -> tuple[Organisation, User]:
    if clock.now() < tender.doc_issue_start:
        clock.set(tender.doc_issue_start + dt.timedelta(minutes=1))
    org, user = market_entity()
    tendering.obtain_documents(user, tender)
    return org, user


def submit(
    user: User,
    org: Organisation,
    section: Section,
    plaintext: bytes,
    *,
    committed: bytes | None = None,
    aad: bytes | None = None,
    suite_name: str = SUITE,
    also_to: tuple[bytes, ...] = (),
) -> Sealed:
    """Seal ``plaintext`` and submit it, signing the commitment to ``committed`` (default: the
    plaintext itself) — a different ``committed`` makes a bid whose plaintext does not match.
    ``also_to``: further recipients' public keys (the tender's escrow key)."""
    suite = get_suite(suite_name)
    encryption = suite.generate_encryption_key()
    signing = suite.generate_signing_key()
    certify(user, org, suite_name, signing)
    envelope = suite.seal(
        [encryption.public, *also_to], plaintext, bid_aad(section) if aad is None else aad
    )
    sha = hashlib.sha256(envelope).hexdigest()
    upload = bidding.start_upload(user, section, size=len(envelope), sha256=sha)
    bidding.append_chunk(
        user, upload.pk, offset=0, stream=io.BytesIO(envelope), length=len(envelope)
    )
    commitment = suite.hash(plaintext if committed is None else committed).hex()
    message = bidding.commitment_message(section, org, sha, commitment)
    bid = bidding.commit_bid(
        user,
        upload.pk,
        suite=suite_name,
        commitment=commitment,
        signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
        public_key=base64.b64encode(signing.public).decode(),
    )
    data_key = suite.unwrap(encryption.private, envelope)  # what the bidder client does
    return Sealed(bid, org, user, data_key, plaintext, envelope, encryption)


def tender_with_bids(
    clock: Any, prices: tuple[str, ...] = ("12345678.00", "11800000.50", "12990000.00")
) -> tuple[Tender, User, list[Sealed]]:
    """A one-section tender with one bid per price, the clock still before the deadline."""
    tender, manager = one_section_tender()
    section = tender.sections.get()
    sealed = []
    for n, price in enumerate(prices):
        org, user = bidder(tender, clock)
        sealed.append(submit(user, org, section, bid_package(price, 300 + n, 项目经理=f"张{n}")))
    return tender, manager, sealed


def at_deadline(clock: Any, tender: Tender, **later: float) -> dt.datetime:
    return clock.set(tender.bid_deadline + dt.timedelta(**later))
