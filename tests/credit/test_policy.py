"""The credit policy file: loaded, versioned, and refused when malformed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openbid.credit import policy

D = dt.date
TEXT = policy.DEFAULT_PATH.read_text(encoding="utf-8")


def test_the_default_policy_loads():
    p = policy.parse_policy(TEXT)
    model = p.models[0]
    assert model.base == Decimal(90) and [g for g, _m in model.grades] == list(policy.GRADES)
    assert model.points_for("commendation", "good") == Decimal(5)
    assert policy.deposit_policy("330102", D(2026, 3, 2)).region == "*"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('base = "90"', "base = 90.0", "never a float"),
        ('base = "90"', 'base = "101"', "base must be at most 100"),
        ('decay = "none"', 'decay = "sometimes"', "decay must be one of"),
        ('commendation]\ngood = "5"', 'commendation]\ngood = "-5"', "good news adds points"),
        (
            '[model.points.external]\ngood = "3"\n',
            "[model.points.external]\n",
            "points.external must give",
        ),
        ('grade = "AA"\nmin = "90"', 'grade = "AA"\nmin = "96"', "minimum of AAA must be above"),
        ('AAA = "0.5"', 'AAA = "-1"', "weight.AAA must be at least 0"),
        ('region = "*"', 'region = "3301"', "six-digit"),
        ('listed_grade = "C"', 'colour = "C"', "missing listed_grade"),
        ('decay = "none"', 'decay = "none"\ncolour = "red"', "unknown field colour"),
    ],
)
def test_a_malformed_policy_refuses_to_load(old, new, problem):
    assert old in TEXT
    with pytest.raises(policy.PolicyError) as caught:
        policy.parse_policy(TEXT.replace(old, new, 1), source="p.toml")
    assert problem in str(caught.value)


def test_regional_deposit_policy_and_versions():
    text = TEXT + (
        '\n[[deposit]]\nregion = "330100"\nin_force_from = 2026-01-01\nbasis = "Hangzhou"\n'
        "checked = false\nsme_exempt = false\n\n[deposit.reduction_percent]\n"
        'AAA = "100"\nAA = "100"\nA = "50"\nB = "0"\nC = "0"\n'
    )
    p = policy.parse_policy(text)
    from unittest import mock

    with mock.patch.object(policy, "load_policy", return_value=p):
        assert policy.deposit_policy("330106", D(2026, 3, 2)).region == "330100"  # its city
        assert policy.deposit_policy("330100", D(2025, 12, 31)).region == "*"  # not yet in force
        assert policy.deposit_policy("310101", D(2026, 3, 2)).region == "*"
    with pytest.raises(policy.PolicyError):
        policy.model(D(2020, 1, 1))
