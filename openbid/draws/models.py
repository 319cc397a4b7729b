"""Verifiable draws: the inputs committed to the ledger, the seed, and the result.

Rows change only through ``openbid.draws.services``. ``snapshot`` (the candidate list with its
salt) and ``result`` are private while the draw is secret; the ledger holds only their digests.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Draw(models.Model):
    """One random draw (随机抽取): committed first, performed once a later checkpoint exists."""

    class Status(models.TextChoices):
        COMMITTED = "committed", _("inputs committed, waiting for the seed")
        PERFORMED = "performed", _("performed")

    purpose = models.CharField(_("purpose"), max_length=60)
    subject_kind = models.CharField(_("subject kind"), max_length=40)
    subject_id = models.CharField(_("subject id"), max_length=40)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redraws",
        verbose_name=_("previous draw"),
    )
    secret = models.BooleanField(
        _("secret until published"),
        default=False,
        help_text=_("only digests of the candidates and the result are public until then"),
    )
    inputs = models.JSONField(_("inputs"))
    inputs_sha256 = models.CharField(_("SHA-256 of the inputs"), max_length=64)
    snapshot = models.JSONField(_("candidate snapshot"), editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.COMMITTED
    )
    commitment_event = models.OneToOneField(
        "core.DomainEvent", on_delete=models.PROTECT, related_name="+", null=True
    )
    commitment_index = models.BigIntegerField(_("ledger index of the commitment"), null=True)
    checkpoint = models.ForeignKey(
        "ledger.Checkpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("seed checkpoint"),
    )
    seed = models.CharField(_("seed (hex)"), max_length=64, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True, editable=False)
    result_sha256 = models.CharField(_("salted SHA-256 of the result"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("committed at"))
    performed_at = models.DateTimeField(_("performed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_kind", "subject_id"])]
        verbose_name = _("draw")
        verbose_name_plural = _("draws")

    def __str__(self) -> str:
        return f"draw {self.pk} ({self.purpose} {self.subject_kind}:{self.subject_id})"

    @property
    def is_public(self) -> bool:
        return not self.secret or self.published_at is not None
