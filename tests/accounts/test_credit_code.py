"""Unified social credit codes, GB 32100-2015 (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbid.accounts.credit_code import (
    ALPHABET,
    AUTHORITIES,
    VALUES,
    WEIGHTS,
    check_character,
    generate_credit_code,
    organisation_check_character,
    organisation_code_consistent,
    region_of,
    validate_credit_code,
)
from openbid.accounts.regions import all_regions
from openbid.core.errors import InvalidInput

# Published codes of well-known entities (business licences, annual reports, university
# disclosures). Each one satisfies both the GB 32100 check character and the GB 11714 check of
# its organisation code, which a mistyped code would do with a chance of about 1 in 341.
REAL_CODES = [
    ("91330100799655058B", "阿里巴巴（中国）有限公司", "330100"),
    ("9144030071526726XG", "深圳市腾讯计算机系统有限公司", "440300"),
    ("914403001922038216", "华为技术有限公司", "440300"),
    ("91440300192317458F", "比亚迪股份有限公司", "440300"),
    ("91110108551385082Q", "小米科技有限责任公司", "110108"),
    ("91520000214434146R", "贵州茅台酒股份有限公司", "520000"),
    ("91110000710926094P", "中国石油化工股份有限公司", "110000"),
    ("91100000100003962T", "中国工商银行股份有限公司", "100000"),
    ("911000001000013428", "中国银行股份有限公司", "100000"),
    ("911100001000044477", "中国建设银行股份有限公司", "110000"),
    ("12100000400000624D", "清华大学", "100000"),
]
CODES = [c for c, _name, _region in REAL_CODES]
ALIBABA = "91330100799655058B"


def _with_check(first17: str) -> str:
    return first17 + check_character(first17)


def _refusal(value: str, **kwargs: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        validate_credit_code(value, **kwargs)
    return exc.value


class TestConstants:
    def test_alphabet(self):
        assert len(ALPHABET) == 31
        assert "".join(sorted(ALPHABET)) == ALPHABET
        assert not set("IOSVZ") & set(ALPHABET)
        assert set(ALPHABET) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") - set("IOSVZ")
        assert [VALUES[c] for c in ALPHABET] == list(range(31))

    def test_weights_are_powers_of_three_mod_31(self):
        assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
        assert tuple(pow(3, i, 31) for i in range(17)) == WEIGHTS

    def test_authority_table(self):
        pairs = {a.code + c for a in AUTHORITIES.values() for c in a.categories}
        assert pairs == {
            "11", "12", "13", "19",
            "21", "29",
            "31", "32", "33", "34", "35", "39",
            "41", "49",
            "51", "52", "53", "59",
            "61", "62", "69",
            "71", "72", "79",
            "81", "89",
            "91", "92", "93",
            "A1", "A9",
            "N1", "N2", "N3", "N9",
            "Y1",
        }  # fmt: skip
        assert AUTHORITIES["9"].name == "工商"
        assert AUTHORITIES["9"].categories["2"][0] == "个体工商户"


class TestRealCodes:
    @pytest.mark.parametrize(("code", "name", "region"), REAL_CODES)
    def test_valid(self, code, name, region):
        assert validate_credit_code(code) == code
        assert check_character(code[:17]) == code[17]
        assert region_of(code) == region
        assert organisation_code_consistent(code)

    def test_huawei_from_its_parts(self):
        # The eight-character body gets its GB 11714 check, then the GB 32100 check.
        assert generate_credit_code("9", "1", "440300", "19220382") == "914403001922038216"
        assert generate_credit_code("9", "1", "330100", "799655058") == ALIBABA

    @pytest.mark.parametrize("code", CODES)
    def test_every_single_substitution_is_refused(self, code):
        for i, original in enumerate(code):
            for replacement in ALPHABET:
                if replacement != original:
                    with pytest.raises(InvalidInput):
                        validate_credit_code(code[:i] + replacement + code[i + 1 :])

    @pytest.mark.parametrize("code", CODES)
    def test_every_adjacent_transposition_is_refused(self, code):
        swaps = 0
        for i in range(17):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                with pytest.raises(InvalidInput):
                    validate_credit_code(swapped)
                swaps += 1
        assert swaps > 0


class TestNormalisation:
    def test_lowercase(self):
        assert validate_credit_code("91330100799655058b") == ALIBABA
        assert validate_credit_code("9144030071526726xg") == "9144030071526726XG"

    def test_surrounding_whitespace(self):
        assert validate_credit_code(f"  {ALIBABA}\n") == ALIBABA

    def test_full_width_characters(self):
        assert validate_credit_code("９１３３０１００７９９６５５０５８ｂ") == ALIBABA


class TestRefusals:
    @pytest.mark.parametrize(
        "value", ["", "   ", ALIBABA[:17], ALIBABA + "0", "9133 0100 7996 5505 8B"]
    )
    def test_length(self, value):
        exc = _refusal(value)
        assert exc.rule == "gb32100_length"
        assert exc.field == "credit_code"
        assert "18" in str(exc)

    def test_not_a_string(self):
        assert _refusal(None).rule == "gb32100_length"  # type: ignore[arg-type]

    @pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V", "i", "o"])
    def test_forbidden_letters(self, letter):
        exc = _refusal(ALIBABA[:10] + letter + ALIBABA[11:])
        assert exc.rule == "gb32100_charset"
        assert letter.upper() in str(exc)
        assert "11" in str(exc)  # the position

    @pytest.mark.parametrize("char", ["-", "*", "中", "é"])
    def test_other_characters(self, char):
        assert _refusal(ALIBABA[:17] + char).rule == "gb32100_charset"

    @pytest.mark.parametrize("prefix", ["B1", "C1", "M1", "X1", "01"])
    def test_unknown_authority(self, prefix):
        exc = _refusal(_with_check(prefix + ALIBABA[2:17]))
        assert exc.rule == "gb32100_authority"
        assert prefix[0] in str(exc)

    @pytest.mark.parametrize("prefix", ["94", "99", "14", "22", "36", "5A", "Y2", "Y9", "A2", "N4"])
    def test_unknown_category(self, prefix):
        exc = _refusal(_with_check(prefix + ALIBABA[2:17]))
        assert exc.rule == "gb32100_category"

    @pytest.mark.parametrize("prefix", ["92", "93", "11", "12", "31", "51", "A1", "N2", "Y1"])
    def test_other_known_pairs(self, prefix):
        code = _with_check(prefix + ALIBABA[2:17])
        assert validate_credit_code(code) == code

    @pytest.mark.parametrize("region", ["990000", "000000", "110001", "3301A0", "ABCDEF"])
    def test_unknown_region(self, region):
        exc = _refusal(_with_check("91" + region + ALIBABA[8:17]))
        assert exc.rule == "gb32100_region"
        assert region in str(exc)

    def test_historical_region_is_accepted(self):
        # 110103 崇文区 was merged into 东城区 in 2010; codes issued there before keep it.
        code = _with_check("91110103" + ALIBABA[8:17])
        assert validate_credit_code(code) == code
        assert region_of(code) == "110103"

    def test_national_region_is_accepted(self):
        code = _with_check("91100000" + ALIBABA[8:17])
        assert validate_credit_code(code) == code

    def test_wrong_check_character_names_the_expected_one(self):
        exc = _refusal(ALIBABA[:17] + "C")
        assert exc.rule == "gb32100_check_character"
        assert exc.field == "credit_code"
        assert "B" in str(exc)
        from django.utils import translation

        with translation.override("en"):
            assert "should be B" in str(_refusal(ALIBABA[:17] + "C"))
        assert exc.as_dict()["rule"] == "gb32100_check_character"

    def test_field_is_passed_through(self):
        assert _refusal("x", field="agent_credit_code").field == "agent_credit_code"
        assert _refusal(ALIBABA[:17] + "C", field="bidder").field == "bidder"


class TestCheckCharacter:
    def test_a_result_of_31_is_written_0(self):
        base = ALIBABA[:16]
        zeros = [c for c in ALPHABET if check_character(base + c) == "0"]
        assert len(zeros) == 1
        first17 = base + zeros[0]
        assert sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True)) % 31 == 0
        assert validate_credit_code(first17 + "0") == first17 + "0"

    def test_lowercase_input(self):
        assert check_character(ALIBABA[:17].lower()) == "B"

    @pytest.mark.parametrize(
        ("value", "rule"), [(ALIBABA, "gb32100_length"), ("9133010079965505O", "gb32100_charset")]
    )
    def test_refusals(self, value, rule):
        with pytest.raises(InvalidInput) as exc:
            check_character(value)
        assert exc.value.rule == rule

    def test_region_of_needs_18_characters(self):
        assert region_of(" 914403001922038216 ") == "440300"
        with pytest.raises(InvalidInput) as exc:
            region_of("9144030019")
        assert exc.value.rule == "gb32100_length"


class TestOrganisationCode:
    """GB 11714's own check character at position 17: computed and reported, not enforced."""

    @pytest.mark.parametrize(
        ("first8", "check"),
        [("19220382", "1"), ("71526726", "X"), ("79965505", "8"), ("00000000", "0")],
    )
    def test_check_character(self, first8, check):
        assert organisation_check_character(first8) == check

    @pytest.mark.parametrize("value", ["1922038", "192203821", "1922038-", "1922038中"])
    def test_format(self, value):
        with pytest.raises(InvalidInput) as exc:
            organisation_check_character(value)
        assert exc.value.rule == "gb11714_format"

    def test_inconsistent_body_is_reported_but_accepted(self):
        code = generate_credit_code("9", "1", "330100", "79965505X")  # GB 11714 wants 8
        assert validate_credit_code(code) == code
        assert not organisation_code_consistent(code)
        assert not organisation_code_consistent("short")

    def test_generated_from_eight_characters_is_consistent(self):
        assert organisation_code_consistent(generate_credit_code("5", "1", "110105", "MA0TEXT1"))


class TestGenerate:
    def test_normalises_its_parts(self):
        assert generate_credit_code("9", "1", " 330100 ", "799655058") == ALIBABA
        assert generate_credit_code("n", "1", "330106", "ma2dem01")[:2] == "N1"

    @pytest.mark.parametrize(
        ("parts", "rule"),
        [
            (("B", "1", "330100", "799655058"), "gb32100_authority"),
            (("91", "1", "330100", "799655058"), "gb32100_authority"),
            (("9", "4", "330100", "799655058"), "gb32100_category"),
            (("9", "1", "990000", "799655058"), "gb32100_region"),
            (("9", "1", "33010", "799655058"), "gb32100_length"),
            (("9", "1", "330100", "7996550"), "gb32100_length"),
            (("9", "1", "330100", "7996550581"), "gb32100_length"),
            (("9", "1", "330100", "MA2DEMO01"), "gb32100_charset"),
            (("9", "1", "330100", "MA2DEMO0"), "gb32100_charset"),
        ],
    )
    def test_refusals(self, parts, rule):
        with pytest.raises(InvalidInput) as exc:
            generate_credit_code(*parts)
        assert exc.value.rule == rule


# --- properties over generated codes ---------------------------------------------------------

PAIRS = sorted((a.code, c) for a in AUTHORITIES.values() for c in a.categories)
REGION_CODES = [r.code for r in all_regions()] + ["100000", "110103"]

valid_codes = st.tuples(
    st.sampled_from(PAIRS),
    st.sampled_from(REGION_CODES),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
).map(lambda t: generate_credit_code(t[0][0], t[0][1], t[1], t[2]))


@settings(max_examples=300, deadline=None)
@given(valid_codes)
def test_generated_codes_are_valid(code):
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code
    total = sum(VALUES[c] * w for c, w in zip(code[:17], WEIGHTS, strict=True))
    assert (total + VALUES[code[17]]) % 31 == 0


@settings(max_examples=500, deadline=None)
@given(valid_codes, st.integers(0, 17), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_refused(code, position, replacement):
    if replacement == code[position]:
        replacement = ALPHABET[(VALUES[replacement] + 1) % 31]
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidInput):
        validate_credit_code(changed)


@settings(max_examples=500, deadline=None)
@given(valid_codes, st.integers(0, 16))
def test_any_adjacent_transposition_is_refused(code, position):
    a, b = code[position], code[position + 1]
    if a == b:
        return
    with pytest.raises(InvalidInput):
        validate_credit_code(code[:position] + b + a + code[position + 2 :])
