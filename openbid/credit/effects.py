"""What a credit grade does elsewhere: the interface other contexts read (信用好不打扰、信用差多检查).

Three questions, each answered from the grade on a day and the credit policy in force then
(``policy.toml``), each answer carrying its reason so the caller can show it:

* ``deposit_for`` — the bid deposit a bidder pays: SMEs and AAA bidders are exempt by default,
  AA and A get reductions; configurable per region (GB/T 2260).
* ``evaluation_credit_points`` — the credit component of an evaluation score: the tender's credit
  points times the share the bidder's grade earns.
* ``inspection_weight`` — how much more (or less) likely a subject is drawn in a random
  inspection (双随机抽查).

Money is ``Decimal`` yuan rounded half up to the fen; points to two places. Nothing calls these
yet; the deposit, evaluation and supervision contexts will.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openbid.core import clock
from openbid.credit import policy
from openbid.credit.scoring import Working, working_for

FEN = Decimal("0.01")
HUNDRED = Decimal(100)


def _grade(subject_or_working: Any, on: dt.date) -> Working:
    if isinstance(subject_or_working, Working):
        return subject_or_working
    from openbid.accounts.models import Organisation
    from openbid.credit.models import CreditSubject

    subject = subject_or_working
    if isinstance(subject, Organisation):
        subject = CreditSubject.objects.filter(organisation=subject).first()
    return working_for(subject, on)


@dataclass(frozen=True)
class DepositDecision:
    grade: str
    base_amount: Decimal
    reduction_percent: Decimal
    amount_due: Decimal
    exempt: bool
    reason: str  # sme_exempt | grade_exempt | grade_reduction | no_reduction
    region: str  # the policy's region ("*" for the default)
    basis: str


def deposit_for(
    entity: Any,
    amount: Decimal,
    *,
    region_code: str,
    sme: bool = False,
    on: dt.date | None = None,
) -> DepositDecision:
    """The bid deposit ``entity`` (an organisation, a credit subject, or a computed ``Working``)
    pays on a deposit of ``amount`` yuan under the policy of ``region_code``."""
    day = on or clock.today()
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise ValueError("amount must be a finite, non-negative Decimal")
    working = _grade(entity, day)
    rule = policy.deposit_policy(region_code, day)
    base = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    if sme and rule.sme_exempt:
        percent, reason = HUNDRED, "sme_exempt"
    else:
        percent = rule.reduction_percent[working.grade]
        reason = (
            "grade_exempt"
            if percent == HUNDRED
            else "grade_reduction"
            if percent > 0
            else "no_reduction"
        )
    waived = (base * percent / HUNDRED).quantize(FEN, rounding=ROUND_HALF_UP)
    due = base - waived
    return DepositDecision(
        grade=working.grade,
        base_amount=base,
        reduction_percent=percent,
        amount_due=due,
        exempt=due == 0,
        reason=reason,
        region=rule.region,
        basis=rule.basis,
    )


@dataclass(frozen=True)
class EvaluationCredit:
    grade: str
    share_percent: Decimal
    max_points: Decimal
    points: Decimal
    basis: str


def evaluation_credit_points(
    entity: Any, max_points: Decimal, *, on: dt.date | None = None
) -> EvaluationCredit:
    """The credit points a bidder earns of the tender's ``max_points`` for credit."""
    day = on or clock.today()
    if not isinstance(max_points, Decimal) or not max_points.is_finite() or max_points < 0:
        raise ValueError("max_points must be a finite, non-negative Decimal")
    working = _grade(entity, day)
    rule = policy.evaluation_policy(day)
    share = rule.share_percent[working.grade]
    points = (max_points * share / HUNDRED).quantize(FEN, rounding=ROUND_HALF_UP)
    return EvaluationCredit(
        grade=working.grade,
        share_percent=share,
        max_points=max_points,
        points=points,
        basis=rule.basis,
    )


@dataclass(frozen=True)
class InspectionWeight:
    grade: str
    weight: Decimal
    basis: str


def inspection_weight(entity: Any, *, on: dt.date | None = None) -> InspectionWeight:
    """The weight of ``entity`` in a weighted random inspection draw (1 is neutral)."""
    day = on or clock.today()
    working = _grade(entity, day)
    rule = policy.inspection_policy(day)
    return InspectionWeight(
        grade=working.grade, weight=rule.weight[working.grade], basis=rule.basis
    )
