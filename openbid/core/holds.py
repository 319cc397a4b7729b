"""Holds (暂停): a tender's next steps stopped while the law says so.

The law suspends a tender in two ways the platform must enforce at write time:

* a pending objection to the tender documents (or the prequalification documents) or to the
  evaluation result: "作出答复前，应当暂停招标投标活动" (Reg arts. 22, 54);
* a regulator's order while it handles a complaint: "必要时，行政监督部门可以责令暂停招标投标活动"
  (Reg art. 62).

The contexts that own the cases (``openbid.disputes``) register a *source* here; the contexts that
take a tender's steps (opening, evaluation, award, contracts) ask before taking one::

    holds.require_no_hold(tender, "award")      # a Conflict naming the case, reason and rule

This module depends on no context, so every context can consult it without importing the one that
keeps the cases. The steps are the names of the tender's lifecycle transitions
(``openbid.tendering.lifecycle``) that a hold may stop:

``open``                the opening starts (``openbid.opening.services._start_opening``)
``start_evaluation``    the committee starts evaluating (evaluation context)
``publish_candidates``  the candidates are published (award context)
``award``               the award is decided (award context, 定标)
``sign_contract``       the contract is signed (award context)

What stays possible during a hold, on purpose: clarifications and amended documents (the usual
answer to an objection to the documents, and the lawful way to postpone the bid deadline), bids
(sealed, they move nothing forward and refusing them would harm bidders who kept the deadline),
and termination of the tender.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openbid.core.errors import Conflict

STEPS: dict[str, Any] = {
    "open": gettext_lazy("the opening"),
    "start_evaluation": gettext_lazy("the evaluation"),
    "publish_candidates": gettext_lazy("the publication of the candidates"),
    "award": gettext_lazy("the award decision"),
    "sign_contract": gettext_lazy("the signing of the contract"),
}
# Every step from a given one onwards: a hold on a tender's documents stops the opening and all
# that follows it.
ORDER = tuple(STEPS)


def steps_from(step: str) -> tuple[str, ...]:
    """``step`` and every later step."""
    return ORDER[ORDER.index(step) :]


@dataclass(frozen=True)
class Hold:
    """One active hold on a tender: which case, why, under which rule, which steps it stops."""

    tender_id: int
    case: str  # the case's reference as people read it, e.g. "异议 YY-2026-0001"
    reason: str
    rule: str
    article: str
    steps: tuple[str, ...]
    since: dt.datetime
    url: str = ""


Source = Callable[[int], list[Hold]]
_sources: list[Source] = []


def register_source(source: Source) -> Source:
    """Register a function returning the active holds of a tender (by id), every step."""
    if source not in _sources:
        _sources.append(source)
    return source


def active_holds(tender: Any, step: str | None = None) -> list[Hold]:
    """The holds in force on ``tender`` (a Tender or its id), those stopping ``step`` if given."""
    if step is not None and step not in STEPS:
        raise ValueError(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
    tender_id = int(getattr(tender, "pk", tender))
    found = [h for source in _sources for h in source(tender_id)]
    if step is not None:
        found = [h for h in found if step in h.steps]
    return sorted(found, key=lambda h: h.since)


def require_no_hold(tender: Any, step: str) -> None:
    """Refuse ``step`` of ``tender`` while a hold stops it: a Conflict naming the case, the reason
    and the rule (the first hold, the oldest)."""
    found = active_holds(tender, step)
    if not found:
        return
    hold = found[0]
    raise Conflict(
        _(
            "%(step)s is suspended by %(case)s since %(since)s: %(reason)s (%(article)s). It can "
            "go ahead once the case is answered or the suspension is lifted."
        )
        % {
            "step": str(STEPS[step]).capitalize(),
            "case": hold.case,
            "since": timezone.localtime(hold.since).strftime("%Y-%m-%d %H:%M"),
            "reason": hold.reason,
            "article": hold.article,
        },
        field="tender",
        rule=hold.rule,
        article=hold.article,
        code="suspended",
    )


__all__ = ["ORDER", "STEPS", "Hold", "active_holds", "register_source", "require_no_hold"]
