"""Admin for CA mutual recognition: centre staff add CA certificates and CRLs through the services
(paste the PEM or upload the file); people's certificates are shown read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from openbid.core.admin_site import CentreStaffAdmin, is_centre_staff
from openbid.core.errors import DomainError, InvalidInput
from openbid.crypto import services
from openbid.crypto.models import PersonCertificate, RevocationList, TrustedCA
from openbid.ledger.admin import _ServiceAddAdmin

_MAX_UPLOAD = services.MAX_CRL_BYTES


def _uploaded_or_pasted(data: dict[str, Any], file_field: str, text_field: str) -> bytes | str:
    upload = data.get(file_field)
    if upload:
        if upload.size > _MAX_UPLOAD:
            raise InvalidInput(_("The file is too large."), field=file_field, rule="max_length")
        return bytes(upload.read())
    return str(data.get(text_field) or "")


class TrustedCAForm(forms.ModelForm):
    certificate_pem = forms.CharField(
        label=_("CA certificate (PEM)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 70}),
        help_text=_("Paste the CA's certificate, or upload its file below."),
    )
    certificate_file = forms.FileField(
        label=_("or upload the certificate file (.pem, .crt, .cer)"), required=False
    )

    class Meta:
        model = TrustedCA
        fields = ["name", "region_code"]


@admin.action(description=_("Deactivate the selected CAs (withdraw recognition)"))
def deactivate(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
    for ca in queryset:
        try:
            services.deactivate_trusted_ca(
                request.user, ca, reason=str(_("deactivated in the admin"))
            )
        except DomainError as error:
            modeladmin.message_user(request, f"{ca}: {error}", messages.ERROR)


@admin.register(TrustedCA)
class TrustedCAAdmin(_ServiceAddAdmin):
    form = TrustedCAForm
    list_display = ["name", "region_code", "kind", "fingerprint", "valid_until", "active"]
    list_filter = ["active", "kind", "region_code"]
    search_fields = ["name", "fingerprint", "subject"]
    actions = [deactivate]
    add_fields = ["name", "region_code", "certificate_pem", "certificate_file"]
    view_fields = [
        "name",
        "region_code",
        "kind",
        "fingerprint",
        "subject",
        "issuer",
        "valid_from",
        "valid_until",
        "added_by",
        "added_at",
        "active",
        "deactivated_at",
        "deactivation_reason",
        "certificate_pem",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else self.view_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The list needs it for the deactivate action; single rows stay read-only.
        return obj is None and is_centre_staff(request)

    def create(self, request: HttpRequest, data: dict[str, Any]) -> TrustedCA:
        return services.add_trusted_ca(
            request.user,
            name=data["name"],
            region_code=data["region_code"],
            certificate_pem=_uploaded_or_pasted(data, "certificate_file", "certificate_pem"),
        )


class RevocationListForm(forms.ModelForm):
    crl = forms.CharField(
        label=_("CRL (PEM)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 70}),
        help_text=_("Paste the CRL as PEM, or upload the CRL file (PEM or DER) below."),
    )
    crl_file = forms.FileField(label=_("or upload the CRL file (.crl)"), required=False)

    class Meta:
        model = RevocationList
        fields = ["ca"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "ca" in self.fields:
            self.fields["ca"].queryset = TrustedCA.objects.filter(active=True)  # type: ignore[attr-defined]


@admin.register(RevocationList)
class RevocationListAdmin(_ServiceAddAdmin):
    form = RevocationListForm
    list_display = ["ca", "number", "this_update", "next_update", "revoked_count", "uploaded_at"]
    list_filter = ["ca"]
    add_fields = ["ca", "crl", "crl_file"]
    view_fields = [
        "ca",
        "sha256",
        "number",
        "this_update",
        "next_update",
        "revoked_count",
        "uploaded_by",
        "uploaded_at",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else self.view_fields

    def create(self, request: HttpRequest, data: dict[str, Any]) -> RevocationList:
        return services.add_crl(
            request.user,
            ca=data["ca"],
            crl_pem_or_der=_uploaded_or_pasted(data, "crl_file", "crl"),
        )


@admin.register(PersonCertificate)
class PersonCertificateAdmin(CentreStaffAdmin):
    list_display = [
        "user",
        "organisation",
        "purpose",
        "status",
        "fingerprint",
        "issuer_ca",
        "not_after",
        "registered_at",
    ]
    list_filter = ["status", "purpose", "suite", "issuer_ca"]
    search_fields = ["fingerprint", "organisation__credit_code", "organisation__name", "serial"]
    list_select_related = ["user", "organisation", "issuer_ca"]
