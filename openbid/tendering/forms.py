"""Forms of the tendering pages. They only shape input; the services decide and refuse."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from openbid.core import clock, rules, workdays
from openbid.tendering import rules as tender_rules
from openbid.tendering.models import FundingSource, Industry, Project, Tender, TenderPlan

# Times typed into the pages are wall-clock times at the trading centre.
SHANGHAI = ZoneInfo("Asia/Shanghai")
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_SPLIT = re.compile(r"[\s,;，；、]+")


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=_LOCAL_FORMAT)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(SHANGHAI).replace(tzinfo=None)
        return super().format_value(value)


class ShanghaiDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read as Beijing time (Asia/Shanghai), whatever the server's zone."""

    widget = LocalDateTimeInput
    input_formats = [_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        text = str(value or "").strip()
        if not text:
            return None
        for fmt in self.input_formats:
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            return parsed.replace(tzinfo=SHANGHAI)
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(SHANGHAI).replace(tzinfo=None)
        return value


def _codes(text: str) -> list[str]:
    return [c.upper() for c in _SPLIT.split(text or "") if c]


# --- projects and plans ---------------------------------------------------------------------


class ProjectForm(forms.Form):
    code = forms.CharField(
        label=_("Project code (项目代码)"),
        max_length=24,
        help_text=_(
            "As issued by the investment project approval platform, e.g. 2026-330100-48-01-123456."
        ),
    )
    name = forms.CharField(label=_("Project name"), max_length=200)
    region_code = forms.CharField(label=_("Region code (GB/T 2260)"), max_length=6)
    industry = forms.ChoiceField(label=_("Industry"), choices=Industry.choices)
    funding_source = forms.ChoiceField(label=_("Funding source"), choices=FundingSource.choices)
    state_funding_percent = forms.DecimalField(
        label=_("Share of state funding (%)"), max_digits=5, decimal_places=2
    )
    estimated_investment = forms.DecimalField(
        label=_("Estimated investment (yuan)"), max_digits=16, decimal_places=2
    )
    approval_ref = forms.CharField(label=_("Approval or record document number"), max_length=120)
    tenderer = forms.CharField(
        label=_("Tenderer's unified social credit code"),
        max_length=18,
        required=False,
        help_text=_("The tenderer you register the project for as its agency."),
    )
    agency = forms.CharField(
        label=_("Agency's unified social credit code"),
        max_length=18,
        required=False,
        help_text=_("Optional: the tendering agency you appoint."),
    )
    green_channel = forms.BooleanField(label=_("Green channel (绿色通道)"), required=False)
    green_reason = forms.CharField(
        label=_("Green channel reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    green_exemptions = forms.MultipleChoiceField(
        label=_("Rules exempted"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(),
    )

    def __init__(self, *args: Any, for_agency: bool, for_tenderer: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Agency staff name the tenderer; tenderer staff may name their agency.
        if not for_agency:
            del self.fields["tenderer"]
        else:
            self.fields["tenderer"].required = not for_tenderer
        if not for_tenderer:
            del self.fields["agency"]
        self.fields["green_exemptions"].choices = [  # type: ignore[attr-defined]
            (key, f"{rules.rule(key).localized_title()} ({rules.rule(key).article})")
            for key in tender_rules.EXEMPTIBLE
        ]

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for key in ("tenderer", "agency"):
            data[key] = (data.get(key) or "").strip().upper() or None
        return data


class PlanForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    expected_notice_date = forms.DateField(
        label=_("Expected notice date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    estimated_amount = forms.DecimalField(
        label=_("Estimated amount (yuan)"), max_digits=16, decimal_places=2
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- tenders --------------------------------------------------------------------------------


def suggested_schedule(now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """A lawful schedule to start from: documents from the next full hour, for the statutory
    minimum, and the earliest lawful bid deadline at 09:30 on a working day."""
    now = (now or clock.now()).astimezone(SHANGHAI)
    start = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    today = now.date()
    issue_days = rules.rule("doc_issue_period_min", on=today).int_value
    bid_days = rules.rule("bid_period_min", on=today).int_value
    issue_end_day = workdays.add_calendar_days_period(
        start.date(), issue_days, end_on_working_day=False
    )
    deadline_day = workdays.working_day_on_or_after(
        workdays.add_calendar_days_period(start.date(), bid_days)
    )
    deadline = dt.datetime.combine(deadline_day, dt.time(9, 30), tzinfo=SHANGHAI)
    return {
        "doc_issue_start": start,
        "doc_issue_end": dt.datetime.combine(issue_end_day, dt.time(17, 0), tzinfo=SHANGHAI),
        "question_deadline": deadline - dt.timedelta(days=5),
        "bid_deadline": deadline,
    }


class TenderForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Tender.Kind.choices)
    method = forms.ChoiceField(label=_("Method"), choices=Tender.Method.choices)
    evaluation_method = forms.ChoiceField(
        label=_("Evaluation method"), choices=Tender.Evaluation.choices
    )
    evaluation_weights = forms.CharField(
        label=_("Evaluation weights (%)"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("price: 60\ntechnical: 30\ncommercial: 10")}
        ),
        help_text=_(
            "For a comprehensive evaluation: one criterion per line, as criterion: percent."
        ),
    )
    separated_award = forms.BooleanField(
        label=_("Evaluation separated from award (评定分离)"), required=False
    )
    award_method = forms.ChoiceField(
        label=_("Award decision method (定标方法)"),
        choices=[("", "—"), *Tender.AwardMethod.choices],
        required=False,
        help_text=_("Only with a separated award: how the tenderer decides among the candidates."),
    )
    candidates_ranked = forms.BooleanField(
        label=_("Candidates recommended in rank order"), required=False, initial=True
    )
    deposit_form = forms.ChoiceField(label=_("Deposit form"), choices=Tender.DepositForm.choices)
    qualification = forms.CharField(
        label=_("Qualification requirements"), widget=forms.Textarea(attrs={"rows": 3})
    )
    crypto_suite = forms.ChoiceField(
        label=_("Crypto suite for sealed bids"),
        choices=Tender.CryptoSuite.choices,
        initial=Tender.CryptoSuite.INTERNATIONAL,
        required=False,
        help_text=_(
            "Every bid is sealed and signed with this suite, and bidders' certificates must be of it."
        ),
    )
    decryption_window_minutes = forms.IntegerField(
        label=_("Decryption window (minutes)"),
        initial=30,
        min_value=1,
        required=False,
        help_text=_("How long bidders have to release their keys once the opening starts."),
    )
    doc_issue_start = ShanghaiDateTimeField(label=_("Documents issued from"))
    doc_issue_end = ShanghaiDateTimeField(label=_("Documents issued until"))
    question_deadline = ShanghaiDateTimeField(label=_("Questions until"))
    bid_deadline = ShanghaiDateTimeField(label=_("Bid deadline and opening time"))
    invited = forms.CharField(
        label=_("Invited bidders"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For an invitation tender: unified social credit codes, one per line."),
    )
    plan = forms.ModelChoiceField(
        label=_("Tender plan"), queryset=TenderPlan.objects.none(), required=False
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = project.plans.all()  # type: ignore[attr-defined]

    def clean_evaluation_weights(self) -> dict[str, str]:
        weights: dict[str, str] = {}
        for line in (self.cleaned_data.get("evaluation_weights") or "").splitlines():
            if not line.strip():
                continue
            name, sep, value = line.replace("：", ":").replace("=", ":").rpartition(":")
            name, value = name.strip(), value.strip().rstrip("%")
            if not sep or not name or not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", value):
                raise ValidationError(
                    _("Write one criterion per line as criterion: percent (e.g. price: 60).")
                )
            weights[name] = value
        return weights

    def clean_invited(self) -> list[str]:
        return _codes(self.cleaned_data.get("invited", ""))

    @classmethod
    def initial_for(cls, tender: Tender) -> dict[str, Any]:
        initial: dict[str, Any] = {
            f: getattr(tender, f)
            for f in (
                "title",
                "kind",
                "method",
                "evaluation_method",
                "separated_award",
                "award_method",
                "candidates_ranked",
                "deposit_form",
                "qualification",
                "crypto_suite",
                "decryption_window_minutes",
                "doc_issue_start",
                "doc_issue_end",
                "question_deadline",
                "bid_deadline",
            )
        }
        initial["evaluation_weights"] = "\n".join(
            f"{k}: {v}" for k, v in (tender.evaluation_weights or {}).items()
        )
        initial["invited"] = "\n".join(tender.invited.values_list("credit_code", flat=True))
        initial["plan"] = tender.plan_id
        return initial


class SectionForm(forms.Form):
    """One row of the sections table; a row left blank is ignored."""

    name = forms.CharField(label=_("Section name"), max_length=200, required=False)
    estimated_price = forms.DecimalField(
        label=_("Estimated price (yuan)"), max_digits=16, decimal_places=2, required=False
    )
    ceiling_price = forms.DecimalField(
        label=_("Ceiling price (yuan)"), max_digits=16, decimal_places=2, required=False
    )
    deposit = forms.DecimalField(
        label=_("Bid deposit (yuan)"), max_digits=14, decimal_places=2, required=False
    )

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(v not in (None, "") for v in data.values())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if any(v not in (None, "") for v in data.values()):
            for field in ("name", "estimated_price", "deposit"):
                if data.get(field) in (None, ""):
                    self.add_error(field, _("This field is required."))
        return data

    def as_section(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "estimated_price": str(data["estimated_price"]),
            "ceiling_price": None
            if data.get("ceiling_price") is None
            else str(data["ceiling_price"]),
            "deposit": str(data["deposit"]),
        }


class BaseSectionFormSet(forms.BaseFormSet):
    def filled(self) -> list[tuple[int, SectionForm]]:
        """(form index, form) of the rows that were filled in, in order."""
        return [(i, f) for i, f in enumerate(self.forms) if not f.is_blank()]

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.filled():
            raise ValidationError(_("A tender needs at least one section."))


SECTIONS_PREFIX = "sections"
MIN_SECTION_ROWS = 2


def section_formset(
    data: Any = None, initial: list[dict[str, Any]] | None = None
) -> BaseSectionFormSet:
    """The sections formset, with blank rows so that at least two (and one spare) show."""
    initial = initial or []
    extra = max(MIN_SECTION_ROWS - len(initial), 1)
    cls = forms.formset_factory(
        SectionForm, formset=BaseSectionFormSet, extra=extra, max_num=50, absolute_max=50
    )
    return cls(data, initial=initial, prefix=SECTIONS_PREFIX)  # type: ignore[return-value]


def section_initial(tender: Tender) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "estimated_price": s.estimated_price,
            "ceiling_price": s.ceiling_price,
            "deposit": s.deposit,
        }
        for s in tender.sections.all()
    ]


class DocumentForm(forms.Form):
    file = forms.FileField(
        label=_("Tender document file"),
        help_text=_(
            "PDF, OFD, ZIP, DOCX or XLSX. Each upload is a new version; its SHA-256 goes to the ledger."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.ofd,.zip,.docx,.xlsx"}),
    )


class ClarificationForm(forms.Form):
    text = forms.CharField(
        label=_("Clarification or amendment"), widget=forms.Textarea(attrs={"rows": 4})
    )
    affects_preparation = forms.BooleanField(
        label=_("It may affect the preparation of bids"), required=False
    )
    new_bid_deadline = ShanghaiDateTimeField(
        label=_("New bid deadline and opening time"),
        required=False,
        help_text=_("Leave empty to keep the current deadline."),
    )
    answers = forms.MultipleChoiceField(
        label=_("It answers these questions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(),
    )

    def __init__(self, *args: Any, tender: Tender, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (str(q.pk), q.text[:120])
            for q in tender.questions.filter(answered_by__isnull=True).order_by("asked_at")
        ]
        if choices:
            self.fields["answers"].choices = choices  # type: ignore[attr-defined]
        else:
            del self.fields["answers"]

    def clean_answers(self) -> list[int]:
        return [int(v) for v in self.cleaned_data.get("answers") or []]

    def answered_questions(self) -> list[int]:
        return list(self.cleaned_data.get("answers") or [])


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for terminating the tender"), widget=forms.Textarea(attrs={"rows": 2})
    )


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Your question"), widget=forms.Textarea(attrs={"rows": 3}))
