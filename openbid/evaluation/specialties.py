"""The hierarchical classification of experts' specialties (专业分类), read from ``data/``.

``data/specialties.csv`` is a SAMPLE modelled on the national 评标专家专业分类标准 (see
``data/specialties.SOURCE``): a letter for the class, then two digits per level (``A`` 工程类 →
``A01`` 房屋建筑工程 → ``A0101`` 建筑工程施工). An expert with specialty ``A0101`` qualifies for a
draw asking for ``A01`` or ``A``: a code covers every code below it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput

DATA_FILE = Path(__file__).resolve().parent / "data" / "specialties.csv"


@dataclass(frozen=True)
class Specialty:
    code: str
    parent: str | None
    name_zh: str
    name_en: str

    @property
    def depth(self) -> int:
        return 0 if len(self.code) == 1 else (len(self.code) - 1) // 2

    @property
    def name(self) -> str:
        lang = (translation.get_language() or "zh-hans").lower()
        return self.name_zh if lang.startswith("zh") else self.name_en

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@cache
def table() -> dict[str, Specialty]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        r["code"]: Specialty(r["code"], r["parent"] or None, r["name_zh"], r["name_en"])
        for r in rows
    }


def all_specialties() -> list[Specialty]:
    return sorted(table().values(), key=lambda s: s.code)


def require(code: str, field: str = "specialties") -> Specialty:
    found = table().get(code.strip().upper())
    if found is None:
        raise InvalidInput(
            _("%(code)s is not a code of the specialty classification.") % {"code": code},
            field=field,
            rule="specialty_code",
        )
    return found


def covers(asked: str, held: str) -> bool:
    """Whether an expert holding ``held`` qualifies for a draw asking for ``asked``."""
    return held.startswith(asked)
