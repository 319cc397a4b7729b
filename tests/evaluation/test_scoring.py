"""Scoring: worked examples whose numbers are computed by hand in the comments, properties, refusals."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from openbid.core.errors import InvalidInput
from openbid.evaluation.scoring import (
    Adjustment,
    Aggregation,
    AggregationLevel,
    BasePriceMethod,
    Category,
    ComprehensiveMethod,
    Criterion,
    ExpertScore,
    LowestPriceMethod,
    OutlierRule,
    PartialPercent,
    PricedBid,
    TieBreak,
    aggregate,
    base_price,
    check_criteria,
    coefficient_choices,
    comprehensive_scores,
    deviation_score,
    drawn_coefficient,
    find_outliers,
    lowest_evaluated_price,
    price_scores,
)

FIVE = {
    "A": D("10000000"),
    "B": D("9800000"),
    "C": D("9500000"),
    "D": D("10300000"),
    "E": D("8900000"),
}


def refused(rule: str, call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as info, translation.override("en"):
        call(*args, **kwargs)
    assert info.value.rule == rule, info.value.as_dict()
    return info.value


# --- Coefficient K ---------------------------------------------------------------------------------


def test_coefficient_choices_and_draw_index():
    # 0.95 to 0.99 in steps of 0.005: (0.99 − 0.95) / 0.005 = 8 steps, 9 values.
    choices = coefficient_choices(D("0.95"), D("0.99"), D("0.005"))
    assert choices == [
        D("0.950"),
        D("0.955"),
        D("0.960"),
        D("0.965"),
        D("0.970"),
        D("0.975"),
        D("0.980"),
        D("0.985"),
        D("0.990"),
    ]
    assert drawn_coefficient(D("0.95"), D("0.99"), D("0.005"), 4) == D("0.97")
    assert drawn_coefficient(D("0.95"), D("0.99"), D("0.005"), 0) == D("0.95")
    assert drawn_coefficient(D("0.95"), D("0.99"), D("0.005"), 8) == D("0.99")
    assert coefficient_choices(D("1"), D("1"), D("0.01")) == [D("1.00")]


@pytest.mark.parametrize(
    ("low", "high", "step"),
    [
        (D("0.99"), D("0.95"), D("0.005")),  # low above high
        (D("0.95"), D("0.99"), D("0")),  # no step
        (D("0.95"), D("0.99"), D("-0.005")),
        (D("0.95"), D("0.99"), D("0.003")),  # 0.04 is not a whole number of 0.003 steps
        (D("0"), D("0.99"), D("0.01")),  # K must be positive
    ],
)
def test_coefficient_range_refusals(low, high, step):
    error = refused("coefficient_range", coefficient_choices, low, high, step)
    assert error.field == "coefficient_range"


def test_coefficient_refuses_floats():
    refused("decimal_format", coefficient_choices, 0.95, D("0.99"), D("0.005"))


@pytest.mark.parametrize("index", [-1, 9, True, "4"])
def test_coefficient_index_refusals(index):
    error = refused("coefficient_index", drawn_coefficient, D("0.95"), D("0.99"), D("0.005"), index)
    assert "0–8" in str(error)


# --- Base price and price scores -------------------------------------------------------------------


def test_base_price_five_bids_drop_extremes_k_097():
    # Valid bids by price: E 8,900,000 < C 9,500,000 < B 9,800,000 < A 10,000,000 < D 10,300,000.
    # Five bids ≥ 5: exclude the highest (D) and the lowest (E).
    # mean = (9,500,000 + 9,800,000 + 10,000,000) / 3 = 29,300,000 / 3 = 9,766,666.666…
    # base = 29,300,000 × 0.97 / 3 = 28,421,000 / 3 = 9,473,666.666… → 9,473,666.67
    base = base_price(FIVE, D("0.97"))
    assert base.dropped == (("D", D("10300000.00")), ("E", D("8900000.00")))
    assert [b for b, _p in base.used] == ["C", "B", "A"]
    assert base.total == D("29300000.00")
    assert base.value == D("9473666.67")
    assert base.working[-1].endswith("→ 9473666.67")


def test_price_scores_base_method_worked_example():
    # Full marks 30; −1 point per 1% above the base, −0.5 per 1% below; linear; d to 2 places.
    # base = 9,473,666.67 (above).
    # A: (10,000,000 − 9,473,666.67) / 9,473,666.67 = 526,333.33 / 9,473,666.67 = 5.5557…% → 5.56%
    #    30 − 5.56 × 1 = 24.44
    # B: 326,333.33 / 9,473,666.67 = 3.4446…% → 3.44%; 30 − 3.44 = 26.56
    # C: 26,333.33 / 9,473,666.67 = 0.2779…% → 0.28%; 30 − 0.28 = 29.72
    # D: 826,333.33 / 9,473,666.67 = 8.7224…% → 8.72%; 30 − 8.72 = 21.28
    # E: −573,666.67 / 9,473,666.67 = −6.0553…% → −6.06%; 30 − 6.06 × 0.5 = 30 − 3.03 = 26.97
    method = BasePriceMethod(coefficient=drawn_coefficient(D("0.95"), D("0.99"), D("0.005"), 4))
    result = price_scores(FIVE, D(30), method)
    assert result.base is not None and result.base.value == D("9473666.67")
    points = {b: s.points for b, s in result.scores.items()}
    assert points == {
        "A": D("24.44"),
        "B": D("26.56"),
        "C": D("29.72"),
        "D": D("21.28"),
        "E": D("26.97"),
    }
    assert result.scores["A"].deviation_percent == D("5.56")
    assert result.scores["E"].deviation_percent == D("-6.06")
    assert result.scores["E"].deduction == D("3.03")
    # The working prints every step a reviewer needs.
    assert any("E: below the base; deduction = 6.06 × 0.5" in line for line in result.working)


def test_partial_percent_rules():
    # Same base 9,473,666.67. A is 5.56% above, E 6.06% below.
    # IGNORE (不足1%不扣): A 5 × 1 = 5 → 25.00; E 6 × 0.5 = 3 → 27.00
    # WHOLE (不足1%按1%): A 6 × 1 = 6 → 24.00; E 7 × 0.5 = 3.5 → 26.50
    ignore = price_scores(
        FIVE,
        D(30),
        BasePriceMethod(coefficient=D("0.97"), partial_percent=PartialPercent.IGNORE),
    )
    whole = price_scores(
        FIVE,
        D(30),
        BasePriceMethod(coefficient=D("0.97"), partial_percent=PartialPercent.WHOLE),
    )
    assert (ignore.scores["A"].points, ignore.scores["E"].points) == (D("25.00"), D("27.00"))
    assert (whole.scores["A"].points, whole.scores["E"].points) == (D("24.00"), D("26.50"))


def test_ceiling_excludes_bids_from_the_base_and_the_trim():
    # Ceiling 10,000,000: D (10,300,000) is invalid. Four valid bids < 5: nothing trimmed.
    # base = (8,900,000 + 9,500,000 + 9,800,000 + 10,000,000) × 0.97 / 4
    #      = 38,200,000 × 0.97 / 4 = 37,054,000 / 4 = 9,263,500.00
    # A: 736,500 / 9,263,500 = 7.9505…% → 7.95%; 30 − 7.95 = 22.05
    # E: −363,500 / 9,263,500 = −3.9240…% → −3.92%; 30 − 1.96 = 28.04
    # A bid exactly at the ceiling (A) is valid.
    result = price_scores(FIVE, D(30), BasePriceMethod(D("0.97")), ceiling=D("10000000"))
    assert result.above_ceiling == ("D",)
    assert result.base is not None
    assert result.base.value == D("9263500.00") and result.base.dropped == ()
    assert set(result.scores) == {"A", "B", "C", "E"}
    assert result.scores["A"].points == D("22.05")
    assert result.scores["E"].points == D("28.04")


def test_score_floors_at_zero_and_full_marks_at_the_base():
    # 20% above a base of 1,000,000 at 1 point per 1% with 10 points full: 10 − 20 < 0 → 0.00
    method = BasePriceMethod(D("1"))
    assert deviation_score(D("1200000"), D("1000000"), D(10), method).points == D("0.00")
    at_base = deviation_score(D("1000000"), D("1000000"), D(10), method)
    assert at_base.points == D("10.00") and at_base.deviation_percent == D("0.00")


def test_lowest_price_formula_worked_example():
    # 低价优先法, full 30, lowest valid price 8,900,000:
    # A 30 × 8.9 / 10.0 = 26.70; B 30 × 8.9 / 9.8 = 27.2448… → 27.24;
    # C 30 × 8.9 / 9.5 = 28.1052… → 28.11; D 30 × 8.9 / 10.3 = 25.9223… → 25.92; E 30.00
    result = price_scores(FIVE, D(30), LowestPriceMethod())
    assert result.lowest == D("8900000.00")
    assert {b: s.points for b, s in result.scores.items()} == {
        "A": D("26.70"),
        "B": D("27.24"),
        "C": D("28.11"),
        "D": D("25.92"),
        "E": D("30.00"),
    }


def test_price_refusals():
    refused("money_format", price_scores, {"A": 1000.5}, D(30), LowestPriceMethod())
    refused("money_places", price_scores, {"A": D("1000.005")}, D(30), LowestPriceMethod())
    refused("decimal_range", price_scores, {"A": D("0")}, D(30), LowestPriceMethod())
    refused("no_valid_bids", price_scores, {"A": D("2")}, D(30), LowestPriceMethod(), ceiling=D(1))
    refused("no_valid_bids", price_scores, {}, D(30), LowestPriceMethod())
    refused("trim_minimum", BasePriceMethod, D("0.97"), trim_extremes_from=2)
    refused("coefficient_range", BasePriceMethod, D("0"))
    refused("decimal_format", BasePriceMethod, 0.97)


# --- Lowest evaluated price (经评审的最低投标价法) ----------------------------------------------------

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def evaluated_bids() -> list[PricedBid]:
    return [
        # A: 5,000,000 + 120,000 (30 days longer than the required period × 4,000/day) = 5,120,000
        PricedBid(
            "A",
            D("5000000"),
            (Adjustment(D("120000"), "30 days beyond the required period × 4,000", "2.1"),),
            submitted_at=AT,
        ),
        # B: 5,080,000 + 40,000 (payment terms deviation) = 5,120,000: tie with A
        PricedBid("B", D("5080000"), (Adjustment(D("40000"), "payment terms"),), submitted_at=AT),
        # C: 5,150,000 − 80,000 + 30,000 = 5,100,000: lowest
        PricedBid(
            "C",
            D("5150000"),
            (
                Adjustment(D("-80000"), "spare parts included free"),
                Adjustment(D("30000"), "warranty 1 year shorter"),
            ),
            submitted_at=AT,
        ),
        # D, F: 5,200,000 flat; E: 5,180,000 + 20,000 = 5,200,000. Three-way tie on 5,200,000.
        PricedBid("D", D("5200000"), submitted_at=AT + dt.timedelta(minutes=10)),
        PricedBid("E", D("5180000"), (Adjustment(D("20000"), "deviation"),), submitted_at=AT),
        PricedBid("F", D("5200000"), submitted_at=AT + dt.timedelta(minutes=5)),
        # G: above the ceiling 5,500,000: invalid, not ranked.
        PricedBid("G", D("5600000"), submitted_at=AT),
    ]


def test_lowest_evaluated_price_worked_example_with_ties():
    result = lowest_evaluated_price(evaluated_bids(), ceiling=D("5500000"))
    assert result.above_ceiling == ("G",)
    assert {b: p.evaluated_price for b, p in result.prices.items()} == {
        "A": D("5120000.00"),
        "B": D("5120000.00"),
        "C": D("5100000.00"),
        "D": D("5200000.00"),
        "E": D("5200000.00"),
        "F": D("5200000.00"),
    }
    assert result.prices["C"].working == (
        "C: evaluated price = 5150000.00 − 80000.00 (spare parts included free)"
        " + 30000.00 (warranty 1 year shorter) = 5100000.00",
    )
    # C 5,100,000 first; A and B tie at 5,120,000 → lower bid price: A (5,000,000) before B;
    # E, D, F tie at 5,200,000 → lower bid price: E (5,180,000); D and F equal on both: a draw.
    ranking = result.ranking
    assert [(e.rank, e.bidder, e.decided_by) for e in ranking.entries] == [
        (1, "C", "score"),
        (2, "A", "score"),
        (3, "B", "lower_price"),
        (4, "E", "score"),
        (5, "D", "lower_price"),
        (5, "F", "lottery_pending"),
    ]
    assert ranking.ties == (("D", "F"),)
    # The caller draws the order with the verifiable draw and applies it.
    drawn = ranking.resolve(["F", "D"])
    assert [(e.rank, e.bidder, e.decided_by) for e in drawn.entries][4:] == [
        (5, "F", "lower_price"),
        (6, "D", "lottery"),
    ]
    assert drawn.ties == ()


def test_lowest_evaluated_price_earlier_submission_breaks_the_remaining_tie():
    # F was submitted at 09:05, D at 09:10: F before D without a draw.
    result = lowest_evaluated_price(
        evaluated_bids(),
        ceiling=D("5500000"),
        tie_breaks=(TieBreak.LOWER_PRICE, TieBreak.EARLIER_SUBMISSION),
    )
    assert result.ranking.order == ("C", "A", "B", "E", "F", "D")
    assert result.ranking.entries[-1].decided_by == "earlier_submission"
    assert result.ranking.ties == ()


def test_lowest_evaluated_price_without_tie_breaks_draws_every_tie():
    result = lowest_evaluated_price(evaluated_bids(), ceiling=D("5500000"), tie_breaks=())
    assert result.ranking.ties == (("A", "B"), ("D", "E", "F"))
    assert [e.rank for e in result.ranking.entries] == [1, 2, 2, 4, 4, 4]
    once = result.ranking.resolve(["B", "A"])
    assert once.order[:3] == ("C", "B", "A") and once.ties == (("D", "E", "F"),)


def test_lowest_evaluated_price_refusals():
    bids = evaluated_bids()
    refused(
        "adjustment_reason",
        lowest_evaluated_price,
        [PricedBid("A", D("100"), (Adjustment(D("5"), "  "),))],
    )
    refused(
        "evaluated_price_positive",
        lowest_evaluated_price,
        [PricedBid("A", D("100"), (Adjustment(D("-100"), "rebate"),))],
    )
    refused(
        "money_places",
        lowest_evaluated_price,
        [PricedBid("A", D("100"), (Adjustment(D("0.001"), "x"),))],
    )
    refused("duplicate_bidder", lowest_evaluated_price, [bids[0], bids[0]])
    refused("no_valid_bids", lowest_evaluated_price, bids, ceiling=D("1"))
    refused(
        "tie_break_data",
        lowest_evaluated_price,
        [PricedBid("A", D("100")), PricedBid("B", D("100"))],
        tie_breaks=(TieBreak.EARLIER_SUBMISSION,),
    )
    refused("tie_break_data", lowest_evaluated_price, bids, tie_breaks=(TieBreak.HIGHER_TECHNICAL,))
    ranking = lowest_evaluated_price(bids).ranking
    refused("lottery_order", ranking.resolve, ["D"])
    refused("lottery_order", ranking.resolve, ["D", "C"])
    refused("lottery_order", ranking.resolve, ["D", "D"])


# --- Comprehensive scoring (综合评估法) ---------------------------------------------------------------

CRITERIA = (
    Criterion("T1", Category.TECHNICAL, D(30), name="construction plan"),
    Criterion("T2", Category.TECHNICAL, D(20), name="quality and safety"),
    Criterion("C1", Category.COMMERCIAL, D(10), name="experience"),
    Criterion("P", Category.PRICE, D(30)),
    Criterion("R", Category.CREDIT, D(10)),
)
EXPERTS = ("E1", "E2", "E3", "E4", "E5", "E6", "E7")
# Points per (bidder, criterion), experts E1…E7 in order.
SEVEN = {
    ("X", "T1"): (25, 26, 24, 27, 25, 22, 28),
    ("X", "T2"): (15, 16, 14, 15, 17, 15, 16),
    ("X", "C1"): (8, 8, 7, 9, 8, 8, 8),
    ("Y", "T1"): (20, 21, 22, 20, 19, 21, 12),  # E7's 12 is far from the others: reason needed
    ("Y", "T2"): (18, 17, 18, 18, 18, 18, 18),
    ("Y", "C1"): (9, 9, 9, 9, 9, 9, 9),
    ("Z", "T1"): (26, 25, 26, 27, 26, 25, 26),
    ("Z", "T2"): (13, 14, 13, 14, 13, 14, 13),
    ("Z", "C1"): (7, 6, 7, 7, 7, 7, 8),
}
PRICES = {"X": D("9600000"), "Y": D("9000000"), "Z": D("9900000")}
CREDIT = {"X": D("8.00"), "Y": D("9.50"), "Z": D("7.00")}
REASON = {("E7", "Y", "T1"): "the construction plan omits the winter works"}


def seven_scores(reasons=REASON) -> list[ExpertScore]:
    return [
        ExpertScore(e, bidder, code, D(points), reasons.get((e, bidder, code), ""))
        for (bidder, code), row in SEVEN.items()
        for e, points in zip(EXPERTS, row, strict=True)
    ]


def seven_method(**kwargs) -> ComprehensiveMethod:
    return ComprehensiveMethod(criteria=CRITERIA, price_method=BasePriceMethod(D("0.97")), **kwargs)


def test_comprehensive_seven_experts_worked_example():
    # Aggregation: 7 experts ≥ 7 → drop one highest and one lowest per criterion, mean of 5.
    # X T1: 22(E6) 24 25 25 26 27 28(E7) → drop E7, E6 → (24+25+25+26+27)/5 = 127/5 = 25.40
    # X T2: 14(E3) 15 15 15 16 16 17(E5) → drop E5, E3 → 77/5 = 15.40
    # X C1: 7(E3) 8 8 8 8 8 9(E4)        → drop E4, E3 → 40/5 = 8.00
    # Y T1: 12(E7) 19 20 20 21 21 22(E3) → drop E3, E7 → 101/5 = 20.20
    # Y T2: 17(E2) 18×6 → drop E7 (highest, last by name) and E2 → 90/5 = 18.00
    # Y C1: 9×7 → drop E7 and E1 → 9.00
    # Z T1: 25(E2) 25 26 26 26 26 27(E4) → drop E4, E2 → 129/5 = 25.80
    # Z T2: 13(E1) 13 13 13 14 14 14(E6) → drop E6, E1 → 67/5 = 13.40
    # Z C1: 6(E2) 7×5 8(E7)              → drop E7, E2 → 35/5 = 7.00
    # Price (30 points, K 0.97, 3 bids < 5: none excluded):
    #   base = (9,600,000 + 9,000,000 + 9,900,000) × 0.97 / 3 = 28,500,000 × 0.97 / 3 = 9,215,000.00
    #   X: 385,000 / 9,215,000 = 4.1779…% → 4.18% → 30 − 4.18 = 25.82
    #   Y: −215,000 / 9,215,000 = −2.3331…% → −2.33% → 30 − 1.165 = 28.835 → 28.84 (half up)
    #   Z: 685,000 / 9,215,000 = 7.4335…% → 7.43% → 30 − 7.43 = 22.57
    # Totals: X 25.40 + 15.40 + 8.00 + 25.82 + 8.00 = 82.62
    #         Y 20.20 + 18.00 + 9.00 + 28.84 + 9.50 = 85.54
    #         Z 25.80 + 13.40 + 7.00 + 22.57 + 7.00 = 75.77
    result = comprehensive_scores(
        seven_method(), prices=PRICES, scores=seven_scores(), credit=CREDIT
    )
    x, y, z = (result.scores[b] for b in "XYZ")
    assert [a.points for a in x.aggregates] == [D("25.40"), D("15.40"), D("8.00")]
    assert [a.points for a in y.aggregates] == [D("20.20"), D("18.00"), D("9.00")]
    assert [a.points for a in z.aggregates] == [D("25.80"), D("13.40"), D("7.00")]
    assert x.aggregates[0].dropped == (("E7", D(28)), ("E6", D(22)))
    assert y.aggregates[1].dropped == (("E7", D(18)), ("E2", D(17)))
    assert y.aggregates[2].dropped == (("E7", D(9)), ("E1", D(9)))
    assert result.price is not None and result.price.base is not None
    assert result.price.base.value == D("9215000.00")
    assert (x.price_score.points, y.price_score.points, z.price_score.points) == (  # type: ignore[union-attr]
        D("25.82"),
        D("28.84"),
        D("22.57"),
    )
    assert x.subtotals == {
        Category.TECHNICAL: D("40.80"),
        Category.COMMERCIAL: D("8.00"),
        Category.PRICE: D("25.82"),
        Category.CREDIT: D("8.00"),
    }
    assert (x.total, y.total, z.total) == (D("82.62"), D("85.54"), D("75.77"))
    assert result.ranking.order == ("Y", "X", "Z")
    assert result.ranking.ties == ()
    # The outlier was found and carries its reason.
    assert [(o.expert, o.bidder, o.criterion) for o in result.outliers] == [("E7", "Y", "T1")]
    # The working names kept and dropped experts and ends with the total.
    assert y.working[0] == (
        "Y T1: kept E1 20, E2 21, E4 20, E5 19, E6 21; dropped highest and lowest: E3 22, E7 12;"
        " mean = 101 / 5 = 20.2 → 20.20"
    )
    assert y.working[-1] == (
        "Y: total = 38.20 (technical) + 9.00 (commercial) + 28.84 (price) + 9.50 (credit) = 85.54"
    )


def test_outlier_without_a_reason_is_refused():
    # Y T1: E7 gave 12; the others' mean is (20+21+22+20+19+21)/6 = 123/6 = 20.5; deviation 8.5 >
    # 20% × 30 = 6 points.
    error = refused(
        "score_outlier_reason",
        comprehensive_scores,
        seven_method(),
        prices=PRICES,
        scores=seven_scores(reasons={}),
        credit=CREDIT,
    )
    assert error.field == "reason"
    with translation.override("en"):
        assert str(error) == (
            "Expert E7 gave Y 12 points on criterion T1, 8.50 from the other experts' mean 20.50"
            " (more than 6.00): a written reason is required."
        )
    blank = {("E7", "Y", "T1"): "   "}
    refused(
        "score_outlier_reason",
        comprehensive_scores,
        seven_method(),
        prices=PRICES,
        scores=seven_scores(reasons=blank),
        credit=CREDIT,
    )


def test_find_outliers_threshold_is_strict_and_configurable():
    # One criterion 0–10, 20% → 2 points. E3 gives 8, the others 6 and 6: mean 6, deviation 2:
    # not more than 2, no reason needed. With 10% (1 point) it needs one.
    criteria = [Criterion("T", Category.TECHNICAL, D(10))]
    scores = [
        ExpertScore("E1", "A", "T", D(6)),
        ExpertScore("E2", "A", "T", D(6)),
        ExpertScore("E3", "A", "T", D(8)),
    ]
    assert find_outliers(criteria, scores) == ()
    found = find_outliers(criteria, scores, OutlierRule(D("0.10")))
    assert [(o.expert, o.deviation, o.limit) for o in found] == [("E3", D(2), D("1.00"))]


def test_category_level_aggregation_drops_expert_subtotals():
    # Each expert's technical subtotal T1 + T2:
    # E1 20+15=35, E2 22+14=36, E3 25+18=43, E4 18+12=30, E5 21+15=36, E6 20+16=36, E7 22+13=35
    # sorted 30(E4) 35(E1) 35(E7) 36(E2) 36(E5) 36(E6) 43(E3): drop E3 and E4
    # mean = (35+35+36+36+36)/5 = 178/5 = 35.60; price (lowest only) 50.00; total 85.60
    criteria = [
        Criterion("T1", Category.TECHNICAL, D(30)),
        Criterion("T2", Category.TECHNICAL, D(20)),
        Criterion("P", Category.PRICE, D(50)),
    ]
    t1 = (20, 22, 25, 18, 21, 20, 22)
    t2 = (15, 14, 18, 12, 15, 16, 13)
    scores = [
        ExpertScore(e, "A", code, D(p))
        for code, row in (("T1", t1), ("T2", t2))
        for e, p in zip(EXPERTS, row, strict=True)
    ]
    method = ComprehensiveMethod(
        criteria=criteria,
        price_method=LowestPriceMethod(),
        aggregation=Aggregation(level=AggregationLevel.CATEGORY),
    )
    result = comprehensive_scores(method, prices={"A": D("100000")}, scores=scores)
    (agg,) = result.scores["A"].aggregates
    assert agg.subject == "technical"
    assert agg.dropped == (("E3", D(43)), ("E4", D(30)))
    assert agg.points == D("35.60")
    assert result.scores["A"].total == D("85.60")


def test_aggregate_plain_mean_and_half_up_rounding():
    # Fewer than 7 experts: plain mean. 8.01 + 8.01 + 8.00 + 8.00 = 32.02; / 4 = 8.005 → 8.01
    # (ROUND_HALF_UP; half-even would give 8.00).
    result = aggregate("T", {"E1": D("8.01"), "E2": D("8.00"), "E3": D("8.01"), "E4": D("8.00")})
    assert result.dropped == () and result.mean == D("8.005") and result.points == D("8.01")
    # 25 / 3 = 8.333… → 8.33
    assert aggregate("T", {"a": D("8.5"), "b": D("8.5"), "c": D(8)}).points == D("8.33")
    # Never drop: Aggregation(None).
    seven = {f"E{i}": D(i) for i in range(1, 8)}
    assert aggregate("T", seven, Aggregation(None)).points == D("4.00")
    assert aggregate("T", seven, Aggregation(5)).dropped == (("E7", D(7)), ("E1", D(1)))


def test_comprehensive_tie_breaks_and_draw():
    # Technical (0–60): M 50 from every expert → 50.00, N 42 → 42.00.
    # Price (低价优先, full 40, lowest 800,000): M 40 × 800,000 / 1,000,000 = 32.00, N 40.00.
    # M total 50.00 + 32.00 = 82.00; N 42.00 + 40.00 = 82.00: a tie.
    criteria = [Criterion("T", Category.TECHNICAL, D(60)), Criterion("P", Category.PRICE, D(40))]
    scores = [ExpertScore(f"E{i}", "M", "T", D(50)) for i in range(5)] + [
        ExpertScore(f"E{i}", "N", "T", D(42)) for i in range(5)
    ]
    prices = {"M": D("1000000"), "N": D("800000")}

    def run(tie_breaks):
        method = ComprehensiveMethod(
            criteria=criteria, price_method=LowestPriceMethod(), tie_breaks=tie_breaks
        )
        return comprehensive_scores(method, prices=prices, scores=scores).ranking

    assert run((TieBreak.HIGHER_TECHNICAL,)).order == ("M", "N")
    assert run((TieBreak.HIGHER_TECHNICAL,)).entries[1].decided_by == "higher_technical"
    assert run((TieBreak.LOWER_PRICE,)).order == ("N", "M")
    tied = run(())
    assert tied.ties == (("M", "N"),) and [e.rank for e in tied.entries] == [1, 1]
    assert tied.resolve(["N", "M"]).order == ("N", "M")


def test_comprehensive_ceiling_excludes_bid_and_ignores_its_scores():
    # Z (9,900,000) above a 9,800,000 ceiling: invalid; its scores are ignored.
    # base = (9,600,000 + 9,000,000) × 0.97 / 2 = 18,600,000 × 0.97 / 2 = 9,021,000.00
    result = comprehensive_scores(
        seven_method(), prices=PRICES, scores=seven_scores(), credit=CREDIT, ceiling=D("9800000")
    )
    assert result.above_ceiling == ("Z",)
    assert set(result.scores) == {"X", "Y"}
    assert result.price is not None and result.price.base is not None
    assert result.price.base.value == D("9021000.00")
    assert result.price.above_ceiling == ("Z",)


def test_score_out_of_range_names_expert_bidder_criterion_and_range():
    scores = seven_scores()
    scores[0] = ExpertScore("E1", "X", "T1", D("31"))
    error = refused(
        "score_range",
        comprehensive_scores,
        seven_method(),
        prices=PRICES,
        scores=scores,
        credit=CREDIT,
    )
    with translation.override("en"):
        assert str(error) == ("Expert E1 gave X 31 points on criterion T1, outside its range 0–30.")
    scores[0] = ExpertScore("E1", "X", "T1", D("-1"))
    refused(
        "score_range",
        comprehensive_scores,
        seven_method(),
        prices=PRICES,
        scores=scores,
        credit=CREDIT,
    )


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda s: s[:-1], "score_missing"),
        (lambda s: [*s, s[0]], "score_duplicate"),
        (lambda s: [*s, ExpertScore("E1", "X", "P", D(10))], "score_unknown"),
        (lambda s: [*s, ExpertScore("E1", "X", "NOPE", D(1))], "score_unknown"),
        (lambda s: [*s, ExpertScore("E1", "W", "T1", D(1))], "score_unknown"),
        (lambda s: [ExpertScore("E1", "X", "T1", D("25.125")), *s[1:]], "decimal_places"),
        (lambda s: [ExpertScore("E1", "X", "T1", 25.0), *s[1:]], "decimal_format"),
        (lambda s: [ExpertScore("E1", "X", "T1", "abc"), *s[1:]], "decimal_format"),
        (lambda s: [ExpertScore("E1", "X", "T1", D("NaN")), *s[1:]], "decimal_format"),
        (lambda s: [*s, ExpertScore("E8", "X", "T1", D(25))], "score_missing"),
    ],
)
def test_expert_score_refusals(change, rule):
    refused(
        rule,
        comprehensive_scores,
        seven_method(),
        prices=PRICES,
        scores=change(seven_scores()),
        credit=CREDIT,
    )


def test_credit_refusals():
    refused(
        "credit_missing",
        comprehensive_scores,
        seven_method(),
        prices=PRICES,
        scores=seven_scores(),
        credit={"X": D(1), "Y": D(1)},
    )
    refused(
        "credit_range",
        comprehensive_scores,
        seven_method(),
        prices=PRICES,
        scores=seven_scores(),
        credit={**CREDIT, "Z": D("10.5")},
    )


def test_criteria_refusals():
    t = Criterion("T", Category.TECHNICAL, D(60))
    p = Criterion("P", Category.PRICE, D(40))
    check_criteria([t, p])
    refused("criteria_points", check_criteria, [t, Criterion("P", Category.PRICE, D(30))])
    refused("criteria_invalid", check_criteria, [t, t])
    refused("criteria_invalid", check_criteria, [])
    refused(
        "criteria_invalid",
        check_criteria,
        [t, Criterion("P", Category.PRICE, D(20)), Criterion("Q", Category.PRICE, D(20))],
    )
    refused(
        "criteria_invalid",
        check_criteria,
        [t, Criterion("P", Category.PRICE, D(40), min_points=D(40))],
    )
    refused(
        "tie_break_data",
        comprehensive_scores,
        ComprehensiveMethod(
            criteria=[t, p], price_method=LowestPriceMethod(), tie_breaks=(TieBreak.HIGHER_CREDIT,)
        ),
        prices={"A": D(1)},
        scores=[ExpertScore("E1", "A", "T", D(1))],
    )
    refused("outlier_threshold", OutlierRule, D(0))
    refused("outlier_threshold", OutlierRule, D("1.5"))
    refused("trim_minimum", Aggregation, 2)


# --- Properties -------------------------------------------------------------------------------------

prices_st = st.integers(min_value=100_000, max_value=1_000_000_000).map(lambda f: D(f).scaleb(-2))
rates = st.sampled_from([D("0.25"), D("0.5"), D("1"), D("2"), D("3")])
methods = st.builds(
    BasePriceMethod,
    coefficient=st.sampled_from(coefficient_choices(D("0.90"), D("1.00"), D("0.005"))),
    above_points_per_percent=rates,
    below_points_per_percent=rates,
    partial_percent=st.sampled_from(list(PartialPercent)),
)
fulls = st.sampled_from([D(10), D(30), D("40"), D("60")])


@given(st.lists(prices_st, min_size=1, max_size=12), fulls, methods)
def test_price_scores_within_zero_and_full_and_two_places(prices, full, method):
    bids = {f"B{i}": p for i, p in enumerate(prices)}
    for result in (
        price_scores(bids, full, method),
        price_scores(bids, full, LowestPriceMethod()),
    ):
        for s in result.scores.values():
            assert D(0) <= s.points <= full
            assert s.points.as_tuple().exponent == -2


@given(prices_st, prices_st, prices_st, fulls, methods)
def test_price_score_is_monotonic_on_each_side_of_the_base(base, p1, p2, full, method):
    low, high = sorted((p1, p2))
    s_low = deviation_score(low, base, full, method).points
    s_high = deviation_score(high, base, full, method).points
    if low >= base:  # above the base, a lower price never scores less
        assert s_low >= s_high
    if high <= base:  # below the base, a price closer to the base never scores less
        assert s_high >= s_low


@given(st.lists(prices_st, min_size=2, max_size=12), fulls)
def test_lowest_price_formula_is_monotonic(prices, full):
    result = price_scores({f"B{i}": p for i, p in enumerate(prices)}, full, LowestPriceMethod())
    ranked = sorted(result.scores.values(), key=lambda s: s.price)
    assert ranked[0].points == full
    assert all(a.points >= b.points for a, b in itertools.pairwise(ranked))


points_st = st.integers(min_value=0, max_value=3000).map(lambda c: D(c).scaleb(-2))


@given(st.lists(points_st, min_size=1, max_size=11), st.randoms(), st.sampled_from([None, 3, 5, 7]))
def test_aggregate_is_invariant_under_expert_order(points, rnd, drop_from):
    experts = {f"E{i:02d}": p for i, p in enumerate(points)}
    items = list(experts.items())
    rnd.shuffle(items)
    rule = Aggregation(drop_from)
    first, second = aggregate("T", experts, rule), aggregate("T", dict(items), rule)
    assert first == second
    assert min(points) <= first.points <= max(points)
    assert first.points.as_tuple().exponent == -2


@settings(max_examples=25, deadline=None)
@given(st.randoms())
def test_comprehensive_result_is_invariant_under_score_order(rnd):
    scores = seven_scores()
    rnd.shuffle(scores)
    shuffled = comprehensive_scores(seven_method(), prices=PRICES, scores=scores, credit=CREDIT)
    assert {b: s.total for b, s in shuffled.scores.items()} == {
        "X": D("82.62"),
        "Y": D("85.54"),
        "Z": D("75.77"),
    }
    assert shuffled.ranking.order == ("Y", "X", "Z")


@given(
    st.integers(min_value=1, max_value=200).map(lambda n: D(n).scaleb(-3)),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=500, max_value=1000).map(lambda n: D(n).scaleb(-3)),
)
def test_coefficient_choices_properties(step, steps, low):
    high = low + step * steps
    choices = coefficient_choices(low, high, step)
    assert len(choices) == steps + 1
    assert choices[0] == low and choices[-1] == high
    assert all(b - a == step for a, b in itertools.pairwise(choices))
