"""The unified social credit code (统一社会信用代码), GB 32100-2015.

Eighteen characters::

    9 1 440300 19220382 1 6
    │ │ │      │        │ └ 18     check character (GB 32100, below)
    │ │ │      └────────┴── 9–17   organisation code (主体标识码, GB 11714), its own check at 17
    │ │ └──────────────────── 3–8    division code of the registration authority (GB/T 2260)
    │ └────────────────────── 2      organisation category, per authority (``AUTHORITIES``)
    └──────────────────────── 1      registration authority

Characters are the digits and the capital letters except I, O, S, V and Z (which look like 1, 0,
5, U and 2): ``ALPHABET``, 31 characters with the values 0..30 in that order. Positions 3–8 are
digits.

Check character (GB 32100-2015): with Ci the value of the i-th character and the weights
Wi = 3^(i-1) mod 31 = 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28, the check
value is C18 = 31 − (Σ Ci·Wi mod 31), where 31 is written as 0 — equivalently
(Σ Ci·Wi + C18) ≡ 0 (mod 31). Because 31 is prime and every weight is a non-zero power of 3, any
single wrong character changes the sum by a non-zero multiple of a unit and is detected, and so
is any swap of two adjacent different characters (the sum changes by (a−b)(Wi−Wi+1), and
Wi−Wi+1 = −2·Wi ≢ 0; for the pair 17/18 the difference of weights is 28−1 = 27 ≢ 0).

Registration authority and category (first two characters). GB 32100-2015 lets each registration
authority number its own categories; the pairs in use are:

====  ==========================  =======================================================
1     机构编制 staffing            1 机关, 2 事业单位, 3 中央编办直接管理机构编制的群众团体, 9 其他
2     外交 foreign affairs         1 外国常驻新闻机构, 9 其他
3     司法行政 justice             1 律师执业机构, 2 公证处, 3 基层法律服务所, 4 司法鉴定机构,
                                   5 仲裁委员会, 9 其他
4     文化 culture                 1 外国在华文化中心, 9 其他
5     民政 civil affairs           1 社会团体, 2 民办非企业单位, 3 基金会, 9 其他
6     旅游 tourism                 1 外国旅游部门常驻代表机构,
                                   2 港澳台地区旅游部门常驻内地（大陆）代表机构, 9 其他
7     宗教 religious affairs       1 宗教活动场所, 2 宗教院校, 9 其他
8     工会 trade unions            1 基层工会, 9 其他
9     工商 industry and commerce   1 企业, 2 个体工商户, 3 农民专业合作社
      (now market regulation)
A     中央军委改革和编制办公室     1 军队事业单位, 9 其他
N     农业 agriculture             1 组级集体经济组织, 2 村级集体经济组织,
                                   3 乡镇级集体经济组织, 9 其他
Y     其他 other                   1
====  ==========================  =======================================================

A pair outside this table is refused (rules ``gb32100_authority`` / ``gb32100_category``). If a
further registration authority starts issuing codes, add it to ``AUTHORITIES``.

Registration authority's division (positions 3–8): the code of the authority at the time of
registration, which never changes afterwards, so it may be an abolished code; it is checked with
``openbid.accounts.regions.registration_region``, which accepts the current table, ``100000`` for
national-level authorities, and well-formed codes in a known province (see that module).

The organisation code's own check character (position 17, GB 11714-1997: weights
3, 7, 9, 10, 5, 8, 4, 2 over the first eight characters, letters valued A=10 … Z=35,
C9 = 11 − (Σ mod 11), 10 written X and 11 written 0) is *not* enforced. GB 32100 says positions
9–17 are the organisation code, and the codes in the tests all satisfy it, but a refusal here
would block an organisation from registering at all, and there is no guarantee that every code
actually issued satisfies it: codes were assigned by many local registration systems (for
example, old codes of some Xiamen enterprises registered before 2016 are reported not to satisfy
even the GB 32100 check character, hutool issue #4119: 91350203M0001QKT19), and the national code
centre itself publishes a list of questioned codes. It would also add little: the GB 32100 check
character already catches every single-character error and every adjacent swap.
``organisation_code_consistent`` reports it, for staff review or display.

Known limitation: the GB 32100 check character *is* enforced, as the standard requires, so a
legacy code that does not satisfy it (like the Xiamen example above) is refused here and has to
be handled by the trading centre outside this validator.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from openbid.accounts.regions import registration_region
from openbid.core.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES: Mapping[str, int] = {c: i for i, c in enumerate(ALPHABET)}
FORBIDDEN_LETTERS = "IOSVZ"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997


@dataclass(frozen=True)
class Authority:
    """A registration authority (first character) and its categories (second character)."""

    code: str
    name: str
    name_en: str
    categories: Mapping[str, tuple[str, str]]  # category character -> (Chinese, English)


_OTHER = ("其他", "other")

AUTHORITIES: Mapping[str, Authority] = {
    a.code: a
    for a in (
        Authority(
            "1",
            "机构编制",
            "institutional staffing",
            {
                "1": ("机关", "government organ"),
                "2": ("事业单位", "public institution"),
                "3": (
                    "中央编办直接管理机构编制的群众团体",
                    "mass organisation staffed directly by the Central Staffing Office",
                ),
                "9": _OTHER,
            },
        ),
        Authority(
            "2",
            "外交",
            "foreign affairs",
            {"1": ("外国常驻新闻机构", "resident office of a foreign news agency"), "9": _OTHER},
        ),
        Authority(
            "3",
            "司法行政",
            "justice administration",
            {
                "1": ("律师执业机构", "law firm"),
                "2": ("公证处", "notary office"),
                "3": ("基层法律服务所", "grassroots legal service office"),
                "4": ("司法鉴定机构", "forensic appraisal institution"),
                "5": ("仲裁委员会", "arbitration commission"),
                "9": _OTHER,
            },
        ),
        Authority(
            "4",
            "文化",
            "culture",
            {"1": ("外国在华文化中心", "foreign cultural centre in China"), "9": _OTHER},
        ),
        Authority(
            "5",
            "民政",
            "civil affairs",
            {
                "1": ("社会团体", "social organisation"),
                "2": ("民办非企业单位", "private non-enterprise unit"),
                "3": ("基金会", "foundation"),
                "9": _OTHER,
            },
        ),
        Authority(
            "6",
            "旅游",
            "tourism",
            {
                "1": ("外国旅游部门常驻代表机构", "resident office of a foreign tourism authority"),
                "2": (
                    "港澳台地区旅游部门常驻内地（大陆）代表机构",
                    "mainland office of a Hong Kong, Macao or Taiwan tourism authority",
                ),
                "9": _OTHER,
            },
        ),
        Authority(
            "7",
            "宗教",
            "religious affairs",
            {
                "1": ("宗教活动场所", "place of religious activity"),
                "2": ("宗教院校", "religious school"),
                "9": _OTHER,
            },
        ),
        Authority(
            "8",
            "工会",
            "trade unions",
            {"1": ("基层工会", "grassroots trade union"), "9": _OTHER},
        ),
        Authority(
            "9",
            "工商",
            "industry and commerce (market regulation)",
            {
                "1": ("企业", "enterprise"),
                "2": ("个体工商户", "individual business"),
                "3": ("农民专业合作社", "farmers' specialised cooperative"),
            },
        ),
        Authority(
            "A",
            "中央军委改革和编制办公室",
            "Reform and Staffing Office of the Central Military Commission",
            {"1": ("军队事业单位", "military public institution"), "9": _OTHER},
        ),
        Authority(
            "N",
            "农业",
            "agriculture",
            {
                "1": ("组级集体经济组织", "group-level collective economic organisation"),
                "2": ("村级集体经济组织", "village-level collective economic organisation"),
                "3": ("乡镇级集体经济组织", "township-level collective economic organisation"),
                "9": _OTHER,
            },
        ),
        Authority("Y", "其他", "other", {"1": _OTHER}),
    )
}


def _normalise(value: object) -> str:
    """Full-width forms to ASCII (NFKC: codes typed with a Chinese input method), strip, upper."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip().upper()


def _require_length(code: str, length: int, field: str) -> None:
    if len(code) != length:
        raise InvalidInput(
            _(
                "The unified social credit code must be %(expected)d characters long; "
                "%(given)d were given."
            )
            % {"expected": length, "given": len(code)},
            field=field,
            rule="gb32100_length",
        )


def _require_alphabet(code: str, field: str) -> None:
    for position, char in enumerate(code, start=1):
        if char not in VALUES:
            raise InvalidInput(
                _(
                    "The unified social credit code may contain only digits and the capital "
                    "letters other than I, O, S, V and Z; “%(char)s” at position "
                    "%(position)d is not allowed."
                )
                % {"char": char, "position": position},
                field=field,
                rule="gb32100_charset",
            )


def _check_value(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def check_character(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters."""
    code = _normalise(first17)
    _require_length(code, LENGTH - 1, "credit_code")
    _require_alphabet(code, "credit_code")
    return _check_value(code)


def region_of(code: str) -> str:
    """Positions 3–8: the registration authority's division code (not checked here)."""
    code = _normalise(code)
    _require_length(code, LENGTH, "credit_code")
    return code[2:8]


def organisation_check_character(first8: str) -> str:
    """The GB 11714 check character of an organisation code's first eight characters."""
    body = _normalise(first8)
    if len(body) != 8 or not all(c.isascii() and c.isalnum() for c in body):
        raise InvalidInput(
            _(
                "The first part of an organisation code (GB 11714) is eight digits or capital "
                "letters; “%(value)s” is not."
            )
            % {"value": body},
            field="organisation_code",
            rule="gb11714_format",
        )
    total = sum(int(c, 36) * w for c, w in zip(body, ORGANISATION_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def organisation_code_consistent(code: str) -> bool:
    """Whether positions 9–17 satisfy GB 11714's own check (informative, never enforced)."""
    code = _normalise(code)
    if len(code) != LENGTH:
        return False
    try:
        return organisation_check_character(code[8:16]) == code[16]
    except InvalidInput:
        return False


def _require_authority(authority: str, category: str, field: str) -> None:
    found = AUTHORITIES.get(authority)
    if found is None:
        raise InvalidInput(
            _(
                "“%(char)s” is not a registration authority code (first character of the unified "
                "social credit code, GB 32100-2015); known codes: %(known)s."
            )
            % {"char": authority, "known": ", ".join(AUTHORITIES)},
            field=field,
            rule="gb32100_authority",
        )
    if category not in found.categories:
        raise InvalidInput(
            _(
                "“%(char)s” is not an organisation category of registration authority "
                "%(authority)s (%(name)s) (second character of the unified social credit code, "
                "GB 32100-2015); allowed: %(allowed)s."
            )
            % {
                "char": category,
                "authority": found.code,
                "name": found.name,
                "allowed": ", ".join(found.categories),
            },
            field=field,
            rule="gb32100_category",
        )


def _require_region(region: str, field: str) -> None:
    if registration_region(region) is None:
        raise InvalidInput(
            _(
                "Positions 3–8 of the unified social credit code must be the administrative "
                "division code (GB/T 2260, six digits) of the registration authority; "
                "“%(region)s” is not one."
            )
            % {"region": region},
            field=field,
            rule="gb32100_region",
        )


def validate_credit_code(value: str, *, field: str = "credit_code") -> str:
    """The code normalised (full-width to ASCII, stripped, upper case), or ``InvalidInput``.

    Rules, in the order checked: ``gb32100_length`` (18 characters), ``gb32100_charset``
    (``ALPHABET`` only), ``gb32100_authority`` and ``gb32100_category`` (``AUTHORITIES``),
    ``gb32100_region`` (positions 3–8, see ``regions.registration_region``) and
    ``gb32100_check_character`` (the message gives the expected character).
    """
    code = _normalise(value)
    _require_length(code, LENGTH, field)
    _require_alphabet(code, field)
    _require_authority(code[0], code[1], field)
    _require_region(code[2:8], field)
    expected = _check_value(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            _(
                "The check character (position 18) of the unified social credit code does not "
                "match the first 17 characters: it should be %(expected)s, not %(given)s. Check "
                "the whole code for typing errors."
            )
            % {"expected": expected, "given": code[17]},
            field=field,
            rule="gb32100_check_character",
        )
    return code


def generate_credit_code(authority: str, category: str, region: str, body: str) -> str:
    """A valid code from its parts, with the check character appended.

    ``body`` is the nine-character organisation code (positions 9–17), or its first eight
    characters, in which case the GB 11714 check character is appended to make the ninth. Refuses
    parts that ``validate_credit_code`` would refuse.
    """
    authority, category, region, body = (_normalise(p) for p in (authority, category, region, body))
    field = "credit_code"
    if len(authority) != 1 or len(category) != 1:
        raise InvalidInput(
            _("The registration authority and the category are one character each."),
            field=field,
            rule="gb32100_authority",
        )
    if len(body) == 8:
        _require_alphabet(body, field)
        body += organisation_check_character(body)
    if len(body) != 9:
        raise InvalidInput(
            _("The organisation code (positions 9–17) has nine characters; %(given)d were given.")
            % {"given": len(body)},
            field=field,
            rule="gb32100_length",
        )
    first17 = authority + category + region + body
    _require_length(first17, LENGTH - 1, field)
    _require_alphabet(first17, field)
    _require_authority(authority, category, field)
    _require_region(region, field)
    return validate_credit_code(first17 + _check_value(first17), field=field)
