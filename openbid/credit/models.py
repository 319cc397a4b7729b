"""Credit (信用): subjects, credit records, repair applications and notifications.

Rows change only through ``openbid.credit.services``. A credit record is never edited: its facts
stay as recorded; a correction is a new record that supersedes it, an annulled decision revokes
it, and a successful credit repair (信用修复) marks it repaired. Only those three status changes
ever touch a record row after it is created, and each is an event in the ledger.

Whether a record counts today is computed when it is read (its validity period against the
platform clock); nothing flips a flag when a period ends.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """Where a credit record comes from."""

    ADMIN_PENALTY = "admin_penalty", _("administrative penalty (行政处罚)")
    COMPLAINT_FINDING = "complaint_finding", _("complaint finding (投诉处理决定)")
    POST_AWARD_REVIEW = "post_award_review", _("post-award review (标后评估)")
    PERFORMANCE = "performance", _("contract performance evaluation (履约评价)")
    TENDERER_BEHAVIOUR = "tenderer_behaviour", _("tenderer behaviour points (招标人行为规范积分)")
    COMMENDATION = "commendation", _("commendation (表彰奖励)")
    COMMITMENT_BREACH = "commitment_breach", _("integrity commitment breach (违反信用承诺)")
    EXTERNAL = "external", _("external credit platform (外部信用平台)")


class Category(models.TextChoices):
    """Good information, or dishonesty information by its gravity (轻微, 一般, 严重)."""

    GOOD = "good", _("good (守信)")
    MINOR = "minor", _("minor dishonesty (轻微失信)")
    ORDINARY = "ordinary", _("ordinary dishonesty (一般失信)")
    SERIOUS = "serious", _("serious dishonesty (严重失信)")


# Sources that can only ever be good news, and those that can only ever be bad news.
GOOD_ONLY_SOURCES = frozenset({Source.COMMENDATION})
NEGATIVE_ONLY_SOURCES = frozenset(
    {Source.ADMIN_PENALTY, Source.COMPLAINT_FINDING, Source.COMMITMENT_BREACH}
)


class Grade(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class CreditSubject(models.Model):
    """Whom records are about: a market entity (an organisation), or a person (an expert).

    There is no expert model yet. A person is identified by name and a keyed digest of the
    resident identity card number (the number itself is never stored), and may be linked to
    the person's login. The expert pool can later point its experts at these subjects (or
    find them by ``person_digest``) without moving any record.
    """

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("market entity")
        PERSON = "person", _("person (expert)")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    organisation = models.OneToOneField(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_subject",
    )
    person_name = models.CharField(_("person's name"), max_length=80, blank=True)
    person_digest = models.CharField(
        _("digest of the identity card number"), max_length=64, null=True, blank=True, unique=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_subjects",
    )
    employer = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_people",
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("credit subject")
        verbose_name_plural = _("credit subjects")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="organisation", organisation__isnull=False)
                    | models.Q(
                        kind="person", organisation__isnull=True, person_digest__isnull=False
                    )
                ),
                name="credit_subject_kind_fits",
            )
        ]

    def __str__(self) -> str:
        if self.organisation is not None:
            return self.organisation.name
        return self.person_name

    @property
    def reference(self) -> str:
        """How pages and the API name the subject: the credit code, or ``P-<id>`` for a person."""
        if self.organisation is not None:
            return self.organisation.credit_code
        return f"P-{self.pk}"


class CreditRecord(models.Model):
    """One credit record (信用记录): facts decided by an issuing body on a legal basis."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("in effect")
        SUPERSEDED = "superseded", _("superseded by a corrected record")
        REVOKED = "revoked", _("revoked (decision annulled)")
        REPAIRED = "repaired", _("repaired (信用修复)")

    subject = models.ForeignKey(CreditSubject, on_delete=models.PROTECT, related_name="records")
    source = models.CharField(_("source"), max_length=24, choices=Source.choices)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    title = models.CharField(_("title"), max_length=200)
    facts = models.TextField(_("facts"))
    legal_basis = models.TextField(_("legal basis"))
    issuing_body = models.CharField(_("issuing body"), max_length=200)
    document_number = models.CharField(_("decision document number"), max_length=120, blank=True)
    decided_on = models.DateField(_("decision date"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    is_public = models.BooleanField(_("public"), default=True)
    serious_list = models.BooleanField(_("on the serious-dishonesty list"), default=False)
    special_domain = models.BooleanField(
        _("special equipment, work safety or fire matter"), default=False
    )
    repairable = models.BooleanField(_("may be repaired"), default=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.TextField(_("reason for the status"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    source_platform = models.CharField(_("external platform"), max_length=80, blank=True)
    external_id = models.CharField(
        _("record number on the external platform"), max_length=80, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_for = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["-valid_from", "-id"]
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")
        constraints = [
            models.UniqueConstraint(
                fields=["source_platform", "external_id"],
                condition=~models.Q(external_id=""),
                name="credit_unique_external_record",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="credit_valid_until_not_before_start",
            ),
        ]
        indexes = [models.Index(fields=["serious_list", "status", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        """The record's public reference: ``CR-000042``."""
        return f"CR-{self.pk:06d}" if self.pk else "CR-?"

    @property
    def is_negative(self) -> bool:
        return self.category != Category.GOOD


class RepairApplication(models.Model):
    """A credit repair application (信用修复申请): submitted, accepted for review, decided."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        UNDER_REVIEW = "under_review", _("accepted for review")
        APPROVED = "approved", _("approved: the record is repaired")
        REJECTED = "rejected", _("rejected")

    record = models.ForeignKey(
        CreditRecord, on_delete=models.PROTECT, related_name="repair_applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    statement = models.TextField(_("statement of rectification"))
    evidence = models.FileField(
        _("evidence"), upload_to="credit-repair/%Y/%m/", blank=True, max_length=200
    )
    evidence_name = models.CharField(_("evidence file name"), max_length=200, blank=True)
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=14, choices=Status.choices, default=Status.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("credit repair application")
        verbose_name_plural = _("credit repair applications")
        constraints = [
            # One open application per record at a time.
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(status__in=["submitted", "under_review"]),
                name="credit_one_open_repair_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.record.number} · {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.UNDER_REVIEW)


class Notification(models.Model):
    """A message to an organisation (or one person) shown on their home page.

    Written by the service that makes the change it reports, in the same transaction. The text
    is rendered when it is read, in the reader's language, from ``kind`` and ``params``
    (``openbid.credit.notifications``).
    """

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notifications",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notifications",
    )
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("details"), default=dict)
    link = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.kind} {self.params}"
