"""The evaluation rules a tender announces: defaults by method, overrides checked, refusals."""

from __future__ import annotations

import pytest

from openbid.core.errors import InvalidInput
from openbid.tendering import evaluation_rules


def test_defaults_by_method() -> None:
    comprehensive = evaluation_rules.clean({}, "comprehensive")
    assert [c["code"] for c in comprehensive["criteria"]] == ["T1", "T2", "C1", "P", "CR"]
    assert comprehensive["coefficient"] == {"low": "0.95", "high": "0.99", "step": "0.01"}
    assert comprehensive["tie_breaks"] == ["higher_technical", "lower_price"]
    lowest = evaluation_rules.clean(None, "lowest_price")
    assert lowest["criteria"][0]["pass_fail"] is True
    assert lowest["tie_breaks"] == ["lower_price", "earlier_submission"]


def test_overrides_are_checked_and_kept() -> None:
    rules = evaluation_rules.clean(
        {
            "coefficient": {"low": "0.90", "high": "1.00", "step": "0.025"},
            "criteria": [
                {"code": "T", "name": "技术", "category": "technical", "min": "0", "max": "60"},
                {"code": "P", "category": "price", "max": "40"},
            ],
            "drop_extremes_from": None,
            "required_items": ["010102", "010101", "010101"],
        },
        "comprehensive",
    )
    assert rules["coefficient"]["step"] == "0.025"
    assert rules["drop_extremes_from"] is None
    assert rules["required_items"] == ["010101", "010102"]
    assert rules["criteria"][1] == {
        "code": "P",
        "name": "P",
        "category": "price",
        "min": "0",
        "max": "40",
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"unknown": 1}, "evaluation_rules.unknown"),
        ({"coefficient": {"low": "0.95", "high": "0.99", "step": "0.03"}}, "coefficient"),
        ({"coefficient": {"low": 0.95, "high": "0.99", "step": "0.01"}}, "coefficient.low"),
        ({"trim_extremes_from": 2}, "trim_extremes_from"),
        ({"outlier_share": "0"}, "outlier_share"),
        ({"tie_breaks": ["coin"]}, "tie_breaks"),
        ({"tie_breaks": ["lower_evaluated_price"]}, "tie_breaks"),
        (
            {"criteria": [{"code": "T", "category": "technical", "min": "0", "max": "90"}]},
            "criteria",
        ),
        (
            {
                "criteria": [
                    {"code": "T", "category": "technical", "max": "50"},
                    {"code": "T", "category": "technical", "max": "50"},
                ]
            },
            "criteria.1.code",
        ),
    ],
)
def test_refusals_name_the_rule(raw: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        evaluation_rules.clean(raw, "comprehensive")
    assert err.value.field.endswith(field)


def test_lowest_price_takes_only_pass_fail_factors() -> None:
    with pytest.raises(InvalidInput):
        evaluation_rules.clean(
            {"criteria": [{"code": "T", "category": "technical", "max": "100"}]}, "lowest_price"
        )
