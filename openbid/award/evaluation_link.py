"""Where the award meets the other contexts: the evaluation's signed report puts the candidates in
publicity, the disputes' holds stop the award's steps, and the deposits are refunded on the result
and on the contract (the deposits context listens; see ``openbid/deposits/apps.py``).

Connected in ``AwardConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from openbid.award import hooks, services
from openbid.core import holds
from openbid.opening.models import OpenedBid
from openbid.tendering.models import Tender

# What the publicity says when the bid did not state an item (the law asks for the item; the
# platform does not invent it).
NOT_STATED = "投标文件未载明"

# Keys a bid form may use for the disclosed items, English or Chinese.
_FORM_KEYS = {
    "quality": ("quality", "质量", "质量目标", "质量标准"),
    "qualification": ("qualification", "资格", "资质"),
    "project_manager": ("project_manager", "项目经理"),
    "project_manager_certificate": (
        "project_manager_certificate",
        "项目经理证书",
        "项目经理注册证书",
        "建造师证书",
    ),
}


def _form_value(form: dict[str, Any], item: str) -> str:
    for key in _FORM_KEYS[item]:
        value = form.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def disclosed_items(opened: OpenedBid, tender: Tender) -> dict[str, str]:
    """The items the candidate publicity discloses (``publicity_contents``), from the bid as read
    out at the opening: what the bid did not state is shown as not stated."""
    form = opened.form or {}
    items = {
        "quality": _form_value(form, "quality") or NOT_STATED,
        "duration": f"{opened.duration_days}日历天" if opened.duration_days else NOT_STATED,
        "qualification": _form_value(form, "qualification")
        or f"满足招标文件资格条件：{tender.qualification}",
    }
    if tender.kind == Tender.Kind.WORKS:
        items["project_manager"] = _form_value(form, "project_manager") or NOT_STATED
        items["project_manager_certificate"] = (
            _form_value(form, "project_manager_certificate") or NOT_STATED
        )
    return items


def publish_from_report(tender: Tender, report: Any) -> None:
    """The evaluation report is signed by every member: publish its recommended candidates (at
    most 3, in its order) with the report's SHA-256 (Reg art. 54). Runs in the transaction of the
    last signature."""
    tender = Tender.objects.get(pk=tender.pk)
    rows = list(report.candidates)
    opened = {
        o.pk: o
        for o in OpenedBid.objects.filter(pk__in=[row["bid"] for row in rows]).select_related(
            "bid__organisation"
        )
    }
    comprehensive = tender.evaluation_method == Tender.Evaluation.COMPREHENSIVE
    candidates = [
        services.CandidateIn(
            bidder=opened[row["bid"]].bid.organisation,
            price=opened[row["bid"]].price,
            rank=row["rank"] if tender.candidates_ranked else None,
            score=row["figure"] if comprehensive else None,
            evaluated_price=None if comprehensive else row["figure"],
            disclosed=disclosed_items(opened[row["bid"]], tender),
        )
        for row in rows
    ]
    services.publish_candidates(tender, candidates, report.sha256)


def holds_block(tender: Any, step: str | None) -> str | None:
    """The disputes' holds (objections pending, a regulator's suspension) on the award's steps."""
    found = holds.active_holds(tender, step or "award")
    if not found:
        return None
    hold = found[0]
    return f"{hold.case}: {hold.reason} ({hold.article})"


def connect() -> None:
    from openbid.evaluation import signals

    if publish_from_report not in signals.report_signed_callbacks:
        signals.report_signed_callbacks.append(publish_from_report)
    hooks.add_block_check(holds_block)
