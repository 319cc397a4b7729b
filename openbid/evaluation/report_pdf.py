"""The evaluation report (评标报告) as a PDF, from plain data.

The report is rendered with ReportLab's platypus, in the Adobe CJK font ``STSong-Light`` (a
standard CID font that PDF readers supply, so no font file is embedded or shipped), in
*invariant* mode: the same data give the same bytes, so the SHA-256 the experts sign can be
recomputed by anyone who has the data. Nothing here decides anything; the caller passes the
figures the evaluation computed, with their working.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"


@dataclass(frozen=True)
class Member:
    name: str
    role: str  # e.g. 评标专家 / 招标人代表, with 组长 for the chair
    employer: str
    specialty: str = ""


@dataclass(frozen=True)
class BidRow:
    order: int
    bidder: str
    price: str
    status: str  # valid / rejected (with reason in ``note``)
    note: str = ""


@dataclass(frozen=True)
class ScoreRow:
    bidder: str
    parts: Sequence[str]  # one cell per criterion, in ``Report.criteria`` order
    total: str
    rank: int | None


@dataclass(frozen=True)
class Report:
    title: str
    tender: str
    project: str
    method: str
    evaluated_at: str
    members: Sequence[Member]
    bids: Sequence[BidRow]
    criteria: Sequence[str]
    scores: Sequence[ScoreRow]
    candidates: Sequence[str]
    findings: Sequence[str] = field(default_factory=tuple)
    working: Sequence[str] = field(default_factory=tuple)
    reasons: Sequence[str] = field(default_factory=tuple)
    footer: str = ""


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=14)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, alignment=TA_CENTER),
        "h": ParagraphStyle("h", parent=base, fontSize=12, leading=18, spaceBefore=8),
        "p": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
    }


def _table(rows: list[list[str]], styles: dict[str, ParagraphStyle], widths: list[float]) -> Table:
    cells = [[Paragraph(escape(str(value)), styles["cell"]) for value in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render(report: Report) -> bytes:
    """The report as PDF bytes (the same bytes for the same report)."""
    _register_font()
    styles = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=report.title,
        author="openbid",
        invariant=1,
    )
    width = A4[0] - 36 * mm
    story: list[object] = [
        Paragraph(escape(report.title), styles["title"]),
        Spacer(1, 6 * mm),
        Paragraph(escape(f"招标项目：{report.project}"), styles["p"]),
        Paragraph(escape(f"招标：{report.tender}"), styles["p"]),
        Paragraph(escape(f"评标办法：{report.method}"), styles["p"]),
        Paragraph(escape(f"评标时间：{report.evaluated_at}"), styles["p"]),
        Paragraph("一、评标委员会", styles["h"]),
        _table(
            [["姓名", "身份", "工作单位", "专业"]]
            + [[m.name, m.role, m.employer, m.specialty] for m in report.members],
            styles,
            [width * 0.18, width * 0.2, width * 0.37, width * 0.25],
        ),
        Paragraph("二、开标及投标文件", styles["h"]),
        _table(
            [["序号", "投标人", "投标报价（元）", "状态", "说明"]]
            + [[str(b.order), b.bidder, b.price, b.status, b.note] for b in report.bids],
            styles,
            [width * 0.08, width * 0.3, width * 0.18, width * 0.12, width * 0.32],
        ),
    ]
    if report.findings:
        story.append(Paragraph("三、清标情况", styles["h"]))
        story += [Paragraph(escape(f"· {f}"), styles["p"]) for f in report.findings]
    story.append(Paragraph("四、评审结果", styles["h"]))
    columns = ["投标人", *report.criteria, "合计", "排名"]
    part_width = width * 0.5 / max(len(report.criteria), 1)
    story.append(
        _table(
            [columns]
            + [
                [s.bidder, *s.parts, s.total, "" if s.rank is None else str(s.rank)]
                for s in report.scores
            ],
            styles,
            [width * 0.3] + [part_width] * len(report.criteria) + [width * 0.12, width * 0.08],
        )
    )
    if report.working:
        story.append(Paragraph("五、计算过程", styles["h"]))
        story += [Paragraph(escape(line), styles["cell"]) for line in report.working]
    if report.reasons:
        story.append(Paragraph("六、评审意见与理由", styles["h"]))
        story += [Paragraph(escape(f"· {r}"), styles["p"]) for r in report.reasons]
    story.append(Paragraph("七、推荐的中标候选人", styles["h"]))
    story += [
        Paragraph(escape(f"第{n}名：{name}"), styles["p"])
        for n, name in enumerate(report.candidates, start=1)
    ]
    story.append(Spacer(1, 8 * mm))
    story.append(
        Paragraph(
            escape(
                "本报告由评标委员会全体成员以各自的数字证书对其 SHA-256 摘要签名；签名记录于平台并存证。"
                + (f" {report.footer}" if report.footer else "")
            ),
            styles["cell"],
        )
    )
    doc.build(story)
    return out.getvalue()
