"""Forms of the disputes pages. They only shape input; the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openbid.core.holds import STEPS
from openbid.disputes.models import Complaint, Feedback, Matter, Referral
from openbid.tendering.models import Industry


class DateInput(forms.DateInput):
    input_type = "date"


def _text(label: Any, rows: int = 4, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows})
    )


class ObjectionForm(forms.Form):
    matter = forms.ChoiceField(
        label=_("About"),
        choices=[
            (m.value, m.label) for m in (Matter.TENDER_DOCS, Matter.PREQUAL_DOCS, Matter.EVALUATION)
        ],
    )
    text = _text(_("Objection: facts, grounds and what you ask for"), 6)


class ReplyForm(forms.Form):
    reply = _text(_("Reply"), 6)
    changes_documents = forms.BooleanField(
        label=_("The documents will be clarified or amended"), required=False
    )


class ComplaintForm(forms.Form):
    matter = forms.ChoiceField(label=_("About"), choices=Matter.choices)
    knew_on = forms.DateField(label=_("Day you knew or should have known of it"), widget=DateInput)
    text = _text(_("Facts and grounds, with evidence"), 8)
    requests = _text(_("What you ask the regulator to do"), 3)


class RejectForm(forms.Form):
    ground = forms.ChoiceField(label=_("Ground"), choices=Complaint.Rejection.choices)
    reason = _text(_("Reasons"), 3)


class RequestForm(forms.Form):
    addressee = forms.CharField(label=_("Credit code of the addressee"), max_length=18)
    text = _text(_("Materials or explanations requested"), 3)
    due_on = forms.DateField(label=_("Reply by"), widget=DateInput)


class TextForm(forms.Form):
    text = _text(_("Text"), 4)


class ReasonForm(forms.Form):
    reason = _text(_("Reason"), 2)


class SuspendForm(forms.Form):
    reason = _text(_("Reason"), 2)
    steps = forms.MultipleChoiceField(
        label=_("Steps suspended"),
        choices=[(k, v) for k, v in STEPS.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every remaining step."),
    )


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Complaint.Outcome.choices)
    decision_number = forms.CharField(label=_("Decision document number"), max_length=120)
    findings = _text(_("Facts found and reasons"), 6)
    measures = _text(_("Measures ordered"), 2, required=False)
    penalty = _text(_("Administrative penalty"), 2, required=False)
    credit_subject = forms.CharField(
        label=_("Credit record about (credit code), if the finding is against an entity"),
        max_length=18,
        required=False,
    )
    credit_category = forms.ChoiceField(
        label=_("Credit category"),
        choices=[
            ("", "—"),
            ("minor", _("minor")),
            ("ordinary", _("ordinary")),
            ("serious", _("serious")),
        ],
        required=False,
    )
    credit_valid_until = forms.DateField(
        label=_("Credit record valid until"), widget=DateInput, required=False
    )


class ReferForm(forms.Form):
    body = forms.ChoiceField(label=_("Referred to"), choices=Referral.Body.choices)
    body_name = forms.CharField(label=_("Authority"), max_length=200)
    reference = forms.CharField(label=_("Referral document number"), max_length=120)
    reason = _text(_("Reason"), 2)


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Feedback.Kind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    text = _text(_("Text"), 5)


class AnswerForm(forms.Form):
    answer = _text(_("Answer"), 4)


class ResponsibilityForm(forms.Form):
    region_code = forms.CharField(label=_("Region (GB/T 2260)"), max_length=6)
    industry = forms.ChoiceField(
        label=_("Industry"), choices=[("", _("every industry")), *Industry.choices], required=False
    )
    regulator = forms.CharField(label=_("Credit code of the regulator"), max_length=18)
    basis = forms.CharField(label=_("Basis (职责分工文件)"), max_length=300)
