"""Statutory checks of a tender before its notice is published.

Each check reads its value from the rules table as in force on the publication day (a tender keeps
those rules), and a failed check becomes a ``Problem`` naming the field, the rule, its article and,
where one exists, the earliest date or time that would satisfy it. ``problems()`` returns them
all, so a form can show everything at once; the publish service refuses with the first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.core import rules, workdays
from openbid.core.errors import InvalidInput
from openbid.core.money import format_yuan
from openbid.tendering.models import Tender

# Rules a green-channel project (绿色通道) may be exempted from; the exemption is recorded.
EXEMPTIBLE = ("bid_period_min", "doc_issue_period_min", "clarification_lead_bid")


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    article: str
    message: str
    earliest: dt.datetime | dt.date | None = None

    def error(self) -> InvalidInput:
        return InvalidInput(
            self.message, field=self.field, rule=self.rule, article=self.article, at=self.earliest
        )


@dataclass(frozen=True)
class SectionTerms:
    """What the checks need of a section, saved or not."""

    number: int
    estimated_price: Decimal
    ceiling_price: Decimal | None
    deposit: Decimal


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _at_same_time(day: dt.date, like: dt.datetime) -> dt.datetime:
    local = _local(like)
    return local.replace(year=day.year, month=day.month, day=day.day)


def order_problems(
    *,
    doc_issue_start: dt.datetime,
    doc_issue_end: dt.datetime,
    question_deadline: dt.datetime,
    bid_deadline: dt.datetime,
    now: dt.datetime,
) -> list[Problem]:
    """The order of the dates only (rule ``schedule_order``); needs no holiday calendar, so a
    draft can be saved whatever years its dates fall in."""
    out: list[Problem] = []
    if doc_issue_start < now - dt.timedelta(minutes=5):
        out.append(
            Problem(
                "doc_issue_start",
                "schedule_order",
                "",
                _("Documents cannot be issued from a time that has passed."),
                now,
            )
        )
    if doc_issue_end <= doc_issue_start:
        out.append(
            Problem(
                "doc_issue_end",
                "schedule_order",
                "",
                _("The end of document issue must come after its start."),
            )
        )
    if bid_deadline < doc_issue_end:
        out.append(
            Problem(
                "bid_deadline",
                "schedule_order",
                "",
                _("The bid deadline cannot come before the end of document issue."),
            )
        )
    if question_deadline <= doc_issue_start:
        out.append(
            Problem(
                "question_deadline",
                "schedule_order",
                "",
                _("Questions must close after the documents are first issued."),
            )
        )
    if question_deadline >= bid_deadline:
        out.append(
            Problem(
                "question_deadline",
                "schedule_order",
                "",
                _("Questions must close before the bid deadline."),
            )
        )
    return out


def schedule_problems(
    *,
    doc_issue_start: dt.datetime,
    doc_issue_end: dt.datetime,
    question_deadline: dt.datetime,
    bid_deadline: dt.datetime,
    on: dt.date,
    now: dt.datetime,
    exemptions: tuple[str, ...] = (),
) -> list[Problem]:
    """The order of the dates, and the statutory periods between them."""
    out = order_problems(
        doc_issue_start=doc_issue_start,
        doc_issue_end=doc_issue_end,
        question_deadline=question_deadline,
        bid_deadline=bid_deadline,
        now=now,
    )
    if out:
        return out

    start_day = _local(doc_issue_start).date()
    if "bid_period_min" not in exemptions:
        rule = rules.rule("bid_period_min", on=on)
        # The full period of calendar days; the deadline's own day must also be a working day
        # (checked below), so the earliest lawful deadline is the first working day on or after
        # the period's last day (rules.md, "Computing periods": conservative default).
        last_day = workdays.add_calendar_days_period(
            start_day, rule.int_value, end_on_working_day=False
        )
        earliest_day = workdays.working_day_on_or_after(last_day)
        if _local(bid_deadline).date() < last_day:
            earliest = _at_same_time(earliest_day, bid_deadline)
            out.append(
                Problem(
                    "bid_deadline",
                    rule.key,
                    rule.article,
                    _(
                        "From the first day documents are issued to the bid deadline there must be at "
                        "least %(days)d days (%(article)s); the earliest lawful deadline is %(earliest)s."
                    )
                    % {
                        "days": rule.int_value,
                        "article": rule.article,
                        "earliest": earliest.strftime("%Y-%m-%d %H:%M"),
                    },
                    earliest,
                )
            )
    if not workdays.is_working_day(_local(bid_deadline).date()):
        day = workdays.next_working_day(_local(bid_deadline).date())
        out.append(
            Problem(
                "bid_deadline",
                "deadline_on_working_day",
                "民法典 art. 203",
                _(
                    "The bid deadline (the opening) falls on a public holiday or rest day; the next "
                    "working day is %(day)s."
                )
                % {"day": day.isoformat()},
                _at_same_time(day, bid_deadline),
            )
        )
    if "doc_issue_period_min" not in exemptions:
        rule = rules.rule("doc_issue_period_min", on=on)
        earliest_day = workdays.add_calendar_days_period(
            start_day, rule.int_value, end_on_working_day=False
        )
        if _local(doc_issue_end).date() < earliest_day:
            earliest = _at_same_time(earliest_day, doc_issue_end)
            out.append(
                Problem(
                    "doc_issue_end",
                    rule.key,
                    rule.article,
                    _(
                        "Tender documents must be issued for at least %(days)d days (%(article)s); issue "
                        "may end at %(earliest)s at the earliest."
                    )
                    % {
                        "days": rule.int_value,
                        "article": rule.article,
                        "earliest": earliest.strftime("%Y-%m-%d %H:%M"),
                    },
                    earliest,
                )
            )
    return out


def deposit_cap(kind: str, estimated_price: Decimal, on: dt.date) -> tuple[Decimal, list[Any]]:
    """The largest lawful deposit of a section, and the rules that set it."""
    ratio_rule = rules.rule("bid_deposit_max_ratio", on=on)
    cap = (estimated_price * ratio_rule.ratio.numerator / ratio_rule.ratio.denominator).quantize(
        Decimal("0.01"), rounding="ROUND_DOWN"
    )
    applied = [ratio_rule]
    caps: dict[str, str] = {
        Tender.Kind.WORKS: "bid_deposit_cap_works",
        Tender.Kind.GOODS: "bid_deposit_cap_works",  # goods tenders of works projects
        Tender.Kind.SURVEY_DESIGN: "bid_deposit_cap_survey_design",
    }
    absolute_key = caps.get(kind)
    if absolute_key:
        absolute = rules.rule(absolute_key, on=on)
        if absolute.value is not None and absolute.value < cap:
            cap = absolute.value.quantize(Decimal("0.01"))
            applied.append(absolute)
    return cap, applied


def section_problems(
    kind: str, deposit_form: str, section: SectionTerms, on: dt.date
) -> list[Problem]:
    out: list[Problem] = []
    prefix = f"sections.{section.number}."
    if section.estimated_price <= 0:
        out.append(
            Problem(
                prefix + "estimated_price",
                "positive_amount",
                "",
                _("The estimated price must be more than zero."),
            )
        )
        return out
    if section.ceiling_price is not None and section.ceiling_price <= 0:
        out.append(
            Problem(
                prefix + "ceiling_price",
                "positive_amount",
                "",
                _("The ceiling price must be more than zero."),
            )
        )
    if section.deposit < 0:
        out.append(
            Problem(
                prefix + "deposit", "positive_amount", "", _("The bid deposit cannot be negative.")
            )
        )
        return out
    if deposit_form == Tender.DepositForm.WAIVED and section.deposit != 0:
        out.append(
            Problem(
                prefix + "deposit",
                "deposit_waived",
                "",
                _("The tender waives the deposit, so the section's deposit must be zero."),
            )
        )
    cap, applied = deposit_cap(kind, section.estimated_price, on)
    if section.deposit > cap:
        articles = "; ".join(r.article for r in applied)
        out.append(
            Problem(
                prefix + "deposit",
                applied[-1].key,
                articles,
                _("The bid deposit of section %(n)d may be at most %(cap)s (%(articles)s).")
                % {"n": section.number, "cap": format_yuan(cap), "articles": articles},
            )
        )
    return out


def problems(
    tender: Tender, *, now: dt.datetime, exemptions: tuple[str, ...] = ()
) -> list[Problem]:
    """Everything that stops ``tender`` from being published at ``now``."""
    on = _local(now).date()
    out = schedule_problems(
        doc_issue_start=tender.doc_issue_start,
        doc_issue_end=tender.doc_issue_end,
        question_deadline=tender.question_deadline,
        bid_deadline=tender.bid_deadline,
        on=on,
        now=now,
        exemptions=exemptions,
    )
    sections = list(tender.sections.all())
    if not sections:
        out.append(
            Problem("sections", "section_required", "", _("A tender needs at least one section."))
        )
    for section in sections:
        out.extend(
            section_problems(
                tender.kind,
                tender.deposit_form,
                SectionTerms(
                    section.number, section.estimated_price, section.ceiling_price, section.deposit
                ),
                on,
            )
        )
    if tender.method == Tender.Method.INVITED:
        rule = rules.rule("invited_min", on=on)
        count = tender.invited.count()
        if count < rule.int_value:
            out.append(
                Problem(
                    "invited",
                    rule.key,
                    rule.article,
                    _(
                        "An invitation tender must invite at least %(min)d bidders (%(article)s); it "
                        "invites %(count)d."
                    )
                    % {"min": rule.int_value, "article": rule.article, "count": count},
                )
            )
    if tender.evaluation_method == Tender.Evaluation.COMPREHENSIVE:
        weights = tender.evaluation_weights or {}
        if not weights or sum(Decimal(str(v)) for v in weights.values()) != 100:
            out.append(
                Problem(
                    "evaluation_weights",
                    "weights_total",
                    "",
                    _("The weights of a comprehensive evaluation must add up to 100."),
                )
            )
    if not tender.documents.exists():
        out.append(
            Problem(
                "documents",
                "documents_required",
                "",
                _("Upload the tender documents before publishing the notice."),
            )
        )
    return out
