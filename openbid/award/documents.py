"""The award's documents as text: the official Chinese text whatever the reader's language, so the
SHA-256 that is signed, published and put in the ledger is one and the same for everyone.

Each function is a pure function of the rows it is given; the services store the text and its
SHA-256 and never change them (a contract change is a new version with a new text).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone

from openbid.core.money import format_yuan

REASONS_ZH = {
    "gave_up": "放弃中标",
    "cannot_perform": "因不可抗力不能履行合同或者不按照招标文件要求提交履约保证金",
    "ineligible": "被查实存在影响中标结果的违法行为等情形，不符合中标条件",
}
METHODS_ZH = {
    "first_ranked": "确定排名第一的中标候选人为中标人",
    "next_ranked": "排名在前的中标候选人不符合中标条件，依次确定下一名中标候选人为中标人",
    "vote": "定标委员会票决",
    "lottery": "可验证抽签",
    "deliberation": "集体议事",
}
DISCLOSED_ZH = {
    "quality": "质量",
    "duration": "工期（交货期）",
    "qualification": "资格能力条件",
    "project_manager": "项目负责人",
    "project_manager_certificate": "项目负责人证书名称及编号",
    "evaluation": "评标情况",
    "other": "其他公示内容",
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def when(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y年%m月%d日 %H:%M") if moment else "—"


def day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return f"{value.year}年{value.month}月{value.day}日"


def money(amount: Decimal | None) -> str:
    return format_yuan(amount, "zh-hans") if amount is not None else "—"


def _candidate_lines(candidates: Iterable[Any], ranked: bool) -> list[str]:
    lines = []
    for c in candidates:
        head = f"第{c.rank}名" if ranked and c.rank else f"候选人{c.position}"
        figures = [f"投标报价 {money(c.price)}"]
        if c.evaluated_price is not None:
            figures.append(f"评标价 {money(c.evaluated_price)}")
        if c.score is not None:
            figures.append(f"综合得分 {c.score.normalize():f}")
        lines.append(
            f"  {head}：{c.bidder.name}（统一社会信用代码 {c.bidder.credit_code}），"
            + "，".join(figures)
        )
        for key, label in DISCLOSED_ZH.items():
            value = (c.disclosed or {}).get(key)
            if value:
                lines.append(f"      {label}：{value}")
    return lines


def publicity_text(publicity: Any, candidates: list[Any], objection_channel: str) -> str:
    tender, section = publicity.tender, publicity.section
    project = tender.project
    lines = [
        f"项目名称及编号：{project.name}（项目代码 {project.code}）",
        f"招标项目：{tender.title}　第{section.number}标段 {section.name}",
        f"招标人：{project.tenderer.name}",
        "评标委员会推荐的中标候选人"
        + ("（按排序）" if publicity.ranked else "（不排序，由招标人按招标文件规定的方法定标）")
        + "：",
        *_candidate_lines(candidates, publicity.ranked),
        f"评标报告 SHA-256：{publicity.report_sha256}",
        f"公示期：{when(publicity.published_at)} 至 {when(publicity.ends_at)}"
        f"（不少于{publicity.days}日）。",
        "投标人或者其他利害关系人对评标结果有异议的，应当在中标候选人公示期间提出；"
        f"异议渠道：{objection_channel}。招标人作出答复前，暂停招标投标活动。",
    ]
    return "\n".join(lines) + "\n"


def decision_text(decision: Any) -> str:
    publicity = decision.publicity
    tender, section = publicity.tender, publicity.section
    winner = decision.winner
    lines = [
        f"招标项目：{tender.title}　第{section.number}标段 {section.name}",
        f"定标方法：{METHODS_ZH[decision.method]}",
    ]
    for item in decision.passed_over or []:
        lines.append(
            f"  不予确定为中标人：{item['name']}（{REASONS_ZH[item['reason']]}）：{item['explanation']}"
        )
    if decision.method == "vote":
        for vote in decision.votes.select_related("candidate__bidder").order_by("id"):
            reason = f"，理由：{vote.reason}" if vote.reason else ""
            lines.append(
                f"  定标委员会成员 {vote.member} 投票：{vote.candidate.bidder.name}{reason}"
            )
    if decision.draw_id is not None:
        draw = decision.draw
        lines.append(
            f"  抽签：抽签编号 {draw.pk}，输入摘要 {draw.inputs_sha256}，随机种子 {draw.seed}"
            f"（账本检查点 {draw.checkpoint.size if draw.checkpoint else '—'}），"
            f"任何人可用 openbid draw verify {draw.pk} 复核"
        )
    if decision.reasons:
        lines.append(f"定标理由：{decision.reasons}")
    lines.append(
        f"中标人：{winner.bidder.name}（统一社会信用代码 {winner.bidder.credit_code}），"
        f"中标价 {money(winner.price)}"
    )
    lines.append(f"定标时间：{when(decision.decided_at)}")
    return "\n".join(lines) + "\n"


def award_notice_text(notice: Any) -> str:
    decision = notice.decision
    tender, section = decision.publicity.tender, decision.publicity.section
    winner = decision.winner
    return (
        "\n".join(
            [
                "中标通知书",
                f"{notice.recipient.name}：",
                f"你方于投标截止时间递交的{tender.title}第{section.number}标段（{section.name}）"
                f"投标文件已被确定为中标，中标价 {money(winner.price)}。",
                "请你方自本通知书发出之日起三十日内，按照招标文件和你方投标文件，"
                f"与{tender.project.tenderer.name}在本平台在线订立书面合同。",
                f"招标人：{tender.project.tenderer.name}（统一社会信用代码 "
                f"{tender.project.tenderer.credit_code}）",
                f"定标编号：{decision.pk}；定标文件 SHA-256：{decision.sha256}",
            ]
        )
        + "\n"
    )


def result_notice_text(notice: Any) -> str:
    decision = notice.decision
    tender, section = decision.publicity.tender, decision.publicity.section
    winner = decision.winner
    return (
        "\n".join(
            [
                "中标结果通知书",
                f"{notice.recipient.name}：",
                f"{tender.title}第{section.number}标段（{section.name}）已确定中标人："
                f"{winner.bidder.name}，中标价 {money(winner.price)}。",
                "感谢你方参与投标。你方的投标保证金将按规定退还。",
                f"招标人：{tender.project.tenderer.name}",
                f"定标编号：{decision.pk}；定标文件 SHA-256：{decision.sha256}",
            ]
        )
        + "\n"
    )


def result_announcement_text(decision: Any, issued_at: dt.datetime) -> str:
    return (
        decision_text(decision)
        + f"中标通知书发出时间：{when(issued_at)}；未中标的投标人已同时收到中标结果通知。\n"
    )


def written_report_text(tender: Any, decisions: list[Any], filed_at: dt.datetime) -> str:
    project = tender.project
    lines = [
        "招标投标情况书面报告",
        f"项目名称及编号：{project.name}（项目代码 {project.code}，审批文号 {project.approval_ref}）",
        f"招标人：{project.tenderer.name}（统一社会信用代码 {project.tenderer.credit_code}）",
    ]
    if project.agency is not None:
        lines.append(f"招标代理机构：{project.agency.name}")
    lines += [
        f"招标项目：{tender.title}；招标方式：{'邀请招标' if tender.method == 'invited' else '公开招标'}",
        f"招标公告发布时间：{when(tender.published_at)}；投标截止及开标时间：{when(tender.bid_deadline)}",
    ]
    for decision in decisions:
        publicity = decision.publicity
        section = publicity.section
        bids = section.bids.filter(status="valid").count()
        lines += [
            f"第{section.number}标段 {section.name}：有效投标 {bids} 家",
            f"  中标候选人公示：{when(publicity.published_at)} 至 {when(publicity.ends_at)}",
            *[f"  {line}" for line in decision.text.rstrip("\n").splitlines()],
        ]
        award = decision.notices.filter(kind="award").first()
        if award is not None and award.issued_at is not None:
            lines.append(f"  中标通知书发出时间：{when(award.issued_at)}")
    lines.append(f"报告提交时间：{when(filed_at)}")
    return "\n".join(lines) + "\n"


# --- contract templates ---------------------------------------------------------------------------

PLACEHOLDERS: Mapping[str, str] = {
    "contract_number": "合同编号",
    "tenderer": "招标人（发包人）名称",
    "tenderer_code": "招标人统一社会信用代码",
    "winner": "中标人（承包人）名称",
    "winner_code": "中标人统一社会信用代码",
    "project": "项目名称",
    "project_code": "项目代码",
    "tender": "招标项目名称",
    "section": "标段",
    "price": "合同价款",
    "duration_days": "工期（日历天）",
    "key_terms": "主要条款",
    "award_notice_date": "中标通知书发出日期",
}


def template_placeholders(body: str) -> tuple[list[str], bool]:
    """The ``${name}`` placeholders of a template body, and whether the body is well-formed."""
    template = string.Template(body)
    return list(template.get_identifiers()), template.is_valid()


def contract_text(body: str, values: Mapping[str, str]) -> str:
    text = string.Template(body).substitute(values)
    return text if text.endswith("\n") else text + "\n"
