"""Scoring (评标打分): the two evaluation methods, the price-score formulas, aggregation and ranking.

Pure functions over plain values: no database, no clock. The caller (the evaluation session's
services) reads the bids, the experts' signed scores and the credit scores, calls these functions and
records the result; the result carries its working so the report can print every step and a reviewer
can recompute it by hand. docs/evaluation-methods.md states every formula with its Chinese name.

* 经评审的最低投标价法 lowest evaluated price: ``lowest_evaluated_price``.
* 综合评估法 comprehensive scoring: ``comprehensive_scores`` (technical, commercial, price, credit).
* Price scores: ``price_scores`` with ``BasePriceMethod`` (评标基准价法: mean of the valid bids,
  extremes optionally excluded, times a coefficient K drawn from ``coefficient_choices``) or
  ``LowestPriceMethod`` (低价优先法).
* Ties: ``Ranking`` applies the announced tie-breaks in order; a group still tied afterwards is
  returned in ``Ranking.ties`` for the caller to settle with the platform's verifiable draw and
  ``Ranking.resolve``.

Numbers are ``Decimal`` throughout (floats are refused). Intermediate values are exact (60
significant digits); rounding happens only at the documented steps, ROUND_HALF_UP (四舍五入) to two
places unless stated.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput
from openbid.core.money import yuan

TWO_PLACES = Decimal("0.01")
_PREC = 60
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


# --- Numbers ----------------------------------------------------------------------------------------


def div_exact(a: Decimal, b: Decimal | int) -> Decimal:
    """``a / b`` to 60 significant digits (exact for every quotient that terminates)."""
    with localcontext() as ctx:
        ctx.prec = _PREC
        return a / Decimal(b)


def mul_exact(a: Decimal, b: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PREC
        return a * b


def round2(value: Decimal) -> Decimal:
    """``value`` rounded to two places, ROUND_HALF_UP (四舍五入); never ``-0.00``."""
    with localcontext() as ctx:
        ctx.prec = _PREC
        result = value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    return Decimal("0.00") if result.is_zero() else result


def _show(value: Decimal, places: int = 6) -> str:
    """An exact value for the working: as is when it has at most ``places`` places, else rounded
    and marked with ``…`` (the computation itself keeps the exact value)."""
    with localcontext() as ctx:
        ctx.prec = _PREC
        normal = value.normalize()
        exponent = normal.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -places:
            return f"{value:f}"
        return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}…"


def decimal_value(
    value: Decimal | int | str, *, field: str, places: int | None = 2, allow_negative: bool = False
) -> Decimal:
    """A number given as ``Decimal``, ``int`` or decimal string; floats are refused.

    ``places``: the most decimal places accepted (``None``: any).
    """
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidInput(
            _("%(field)s must be given as a decimal number, not %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
            rule="decimal_format",
        )
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except ArithmeticError:
        number = Decimal("NaN")
    if not number.is_finite():
        raise InvalidInput(
            _("%(field)s must be given as a decimal number, not %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
            rule="decimal_format",
        )
    if places is not None:
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise InvalidInput(
                _("%(field)s has more than %(places)s decimal places: %(value)s.")
                % {"field": field, "places": places, "value": number},
                field=field,
                rule="decimal_places",
            )
    if number < 0 and not allow_negative:
        raise InvalidInput(
            _("%(field)s cannot be negative: %(value)s.") % {"field": field, "value": number},
            field=field,
            rule="decimal_range",
        )
    return number


def _price(value: Decimal | int | str, bidder: str) -> Decimal:
    price = yuan(value, field="price")
    if price <= 0:
        raise InvalidInput(
            _("The bid price of %(bidder)s must be more than zero.") % {"bidder": bidder},
            field="price",
            rule="decimal_range",
        )
    return price


def _prices(prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {bidder: _price(price, bidder) for bidder, price in prices.items()}


def _no_valid_bids() -> InvalidInput:
    return InvalidInput(
        _(
            "There is no valid bid to score: every bid is above the ceiling price or none was given."
        ),
        field="prices",
        rule="no_valid_bids",
    )


def _split_ceiling(
    prices: Mapping[str, Decimal], ceiling: Decimal | None
) -> tuple[dict[str, Decimal], tuple[str, ...]]:
    """The bids at or below the ceiling price (最高投标限价) and the bidders above it (invalid:
    Reg art. 51(5))."""
    if ceiling is None:
        return dict(prices), ()
    limit = yuan(ceiling, field="ceiling_price")
    valid = {b: p for b, p in prices.items() if p <= limit}
    return valid, tuple(sorted(b for b, p in prices.items() if p > limit))


# --- Ranking and ties -------------------------------------------------------------------------------


class TieBreak(StrEnum):
    """Tie-breaks a tender may announce, applied in the announced order."""

    LOWER_PRICE = "lower_price"  # 投标报价低者优先
    LOWER_EVALUATED_PRICE = "lower_evaluated_price"  # 评标价低者优先
    EARLIER_SUBMISSION = "earlier_submission"  # 递交时间早者优先
    HIGHER_TECHNICAL = "higher_technical"  # 技术得分高者优先
    HIGHER_COMMERCIAL = "higher_commercial"  # 商务得分高者优先
    HIGHER_CREDIT = "higher_credit"  # 信用得分高者优先


_HIGHER_IS_BETTER = {TieBreak.HIGHER_TECHNICAL, TieBreak.HIGHER_COMMERCIAL, TieBreak.HIGHER_CREDIT}
LOTTERY = "lottery"
PENDING_LOTTERY = "lottery_pending"


@dataclass(frozen=True)
class Ranked:
    """One place in a ranking. Bidders of one unresolved tie share ``rank``.

    ``decided_by``: what placed this bidder after the one before it: ``"score"`` (the primary
    figure), a ``TieBreak`` value, ``"lottery"`` (a draw settled it) or ``"lottery_pending"``.
    """

    rank: int
    bidder: str
    figure: Decimal
    decided_by: str


@dataclass(frozen=True)
class Ranking:
    """Bidders best first. ``ties``: groups equal on the figure and on every announced tie-break;
    the caller runs the platform's verifiable draw for each and applies it with ``resolve``."""

    entries: tuple[Ranked, ...]
    ties: tuple[tuple[str, ...], ...] = ()

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(e.bidder for e in self.entries)

    def resolve(self, drawn_order: Sequence[str]) -> Ranking:
        """The ranking with one tied group put in ``drawn_order`` (the draw's result, best first).

        Refuses an order that is not exactly one of the tied groups.
        """
        group = next((g for g in self.ties if set(g) == set(drawn_order)), None)
        if group is None or len(drawn_order) != len(group):
            raise InvalidInput(
                _(
                    "The drawn order %(order)s is not one of the tied groups %(groups)s: a draw "
                    "orders exactly the bidders of one tie."
                )
                % {
                    "order": ", ".join(drawn_order),
                    "groups": "; ".join(", ".join(g) for g in self.ties) or "—",
                },
                field="drawn_order",
                rule="lottery_order",
            )
        members = set(group)
        positions = [i for i, e in enumerate(self.entries) if e.bidder in members]
        first = positions[0]
        by_bidder = {e.bidder: e for e in self.entries}
        entries = list(self.entries)
        for offset, bidder in enumerate(drawn_order):
            entries[first + offset] = replace(
                by_bidder[bidder], rank=first + 1 + offset, decided_by=LOTTERY
            )
        # The first of the group keeps what put it after the previous group.
        entries[first] = replace(entries[first], decided_by=self.entries[first].decided_by)
        return Ranking(entries=tuple(entries), ties=tuple(g for g in self.ties if g != group))


@dataclass(frozen=True)
class _Candidate:
    bidder: str
    figure: Decimal
    keys: Mapping[TieBreak, Decimal | dt.datetime | None]


def _rank(
    candidates: Sequence[_Candidate], *, higher_is_better: bool, tie_breaks: Sequence[TieBreak]
) -> Ranking:
    """Order by ``figure``, then each tie-break in turn; what stays tied goes to a draw."""
    for tb in tie_breaks:
        missing = sorted(c.bidder for c in candidates if c.keys.get(tb) is None)
        if missing:
            raise InvalidInput(
                _(
                    "The tie-break %(tie_break)s needs a value for every bid; missing for %(bidders)s."
                )
                % {"tie_break": tb.value, "bidders": ", ".join(missing)},
                field="tie_breaks",
                rule="tie_break_data",
            )

    def split(
        group: list[_Candidate],
        key: str,
        sort_key: Callable[[Mapping[TieBreak, Any]], Any] | None,
        descending: bool,
    ) -> list[tuple[str, list[_Candidate]]]:
        buckets: dict[Any, list[_Candidate]] = defaultdict(list)
        for c in group:
            buckets[c.figure if sort_key is None else sort_key(c.keys)].append(c)
        ordered = sorted(buckets, reverse=descending)
        return [(key, sorted(buckets[k], key=lambda c: c.bidder)) for k in ordered]

    # Each output group: (decided_by for its first member, members).
    groups = split(list(candidates), "score", None, higher_is_better)
    for tb in tie_breaks:
        refined: list[tuple[str, list[_Candidate]]] = []
        for decided_by, members in groups:
            if len(members) == 1:
                refined.append((decided_by, members))
                continue
            parts = split(members, tb.value, operator.itemgetter(tb), tb in _HIGHER_IS_BETTER)
            if len(parts) == 1:
                refined.append((decided_by, members))
                continue
            refined.append((decided_by, parts[0][1]))
            refined.extend(parts[1:])
        groups = refined

    entries: list[Ranked] = []
    ties: list[tuple[str, ...]] = []
    for decided_by, members in groups:
        rank = len(entries) + 1
        if len(members) > 1:
            ties.append(tuple(c.bidder for c in members))
            for i, c in enumerate(members):
                entries.append(
                    Ranked(rank, c.bidder, c.figure, decided_by if i == 0 else PENDING_LOTTERY)
                )
        else:
            entries.append(Ranked(rank, members[0].bidder, members[0].figure, decided_by))
    return Ranking(entries=tuple(entries), ties=tuple(ties))


# --- Price scores -----------------------------------------------------------------------------------


def coefficient_choices(low: Decimal, high: Decimal, step: Decimal) -> list[Decimal]:
    """The coefficients K a tender announces (下浮系数): ``low, low + step, …, high``.

    ``coefficient_choices(Decimal("0.95"), Decimal("0.99"), Decimal("0.005"))`` gives nine values,
    0.950 … 0.990. The draw picks an index into this list with the platform's verifiable draw.
    Refuses a range that is empty, not positive, or not a whole number of steps.
    """
    lo = decimal_value(low, field="coefficient_low", places=None, allow_negative=True)
    hi = decimal_value(high, field="coefficient_high", places=None, allow_negative=True)
    st = decimal_value(step, field="coefficient_step", places=None, allow_negative=True)
    steps = div_exact(hi - lo, st) if st > 0 else None
    if lo <= 0 or hi < lo or steps is None or steps != steps.to_integral_value():
        raise InvalidInput(
            _(
                "The coefficient range %(low)s–%(high)s in steps of %(step)s is not valid: it must "
                "be positive, low ≤ high, and a whole number of steps."
            )
            % {"low": lo, "high": hi, "step": st},
            field="coefficient_range",
            rule="coefficient_range",
        )
    exponent = min(
        e
        for e in (lo.as_tuple().exponent, hi.as_tuple().exponent, st.as_tuple().exponent)
        if isinstance(e, int)
    )
    quantum = Decimal(1).scaleb(min(exponent, 0))
    return [(lo + st * i).quantize(quantum) for i in range(int(steps) + 1)]


def drawn_coefficient(low: Decimal, high: Decimal, step: Decimal, index: int) -> Decimal:
    """The coefficient at ``index`` (0-based) of ``coefficient_choices(low, high, step)``; the index
    comes from the platform's verifiable draw."""
    choices = coefficient_choices(low, high, step)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(choices):
        raise InvalidInput(
            _("The coefficient index %(index)s is outside 0–%(last)s.")
            % {"index": index, "last": len(choices) - 1},
            field="coefficient_index",
            rule="coefficient_index",
        )
    return choices[index]


class PartialPercent(StrEnum):
    """How a deviation that is not a whole number of percent is charged."""

    LINEAR = "linear"  # 插值法: pro rata (5.56% above at 1 point per 1% → 5.56 points)
    IGNORE = "ignore"  # 不足1%的部分不扣分: whole percent only (5.56% → 5)
    WHOLE = "whole"  # 不足1%的按1%计: any started percent counts (5.56% → 6)


@dataclass(frozen=True)
class BasePriceMethod:
    """评标基准价法: base = mean of the valid bids (without the highest and the lowest when there are
    at least ``trim_extremes_from`` valid bids) × K, rounded to the fen; each bid loses
    ``above_points_per_percent`` per 1% above the base and ``below_points_per_percent`` per 1% below
    it, with the deviation percentage rounded to ``deviation_places`` places and fractions of a
    percent charged per ``partial_percent``; never below 0."""

    coefficient: Decimal
    trim_extremes_from: int | None = 5
    above_points_per_percent: Decimal = Decimal(1)
    below_points_per_percent: Decimal = Decimal("0.5")
    partial_percent: PartialPercent = PartialPercent.LINEAR
    deviation_places: int = 2

    def __post_init__(self) -> None:
        decimal_value(self.coefficient, field="coefficient", places=None)
        if self.coefficient <= 0:
            raise InvalidInput(
                _("The coefficient K must be more than zero."),
                field="coefficient",
                rule="coefficient_range",
            )
        if self.trim_extremes_from is not None and self.trim_extremes_from < 3:
            raise InvalidInput(
                _(
                    "Excluding the highest and lowest bids needs at least 3 bids, so the minimum "
                    "must be 3 or more (given %(value)s)."
                )
                % {"value": self.trim_extremes_from},
                field="trim_extremes_from",
                rule="trim_minimum",
            )
        decimal_value(self.above_points_per_percent, field="above_points_per_percent", places=None)
        decimal_value(self.below_points_per_percent, field="below_points_per_percent", places=None)
        if not 0 <= self.deviation_places <= 6:
            raise InvalidInput(
                _("Deviation places must be between 0 and 6."),
                field="deviation_places",
                rule="decimal_places",
            )


@dataclass(frozen=True)
class LowestPriceMethod:
    """低价优先法: score = full × lowest valid price ÷ price, rounded to two places."""


PriceMethod = BasePriceMethod | LowestPriceMethod


@dataclass(frozen=True)
class BasePrice:
    """How the base price (评标基准价) was computed, step by step."""

    valid: tuple[tuple[str, Decimal], ...]  # bidders at or below the ceiling, by price
    above_ceiling: tuple[str, ...]
    dropped: tuple[tuple[str, Decimal], ...]  # highest and lowest, when excluded
    used: tuple[tuple[str, Decimal], ...]
    total: Decimal
    mean: Decimal  # exact (60 digits)
    coefficient: Decimal
    value: Decimal  # round2(total × K ÷ count)

    @property
    def working(self) -> tuple[str, ...]:
        lines = [f"valid bids: {', '.join(f'{b} {p}' for b, p in self.valid)}"]
        if self.above_ceiling:
            lines.append(f"above the ceiling (excluded): {', '.join(self.above_ceiling)}")
        if self.dropped:
            lines.append(
                "excluded as highest and lowest: " + ", ".join(f"{b} {p}" for b, p in self.dropped)
            )
        lines.append(
            f"mean = ({' + '.join(str(p) for _b, p in self.used)}) / {len(self.used)}"
            f" = {self.total} / {len(self.used)} = {_show(self.mean)}"
        )
        lines.append(
            f"base = mean × K = {_show(self.mean)} × {self.coefficient}"
            f" = {_show(mul_exact(self.mean, self.coefficient))} → {self.value}"
        )
        return tuple(lines)


def base_price(
    prices: Mapping[str, Decimal],
    coefficient: Decimal,
    *,
    trim_extremes_from: int | None = 5,
    ceiling: Decimal | None = None,
) -> BasePrice:
    """The base price (评标基准价) of the bids ``prices`` (bidder → yuan).

    Bids above ``ceiling`` are invalid and excluded. With at least ``trim_extremes_from`` valid bids
    one highest and one lowest are excluded (among equal prices, the bidder sorting last / first).
    base = round2(sum × K ÷ count), computed exactly and rounded once.
    """
    method = BasePriceMethod(coefficient=coefficient, trim_extremes_from=trim_extremes_from)
    valid, above = _split_ceiling(_prices(prices), ceiling)
    if not valid:
        raise _no_valid_bids()
    ordered = sorted(valid.items(), key=lambda bp: (bp[1], bp[0]))
    dropped: list[tuple[str, Decimal]] = []
    used = ordered
    if method.trim_extremes_from is not None and len(ordered) >= method.trim_extremes_from:
        dropped = [ordered[-1], ordered[0]]
        used = ordered[1:-1]
    total = sum((p for _b, p in used), _ZERO)
    k = method.coefficient
    return BasePrice(
        valid=tuple(ordered),
        above_ceiling=above,
        dropped=tuple(dropped),
        used=tuple(used),
        total=total,
        mean=div_exact(total, len(used)),
        coefficient=k,
        value=round2(div_exact(mul_exact(total, k), len(used))),
    )


@dataclass(frozen=True)
class PriceScore:
    """One bid's price score and how it was reached."""

    bidder: str
    price: Decimal
    points: Decimal
    full: Decimal
    deviation_percent: Decimal | None = None  # base-price method: rounded as announced
    charged_percent: Decimal | None = None  # after the partial-percent rule
    deduction: Decimal | None = None
    working: tuple[str, ...] = ()


@dataclass(frozen=True)
class PriceScoring:
    """Price scores of every valid bid; ``above_ceiling`` bids are invalid and get none."""

    full: Decimal
    scores: Mapping[str, PriceScore]
    above_ceiling: tuple[str, ...]
    base: BasePrice | None = None
    lowest: Decimal | None = None

    @property
    def working(self) -> tuple[str, ...]:
        head = self.base.working if self.base else (f"lowest valid price = {self.lowest}",)
        return head + tuple(line for s in self.scores.values() for line in s.working)


def deviation_score(
    price: Decimal, base: Decimal, full: Decimal, method: BasePriceMethod, *, bidder: str = "bid"
) -> PriceScore:
    """The base-price formula for one bid.

    d = round((price − base) ÷ base × 100, deviation_places) (percent, signed);
    charged = |d| as is (LINEAR), rounded down (IGNORE) or up (WHOLE) to a whole percent;
    deduction = charged × (above or below points per percent); points = round2(max(0, full −
    deduction)). Full marks at the base.
    """
    price = _price(price, bidder)
    base = yuan(base, field="base_price")
    full = decimal_value(full, field="full_points")
    with localcontext() as ctx:
        ctx.prec = _PREC
        exact = (price - base) / base * _HUNDRED
        d = exact.quantize(Decimal(1).scaleb(-method.deviation_places), rounding=ROUND_HALF_UP)
        if d.is_zero():
            d = abs(d)
        magnitude = abs(d)
        if method.partial_percent is PartialPercent.IGNORE:
            charged = magnitude.to_integral_value(rounding=ROUND_FLOOR)
        elif method.partial_percent is PartialPercent.WHOLE:
            charged = magnitude.to_integral_value(rounding=ROUND_CEILING)
        else:
            charged = magnitude
        rate = method.above_points_per_percent if d > 0 else method.below_points_per_percent
        deduction = charged * rate
        points = round2(max(_ZERO, full - deduction))
    side = "above" if d > 0 else "below" if d < 0 else "at"
    working = (
        f"{bidder}: d = ({price} − {base}) / {base} × 100 = {_show(exact)}% → {d}%",
        f"{bidder}: {side} the base; deduction = {charged} × {rate} = {deduction};"
        f" score = max(0, {full} − {deduction}) → {points}",
    )
    return PriceScore(
        bidder=bidder,
        price=price,
        points=points,
        full=full,
        deviation_percent=d,
        charged_percent=charged,
        deduction=deduction,
        working=working,
    )


def price_scores(
    prices: Mapping[str, Decimal],
    full: Decimal,
    method: PriceMethod,
    *,
    ceiling: Decimal | None = None,
) -> PriceScoring:
    """Price scores (价格分) of ``prices`` (bidder → yuan) out of ``full`` points."""
    full = decimal_value(full, field="full_points")
    all_prices = _prices(prices)
    valid, above = _split_ceiling(all_prices, ceiling)
    if not valid:
        raise _no_valid_bids()
    if isinstance(method, BasePriceMethod):
        base = base_price(valid, method.coefficient, trim_extremes_from=method.trim_extremes_from)
        base = replace(base, above_ceiling=above)
        scores = {
            b: deviation_score(p, base.value, full, method, bidder=b)
            for b, p in sorted(valid.items())
        }
        return PriceScoring(full=full, scores=scores, above_ceiling=above, base=base)
    lowest = min(valid.values())
    out: dict[str, PriceScore] = {}
    for b, p in sorted(valid.items()):
        exact = div_exact(mul_exact(full, lowest), p)
        points = round2(exact)
        out[b] = PriceScore(
            bidder=b,
            price=p,
            points=points,
            full=full,
            working=(f"{b}: score = {full} × {lowest} / {p} = {_show(exact)} → {points}",),
        )
    return PriceScoring(full=full, scores=out, above_ceiling=above, lowest=lowest)


# --- Lowest evaluated price method (经评审的最低投标价法) ------------------------------------------


@dataclass(frozen=True)
class Adjustment:
    """A quantified adjustment (价格折算) the committee applies to a bid price under a criterion the
    tender announced: positive adds to the evaluated price, negative subtracts. ``reason`` is
    required; ``clause`` names the tender's clause."""

    amount: Decimal
    reason: str
    clause: str = ""


@dataclass(frozen=True)
class PricedBid:
    bidder: str
    price: Decimal
    adjustments: Sequence[Adjustment] = ()
    submitted_at: dt.datetime | None = None


@dataclass(frozen=True)
class EvaluatedPrice:
    bidder: str
    price: Decimal
    adjustments: tuple[Adjustment, ...]
    evaluated_price: Decimal
    working: tuple[str, ...]


@dataclass(frozen=True)
class LowestEvaluatedPriceResult:
    """Evaluated prices of the valid bids, ranked lowest first."""

    prices: Mapping[str, EvaluatedPrice]
    above_ceiling: tuple[str, ...]
    ranking: Ranking


def lowest_evaluated_price(
    bids: Sequence[PricedBid],
    *,
    ceiling: Decimal | None = None,
    tie_breaks: Sequence[TieBreak] = (TieBreak.LOWER_PRICE,),
) -> LowestEvaluatedPriceResult:
    """经评审的最低投标价法: evaluated price = bid price + Σ adjustments; lowest first.

    Bids whose price is above ``ceiling`` are invalid (Reg art. 51(5)) and not ranked. Ties on the
    evaluated price are broken by ``tie_breaks`` in order (e.g. lower bid price, then earlier
    submission); what stays tied is returned in ``ranking.ties`` for a draw. Refuses an adjustment
    without a reason and a non-positive evaluated price.
    """
    seen: set[str] = set()
    results: dict[str, EvaluatedPrice] = {}
    prices: dict[str, Decimal] = {}
    for bid in bids:
        if bid.bidder in seen:
            raise InvalidInput(
                _("%(bidder)s appears twice among the bids.") % {"bidder": bid.bidder},
                field="bids",
                rule="duplicate_bidder",
            )
        seen.add(bid.bidder)
        prices[bid.bidder] = _price(bid.price, bid.bidder)
    valid, above = _split_ceiling(prices, ceiling)
    candidates: list[_Candidate] = []
    for bid in bids:
        if bid.bidder not in valid:
            continue
        price = valid[bid.bidder]
        adjustments = tuple(bid.adjustments)
        terms = []
        for adj in adjustments:
            amount = yuan(adj.amount, field="adjustment", allow_negative=True)
            if not adj.reason.strip():
                raise InvalidInput(
                    _("The adjustment of %(amount)s to the price of %(bidder)s has no reason.")
                    % {"amount": amount, "bidder": bid.bidder},
                    field="adjustment",
                    rule="adjustment_reason",
                )
            sign = "−" if amount < 0 else "+"
            clause = f", {adj.clause}" if adj.clause else ""
            terms.append(f" {sign} {abs(amount)} ({adj.reason}{clause})")
        evaluated = price + sum((a.amount for a in adjustments), _ZERO)
        if evaluated <= 0:
            raise InvalidInput(
                _("The evaluated price of %(bidder)s would be %(value)s: it must stay positive.")
                % {"bidder": bid.bidder, "value": evaluated},
                field="adjustment",
                rule="evaluated_price_positive",
            )
        results[bid.bidder] = EvaluatedPrice(
            bidder=bid.bidder,
            price=price,
            adjustments=adjustments,
            evaluated_price=evaluated,
            working=(f"{bid.bidder}: evaluated price = {price}{''.join(terms)} = {evaluated}",),
        )
        candidates.append(
            _Candidate(
                bid.bidder,
                evaluated,
                {
                    TieBreak.LOWER_PRICE: price,
                    TieBreak.LOWER_EVALUATED_PRICE: evaluated,
                    TieBreak.EARLIER_SUBMISSION: bid.submitted_at,
                },
            )
        )
    if not candidates:
        raise _no_valid_bids()
    _check_tie_breaks(
        tie_breaks,
        {TieBreak.LOWER_PRICE, TieBreak.LOWER_EVALUATED_PRICE, TieBreak.EARLIER_SUBMISSION},
    )
    ranking = _rank(candidates, higher_is_better=False, tie_breaks=tie_breaks)
    return LowestEvaluatedPriceResult(
        prices=dict(sorted(results.items())), above_ceiling=above, ranking=ranking
    )


def _check_tie_breaks(tie_breaks: Sequence[TieBreak], allowed: set[TieBreak]) -> None:
    for tb in tie_breaks:
        if tb not in allowed:
            raise InvalidInput(
                _("The tie-break %(tie_break)s does not apply to this evaluation method.")
                % {"tie_break": getattr(tb, "value", tb)},
                field="tie_breaks",
                rule="tie_break_data",
            )


# --- Comprehensive scoring (综合评估法) -------------------------------------------------------------


class Category(StrEnum):
    TECHNICAL = "technical"  # 技术
    COMMERCIAL = "commercial"  # 商务
    PRICE = "price"  # 价格 (formula, not experts)
    CREDIT = "credit"  # 信用 (from the credit context)


EXPERT_SCORED = (Category.TECHNICAL, Category.COMMERCIAL)


@dataclass(frozen=True)
class Criterion:
    """A scoring factor (评分因素) worth ``min_points``–``max_points`` (分值). The points are the
    weights: the criteria's maxima add up to the method's ``total_points``."""

    code: str
    category: Category
    max_points: Decimal
    min_points: Decimal = Decimal(0)
    name: str = ""

    @property
    def span(self) -> Decimal:
        return self.max_points - self.min_points


@dataclass(frozen=True)
class ExpertScore:
    """One expert's points for one bidder on one criterion, with the written reason (评分理由)."""

    expert: str
    bidder: str
    criterion: str
    points: Decimal
    reason: str = ""


@dataclass(frozen=True)
class OutlierRule:
    """A score deviating from the mean of the *other* experts' scores (same bidder, same criterion)
    by more than ``share_of_range`` × (max − min) of the criterion must carry a written reason."""

    share_of_range: Decimal = Decimal("0.20")

    def __post_init__(self) -> None:
        decimal_value(self.share_of_range, field="share_of_range", places=None)
        if not 0 < self.share_of_range <= 1:
            raise InvalidInput(
                _("The outlier threshold must be more than 0 and at most 1 of the range."),
                field="share_of_range",
                rule="outlier_threshold",
            )


class AggregationLevel(StrEnum):
    CRITERION = "criterion"  # trim and average each criterion's scores
    CATEGORY = "category"  # trim and average each expert's technical (commercial) subtotal


@dataclass(frozen=True)
class Aggregation:
    """The announced aggregation: the mean of all experts' scores, or, when at least
    ``drop_extremes_from`` experts scored, the mean without one highest and one lowest score
    (去掉一个最高分和一个最低分). ``None``: always the plain mean. Each aggregate is rounded to two
    places (ROUND_HALF_UP) once; subtotals and totals are exact sums of rounded aggregates."""

    drop_extremes_from: int | None = 7
    level: AggregationLevel = AggregationLevel.CRITERION

    def __post_init__(self) -> None:
        if self.drop_extremes_from is not None and self.drop_extremes_from < 3:
            raise InvalidInput(
                _(
                    "Excluding the highest and lowest scores needs at least 3 experts, so the "
                    "minimum must be 3 or more (given %(value)s)."
                )
                % {"value": self.drop_extremes_from},
                field="drop_extremes_from",
                rule="trim_minimum",
            )


@dataclass(frozen=True)
class ComprehensiveMethod:
    criteria: Sequence[Criterion]
    price_method: PriceMethod
    aggregation: Aggregation = field(default_factory=Aggregation)
    outliers: OutlierRule = field(default_factory=OutlierRule)
    total_points: Decimal = Decimal(100)
    tie_breaks: Sequence[TieBreak] = (TieBreak.HIGHER_TECHNICAL, TieBreak.LOWER_PRICE)


@dataclass(frozen=True)
class Aggregate:
    """An aggregated score: which experts' scores were kept and which dropped, the exact mean, and
    the rounded ``points``. ``subject``: a criterion code, or a category at the category level."""

    subject: str
    kept: tuple[tuple[str, Decimal], ...]
    dropped: tuple[tuple[str, Decimal], ...]
    mean: Decimal
    points: Decimal

    def line(self, bidder: str) -> str:
        kept = ", ".join(f"{e} {p}" for e, p in self.kept)
        dropped = (
            f"; dropped highest and lowest: {', '.join(f'{e} {p}' for e, p in self.dropped)}"
            if self.dropped
            else ""
        )
        total = sum((p for _e, p in self.kept), _ZERO)
        return (
            f"{bidder} {self.subject}: kept {kept}{dropped}; mean = {total} / {len(self.kept)}"
            f" = {_show(self.mean)} → {self.points}"
        )


@dataclass(frozen=True)
class Outlier:
    """A score far from the other experts' mean, and the reason it carries (or not)."""

    expert: str
    bidder: str
    criterion: str
    points: Decimal
    others_mean: Decimal
    deviation: Decimal
    limit: Decimal
    reason: str


@dataclass(frozen=True)
class BidderScore:
    bidder: str
    price: Decimal
    aggregates: tuple[Aggregate, ...]
    subtotals: Mapping[Category, Decimal]
    price_score: PriceScore | None
    credit: Decimal | None
    total: Decimal
    working: tuple[str, ...]


@dataclass(frozen=True)
class ComprehensiveResult:
    scores: Mapping[str, BidderScore]
    above_ceiling: tuple[str, ...]
    price: PriceScoring | None
    outliers: tuple[Outlier, ...]
    ranking: Ranking


def check_criteria(criteria: Sequence[Criterion], total_points: Decimal = Decimal(100)) -> None:
    """Refuse criteria that cannot be scored: duplicate codes, an empty or negative range, more than
    one price or credit criterion, or maxima not adding up to ``total_points``."""
    codes = [c.code for c in criteria]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates or not criteria:
        raise InvalidInput(
            _("Criteria codes must be given and unique; repeated: %(codes)s.")
            % {"codes": ", ".join(duplicates) or "—"},
            field="criteria",
            rule="criteria_invalid",
        )
    for c in criteria:
        low = decimal_value(c.min_points, field=f"criteria.{c.code}.min_points")
        high = decimal_value(c.max_points, field=f"criteria.{c.code}.max_points")
        if high <= low:
            raise InvalidInput(
                _("Criterion %(criterion)s has an empty range %(low)s–%(high)s.")
                % {"criterion": c.code, "low": low, "high": high},
                field="criteria",
                rule="criteria_invalid",
            )
    for category in (Category.PRICE, Category.CREDIT):
        if sum(1 for c in criteria if c.category is category) > 1:
            raise InvalidInput(
                _("There can be at most one %(category)s criterion.")
                % {"category": category.value},
                field="criteria",
                rule="criteria_invalid",
            )
    total = sum((c.max_points for c in criteria), _ZERO)
    if total != total_points:
        raise InvalidInput(
            _("The criteria's points add up to %(sum)s, not %(total)s.")
            % {"sum": total, "total": total_points},
            field="criteria",
            rule="criteria_points",
        )


def check_score(criterion: Criterion, score: ExpertScore) -> Decimal:
    """The score's points, refused unless a decimal with at most two places within the criterion's
    range (an expert cannot sign a score out of range)."""
    points = decimal_value(score.points, field="points", allow_negative=True)
    if not criterion.min_points <= points <= criterion.max_points:
        raise InvalidInput(
            _(
                "Expert %(expert)s gave %(bidder)s %(points)s points on criterion %(criterion)s, "
                "outside its range %(low)s–%(high)s."
            )
            % {
                "expert": score.expert,
                "bidder": score.bidder,
                "points": points,
                "criterion": criterion.code,
                "low": criterion.min_points,
                "high": criterion.max_points,
            },
            field="points",
            rule="score_range",
        )
    return points


def _score_table(
    criteria: Mapping[str, Criterion], bidders: Iterable[str], scores: Iterable[ExpertScore]
) -> tuple[tuple[str, ...], dict[tuple[str, str], dict[str, ExpertScore]]]:
    """Check every score and that every expert scored every bidder on every expert criterion.

    Returns the experts and ``(bidder, criterion) → {expert: score}`` (points parsed).
    """
    valid = set(bidders)
    table: dict[tuple[str, str], dict[str, ExpertScore]] = defaultdict(dict)
    experts: set[str] = set()
    for score in scores:
        criterion = criteria.get(score.criterion)
        if criterion is None or criterion.category not in EXPERT_SCORED:
            raise InvalidInput(
                _("Expert %(expert)s scored an unknown or formula-scored criterion %(criterion)s.")
                % {"expert": score.expert, "criterion": score.criterion},
                field="criterion",
                rule="score_unknown",
            )
        if score.bidder not in valid:
            raise InvalidInput(
                _("Expert %(expert)s scored %(bidder)s, which is not a valid bid.")
                % {"expert": score.expert, "bidder": score.bidder},
                field="bidder",
                rule="score_unknown",
            )
        cell = table[(score.bidder, score.criterion)]
        if score.expert in cell:
            raise InvalidInput(
                _("Expert %(expert)s scored %(bidder)s on criterion %(criterion)s twice.")
                % {"expert": score.expert, "bidder": score.bidder, "criterion": score.criterion},
                field="points",
                rule="score_duplicate",
            )
        cell[score.expert] = replace(score, points=check_score(criterion, score))
        experts.add(score.expert)
    for bidder in sorted(valid):
        for code, criterion in criteria.items():
            if criterion.category not in EXPERT_SCORED:
                continue
            for expert in sorted(experts):
                if expert not in table[(bidder, code)]:
                    raise InvalidInput(
                        _("Expert %(expert)s has not scored %(bidder)s on criterion %(criterion)s.")
                        % {"expert": expert, "bidder": bidder, "criterion": code},
                        field="points",
                        rule="score_missing",
                    )
    return tuple(sorted(experts)), table


def find_outliers(
    criteria: Sequence[Criterion],
    scores: Iterable[ExpertScore],
    rule: OutlierRule | None = None,
) -> tuple[Outlier, ...]:
    """Scores deviating from the others' mean by more than the rule's limit, with their reasons
    (possibly blank). The session asks the expert for a reason before the scores are signed."""
    rule = rule or OutlierRule()
    by_code = {c.code: c for c in criteria}
    cells: dict[tuple[str, str], dict[str, ExpertScore]] = defaultdict(dict)
    for s in scores:
        points = decimal_value(s.points, field="points", allow_negative=True)
        cells[(s.bidder, s.criterion)][s.expert] = replace(s, points=points)
    found: list[Outlier] = []
    for (bidder, code), cell in sorted(cells.items()):
        criterion = by_code.get(code)
        if criterion is None or len(cell) < 2:
            continue
        limit = mul_exact(rule.share_of_range, criterion.span)
        for expert, s in sorted(cell.items()):
            points = Decimal(s.points)
            others = [Decimal(o.points) for e, o in cell.items() if e != expert]
            mean = div_exact(sum(others, _ZERO), len(others))
            deviation = abs(points - mean)
            if deviation > limit:
                found.append(
                    Outlier(expert, bidder, code, points, mean, deviation, limit, s.reason)
                )
    return tuple(found)


def _check_outlier_reasons(outliers: Iterable[Outlier]) -> None:
    for o in outliers:
        if not o.reason.strip():
            raise InvalidInput(
                _(
                    "Expert %(expert)s gave %(bidder)s %(points)s points on criterion "
                    "%(criterion)s, %(deviation)s from the other experts' mean %(mean)s (more than "
                    "%(limit)s): a written reason is required."
                )
                % {
                    "expert": o.expert,
                    "bidder": o.bidder,
                    "points": o.points,
                    "criterion": o.criterion,
                    "deviation": round2(o.deviation),
                    "mean": round2(o.others_mean),
                    "limit": round2(o.limit),
                },
                field="reason",
                rule="score_outlier_reason",
            )


def aggregate(
    subject: str, points: Mapping[str, Decimal], aggregation: Aggregation | None = None
) -> Aggregate:
    """The announced aggregate of ``points`` (expert → points).

    With at least ``drop_extremes_from`` experts, one highest and one lowest score are dropped
    (among equal scores, the expert sorting last / first: the value is the same whichever is
    dropped). The mean of the rest is exact; ``points`` is it rounded to two places.
    """
    aggregation = aggregation or Aggregation()
    if not points:
        raise InvalidInput(
            _("No expert scored %(subject)s.") % {"subject": subject},
            field="points",
            rule="score_missing",
        )
    ordered = sorted(points.items(), key=lambda ep: (ep[1], ep[0]))
    dropped: list[tuple[str, Decimal]] = []
    if (
        aggregation.drop_extremes_from is not None
        and len(ordered) >= aggregation.drop_extremes_from
    ):
        dropped = [ordered[-1], ordered[0]]
        ordered = ordered[1:-1]
    mean = div_exact(sum((p for _e, p in ordered), _ZERO), len(ordered))
    kept = tuple(sorted(ordered))
    return Aggregate(subject, kept, tuple(dropped), mean, round2(mean))


def comprehensive_scores(
    method: ComprehensiveMethod,
    *,
    prices: Mapping[str, Decimal],
    scores: Iterable[ExpertScore],
    credit: Mapping[str, Decimal] | None = None,
    ceiling: Decimal | None = None,
    submitted_at: Mapping[str, dt.datetime] | None = None,
) -> ComprehensiveResult:
    """综合评估法: total = technical + commercial (experts, aggregated) + price (formula) + credit.

    ``prices``: bidder → bid price (yuan); bids above ``ceiling`` are invalid, get no score and
    their expert scores (if any) are ignored. ``scores``: every expert's points for every valid
    bidder on every technical and commercial criterion, each within its range; a score far from the
    others (``method.outliers``) must carry a reason. ``credit``: bidder → credit points already on
    the credit criterion's scale (from the credit context). Ranked highest total first, then
    ``method.tie_breaks``; remaining ties go to a draw.
    """
    check_criteria(method.criteria, method.total_points)
    by_code = {c.code: c for c in method.criteria}
    all_prices = _prices(prices)
    valid, above = _split_ceiling(all_prices, ceiling)
    if not valid:
        raise _no_valid_bids()
    kept_scores = [s for s in scores if s.bidder not in above]
    experts, table = _score_table(by_code, valid, kept_scores)
    outliers = find_outliers(
        method.criteria,
        [s for cell in table.values() for s in cell.values()],
        method.outliers,
    )
    _check_outlier_reasons(outliers)

    price_criterion = next((c for c in method.criteria if c.category is Category.PRICE), None)
    price = (
        price_scores(all_prices, price_criterion.max_points, method.price_method, ceiling=ceiling)
        if price_criterion
        else None
    )
    credit_criterion = next((c for c in method.criteria if c.category is Category.CREDIT), None)
    credit_points = _credit(credit_criterion, credit or {}, valid)
    allowed = {TieBreak.LOWER_PRICE, TieBreak.EARLIER_SUBMISSION}
    allowed |= {TieBreak.HIGHER_TECHNICAL, TieBreak.HIGHER_COMMERCIAL}
    if credit_criterion:
        allowed.add(TieBreak.HIGHER_CREDIT)
    _check_tie_breaks(method.tie_breaks, allowed)

    results: dict[str, BidderScore] = {}
    candidates: list[_Candidate] = []
    for bidder in sorted(valid):
        aggregates: list[Aggregate] = []
        subtotals: dict[Category, Decimal] = {}
        for category in EXPERT_SCORED:
            codes = [c.code for c in method.criteria if c.category is category]
            if not codes:
                continue
            if method.aggregation.level is AggregationLevel.CRITERION:
                parts = [
                    aggregate(
                        code,
                        {e: Decimal(s.points) for e, s in table[(bidder, code)].items()},
                        method.aggregation,
                    )
                    for code in codes
                ]
                aggregates.extend(parts)
                subtotals[category] = sum((a.points for a in parts), _ZERO)
            else:
                per_expert = {
                    e: sum((Decimal(table[(bidder, code)][e].points) for code in codes), _ZERO)
                    for e in experts
                }
                part = aggregate(category.value, per_expert, method.aggregation)
                aggregates.append(part)
                subtotals[category] = part.points
        ps = price.scores[bidder] if price else None
        if ps is not None:
            subtotals[Category.PRICE] = ps.points
        cp = credit_points.get(bidder)
        if cp is not None:
            subtotals[Category.CREDIT] = cp
        total = sum(subtotals.values(), _ZERO)
        working = [a.line(bidder) for a in aggregates]
        if ps is not None:
            working.extend(ps.working)
        if cp is not None:
            working.append(f"{bidder}: credit = {cp}")
        working.append(
            f"{bidder}: total = "
            + " + ".join(f"{subtotals[c]} ({c.value})" for c in Category if c in subtotals)
            + f" = {total}"
        )
        results[bidder] = BidderScore(
            bidder=bidder,
            price=valid[bidder],
            aggregates=tuple(aggregates),
            subtotals=subtotals,
            price_score=ps,
            credit=cp,
            total=total,
            working=tuple(working),
        )
        candidates.append(
            _Candidate(
                bidder,
                total,
                {
                    TieBreak.LOWER_PRICE: valid[bidder],
                    TieBreak.EARLIER_SUBMISSION: (submitted_at or {}).get(bidder),
                    TieBreak.HIGHER_TECHNICAL: subtotals.get(Category.TECHNICAL, _ZERO),
                    TieBreak.HIGHER_COMMERCIAL: subtotals.get(Category.COMMERCIAL, _ZERO),
                    TieBreak.HIGHER_CREDIT: cp,
                },
            )
        )
    ranking = _rank(candidates, higher_is_better=True, tie_breaks=method.tie_breaks)
    return ComprehensiveResult(
        scores=results, above_ceiling=above, price=price, outliers=outliers, ranking=ranking
    )


def _credit(
    criterion: Criterion | None, credit: Mapping[str, Decimal], bidders: Iterable[str]
) -> dict[str, Decimal]:
    if criterion is None:
        return {}
    out: dict[str, Decimal] = {}
    for bidder in sorted(bidders):
        if bidder not in credit:
            raise InvalidInput(
                _("There is no credit score for %(bidder)s.") % {"bidder": bidder},
                field="credit",
                rule="credit_missing",
            )
        points = decimal_value(credit[bidder], field="credit", allow_negative=True)
        if not criterion.min_points <= points <= criterion.max_points:
            raise InvalidInput(
                _(
                    "The credit score %(points)s of %(bidder)s is outside the credit criterion's "
                    "range %(low)s–%(high)s."
                )
                % {
                    "points": points,
                    "bidder": bidder,
                    "low": criterion.min_points,
                    "high": criterion.max_points,
                },
                field="credit",
                rule="credit_range",
            )
        out[bidder] = points
    return out
