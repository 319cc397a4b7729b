"""Admin for the ledger: checkpoints to look at; witnesses and witnessed logs added through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from openbid.core.admin_site import CentreStaffAdmin, is_centre_staff
from openbid.core.errors import DomainError
from openbid.ledger import services
from openbid.ledger.models import Checkpoint, Cosignature, Witness, WitnessedLog


@admin.register(Checkpoint)
class CheckpointAdmin(CentreStaffAdmin):
    list_display = ["size", "issued_at"]
    readonly_fields = ["size", "body", "note", "issued_at"]
    exclude = ["root_hash"]


@admin.register(Cosignature)
class CosignatureAdmin(CentreStaffAdmin):
    list_display = ["checkpoint", "witness_name", "timestamp", "received_at"]


class _ServiceAddAdmin(CentreStaffAdmin):
    """Rows are added only through a service: the form's validation calls it, so a refusal shows
    on the form's field, and saving has nothing left to write."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_centre_staff(request)

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        base = super().get_form(request, obj, change=change, **kwargs)
        create = self.create

        class ServiceForm(base):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                data = super().clean() or {}
                if not self.errors:
                    try:
                        self.instance = create(request, data)
                    except DomainError as error:
                        self.add_error(
                            error.field if error.field in self.fields else None, str(error)
                        )
                return data

        return ServiceForm

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        """Nothing to save: the service created the row while the form was validated."""


@admin.register(Witness)
class WitnessAdmin(_ServiceAddAdmin):
    list_display = ["name", "url", "active", "last_size", "last_error"]
    fields = ["name", "url", "verifier_key"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Witness:
        return services.add_witness(
            request.user, name=data["name"], url=data["url"], verifier_key=data["verifier_key"]
        )


@admin.register(WitnessedLog)
class WitnessedLogAdmin(_ServiceAddAdmin):
    list_display = ["origin", "size", "updated_at"]
    fields = ["origin", "verifier_keys"]

    def create(self, request: HttpRequest, data: dict[str, Any]) -> WitnessedLog:
        keys = [k for k in data["verifier_keys"].splitlines() if k.strip()]
        return services.witness_log(request.user, origin=data["origin"], verifier_keys=keys)
