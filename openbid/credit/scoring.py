"""Scores and grades, with their working.

``compute`` is pure: records in, a ``Working`` out that lists every record considered, whether it
counts and why, its points, and the arithmetic from the base score to the grade. ``working_for``
reads a subject's records and computes it for a day. Points are ``Decimal`` with two places,
rounded half up at each step shown (a line's points, the total), so what a page shows adds up
exactly to the score.

The model (``policy.ScoreModel``): score = base + additions (at most ``positive_cap`` in total)
+ deductions, kept between floor and ceiling; a record counts from the first to the last day of
its validity period and not at all after it (with ``decay = "linear"`` its points fade evenly to
zero over the period); superseded, revoked and repaired records never count. A subject on the
serious-dishonesty list on that day gets ``listed_grade`` whatever its score.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openbid.credit.policy import ScoreModel

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(value: Decimal) -> Decimal:
    """Two places, half up: the only rounding of scores."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RecordFacts:
    """What scoring needs to know of a record (a ``CreditRecord`` or a test's stand-in)."""

    ref: str
    title: str
    source: str
    category: str
    valid_from: dt.date
    valid_until: dt.date
    status: str = "active"
    serious_list: bool = False
    is_public: bool = True
    pk: int | None = None

    @property
    def source_label(self) -> str:
        from openbid.credit.models import Source

        return str(Source(self.source).label)

    @property
    def category_label(self) -> str:
        from openbid.credit.models import Category

        return str(Category(self.category).label)


@dataclass(frozen=True)
class Line:
    """One record in the working: its nominal points, the weight it has today, what it adds."""

    record: RecordFacts
    counts: bool
    reason: str  # in_effect | not_yet | expired | superseded | revoked | repaired
    nominal: Decimal
    weight: Decimal
    points: Decimal


@dataclass(frozen=True)
class Working:
    on: dt.date
    model: ScoreModel
    lines: tuple[Line, ...]
    additions: Decimal
    additions_counted: Decimal
    deductions: Decimal
    raw: Decimal
    score: Decimal
    score_grade: str
    grade: str
    listed_by: tuple[RecordFacts, ...] = field(default=())

    @property
    def counted(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.counts)

    @property
    def not_counted(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if not line.counts)

    @property
    def capped(self) -> bool:
        return self.additions_counted != self.additions

    @property
    def clamped(self) -> bool:
        return self.score != self.raw

    @property
    def listed(self) -> bool:
        return bool(self.listed_by)


def _weight(model: ScoreModel, record: RecordFacts, on: dt.date) -> Decimal:
    if model.decay == "none":
        return Decimal(1)
    total = (record.valid_until - record.valid_from).days + 1
    left = (record.valid_until - on).days + 1
    return quantize(Decimal(left) / Decimal(total))


def line_for(model: ScoreModel, record: RecordFacts, on: dt.date) -> Line:
    nominal = quantize(model.points_for(record.source, record.category))
    if record.status != "active":
        reason = record.status
    elif on < record.valid_from:
        reason = "not_yet"
    elif on > record.valid_until:
        reason = "expired"
    else:
        weight = _weight(model, record, on)
        return Line(record, True, "in_effect", nominal, weight, quantize(nominal * weight))
    return Line(record, False, reason, nominal, ZERO, ZERO)


def compute(model: ScoreModel, records: Iterable[RecordFacts], on: dt.date) -> Working:
    """The score and grade on ``on`` from ``records`` under ``model``, with the working."""
    lines = tuple(line_for(model, r, on) for r in records)
    additions = sum((ln.points for ln in lines if ln.points > 0), ZERO)
    deductions = sum((ln.points for ln in lines if ln.points < 0), ZERO)
    additions_counted = min(additions, quantize(model.positive_cap))
    raw = quantize(model.base + additions_counted + deductions)
    score = min(max(raw, quantize(model.floor)), quantize(model.ceiling))
    score_grade = model.grade_for(score)
    listed_by = tuple(
        ln.record
        for ln in lines
        if ln.record.serious_list and ln.record.status == "active" and ln.reason == "in_effect"
    )
    grade = score_grade
    if listed_by and _rank(model.listed_grade) > _rank(score_grade):
        grade = model.listed_grade
    return Working(
        on=on,
        model=model,
        lines=lines,
        additions=additions,
        additions_counted=additions_counted,
        deductions=deductions,
        raw=raw,
        score=score,
        score_grade=score_grade,
        grade=grade,
        listed_by=listed_by,
    )


def _rank(grade: str) -> int:
    from openbid.credit.policy import GRADES

    return GRADES.index(grade)


def facts_of(record: Any) -> RecordFacts:
    return RecordFacts(
        ref=record.number,
        title=record.title,
        source=record.source,
        category=record.category,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        status=record.status,
        serious_list=record.serious_list,
        is_public=record.is_public,
        pk=record.pk,
    )


def working_for(subject: Any, on: dt.date | None = None) -> Working:
    """The working of ``subject`` (a ``CreditSubject`` or ``None`` for one without records)."""
    from openbid.core import clock
    from openbid.credit import policy

    day = on or clock.today()
    records = list(subject.records.order_by("valid_from", "id")) if subject is not None else []
    return compute(policy.model(day), [facts_of(r) for r in records], day)
