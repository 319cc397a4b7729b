"""Composing and publishing notices. The text is the official Chinese text, whatever the language
of the person who publishes it; its SHA-256 goes to the ledger with the publication event."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone

from openbid.core.money import format_yuan
from openbid.tendering.models import Clarification, Notice, Tender

_AWARD_METHODS: dict[str, str] = {
    Tender.AwardMethod.VOTE: "定标委员会票决",
    Tender.AwardMethod.LOTTERY: "可验证抽签",
    Tender.AwardMethod.DELIBERATION: "集体议事",
}


def _time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y年%m月%d日 %H:%M")


def publish(tender: Tender, kind: str, body: str, now: dt.datetime) -> Notice:
    titles: dict[str, str] = {
        Notice.Kind.TENDER: f"{tender.title} 招标公告",
        Notice.Kind.INVITATION: f"{tender.title} 投标邀请书",
        Notice.Kind.CLARIFICATION: f"{tender.title} 澄清/修改公告",
        Notice.Kind.CANCELLATION: f"{tender.title} 招标终止公告",
        Notice.Kind.CANDIDATES: f"{tender.title} 中标候选人公示",
        Notice.Kind.RESULT: f"{tender.title} 中标结果公告",
    }
    return Notice.objects.create(
        tender=tender,
        kind=kind,
        title=titles[kind][:250],
        body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        published_at=now,
    )


def tender_notice_text(tender: Tender) -> str:
    project = tender.project
    lines = [
        f"一、项目名称及编号：{project.name}（项目代码 {project.code}）",
        f"二、招标人：{project.tenderer.name}（统一社会信用代码 {project.tenderer.credit_code}）",
    ]
    if project.agency is not None:
        lines.append(
            f"    招标代理机构：{project.agency.name}（统一社会信用代码 {project.agency.credit_code}）"
        )
    lines += [
        f"三、招标方式：{'邀请招标' if tender.method == Tender.Method.INVITED else '公开招标'}；"
        f"评标办法：{'综合评估法' if tender.evaluation_method == Tender.Evaluation.COMPREHENSIVE else '经评审的最低投标价法'}"
        + (
            f"；评定分离，定标方法：{_AWARD_METHODS.get(tender.award_method, '')}"
            + ("，中标候选人不排序" if not tender.candidates_ranked else "")
            if tender.separated_award
            else ""
        ),
        "四、标段划分：",
    ]
    for s in tender.sections.all():
        ceiling = (
            f"，最高投标限价 {format_yuan(s.ceiling_price, 'zh-hans')}"
            if s.ceiling_price is not None
            else ""
        )
        lines.append(
            f"    第{s.number}标段 {s.name}：估算价 {format_yuan(s.estimated_price, 'zh-hans')}{ceiling}，"
            f"投标保证金 {format_yuan(s.deposit, 'zh-hans')}"
        )
    lines += [
        f"五、投标人资格要求：{tender.qualification}",
        f"六、招标文件获取：{_time(tender.doc_issue_start)} 至 {_time(tender.doc_issue_end)}，"
        "在本平台在线免费获取，无需报名或其他前置条件。",
        f"七、澄清及答疑：投标人可于 {_time(tender.question_deadline)} 前在线提问。",
        f"八、投标截止时间及开标时间：{_time(tender.bid_deadline)}；投标文件须在线加密递交，逾期送达的不予受理。",
        "九、开标方式：在本平台不见面开标，投标人无需到场，在线解密投标文件。",
    ]
    return "\n".join(lines) + "\n"


def clarification_text(tender: Tender, clarification: Clarification) -> str:
    lines = [f"第{clarification.number}号澄清/修改：", clarification.text]
    if clarification.bid_deadline != clarification.previous_deadline:
        lines.append(
            f"投标截止时间及开标时间由 {_time(clarification.previous_deadline)} "
            f"调整为 {_time(clarification.bid_deadline)}。"
        )
    return "\n".join(lines) + "\n"


def cancellation_text(tender: Tender, reason: str) -> str:
    return f"{tender.title} 招标终止。\n终止原因：{reason}\n已获取招标文件的潜在投标人及已递交投标文件的投标人将另行获得通知。\n"
