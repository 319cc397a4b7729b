"""Forms of the deposit pages. They only shape input; the services decide and refuse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class BasicAccountForm(forms.Form):
    bank_name = forms.CharField(label=_("bank (branch)"), max_length=120)
    account_name = forms.CharField(label=_("account name"), max_length=200)
    account_number = forms.CharField(label=_("account number"), max_length=60)
    sme = forms.BooleanField(
        label=_("we are a small or medium enterprise (中小企业声明)"), required=False
    )


class StatementForm(forms.Form):
    bank = forms.CharField(label=_("bank code"), max_length=20)
    file = forms.FileField(label=_("statement (CSV)"))


class ConfirmationsForm(forms.Form):
    file = forms.FileField(label=_("bank's confirmations (CSV)"))


class GuaranteeFileForm(forms.Form):
    file = forms.FileField(label=_("e-guarantee file (JSON, signed by the issuer)"))


class ApplyForm(forms.Form):
    section = forms.TypedChoiceField(label=_("section"), coerce=int)
    issuer = forms.TypedChoiceField(label=_("issuer"), coerce=int)

    def __init__(
        self,
        *args: object,
        sections: list[tuple[int, str]],
        issuers: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["section"].choices = sections  # type: ignore[attr-defined]
        self.fields["issuer"].choices = issuers  # type: ignore[attr-defined]


class PayForm(forms.Form):
    payment_reference = forms.CharField(label=_("payment reference"), max_length=64)
