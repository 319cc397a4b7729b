"""The evaluation rules a tender announces (评标办法的公布内容): what the committee scores by.

The tender documents must state the evaluation method and every factor, its points and how the
price is scored (Reg art. 49: 评标委员会应当按照招标文件确定的评标标准和方法进行评标; 招标文件没有规定的评标
标准和方法不得作为评标的依据). ``Tender.evaluation_rules`` holds them as JSON, cleaned here when the
tender is created or changed and read with :func:`effective` (an empty field means the defaults):

``criteria``
    the scoring factors, each ``{"code", "name", "category", "min", "max"}``; ``category`` is
    ``technical`` / ``commercial`` (scored by every expert), ``price`` (the formula) or ``credit``
    (the credit context's points). Comprehensive scoring: the maxima add up to ``total_points``,
    at most one price and one credit factor. Lowest evaluated price: technical factors with
    ``"pass_fail": true`` (0 fails, 1 passes; a bid most experts fail is rejected).
``price_formula``
    ``base_price`` (评标基准价法) or ``lowest_price`` (低价优先法).
``coefficient``
    ``{"low", "high", "step"}``: the range the coefficient K (下浮系数) is drawn from, verifiably.
``trim_extremes_from``
    with at least this many valid bids the highest and lowest leave the base price (``null``:
    never).
``above_points_per_percent`` / ``below_points_per_percent``
    points deducted per 1% above / below the base price; ``partial_percent`` ``linear`` /
    ``ignore`` / ``whole``; ``deviation_places`` the places of the deviation percentage.
``drop_extremes_from``
    with at least this many experts one highest and one lowest score are dropped (``null``:
    never); ``aggregation_level`` ``criterion`` or ``category``.
``outlier_share``
    a score further than this share of the factor's range from the other experts' mean needs a
    written reason.
``tie_breaks``
    in order, from ``lower_price``, ``lower_evaluated_price``, ``earlier_submission``,
    ``higher_technical``, ``higher_commercial``, ``higher_credit``; what stays tied is drawn.
``abnormally_low_percent``
    a price this many percent below the mean of the other valid bids is asked to explain.
``required_items``
    codes of the priced items every bid must price (必须报价的清单项目).
``technical_marker``
    a bid file whose name contains it is part of the technical bid, reviewed blind (暗标).

This module checks form only; the evaluation context turns the rules into its scoring objects.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput

FIELD = "evaluation_rules"
CATEGORIES = ("technical", "commercial", "price", "credit")
FORMULAS = ("base_price", "lowest_price")
PARTIAL = ("linear", "ignore", "whole")
LEVELS = ("criterion", "category")
TIE_BREAKS = (
    "lower_price",
    "lower_evaluated_price",
    "earlier_submission",
    "higher_technical",
    "higher_commercial",
    "higher_credit",
)

COMPREHENSIVE_CRITERIA = [
    {"code": "T1", "name": "施工组织设计", "category": "technical", "min": "0", "max": "25"},
    {"code": "T2", "name": "项目管理机构", "category": "technical", "min": "0", "max": "15"},
    {"code": "C1", "name": "商务响应", "category": "commercial", "min": "0", "max": "10"},
    {"code": "P", "name": "投标报价", "category": "price", "min": "0", "max": "40"},
    {"code": "CR", "name": "信用", "category": "credit", "min": "0", "max": "10"},
]
LOWEST_PRICE_CRITERIA = [
    {
        "code": "TC",
        "name": "技术标符合性",
        "category": "technical",
        "min": "0",
        "max": "1",
        "pass_fail": True,
    }
]

_COMMON: dict[str, Any] = {
    "price_formula": "base_price",
    "coefficient": {"low": "0.95", "high": "0.99", "step": "0.01"},
    "trim_extremes_from": 5,
    "above_points_per_percent": "1",
    "below_points_per_percent": "0.5",
    "partial_percent": "linear",
    "deviation_places": 2,
    "drop_extremes_from": 7,
    "aggregation_level": "criterion",
    "outlier_share": "0.20",
    "total_points": "100",
    "abnormally_low_percent": "15",
    "required_items": [],
    "technical_marker": "技术标",
}


def defaults(method: str) -> dict[str, Any]:
    """The rules a tender of evaluation ``method`` announces when it says nothing else."""
    rules = copy.deepcopy(_COMMON)
    if method == "lowest_price":
        rules["criteria"] = copy.deepcopy(LOWEST_PRICE_CRITERIA)
        rules["tie_breaks"] = ["lower_price", "earlier_submission"]
    else:
        rules["criteria"] = copy.deepcopy(COMPREHENSIVE_CRITERIA)
        rules["tie_breaks"] = ["higher_technical", "lower_price"]
    return rules


def _bad(message: str, key: str) -> InvalidInput:
    return InvalidInput(message, field=f"{FIELD}.{key}", rule="evaluation_rules")


def _decimal(
    value: Any, key: str, *, low: Decimal | None = None, high: Decimal | None = None
) -> str:
    if isinstance(value, bool | float) or not isinstance(value, int | str | Decimal):
        raise _bad(_("%(key)s is a decimal number written as text.") % {"key": key}, key)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _bad(_("%(key)s is a decimal number written as text.") % {"key": key}, key) from None
    if (
        not number.is_finite()
        or (low is not None and number < low)
        or (high is not None and number > high)
    ):
        raise _bad(
            _("%(key)s must lie between %(low)s and %(high)s.")
            % {"key": key, "low": low if low is not None else "-", "high": high or "-"},
            key,
        )
    return str(number)


def _whole(value: Any, key: str, *, low: int, high: int, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(
            _("%(key)s is a whole number from %(low)d to %(high)d.")
            % {"key": key, "low": low, "high": high},
            key,
        )
    return value


def _choice(value: Any, key: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _bad(
            _("%(key)s is one of: %(choices)s.") % {"key": key, "choices": ", ".join(choices)}, key
        )
    return str(value)


def _criteria(raw: Any, method: str, total: Decimal) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw or len(raw) > 40:
        raise _bad(_("Announce 1 to 40 scoring factors."), "criteria")
    out: list[dict[str, Any]] = []
    codes: set[str] = set()
    for n, item in enumerate(raw):
        key = f"criteria.{n}"
        if not isinstance(item, dict) or set(item) - {
            "code",
            "name",
            "category",
            "min",
            "max",
            "pass_fail",
        }:
            raise _bad(_("A factor is code, name, category, min and max."), key)
        code = str(item.get("code") or "").strip()
        if not code or len(code) > 16 or code in codes:
            raise _bad(_("Each factor has its own short code."), key + ".code")
        codes.add(code)
        low = Decimal(_decimal(item.get("min", "0"), key + ".min", low=Decimal(0)))
        high = Decimal(_decimal(item.get("max"), key + ".max", low=Decimal(0)))
        if high <= low:
            raise _bad(_("A factor's maximum is above its minimum."), key + ".max")
        category = _choice(item.get("category"), key + ".category", CATEGORIES)
        pass_fail = bool(item.get("pass_fail", False))
        if pass_fail and (category != "technical" or low != 0 or high != 1):
            raise _bad(_("A pass/fail factor is technical, from 0 to 1."), key + ".pass_fail")
        entry: dict[str, Any] = {
            "code": code,
            "name": str(item.get("name") or code)[:100],
            "category": category,
            "min": str(low),
            "max": str(high),
        }
        if pass_fail:
            entry["pass_fail"] = True
        out.append(entry)
    if method == "lowest_price":
        if any(c["category"] != "technical" or not c.get("pass_fail") for c in out):
            raise _bad(
                _(
                    "The lowest evaluated price method announces only pass/fail technical "
                    "factors; the price decides."
                ),
                "criteria",
            )
        return out
    for category in ("price", "credit"):
        if sum(1 for c in out if c["category"] == category) > 1:
            raise _bad(_("At most one %(category)s factor.") % {"category": category}, "criteria")
    if any(c.get("pass_fail") for c in out):
        raise _bad(_("Comprehensive scoring has no pass/fail factors."), "criteria")
    points = sum(Decimal(c["max"]) for c in out)
    if points != total:
        raise _bad(
            _("The factors' maxima add up to %(sum)s, not %(total)s.")
            % {"sum": points, "total": total},
            "criteria",
        )
    return out


def clean(raw: Any, method: str) -> dict[str, Any]:
    """The complete, checked rules of a tender of evaluation ``method``: the defaults, overridden
    by what ``raw`` announces. Refuses unknown keys and values out of range (InvalidInput naming
    ``evaluation_rules.<key>``)."""
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        raise _bad(_("The evaluation rules are a JSON object."), "")
    rules = defaults(method)
    unknown = sorted(set(raw) - set(rules))
    if unknown:
        raise _bad(_("Unknown evaluation rule %(key)s.") % {"key": unknown[0]}, unknown[0])
    rules.update(copy.deepcopy(raw))
    out: dict[str, Any] = {}
    out["price_formula"] = _choice(rules["price_formula"], "price_formula", FORMULAS)
    coefficient = rules["coefficient"]
    if not isinstance(coefficient, dict) or set(coefficient) != {"low", "high", "step"}:
        raise _bad(_("The coefficient range is low, high and step."), "coefficient")
    low = Decimal(_decimal(coefficient["low"], "coefficient.low", low=Decimal("0.01")))
    high = Decimal(_decimal(coefficient["high"], "coefficient.high", low=low, high=Decimal(2)))
    step = Decimal(_decimal(coefficient["step"], "coefficient.step", low=Decimal("0.0001")))
    steps = (high - low) / step
    if steps != steps.to_integral_value() or steps > 1000:
        raise _bad(
            _("The coefficient range is a whole number of steps (at most 1000)."), "coefficient"
        )
    out["coefficient"] = {"low": str(low), "high": str(high), "step": str(step)}
    out["trim_extremes_from"] = _whole(
        rules["trim_extremes_from"], "trim_extremes_from", low=3, high=1000, optional=True
    )
    for key in ("above_points_per_percent", "below_points_per_percent"):
        out[key] = _decimal(rules[key], key, low=Decimal(0), high=Decimal(100))
    out["partial_percent"] = _choice(rules["partial_percent"], "partial_percent", PARTIAL)
    out["deviation_places"] = _whole(rules["deviation_places"], "deviation_places", low=0, high=6)
    out["drop_extremes_from"] = _whole(
        rules["drop_extremes_from"], "drop_extremes_from", low=3, high=99, optional=True
    )
    out["aggregation_level"] = _choice(rules["aggregation_level"], "aggregation_level", LEVELS)
    out["outlier_share"] = _decimal(
        rules["outlier_share"], "outlier_share", low=Decimal("0.01"), high=Decimal(1)
    )
    out["total_points"] = _decimal(
        rules["total_points"], "total_points", low=Decimal(1), high=Decimal(1000)
    )
    out["abnormally_low_percent"] = _decimal(
        rules["abnormally_low_percent"], "abnormally_low_percent", low=Decimal(0), high=Decimal(99)
    )
    items = rules["required_items"]
    if (
        not isinstance(items, list)
        or len(items) > 2000
        or not all(isinstance(i, str) and 0 < len(i.strip()) <= 40 for i in items)
    ):
        raise _bad(_("Required items are a list of item codes."), "required_items")
    out["required_items"] = sorted({i.strip() for i in items})
    ties = rules["tie_breaks"]
    if not isinstance(ties, list) or len(set(ties)) != len(ties):
        raise _bad(_("Tie-breaks are a list, each named once."), "tie_breaks")
    out["tie_breaks"] = [_choice(t, "tie_breaks", TIE_BREAKS) for t in ties]
    allowed = (
        {"lower_price", "lower_evaluated_price", "earlier_submission"}
        if method == "lowest_price"
        else {"lower_price", "earlier_submission", "higher_technical", "higher_commercial"}
        | {"higher_credit"}
    )
    for t in out["tie_breaks"]:
        if t not in allowed:
            raise _bad(
                _("The tie-break %(tie)s does not apply to this evaluation method.") % {"tie": t},
                "tie_breaks",
            )
    marker = rules["technical_marker"]
    if not isinstance(marker, str) or not 0 < len(marker.strip()) <= 40:
        raise _bad(_("The technical file marker is a short text."), "technical_marker")
    out["technical_marker"] = marker.strip()
    out["criteria"] = _criteria(rules["criteria"], method, Decimal(out["total_points"]))
    if (
        method != "lowest_price"
        and "higher_credit" in out["tie_breaks"]
        and not any(c["category"] == "credit" for c in out["criteria"])
    ):
        raise _bad(_("A credit tie-break needs a credit factor."), "tie_breaks")
    return out


def effective(tender: Any) -> dict[str, Any]:
    """The rules the tender announced (the defaults of its method where it said nothing)."""
    return clean(tender.evaluation_rules or {}, tender.evaluation_method)
