"""Statutory windows and time limits of objections and complaints, computed from the rules table
and the working-day calendar (``openbid.core.workdays``).

Counting follows 民法典 arts. 201–203 as the rest of the platform does: the day an event happens is
not counted; a calendar-day period whose last day is a rest day or public holiday ends on the next
working day; a day ends at 24:00 China time. A minimum lead before a deadline ("at least 10 days
before the bid deadline") is counted back from the deadline's day; when that day is a holiday the
platform's policy setting decides (``workdays.add_calendar_days_period``; by default the full lead
is kept and the last day moves back to the previous working day).

============================  ===============================================  ==================
rules table key               what it sets here                                article
============================  ===============================================  ==================
objection_prequal_docs        latest day to object to prequalification docs    Reg art. 22
objection_tender_docs         latest day to object to tender documents         Reg art. 22
objection_evaluation          objections during the candidate publicity        Reg art. 54
objection_opening             objections at the opening (opening context)      Reg art. 44
objection_reply               reply due (calendar days), tender suspended      Reg arts. 22, 54
complaint_window              complaint within 10 days of knowing; for         Reg art. 60
                              objection-first matters the reply time is not
                              counted
complaint_accept              acceptance decision (working days)               Reg art. 61
complaint_decide              decision (working days; pauses not counted)      Reg art. 61
handling_target_ratio         the target: this share of each limit             seed 003 #19
feedback_reply_target         answer to a suggestion (working days)            seed 000 7.1
============================  ===============================================  ==================
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.utils import timezone

from openbid.core import rules, workdays


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, workdays.CHINA_TZ).date()


def end_of(day: dt.date) -> dt.datetime:
    """24:00 China time at the end of ``day``."""
    return workdays.period_end_datetime(day)


# --- objections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """When an objection or complaint may be made: ``opens`` (None: already open) to ``closes``
    (None: no fixed end yet), with the rule that sets it."""

    opens: dt.datetime | None
    closes: dt.datetime | None
    rule: rules.Rule

    def contains(self, moment: dt.datetime) -> bool:
        return (self.opens is None or self.opens <= moment) and (
            self.closes is None or moment < self.closes
        )


# The candidate publicity (中标候选人公示) is the award context's: it registers a function that
# gives a tender's publicity period (start, end), or None when the candidates are not published.
# Until one is registered, a tender whose status is "candidates in publicity" is taken to be in
# its publicity with no known end.
PUBLICITY_SOURCES: list[Callable[[Any], tuple[dt.datetime, dt.datetime] | None]] = []
# Prequalification (资格预审) is not yet modelled: a context that adds it registers a function
# giving a tender's prequalification application deadline, or None when it has none.
PREQUAL_DEADLINE_SOURCES: list[Callable[[Any], dt.datetime | None]] = []


def publicity_period(tender: Any) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """The candidate publicity of ``tender`` as (start, end), or None when not in publicity."""
    for source in PUBLICITY_SOURCES:
        found = source(tender)
        if found is not None:
            return found
    if tender.status == "publicity":
        return (None, None)
    return None


def prequal_deadline(tender: Any) -> dt.datetime | None:
    for source in PREQUAL_DEADLINE_SOURCES:
        found = source(tender)
        if found is not None:
            return found
    return None


def latest_objection_day(deadline: dt.datetime, lead: rules.Rule) -> dt.date:
    """The last day on which an objection may be raised ``lead`` days before ``deadline``."""
    return workdays.add_calendar_days_period(local_day(deadline), -lead.int_value)


def documents_window(tender: Any, rules_on: dt.date) -> Window:
    """Objections to the tender documents: from their issue until 24:00 of the day that leaves at
    least ``objection_tender_docs`` (10) days before the bid deadline (Reg art. 22)."""
    lead = rules.rule("objection_tender_docs", on=rules_on)
    return Window(
        opens=tender.doc_issue_start,
        closes=end_of(latest_objection_day(tender.bid_deadline, lead)),
        rule=lead,
    )


def prequal_window(tender: Any, rules_on: dt.date) -> Window | None:
    """Objections to the prequalification documents: until 2 days before the application
    deadline (Reg art. 22); None for a tender without prequalification."""
    deadline = prequal_deadline(tender)
    if deadline is None:
        return None
    lead = rules.rule("objection_prequal_docs", on=rules_on)
    return Window(
        opens=tender.doc_issue_start, closes=end_of(latest_objection_day(deadline, lead)), rule=lead
    )


def evaluation_window(tender: Any, rules_on: dt.date) -> Window | None:
    """Objections to the evaluation result: during the candidate publicity (Reg art. 54)."""
    period = publicity_period(tender)
    if period is None:
        return None
    return Window(
        opens=period[0], closes=period[1], rule=rules.rule("objection_evaluation", on=rules_on)
    )


def reply_due(raised_at: dt.datetime, rules_on: dt.date) -> dt.datetime:
    """The reply to an objection is due 3 days after it is received (Reg art. 22): 24:00 of the
    third day, the day of receipt not counted, moved to the next working day if that is a rest
    day or holiday (民法典 art. 203)."""
    limit = rules.rule("objection_reply", on=rules_on)
    return end_of(workdays.add_calendar_days_period(local_day(raised_at), limit.int_value))


# --- complaints ---------------------------------------------------------------------------------


def excluded_reply_days(
    raised_at: dt.datetime, answered: dt.datetime | None, due: dt.datetime
) -> int:
    """Calendar days of an objection's reply period, not counted in the complaint period (Reg art.
    60): from the day the objection was raised to the day of the reply (or to the day the reply
    was due, when none came in time)."""
    if answered is not None and answered <= due:
        end_day = local_day(answered)
    else:
        end_day = local_day(due - dt.timedelta(seconds=1))  # the last day of the reply period
    return max(0, (end_day - local_day(raised_at)).days)


def complaint_window_end(
    knew_on: dt.date, rules_on: dt.date, excluded_days: int = 0
) -> dt.datetime:
    """The end of the complaint period: 10 days after the day the complainant knew or should have
    known (that day not counted), plus the days of an objection's reply period (Reg art. 60),
    ending at 24:00 of a working day (民法典 art. 203)."""
    window = rules.rule("complaint_window", on=rules_on)
    return end_of(workdays.add_calendar_days_period(knew_on, window.int_value + excluded_days))


# --- limits and targets -------------------------------------------------------------------------


def target_ratio(on: dt.date) -> Fraction:
    """The share of a statutory limit the platform aims for: ``handling_target_ratio`` (50%),
    unless the setting ``OPENBID_DISPUTES_TARGET_PERCENT`` says otherwise."""
    configured = getattr(settings, "OPENBID_DISPUTES_TARGET_PERCENT", None)
    if configured is not None:
        return Fraction(str(configured)) / 100
    return rules.rule("handling_target_ratio", on=on).ratio


def target_days(limit_days: int, ratio: Fraction) -> int:
    """Whole days of a target: the share of the limit, rounded down (never later than the share),
    at least one day. 3 days at 50% → 1 day; 30 working days → 15."""
    return max(1, math.floor(limit_days * ratio))


@dataclass(frozen=True)
class Limit:
    """A step's statutory limit and its target, as instants (24:00 China time of their day)."""

    rule: rules.Rule
    started_at: dt.datetime
    target_at: dt.datetime
    due_at: dt.datetime


def limit_for(key: str, started_at: dt.datetime, *, rules_on: dt.date | None = None) -> Limit:
    """The limit of rule ``key`` (calendar or working days) counted from ``started_at`` and its
    target (``target_ratio`` of it): a working-day limit ends on the n-th working day after the
    start day; a calendar-day limit on the n-th day, moved to a working day."""
    on = rules_on or local_day(started_at)
    rule = rules.rule(key, on=on)
    days = rule.int_value
    short = target_days(days, target_ratio(on))
    start = local_day(started_at)
    if rule.unit == "working_days":
        due = workdays.add_working_days(start, days)
        target = workdays.add_working_days(start, short)
    elif rule.unit == "calendar_days":
        due = workdays.add_calendar_days_period(start, days)
        target = workdays.add_calendar_days_period(start, short)
    else:  # pragma: no cover - the table's units are checked when it loads
        raise ValueError(f"rule {key} is not a period")
    return Limit(rule=rule, started_at=started_at, target_at=end_of(target), due_at=end_of(due))


def extend_by_working_days(moment: dt.datetime, days: int) -> dt.datetime:
    """``moment`` (24:00 of a day) moved ``days`` working days later: a pause not counted."""
    if days <= 0:
        return moment
    day = local_day(moment - dt.timedelta(seconds=1))
    return end_of(workdays.add_working_days(day, days))


def working_days_in(start: dt.datetime, end: dt.datetime) -> int:
    """Working days a pause covered: those after the day it started, up to the day it ended."""
    return max(0, workdays.working_days_between(local_day(start), local_day(end)))
