"""E-guarantees (电子保函): issuers, signed guarantees and their verification, one-stop issuance,
claims.

A guarantee is a JSON document (docs/operators/guarantees.md) signed by its issuer: the signature
is the issuer's certified key's signature (Ed25519 for ``intl-2026``, SM2 for ``sm-2026``, through
``openbid.crypto.suites``) over the document's canonical JSON (RFC 8785, ``rfc8785``). The issuer's
signing certificate must chain to a CA the trading centre trusts (``openbid.crypto.services``);
the issuer is registered by centre staff with that certificate.

The platform verifies a guarantee when it is registered and again at the opening
(``verify_guarantee``): the signature, the issuer registered and active, its certificate valid at
that time (chain, validity, CRL), the binding to this tender, section and bidder, an amount of at
least the deposit required of the bidder, and a validity covering the bid deadline and the bid
validity period after it (``OPENBID_BID_VALIDITY_DAYS``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import rfc8785
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, has_role, require_role
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from openbid.core.events import record_event, salted_digest, service
from openbid.core.money import yuan
from openbid.core.validation import clean_text
from openbid.crypto import x509
from openbid.crypto.services import CertificateRefused, fingerprint, verify
from openbid.crypto.suites import KeyUse, get_suite
from openbid.deposits.models import (
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeIssuer,
)
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Section, Tender

DOCUMENT_TYPE = "openbid-bid-guarantee"
APPLICATION_TYPE = "openbid-guarantee-application"
VERSION = 1
BUILTIN_TEST = "builtin:test"
MAX_ENVELOPE_BYTES = 64 * 1024
FEN = Decimal("0.01")


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes that are signed: the document's canonical JSON (RFC 8785)."""
    return rfc8785.dumps(document)


def bid_validity_days() -> int:
    return int(getattr(settings, "OPENBID_BID_VALIDITY_DAYS", 90))


def cover_until(tender: Tender) -> dt.date:
    """The last day a guarantee must cover: the bid deadline's day plus the bid validity period."""
    return timezone.localdate(tender.bid_deadline) + dt.timedelta(days=bid_validity_days())


# --- issuers ----------------------------------------------------------------------------------


@service
def register_issuer(
    actor: Actor,
    *,
    name: str,
    kind: str,
    certificate_pem: str,
    intermediates_pem: str = "",
    api_url: str = "",
    fee_percent: str | Decimal = "0",
) -> GuaranteeIssuer:
    """Centre staff register a guarantee issuer with its signing certificate, which must verify
    now against the trusted CAs (chain, validity, key usage, CRL) and name the issuer's unified
    social credit code. One issuer per credit code."""
    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Registering a guarantee issuer"))
    name = clean_text(name, "name", 200)
    if kind not in GuaranteeIssuer.Kind.values:
        raise InvalidInput(
            _("The kind of issuer is bank, guarantor or insurer."), field="kind", rule="choice"
        )
    api_url = (api_url or "").strip()
    if api_url and not (api_url == BUILTIN_TEST or api_url.startswith("https://")):
        raise InvalidInput(
            _("The issuer API must be an https:// address (or builtin:test)."),
            field="api_url",
            rule="issuer_api",
        )
    percent = yuan(str(fee_percent), field="fee_percent") if fee_percent != "" else Decimal(0)
    if percent > 100:
        raise InvalidInput(
            _("The fee is at most the whole amount (100 per cent)."),
            field="fee_percent",
            rule="range",
        )
    try:
        certificates = x509.load_certificates(certificate_pem or "")
        chain = x509.load_certificates(intermediates_pem) if intermediates_pem.strip() else []
    except x509.CertificateError as exc:
        raise InvalidInput(
            _("The certificate cannot be read: %(error)s") % {"error": exc.message},
            field="certificate_pem",
            rule="certificate_malformed",
        ) from exc
    if not certificates:
        raise InvalidInput(
            _("Paste the issuer's signing certificate (PEM)."),
            field="certificate_pem",
            rule="required",
        )
    certificate = certificates[0]
    verified = verify(
        certificate,
        purpose=KeyUse.SIGNING,
        at=clock.now(),
        intermediates=[*certificates[1:], *chain],
        what=_("The issuer's certificate"),
    )
    if not verified.credit_code:
        raise InvalidInput(
            _("The issuer's certificate names no unified social credit code."),
            field="certificate_pem",
            rule="certificate_no_credit_code",
        )
    if verified.suite is None:
        raise InvalidInput(
            _("The issuer's key is neither Ed25519 nor SM2."),
            field="certificate_pem",
            rule="certificate_unsupported",
        )
    if GuaranteeIssuer.objects.filter(credit_code=verified.credit_code).exists():
        raise Conflict(
            _("An issuer with the unified social credit code %(code)s is already registered.")
            % {"code": verified.credit_code},
            field="certificate_pem",
            rule="unique_issuer",
        )
    now = clock.now()
    issuer = GuaranteeIssuer.objects.create(
        name=name,
        kind=kind,
        credit_code=verified.credit_code,
        certificate_pem=x509_pem(certificate),
        intermediates_pem="".join(x509_pem(c) for c in verified.chain[1:-1]),
        fingerprint=fingerprint(certificate),
        suite=verified.suite,
        public_key=base64.b64encode(verified.public_key_bytes).decode("ascii"),
        api_url=api_url,
        fee_percent=percent,
        registered_by=membership.user,
        registered_at=now,
    )
    record_event(
        "deposits.issuer.registered",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("guarantee_issuer", issuer.pk)],
        payload={
            "name": issuer.name,
            "kind": issuer.kind,
            "credit_code": issuer.credit_code,
            "fingerprint": issuer.fingerprint,
            "suite": issuer.suite,
        },
    )
    return issuer


def x509_pem(certificate: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return str(certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))


# --- checking a guarantee ---------------------------------------------------------------------


@dataclass
class Problem:
    code: str  # bad_signature | issuer | certificate | tender | section | bidder | amount | validity | format
    field: str
    message: str


@dataclass
class GuaranteeCheck:
    ok: bool
    reasons: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    guarantee: Any = None


def _date(value: Any, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            _("The guarantee's %(field)s is not a date (YYYY-MM-DD).") % {"field": name},
            field=name,
            rule="guarantee_format",
        ) from None


def _required_amount(section: Section, org: Organisation) -> Decimal:
    from openbid.deposits.services import required_deposit, sub_account_for

    sub = sub_account_for(section, org)
    if sub is not None:
        return Decimal(sub.amount_due)
    return required_deposit(
        section, org, timezone.localdate(section.tender.bid_deadline)
    ).amount_due


def check_document(
    issuer: GuaranteeIssuer,
    document: dict[str, Any],
    signature: bytes,
    section: Section,
    org: Organisation,
    at: dt.datetime,
) -> list[Problem]:
    """Every reason why ``document`` (signed ``signature``) is not a valid guarantee of ``org`` for
    ``section`` at ``at``; empty when it is."""
    problems: list[Problem] = []
    tender = section.tender
    if not issuer.active:
        problems.append(
            Problem(
                "issuer",
                "issuer",
                _("The issuer %(name)s is no longer accepted.") % {"name": issuer.name},
            )
        )
    message = canonical(document)
    try:
        good = get_suite(issuer.suite).verify(
            base64.b64decode(issuer.public_key), message, signature
        )
    except Exception:
        good = False
    if not good:
        problems.append(
            Problem(
                "bad_signature",
                "signature",
                _(
                    "The issuer's signature does not verify: the guarantee was altered or not "
                    "signed by %(name)s."
                )
                % {"name": issuer.name},
            )
        )
    try:
        verify(
            x509.load_certificate(issuer.certificate_pem),
            purpose=KeyUse.SIGNING,
            at=at,
            intermediates=x509.load_certificates(issuer.intermediates_pem)
            if issuer.intermediates_pem
            else [],
            field="issuer",
            what=_("The issuer's certificate"),
        )
    except CertificateRefused as exc:
        problems.append(Problem("certificate", "issuer", str(exc)))
    if document.get("type") != DOCUMENT_TYPE or document.get("version") != VERSION:
        problems.append(
            Problem("format", "guarantee", _("This is not an openbid bid guarantee (version 1)."))
        )
    if (document.get("issuer") or {}).get("credit_code") != issuer.credit_code:
        problems.append(
            Problem("issuer", "issuer", _("The guarantee names another issuer than its signer."))
        )
    if (document.get("tender") or {}).get("id") != tender.pk:
        problems.append(
            Problem(
                "tender",
                "tender",
                _("The guarantee is for another tender (%(got)s), not “%(title)s”.")
                % {"got": (document.get("tender") or {}).get("id"), "title": tender.title},
            )
        )
    if (document.get("section") or {}).get("id") != section.pk:
        problems.append(
            Problem(
                "section",
                "section",
                _("The guarantee is for another section, not section %(n)d.")
                % {"n": section.number},
            )
        )
    bidder_code = (document.get("bidder") or {}).get("credit_code")
    if bidder_code != org.credit_code:
        problems.append(
            Problem(
                "bidder",
                "bidder",
                _(
                    "The guarantee is for the bidder with the unified social credit code "
                    "%(got)s, not for %(org)s (%(code)s)."
                )
                % {"got": bidder_code, "org": org.name, "code": org.credit_code},
            )
        )
    if document.get("currency") != "CNY":
        problems.append(Problem("format", "currency", _("The guarantee's currency must be CNY.")))
    try:
        amount = yuan(str(document.get("amount", "")), field="amount")
    except InvalidInput as exc:
        problems.append(Problem("format", "amount", str(exc)))
        amount = None
    if amount is not None:
        required = _required_amount(section, org)
        if amount < required:
            problems.append(
                Problem(
                    "amount",
                    "amount",
                    _(
                        "The guarantee is for %(amount)s yuan, less than the %(required)s yuan "
                        "deposit required of the bidder."
                    )
                    % {"amount": amount, "required": required},
                )
            )
    try:
        valid_from = _date(document.get("valid_from"), "valid_from")
        valid_until = _date(document.get("valid_until"), "valid_until")
    except InvalidInput as exc:
        problems.append(Problem("format", exc.field or "valid_until", str(exc)))
    else:
        deadline_day = timezone.localdate(tender.bid_deadline)
        need_until = cover_until(tender)
        today = timezone.localdate(at)
        if valid_until < today:
            problems.append(
                Problem(
                    "validity",
                    "valid_until",
                    _("The guarantee expired on %(until)s.") % {"until": valid_until.isoformat()},
                )
            )
        elif valid_from > deadline_day or valid_until < need_until:
            problems.append(
                Problem(
                    "validity",
                    "valid_until",
                    _(
                        "The guarantee is valid from %(start)s to %(until)s; it must cover the bid "
                        "deadline (%(deadline)s) and the bid validity period of %(days)d days "
                        "after it, to %(need)s."
                    )
                    % {
                        "start": valid_from.isoformat(),
                        "until": valid_until.isoformat(),
                        "deadline": deadline_day.isoformat(),
                        "days": bid_validity_days(),
                        "need": need_until.isoformat(),
                    },
                )
            )
    return problems


def _stored_check(guarantee: Guarantee, at: dt.datetime) -> list[Problem]:
    return check_document(
        guarantee.issuer,
        json.loads(guarantee.document),
        base64.b64decode(guarantee.signature),
        guarantee.section,
        guarantee.organisation,
        at,
    )


def verify_guarantee(
    section_or_bid: Any, org: Organisation | None = None, at: dt.datetime | None = None
) -> GuaranteeCheck:
    """Whether the bidder has a valid registered e-guarantee for the section at ``at`` (default
    the bid deadline). Pass a ``bidding.Bid``, or a ``Section`` and the bidder's organisation.
    Re-verifies everything (a certificate may have been revoked since registration); writes
    nothing. The opening calls this (or ``openbid.deposits.services.deposit_status``)."""
    if isinstance(section_or_bid, Section):
        section = section_or_bid
        if org is None:
            raise TypeError("pass the bidder's organisation with a section")
    else:
        section = section_or_bid.section
        org = section_or_bid.organisation
    assert org is not None
    at = at or section.tender.bid_deadline
    candidates = list(
        Guarantee.objects.filter(section=section, organisation=org)
        .select_related("issuer", "section__tender__project", "organisation")
        .order_by("-registered_at", "-id")
    )
    if not candidates:
        return GuaranteeCheck(
            False,
            [_("No e-guarantee of %(org)s is registered for this section.") % {"org": org.name}],
        )
    first: GuaranteeCheck | None = None
    for guarantee in candidates:
        problems = _stored_check(guarantee, at)
        check = GuaranteeCheck(
            not problems,
            [
                _("E-guarantee %(number)s: %(problem)s")
                % {"number": guarantee.number, "problem": p.message}
                for p in problems
            ],
            problems,
            guarantee,
        )
        if check.ok:
            return check
        first = first or check
    assert first is not None
    return first


# --- registering a guarantee ------------------------------------------------------------------


def parse_envelope(envelope: str | bytes | dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """``{"guarantee": {...}, "signature": "<base64>"}`` as the document and the signature."""
    if isinstance(envelope, dict):
        doc = envelope
    else:
        raw = envelope.encode() if isinstance(envelope, str) else bytes(envelope)
        if len(raw) > MAX_ENVELOPE_BYTES:
            raise InvalidInput(
                _("The guarantee file is larger than %(max)d bytes.") % {"max": MAX_ENVELOPE_BYTES},
                field="guarantee",
                rule="max_length",
            )
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InvalidInput(
                _("The guarantee file is not JSON."), field="guarantee", rule="guarantee_format"
            ) from None
    document = doc.get("guarantee") if isinstance(doc, dict) else None
    signature = doc.get("signature") if isinstance(doc, dict) else None
    if not isinstance(document, dict) or not isinstance(signature, str):
        raise InvalidInput(
            _("The guarantee file needs “guarantee” (an object) and “signature” (base64)."),
            field="guarantee",
            rule="guarantee_format",
        )
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            _("The signature is not base64."), field="signature", rule="guarantee_format"
        ) from None
    return document, raw_signature


def _store(
    document: dict[str, Any],
    signature: bytes,
    *,
    org: Organisation,
    user: User | None,
    application: GuaranteeApplication | None = None,
) -> Guarantee:
    issuer_code = (document.get("issuer") or {}).get("credit_code")
    issuer = GuaranteeIssuer.objects.filter(credit_code=issuer_code).first()
    if issuer is None:
        raise InvalidInput(
            _("The issuer %(code)s is not registered on the platform.") % {"code": issuer_code},
            field="issuer",
            rule="guarantee_issuer",
        )
    section_id = (document.get("section") or {}).get("id")
    section = (
        Section.objects.select_related("tender__project").filter(pk=section_id).first()
        if isinstance(section_id, int)
        else None
    )
    if section is None:
        raise InvalidInput(
            _("The guarantee names no section of this platform."),
            field="section",
            rule="guarantee_format",
        )
    tender = section.tender
    now = clock.now()
    if now >= tender.bid_deadline:
        raise Conflict(
            _("E-guarantees are registered before the bid deadline, %(deadline)s.")
            % {"deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M")},
            field="guarantee",
            rule="bid_deadline",
            at=tender.bid_deadline,
        )
    if tender.deposit_form == Tender.DepositForm.WAIVED:
        raise Conflict(
            _("This tender requires no deposit."), field="guarantee", rule="deposit_form"
        )
    problems = check_document(issuer, document, signature, section, org, now)
    if problems:
        first = problems[0]
        rule = f"guarantee_{first.code}"
        raise InvalidInput(" ".join(p.message for p in problems), field=first.field, rule=rule)
    number = clean_text(document.get("number"), "number", 64)
    if Guarantee.objects.filter(issuer=issuer, number=number).exists():
        raise Conflict(
            _("Guarantee %(number)s of %(issuer)s is already registered.")
            % {"number": number, "issuer": issuer.name},
            field="guarantee",
            rule="unique_guarantee",
        )
    text = canonical(document).decode("utf-8")
    try:
        with transaction.atomic():
            guarantee = Guarantee.objects.create(
                issuer=issuer,
                number=number,
                section=section,
                organisation=org,
                amount=yuan(str(document["amount"]), field="amount"),
                valid_from=_date(document["valid_from"], "valid_from"),
                valid_until=_date(document["valid_until"], "valid_until"),
                document=text,
                signature=base64.b64encode(signature).decode("ascii"),
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                application=application,
                registered_by=user,
                registered_at=now,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("This guarantee is already registered."), field="guarantee", rule="unique_guarantee"
        ) from exc
    # Who bids on which tender is secret until the opening (Law art. 22): a digest only.
    digest, _salt = salted_digest(
        f"guarantee:{issuer.credit_code}:{number}:{guarantee.sha256}".encode()
    )
    record_event("deposits.guarantee.registered", actor=user, payload={}, private_digest=digest)
    return guarantee


@service
def register_guarantee(actor: Actor, envelope: str | bytes | dict[str, Any]) -> Guarantee:
    """A bidder registers an e-guarantee it obtained from an issuer (the signed JSON file).

    Refused with the reasons, writing nothing: a bad signature, an unregistered issuer or one
    whose certificate is not valid now, another tender, section or bidder, an amount below the
    deposit required, an expired guarantee or one not covering the bid validity period, and
    after the bid deadline."""
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Registering an e-guarantee"))
    document, signature = parse_envelope(envelope)
    return _store(document, signature, org=membership.organisation, user=membership.user)


# --- one-stop issuance --------------------------------------------------------------------------


def application_document(app: GuaranteeApplication) -> dict[str, Any]:
    from openbid.ledger import keys

    section = app.section
    tender = section.tender
    tenderer = tender.project.tenderer
    return {
        "type": APPLICATION_TYPE,
        "version": VERSION,
        "application": app.pk,
        "platform": keys.origin(),
        "tender": {"id": tender.pk, "title": tender.title},
        "section": {"id": section.pk, "number": section.number, "name": section.name},
        "beneficiary": {"credit_code": tenderer.credit_code, "name": tenderer.name},
        "bidder": {"credit_code": app.organisation.credit_code, "name": app.organisation.name},
        "issuer": {"credit_code": app.issuer.credit_code, "name": app.issuer.name},
        "amount": f"{app.amount:.2f}",
        "currency": "CNY",
        "valid_from": app.valid_from.isoformat(),
        "valid_until": app.valid_until.isoformat(),
        "fee": f"{app.fee:.2f}",
        "bid_deadline": tender.bid_deadline.isoformat(),
        "applied_at": app.applied_at.isoformat(),
    }


APPLICATION_HEADER = "openbid guarantee application v1\n"


def application_note(app: GuaranteeApplication) -> str:
    """The application as a signed note (C2SP signed-note, the platform's log key): a header
    line and the canonical JSON on one line."""
    from openbid.ledger import keys
    from openbid.ledger.note import sign_note

    text = APPLICATION_HEADER + canonical(application_document(app)).decode("utf-8") + "\n"
    return sign_note(text, keys.log_signer()).decode("utf-8")


def _bidder_section(
    actor: Actor, section: Section, action: Any
) -> tuple[User, Organisation, Section]:
    membership = require_role(actor, Role.BIDDER_STAFF, action=action)
    section = Section.objects.select_related("tender__project__tenderer").get(pk=section.pk)
    tender = section.tender
    if tender.status != State.PUBLISHED or clock.now() >= tender.bid_deadline:
        raise Conflict(
            _("E-guarantees are obtained while the tender accepts bids, until %(deadline)s.")
            % {"deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M")},
            field="section",
            rule="bid_deadline",
            at=tender.bid_deadline,
        )
    if tender.deposit_form == Tender.DepositForm.WAIVED:
        raise Conflict(_("This tender requires no deposit."), field="section", rule="deposit_form")
    if not DocumentObtainer.objects.filter(
        tender=tender, organisation=membership.organisation
    ).exists():
        raise Conflict(
            _("Obtain the tender documents first."), field="section", rule="documents_obtained"
        )
    return membership.user, membership.organisation, section


@service
def apply_for_guarantee(
    actor: Actor, section: Section, issuer: GuaranteeIssuer
) -> GuaranteeApplication:
    """A bidder applies for an e-guarantee from a registered issuer (one-stop, step 1): the amount
    is the deposit required of it, the validity covers the bid deadline and the bid validity
    period, the fee is the issuer's rate. The signed application is kept for step 3."""
    user, org, section = _bidder_section(actor, section, _("Applying for an e-guarantee"))
    issuer = GuaranteeIssuer.objects.get(pk=issuer.pk)
    if not issuer.active or not issuer.api_url:
        raise Conflict(
            _("%(name)s does not issue guarantees through the platform.") % {"name": issuer.name},
            field="issuer",
            rule="issuer_api",
        )
    amount = _required_amount(section, org)
    if amount <= 0:
        raise Conflict(
            _("Your organisation is exempt from this deposit; no guarantee is needed."),
            field="section",
            rule="deposit_exempt",
        )
    now = clock.now()
    fee = (amount * issuer.fee_percent / 100).quantize(FEN, rounding=ROUND_HALF_UP)
    app = GuaranteeApplication.objects.create(
        section=section,
        organisation=org,
        issuer=issuer,
        amount=amount,
        valid_from=clock.today(),
        valid_until=cover_until(section.tender),
        fee=fee,
        request_note="",
        applied_by=user,
        applied_at=now,
    )
    app.request_note = application_note(app)
    app.save(update_fields=["request_note"])
    digest, _salt = salted_digest(f"guarantee-application:{app.pk}:{org.credit_code}".encode())
    record_event(
        "deposits.guarantee_application.submitted",
        actor=user,
        payload={},
        private_digest=digest,
    )
    return app


def _own_application(actor: Actor, app: GuaranteeApplication, action: Any) -> GuaranteeApplication:
    membership = require_role(actor, Role.BIDDER_STAFF, action=action)
    app = GuaranteeApplication.objects.select_for_update().get(pk=app.pk)
    if app.organisation_id != membership.organisation.pk:
        raise NotAllowed(_("This is another organisation's application."), rule="own_application")
    return app


@service
def pay_guarantee_fee(
    actor: Actor, app: GuaranteeApplication, *, payment_reference: str
) -> GuaranteeApplication:
    """Step 2: the bidder records that it paid the issuer's fee (the payment's reference)."""
    app = _own_application(actor, app, _("Paying the guarantee fee"))
    if app.status != GuaranteeApplication.Status.APPLIED:
        raise Conflict(
            _("The fee of this application is already paid."), field="status", rule="state"
        )
    app.payment_reference = clean_text(payment_reference, "payment_reference", 64)
    app.paid_at = clock.now()
    app.status = GuaranteeApplication.Status.PAID
    app.save(update_fields=["payment_reference", "paid_at", "status"])
    digest = hashlib.sha256(f"guarantee-fee:{app.pk}:{app.payment_reference}".encode()).hexdigest()
    record_event(
        "deposits.guarantee_application.paid", actor=actor, payload={}, private_digest=digest
    )
    return app


class IssuerError(DomainError):
    status = 502
    code = "issuer_error"


def _call_issuer(issuer: GuaranteeIssuer, note: str) -> dict[str, Any]:
    if issuer.api_url == BUILTIN_TEST:
        if not getattr(settings, "OPENBID_BUILTIN_TEST_ISSUER", True):
            raise IssuerError(
                _("The built-in test issuer is turned off on this platform."),
                field="issuer",
                rule="issuer_api",
            )
        from openbid.deposits import testissuer

        return testissuer.handle(issuer, note)
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310  (https only, checked at registration)
        issuer.api_url.rstrip("/") + "/applications",
        data=note.encode("utf-8"),
        headers={"Content-Type": "text/plain; charset=utf-8", "Accept": "application/json"},
        method="POST",
    )
    timeout = float(getattr(settings, "OPENBID_GUARANTEE_ISSUER_TIMEOUT_SECONDS", 20))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read(MAX_ENVELOPE_BYTES + 1).decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise IssuerError(
            _("The issuer %(name)s did not answer: %(error)s")
            % {"name": issuer.name, "error": exc},
            field="issuer",
            rule="issuer_api",
        ) from exc
    if not isinstance(answer, dict):
        raise IssuerError(_("The issuer's answer is not a JSON object."), rule="issuer_api")
    return answer


@service
def issue_guarantee(actor: Actor, app: GuaranteeApplication) -> GuaranteeApplication:
    """Step 3: the platform sends the signed application to the issuer's API; the issuer answers
    with the signed guarantee and the invoice record. The guarantee is verified and registered
    like any other; an issuer's refusal is recorded on the application."""
    app = _own_application(actor, app, _("Receiving the e-guarantee"))
    if app.status != GuaranteeApplication.Status.PAID:
        raise Conflict(
            _("Pay the fee first; then the issuer issues the guarantee.")
            if app.status == GuaranteeApplication.Status.APPLIED
            else _("This application is finished (%(status)s).")
            % {"status": app.get_status_display()},
            field="status",
            rule="state",
        )
    answer = _call_issuer(app.issuer, app.request_note)
    now = clock.now()
    if answer.get("status") == "refused":
        app.status = GuaranteeApplication.Status.FAILED
        app.failure = str(answer.get("reason", ""))[:2000]
        app.save(update_fields=["status", "failure"])
        record_event(
            "deposits.guarantee_application.refused",
            actor=actor,
            payload={},
            private_digest=hashlib.sha256(f"guarantee-refused:{app.pk}".encode()).hexdigest(),
        )
        return app
    document, signature = parse_envelope(answer)
    user = actor if isinstance(actor, User) else None
    _store(document, signature, org=app.organisation, user=user, application=app)
    invoice = answer.get("invoice") or {}
    app.status = GuaranteeApplication.Status.ISSUED
    app.issued_at = now
    app.invoice_number = str(invoice.get("number", ""))[:64]
    try:
        app.invoice_amount = yuan(str(invoice.get("amount", app.fee)), field="invoice_amount")
        app.invoice_issued_on = dt.date.fromisoformat(str(invoice.get("date", clock.today())))
    except (InvalidInput, ValueError):
        app.invoice_amount, app.invoice_issued_on = app.fee, clock.today()
    app.save(
        update_fields=[
            "status",
            "issued_at",
            "invoice_number",
            "invoice_amount",
            "invoice_issued_on",
        ]
    )
    return app


# --- claims -----------------------------------------------------------------------------------


@service
def claim_guarantee(
    actor: Actor, guarantee: Guarantee, *, amount: str | Decimal, reason: str
) -> GuaranteeClaim:
    """The tenderer (or its agency) claims on a guarantee after the bid deadline, with its reason
    (e.g. the bid withdrawn after the deadline, or the winner refusing to sign: Reg art. 35, 74)."""
    from openbid.tendering.services import require_manager

    guarantee = (
        Guarantee.objects.select_for_update(of=("self",))
        .select_related("section__tender__project__tenderer")
        .get(pk=guarantee.pk)
    )
    tender = guarantee.section.tender
    org = require_manager(actor, tender.project, _("Claiming on an e-guarantee"))
    if clock.now() < tender.bid_deadline:
        raise Conflict(
            _("Claims are possible after the bid deadline, %(deadline)s.")
            % {"deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M")},
            rule="bid_deadline",
            at=tender.bid_deadline,
        )
    value = yuan(str(amount), field="amount")
    if value <= 0 or value > guarantee.amount:
        raise InvalidInput(
            _("The claim must be more than zero and at most the guaranteed %(amount)s yuan.")
            % {"amount": guarantee.amount},
            field="amount",
            rule="claim_amount",
        )
    reason = clean_text(reason, "reason", 2000)
    claim = GuaranteeClaim.objects.create(
        guarantee=guarantee,
        claimed_by=org,
        amount=value,
        reason=reason,
        claimed_at=clock.now(),
    )
    guarantee.status = Guarantee.Status.CLAIMED
    guarantee.save(update_fields=["status"])
    record_event(
        "deposits.guarantee.claimed",
        actor=actor,
        actor_org=org,
        subjects=[("guarantee", guarantee.pk), ("tender", tender.pk)],
        payload={"number": guarantee.number, "amount": value, "reason": reason},
    )
    return claim


@service
def answer_claim(
    actor: Actor, claim: GuaranteeClaim, *, outcome: str, answer: str
) -> GuaranteeClaim:
    """Centre staff record the issuer's answer to a claim (paid or refused, with its text)."""
    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Recording the issuer's answer"))
    claim = GuaranteeClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.outcome != GuaranteeClaim.Outcome.OPEN:
        raise Conflict(_("This claim is already answered."), field="outcome", rule="state")
    if outcome not in (GuaranteeClaim.Outcome.PAID, GuaranteeClaim.Outcome.REFUSED):
        raise InvalidInput(_("The answer is paid or refused."), field="outcome", rule="choice")
    claim.outcome = outcome
    claim.answer = clean_text(answer, "answer", 2000)
    claim.answered_at = clock.now()
    claim.save(update_fields=["outcome", "answer", "answered_at"])
    record_event(
        "deposits.guarantee_claim.answered",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("guarantee", claim.guarantee_id), ("guarantee_claim", claim.pk)],
        payload={"outcome": outcome},
    )
    return claim


def can_see_guarantee(user: Any, guarantee: Guarantee) -> bool:
    if has_role(user, Role.CENTRE_STAFF, Role.REGULATOR):
        return True
    return has_role(user, Role.BIDDER_STAFF, organisation=guarantee.organisation)
