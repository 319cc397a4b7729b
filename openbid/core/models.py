"""Core state: the append-only domain event record and the working-day calendar table."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: recorded events are never changed or removed."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("domain events are append-only")

    def delete(self) -> NoReturn:
        raise PermissionError("domain events are append-only")


class DomainEvent(models.Model):
    """One state change, written in the same transaction as the change it describes.

    ``payload`` is public data only. Confidential data (a sealed bid, an expert's identity before
    publication) appears only as ``private_digest``, a salted SHA-256 whose salt stays with the
    owner of the data, so the record can later prove what was known without disclosing it.
    """

    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    type = models.CharField(_("event type"), max_length=80, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_org = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor organisation"),
    )
    payload = models.JSONField(_("public payload"), default=dict)
    private_digest = models.CharField(_("digest of confidential data"), max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")

    def __str__(self) -> str:
        return f"#{self.pk} {self.type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("domain events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("domain events are append-only")


class EventSubject(models.Model):
    """What an event is about, so a subject's timeline is one indexed query (``tender:42``)."""

    event = models.ForeignKey(DomainEvent, on_delete=models.PROTECT, related_name="subjects")
    kind = models.CharField(max_length=40)
    ref = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["kind", "ref"])]
        constraints = [
            models.UniqueConstraint(fields=["event", "kind", "ref"], name="unique_event_subject")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref}"


class CalendarDay(models.Model):
    """A day whose status the State Council's holiday notice sets, entered by centre staff.

    Entries override the ``chinese-calendar`` package: a ``holiday`` is a day off even on a weekday,
    a ``workday`` is a make-up working day (调休上班) even on a weekend.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("public holiday (day off)")
        WORKDAY = "workday", _("make-up working day (调休)")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("holiday name"), max_length=60, blank=True)
    source = models.CharField(_("source notice"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


class CalendarYear(models.Model):
    """A year whose whole holiday schedule has been entered in the table.

    Only a complete year may be used for working-day arithmetic: a half-entered year would give
    wrong deadlines silently.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source notice"), max_length=200)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        ordering = ["year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self) -> str:
        return str(self.year)
