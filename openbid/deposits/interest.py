"""Interest on a refunded deposit: the bank's current-deposit rate for the days it was held.

Reg art. 57 (rule ``deposit_refund_after_contract``) refunds deposits "with bank interest for the
same period" (银行同期存款利息). The platform pays interest at the configured annual
current-deposit (活期) rate, ``OPENBID_DEPOSIT_INTEREST_RATE_PERCENT`` (default ``0.35``, the
People's Bank of China benchmark rate for current deposits since 2015-10-24), with:

* **day count actual/360**: the daily rate is the annual rate ÷ 360, as Chinese banks compute
  deposit interest (中国人民银行《人民币利率管理规定》(银发〔1999〕77号) and 《关于人民币存贷款
  计结息问题的通知》(银发〔2005〕129号): 日利率 = 年利率 ÷ 360); ``OPENBID_DEPOSIT_INTEREST_DAY_BASIS``
  may be set to 365 where the bank contract says so;
* **days held** counted "first day in, last day out" (算头不算尾): from the day the money was booked
  to the day before the refund's value date, i.e. ``(value_date - booked_date).days``;
* **one rounding**: the exact product ``principal × rate ÷ 100 × days ÷ basis`` is rounded half up
  (四舍五入) to the fen, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.conf import settings

FEN = Decimal("0.01")


@dataclass(frozen=True)
class Interest:
    principal: Decimal
    rate_percent: Decimal
    day_basis: int
    days: int
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def configured_rate() -> Decimal:
    value = getattr(settings, "OPENBID_DEPOSIT_INTEREST_RATE_PERCENT", "0.35")
    if isinstance(value, float):
        raise ValueError("OPENBID_DEPOSIT_INTEREST_RATE_PERCENT must be a decimal string")
    rate = Decimal(str(value))
    if not rate.is_finite() or rate < 0:
        raise ValueError("OPENBID_DEPOSIT_INTEREST_RATE_PERCENT must be a non-negative decimal")
    return rate


def configured_basis() -> int:
    basis = int(getattr(settings, "OPENBID_DEPOSIT_INTEREST_DAY_BASIS", 360))
    if basis not in (360, 365):
        raise ValueError("OPENBID_DEPOSIT_INTEREST_DAY_BASIS must be 360 or 365")
    return basis


def days_held(booked_on: dt.date, value_date: dt.date) -> int:
    """Days held, first day in and last day out (算头不算尾); never negative."""
    return max(0, (value_date - booked_on).days)


def interest_for(
    principal: Decimal,
    days: int,
    *,
    rate_percent: Decimal | None = None,
    day_basis: int | None = None,
) -> Interest:
    """Interest on ``principal`` yuan held ``days`` days, rounded half up to the fen once."""
    if not isinstance(principal, Decimal) or not principal.is_finite() or principal < 0:
        raise ValueError("principal must be a finite, non-negative Decimal")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError("days must be a non-negative int")
    rate = configured_rate() if rate_percent is None else rate_percent
    basis = configured_basis() if day_basis is None else day_basis
    with localcontext() as ctx:
        ctx.prec = 60
        exact = principal * rate * days / (Decimal(100) * basis)
        amount = exact.quantize(FEN, rounding=ROUND_HALF_UP)
    return Interest(
        principal=principal.quantize(FEN),
        rate_percent=rate,
        day_basis=basis,
        days=days,
        interest=amount + Decimal("0.00"),
    )
