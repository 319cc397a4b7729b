"""The statutory rules table: periods, caps and thresholds as data, with their articles.

The table is ``statutory.toml`` beside this file (its header explains the fields). A rule may have
several versions with different ``in_force_from`` dates, because laws change: code asks for the
version in force on the day that matters (a tender keeps the rules in force when it was
published)::

    period = rule("bid_period_min", on=tender.published_on)   # Rule(value=Decimal("20"), ...)

The file is checked when it is loaded (unknown fields or units, floats, a key's versions that
share a date or overlap) and a broken table refuses to load at all, so a typo cannot become a wrong
deadline. It is read once per process.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import tomllib
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy

from openbid.core import clock

TABLE_PATH = Path(__file__).with_name("statutory.toml")

UNITS = frozenset(
    {"calendar_days", "working_days", "percent", "yuan", "count", "years", "months", "none"}
)
KINDS = frozenset({"statutory", "target"})
BOUNDS = frozenset({"min", "max", "exact"})

_REQUIRED = ("key", "title", "title_zh", "unit", "article", "in_force_from", "checked", "kind")
_OPTIONAL = ("value", "bound", "in_force_until", "section", "note")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_FRACTION = re.compile(r"([+-]?\d+)/(\d+)")
_DECIMAL = re.compile(r"[+-]?\d+(?:\.\d+)?")


class RulesTableError(ValueError):
    """The rules table is malformed; it names the file, the entry and what is wrong."""


class RuleNotFound(LookupError):
    """No rule with this key, or no version of it in force on the date asked about."""

    def __init__(self, message: str, *, key: str, on: dt.date | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.on = on

    def __str__(self) -> str:
        return str(self.args[0])


_UNIT_LABELS = {
    "calendar_days": gettext_lazy("days"),
    "working_days": gettext_lazy("working days"),
    "percent": "%",
    "yuan": gettext_lazy("yuan"),
    "years": gettext_lazy("years"),
    "months": gettext_lazy("months"),
}


@dataclass(frozen=True)
class Rule:
    """One version of one rule.

    ``value`` is a ``Decimal`` in ``unit`` (``None`` for a qualitative rule). ``fraction`` is the
    same value exactly; it differs from ``value`` only for a value such as two thirds, which no
    decimal holds: ``value`` is then rounded to 6 places and comparisons must use ``fraction``.
    """

    key: str
    title: str
    title_zh: str
    value: Decimal | None
    unit: str
    article: str
    in_force_from: dt.date
    in_force_until: dt.date | None = None
    checked: bool = True
    kind: str = "statutory"
    bound: str | None = None
    section: str = ""
    note: str = ""
    fraction: Fraction | None = None

    def in_force_on(self, on: dt.date) -> bool:
        return self.in_force_from <= on and (
            self.in_force_until is None or on <= self.in_force_until
        )

    @property
    def int_value(self) -> int:
        """The value as an ``int`` (days, counts); a ``ValueError`` if it is not a whole number."""
        if self.fraction is None or self.fraction.denominator != 1:
            raise ValueError(f"rule {self.key} has no whole-number value")
        return int(self.fraction)

    @property
    def ratio(self) -> Fraction:
        """A percent rule as an exact ratio (``2%`` → ``1/50``)."""
        if self.unit != "percent" or self.fraction is None:
            raise ValueError(f"rule {self.key} is not a percentage")
        return self.fraction / 100

    @property
    def display_value(self) -> str:
        """The value as a person reads it: "≥ 20 days", "≤ 2%", "3 working days", or "—"."""
        if self.fraction is None:
            return "—"
        number = (
            str(int(self.fraction))
            if self.fraction.denominator == 1
            else f"{self.fraction.numerator}/{self.fraction.denominator}"
        )
        unit = str(_UNIT_LABELS.get(self.unit, ""))
        text = f"{number}{unit}" if self.unit == "percent" else f"{number} {unit}".strip()
        prefix = {"min": "≥ ", "max": "≤ "}.get(self.bound or "", "")
        return prefix + text

    def localized_title(self, lang: str | None = None) -> str:
        """The title in ``lang`` (the active language by default): Chinese, else English."""
        lang = (lang or translation.get_language() or "zh-hans").lower()
        return self.title_zh if lang.startswith("zh") else self.title


@dataclass(frozen=True)
class RulesTable:
    """All versions of all rules, by key, oldest version first, in the file's order of keys."""

    versions: dict[str, tuple[Rule, ...]]

    def rule(self, key: str, on: dt.date) -> Rule:
        found = self.versions.get(key)
        if found is None:
            raise RuleNotFound(f"unknown statutory rule {key!r}", key=key)
        for version in found:
            if version.in_force_on(on):
                return version
        spans = ", ".join(
            f"{v.in_force_from.isoformat()}–{(v.in_force_until or '')!s}" for v in found
        )
        raise RuleNotFound(
            f"rule {key!r} has no version in force on {on.isoformat()} (versions: {spans})",
            key=key,
            on=on,
        )

    def all_rules(self, on: dt.date) -> list[Rule]:
        return [v for versions in self.versions.values() for v in versions if v.in_force_on(on)]


def _fail(source: str, index: int, key: Any, problem: str) -> RulesTableError:
    return RulesTableError(f"{source}: rule #{index + 1} ({key or 'no key'}): {problem}")


def _parse_value(raw: Any, err: Any) -> tuple[Decimal | None, Fraction | None]:
    if raw is None:
        return None, None
    if isinstance(raw, bool | float):
        raise err("value must be an integer or a string, never a float or a boolean")
    if isinstance(raw, int):
        return Decimal(raw), Fraction(raw)
    if not isinstance(raw, str):
        raise err(f"value has an unsupported type {type(raw).__name__}")
    text = raw.strip()
    if m := _FRACTION.fullmatch(text):
        denominator = int(m.group(2))
        if denominator == 0:
            raise err("value divides by zero")
        exact = Fraction(int(m.group(1)), denominator)
        decimal = Decimal(exact.numerator) / Decimal(exact.denominator)
        if Fraction(decimal) != exact:  # not a terminating decimal (two thirds)
            decimal = decimal.quantize(Decimal("1e-6"))
        return decimal, exact
    if _DECIMAL.fullmatch(text):
        try:
            decimal = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise err(f"value {raw!r} is not a number") from None
        return decimal, Fraction(decimal)
    raise err(f"value {raw!r} is neither a decimal nor a fraction")


def _parse_date(raw: Any, name: str, err: Any) -> dt.date:
    if isinstance(raw, dt.datetime) or not isinstance(raw, dt.date):
        raise err(f"{name} must be a TOML date (YYYY-MM-DD)")
    return raw


def _parse_entry(entry: Any, index: int, source: str) -> Rule:
    key = entry.get("key") if isinstance(entry, dict) else None

    def err(problem: str) -> RulesTableError:
        return _fail(source, index, key, problem)

    if not isinstance(entry, dict):
        raise err("each rule must be a table ([[rule]])")
    missing = [f for f in _REQUIRED if f not in entry]
    if missing:
        raise err(f"missing {', '.join(missing)}")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise err(f"unknown field {', '.join(unknown)}")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise err("key must be lower_snake_case")
    for name in ("title", "title_zh", "article"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise err(f"{name} must be a non-empty string")
    for name in ("section", "note"):
        if not isinstance(entry.get(name, ""), str):
            raise err(f"{name} must be a string")
    if entry["unit"] not in UNITS:
        raise err(f"unknown unit {entry['unit']!r} (units: {', '.join(sorted(UNITS))})")
    if entry["kind"] not in KINDS:
        raise err(f"unknown kind {entry['kind']!r} (kinds: {', '.join(sorted(KINDS))})")
    bound = entry.get("bound")
    if bound is not None and bound not in BOUNDS:
        raise err(f"unknown bound {bound!r} (bounds: {', '.join(sorted(BOUNDS))})")
    if not isinstance(entry["checked"], bool):
        raise err("checked must be true or false")
    value, fraction = _parse_value(entry.get("value"), err)
    if value is None and bound is not None:
        raise err("a rule without a value cannot have a bound")
    start = _parse_date(entry["in_force_from"], "in_force_from", err)
    until = entry.get("in_force_until")
    end = _parse_date(until, "in_force_until", err) if until is not None else None
    if end is not None and end < start:
        raise err("in_force_until is before in_force_from")
    return Rule(
        key=key,
        title=entry["title"].strip(),
        title_zh=entry["title_zh"].strip(),
        value=value,
        unit=entry["unit"],
        article=entry["article"].strip(),
        in_force_from=start,
        in_force_until=end,
        checked=entry["checked"],
        kind=entry["kind"],
        bound=bound,
        section=entry.get("section", ""),
        note=entry.get("note", ""),
        fraction=fraction,
    )


def parse_rules(text: str, source: str = "<rules>") -> RulesTable:
    """Parse and check a rules table in TOML; a ``RulesTableError`` says what is wrong where."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesTableError(f"{source}: not valid TOML: {exc}") from exc
    extra = sorted(set(data) - {"rule"})
    if extra:
        raise RulesTableError(f"{source}: unknown top-level entry {', '.join(extra)}")
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise RulesTableError(f"{source}: rules must be an array of tables ([[rule]])")
    by_key: dict[str, list[Rule]] = {}
    for index, entry in enumerate(entries):
        parsed = _parse_entry(entry, index, source)
        by_key.setdefault(parsed.key, []).append(parsed)
    versions: dict[str, tuple[Rule, ...]] = {}
    for key, found in by_key.items():
        found.sort(key=lambda r: r.in_force_from)
        for earlier, later in itertools.pairwise(found):
            if earlier.in_force_from == later.in_force_from:
                raise RulesTableError(
                    f"{source}: rule {key!r} has two versions in force from "
                    f"{later.in_force_from.isoformat()}"
                )
            # An earlier version without an end ends the day before the next one starts.
            if earlier.in_force_until is not None and earlier.in_force_until >= later.in_force_from:
                raise RulesTableError(
                    f"{source}: rule {key!r}: the version from {earlier.in_force_from.isoformat()} "
                    f"(until {earlier.in_force_until.isoformat()}) overlaps the version from "
                    f"{later.in_force_from.isoformat()}"
                )
        closed = [
            r
            if r.in_force_until is not None or i + 1 == len(found)
            else _with_until(r, found[i + 1].in_force_from - dt.timedelta(days=1))
            for i, r in enumerate(found)
        ]
        versions[key] = tuple(closed)
    return RulesTable(versions=versions)


def _with_until(rule: Rule, until: dt.date) -> Rule:
    return replace(rule, in_force_until=until)


@functools.cache
def load_table() -> RulesTable:
    """The platform's rules table, read and checked once per process."""
    return parse_rules(TABLE_PATH.read_text(encoding="utf-8"), source=TABLE_PATH.name)


def rule(key: str, on: dt.date | None = None) -> Rule:
    """The version of rule ``key`` in force on ``on`` (today, China time, by default).

    Raises ``RuleNotFound`` for an unknown key or a date on which no version is in force.
    """
    return load_table().rule(key, on if on is not None else clock.today())


def all_rules(on: dt.date | None = None) -> list[Rule]:
    """Every rule in force on ``on`` (today by default), in the table's order."""
    return load_table().all_rules(on if on is not None else clock.today())


def versions(key: str) -> tuple[Rule, ...]:
    """Every version of rule ``key``, oldest first."""
    found = load_table().versions.get(key)
    if found is None:
        raise RuleNotFound(f"unknown statutory rule {key!r}", key=key)
    return found


__all__ = [
    "Rule",
    "RuleNotFound",
    "RulesTable",
    "RulesTableError",
    "all_rules",
    "load_table",
    "parse_rules",
    "rule",
    "versions",
]
