"""Small helpers shared by the web views of every context."""

from __future__ import annotations

from django import forms

from openbid.core.errors import DomainError


def add_refusal(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names (or on the whole form)."""
    field = error.field if error.field in form.fields else None
    # Refusals about a time name it in their message, in the platform's time zone.
    form.add_error(field, str(error))
