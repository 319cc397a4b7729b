"""Statutory windows and limits with worked dates across weekends and the 2026 holidays.

2026 (State Council schedule, as in chinese_calendar): Spring Festival 15–23 February off, Saturday
14 and Saturday 28 February working; Qingming 4–6 April off; Mid-Autumn 25–27 September off and
Sunday 20 September working; National Day 1–7 October off and Saturday 10 October working.
"""

from __future__ import annotations

import datetime as dt

import pytest

from openbid.core import rules
from openbid.disputes import windows
from tests.tendering.factories import at

pytestmark = pytest.mark.django_db


def end_of(day: str) -> dt.datetime:
    """24:00 China time at the end of ``day``."""
    return at(f"{day} 00:00") + dt.timedelta(days=1)


def test_objection_to_documents_closes_ten_days_before_the_deadline():
    lead = rules.rule("objection_tender_docs", on=dt.date(2026, 3, 2))
    # Bid deadline Friday 27 March 09:30: 27 − 10 = Tuesday 17 March, a working day.
    assert windows.latest_objection_day(at("2026-03-27 09:30"), lead) == dt.date(2026, 3, 17)


def test_objection_day_on_national_day_moves_back_to_keep_the_full_lead(settings):
    lead = rules.rule("objection_tender_docs", on=dt.date(2026, 9, 1))
    # Bid deadline Monday 12 October: 12 − 10 = Friday 2 October, National Day. Conservative
    # default: the last day moves back to the previous working day, Wednesday 30 September (25–27
    # September are the Mid-Autumn holiday, 28–30 September working days).
    assert windows.latest_objection_day(at("2026-10-12 09:30"), lead) == dt.date(2026, 9, 30)
    # With the 民法典 roll-over allowed for minimum periods: the next working day, Thursday 8 Oct.
    settings.OPENBID_MIN_PERIOD_HOLIDAY_ROLLOVER = True
    assert windows.latest_objection_day(at("2026-10-12 09:30"), lead) == dt.date(2026, 10, 8)


@pytest.mark.parametrize(
    ("raised", "due"),
    [
        # Friday 6 March + 3 days = Monday 9 March, a working day.
        ("2026-03-06 15:00", "2026-03-09"),
        # Wednesday 4 March + 3 = Saturday 7 March: rolls to Monday 9 March (民法典 art. 203).
        ("2026-03-04 10:00", "2026-03-09"),
        # Tuesday 29 September + 3 = Friday 2 October (National Day): rolls to Thursday 8 October.
        ("2026-09-29 11:00", "2026-10-08"),
        # Thursday 12 February + 3 = Sunday 15 February (Spring Festival, off until Monday 23):
        # Tuesday 24 February.
        ("2026-02-12 16:00", "2026-02-24"),
    ],
)
def test_objection_reply_due_in_three_days(raised, due):
    assert windows.reply_due(at(raised), dt.date(2026, 1, 1)) == end_of(due)


@pytest.mark.parametrize(
    ("filed", "target", "due"),
    [
        # Friday 6 March: working days Monday 9 (1), Tuesday 10 (2), Wednesday 11 (3); target
        # ⌊3 × 50%⌋ = 1 working day: Monday 9 March.
        ("2026-03-06 16:00", "2026-03-09", "2026-03-11"),
        # Tuesday 29 September: Wednesday 30 (1), National Day 1–7 October, Thursday 8 (2),
        # Friday 9 (3).
        ("2026-09-29 10:00", "2026-09-30", "2026-10-09"),
        # Friday 13 February: Saturday 14 is a make-up working day (1); 15–23 off; Tuesday 24 (2),
        # Wednesday 25 (3).
        ("2026-02-13 10:00", "2026-02-14", "2026-02-25"),
    ],
)
def test_complaint_acceptance_in_three_working_days(filed, target, due):
    limit = windows.limit_for("complaint_accept", at(filed))
    assert limit.rule.article == "Reg art. 61"
    assert limit.target_at == end_of(target)
    assert limit.due_at == end_of(due)


def test_complaint_decision_in_thirty_working_days_across_qingming():
    # Accepted Monday 9 March. Working days: 10–13 March (4), 16–20 (9), 23–27 (14), 30–31 (16),
    # 1–3 April (19), Qingming 4–6 April off, 7–10 (23), 13–17 (28), 20 (29), 21 (30).
    # Target 15 working days: Monday 30 March.
    limit = windows.limit_for("complaint_decide", at("2026-03-09 10:00"))
    assert limit.due_at == end_of("2026-04-21")
    assert limit.target_at == end_of("2026-03-30")


def test_target_ratio_is_configurable(settings):
    settings.OPENBID_DISPUTES_TARGET_PERCENT = "80"
    # 30 × 80% = 24 working days from Monday 9 March: … 1–3 April (19), 7–10 (23), 13 April (24).
    limit = windows.limit_for("complaint_decide", at("2026-03-09 10:00"))
    assert limit.target_at == end_of("2026-04-13")


@pytest.mark.parametrize(
    ("knew", "excluded", "end"),
    [
        # Monday 28 September + 10 = Thursday 8 October, a working day.
        ("2026-09-28", 0, "2026-10-08"),
        # Tuesday 22 September + 10 = Friday 2 October (National Day): Thursday 8 October.
        ("2026-09-22", 0, "2026-10-08"),
        # Objection-first: 2 days of the reply period not counted: 5 March + 12 = 17 March.
        ("2026-03-05", 2, "2026-03-17"),
    ],
)
def test_complaint_window(knew, excluded, end):
    day = dt.date.fromisoformat(knew)
    assert windows.complaint_window_end(day, day, excluded) == end_of(end)


def test_reply_period_not_counted():
    # Raised Thursday 5 March 10:00, answered Saturday 7 March: 2 days not counted.
    due = windows.reply_due(at("2026-03-05 10:00"), dt.date(2026, 3, 1))
    assert due == end_of("2026-03-09")  # 5 + 3 = Sunday 8 March → Monday 9 March
    assert windows.excluded_reply_days(at("2026-03-05 10:00"), at("2026-03-07 11:00"), due) == 2
    # No reply in time: the whole reply period, to its last day (Monday 9 March) = 4 days.
    assert windows.excluded_reply_days(at("2026-03-05 10:00"), None, due) == 4


def test_feedback_answer_target_three_working_days():
    # Submitted Wednesday 30 September: Thursday 8 October (1), Friday 9 (2), Saturday 10 October,
    # a make-up working day (3).
    limit = windows.limit_for("feedback_reply_target", at("2026-09-30 15:00"))
    assert limit.due_at == end_of("2026-10-10")
    assert limit.target_at == end_of("2026-10-08")
