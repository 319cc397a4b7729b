"""Bid clearing (清标): checks on the read-out and priced items of every bid before scoring.

Pure functions over plain values. ``clear`` takes each bid's read-out total (投标总价, from the bid
form read at opening) and its priced items (已标价工程量清单: code, quantity, unit price, written
line total) and returns findings, each with its kind, severity, the numbers, the platform rule and
the source it comes from. Findings are facts for the committee, not decisions: the evaluation
session turns ``CONFIRMATION`` and ``CLARIFICATION`` findings into clarification requests to the
bidder through the platform, and the committee decides on ``INVALID`` ones (否决投标) in the report.

Checks (docs/evaluation-methods.md states them with examples):

* arithmetic (算术错误修正): each line's quantity × unit price, rounded to the fen, against its
  written total; the sum of the line totals against the read-out total. Differences within
  ``tolerance`` are rounding, not errors. With ``Prevails.UNIT_PRICE`` (the default, as in
  《标准施工招标文件》 (2007 edition, amended 2013) chapter 3 评标办法 3.1.3: "总价金额与依据单价计算出的
  结果不一致的，以单价金额为准修正总价") the corrected price is the sum of quantity × unit price; the
  correction binds the bidder only after written confirmation, so the finding asks for it. With
  ``Prevails.TOTAL`` the read-out total stands and differences are put to the bidder for
  clarification.
* ceiling price (最高投标限价): a read-out or corrected price above it makes the bid invalid
  (Reg art. 51(5)).
* abnormally low price (异常低价): below the mean of the other valid bids by more than a configured
  percentage, or below a base price (标底/基准价) by more than a configured percentage: the bidder is
  asked to explain and prove it is not below cost (《评标委员会和评标方法暂行规定》 art. 21; Law art.
  33), never rejected automatically.
* mandatory items (必须报价的清单项目): a required item code missing from the priced items; its
  severity is the tender's (by default invalid: a substantive requirement, Reg art. 51(6)).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput
from openbid.core.money import yuan
from openbid.evaluation.scoring import decimal_value, div_exact, mul_exact, round2

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)

SOURCE_ARITHMETIC = "《标准施工招标文件》(2007, amended 2013) ch. 3 评标办法 3.1.3"
SOURCE_CEILING = "Reg art. 51(5)"
SOURCE_LOW_PRICE = "《评标委员会和评标方法暂行规定》 art. 21; Law art. 33"
SOURCE_SUBSTANTIVE = "Reg art. 51(6)"


class Severity(StrEnum):
    INFO = "info"  # recorded for the report
    CONFIRMATION = "confirmation"  # a correction the bidder must confirm in writing (书面确认)
    CLARIFICATION = "clarification"  # the bidder must explain (澄清、说明)
    INVALID = "invalid"  # grounds to reject the bid (否决投标)


class Prevails(StrEnum):
    UNIT_PRICE = "unit_price"  # 以单价金额为准修正总价
    TOTAL = "total"  # the read-out total stands


class FindingKind(StrEnum):
    LINE_ARITHMETIC = "line_arithmetic"  # quantity × unit price ≠ line total
    TOTAL_ARITHMETIC = "total_arithmetic"  # sum of the items ≠ read-out total
    ABOVE_CEILING = "above_ceiling"
    CORRECTED_ABOVE_CEILING = "corrected_above_ceiling"
    ABNORMALLY_LOW = "abnormally_low"
    MISSING_ITEM = "missing_item"
    DUPLICATE_ITEM = "duplicate_item"


@dataclass(frozen=True)
class PricedItem:
    code: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal  # the line total as written
    name: str = ""


@dataclass(frozen=True)
class BidPrices:
    bidder: str
    price: Decimal  # the read-out total (投标总价)
    items: Sequence[PricedItem] = ()


@dataclass(frozen=True)
class ClearingRules:
    """The tender's clearing rules. Percentages are percent (15 means 15%)."""

    ceiling: Decimal | None = None
    tolerance: Decimal = Decimal("0.01")
    prevails: Prevails = Prevails.UNIT_PRICE
    low_below_others_mean_percent: Decimal | None = Decimal(15)
    low_below_base_percent: Decimal | None = None
    base_price: Decimal | None = None
    required_items: Sequence[str] = ()
    missing_item_severity: Severity = Severity.INVALID


@dataclass(frozen=True)
class Finding:
    bidder: str
    kind: FindingKind
    severity: Severity
    rule: str  # platform rule key
    source: str  # where the rule comes from
    numbers: Mapping[str, Decimal | str]
    item: str | None = None


@dataclass(frozen=True)
class BidClearing:
    bidder: str
    price: Decimal  # as read out
    items_total: Decimal | None  # sum of the written line totals (None without items)
    corrected_price: Decimal  # after arithmetic correction under the prevailing rule
    findings: tuple[Finding, ...]

    @property
    def invalid(self) -> bool:
        return any(f.severity is Severity.INVALID for f in self.findings)

    @property
    def to_ask(self) -> tuple[Finding, ...]:
        """Findings that go to the bidder as a clarification request."""
        ask = (Severity.CONFIRMATION, Severity.CLARIFICATION)
        return tuple(f for f in self.findings if f.severity in ask)


@dataclass(frozen=True)
class ClearingResult:
    bids: Mapping[str, BidClearing]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for b in self.bids.values() for f in b.findings)

    @property
    def invalid(self) -> tuple[str, ...]:
        return tuple(b for b, c in self.bids.items() if c.invalid)

    @property
    def to_ask(self) -> tuple[str, ...]:
        return tuple(b for b, c in self.bids.items() if c.to_ask)


def _percent(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    number = decimal_value(value, field=field, places=None)
    if not 0 <= number < 100:
        raise InvalidInput(
            _("%(field)s must be a percentage of at least 0 and below 100: %(value)s.")
            % {"field": field, "value": number},
            field=field,
            rule="percent_range",
        )
    return number


def _check_rules(rules: ClearingRules) -> tuple[Decimal | None, Decimal, Decimal | None]:
    ceiling = yuan(rules.ceiling, field="ceiling_price") if rules.ceiling is not None else None
    tolerance = yuan(rules.tolerance, field="tolerance")
    _percent(rules.low_below_others_mean_percent, "low_below_others_mean_percent")
    base_pct = _percent(rules.low_below_base_percent, "low_below_base_percent")
    if base_pct is not None and rules.base_price is None:
        raise InvalidInput(
            _("The abnormally-low check against the base price needs the base price."),
            field="base_price",
            rule="clearing_rules",
        )
    base = yuan(rules.base_price, field="base_price") if rules.base_price is not None else None
    return ceiling, tolerance, base


def _arithmetic(
    bid: BidPrices, price: Decimal, tolerance: Decimal, prevails: Prevails
) -> tuple[Decimal | None, Decimal, list[Finding]]:
    findings: list[Finding] = []
    if not bid.items:
        return None, price, findings
    line_severity = (
        Severity.CONFIRMATION if prevails is Prevails.UNIT_PRICE else Severity.CLARIFICATION
    )
    written_sum = _ZERO
    computed_sum = _ZERO
    for item in bid.items:
        quantity = decimal_value(item.quantity, field="quantity", places=None)
        unit_price = decimal_value(item.unit_price, field="unit_price", places=None)
        written = yuan(item.total, field="total", allow_negative=True)
        computed = round2(mul_exact(quantity, unit_price))
        written_sum += written
        computed_sum += computed
        if abs(written - computed) > tolerance:
            findings.append(
                Finding(
                    bidder=bid.bidder,
                    kind=FindingKind.LINE_ARITHMETIC,
                    severity=line_severity,
                    rule="clearing_line_arithmetic",
                    source=SOURCE_ARITHMETIC,
                    item=item.code,
                    numbers={
                        "quantity": quantity,
                        "unit_price": unit_price,
                        "written_total": written,
                        "computed_total": computed,
                        "difference": written - computed,
                        "prevails": prevails.value,
                        "corrected_total": computed if prevails is Prevails.UNIT_PRICE else written,
                    },
                )
            )
    corrected = computed_sum if prevails is Prevails.UNIT_PRICE else price
    if abs(price - computed_sum) > tolerance or abs(price - written_sum) > tolerance:
        findings.append(
            Finding(
                bidder=bid.bidder,
                kind=FindingKind.TOTAL_ARITHMETIC,
                severity=line_severity,
                rule="clearing_total_arithmetic",
                source=SOURCE_ARITHMETIC,
                numbers={
                    "read_out_price": price,
                    "written_items_total": written_sum,
                    "computed_items_total": computed_sum,
                    "difference": price - computed_sum,
                    "prevails": prevails.value,
                    "corrected_price": corrected,
                },
            )
        )
    return written_sum, corrected, findings


def _items(bid: BidPrices, rules: ClearingRules) -> list[Finding]:
    findings: list[Finding] = []
    counts = Counter(item.code for item in bid.items)
    for code, n in sorted(counts.items()):
        if n > 1:
            findings.append(
                Finding(
                    bidder=bid.bidder,
                    kind=FindingKind.DUPLICATE_ITEM,
                    severity=Severity.CLARIFICATION,
                    rule="clearing_duplicate_item",
                    source=SOURCE_ARITHMETIC,
                    item=code,
                    numbers={"occurrences": Decimal(n)},
                )
            )
    for code in rules.required_items:
        if code not in counts:
            findings.append(
                Finding(
                    bidder=bid.bidder,
                    kind=FindingKind.MISSING_ITEM,
                    severity=rules.missing_item_severity,
                    rule="clearing_missing_item",
                    source=SOURCE_SUBSTANTIVE,
                    item=code,
                    numbers={},
                )
            )
    return findings


def clear(bids: Sequence[BidPrices], rules: ClearingRules | None = None) -> ClearingResult:
    """清标: the findings on every bid (see the module docstring for each check).

    The abnormally-low checks compare corrected prices among the bids that are not above the
    ceiling (exactly: price < mean of the others × (1 − p/100); price < base × (1 − p/100)).
    Refuses malformed numbers (floats, negative quantities, fractions of a fen in totals) and a bidder
    listed twice.
    """
    rules = rules or ClearingRules()
    ceiling, tolerance, base = _check_rules(rules)
    bidders = [b.bidder for b in bids]
    repeated = sorted({b for b in bidders if bidders.count(b) > 1})
    if repeated:
        raise InvalidInput(
            _("%(bidder)s appears twice among the bids.") % {"bidder": ", ".join(repeated)},
            field="bids",
            rule="duplicate_bidder",
        )
    partial: dict[str, tuple[Decimal, Decimal | None, Decimal, list[Finding]]] = {}
    for bid in bids:
        price = yuan(bid.price, field="price")
        written_sum, corrected, findings = _arithmetic(bid, price, tolerance, rules.prevails)
        findings.extend(_items(bid, rules))
        if ceiling is not None and price > ceiling:
            findings.append(
                Finding(
                    bidder=bid.bidder,
                    kind=FindingKind.ABOVE_CEILING,
                    severity=Severity.INVALID,
                    rule="clearing_ceiling",
                    source=SOURCE_CEILING,
                    numbers={"price": price, "ceiling": ceiling, "excess": price - ceiling},
                )
            )
        elif ceiling is not None and corrected > ceiling:
            findings.append(
                Finding(
                    bidder=bid.bidder,
                    kind=FindingKind.CORRECTED_ABOVE_CEILING,
                    severity=Severity.INVALID,
                    rule="clearing_ceiling",
                    source=SOURCE_CEILING,
                    numbers={
                        "price": price,
                        "corrected_price": corrected,
                        "ceiling": ceiling,
                        "excess": corrected - ceiling,
                    },
                )
            )
        partial[bid.bidder] = (price, written_sum, corrected, findings)

    within = {
        b: corrected
        for b, (_p, _w, corrected, _f) in partial.items()
        if ceiling is None or corrected <= ceiling
    }
    others_pct = _percent(rules.low_below_others_mean_percent, "low_below_others_mean_percent")
    base_pct = _percent(rules.low_below_base_percent, "low_below_base_percent")
    for bidder, corrected in within.items():
        findings = partial[bidder][3]
        others = [p for b, p in within.items() if b != bidder]
        if others_pct is not None and others:
            mean = div_exact(sum(others, _ZERO), len(others))
            threshold = mul_exact(mean, 1 - others_pct / _HUNDRED)
            if corrected < threshold:
                findings.append(_low(bidder, corrected, "others_mean", mean, others_pct, threshold))
        if base_pct is not None and base is not None:
            threshold = mul_exact(base, 1 - base_pct / _HUNDRED)
            if corrected < threshold:
                findings.append(_low(bidder, corrected, "base_price", base, base_pct, threshold))

    return ClearingResult(
        bids={
            bidder: BidClearing(bidder, price, written_sum, corrected, tuple(findings))
            for bidder, (price, written_sum, corrected, findings) in partial.items()
        }
    )


def _low(
    bidder: str,
    price: Decimal,
    reference_name: str,
    reference: Decimal,
    percent: Decimal,
    threshold: Decimal,
) -> Finding:
    return Finding(
        bidder=bidder,
        kind=FindingKind.ABNORMALLY_LOW,
        severity=Severity.CLARIFICATION,
        rule=f"clearing_low_price_{reference_name}",
        source=SOURCE_LOW_PRICE,
        numbers={
            "price": price,
            "reference": reference_name,
            "reference_value": round2(reference),
            "threshold_percent": percent,
            "threshold": round2(threshold),
            "below_reference_percent": round2(div_exact((reference - price) * _HUNDRED, reference)),
        },
    )
