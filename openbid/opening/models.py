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
        ESCROW = "escrow", _("escrow: custodians recombine the escrow key")
        CLOSED = "closed", _("decryption closed")

    tender = models.OneToOneField(
        "tendering.Tender", on_delete=models.PROTECT, related_name="opening"
    )
    scheduled_at = models.DateTimeField(_("scheduled at (the bid deadline)"))
    started_at = models.DateTimeField(_("started at"))
    decryption_deadline = models.DateTimeField(_("keys are released until"))
    escrow_deadline = models.DateTimeField(
        _("escrow shares are given until"), null=True, blank=True
    )
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
        AWAITING_ESCROW = "awaiting_escrow", _("awaiting the escrow custodians")
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
        _("status"), max_length=16, choices=Status.choices, default=Status.AWAITING_KEY
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
    via_escrow = models.BooleanField(_("data key recovered through the escrow"), default=False)

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


class Escrow(models.Model):
    """A tender's key escrow (k-of-n custodians): its public record only.

    Registered by the tender's managers while the tender is a draft, so that every bidder knows,
    before sealing, whether it may seal to the escrow key too. The record
    (:class:`openbid.crypto.escrow.EscrowPublic`) holds the escrow public key, the threshold,
    which custodian (an organisation, by credit code) holds which share, and a fingerprint of each
    share: nothing in it decrypts anything. The shares were made off the platform
    (``openbid escrow create``) and handed to the custodians.
    """

    tender = models.OneToOneField(
        "tendering.Tender", on_delete=models.PROTECT, related_name="escrow"
    )
    record = models.JSONField(_("escrow record"))
    suite = models.CharField(_("crypto suite"), max_length=20)
    key_id = models.CharField(_("escrow key id"), max_length=64)
    threshold = models.PositiveSmallIntegerField(_("shares needed"))
    count = models.PositiveSmallIntegerField(_("custodians"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_by_org = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"))
    used_at = models.DateTimeField(_("escrow key recombined at"), null=True, blank=True)

    class Meta:
        verbose_name = _("key escrow")
        verbose_name_plural = _("key escrows")

    def __str__(self) -> str:
        return f"escrow of tender {self.tender_id}: {self.threshold} of {self.count}"


class EscrowShareSubmission(models.Model):
    """A custodian's share, given at an opening after the decryption window closed.

    The mnemonic is kept only until ``threshold`` shares are in and the escrow key has been
    recombined (or the escrow period ends); then it is blanked. By that time the opening has
    begun and the law no longer forbids decrypting this tender's bids; the shares open nothing
    else, since every tender has its own escrow key.
    """

    escrow = models.ForeignKey(Escrow, on_delete=models.PROTECT, related_name="submissions")
    custodian = models.CharField(_("custodian (credit code)"), max_length=18)
    index = models.PositiveSmallIntegerField(_("share index"))
    mnemonic = models.TextField(blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("given at"))
    cleared_at = models.DateTimeField(_("share erased at"), null=True, blank=True)

    class Meta:
        ordering = ["escrow", "submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["escrow", "index"], name="unique_escrow_share")
        ]
        verbose_name = _("escrow share given")
        verbose_name_plural = _("escrow shares given")

    def __str__(self) -> str:
        return f"share {self.index} of escrow {self.escrow_id}"
