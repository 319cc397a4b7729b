"""Money as Decimal yuan: exact parsing, fen round-trips, explicit rounding, formatting."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from fractions import Fraction

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from openbid.core.errors import InvalidInput
from openbid.core.money import (
    MAX_YUAN,
    format_yuan,
    from_fen,
    percent_of,
    round_yuan,
    to_fen,
    yuan,
)

MAX_FEN = int(MAX_YUAN * 100)
fen = st.integers(min_value=-MAX_FEN, max_value=MAX_FEN)
amounts = fen.map(from_fen)
percents = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False)


@given(fen)
def test_fen_round_trip(n):
    assert to_fen(from_fen(n)) == n
    assert from_fen(n).as_tuple().exponent == -2


@given(amounts)
def test_yuan_round_trip(amount):
    assert from_fen(to_fen(amount)) == amount
    assert yuan(format(amount, "f"), allow_negative=True) == amount
    assert yuan(amount, allow_negative=True) == amount


@given(st.integers(min_value=0, max_value=10**12))
def test_whole_yuan_from_int(n):
    assert yuan(n) == Decimal(n).quantize(Decimal("0.01"))
    assert to_fen(yuan(n)) == n * 100


@given(amounts, percents)
def test_percent_is_never_off_by_more_than_half_a_fen(amount, percent):
    exact = Fraction(amount) * Fraction(percent) / 100
    rounded = percent_of(amount, percent)
    assert abs(Fraction(rounded) - exact) <= Fraction(1, 200)
    assert rounded.as_tuple().exponent == -2


@given(amounts.filter(lambda a: a >= 0), percents)
def test_rounding_down_never_exceeds_a_cap_and_up_never_falls_short(amount, percent):
    exact = Fraction(amount) * Fraction(percent) / 100
    assert Fraction(percent_of(amount, percent, rounding=ROUND_DOWN)) <= exact
    assert Fraction(percent_of(amount, percent, rounding=ROUND_UP)) >= exact
    assert exact - Fraction(percent_of(amount, percent, rounding=ROUND_DOWN)) < Fraction(1, 100)


def test_percent_examples():
    # A 2% deposit of 1,234,567.89 is 24,691.3578: 24,691.36 rounded half up, .35 as a cap.
    assert percent_of(Decimal("1234567.89"), 2) == Decimal("24691.36")
    assert percent_of(Decimal("1234567.89"), "2", rounding=ROUND_DOWN) == Decimal("24691.35")
    assert percent_of(Decimal("100.00"), Decimal("10")) == Decimal("10.00")
    assert percent_of(Decimal("0.25"), 2) == Decimal("0.01")  # 0.005 rounds half up
    with pytest.raises(TypeError):
        percent_of(Decimal("1.00"), 2.0)  # type: ignore[arg-type]


def test_round_yuan_names_its_rounding():
    assert round_yuan(Decimal("0.005")) == Decimal("0.01")
    assert round_yuan(Decimal("0.005"), rounding=ROUND_HALF_EVEN) == Decimal("0.00")
    assert round_yuan(Decimal("0.015"), rounding=ROUND_HALF_EVEN) == Decimal("0.02")
    assert round_yuan(Decimal("-0.005")) == Decimal("-0.01")
    assert round_yuan(Decimal("1234.5"), places=0) == Decimal("1235")
    assert round_yuan(Decimal("1.23456"), places=4) == Decimal("1.2346")


def test_yuan_parses_plain_amounts():
    assert yuan("1234.5") == Decimal("1234.50")
    assert yuan(" 1234 ") == Decimal("1234.00")
    assert yuan("1.500") == Decimal("1.50")  # trailing zeros are not precision
    assert yuan(Decimal("7")) == Decimal("7.00")
    assert str(yuan("-0.00", allow_negative=True)) == "0.00"
    assert yuan("-3.10", allow_negative=True) == Decimal("-3.10")


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (1.5, "money_format"),
        (True, "money_format"),
        (None, "money_format"),
        ("1.005", "money_places"),
        (Decimal("0.001"), "money_places"),
        ("", "money_format"),
        ("abc", "money_format"),
        ("1e3", "money_format"),
        ("1,000", "money_format"),
        (".5", "money_format"),
        ("NaN", "money_format"),
        (Decimal("NaN"), "money_format"),
        (Decimal("Infinity"), "money_format"),
        ("-1", "money_range"),
        ("1" * 40, "money_range"),
    ],
)
def test_yuan_refuses_naming_the_field(value, rule):
    with pytest.raises(InvalidInput) as refused:
        yuan(value, field="bid_price")
    assert refused.value.field == "bid_price"
    assert refused.value.rule == rule


def test_to_fen_refuses_fractions_of_a_fen():
    with pytest.raises(ValueError):
        to_fen(Decimal("1.005"))
    assert to_fen(Decimal("1.50")) == 150
    assert to_fen(Decimal("2")) == 200
    with pytest.raises(TypeError):
        from_fen(True)


def test_format_yuan():
    assert format_yuan(Decimal("1234.5"), "en") == "¥1,234.50"
    assert format_yuan(Decimal("1234.5"), "zh-hans") == "1,234.50 元"
    assert format_yuan(Decimal("-1234.5"), "en") == "-¥1,234.50"
    assert format_yuan(Decimal("0"), "zh-hans") == "0.00 元"
    assert format_yuan(Decimal("4000000"), "en") == "¥4,000,000.00"
    with translation.override("en"):
        assert format_yuan(Decimal("1.2")) == "¥1.20"
    with translation.override("zh-hans"):
        assert format_yuan(Decimal("1.2")) == "1.20 元"
