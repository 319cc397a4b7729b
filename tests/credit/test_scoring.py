"""Scores and grades: the working, the model's rules, and properties over random records."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbid.credit import policy
from openbid.credit.models import Category, Source
from openbid.credit.scoring import RecordFacts, compute, working_for
from tests.credit.helpers import make_record

D = dt.date
ON = D(2026, 3, 2)


@pytest.fixture(scope="module")
def model():
    return policy.model(ON)


def facts(n=1, **overrides):
    fields = {
        "ref": f"CR-{n:06d}",
        "title": "t",
        "source": "admin_penalty",
        "category": "ordinary",
        "valid_from": D(2026, 1, 1),
        "valid_until": D(2026, 12, 31),
    }
    fields.update(overrides)
    return RecordFacts(**fields)


def test_no_records_is_the_base_grade(model):
    working = compute(model, [], ON)
    assert working.score == Decimal("90.00") and working.grade == "AA"
    assert working.lines == ()


def test_the_working_names_each_record_and_its_points(model):
    records = [
        facts(1),  # -8
        facts(2, source="commendation", category="good"),  # +5
        facts(3, valid_until=D(2026, 3, 1)),  # expired yesterday
        facts(4, status="repaired"),
        facts(5, valid_from=D(2026, 3, 3)),  # not yet
    ]
    working = compute(model, records, ON)
    assert [(ln.record.ref, ln.counts, ln.reason, ln.points) for ln in working.lines] == [
        ("CR-000001", True, "in_effect", Decimal("-8.00")),
        ("CR-000002", True, "in_effect", Decimal("5.00")),
        ("CR-000003", False, "expired", Decimal("0.00")),
        ("CR-000004", False, "repaired", Decimal("0.00")),
        ("CR-000005", False, "not_yet", Decimal("0.00")),
    ]
    assert working.score == Decimal("87.00") and working.grade == "A"
    # the last day of the validity period still counts
    assert compute(model, [facts(1, valid_until=ON)], ON).score == Decimal("82.00")


def test_additions_are_capped_and_the_score_is_kept_in_range(model):
    good = [facts(n, source="performance", category="good") for n in range(1, 5)]  # 4 × 5
    working = compute(model, good, ON)
    assert working.additions == Decimal("20.00") and working.additions_counted == Decimal("10.00")
    assert working.capped and working.score == Decimal("100.00") and working.grade == "AAA"
    bad = [facts(n, category="serious") for n in range(1, 5)]  # 4 × -30
    working = compute(model, bad, ON)
    assert working.raw == Decimal("-30.00") and working.score == Decimal("0.00")
    assert working.clamped and working.grade == "C"


def test_a_listed_subject_gets_the_listed_grade_whatever_its_score(model):
    records = [
        facts(1, category="serious", serious_list=True),
        *(facts(n, source="performance", category="good") for n in range(2, 12)),
    ]
    working = compute(model, records, ON)
    assert working.score_grade == "B" and working.grade == "C" and working.listed
    assert [r.ref for r in working.listed_by] == ["CR-000001"]


def test_linear_decay_fades_points_over_the_validity_period(model):
    linear = dataclasses.replace(model, decay="linear")
    record = facts(1, valid_from=D(2026, 1, 1), valid_until=D(2026, 1, 10))  # 10 days, -8
    assert compute(linear, [record], D(2026, 1, 1)).lines[0].points == Decimal("-8.00")
    line = compute(linear, [record], D(2026, 1, 6)).lines[0]
    assert (line.weight, line.points) == (Decimal("0.50"), Decimal("-4.00"))
    assert compute(linear, [record], D(2026, 1, 10)).lines[0].points == Decimal("-0.80")


def test_working_for_a_subject_reads_its_records(staff, bidder):
    org, _user = bidder
    rec = make_record(staff, org)
    working = working_for(org.credit_subject)
    assert [ln.record.ref for ln in working.counted] == [rec.number]
    assert working.grade == "A" and working.score == Decimal("82.00")
    assert working_for(None).grade == "AA"


# --- properties --------------------------------------------------------------------------------

SOURCES = [s.value for s in Source]


@st.composite
def records(draw):
    source = draw(st.sampled_from(SOURCES))
    category = draw(st.sampled_from(policy.allowed_categories(source)))
    start = ON + dt.timedelta(days=draw(st.integers(-1200, 30)))
    end = start + dt.timedelta(days=draw(st.integers(0, 1100)))
    return facts(
        draw(st.integers(1, 10**6)),
        source=source,
        category=category,
        valid_from=start,
        valid_until=end,
        status=draw(st.sampled_from(["active", "active", "active", "repaired", "revoked"])),
        serious_list=category == Category.SERIOUS and draw(st.booleans()),
    )


DECAYS = st.sampled_from(["none", "linear"])


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=12), DECAYS)
def test_score_is_in_range_exact_to_the_cent_and_adds_up(rs, decay):
    model = dataclasses.replace(policy.model(ON), decay=decay)
    working = compute(model, rs, ON)
    assert model.floor <= working.score <= model.ceiling
    assert working.score == working.score.quantize(Decimal("0.01"))
    assert working.raw == model.base + working.additions_counted + working.deductions
    assert working.additions == sum(
        (ln.points for ln in working.lines if ln.points > 0), Decimal(0)
    )
    assert all(ln.points == 0 for ln in working.not_counted)
    assert working.additions_counted <= model.positive_cap
    assert working.score_grade == model.grade_for(working.score)


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=10), records(), DECAYS)
def test_dishonesty_never_raises_and_good_news_never_lowers_a_score(rs, extra, decay):
    model = dataclasses.replace(policy.model(ON), decay=decay)
    before = compute(model, rs, ON).score
    after = compute(model, [*rs, extra], ON).score
    if extra.category == Category.GOOD:
        assert after >= before
    else:
        assert after <= before


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=10), DECAYS)
def test_repairing_a_record_never_lowers_the_grade(rs, decay):
    model = dataclasses.replace(policy.model(ON), decay=decay)
    grades = policy.GRADES
    for i, r in enumerate(rs):
        if r.status == "active" and r.category != Category.GOOD:
            repaired = [*rs[:i], dataclasses.replace(r, status="repaired"), *rs[i + 1 :]]
            assert grades.index(compute(model, repaired, ON).grade) <= grades.index(
                compute(model, rs, ON).grade
            )


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=-50, max_value=150, places=2))
def test_grades_are_monotone_in_the_score(score):
    model = policy.model(ON)
    higher = model.grade_for(score + Decimal("0.01"))
    assert policy.GRADES.index(higher) <= policy.GRADES.index(model.grade_for(score))
