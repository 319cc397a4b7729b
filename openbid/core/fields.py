"""Names of input fields as people read them, so refusals say "login name", not "admin_username".

Refusals keep the machine name in ``DomainError.field``; messages use ``label(field)``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

FIELD_LABELS: dict[str, Any] = {
    "name": _("name"),
    "reason": _("reason"),
    "username": _("login name"),
    "admin_username": _("login name"),
    "password": _("password"),
    "admin_password": _("password"),
    "credit_code": _("unified social credit code"),
    "region_code": _("region code"),
    "org_type": _("organisation type"),
    "role": _("role"),
    "source": _("source notice"),
    "date": _("date"),
    "year": _("year"),
    "kind": _("kind of day"),
    "amount": _("amount"),
    "percent": _("percentage"),
    "tenderer": _("tenderer"),
    "agency": _("agency"),
    "state_funding_percent": _("share of state funding (%)"),
    "estimated_investment": _("estimated investment"),
    "estimated_amount": _("estimated amount"),
    "title": _("title"),
    "qualification": _("qualification requirements"),
    "text": _("text"),
    "approval_ref": _("approval or record document number"),
    "green_reason": _("green channel reason"),
}


def label(field: str) -> str:
    """The translated label of ``field`` (the field's own name when none is registered)."""
    return str(FIELD_LABELS.get(field, field))
