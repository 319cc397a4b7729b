from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from openbid.accounts import commitment
from openbid.accounts.roles import SELF_REGISTERING_TYPES, OrgType, Role


class RegistrationForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18)
    org_type = forms.ChoiceField(
        label=_("Type"),
        choices=[(t.value, t.label) for t in OrgType if t in SELF_REGISTERING_TYPES],
    )
    region_code = forms.CharField(label=_("Region code (GB/T 2260)"), max_length=6)
    legal_representative = forms.CharField(
        label=_("Legal representative"), max_length=80, required=False
    )
    admin_display_name = forms.CharField(label=_("Your name"), max_length=80, required=False)
    admin_username = forms.CharField(label=_("Login name"), max_length=150)
    admin_password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    commitment_version = forms.CharField(
        widget=forms.HiddenInput, initial=commitment.CURRENT_VERSION
    )
    accept_commitment = forms.BooleanField(
        label=_("I sign the integrity commitment on behalf of the organisation"), required=False
    )


class AddPersonForm(forms.Form):
    display_name = forms.CharField(label=_("Full name"), max_length=80, required=False)
    username = forms.CharField(label=_("Login name"), max_length=150)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    is_admin = forms.BooleanField(label=_("Administrator of the organisation"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=80)


class PasswordForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput)
    new_password_again = forms.CharField(label=_("New password again"), widget=forms.PasswordInput)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data
