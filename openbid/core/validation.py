"""Checks of plain input values shared by every context's services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput
from openbid.core.fields import label


def clean_text(value: Any, field: str, max_length: int, *, required: bool = True) -> str:
    """``value`` stripped; refused when required and empty, or longer than ``max_length``."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(
            _("Please fill in the %(field)s.") % {"field": label(field)},
            field=field,
            rule="required",
        )
    if len(text) > max_length:
        raise InvalidInput(
            _("The %(field)s is longer than %(max)d characters.")
            % {"field": label(field), "max": max_length},
            field=field,
            rule="max_length",
        )
    return text
