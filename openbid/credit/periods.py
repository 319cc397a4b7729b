"""Periods of months and years on calendar dates, and the statutory periods of credit records."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from openbid.core import rules


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day (31 Jan + 1
    month is 28 or 29 Feb), as a period in months ends on the corresponding day (民法典 art. 202)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_period(day: dt.date, rule: rules.Rule) -> dt.date:
    """``day`` plus the rule's value in its unit (years, months or calendar days)."""
    n = rule.int_value
    if rule.unit == "years":
        return add_months(day, 12 * n)
    if rule.unit == "months":
        return add_months(day, n)
    if rule.unit == "calendar_days":
        return day + dt.timedelta(days=n)
    raise ValueError(f"rule {rule.key} is not a period of days, months or years")


def rule_for(key: str, decided_on: dt.date) -> rules.Rule:
    """The version of ``key`` in force when the record was decided (a record keeps its rules);
    for decisions older than any version, the earliest version."""
    try:
        return rules.rule(key, on=decided_on)
    except rules.RuleNotFound:
        found = rules.versions(key)
        later = [v for v in found if v.in_force_from > decided_on]
        return later[0] if later else found[-1]


def minimum_period_rule(record: Any) -> rules.Rule:
    """The minimum publicity period a record must serve before it may be repaired."""
    if record.serious_list:
        key = "credit_serious_list_min"
    elif record.category == "serious":
        key = "penalty_display_min_serious"
    elif record.special_domain:
        key = "penalty_display_min_safety"
    else:
        key = "penalty_display"
    return rule_for(key, record.decided_on)


def earliest_repair_date(record: Any) -> tuple[dt.date, rules.Rule]:
    """The first day on which a repair of ``record`` may be applied for, and the rule setting it."""
    rule = minimum_period_rule(record)
    return add_period(record.valid_from, rule), rule
