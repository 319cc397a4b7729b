"""Forms of the expert pool and committee pages (parsing only; the services check the rules)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openbid.evaluation import specialties

REGION_CHOICES = [
    ("local", _("local (this province)")),
    ("remote", _("remote (远程异地: other provinces)")),
    ("any", _("any region")),
]


def _specialty_choices() -> list[tuple[str, str]]:
    return [(s.code, "　" * s.depth + s.label) for s in specialties.all_specialties()]


class ExpertForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    id_number = forms.CharField(
        label=_("Identity number"),
        max_length=18,
        help_text=_("Not stored: only a keyed digest, to admit each person once."),
    )
    employer = forms.CharField(label=_("Employer (unified social credit code)"), max_length=18)
    region_code = forms.CharField(label=_("Region code (GB/T 2260)"), max_length=6)
    specialties = forms.MultipleChoiceField(label=_("Specialties"), choices=())
    title = forms.CharField(label=_("Professional title"), max_length=80, required=False)
    qualifications = forms.CharField(
        label=_("Qualifications (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    username = forms.CharField(label=_("Account (login name, optional)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["specialties"].choices = _specialty_choices()  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class UnavailabilityForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class CommitteeForm(forms.Form):
    evaluation_date = forms.DateField(
        label=_("Evaluation date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    specialty_1 = forms.ChoiceField(label=_("Specialty"), choices=())
    count_1 = forms.IntegerField(label=_("Experts"), min_value=1, max_value=50, initial=5)
    reserves_1 = forms.IntegerField(label=_("Reserves"), min_value=0, max_value=50, initial=0)
    region_1 = forms.ChoiceField(label=_("Region"), choices=REGION_CHOICES, initial="local")
    specialty_2 = forms.ChoiceField(label=_("Second group: specialty"), choices=(), required=False)
    count_2 = forms.IntegerField(label=_("Experts"), min_value=0, max_value=50, required=False)
    reserves_2 = forms.IntegerField(label=_("Reserves"), min_value=0, max_value=50, required=False)
    region_2 = forms.ChoiceField(label=_("Region"), choices=REGION_CHOICES, required=False)
    representatives = forms.IntegerField(
        label=_("Seats of the tenderer's representatives"), min_value=0, max_value=10, initial=0
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _specialty_choices()
        self.fields["specialty_1"].choices = choices  # type: ignore[attr-defined]
        self.fields["specialty_2"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]

    def groups(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        out = [
            {
                "specialty": data["specialty_1"],
                "count": data["count_1"],
                "reserves": data["reserves_1"] or 0,
                "region": data["region_1"],
            }
        ]
        if data.get("specialty_2") and data.get("count_2"):
            out.append(
                {
                    "specialty": data["specialty_2"],
                    "count": data["count_2"],
                    "reserves": data.get("reserves_2") or 0,
                    "region": data.get("region_2") or "any",
                }
            )
        return out


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you decline"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RepresentativeForm(forms.Form):
    username = forms.CharField(label=_("Representative's login name"), max_length=150)
