"""Forms of the credit pages. They only shape input; the services check every rule."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from openbid.credit.models import Category, Source


class DateInput(forms.DateInput):
    input_type = "date"


class RecordForm(forms.Form):
    credit_code = forms.CharField(
        label=_("Unified social credit code of the entity"), max_length=18, required=False
    )
    person = forms.IntegerField(
        label=_("or the person (credit subject number P-…)"), required=False, min_value=1
    )
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    facts = forms.CharField(label=_("Facts"), widget=forms.Textarea(attrs={"rows": 4}))
    legal_basis = forms.CharField(
        label=_("Legal basis"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    issuing_body = forms.CharField(label=_("Issuing body"), max_length=200)
    document_number = forms.CharField(
        label=_("Decision document number"), max_length=120, required=False
    )
    decided_on = forms.DateField(label=_("Decision date"), widget=DateInput)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput)
    is_public = forms.BooleanField(label=_("Public"), required=False, initial=True)
    serious_list = forms.BooleanField(
        label=_("Puts the entity on the serious-dishonesty list (严重失信主体名单)"), required=False
    )
    special_domain = forms.BooleanField(
        label=_("Special equipment, work safety or fire matter"), required=False
    )
    repairable = forms.BooleanField(label=_("May be repaired"), required=False, initial=True)


class RepairForm(forms.Form):
    statement = forms.CharField(
        label=_("Statement of rectification"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What you corrected, how, and your commitment not to repeat it."),
    )
    evidence = forms.FileField(
        label=_("Evidence (PDF, OFD, JPEG, PNG or ZIP)"),
        required=False,
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve: repair the record")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reasons"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportForm(forms.Form):
    source_platform = forms.CharField(
        label=_("External platform"), max_length=80, initial="信用中国"
    )
    file = forms.FileField(label=_("File (CSV or JSON in the exchange format)"))


class PersonForm(forms.Form):
    person_name = forms.CharField(label=_("Person's name"), max_length=80)
    id_number = forms.CharField(label=_("Resident identity card number"), max_length=18)
    username = forms.CharField(
        label=_("Login name of the person (optional)"), max_length=150, required=False
    )
