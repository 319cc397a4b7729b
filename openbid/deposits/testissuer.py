"""The built-in test guarantee issuer: runs inside the platform process, for the demo and tests.
Never for real guarantees (its key is derivable from a public seed).

It speaks the issuer API of docs/operators/guarantees.md exactly as an outside issuer would: it
receives the platform's signed application note, checks the platform's signature with the
platform's published verifier key, and answers with a guarantee signed by its own certified key
and an invoice record. Its key comes from ``OPENBID_TEST_ISSUER_SEED`` (default
``openbid-test-issuer``) as ``openbid.crypto.testca`` derives a person's signing key, so a
certificate issued with :func:`issue_certificate` by a test CA certifies it; that certificate is
what centre staff register (``api_url = "builtin:test"``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from django.conf import settings

from openbid.core import clock
from openbid.crypto.suites import KeyPair, get_suite
from openbid.crypto.testca import TestCA, TestPerson, _seed_bytes, derive_keypair
from openbid.crypto.x509 import KeyType

_KEY_TYPES = {"intl-2026": KeyType.ED25519, "sm-2026": KeyType.SM2}


def seed() -> str:
    return str(getattr(settings, "OPENBID_TEST_ISSUER_SEED", "openbid-test-issuer"))


def signing_key(suite: str = "intl-2026") -> KeyPair:
    """The test issuer's signing key, as ``TestCA.issue_person`` derives it from the seed."""
    return derive_keypair(_seed_bytes(seed()) + b"/signing", _KEY_TYPES[suite])


def issue_certificate(
    ca: TestCA,
    *,
    name: str,
    credit_code: str,
    not_before: dt.datetime,
    suite: str = "intl-2026",
) -> TestPerson:
    """A signing certificate of the test issuer from the test CA ``ca`` (for registration)."""
    return ca.issue_person(
        name, credit_code, seed=seed(), not_before=not_before, organisation=name, suite=suite
    )


def sign(document: dict[str, Any], key: KeyPair, suite: str = "intl-2026") -> dict[str, Any]:
    """The envelope of a guarantee signed with ``key`` (also used by tests to forge bad ones)."""
    from openbid.deposits.guarantees import canonical

    signature = get_suite(suite).sign(key.private, canonical(document))
    return {"guarantee": document, "signature": base64.b64encode(signature).decode("ascii")}


def _refused(reason: str) -> dict[str, Any]:
    return {"status": "refused", "reason": reason}


def handle(issuer: Any, note: str) -> dict[str, Any]:
    """Answer one application (the issuer API's ``POST /applications``)."""
    from openbid.deposits.guarantees import APPLICATION_HEADER, APPLICATION_TYPE, DOCUMENT_TYPE
    from openbid.ledger import keys
    from openbid.ledger.note import NoteError, verify_note

    try:
        verified = verify_note(note.encode("utf-8"), [keys.log_signer().verifier()])
    except NoteError as exc:
        return _refused(f"the application is not signed by the platform: {exc}")
    text = verified.text
    if not text.startswith(APPLICATION_HEADER):
        return _refused("not an openbid guarantee application v1")
    try:
        app = json.loads(text[len(APPLICATION_HEADER) :])
    except json.JSONDecodeError:
        return _refused("the application is not JSON")
    if app.get("type") != APPLICATION_TYPE or app.get("issuer", {}).get("credit_code") != (
        issuer.credit_code
    ):
        return _refused("the application is for another issuer")
    key = signing_key(issuer.suite)
    if base64.b64encode(key.public).decode("ascii") != issuer.public_key:
        return _refused("the test issuer's key does not match its registered certificate")
    now = clock.now()
    document = {
        "type": DOCUMENT_TYPE,
        "version": 1,
        "number": f"TEST-{now:%Y}-{int(app['application']):08d}",
        "issuer": {"credit_code": issuer.credit_code, "name": issuer.name},
        "beneficiary": app["beneficiary"],
        "tender": app["tender"],
        "section": {"id": app["section"]["id"], "number": app["section"]["number"]},
        "bidder": app["bidder"],
        "amount": app["amount"],
        "currency": "CNY",
        "valid_from": app["valid_from"],
        "valid_until": app["valid_until"],
        "issued_at": now.isoformat(),
        "application": app["application"],
    }
    return {
        "status": "issued",
        **sign(document, key, issuer.suite),
        "invoice": {
            "number": f"INV-TEST-{int(app['application']):08d}",
            "amount": app["fee"],
            "date": clock.today().isoformat(),
        },
    }
