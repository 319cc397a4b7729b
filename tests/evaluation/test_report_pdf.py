"""The evaluation report PDF: valid, deterministic for the same data, and different for other data."""

from __future__ import annotations

import hashlib

from openbid.evaluation import report_pdf


def sample(price: str = "8,765,432.10") -> report_pdf.Report:
    return report_pdf.Report(
        title="评标报告",
        tender="示范道路改造工程施工招标",
        project="2026-330100-48-01-000001 示范道路改造工程",
        method="经评审的最低投标价法",
        evaluated_at="2026-03-30 09:00",
        members=[
            report_pdf.Member("张三", "评标专家（组长）", "某设计院", "市政道路"),
            report_pdf.Member("李四", "评标专家", "某大学", "给排水"),
        ],
        bids=[
            report_pdf.BidRow(1, "第一建设有限公司", price, "有效"),
            report_pdf.BidRow(
                2, "第二建设有限公司", "9,100,000.00", "否决", "工期超过招标文件要求"
            ),
        ],
        criteria=["评标价"],
        scores=[report_pdf.ScoreRow("第一建设有限公司", ["8,765,432.10"], "8,765,432.10", 1)],
        candidates=["第一建设有限公司"],
        findings=["第2号投标报价算术校核一致"],
        working=["评标价 = 投标报价 8,765,432.10 元，无调整"],
        reasons=["第2号投标人工期不满足要求，否决其投标"],
    )


def test_the_report_is_a_pdf_and_the_same_data_give_the_same_bytes():
    first = report_pdf.render(sample())
    assert first.startswith(b"%PDF-") and first.rstrip().endswith(b"%%EOF")
    assert b"STSong-Light" in first
    assert hashlib.sha256(report_pdf.render(sample())).digest() == hashlib.sha256(first).digest()
    assert report_pdf.render(sample("8,765,432.11")) != first
