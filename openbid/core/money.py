"""Money: ``Decimal`` yuan (元) with two places, integer fen (分) for storage, explicit rounding.

Floats never carry money: ``yuan`` refuses them. Every rounding names its mode; the default is
ROUND_HALF_UP (四舍五入), the convention of Chinese bookkeeping. A cap computed from a percentage
(a bid deposit of at most 2% of the estimated price) should round *down* so the cap is never
exceeded: ``percent_of(price, 2, rounding=ROUND_DOWN)``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from django.utils import translation
from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput
from openbid.core.fields import label

FEN = Decimal("0.01")
# Largest amount accepted: fits a DecimalField(max_digits=17, decimal_places=2) and a 64-bit fen.
MAX_YUAN = Decimal("999999999999999.99")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def yuan(
    value: str | int | Decimal, *, field: str = "amount", allow_negative: bool = False
) -> Decimal:
    """Parse an amount in yuan (``"1234.5"``, ``1234``, ``Decimal("1234.50")``) exactly.

    Returns a ``Decimal`` with two places. Refuses, with ``InvalidInput`` naming ``field``: a
    float (binary floats cannot hold fen exactly), anything that is not a plain decimal number,
    more than two decimal places (after trailing zeros), a negative amount unless allowed, and
    amounts above ``MAX_YUAN``.
    """
    if isinstance(value, bool | float):
        raise InvalidInput(
            _("%(field)s must be given as a decimal number, not a floating-point number.")
            % {"field": label(field)},
            field=field,
            rule="money_format",
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _not_a_number(field, value)
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            raise _not_a_number(field, value)
        amount = Decimal(text)
    else:
        raise _not_a_number(field, value)
    if abs(amount) > MAX_YUAN:
        raise InvalidInput(
            _("%(field)s is larger than the largest amount the platform accepts.")
            % {"field": label(field)},
            field=field,
            rule="money_range",
        )
    quantized = amount.quantize(FEN)
    if quantized != amount:
        raise InvalidInput(
            _("%(field)s has more than two decimal places: amounts are in yuan and fen.")
            % {"field": label(field)},
            field=field,
            rule="money_places",
        )
    if quantized < 0 and not allow_negative:
        raise InvalidInput(
            _("%(field)s cannot be negative.") % {"field": label(field)},
            field=field,
            rule="money_range",
        )
    if quantized.is_zero():
        return Decimal("0.00")  # never "-0.00"
    return quantized


def _not_a_number(field: str, value: object) -> InvalidInput:
    return InvalidInput(
        _("%(field)s is not an amount in yuan: %(value)s.") % {"field": field, "value": value},
        field=field,
        rule="money_format",
    )


def to_fen(amount: Decimal) -> int:
    """The amount in whole fen. Round first: fractions of a fen are a ``ValueError``."""
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} has fractions of a fen; round it explicitly first")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """Whole fen as yuan with two places."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be an int, got {type(fen).__name__}")
    return Decimal(fen).scaleb(-2).quantize(FEN)


def round_yuan(amount: Decimal, places: int = 2, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``amount`` rounded to ``places`` decimal places of a yuan with the named rounding mode."""
    if places < 0:
        raise ValueError("places must be 0 or more")
    with localcontext() as ctx:
        ctx.prec = 60
        return amount.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def percent_of(
    amount: Decimal,
    percent: Decimal | int | str,
    *,
    places: int = 2,
    rounding: str = ROUND_HALF_UP,
) -> Decimal:
    """``percent`` % of ``amount``, computed exactly and then rounded once with ``rounding``."""
    if isinstance(percent, bool | float):
        raise TypeError("percent must be a Decimal, int or str, not a float")
    try:
        pct = Decimal(percent)
    except InvalidOperation:
        raise ValueError(f"not a percentage: {percent!r}") from None
    with localcontext() as ctx:
        ctx.prec = 60
        exact = (amount * pct).scaleb(-2)
        return exact.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def format_yuan(amount: Decimal, lang: str | None = None) -> str:
    """``¥1,234.50`` in English, ``1,234.50 元`` in Chinese (the active language by default)."""
    lang = (lang or translation.get_language() or "zh-hans").lower()
    q = round_yuan(amount)
    sign = "-" if q < 0 else ""
    digits = f"{abs(q):,.2f}"
    if lang.startswith("zh"):
        return f"{sign}{digits} 元"
    return f"{sign}¥{digits}"
