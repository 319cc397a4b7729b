"""Sealed bids and their uploads.

The platform stores only ciphertext (principle 4: nobody reads a bid before opening). An upload is
resumable and becomes a bid only when its final commit arrives before the deadline; the receipt
(回执) is a signed note naming the ciphertext and the plaintext commitment.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BidUpload(models.Model):
    """A resumable upload of one sealed bid's ciphertext. Not a bid until committed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    section = models.ForeignKey("tendering.Section", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    size = models.BigIntegerField(_("declared size (bytes)"))
    sha256 = models.CharField(_("declared SHA-256"), max_length=64)
    received = models.BigIntegerField(_("bytes received"), default=0)
    started_at = models.DateTimeField(_("started at"))
    updated_at = models.DateTimeField(_("updated at"))
    bid = models.OneToOneField(
        "Bid", on_delete=models.PROTECT, null=True, blank=True, related_name="upload"
    )

    class Meta:
        verbose_name = _("bid upload")
        verbose_name_plural = _("bid uploads")

    def __str__(self) -> str:
        return f"upload {self.pk} {self.received}/{self.size}"


class Bid(models.Model):
    """A committed sealed bid: ciphertext, commitment to the plaintext, signature, receipt."""

    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        SUPERSEDED = "superseded", _("replaced by a later submission")
        WITHDRAWN = "withdrawn", _("withdrawn")

    section = models.ForeignKey("tendering.Section", on_delete=models.PROTECT, related_name="bids")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="bids"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("submission number"))
    suite = models.CharField(_("crypto suite"), max_length=20)
    escrow_key_id = models.CharField(
        _("sealed to the escrow key (key id)"),
        max_length=64,
        blank=True,
        help_text=_("the tender's escrow key id, when the bid is sealed to it as well"),
    )
    ciphertext = models.FileField(_("ciphertext"), upload_to="bids/")
    ciphertext_sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(_("size (bytes)"))
    commitment = models.CharField(_("plaintext commitment (hex)"), max_length=128)
    signature = models.TextField(_("bidder's signature (base64)"))
    signer_public_key = models.TextField(_("bidder's public key (base64)"))
    signer_certificate = models.ForeignKey(
        "crypto.PersonCertificate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bidder's signing certificate"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.VALID
    )
    committed_at = models.DateTimeField(_("received at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    ledger_index = models.BigIntegerField(_("ledger index"), null=True)
    receipt = models.TextField(_("receipt (signed note)"), blank=True)
    digest_salt = models.BinaryField(_("salt of the ledger digest"))

    class Meta:
        ordering = ["section", "organisation", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "organisation", "version"], name="unique_bid_version"
            ),
            models.UniqueConstraint(
                fields=["section", "organisation"],
                condition=models.Q(status="valid"),
                name="one_valid_bid_per_bidder",
            ),
        ]
        verbose_name = _("bid")
        verbose_name_plural = _("bids")

    def __str__(self) -> str:
        return f"bid {self.pk} v{self.version}"
