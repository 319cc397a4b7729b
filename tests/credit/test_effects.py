"""The effects interface on its own: deposits, evaluation credit points, inspection weights."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbid.credit import effects, policy
from openbid.credit.scoring import compute
from tests.credit.helpers import make_record
from tests.credit.test_scoring import facts

ON = dt.date(2026, 3, 2)


def working(grade: str):
    model = policy.model(ON)
    records = {
        "AAA": [
            facts(1, source="performance", category="good"),
            facts(2, source="performance", category="good"),
        ],
        "AA": [],
        "A": [facts(1)],
        "B": [facts(1, category="serious")],
        "C": [facts(1, category="serious", serious_list=True)],
    }[grade]
    w = compute(model, records, ON)
    assert w.grade == grade
    return w


@pytest.mark.parametrize(
    ("grade", "sme", "due", "reason"),
    [
        ("AAA", False, "0.00", "grade_exempt"),
        ("AA", False, "40000.00", "grade_reduction"),
        ("A", False, "64000.00", "grade_reduction"),
        ("B", False, "80000.00", "no_reduction"),
        ("C", False, "80000.00", "no_reduction"),
        ("C", True, "0.00", "sme_exempt"),
    ],
)
def test_deposit_by_grade_and_sme(grade, sme, due, reason):
    decision = effects.deposit_for(
        working(grade), Decimal("80000"), region_code="330100", sme=sme, on=ON
    )
    assert decision.amount_due == Decimal(due) and decision.reason == reason
    assert decision.exempt == (decision.amount_due == 0) and decision.region == "*"


def test_deposit_reads_an_organisations_grade(staff, bidder):
    org, _user = bidder
    make_record(staff, org)  # grade A
    decision = effects.deposit_for(org, Decimal("10000.005"), region_code=org.region_code)
    assert decision.grade == "A" and decision.base_amount == Decimal("10000.01")
    assert decision.amount_due == Decimal("8000.01")
    with pytest.raises(ValueError):
        effects.deposit_for(org, Decimal("-1"), region_code="330100")


@pytest.mark.parametrize(
    ("grade", "points"),
    [("AAA", "10.00"), ("AA", "8.00"), ("A", "6.00"), ("B", "3.00"), ("C", "0.00")],
)
def test_evaluation_credit_points(grade, points):
    result = effects.evaluation_credit_points(working(grade), Decimal("10"), on=ON)
    assert result.points == Decimal(points) and result.grade == grade


@pytest.mark.parametrize(
    ("grade", "weight"), [("AAA", "0.5"), ("AA", "0.8"), ("A", "1"), ("B", "1.5"), ("C", "2")]
)
def test_inspection_weight(grade, weight):
    assert effects.inspection_weight(working(grade), on=ON).weight == Decimal(weight)


def test_an_entity_without_records(bidder, clock):
    org, _user = bidder
    assert effects.inspection_weight(org).grade == "AA"
    assert effects.evaluation_credit_points(org, Decimal("5")).points == Decimal("4.00")


MONEY = st.decimals(min_value=0, max_value=Decimal("800000"), places=4)
GRADES = st.sampled_from(policy.GRADES)


@settings(max_examples=300, deadline=None)
@given(MONEY, GRADES, st.booleans(), st.decimals(min_value=0, max_value=100, places=2))
def test_deposits_are_fen_exact_and_never_more_than_asked(amount, grade, sme, percent):
    w = working(grade)
    base = policy.deposit_policy("*", ON)
    custom = dataclasses.replace(base, reduction_percent={**base.reduction_percent, grade: percent})
    from unittest import mock

    with mock.patch.object(policy, "deposit_policy", return_value=custom):
        decision = effects.deposit_for(w, amount, region_code="330100", sme=sme, on=ON)
    assert decision.amount_due == decision.amount_due.quantize(Decimal("0.01"))
    assert 0 <= decision.amount_due <= decision.base_amount
    assert abs(decision.base_amount - amount) <= Decimal("0.005")
    if sme:
        assert decision.amount_due == 0
    expected = decision.base_amount * (100 - decision.reduction_percent) / 100
    assert abs(decision.amount_due - expected) <= Decimal("0.005")


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=100, places=2), GRADES)
def test_credit_points_never_exceed_the_maximum(maximum, grade):
    result = effects.evaluation_credit_points(working(grade), maximum, on=ON)
    assert 0 <= result.points <= maximum
    assert result.points == result.points.quantize(Decimal("0.01"))
