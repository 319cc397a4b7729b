"""Document similarity: shingles, exact and MinHash Jaccard, duplicate files, fingerprints."""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal as D

import pytest
from django.utils import translation

from openbid.bidding import package
from openbid.core.errors import InvalidInput
from openbid.evaluation.similarity import (
    BidDocuments,
    SimilarityRules,
    compare,
    jaccard,
    shingles,
    units,
)

SENTENCES = [
    "本工程采用分段流水施工，土方开挖前完成测量放线和地下管线探测。",
    "混凝土浇筑采用泵送工艺，分层振捣，每层厚度不超过五十厘米。",
    "钢筋进场须附质量证明文件，并按批次见证取样送检。",
    "冬季施工期间采取综合蓄热法养护，混凝土入模温度不低于五摄氏度。",
    "项目部设专职安全员三名，每日开展班前安全教育并做好记录。",
    "The quality plan follows GB/T 19001 and every inspection lot is recorded.",
    "雨季施工前疏通排水沟，基坑周边设挡水墙，配备抽水泵六台。",
    "模板支撑体系经计算复核，高大模板专项方案组织专家论证。",
    "施工进度计划采用网络图控制，关键线路上的工作每周检查一次。",
    "文明施工措施包括围挡、洗车平台、裸土覆盖和噪声监测。",
]


def proposal(seed: int, sentences: int = 60) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice(SENTENCES) + rnd.choice("甲乙丙丁戊己庚辛") for _ in range(sentences))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def refused(rule: str, call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as info, translation.override("en"):
        call(*args, **kwargs)
    assert info.value.rule == rule, info.value.as_dict()
    return info.value


def test_units_cut_chinese_into_characters_and_other_text_into_words():
    assert units("本工程 C30 混凝土，Section 3.1: Ｃｏｎｃｒｅｔｅ！") == [
        "本",
        "工",
        "程",
        "c30",
        "混",
        "凝",
        "土",
        "section",
        "3",
        "1",
        "concrete",  # full-width letters normalised (NFKC) and case-folded
    ]


def test_shingles_and_exact_jaccard_worked_example():
    # 甲乙丙丁戊 → {甲乙丙, 乙丙丁, 丙丁戊}; 甲乙丙丁己 → {甲乙丙, 乙丙丁, 丙丁己}
    # intersection 2, union 4 → 2 / 4 = 0.5000
    a, b = shingles("甲乙丙丁戊"), shingles("甲乙丙丁己")
    assert len(a) == 3 and len(a & b) == 2
    assert jaccard(a, b) == D("0.5000")
    # Punctuation and spacing do not matter: 甲，乙 丙。丁戊 has the same shingles.
    assert shingles("甲，乙 丙。丁戊") == a
    # Shorter than the shingle size: one shingle; empty: none.
    assert shingles("甲乙") == {"甲\x1f乙"}
    assert shingles(" ，。 ") == set()
    # 1 / 3: 0.3333 (4 places, half up); two empty sets: 0.
    assert jaccard({"x"}, {"x", "y", "z"}) == D("0.3333")
    assert jaccard(set(), set()) == D("0.0000")


def near_identical_bids() -> list[BidDocuments]:
    text = proposal(1)
    # B copied A's proposal and rewrote its last paragraph.
    copied = text[: len(text) - 60] + "本投标人承诺严格履行合同约定的全部义务。"
    return [
        BidDocuments(
            "A", {"技术标.pdf": sha("a")}, {"tool": "openbid-bidder 0.1", "machine": "m-a"}, text
        ),
        BidDocuments(
            "B", {"技术标.pdf": sha("b")}, {"tool": "openbid-bidder 0.1", "machine": "m-b"}, copied
        ),
        BidDocuments(
            "C",
            {"技术标.pdf": sha("c")},
            {"tool": "openbid-bidder 0.1", "machine": "m-c"},
            proposal(2),
        ),
        BidDocuments(
            "D",
            {"技术标.pdf": sha("d")},
            {"tool": "openbid-bidder 0.1", "machine": "m-d"},
            proposal(3),
        ),
    ]


def test_near_identical_pair_is_flagged_with_estimate_and_exact_value():
    report = compare(near_identical_bids())
    assert report.compared_pairs == 6  # 4 × 3 / 2, all pairs
    (pair,) = report.similar
    assert (pair.a, pair.b) == ("A", "B")
    assert pair.estimate >= D("0.80") and pair.exact >= D("0.80")
    # MinHash with 256 permutations estimates the exact value closely.
    assert abs(pair.estimate - pair.exact) <= D("0.08")
    assert pair.estimate == (D(pair.matching) / 256).quantize(D("0.0001"))
    # Proposals assembled independently from the same stock sentences stay below the threshold.
    others = {k: v for k, v in report.all_estimates.items() if k != ("A", "B")}
    assert len(others) == 5 and all(v < D("0.80") for v in others.values())
    assert report.duplicate_files == () and report.shared_fingerprints == ()
    assert report.flagged_pairs == (("A", "B"),)


def test_results_are_reproducible_and_independent_of_bid_order():
    bids = near_identical_bids()
    first = compare(bids)
    again = compare(list(reversed(bids)))
    assert first.all_estimates == again.all_estimates
    assert first.similar == again.similar


def test_threshold_is_configurable():
    bids = near_identical_bids()
    report = compare(bids, SimilarityRules(threshold=D("0.01")))
    assert len(report.similar) == 6
    assert next((p.a, p.b) for p in report.similar) == ("A", "B")  # most similar first
    assert compare(bids, SimilarityRules(threshold=D("1"))).similar == ()


def test_duplicate_files_across_bidders():
    bids = near_identical_bids()
    shared = sha("施工组织设计")
    form = sha("blank form issued by the tenderer")
    bids[0] = BidDocuments("A", {"施组.docx": shared, "form.pdf": form}, {}, "")
    bids[2] = BidDocuments("C", {"plan.docx": shared.upper(), "form.pdf": form}, {}, "甲乙丙")
    # The same file twice in one bid is not a signal.
    bids[3] = BidDocuments("D", {"x.pdf": sha("x"), "y.pdf": sha("x")}, {}, "甲乙丙丁")
    report = compare(bids, SimilarityRules(ignore_sha256=frozenset({form})))
    (dup,) = report.duplicate_files
    assert dup.sha256 == shared
    assert dup.copies == (("A", "施组.docx"), ("C", "plan.docx"))
    assert dup.bidders == ("A", "C")
    assert report.no_text == ("A",)  # no text: not compared on text
    # Without the ignore list the tenderer's blank form shows up too.
    assert {d.sha256 for d in compare(bids).duplicate_files} == {shared, form}


def test_shared_machine_fingerprint():
    bids = near_identical_bids()
    bids[2] = BidDocuments("C", {}, {"tool": "openbid-bidder 0.1", "machine": "m-a"}, "甲")
    bids[3] = BidDocuments("D", {}, {"tool": "openbid-bidder 0.1", "machine": "  "}, "乙")
    report = compare(bids)
    (shared,) = report.shared_fingerprints
    assert (shared.field, shared.value, shared.bidders) == ("machine", "m-a", ("A", "C"))
    # Every bidder uses the same client, so the tool alone is not a signal unless asked for.
    both = compare(bids, SimilarityRules(fingerprint_fields=("tool", "machine")))
    assert [s.field for s in both.shared_fingerprints] == ["tool", "machine"]
    assert both.shared_fingerprints[0].bidders == ("A", "B", "C", "D")
    assert ("A", "C") in report.flagged_pairs


def test_from_a_real_bid_package_manifest():
    files = {"技术标.pdf": b"%PDF-1.7 technical", "商务标.pdf": b"%PDF-1.7 commercial"}
    data = package.build(files, {"price": "1000.00"}, tool="openbid-bidder 0.1", machine="abc")
    docs = BidDocuments.from_manifest("A", package.read(data).manifest, "甲乙丙")
    assert docs.files["技术标.pdf"] == hashlib.sha256(files["技术标.pdf"]).hexdigest()
    assert docs.fingerprint == {"tool": "openbid-bidder 0.1", "machine": "abc"}


def test_similarity_refusals():
    bids = near_identical_bids()
    refused("duplicate_bidder", compare, [bids[0], bids[0]])
    refused("similarity_rules", SimilarityRules, threshold=D(0))
    refused("similarity_rules", SimilarityRules, threshold=D("1.5"))
    refused("decimal_format", SimilarityRules, threshold=0.8)
    refused("similarity_rules", SimilarityRules, shingle_size=0)
    refused("similarity_rules", SimilarityRules, num_perm=8)
