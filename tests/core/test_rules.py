"""The statutory rules table: complete against rules.md, versioned by date, checked on load."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction

import pytest

from openbid.core.rules import (
    UNITS,
    Rule,
    RuleNotFound,
    RulesTableError,
    all_rules,
    load_table,
    parse_rules,
    rule,
    versions,
)

D = dt.date
from tests.reference import RULES_MD  # noqa: E402

CHECK_MARK = "(*check*)"


def rules_md_rows() -> dict[str, dict[str, str]]:
    """Every row of every table in rules.md: key → source, rule text and section heading."""
    rows: dict[str, dict[str, str]] = {}
    section = ""
    previous_source = ""
    for line in RULES_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        key = cells[0]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key) or key == "key":
            continue  # header and separator rows
        source = cells[-1]
        if source == "same":
            source = previous_source
        previous_source = source
        rows[key] = {"source": source, "text": cells[1], "section": section}
    return rows


def test_every_key_of_rules_md_is_in_the_table():
    rows = rules_md_rows()
    assert len(rows) > 60  # the parser found the tables
    assert set(rows) - set(load_table().versions) == set()


def test_articles_checks_and_kinds_follow_rules_md():
    for key, row in rules_md_rows().items():
        found = versions(key)
        article = row["source"].replace(CHECK_MARK, "").strip()
        assert article in {v.article for v in found}, key
        if CHECK_MARK in row["source"]:
            assert not any(v.checked for v in found), key
        is_target = "targets" in row["section"].lower() or row["text"].startswith("Target")
        assert {v.kind for v in found} == {"target" if is_target else "statutory"}, key


def test_every_rule_is_well_formed():
    for found in load_table().versions.values():
        for version in found:
            assert version.unit in UNITS
            assert version.title and version.title_zh and version.article
            assert version.value is None or isinstance(version.value, Decimal)
            if version.value is not None:
                assert version.fraction is not None
                assert abs(Fraction(version.value) - version.fraction) < Fraction(1, 10**6)


def test_values_and_units():
    on = D(2026, 3, 2)
    assert rule("bid_period_min", on=on).value == Decimal(20)
    assert rule("bid_period_min", on=on).int_value == 20
    assert rule("bid_period_min", on=on).unit == "calendar_days"
    assert rule("bid_period_min", on=on).bound == "min"
    assert rule("complaint_decide", on=on).unit == "working_days"
    assert rule("complaint_decide", on=on).value == 30
    assert rule("must_tender_works", on=on).value == Decimal("4000000")
    assert rule("bid_deposit_max_ratio", on=on).ratio == Fraction(1, 50)
    assert rule("gp_retention", on=on).unit == "years"
    assert rule("obtainers_secret", on=on).value is None
    # Two thirds is exact: six experts of nine meet it, five of eight do not.
    experts = rule("experts_share_min", on=on)
    assert experts.ratio == Fraction(2, 3)
    assert Fraction(6, 9) >= experts.ratio
    assert Fraction(5, 8) < experts.ratio


def test_the_version_in_force_on_a_date_is_used(clock):
    assert rule("penalty_display", on=D(2025, 6, 1)).article == "NDRC Order 58 (2023)"
    assert rule("penalty_display", on=D(2026, 3, 31)).article == "NDRC Order 58 (2023)"
    assert rule("penalty_display", on=D(2026, 4, 1)).article.startswith("NDRC Order 36 (2025)")
    # Without a date: today on the platform clock (2 March 2026).
    assert rule("penalty_display").in_force_from == D(2023, 5, 1)
    clock.set("2026-04-01T00:30")
    assert rule("penalty_display").in_force_from == D(2026, 4, 1)
    # A rule that ended is not in force afterwards.
    with pytest.raises(RuleNotFound):
        rule("penalty_display_min_safety", on=D(2026, 4, 1))


def test_all_rules_gives_one_version_per_key():
    in_force = all_rules(on=D(2026, 6, 1))
    keys = [r.key for r in in_force]
    assert len(keys) == len(set(keys))
    assert "bid_period_min" in keys and "penalty_display_min_safety" not in keys


def test_unknown_key_and_dates_before_any_version_are_clear_errors():
    with pytest.raises(RuleNotFound) as unknown:
        rule("bid_period_maximum", on=D(2026, 1, 1))
    assert "bid_period_maximum" in str(unknown.value)
    assert unknown.value.key == "bid_period_maximum"
    with pytest.raises(RuleNotFound) as early:
        rule("bid_period_min", on=D(2010, 1, 1))
    assert "2010-01-01" in str(early.value) and "bid_period_min" in str(early.value)
    with pytest.raises(RuleNotFound):
        versions("nothing_like_this")


def test_rules_are_frozen():
    found = rule("bid_period_min", on=D(2026, 1, 1))
    assert isinstance(found, Rule)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.value = Decimal(5)  # type: ignore[misc]


def test_localized_title():
    found = rule("bid_period_min", on=D(2026, 1, 1))
    assert found.localized_title("zh-hans") == found.title_zh
    assert found.localized_title("en") == found.title


# --- loading checks ----------------------------------------------------------------------------

ENTRY = """
[[rule]]
key = "{key}"
title = "A period"
title_zh = "期间"
value = {value}
unit = "{unit}"
article = "Law art. 1"
in_force_from = {start}
{extra}
checked = true
kind = "statutory"
"""


def entry(key="period", value="10", unit="calendar_days", start="2020-01-01", extra=""):
    return ENTRY.format(key=key, value=value, unit=unit, start=start, extra=extra)


def test_versions_by_date_in_a_table():
    table = parse_rules(
        entry(value="10", start="2020-01-01") + entry(value="15", start="2024-07-01")
    )
    assert table.rule("period", D(2020, 1, 1)).value == 10
    assert table.rule("period", D(2024, 6, 30)).value == 10
    assert table.rule("period", D(2024, 7, 1)).value == 15
    # The earlier version ends the day before the later one starts.
    assert table.versions["period"][0].in_force_until == D(2024, 6, 30)
    with pytest.raises(RuleNotFound):
        table.rule("period", D(2019, 12, 31))


def test_decimal_and_fraction_values():
    table = parse_rules(
        entry(key="half", value='"0.5"', unit="percent")
        + entry(key="third", value='"1/3"', unit="percent")
        + entry(key="quarter", value='"1/4"', unit="none")
    )
    assert table.rule("half", D(2021, 1, 1)).value == Decimal("0.5")
    third = table.rule("third", D(2021, 1, 1))
    assert third.fraction == Fraction(1, 3) and third.value == Decimal("0.333333")
    assert table.rule("quarter", D(2021, 1, 1)).value == Decimal("0.25")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (entry() + entry(), "two versions"),
        (
            entry(extra="in_force_until = 2024-07-01") + entry(start="2024-07-01", value="15"),
            "overlaps",
        ),
        (
            entry(extra="in_force_until = 2024-07-01") + entry(start="2024-06-01", value="15"),
            "overlaps",
        ),
        (entry(unit="weeks"), "unknown unit"),
        (entry(value="10.5"), "float"),
        (entry(value="true"), "float or a boolean"),
        (entry(value='"ten"'), "neither a decimal"),
        (entry(value='"1/0"'), "divides by zero"),
        (entry(extra='colour = "red"'), "unknown field colour"),
        (entry(extra="in_force_until = 2019-01-01"), "before in_force_from"),
        (entry(key="Bad-Key"), "lower_snake_case"),
        (entry(extra='bound = "around"'), "unknown bound"),
        (entry(start='"2020-01-01"'), "TOML date"),
        (entry().replace('kind = "statutory"', 'kind = "wish"'), "unknown kind"),
        (entry().replace("checked = true\n", ""), "missing checked"),
        ("[[rule]\n", "not valid TOML"),
        ("[other]\nx = 1\n", "unknown top-level"),
    ],
)
def test_a_malformed_table_refuses_to_load(text, problem):
    with pytest.raises(RulesTableError) as refused:
        parse_rules(text, source="test.toml")
    assert problem in str(refused.value)
    assert "test.toml" in str(refused.value)
