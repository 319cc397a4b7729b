"""The credit policy as data: the score model and the effects of grades (``policy.toml``).

The file beside this module is the default; ``OPENBID_CREDIT_POLICY`` names another. It is checked
when it is loaded — unknown fields, floats, a missing points entry for a category a source allows,
thresholds out of order — and a broken file refuses to load, so a typo cannot become a wrong
grade. Each table is versioned by ``in_force_from``; ``model(on)`` and friends return the version
in force on a day.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openbid.credit.models import GOOD_ONLY_SOURCES, NEGATIVE_ONLY_SOURCES, Category, Grade, Source

DEFAULT_PATH = Path(__file__).with_name("policy.toml")
GRADES = tuple(Grade.values)  # best first
DECAYS = frozenset({"none", "linear"})


class PolicyError(ValueError):
    """The credit policy file is malformed; the message names the file, the entry and the fault."""


def allowed_categories(source: str) -> tuple[str, ...]:
    """The categories a record of ``source`` may have (a commendation is always good news)."""
    if source in GOOD_ONLY_SOURCES:
        return (Category.GOOD.value,)
    if source in NEGATIVE_ONLY_SOURCES:
        return (Category.MINOR.value, Category.ORDINARY.value, Category.SERIOUS.value)
    return tuple(Category.values)


@dataclass(frozen=True)
class ScoreModel:
    version: str
    in_force_from: dt.date
    basis: str
    checked: bool
    base: Decimal
    floor: Decimal
    ceiling: Decimal
    decay: str
    positive_cap: Decimal
    listed_grade: str
    points: dict[str, dict[str, Decimal]]
    grades: tuple[tuple[str, Decimal], ...]  # highest first

    def points_for(self, source: str, category: str) -> Decimal:
        return self.points[source][category]

    def grade_for(self, score: Decimal) -> str:
        for grade, minimum in self.grades:
            if score >= minimum:
                return grade
        return self.grades[-1][0]  # pragma: no cover - the last threshold is the floor


@dataclass(frozen=True)
class DepositPolicy:
    region: str
    in_force_from: dt.date
    basis: str
    checked: bool
    sme_exempt: bool
    reduction_percent: dict[str, Decimal]


@dataclass(frozen=True)
class EvaluationPolicy:
    in_force_from: dt.date
    basis: str
    checked: bool
    share_percent: dict[str, Decimal]


@dataclass(frozen=True)
class InspectionPolicy:
    in_force_from: dt.date
    basis: str
    checked: bool
    weight: dict[str, Decimal]


@dataclass(frozen=True)
class Policy:
    models: tuple[ScoreModel, ...]
    deposits: tuple[DepositPolicy, ...]
    evaluations: tuple[EvaluationPolicy, ...]
    inspections: tuple[InspectionPolicy, ...]


class _Checker:
    def __init__(self, source: str, where: str) -> None:
        self.source = source
        self.where = where

    def fail(self, problem: str) -> PolicyError:
        return PolicyError(f"{self.source}: {self.where}: {problem}")

    def fields(self, entry: Any, required: set[str], optional: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        if not isinstance(entry, dict):
            raise self.fail("must be a table")
        missing = sorted(required - set(entry))
        if missing:
            raise self.fail(f"missing {', '.join(missing)}")
        unknown = sorted(set(entry) - required - set(optional))
        if unknown:
            raise self.fail(f"unknown field {', '.join(unknown)}")

    def number(
        self, raw: Any, name: str, *, low: Decimal | None = None, high: Decimal | None = None
    ) -> Decimal:
        if not isinstance(raw, str):
            raise self.fail(f"{name} must be a decimal written as a string, never a float")
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise self.fail(f"{name} {raw!r} is not a number") from None
        if not value.is_finite():
            raise self.fail(f"{name} must be finite")
        if low is not None and value < low:
            raise self.fail(f"{name} must be at least {low}")
        if high is not None and value > high:
            raise self.fail(f"{name} must be at most {high}")
        return value

    def date(self, raw: Any, name: str) -> dt.date:
        if isinstance(raw, dt.datetime) or not isinstance(raw, dt.date):
            raise self.fail(f"{name} must be a TOML date (YYYY-MM-DD)")
        return raw

    def text(self, raw: Any, name: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(f"{name} must be a non-empty string")
        return raw.strip()

    def flag(self, raw: Any, name: str) -> bool:
        if not isinstance(raw, bool):
            raise self.fail(f"{name} must be true or false")
        return raw

    def by_grade(
        self, raw: Any, name: str, *, low: Decimal, high: Decimal | None
    ) -> dict[str, Decimal]:
        if not isinstance(raw, dict) or set(raw) != set(GRADES):
            raise self.fail(f"{name} must give exactly the grades {', '.join(GRADES)}")
        return {g: self.number(raw[g], f"{name}.{g}", low=low, high=high) for g in GRADES}


_COMMON = {"in_force_from", "basis", "checked"}


def _model(entry: Any, index: int, source: str) -> ScoreModel:
    c = _Checker(source, f"model #{index + 1}")
    c.fields(
        entry,
        _COMMON
        | {
            "version",
            "base",
            "floor",
            "ceiling",
            "decay",
            "positive_cap",
            "listed_grade",
            "points",
            "grades",
        },
    )
    floor = c.number(entry["floor"], "floor")
    ceiling = c.number(entry["ceiling"], "ceiling", low=floor)
    base = c.number(entry["base"], "base", low=floor, high=ceiling)
    if entry["decay"] not in DECAYS:
        raise c.fail(f"decay must be one of {', '.join(sorted(DECAYS))}")
    if entry["listed_grade"] not in GRADES:
        raise c.fail(f"listed_grade must be one of {', '.join(GRADES)}")
    points_raw = entry["points"]
    if not isinstance(points_raw, dict):
        raise c.fail("points must be a table of sources")
    unknown = sorted(set(points_raw) - set(Source.values))
    if unknown:
        raise c.fail(f"points: unknown source {', '.join(unknown)}")
    points: dict[str, dict[str, Decimal]] = {}
    for src in Source.values:
        allowed = allowed_categories(src)
        given = points_raw.get(src)
        if not isinstance(given, dict) or set(given) != set(allowed):
            raise c.fail(f"points.{src} must give exactly the categories {', '.join(allowed)}")
        points[src] = {}
        for cat in allowed:
            value = c.number(given[cat], f"points.{src}.{cat}")
            if (cat == Category.GOOD) != (value > 0) and value != 0:
                raise c.fail(f"points.{src}.{cat}: good news adds points, dishonesty deducts them")
            points[src][cat] = value
    grades_raw = entry["grades"]
    if not isinstance(grades_raw, list) or [
        g.get("grade") for g in grades_raw if isinstance(g, dict)
    ] != list(GRADES):
        raise c.fail(f"grades must list {', '.join(GRADES)} in that order")
    grades = []
    for g in grades_raw:
        c.fields(g, {"grade", "min"})
        grades.append((g["grade"], c.number(g["min"], f"grades.{g['grade']}.min")))
    for (upper, high), (lower, low) in itertools.pairwise(grades):
        if not high > low:
            raise c.fail(f"grades: the minimum of {upper} must be above that of {lower}")
    if grades[-1][1] > floor:
        raise c.fail(f"grades: the minimum of {grades[-1][0]} must not be above the floor")
    return ScoreModel(
        version=c.text(entry["version"], "version"),
        in_force_from=c.date(entry["in_force_from"], "in_force_from"),
        basis=c.text(entry["basis"], "basis"),
        checked=c.flag(entry["checked"], "checked"),
        base=base,
        floor=floor,
        ceiling=ceiling,
        decay=entry["decay"],
        positive_cap=c.number(entry["positive_cap"], "positive_cap", low=Decimal(0)),
        listed_grade=entry["listed_grade"],
        points=points,
        grades=tuple(grades),
    )


def _deposit(entry: Any, index: int, source: str) -> DepositPolicy:
    c = _Checker(source, f"deposit #{index + 1}")
    c.fields(entry, _COMMON | {"region", "sme_exempt", "reduction_percent"})
    region = c.text(entry["region"], "region")
    if region != "*" and not (len(region) == 6 and region.isdigit()):
        raise c.fail("region must be a six-digit GB/T 2260 code or *")
    return DepositPolicy(
        region=region,
        in_force_from=c.date(entry["in_force_from"], "in_force_from"),
        basis=c.text(entry["basis"], "basis"),
        checked=c.flag(entry["checked"], "checked"),
        sme_exempt=c.flag(entry["sme_exempt"], "sme_exempt"),
        reduction_percent=c.by_grade(
            entry["reduction_percent"], "reduction_percent", low=Decimal(0), high=Decimal(100)
        ),
    )


def _evaluation(entry: Any, index: int, source: str) -> EvaluationPolicy:
    c = _Checker(source, f"evaluation #{index + 1}")
    c.fields(entry, _COMMON | {"share_percent"})
    return EvaluationPolicy(
        in_force_from=c.date(entry["in_force_from"], "in_force_from"),
        basis=c.text(entry["basis"], "basis"),
        checked=c.flag(entry["checked"], "checked"),
        share_percent=c.by_grade(
            entry["share_percent"], "share_percent", low=Decimal(0), high=Decimal(100)
        ),
    )


def _inspection(entry: Any, index: int, source: str) -> InspectionPolicy:
    c = _Checker(source, f"inspection #{index + 1}")
    c.fields(entry, _COMMON | {"weight"})
    return InspectionPolicy(
        in_force_from=c.date(entry["in_force_from"], "in_force_from"),
        basis=c.text(entry["basis"], "basis"),
        checked=c.flag(entry["checked"], "checked"),
        weight=c.by_grade(entry["weight"], "weight", low=Decimal(0), high=None),
    )


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Parse and check a credit policy in TOML; a ``PolicyError`` says what is wrong where."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
    tables: dict[str, Any] = {
        "model": _model,
        "deposit": _deposit,
        "evaluation": _evaluation,
        "inspection": _inspection,
    }
    unknown = sorted(set(data) - set(tables))
    if unknown:
        raise PolicyError(f"{source}: unknown top-level entry {', '.join(unknown)}")
    parsed: dict[str, tuple[Any, ...]] = {}
    for name, parse in tables.items():
        entries = data.get(name)
        if not isinstance(entries, list) or not entries:
            raise PolicyError(f"{source}: at least one [[{name}]] is needed")
        items: list[Any] = [parse(e, i, source) for i, e in enumerate(entries)]
        seen: set[tuple[str, dt.date]] = set()
        for item in items:
            key = (getattr(item, "region", ""), item.in_force_from)
            if key in seen:
                raise PolicyError(
                    f"{source}: two [[{name}]] versions in force from {item.in_force_from}"
                    + (f" for region {key[0]}" if key[0] else "")
                )
            seen.add(key)
        parsed[name] = tuple(sorted(items, key=lambda i: i.in_force_from))
    if not any(d.region == "*" for d in parsed["deposit"]):
        raise PolicyError(f"{source}: a [[deposit]] for region * is needed")
    return Policy(
        models=parsed["model"],
        deposits=parsed["deposit"],
        evaluations=parsed["evaluation"],
        inspections=parsed["inspection"],
    )


def policy_path() -> Path:
    configured = os.environ.get("OPENBID_CREDIT_POLICY", "").strip()
    return Path(configured) if configured else DEFAULT_PATH


@functools.cache
def load_policy() -> Policy:
    """The platform's credit policy, read and checked once per process."""
    path = policy_path()
    return parse_policy(path.read_text(encoding="utf-8"), source=path.name)


def _in_force(items: tuple[Any, ...], on: dt.date, what: str) -> Any:
    found = [i for i in items if i.in_force_from <= on]
    if not found:
        raise PolicyError(f"no {what} of the credit policy is in force on {on.isoformat()}")
    return found[-1]


def model(on: dt.date) -> ScoreModel:
    """The score model in force on ``on``."""
    return _in_force(load_policy().models, on, "score model")


def deposit_policy(region_code: str, on: dt.date) -> DepositPolicy:
    """The deposit policy for a GB/T 2260 region: its own, its city's, its province's, or *."""
    deposits = load_policy().deposits
    code = (region_code or "").strip()
    candidates = [code, code[:4] + "00", code[:2] + "0000"] if len(code) == 6 else []
    for candidate in [*candidates, "*"]:
        matching = tuple(d for d in deposits if d.region == candidate and d.in_force_from <= on)
        if matching:
            return matching[-1]
    raise PolicyError(f"no deposit policy is in force on {on.isoformat()}")


def evaluation_policy(on: dt.date) -> EvaluationPolicy:
    return _in_force(load_policy().evaluations, on, "evaluation policy")


def inspection_policy(on: dt.date) -> InspectionPolicy:
    return _in_force(load_policy().inspections, on, "inspection policy")
