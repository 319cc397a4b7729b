"""Organisations (market entities and public bodies), people, their roles, and API tokens.

Rows change only through ``openbid.accounts.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from openbid.accounts.roles import OrgType, Role


class User(AbstractUser):
    """A person who signs in. What they may do comes from their memberships."""

    display_name = models.CharField(_("full name"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.display_name or self.username


class Organisation(models.Model):
    """A market entity or public body, identified by its unified social credit code."""

    class Status(models.TextChoices):
        # 诚信承诺制: usable from the moment the commitment is signed; staff check afterwards.
        COMMITTED = "committed", _("registered by integrity commitment")
        VERIFIED = "verified", _("verified by staff")
        SUSPENDED = "suspended", _("suspended")

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    org_type = models.CharField(_("type"), max_length=20, choices=OrgType.choices)
    region_code = models.CharField(_("region (GB/T 2260)"), max_length=6)
    legal_representative = models.CharField(_("legal representative"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.COMMITTED
    )
    status_reason = models.TextField(_("reason for the current status"), blank=True)
    commitment_version = models.CharField(_("integrity commitment version"), max_length=20)
    commitment_digest = models.CharField(_("digest of the signed commitment"), max_length=64)
    commitment_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"))
    status_changed_at = models.DateTimeField(_("status changed at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_usable(self) -> bool:
        return self.status != self.Status.SUSPENDED


class Membership(models.Model):
    """A person holding a role in an organisation. ``is_admin`` may manage the organisation's people."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_admin = models.BooleanField(_("organisation administrator"), default=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="unique_membership_role"
            )
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"


class ApiToken(models.Model):
    """A bearer token for a machine client. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
