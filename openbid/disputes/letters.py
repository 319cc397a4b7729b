"""Standard letters (函件格式标准化) for every step of an objection or a complaint.

Each letter is a plain-text template (``templates/disputes/letters/<kind>.txt``) filled with the
case's data: the same text is shown on an HTML page and downloaded as ``.txt``. Letters are
official documents and follow the Chinese formats (编号, addressee, body, issuing body, date) in
either interface language; their titles are translated for the pages that list them.

A published decision (``public=True``) is the same letter without the complainant's name and
requests: complainants are anonymous to the public.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from openbid.core import holds, rules
from openbid.disputes import windows
from openbid.disputes.models import Complaint, InvestigationStep, Matter, Objection


@dataclass(frozen=True)
class Letter:
    kind: str
    title: str | Promise
    ref: int  # the object the letter is about (objection, complaint, or request step)


TITLES: dict[str, Promise] = {
    "objection_receipt": _("Objection receipt (异议收件回执)"),
    "objection_reply": _("Reply to the objection (异议答复函)"),
    "complaint_receipt": _("Complaint receipt (投诉收件回执)"),
    "complaint_acceptance": _("Notice of acceptance (投诉受理通知书)"),
    "complaint_rejection": _("Notice of non-acceptance (投诉不予受理通知书)"),
    "materials_request": _("Request for materials (调取证据材料通知书)"),
    "suspension_order": _("Suspension order (暂停招标投标活动通知书)"),
    "complaint_decision": _("Complaint decision (投诉处理决定书)"),
    "referral": _("Referral letter (案件移送函)"),
}
OBJECTION_LETTERS = ("objection_receipt", "objection_reply")
COMPLAINT_LETTERS = (
    "complaint_receipt",
    "complaint_acceptance",
    "complaint_rejection",
    "suspension_order",
    "complaint_decision",
    "referral",
)


def objection_letters(o: Objection) -> list[Letter]:
    kinds = ["objection_receipt"] + (["objection_reply"] if o.replied_at else [])
    return [Letter(k, TITLES[k], o.pk) for k in kinds]


def complaint_letters(c: Complaint) -> list[Letter]:
    kinds = ["complaint_receipt"]
    if c.accepted_at:
        kinds.append("complaint_acceptance")
    if c.rejected_at:
        kinds.append("complaint_rejection")
    if c.suspensions.exists():
        kinds.append("suspension_order")
    if c.decided_at:
        kinds.append("complaint_decision")
    if c.referrals.exists():
        kinds.append("referral")
    out = [Letter(k, TITLES[k], c.pk) for k in kinds]
    for step in c.steps.filter(kind=InvestigationStep.Kind.REQUEST):
        out.append(Letter("materials_request", TITLES["materials_request"], step.pk))
    return out


def _matter(value: str) -> str:
    with translation.override("zh-hans"):
        return str(Matter(value).label)


def render(kind: str, obj: Any, *, public: bool = False) -> str:
    """The letter's text, in the official (Chinese) format."""
    context: dict[str, Any] = {"platform_name": settings.OPENBID_PLATFORM_NAME, "public": public}
    if isinstance(obj, Objection):
        on = obj.tender.rules_date
        reply = rules.rule("objection_reply", on=on)
        window = rules.rule("complaint_window", on=on)
        context.update(
            o=obj,
            matter=_matter(obj.matter),
            reply_days=reply.int_value,
            reply_article=reply.article,
            complaint_days=window.int_value,
            complaint_article=window.article,
        )
    elif isinstance(obj, InvestigationStep):
        context.update(c=obj.complaint, step=obj)
    else:
        filed_on = windows.local_day(obj.filed_at)
        accept = rules.rule("complaint_accept", on=filed_on)
        decide = rules.rule("complaint_decide", on=filed_on)
        suspension = obj.suspensions.order_by("-started_at").first()
        with translation.override("zh-hans"):
            outcome = obj.get_outcome_display() if obj.outcome else ""
            ground = obj.get_rejection_display() if obj.rejection else ""
            steps = "、".join(str(holds.STEPS[s]) for s in suspension.steps) if suspension else ""
        context.update(
            c=obj,
            matter=_matter(obj.matter),
            respondents=list(obj.respondents.order_by("id")),
            accept_days=accept.int_value,
            accept_article=accept.article,
            decide_days=decide.int_value,
            decide_article=decide.article,
            outcome=outcome,
            ground=ground,
            s=suspension,
            steps=steps,
            referrals=list(obj.referrals.all()),
        )
    with translation.override("zh-hans"):
        text = render_to_string(f"disputes/letters/{kind}.txt", context)
    # Templates leave blank lines where optional parts are absent: at most one in a row.
    lines: list[str] = []
    for line in text.strip().splitlines():
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines) + "\n"
