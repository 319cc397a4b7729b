"""Clearing (清标): arithmetic, ceiling, abnormally low prices, mandatory items; refusals."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from openbid.core.errors import InvalidInput
from openbid.evaluation.clearing import (
    BidPrices,
    ClearingRules,
    FindingKind,
    Prevails,
    PricedItem,
    Severity,
    clear,
)

# Bid A's priced items (已标价工程量清单):
#   010101 earthwork 1,250.5 m³ × 32.40 = 40,516.20           written 40,516.20  ✓
#   010102 concrete    380 m³ × 512.75 = 194,845.00          written 194,485.00 ✗ (−360.00)
#   010103 rebar     42.35 t × 4,860.00 = 205,821.00         written 205,821.00 ✓
#   written sum  = 40,516.20 + 194,485.00 + 205,821.00 = 440,822.20 (= the read-out price)
#   computed sum = 40,516.20 + 194,845.00 + 205,821.00 = 441,182.20 (unit prices prevail)
ITEMS_A = (
    PricedItem("010101", D("1250.5"), D("32.40"), D("40516.20"), "earthwork"),
    PricedItem("010102", D("380"), D("512.75"), D("194485.00"), "concrete"),
    PricedItem("010103", D("42.35"), D("4860.00"), D("205821.00"), "rebar"),
)
# Bid B is consistent; its 010103 line is 3.333 × 10.01 = 33.36333 → 33.36, written 33.37: a
# one-fen difference within the tolerance.
ITEMS_B = (
    PricedItem("010101", D("1250.5"), D("30.00"), D("37515.00")),
    PricedItem("010102", D("380"), D("500.00"), D("190000.00")),
    PricedItem("010103", D("3.333"), D("10.01"), D("33.37")),
)


def refused(rule: str, call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as info, translation.override("en"):
        call(*args, **kwargs)
    assert info.value.rule == rule, info.value.as_dict()
    return info.value


def test_unit_price_prevails_worked_example():
    result = clear(
        [
            BidPrices("A", D("440822.20"), ITEMS_A),
            # 37,515.00 + 190,000.00 + 33.37 = 227,548.37 written; computed 227,548.36
            BidPrices("B", D("227548.37"), ITEMS_B),
        ],
        ClearingRules(low_below_others_mean_percent=None),
    )
    a = result.bids["A"]
    assert a.items_total == D("440822.20")
    assert a.corrected_price == D("441182.20")
    line, total = a.findings
    assert line.kind is FindingKind.LINE_ARITHMETIC and line.item == "010102"
    assert line.severity is Severity.CONFIRMATION
    assert line.numbers["computed_total"] == D("194845.00")
    assert line.numbers["difference"] == D("-360.00")
    assert line.numbers["corrected_total"] == D("194845.00")
    assert "3.1.3" in line.source
    assert total.kind is FindingKind.TOTAL_ARITHMETIC
    assert total.numbers["read_out_price"] == D("440822.20")
    assert total.numbers["computed_items_total"] == D("441182.20")
    assert total.numbers["corrected_price"] == D("441182.20")
    # B: within the one-fen tolerance; corrected to the computed sum, no finding.
    b = result.bids["B"]
    assert b.findings == () and b.corrected_price == D("227548.36")
    assert result.to_ask == ("A",) and result.invalid == ()


def test_zero_tolerance_reports_a_one_fen_difference():
    result = clear(
        [BidPrices("B", D("227548.37"), ITEMS_B)],
        ClearingRules(tolerance=D("0"), low_below_others_mean_percent=None),
    )
    kinds = [f.kind for f in result.bids["B"].findings]
    assert kinds == [FindingKind.LINE_ARITHMETIC, FindingKind.TOTAL_ARITHMETIC]


def test_total_prevails_keeps_the_read_out_price_and_asks_for_clarification():
    result = clear(
        [BidPrices("A", D("440822.20"), ITEMS_A)],
        ClearingRules(prevails=Prevails.TOTAL, low_below_others_mean_percent=None),
    )
    a = result.bids["A"]
    assert a.corrected_price == D("440822.20")
    assert {f.severity for f in a.findings} == {Severity.CLARIFICATION}
    assert a.findings[0].numbers["corrected_total"] == D("194485.00")


def test_ceiling_on_read_out_and_on_corrected_price():
    # Ceiling 441,000.00: A reads out 440,822.20 (below) but corrects to 441,182.20 (above).
    # C reads out 450,000.00: above. Both invalid (Reg art. 51(5)).
    result = clear(
        [
            BidPrices("A", D("440822.20"), ITEMS_A),
            BidPrices("C", D("450000")),
            BidPrices("D", D("441000")),  # exactly at the ceiling: valid
        ],
        ClearingRules(ceiling=D("441000"), low_below_others_mean_percent=None),
    )
    a_ceiling = result.bids["A"].findings[-1]
    assert a_ceiling.kind is FindingKind.CORRECTED_ABOVE_CEILING
    assert a_ceiling.numbers["excess"] == D("182.20")
    (c_ceiling,) = result.bids["C"].findings
    assert c_ceiling.kind is FindingKind.ABOVE_CEILING and c_ceiling.severity is Severity.INVALID
    assert c_ceiling.numbers == {
        "price": D("450000.00"),
        "ceiling": D("441000.00"),
        "excess": D("9000.00"),
    }
    assert c_ceiling.source == "Reg art. 51(5)"
    assert result.invalid == ("A", "C")
    assert result.bids["D"].findings == ()


def test_abnormally_low_against_the_others_mean():
    # Four bids: P 1,000,000, Q 980,000, R 1,020,000, S 800,000; threshold 15% below the others.
    # S: others' mean = (1,000,000 + 980,000 + 1,020,000) / 3 = 1,000,000; limit = 850,000;
    #    800,000 < 850,000 → clarification; 200,000 / 1,000,000 = 20.00% below.
    # P: others = (980,000 + 1,020,000 + 800,000) / 3 = 933,333.33…; limit 793,333.33… → fine.
    # (Q and R are higher still relative to their limits.)
    # The above-ceiling bid T (2,000,000 > 1,500,000) is left out of every mean.
    result = clear(
        [
            BidPrices("P", D("1000000")),
            BidPrices("Q", D("980000")),
            BidPrices("R", D("1020000")),
            BidPrices("S", D("800000")),
            BidPrices("T", D("2000000")),
        ],
        ClearingRules(ceiling=D("1500000")),
    )
    (low,) = result.bids["S"].findings
    assert low.kind is FindingKind.ABNORMALLY_LOW and low.severity is Severity.CLARIFICATION
    assert low.numbers == {
        "price": D("800000.00"),
        "reference": "others_mean",
        "reference_value": D("1000000.00"),
        "threshold_percent": D(15),
        "threshold": D("850000.00"),
        "below_reference_percent": D("20.00"),
    }
    assert "art. 21" in low.source
    assert [b for b in "PQR" if result.bids[b].findings] == []
    assert result.to_ask == ("S",) and result.invalid == ("T",)


def test_abnormally_low_threshold_is_strict():
    # S at exactly 15% below the others' mean 1,000,000 (850,000): not flagged.
    result = clear(
        [
            BidPrices("P", D("1000000")),
            BidPrices("Q", D("980000")),
            BidPrices("R", D("1020000")),
            BidPrices("S", D("850000")),
        ]
    )
    assert result.findings == ()


def test_abnormally_low_against_the_base_price():
    # Base 950,000, 10% → limit 855,000: S 800,000 below; 150,000 / 950,000 = 15.789…% → 15.79.
    result = clear(
        [BidPrices("P", D("1000000")), BidPrices("S", D("800000"))],
        ClearingRules(
            low_below_others_mean_percent=None,
            low_below_base_percent=D(10),
            base_price=D("950000"),
        ),
    )
    (low,) = result.bids["S"].findings
    assert low.rule == "clearing_low_price_base_price"
    assert low.numbers["threshold"] == D("855000.00")
    assert low.numbers["below_reference_percent"] == D("15.79")
    assert result.bids["P"].findings == ()


def test_missing_and_duplicate_items():
    items = (*ITEMS_B, PricedItem("010101", D("1"), D("1.00"), D("1.00")))
    rules = ClearingRules(
        required_items=("010101", "040001"), low_below_others_mean_percent=None, tolerance=D(1)
    )
    # 37,515.00 + 190,000.00 + 33.37 + 1.00 = 227,549.37
    result = clear([BidPrices("B", D("227549.37"), items)], rules)
    kinds = [(f.kind, f.item, f.severity) for f in result.bids["B"].findings]
    assert kinds == [
        (FindingKind.DUPLICATE_ITEM, "010101", Severity.CLARIFICATION),
        (FindingKind.MISSING_ITEM, "040001", Severity.INVALID),
    ]
    lenient = ClearingRules(
        required_items=("040001",),
        missing_item_severity=Severity.CLARIFICATION,
        low_below_others_mean_percent=None,
    )
    (missing,) = clear([BidPrices("B", D("227548.37"), ITEMS_B)], lenient).findings
    assert missing.severity is Severity.CLARIFICATION
    # A bid without any priced items is missing every required item.
    (none,) = clear([BidPrices("C", D("1000"))], lenient).findings
    assert none.kind is FindingKind.MISSING_ITEM


def test_clearing_refusals():
    refused("duplicate_bidder", clear, [BidPrices("A", D(1)), BidPrices("A", D(2))])
    refused("money_format", clear, [BidPrices("A", 1000.0)])
    refused(
        "decimal_format",
        clear,
        [BidPrices("A", D(1), (PricedItem("x", 1.5, D(1), D("1.50")),))],
    )
    refused(
        "decimal_range",
        clear,
        [BidPrices("A", D(1), (PricedItem("x", D(-1), D(1), D("-1.00")),))],
    )
    refused(
        "money_places",
        clear,
        [BidPrices("A", D(1), (PricedItem("x", D(1), D(1), D("1.001")),))],
    )
    refused("percent_range", clear, [], ClearingRules(low_below_others_mean_percent=D(100)))
    refused("clearing_rules", clear, [], ClearingRules(low_below_base_percent=D(10)))
    refused("money_range", clear, [], ClearingRules(tolerance=D("-0.01")))


money = st.integers(min_value=1, max_value=10**9).map(lambda f: D(f).scaleb(-2))
quantities = st.integers(min_value=0, max_value=10**6).map(lambda q: D(q).scaleb(-3))


@given(st.lists(st.tuples(quantities, money), min_size=1, max_size=10))
def test_consistent_bids_have_no_arithmetic_findings(lines):
    # Written totals computed the way the check does (quantity × unit price, half up to the fen).
    items = tuple(
        PricedItem(f"{i:03d}", q, u, (q * u).quantize(D("0.01"), rounding="ROUND_HALF_UP"))
        for i, (q, u) in enumerate(lines)
    )
    total = sum((item.total for item in items), D(0))
    result = clear(
        [BidPrices("A", max(total, D("0.01")), items)],
        ClearingRules(low_below_others_mean_percent=None),
    )
    if total > 0:
        assert result.findings == ()
        assert result.bids["A"].corrected_price == total
