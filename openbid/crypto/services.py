"""Trusted CAs, CRLs and people's certificates: every change, and the check other contexts use.

Mutual recognition (CA 互认; 《电子招标投标办法》 art. 45, and the 2024 fair-competition rules that
forbid forcing a particular CA on bidders): centre staff add the certificate of every CA they
recognise — each region's root, and the issuing CAs below it — and upload their CRLs; a
certificate that chains to *any* active trusted CA works everywhere on the platform.

* :func:`add_trusted_ca`, :func:`deactivate_trusted_ca`, :func:`add_crl` — centre staff;
* :func:`register_certificate` — a person registers their own certificate: it must verify
  against the trust store at the server clock's time (chain, validity, key usage, CRL) and
  carry the unified social credit code of an organisation the person works for;
* :func:`require_signing_key` — for other contexts (bidding): the key must belong to a
  registered, currently valid signing certificate of that person in that organisation;
* :func:`trust_store` and :func:`revocation_lists` — the pure :mod:`openbid.crypto.x509`
  inputs, built from the database.

Each change runs in one transaction and records one event. A person's name is personal data even
though their certificate carries it: event payloads name certificates only by fingerprint, issuer
and the organisation's credit code.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, memberships, require_role, signed_in
from openbid.accounts.regions import require_region
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput
from openbid.core.events import record_event, service
from openbid.core.validation import clean_text
from openbid.crypto import _der, x509
from openbid.crypto.models import PersonCertificate, RevocationList, TrustedCA
from openbid.crypto.suites import KeyUse

logger = logging.getLogger(__name__)

#: Longest certificate (or bundle of intermediates) accepted, as PEM text.
MAX_CERTIFICATE_CHARS = 64 * 1024
#: Most certificates a person may present at once (their own and the intermediates).
MAX_PRESENTED_CERTIFICATES = 8
#: Largest CRL accepted (a big CA's complete CRL runs to a few megabytes).
MAX_CRL_BYTES = 16 * 1024 * 1024

_PURPOSE_KEY_USE: dict[str, KeyUse] = {
    PersonCertificate.Purpose.SIGNING: KeyUse.SIGNING,
    PersonCertificate.Purpose.ENCRYPTION: KeyUse.ENCRYPTION,
}

# The x509 reason codes, in the user's language (the x509 message, in English, follows).
_REASON_TEXT: dict[str, Any] = {
    "expired": gettext_lazy("the certificate, or a CA certificate above it, has expired"),
    "not_yet_valid": gettext_lazy(
        "the certificate, or a CA certificate above it, is not valid yet"
    ),
    "untrusted": gettext_lazy("it was not issued by a CA the platform recognises"),
    "revoked": gettext_lazy("its CA has revoked it"),
    "bad_signature": gettext_lazy("a signature on it, its chain or its CA's CRL does not verify"),
    "wrong_usage": gettext_lazy("its key usage does not allow this use"),
    "crl_missing": gettext_lazy(
        "the platform has no revocation list (CRL) of its CA, so whether it is revoked is unknown"
    ),
    "crl_stale": gettext_lazy(
        "the platform's revocation list (CRL) of its CA is out of date, so whether it is "
        "revoked is unknown"
    ),
    "malformed": gettext_lazy("it cannot be read as an X.509 certificate"),
    "unsupported": gettext_lazy("it uses an algorithm or key the platform does not accept"),
    "ca_withdrawn": gettext_lazy("a CA in its chain has been withdrawn by the trading centre"),
}


class CertificateRefused(InvalidInput):
    """A certificate (or key) was refused. ``reason`` is a stable code: one of
    :data:`openbid.crypto.x509.REASONS` or ``not_registered``, ``replaced``, ``ca_withdrawn``,
    ``no_credit_code``, ``wrong_organisation``; ``rule`` is ``certificate_<reason>``."""

    def __init__(self, message: Any, *, reason: str, field: str, detail: str = "") -> None:
        super().__init__(message, field=field, rule=f"certificate_{reason}")
        self.reason = reason
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "reason": self.reason}


def _refused(reason: str, detail: str, *, field: str, what: Any = None) -> CertificateRefused:
    text = _REASON_TEXT.get(reason, reason)
    message = _("%(what)s is refused: %(reason)s.") % {
        "what": what or _("The certificate"),
        "reason": text,
    }
    if detail:
        message = f"{message} {detail}"
    return CertificateRefused(message, reason=reason, field=field, detail=detail)


# --- helpers -------------------------------------------------------------------------------------


def fingerprint(certificate: cx509.Certificate) -> str:
    """SHA-256 of the DER certificate, lower-case hex (as :attr:`VerifiedCertificate.fingerprint`)."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _pem(certificate: cx509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _name(name: cx509.Name) -> str:
    try:
        return name.rfc4514_string()[:1000]
    except ValueError:
        return repr(name)[:1000]


def _text_input(value: str | bytes, field: str, limit: int) -> str:
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if not text:
        raise InvalidInput(
            _("Paste or upload the certificate (PEM)."), field=field, rule="required"
        )
    if len(text) > limit:
        raise InvalidInput(
            _("The %(field)s is longer than %(max)d characters.") % {"field": field, "max": limit},
            field=field,
            rule="max_length",
        )
    return text


def _load_one(pem: str, field: str, what: Any = None) -> cx509.Certificate:
    try:
        certificates = x509.load_certificates(pem)
    except x509.CertificateError as exc:
        raise _refused(exc.reason, exc.message, field=field, what=what) from exc
    if len(certificates) != 1:
        raise InvalidInput(
            _("Give exactly one certificate here, not %(count)d.") % {"count": len(certificates)},
            field=field,
            rule="single_certificate",
        )
    return certificates[0]


def _load_many(
    pems: Iterable[str | bytes], field: str, what: Any = None
) -> list[cx509.Certificate]:
    found: list[cx509.Certificate] = []
    for pem in pems:
        text = pem.decode("utf-8", errors="replace") if isinstance(pem, bytes) else str(pem)
        if not text.strip():
            continue
        if len(text) > MAX_CERTIFICATE_CHARS:
            raise InvalidInput(
                _("The certificates are longer than %(max)d characters.")
                % {"max": MAX_CERTIFICATE_CHARS},
                field=field,
                rule="max_length",
            )
        try:
            found += x509.load_certificates(text)
        except x509.CertificateError as exc:
            raise _refused(
                exc.reason,
                exc.message,
                field=field,
                what=what or _("An intermediate CA certificate"),
            ) from exc
        if len(found) > MAX_PRESENTED_CERTIFICATES:
            raise InvalidInput(
                _("Give at most %(max)d certificates.") % {"max": MAX_PRESENTED_CERTIFICATES},
                field=field,
                rule="max_length",
            )
    return found


def _issued_by(child: cx509.Certificate | cx509.CertificateRevocationList, ca: Any) -> bool:
    """Whether ``ca`` (a certificate) signed ``child`` (a certificate or CRL)."""
    try:
        return x509._signature_valid(child, x509.certificate_public_key(ca))
    except (x509.CertificateError, _der.DERError):
        return False


def _ca_certificate(ca: TrustedCA) -> cx509.Certificate:
    return x509.load_certificate(ca.certificate_pem)


def _actor_org(actor: Actor) -> Organisation | None:
    membership = memberships(actor, Role.CENTRE_STAFF).order_by("id").first()
    return membership.organisation if membership is not None else None


# --- trust store ---------------------------------------------------------------------------------


def trust_store() -> x509.TrustStore:
    """The trust store of the active trusted CAs: roots as trust anchors, issuing CAs as known
    intermediates (used to build paths, never trusted by themselves)."""
    store = x509.TrustStore()
    for ca in TrustedCA.objects.filter(active=True).order_by("id"):
        try:
            certificate = _ca_certificate(ca)
            if ca.kind == TrustedCA.Kind.ROOT:
                store.add_root(certificate)
            else:
                store.add_intermediate(certificate)
        except x509.CertificateError as exc:  # accepted once, refused by a stricter policy now
            logger.warning("trusted CA %s is no longer usable: %s", ca.fingerprint, exc)
    return store


def revocation_lists(at: dt.datetime) -> list[cx509.CertificateRevocationList]:
    """One CRL per active trusted CA for checking at ``at``: the newest one current at ``at``
    (``this_update <= at <= next_update``); if none is current, the newest issued before ``at``
    (or else the oldest), so that verification reports ``crl_stale`` rather than
    ``crl_missing``. Every CRL uploaded is kept; older ones serve checks of earlier times."""
    chosen: list[cx509.CertificateRevocationList] = []
    for ca_id in TrustedCA.objects.filter(active=True).values_list("id", flat=True):
        rows = RevocationList.objects.filter(ca_id=ca_id)
        row = (
            rows.filter(this_update__lte=at, next_update__gte=at)
            .order_by("-this_update", "-id")
            .first()
            or rows.filter(this_update__lte=at).order_by("-this_update", "-id").first()
            or rows.order_by("this_update", "id").first()
        )
        if row is not None:
            chosen.append(x509.load_crl(bytes(row.crl_der)))
    return chosen


def verify(
    certificate: cx509.Certificate,
    *,
    purpose: KeyUse,
    at: dt.datetime,
    intermediates: Iterable[cx509.Certificate] = (),
    field: str = "certificate_pem",
    what: Any = None,
) -> x509.VerifiedCertificate:
    """:func:`openbid.crypto.x509.verify_certificate` against the active trusted CAs and their
    CRLs at ``at``, refusing with :class:`CertificateRefused`. An intermediate the holder
    presents that the centre has deactivated is not used: a chain that needs it is refused as
    ``ca_withdrawn``."""
    withdrawn = set(TrustedCA.objects.filter(active=False).values_list("fingerprint", flat=True))
    presented = list(intermediates)
    usable = [c for c in presented if fingerprint(c) not in withdrawn]
    dropped = [c for c in presented if fingerprint(c) in withdrawn]
    try:
        return x509.verify_certificate(
            certificate,
            store=trust_store(),
            at=at,
            crls=revocation_lists(at),
            purpose=purpose,
            intermediates=usable,
        )
    except x509.CertificateError as exc:
        if dropped and exc.reason == "untrusted":
            detail = "; ".join(f"“{_name(c.subject)}” ({fingerprint(c)})" for c in dropped)
            raise _refused("ca_withdrawn", detail, field=field, what=what) from exc
        raise _refused(exc.reason, exc.message, field=field, what=what) from exc


# --- trusted CAs ---------------------------------------------------------------------------------


def _ca_payload(ca: TrustedCA) -> dict[str, Any]:
    return {
        "name": ca.name,
        "region_code": ca.region_code,
        "kind": ca.kind,
        "fingerprint": ca.fingerprint,
        "subject": ca.subject,
        "valid_from": ca.valid_from,
        "valid_until": ca.valid_until,
    }


@service
def add_trusted_ca(
    actor: Actor, *, name: str, region_code: str, certificate_pem: str | bytes
) -> TrustedCA:
    """Recognise a CA (centre staff): a self-signed root becomes a trust anchor; an issuing CA
    certificate must be signed by an active trusted CA. Refuses anything that is not a usable
    CA certificate (basicConstraints cA, keyCertSign, an accepted key and signature), an expired
    one, and one already added (the fingerprint is unique)."""
    require_role(actor, Role.CENTRE_STAFF, action=_("Adding a trusted CA"))
    name = clean_text(name, "name", 200)
    region_code = require_region((region_code or "").strip(), field="region_code").code
    field = "certificate_pem"
    what = _("This CA certificate")
    certificate = _load_one(_text_input(certificate_pem, field, MAX_CERTIFICATE_CHARS), field, what)
    found = fingerprint(certificate)
    existing = TrustedCA.objects.filter(fingerprint=found).first()
    if existing is not None:
        raise Conflict(
            _("This CA certificate is already on the platform as “%(name)s”%(inactive)s.")
            % {
                "name": existing.name,
                "inactive": "" if existing.active else _(" (deactivated)"),
            },
            field=field,
            rule="unique_fingerprint",
        )
    root = certificate.issuer == certificate.subject
    try:
        if root:
            x509.TrustStore().add_root(certificate)  # CA checks and the self-signature
        else:
            x509.TrustStore().add_intermediate(certificate)  # CA checks
    except x509.CertificateError as exc:
        raise InvalidInput(
            _("This certificate cannot be a trusted CA: %(detail)s") % {"detail": exc.message},
            field=field,
            rule="ca_certificate",
        ) from exc
    if not root and not any(
        parent.subject == certificate.issuer and _issued_by(certificate, parent)
        for parent in map(_ca_certificate, TrustedCA.objects.filter(active=True))
    ):
        raise InvalidInput(
            _(
                "This is an issuing CA's certificate, and no active trusted CA signed it "
                "(its issuer is “%(issuer)s”): add that CA's root first."
            )
            % {"issuer": _name(certificate.issuer)},
            field=field,
            rule="ca_issuer_unknown",
        )
    now = clock.now()
    if certificate.not_valid_after_utc < now:
        raise InvalidInput(
            _("This CA certificate expired at %(until)s.")
            % {"until": certificate.not_valid_after_utc.isoformat()},
            field=field,
            rule="certificate_expired",
            at=certificate.not_valid_after_utc,
        )
    try:
        with transaction.atomic():
            ca = TrustedCA.objects.create(
                name=name,
                region_code=region_code,
                kind=TrustedCA.Kind.ROOT if root else TrustedCA.Kind.INTERMEDIATE,
                certificate_pem=_pem(certificate),
                fingerprint=found,
                subject=_name(certificate.subject),
                issuer=_name(certificate.issuer),
                valid_from=certificate.not_valid_before_utc,
                valid_until=certificate.not_valid_after_utc,
                added_by=actor if isinstance(actor, User) else None,
                added_at=now,
            )
    except IntegrityError as exc:  # a concurrent add of the same certificate won
        raise Conflict(
            _("This CA certificate is already on the platform."),
            field=field,
            rule="unique_fingerprint",
        ) from exc
    record_event(
        "crypto.trusted_ca.added",
        actor=actor,
        actor_org=_actor_org(actor),
        subjects=[("trusted_ca", ca.pk)],
        payload=_ca_payload(ca),
    )
    return ca


@service
def deactivate_trusted_ca(actor: Actor, ca: TrustedCA, *, reason: str = "") -> TrustedCA:
    """Withdraw recognition of a CA (centre staff). Certificates that chain through it stop
    verifying at once — registering and signing with them are refused (``untrusted`` for a
    root, ``ca_withdrawn`` for an issuing CA). The row and its CRLs are kept."""
    require_role(actor, Role.CENTRE_STAFF, action=_("Deactivating a trusted CA"))
    reason = clean_text(reason, "reason", 500, required=False)
    ca = TrustedCA.objects.select_for_update().get(pk=ca.pk)
    if not ca.active:
        raise Conflict(_("This CA is already deactivated."), field="ca", rule="state")
    ca.active = False
    ca.deactivated_at = clock.now()
    ca.deactivation_reason = reason
    ca.save(update_fields=["active", "deactivated_at", "deactivation_reason"])
    record_event(
        "crypto.trusted_ca.deactivated",
        actor=actor,
        actor_org=_actor_org(actor),
        subjects=[("trusted_ca", ca.pk)],
        payload={"fingerprint": ca.fingerprint, "subject": ca.subject, "reason": reason},
    )
    return ca


# --- CRLs ----------------------------------------------------------------------------------------


def _crl_bytes(value: str | bytes) -> bytes:
    """PEM text or DER bytes as given; a ``str`` without a PEM header is taken as base64 DER."""
    if isinstance(value, bytes):
        raw = value
    else:
        text = value.strip()
        if "-----BEGIN" in text:
            raw = text.encode("ascii", errors="replace")
        else:
            try:
                raw = base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise InvalidInput(
                    _("Give the CRL as PEM, as DER, or as DER in base64."),
                    field="crl",
                    rule="crl_format",
                ) from exc
    if not raw.strip():
        raise InvalidInput(_("Upload or paste the CRL."), field="crl", rule="required")
    if len(raw) > MAX_CRL_BYTES:
        raise InvalidInput(
            _("The CRL is larger than %(max)d bytes.") % {"max": MAX_CRL_BYTES},
            field="crl",
            rule="max_length",
        )
    return raw


def _crl_entries(
    crl: cx509.CertificateRevocationList,
) -> dict[str, cx509.ReasonFlags | None]:
    entries: dict[str, cx509.ReasonFlags | None] = {}
    for entry in crl:
        try:
            flag: cx509.ReasonFlags | None = entry.extensions.get_extension_for_class(
                cx509.CRLReason
            ).value.reason
        except (cx509.ExtensionNotFound, ValueError):
            flag = None
        entries[f"{entry.serial_number:X}"] = flag
    return entries


@service
def add_crl(actor: Actor, *, ca: TrustedCA, crl_pem_or_der: str | bytes) -> RevocationList:
    """Upload a CRL of an active trusted CA (centre staff). Its issuer must be that CA, its
    signature must verify with that CA's key, and it must have a nextUpdate. Every CRL is kept.
    Registered certificates it lists (other than on hold) are marked revoked."""
    require_role(actor, Role.CENTRE_STAFF, action=_("Uploading a CRL"))
    ca = TrustedCA.objects.get(pk=ca.pk)
    if not ca.active:
        raise Conflict(
            _("The CA “%(name)s” is deactivated; its CRLs are no longer needed.")
            % {"name": ca.name},
            field="ca",
            rule="ca_inactive",
        )
    try:
        crl = x509.load_crl(_crl_bytes(crl_pem_or_der))
        crl_issuer = crl.issuer
    except (x509.CertificateError, ValueError) as exc:
        raise InvalidInput(
            _("This is not a certificate revocation list (CRL): %(error)s") % {"error": exc},
            field="crl",
            rule="crl_format",
        ) from exc
    ca_certificate = _ca_certificate(ca)
    if crl_issuer != ca_certificate.subject:
        raise InvalidInput(
            _("This CRL was issued by “%(issuer)s”, not by the CA “%(ca)s” (%(subject)s).")
            % {"issuer": _name(crl_issuer), "ca": ca.name, "subject": ca.subject},
            field="crl",
            rule="crl_issuer",
        )
    try:
        usage: cx509.KeyUsage | None = ca_certificate.extensions.get_extension_for_class(
            cx509.KeyUsage
        ).value
    except cx509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.crl_sign:
        raise InvalidInput(
            _("The CA “%(ca)s” may not sign CRLs (its keyUsage lacks cRLSign).") % {"ca": ca.name},
            field="crl",
            rule="crl_signature",
        )
    try:
        signed = x509._signature_valid(crl, x509.certificate_public_key(ca_certificate))
    except (x509.CertificateError, _der.DERError) as exc:
        raise InvalidInput(
            _("The CRL's signature cannot be checked: %(error)s") % {"error": exc},
            field="crl",
            rule="crl_signature",
        ) from exc
    if not signed:
        raise InvalidInput(
            _("The CRL's signature does not verify with the key of the CA “%(ca)s”.")
            % {"ca": ca.name},
            field="crl",
            rule="crl_signature",
        )
    if crl.next_update_utc is None:
        raise InvalidInput(
            _("The CRL has no nextUpdate, so it cannot show when it stops being current."),
            field="crl",
            rule="crl_next_update",
        )
    try:
        entries = _crl_entries(crl)
        number_ext = crl.extensions.get_extension_for_class(cx509.CRLNumber).value
        number = str(number_ext.crl_number)[:50]
    except cx509.ExtensionNotFound:
        number = ""
    except ValueError as exc:
        raise InvalidInput(
            _("This CRL cannot be read: %(error)s") % {"error": exc},
            field="crl",
            rule="crl_format",
        ) from exc
    der = crl.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest()
    if RevocationList.objects.filter(sha256=digest).exists():
        raise Conflict(_("This CRL was already uploaded."), field="crl", rule="unique_crl")
    now = clock.now()
    try:
        with transaction.atomic():
            row = RevocationList.objects.create(
                ca=ca,
                crl_der=der,
                sha256=digest,
                number=number,
                this_update=crl.last_update_utc,
                next_update=crl.next_update_utc,
                revoked_count=len(entries),
                uploaded_by=actor if isinstance(actor, User) else None,
                uploaded_at=now,
            )
    except IntegrityError as exc:
        raise Conflict(_("This CRL was already uploaded."), field="crl", rule="unique_crl") from exc
    # The registered certificates this CA issued are usually far fewer than a CRL's entries.
    listed = {s for s, flag in entries.items() if flag is not cx509.ReasonFlags.certificate_hold}
    hits = [
        pk
        for pk, serial in PersonCertificate.objects.filter(
            issuer=_name(crl_issuer), status=PersonCertificate.Status.ACTIVE
        ).values_list("pk", "serial")
        if serial in listed
    ]
    revoked = []
    for certificate in PersonCertificate.objects.select_for_update().filter(
        pk__in=hits, status=PersonCertificate.Status.ACTIVE
    ):
        if x509.load_certificate(certificate.certificate_pem).issuer != crl_issuer:
            continue  # the same name written differently: not this CA's certificate
        certificate.status = PersonCertificate.Status.REVOKED
        certificate.status_changed_at = now
        certificate.save(update_fields=["status", "status_changed_at"])
        revoked.append(certificate)
    record_event(
        "crypto.crl.added",
        actor=actor,
        actor_org=_actor_org(actor),
        subjects=[("trusted_ca", ca.pk), *(("certificate", c.pk) for c in revoked)],
        payload={
            "ca": ca.fingerprint,
            "sha256": digest,
            "number": number,
            "this_update": row.this_update,
            "next_update": row.next_update,
            "revoked_count": row.revoked_count,
            "registered_certificates_revoked": [c.fingerprint for c in revoked],
        },
    )
    return row


# --- people's certificates -----------------------------------------------------------------------


def _certificate_payload(certificate: PersonCertificate) -> dict[str, Any]:
    # Only what identifies the certificate, never the person's name from its subject.
    return {
        "fingerprint": certificate.fingerprint,
        "issuer": certificate.issuer,
        "credit_code": certificate.credit_code,
        "purpose": certificate.purpose,
    }


@service
def register_certificate(
    actor: Actor,
    *,
    certificate_pem: str | bytes,
    purpose: str,
    intermediates_pem: Iterable[str | bytes] = (),
) -> PersonCertificate:
    """A person registers their own certificate for ``purpose`` (``signing`` or
    ``encryption``), presenting any intermediate CA certificates it needs.

    It is verified against the active trusted CAs and their newest CRLs at the server clock's
    time (chain, validity, key usage fit for ``purpose``, revocation); its unified social credit
    code must be that of an organisation in which the person holds an active role. A new
    certificate for the same person and purpose replaces the previous one."""
    user = signed_in(actor)
    if purpose not in PersonCertificate.Purpose.values:
        raise InvalidInput(
            _("The purpose is “signing” or “encryption”, not “%(purpose)s”.")
            % {"purpose": purpose},
            field="purpose",
            rule="certificate_purpose",
        )
    field = "certificate_pem"
    # The person's certificate first; a pasted chain's other certificates count as presented.
    bundle = _load_many(
        [_text_input(certificate_pem, field, MAX_CERTIFICATE_CHARS)], field, _("The certificate")
    )
    if not bundle:
        raise _refused("malformed", "", field=field)
    certificate = bundle[0]
    presented = [*bundle[1:], *_load_many(intermediates_pem, "intermediates_pem")]
    found = fingerprint(certificate)
    existing = PersonCertificate.objects.filter(fingerprint=found).first()
    if existing is not None:
        mine = existing.user_id == user.pk and existing.status == PersonCertificate.Status.ACTIVE
        raise Conflict(
            _("You have already registered this certificate.")
            if mine
            else _("This certificate is already registered on the platform."),
            field=field,
            rule="unique_fingerprint",
        )
    now = clock.now()
    verified = verify(
        certificate, purpose=_PURPOSE_KEY_USE[purpose], at=now, intermediates=presented
    )
    if verified.credit_code is None:
        raise CertificateRefused(
            _(
                "The certificate names no unified social credit code, so it cannot be bound to "
                "an organisation."
            ),
            reason="no_credit_code",
            field=field,
        )
    allowed = {m.organisation.credit_code: m.organisation for m in memberships(user)}
    organisation = allowed.get(verified.credit_code)
    if organisation is None:
        raise CertificateRefused(
            _(
                "The certificate is for the organisation with the unified social credit code "
                "%(code)s, but you hold a role only in: %(allowed)s."
            )
            % {
                "code": verified.credit_code,
                "allowed": ", ".join(sorted(allowed)) or _("no organisation"),
            },
            reason="wrong_organisation",
            field=field,
        )
    if len(f"{verified.serial_number:X}") > 64:
        raise _refused("malformed", _("Its serial number is too long."), field=field)
    anchor = TrustedCA.objects.get(fingerprint=fingerprint(verified.trust_anchor), active=True)
    previous = list(
        PersonCertificate.objects.select_for_update().filter(
            user=user, purpose=purpose, status=PersonCertificate.Status.ACTIVE
        )
    )
    for old in previous:
        old.status = PersonCertificate.Status.REPLACED
        old.status_changed_at = now
        old.save(update_fields=["status", "status_changed_at"])
    try:
        with transaction.atomic():
            registered = PersonCertificate.objects.create(
                user=user,
                organisation=organisation,
                purpose=purpose,
                certificate_pem=_pem(certificate),
                intermediates_pem="".join(_pem(c) for c in verified.chain[1:-1]),
                fingerprint=found,
                suite=verified.suite or "",
                key_type=str(verified.key_type),
                public_key=base64.b64encode(verified.public_key_bytes).decode("ascii"),
                serial=f"{verified.serial_number:X}",
                subject=verified.subject[:1000],
                issuer=verified.issuer[:1000],
                issuer_ca=anchor,
                credit_code=verified.credit_code,
                not_before=verified.not_before,
                not_after=verified.not_after,
                registered_at=now,
            )
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict(
            _("This certificate, or another one for the same purpose, was just registered."),
            field=field,
            rule="unique_fingerprint",
        ) from exc
    record_event(
        "crypto.certificate.registered",
        actor=user,
        actor_org=organisation,
        subjects=[
            ("certificate", registered.pk),
            ("person", user.pk),
            ("organisation", organisation.pk),
            ("trusted_ca", anchor.pk),
        ],
        payload={
            **_certificate_payload(registered),
            "replaces": [old.fingerprint for old in previous],
        },
    )
    return registered


def require_signing_key(
    user: Any,
    organisation: Organisation,
    public_key_bytes: bytes,
    at: dt.datetime,
    *,
    field: str = "public_key",
) -> PersonCertificate:
    """The registered signing certificate of ``user`` in ``organisation`` that certifies
    ``public_key_bytes`` (as :mod:`openbid.crypto.suites` holds keys), re-verified at ``at``
    (chain, validity, CRL — the newest CRL current at ``at`` — and the CAs still recognised).

    Refuses with :class:`CertificateRefused` naming ``field``; ``reason``: ``not_registered``
    (no such certificate of this person in this organisation), ``replaced``, ``revoked``,
    ``expired``, ``not_yet_valid``, ``untrusted``, ``ca_withdrawn``, ``crl_missing``,
    ``crl_stale`` … Writes nothing: call it inside the caller's service."""
    what = _("The signing key")
    key = base64.b64encode(bytes(public_key_bytes)).decode("ascii")
    user_id = getattr(user, "pk", None)
    if user_id is None:
        raise CertificateRefused(_("Sign in first."), reason="not_registered", field=field)
    candidates = list(
        PersonCertificate.objects.filter(
            user_id=user_id,
            organisation=organisation,
            purpose=PersonCertificate.Purpose.SIGNING,
            public_key=key,
        ).order_by("-registered_at", "-id")
    )
    if not candidates:
        raise CertificateRefused(
            _(
                "The signing key does not belong to a certificate you registered for %(org)s: "
                "register your signing certificate first."
            )
            % {"org": organisation.name},
            reason="not_registered",
            field=field,
        )
    current = next(
        (c for c in candidates if c.status == PersonCertificate.Status.ACTIVE), candidates[0]
    )
    if current.status == PersonCertificate.Status.REVOKED:
        raise _refused(
            "revoked", f"({current.fingerprint}, {current.issuer})", field=field, what=what
        )
    if current.status == PersonCertificate.Status.REPLACED:
        raise CertificateRefused(
            _(
                "The signing key belongs to a certificate you have since replaced (%(fp)s); "
                "sign with the key of your current certificate."
            )
            % {"fp": current.fingerprint},
            reason="replaced",
            field=field,
        )
    certificate = x509.load_certificate(current.certificate_pem)
    intermediates = (
        x509.load_certificates(current.intermediates_pem) if current.intermediates_pem else []
    )
    verified = verify(
        certificate,
        purpose=KeyUse.SIGNING,
        at=at,
        intermediates=intermediates,
        field=field,
        what=what,
    )
    if verified.credit_code != organisation.credit_code or verified.public_key_bytes != bytes(
        public_key_bytes
    ):
        raise CertificateRefused(  # cannot happen unless the row was altered
            _("The signing key's certificate does not match %(org)s.") % {"org": organisation.name},
            reason="wrong_organisation",
            field=field,
        )
    return current
