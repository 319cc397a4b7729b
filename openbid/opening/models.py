"""Opening sessions (开标), the bids read out in them (唱标), objections, and the opening record.

Rows change only through ``openbid.opening.services``.

The data key a bidder releases is kept on its ``OpenedBid`` once released. It exists nowhere on
the platform before that — the bidder holds it, wrapped to keys the platform does not have — so
nothing stored before the opening suffices to decrypt a bid (principle 4). After the opening the
law no longer forbids decryption: the evaluation committee needs the plaintext, and an objection
or a complaint about a rejected bid needs the exact key that was released, so anyone reviewing can
repeat the check. Keeping the 32-byte key (rather than a plaintext copy) keeps one copy of the bid
— the ciphertext whose hash is in the receipt — and the key is never shown by a page or the API;
only its SHA-256 is public (in the ledger).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OpeningSession(models.Model):
    """The opening of one tender: starts by itself at the bid deadline (Law art. 34)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open: bidders release their keys")
        CLOSED = "closed", _("decryption closed")

    tender = models.OneToOneField(
        "tendering.Tender", on_delete=models.PROTECT, related_name="opening"
    )
    scheduled_at = models.DateTimeField(_("scheduled at (the bid deadline)"))
    started_at = models.DateTimeField(_("started at"))
    decryption_deadline = models.DateTimeField(_("keys are released until"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    closed_at = models.DateTimeField(_("decryption closed at"), null=True, blank=True)
    record_text = models.TextField(_("opening record"), blank=True)
    record_note = models.TextField(_("opening record (signed note)"), blank=True)
    record_sha256 = models.CharField(_("SHA-256 of the signed record"), max_length=64, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_by_org = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("record published at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("opening session")
        verbose_name_plural = _("opening sessions")

    def __str__(self) -> str:
        return f"opening of tender {self.tender_id}"


class OpenedBid(models.Model):
    """One sealed bid in an opening: awaiting its key, opened and read out, or rejected."""

    class Status(models.TextChoices):
        AWAITING_KEY = "awaiting_key", _("awaiting the key")
        OPENED = "opened", _("opened")
        REJECTED = "rejected", _("rejected")

    class Fault(models.TextChoices):
        """E-Bidding art. 31: whose fault a decryption failure is decides how the bid is treated."""

        BIDDER = "bidder", _("the bidder's fault: treated as revoked (撤销)")
        NOT_BIDDER = "not_bidder", _("not the bidder's fault: treated as withdrawn (撤回)")

    session = models.ForeignKey(OpeningSession, on_delete=models.PROTECT, related_name="bids")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="opening")
    order = models.PositiveIntegerField(_("reading order"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.AWAITING_KEY
    )
    reason_code = models.CharField(_("reason (code)"), max_length=30, blank=True)
    reason_detail = models.TextField(_("reason (details)"), blank=True)
    fault = models.CharField(_("fault"), max_length=10, choices=Fault.choices, blank=True)
    price = models.DecimalField(
        _("bid price (yuan)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    duration_days = models.PositiveIntegerField(_("duration (days)"), null=True, blank=True)
    form = models.JSONField(_("declared items (投标函)"), default=dict, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(_("key released at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("opened or rejected at"), null=True, blank=True)
    data_key = models.BinaryField(_("released data key"), null=True, blank=True, editable=False)
    data_key_sha256 = models.CharField(_("SHA-256 of the data key"), max_length=64, blank=True)

    class Meta:
        ordering = ["session", "order"]
        constraints = [
            models.UniqueConstraint(fields=["session", "order"], name="unique_reading_order")
        ]
        verbose_name = _("opened bid")
        verbose_name_plural = _("opened bids")

    def __str__(self) -> str:
        return f"bid {self.bid_id} at opening {self.session_id}: {self.status}"


class OpeningObjection(models.Model):
    """An objection raised at the opening, answered on the spot (Reg art. 44)."""

    session = models.ForeignKey(OpeningSession, on_delete=models.PROTECT, related_name="objections")
    number = models.PositiveIntegerField(_("number"))
    raised_by = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    raised_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("objection"))
    raised_at = models.DateTimeField(_("raised at"))
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_by_org = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="unique_objection_number")
        ]
        verbose_name = _("objection at the opening")
        verbose_name_plural = _("objections at the opening")

    def __str__(self) -> str:
        return f"objection {self.number} at opening {self.session_id}"
