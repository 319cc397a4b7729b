"""The bidder's pages: a sealed envelope and its sidecar (as ``openbid-bidder seal`` writes them)
are submitted through the page; refusals show on the form; "my bids" lists every submission with
its receipt; the valid bid is withdrawn from the submission page."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openbid.accounts.models import Organisation, User
from openbid.bidding import client, services
from openbid.bidding.models import Bid, BidUpload
from openbid.crypto.suites import KeyUse, get_suite
from openbid.ledger import keys
from openbid.ledger.note import verify_note
from openbid.tendering.models import Section
from tests.certificates import certify
from tests.factories import market_entity
from tests.opening.helpers import bid_package, bidder, one_section_tender

pytestmark = pytest.mark.django_db

SUITE = "intl-2026"


@dataclass
class Envelope:
    """What the bidder has on its machine after ``openbid-bidder seal``."""

    envelope: bytes
    sidecar: bytes
    signing_key: bytes
    data_key: bytes

    @property
    def facts(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.sidecar)
        return value

    def signature(self, section: Section, org: Organisation) -> str:
        """The signature over the commitment message, as the bidder makes it for the page."""
        suite = get_suite(SUITE)
        person = User.objects.filter(memberships__organisation=org).order_by("id").first()
        certify(person, org, SUITE, base64.b64decode(self.facts["signer_public_key"]))
        message = services.commitment_message(
            section, org, self.facts["ciphertext_sha256"], self.facts["commitment"]
        )
        return base64.b64encode(suite.sign(self.signing_key, message)).decode()


def seal(folder: Path, section: Section, price: str = "12345678.00") -> Envelope:
    """Seal a bid package for ``section`` with the bidder client itself (keygen, seal --sign)."""
    folder.mkdir(parents=True, exist_ok=True)
    keys_dir, package_file, out = folder / "keys", folder / "bid.zip", folder / "bid.obenv"
    assert client.main(["keygen", "--suite", SUITE, "--out", str(keys_dir)]) == 0
    package_file.write_bytes(bid_package(price))
    argv = ["seal", str(package_file), "--suite", SUITE, "--to", str(keys_dir / "encryption.pub")]
    argv += ["--sign", str(keys_dir / "signing.key"), "--section-aad", str(section.pk)]
    assert client.main([*argv, "--out", str(out)]) == 0
    suite = get_suite(SUITE)
    encryption = suite.private_key_from_pem(
        (keys_dir / "encryption.key").read_bytes(), KeyUse.ENCRYPTION
    )
    envelope = out.read_bytes()
    return Envelope(
        envelope=envelope,
        sidecar=client.sidecar_path(out).read_bytes(),
        signing_key=suite.private_key_from_pem(
            (keys_dir / "signing.key").read_bytes(), KeyUse.SIGNING
        ),
        data_key=suite.unwrap(encryption, envelope),
    )


def client_for(user: Any) -> Client:
    """A signed-in client reading the English pages (the assertions quote English text)."""
    c = Client()
    c.force_login(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def post_bid(
    c: Client, section: Section, sealed: Envelope, signature: str, sidecar: bytes | None = None
) -> Any:
    return c.post(
        reverse("bidding:submit", args=[section.pk]),
        {
            "envelope": SimpleUploadedFile("bid.obenv", sealed.envelope),
            "sidecar": SimpleUploadedFile(
                "bid.obenv.json", sealed.sidecar if sidecar is None else sidecar
            ),
            "signature": signature,
        },
    )


def field_errors(response: Any, field: str) -> list[str]:
    """The field's errors in English, the language the test's client reads the page in."""
    from django.utils import translation

    with translation.override("en"):
        return [str(e) for e in response.context["form"].errors.get(field, [])]


def test_a_bidder_submits_through_the_page_and_sees_the_receipt(clock, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_BYTES", 1000)  # several chunks, streamed
    tender, _manager = one_section_tender()
    section = tender.sections.get()
    org, user = bidder(tender, clock)
    c = client_for(user)

    # The tender page links the bidder to the section's submission page.
    tender_page = c.get(reverse("tendering:tender", args=[tender.pk])).content.decode()
    url = reverse("bidding:submit", args=[section.pk])
    assert f'href="{url}"' in tender_page

    page = c.get(url).content.decode()
    assert 'data-testid="submit-form"' in page and 'data-testid="no-bid"' in page
    assert "openbid-bidder seal" in page and f"--section-aad {section.pk}" in page
    assert f"Seal for this section (--section-aad {section.pk})" in page
    assert f"bidder {org.credit_code}" in page  # the commitment message to sign

    sealed = seal(tmp_path, section)
    assert len(sealed.envelope) > 1000
    response = post_bid(c, section, sealed, sealed.signature(section, org))
    assert response.status_code == 302, response.content.decode()
    bid = Bid.objects.get(section=section, organisation=org)
    assert bid.status == Bid.Status.VALID and bid.version == 1
    assert bid.ciphertext_sha256 == sealed.facts["ciphertext_sha256"]
    assert bid.commitment == sealed.facts["commitment"]
    assert bid.signer_public_key == sealed.facts["signer_public_key"]
    assert bid.ciphertext.read() == sealed.envelope
    assert BidUpload.objects.get(bid=bid).received == len(sealed.envelope)

    page = c.get(url).content.decode()
    assert 'data-testid="valid-bid"' in page and 'data-testid="withdraw"' in page
    assert "openbid bid receipt v1" in page and f"bid {bid.pk}" in page
    verify_note(bid.receipt, [keys.log_signer().verifier()])

    # Submitting again replaces the bid: the last submission counts.
    again = seal(tmp_path / "again", section, "11000000.00")
    assert post_bid(c, section, again, again.signature(section, org)).status_code == 302
    assert Bid.objects.get(pk=bid.pk).status == Bid.Status.SUPERSEDED
    assert Bid.objects.get(section=section, organisation=org, status="valid").version == 2


def test_refusals_show_on_the_form(clock, tmp_path):
    tender, _manager = one_section_tender()
    section = tender.sections.get()
    org, user = bidder(tender, clock)
    c = client_for(user)
    sealed = seal(tmp_path / "one", section)
    signature = sealed.signature(section, org)

    # The sidecar of another envelope.
    other = seal(tmp_path / "two", section, "9999999.00")
    refused = post_bid(c, section, sealed, signature, sidecar=other.sidecar)
    assert refused.status_code == 422
    assert "does not belong to this envelope" in field_errors(refused, "sidecar")[0]
    assert sealed.facts["ciphertext_sha256"] in refused.content.decode()

    # Not a sidecar at all.
    refused = post_bid(c, section, sealed, signature, sidecar=b"not json")
    assert "not the JSON sidecar" in field_errors(refused, "sidecar")[0]

    # A signature that is not over this commitment message.
    wrong = other.signature(section, org)
    refused = post_bid(c, section, sealed, wrong)
    assert refused.status_code == 422
    assert "does not verify" in field_errors(refused, "signature")[0]
    assert not Bid.objects.exists()

    # Another bidder whose organisation did not obtain the documents.
    stranger_org, stranger = market_entity()
    refused = post_bid(
        client_for(stranger), section, sealed, sealed.signature(section, stranger_org)
    )
    assert refused.status_code == 422
    errors = [str(e) for e in refused.context["form"].non_field_errors()]
    assert "Obtain the tender documents" in errors[0]
    assert "Obtain the tender documents" in refused.content.decode()

    # Late: the refusal names the deadline; the page no longer offers the form.
    clock.set(tender.bid_deadline + dt.timedelta(seconds=1))
    refused = post_bid(c, section, sealed, signature)
    assert refused.status_code == 422
    deadline = timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S")
    text = refused.content.decode()
    assert f"The bid deadline was {deadline}" in text
    assert 'data-testid="submit-form"' not in text and 'data-testid="closed"' in text
    assert not Bid.objects.exists()


def test_my_bids_lists_every_submission_with_its_receipt(clock, tmp_path):
    tender, _manager = one_section_tender()
    section = tender.sections.get()
    org, user = bidder(tender, clock)
    c = client_for(user)
    empty = c.get(reverse("bidding:my_bids")).content.decode()
    assert 'data-testid="no-bids"' in empty and "verify-receipt" in empty
    for n, price in enumerate(("12000000.00", "11000000.00")):
        sealed = seal(tmp_path / str(n), section, price)
        assert post_bid(c, section, sealed, sealed.signature(section, org)).status_code == 302
    page = c.get(reverse("bidding:my_bids")).content.decode()
    assert page.count('data-testid="bid-row"') == 2
    assert 'data-status="valid"' in page and 'data-status="superseded"' in page
    assert page.count("openbid bid receipt v1") == 2
    assert keys.log_verifier_key() in page

    # Another bidder sees none of them; a tenderer is not allowed.
    assert (
        'data-testid="no-bids"'
        in client_for(market_entity()[1]).get(reverse("bidding:my_bids")).content.decode()
    )
    assert client_for(_manager).get(reverse("bidding:my_bids")).status_code == 403

    # The home page lists the task for bidder staff.
    assert reverse("bidding:my_bids") in c.get(reverse("home")).content.decode()


def test_the_valid_bid_is_withdrawn_from_its_page(clock, tmp_path):
    tender, _manager = one_section_tender()
    section = tender.sections.get()
    org, user = bidder(tender, clock)
    c = client_for(user)
    sealed = seal(tmp_path, section)
    assert post_bid(c, section, sealed, sealed.signature(section, org)).status_code == 302
    bid = Bid.objects.get()

    # Someone else's bid is not found.
    other = client_for(market_entity()[1])
    assert other.post(reverse("bidding:withdraw", args=[bid.pk])).status_code == 404

    response = c.post(reverse("bidding:withdraw", args=[bid.pk]))
    assert response.status_code == 302
    assert Bid.objects.get(pk=bid.pk).status == Bid.Status.WITHDRAWN
    page = c.get(reverse("bidding:submit", args=[section.pk])).content.decode()
    assert 'data-testid="no-bid"' in page and 'data-status="withdrawn"' in page

    # Withdrawing it twice is refused with a message.
    again = c.post(reverse("bidding:withdraw", args=[bid.pk]), follow=True)
    assert "Only the valid bid can be withdrawn." in again.content.decode()
