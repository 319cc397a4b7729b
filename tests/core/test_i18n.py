"""The Simplified Chinese catalogue: complete, placeholders intact, and the committed .mo current.

Pure Python: the .po is parsed here and the .mo read with ``gettext.GNUTranslations``, so no
gettext tools are needed at test time and no database is touched.
"""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

import openbid

LC_MESSAGES = Path(openbid.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"


# --- A small .po parser ---------------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    # msgstr is msgstr[0] for a plural entry; plural entries fill msgstr_plural instead.
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[n] for n in sorted(self.msgstr_plural)]

    @property
    def catalog_key(self) -> str:
        """The key ``GNUTranslations`` files a singular entry under."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')
_CONTINUATION = re.compile(r'^(".*")\s*$')


def _unquote(token: str, where: str) -> str:
    """A C-quoted PO string literal as text (``\\n``, ``\\"``, ``\\\\``, ``\\t`` ...)."""
    if len(token) < 2 or not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"{where}: not a quoted string: {token}")
    # PO escapes are a subset of Python's; the file is UTF-8 text, so literal_eval on the
    # str literal decodes the escapes and leaves the non-ASCII characters alone.
    return ast.literal_eval(token)


def parse_po(path: Path) -> list[Entry]:
    """Every active entry (obsolete ``#~`` entries are skipped), header first."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # the field continuation lines add to

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path.name}:{number}"
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            # A comment after the strings of an entry starts the next entry.
            if current is not None and target is not None:
                finish()
            if current is None:
                current = Entry(line=number)
            if line.startswith("#,"):
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        keyword = _KEYWORD.match(line)
        if keyword:
            name, index, token = keyword.groups()
            # A new msgctxt, or a msgid not preceded by msgctxt, starts the next entry.
            starts_next = name == "msgctxt" or (name == "msgid" and target != ("msgctxt", None))
            if current is not None and target is not None and starts_next:
                finish()
            if current is None:
                current = Entry(line=number)
            value = _unquote(token, where)
            if name.startswith("msgstr"):
                if index is None:
                    current.msgstr = value
                    target = ("msgstr", None)
                else:
                    current.msgstr_plural[int(index)] = value
                    target = ("msgstr", int(index))
            else:
                setattr(current, name, value)
                target = (name, None)
            continue
        continuation = _CONTINUATION.match(line)
        if continuation and current is not None and target is not None:
            value = _unquote(continuation.group(1), where)
            name, index = target
            if index is not None:
                current.msgstr_plural[index] += value
            else:
                setattr(current, name, getattr(current, name) + value)
            continue
        raise ValueError(f"{where}: cannot parse {raw!r}")
    finish()
    for entry in entries:
        if entry.msgid_plural is not None and not entry.msgstr_plural:
            raise ValueError(f"{path.name}:{entry.line}: plural entry without msgstr[n]")
    return entries


# Python %-format conversions (``%(name)s``, ``%d``, ``%5.2f``); ``%%`` is a literal percent.
_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])"
)
# str.format fields: ``{}``, ``{0}``, ``{name}``, ``{name!r:>10}``; ``{{``/``}}`` are literals.
_BRACE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def percent_placeholders(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    unnamed = 0
    for match in _PERCENT.finditer(text):
        if match["type"] == "%":
            continue
        if match["name"] is None:
            unnamed += 1
            found[f"#{unnamed}:{match['type']}"] += 1
        else:
            found[f"{match['name']}:{match['type']}"] += 1
    return found


def brace_placeholders(text: str) -> Counter[str]:
    return Counter(m.group(1) for m in _BRACE.finditer(text) if m.group(1) is not None)


ENTRIES = parse_po(PO_PATH)
HEADER = next(e for e in ENTRIES if e.is_header)
MESSAGES = [e for e in ENTRIES if not e.is_header]


def _id(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid[:60]}"


# --- The parser itself ----------------------------------------------------------------------------


def test_parser_reads_multiline_plural_and_context_entries(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\n'
        'msgstr ""\n'
        '"Language: zh_Hans\\n"\n'
        '"Plural-Forms: nplurals=1; plural=0;\\n"\n'
        "\n"
        "# translator comment\n"
        "#, python-format\n"
        'msgid ""\n'
        '"Two \\"lines\\" "\n'
        '"with %(n)d"\n'
        'msgstr "两行%(n)d"\n'
        "\n"
        "#, fuzzy, python-format\n"
        'msgctxt "menu"\n'
        'msgid "%(count)d file"\n'
        'msgid_plural "%(count)d files"\n'
        'msgstr[0] ""\n'
        '"%(count)d个文件"\n'
        "\n"
        '#~ msgid "gone"\n'
        '#~ msgstr "已删除"\n',
        encoding="utf-8",
    )
    header, multiline, plural = parse_po(po)
    assert header.is_header and "nplurals=1" in header.msgstr
    assert multiline.msgid == 'Two "lines" with %(n)d'
    assert multiline.msgstr == "两行%(n)d"
    assert multiline.flags == {"python-format"}
    assert plural.flags == {"fuzzy", "python-format"}
    assert plural.msgctxt == "menu"
    assert plural.msgid_plural == "%(count)d files"
    assert plural.translations == ["%(count)d个文件"]
    assert plural.catalog_key == "menu\x04%(count)d file"


def test_placeholder_extraction():
    assert percent_placeholders("%(a)s and %(b)d, 100%%") == Counter({"a:s": 1, "b:d": 1})
    assert percent_placeholders("%s of %5.2f") == Counter({"#1:s": 1, "#2:f": 1})
    assert brace_placeholders("{name} {{literal}} {0!r:>4}") == Counter({"name": 1, "0!r:>4": 1})


# --- The catalogue --------------------------------------------------------------------------------


def test_catalogue_has_messages():
    assert len(MESSAGES) > 200


def test_header_is_filled_in():
    assert "fuzzy" not in HEADER.flags
    pairs = (line.split(":", 1) for line in HEADER.msgstr.splitlines() if ":" in line)
    meta = {key.strip(): value.strip() for key, value in pairs}
    assert meta["Language"] == "zh_Hans"
    assert meta["Content-Type"] == "text/plain; charset=UTF-8"
    assert meta["Plural-Forms"] == "nplurals=1; plural=0;"


@pytest.mark.parametrize("entry", MESSAGES, ids=_id)
def test_entry_is_translated_and_not_fuzzy(entry):
    assert "fuzzy" not in entry.flags
    if entry.msgid_plural is not None:
        assert sorted(entry.msgstr_plural) == [0], "Chinese has one plural form: msgstr[0] only"
    for text in entry.translations:
        assert text.strip(), "empty translation"


@pytest.mark.parametrize("entry", MESSAGES, ids=_id)
def test_placeholders_are_kept(entry):
    sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid_plural]
    if "python-format" in entry.flags:
        for text in entry.translations:
            assert percent_placeholders(text) == percent_placeholders(sources[0])
    if "python-brace-format" in entry.flags:
        for text in entry.translations:
            assert brace_placeholders(text) == brace_placeholders(sources[0])
    # Entries without the python-format flag must not grow placeholders in translation.
    if "python-format" not in entry.flags:
        for text in entry.translations:
            assert not percent_placeholders(text) - percent_placeholders(sources[0])


def test_compiled_catalogue_matches_the_po():
    """The committed .mo is exactly the .po compiled: a forgotten ``msgfmt`` fails here."""
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info().get("language") == "zh_Hans"
    assert compiled.plural(1) == 0 and compiled.plural(5) == 0
    expected: dict[object, str] = {}
    for entry in MESSAGES:
        if entry.msgid_plural is None:
            expected[entry.catalog_key] = entry.msgstr
        else:
            for index, text in entry.msgstr_plural.items():
                expected[(entry.catalog_key, index)] = text
    # ``_catalog`` holds every message of the file; "" is the header, checked through info().
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}
    missing = {key: value for key, value in expected.items() if actual.get(key) != value}
    extra = sorted(str(key) for key in actual.keys() - expected.keys())
    assert not missing, f"stale django.mo, run msgfmt; differs for {list(missing)[:5]}"
    assert not extra, f"stale django.mo, run msgfmt; not in the .po: {extra[:5]}"


# --- Through Django -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "chinese"),
    [
        ("Electronic tendering and bidding platform", "电子招标投标交易平台"),
        ("Log in", "登录"),
        ("Register", "注册"),
        ("bidder staff", "投标人工作人员"),
        ("trading centre staff", "交易中心工作人员"),
        ("tenderer staff", "招标人工作人员"),
        ("agency staff", "招标代理机构工作人员"),
        ("evaluation expert", "评标专家"),
        ("regulator", "行政监督部门工作人员"),
        ("auditor (read-only)", "审计人员（只读）"),
        ("Suspend", "暂停"),
        ("Verify", "核验通过"),
        ("Reinstate", "恢复"),
    ],
)
def test_django_serves_the_chinese_catalogue(source, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(source) == chinese
    with translation.override("en"):
        assert translation.gettext(source) == source


def test_role_labels_are_chinese():
    from openbid.accounts.roles import Role

    with translation.override("zh-hans"):
        assert str(Role.BIDDER_STAFF.label) == "投标人工作人员"
        assert str(Role.AUDITOR.label) == "审计人员（只读）"
