"""Trusted CAs, their CRLs, and the certificates people registered (CA 互认).

The trading centre's staff add the certificate of every CA they recognise (each region's CA root,
and the issuing CAs below it) and keep their CRLs current; a person registers their own signing
and encryption certificates, which must chain to one of those CAs and name an organisation the
person works for. Rows change only through :mod:`openbid.crypto.services`; the checks themselves
are :mod:`openbid.crypto.x509`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TrustedCA(models.Model):
    """A CA certificate the platform recognises: a root (trust anchor) or an issuing CA below
    one. Never deleted: a withdrawn CA is deactivated, so past registrations stay explainable."""

    class Kind(models.TextChoices):
        ROOT = "root", _("root CA (trust anchor)")
        INTERMEDIATE = "intermediate", _("issuing (intermediate) CA")

    name = models.CharField(_("name"), max_length=200)
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=1000)
    issuer = models.CharField(_("issuer"), max_length=1000)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"))
    active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    deactivation_reason = models.TextField(_("reason for deactivation"), blank=True)

    class Meta:
        ordering = ["region_code", "name", "id"]
        verbose_name = _("trusted CA")
        verbose_name_plural = _("trusted CAs")

    def __str__(self) -> str:
        return f"{self.name} ({self.fingerprint[:16]}…)"


class RevocationList(models.Model):
    """One CRL of a trusted CA, as uploaded. Every CRL is kept; verification at a time uses the
    newest one current at that time."""

    ca = models.ForeignKey(
        TrustedCA, on_delete=models.PROTECT, related_name="crls", verbose_name=_("CA")
    )
    crl_der = models.BinaryField(_("CRL (DER)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    number = models.CharField(_("CRL number"), max_length=50, blank=True)
    this_update = models.DateTimeField(_("this update"))
    next_update = models.DateTimeField(_("next update"))
    revoked_count = models.PositiveIntegerField(_("revoked certificates"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["ca", "-this_update", "-id"]
        indexes = [models.Index(fields=["ca", "this_update"], name="crypto_crl_ca_this_update")]
        verbose_name = _("certificate revocation list")
        verbose_name_plural = _("certificate revocation lists")

    def __str__(self) -> str:
        return f"{self.ca.name} · {self.this_update:%Y-%m-%d %H:%M}"


class PersonCertificate(models.Model):
    """A person's certificate, bound to them and to the organisation whose unified social credit
    code it carries. One active certificate per person and purpose; a new one replaces it."""

    class Purpose(models.TextChoices):
        SIGNING = "signing", _("signing")
        ENCRYPTION = "encryption", _("encryption")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        REVOKED = "revoked", _("revoked")
        REPLACED = "replaced", _("replaced")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("person"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("organisation"),
    )
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    intermediates_pem = models.TextField(_("intermediate CA certificates (PEM)"), blank=True)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    suite = models.CharField(_("crypto suite"), max_length=20, blank=True)
    key_type = models.CharField(_("key type"), max_length=10)
    public_key = models.TextField(_("public key (base64)"))
    serial = models.CharField(_("serial number (hex)"), max_length=64)
    subject = models.CharField(_("subject"), max_length=1000)
    issuer = models.CharField(_("issuer"), max_length=1000)
    issuer_ca = models.ForeignKey(
        TrustedCA,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("recognised CA (trust anchor)"),
    )
    credit_code = models.CharField(_("unified social credit code"), max_length=18)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    registered_at = models.DateTimeField(_("registered at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "purpose"],
                condition=models.Q(status="active"),
                name="crypto_one_active_certificate_per_purpose",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "status"], name="crypto_cert_org_status"),
            models.Index(fields=["serial"], name="crypto_cert_serial"),
        ]
        verbose_name = _("person's certificate")
        verbose_name_plural = _("people's certificates")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.fingerprint[:16]}…"


class DocumentSignature(models.Model):
    """A person's signature, with the key of their registered signing certificate, over a
    document of the platform (an opening record, an evaluation report, a contract …).

    The document is named by kind and id and fixed by its SHA-256; the signed message is
    :func:`openbid.crypto.document_signatures.signing_message`. Signatures are only added, never
    changed: a document signed by several people has several rows."""

    kind = models.CharField(_("document kind"), max_length=40)
    document_id = models.PositiveBigIntegerField(_("document id"))
    sha256 = models.CharField(_("document SHA-256"), max_length=64)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    certificate = models.ForeignKey(
        PersonCertificate, on_delete=models.PROTECT, related_name="document_signatures"
    )
    suite = models.CharField(_("crypto suite"), max_length=20)
    public_key = models.TextField(_("public key (base64)"))
    signature = models.TextField(_("signature (base64)"))
    signed_at = models.DateTimeField(_("signed at"))

    class Meta:
        ordering = ["kind", "document_id", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "document_id", "sha256", "signer"],
                name="one_signature_per_signer_and_document",
            )
        ]
        verbose_name = _("document signature")
        verbose_name_plural = _("document signatures")

    def __str__(self) -> str:
        return f"{self.kind} {self.document_id} signed by {self.signer_id}"
