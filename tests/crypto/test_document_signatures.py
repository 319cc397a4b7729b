"""People sign platform documents with their certificates: the opening record signed by the
agency's staff (service, API, client, page), with every refusal writing nothing."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from openbid.accounts.services import issue_api_token
from openbid.bidding import client
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.models import DomainEvent
from openbid.crypto import document_signatures
from openbid.crypto.document_message import signing_message
from openbid.crypto.models import DocumentSignature
from openbid.crypto.services import CertificateRefused
from openbid.crypto.suites import KeyUse, get_suite
from openbid.opening import services as opening
from openbid.opening.models import OpeningSession
from tests.certificates import certify
from tests.opening.helpers import at_deadline, tender_with_bids
from tests.opening.test_api import API, bearer, post

pytestmark = pytest.mark.django_db

KIND = "opening-record"


def published_record(clock) -> tuple[Any, Any, Any]:
    tender, manager, sealed = tender_with_bids(clock)
    at_deadline(clock, tender)
    opening.start_due_openings()
    for s in sealed:
        opening.release_key(s.user, s.bid, s.data_key)
    session = opening.sign_opening_record(manager, OpeningSession.objects.get(tender=tender))
    return tender, manager, sealed, session


def signed_by(user, org, suite_name: str, tender_id: int, sha256: str) -> dict[str, str]:
    suite = get_suite(suite_name)
    signing = suite.generate_signing_key()
    certify(user, org, suite_name, signing)
    message = signing_message(KIND, tender_id, sha256)
    return {
        "sha256": sha256,
        "signature": base64.b64encode(suite.sign(signing.private, message)).decode(),
        "public_key": base64.b64encode(signing.public).decode(),
    }


def counts() -> tuple[int, int]:
    return DocumentSignature.objects.count(), DomainEvent.objects.count()


@pytest.mark.parametrize("suite_name", ["intl-2026", "sm-2026"])
def test_the_agency_signs_the_published_record_with_its_certificate(clock, suite_name):
    tender, manager, _sealed, session = published_record(clock)
    org = tender.project.agency or tender.project.tenderer
    body = signed_by(manager, org, suite_name, tender.pk, session.record_sha256)
    row = document_signatures.sign(manager, KIND, tender.pk, **body)
    assert row.suite == suite_name and row.organisation == org
    assert document_signatures.verifies(row)
    event = DomainEvent.objects.get(type="crypto.document.signed")
    assert event.payload["sha256"] == session.record_sha256
    assert event.payload["certificate"] == row.certificate.fingerprint


def test_signing_refusals_write_nothing(clock):
    tender, manager, sealed, session = published_record(clock)
    org = tender.project.agency or tender.project.tenderer
    body = signed_by(manager, org, "intl-2026", tender.pk, session.record_sha256)
    before = counts()

    with pytest.raises(NotAllowed):  # a bidder is not responsible for the record
        document_signatures.sign(sealed[0].user, KIND, tender.pk, **body)
    with pytest.raises(Conflict) as other_version:
        document_signatures.sign(manager, KIND, tender.pk, **{**body, "sha256": "0" * 64})
    assert other_version.value.rule == "document_version"
    forged = base64.b64encode(b"\x00" * 64).decode()
    with pytest.raises(InvalidInput) as bad:
        document_signatures.sign(manager, KIND, tender.pk, **{**body, "signature": forged})
    assert bad.value.rule == "document_signature"
    stranger_key = get_suite("intl-2026").generate_signing_key().public
    with pytest.raises(CertificateRefused) as uncertified:
        document_signatures.sign(
            manager,
            KIND,
            tender.pk,
            **{**body, "public_key": base64.b64encode(stranger_key).decode()},
        )
    assert uncertified.value.rule == "certificate_not_registered"
    with pytest.raises(NotFound):
        document_signatures.sign(manager, "contract", tender.pk, **body)
    with pytest.raises(NotFound):
        document_signatures.sign(manager, KIND, tender.pk + 999, **body)
    assert counts() == before

    document_signatures.sign(manager, KIND, tender.pk, **body)
    after = counts()
    with pytest.raises(Conflict) as twice:
        document_signatures.sign(manager, KIND, tender.pk, **body)
    assert twice.value.rule == "signed_once"
    assert counts() == after


def test_no_signing_before_the_record_is_published(clock):
    tender, manager, _sealed = tender_with_bids(clock)
    with pytest.raises(NotFound):
        document_signatures.signable(manager, KIND, tender.pk)


def test_signing_through_the_api_and_the_record_page(clock, client):
    tender, manager, sealed, session = published_record(clock)
    org = tender.project.agency or tender.project.tenderer
    auth = bearer(manager)
    url = f"{API}/documents/{KIND}/{tender.pk}/signing"
    info = client.get(url, **auth).json()
    assert info["sha256"] == session.record_sha256 and info["signatures"] == []
    assert info["message"].encode() == signing_message(KIND, tender.pk, session.record_sha256)
    assert client.get(url, **bearer(sealed[0].user)).status_code == 403
    body = signed_by(manager, org, "intl-2026", tender.pk, session.record_sha256)
    done = post(client, f"/documents/{KIND}/{tender.pk}/signatures", body, auth)
    assert done.status_code == 201, done.content
    again = post(client, f"/documents/{KIND}/{tender.pk}/signatures", body, auth)
    assert again.status_code == 409 and again.json()["error"]["rule"] == "signed_once"

    page = Client()
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = page.get(reverse("opening:record", args=[tender.pk])).content.decode()
    assert text.count('data-testid="record-signature"') == 1 and "✓" in text
    assert "openbid-bidder sign" not in text  # the command is shown to the signers only


@pytest.mark.django_db(transaction=True)
def test_the_client_signs_a_record(live_server, clock, tmp_path, capsys, monkeypatch):
    tender, manager, _sealed, session = published_record(clock)
    org = tender.project.agency or tender.project.tenderer
    keys = tmp_path / "keys"
    assert client.main(["keygen", "--out", str(keys)]) == 0
    public = get_suite("intl-2026").public_key_from_pem(
        (keys / "signing.pub").read_bytes(), KeyUse.SIGNING
    )
    certify(manager, org, "intl-2026", public)
    _token, raw = issue_api_token(manager, name="signing")
    monkeypatch.setenv("OPENBID_TOKEN", raw)
    capsys.readouterr()
    argv = [
        "sign",
        KIND,
        str(tender.pk),
        "--url",
        live_server.url,
        "--key",
        str(keys / "signing.key"),
    ]
    assert client.main([*argv, "--expect-sha256", "f" * 64]) == 2
    assert "not signed" in capsys.readouterr().err
    assert not DocumentSignature.objects.exists()
    assert client.main(argv) == 0, capsys.readouterr().err
    row = DocumentSignature.objects.get()
    assert row.sha256 == session.record_sha256 and row.signer == manager
    assert document_signatures.verifies(row)
