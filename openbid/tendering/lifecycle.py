"""The life of a tender, defined once: the services enforce it and the public flowchart draws it.

Each transition names the states it may start from, the state it leads to, and who or what takes
it. Every service that changes ``Tender.status`` first asks ``check`` whether the transition is
allowed from the current state.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from openbid.core.errors import Conflict


class State(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published (accepting bids)")
    BIDDING_CLOSED = "bidding_closed", _("bidding closed")
    OPENED = "opened", _("opened")
    EVALUATING = "evaluating", _("under evaluation")
    PUBLICITY = "publicity", _("candidates in publicity")
    AWARDED = "awarded", _("awarded")
    CONTRACTED = "contracted", _("contract signed")
    ARCHIVED = "archived", _("archived")
    CANCELLED = "cancelled", _("cancelled (招标终止)")
    FAILED = "failed", _("failed (流标)")


@dataclass(frozen=True)
class Transition:
    name: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    by: str | Promise  # who or what takes it, as shown on the flowchart


_BEFORE_AWARD = frozenset(
    {
        State.DRAFT,
        State.PUBLISHED,
        State.BIDDING_CLOSED,
        State.OPENED,
        State.EVALUATING,
        State.PUBLICITY,
    }
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "publish",
        _("publish the notice"),
        frozenset({State.DRAFT}),
        State.PUBLISHED,
        _("tenderer or agency"),
    ),
    Transition(
        "close_bidding",
        _("bid deadline passes"),
        frozenset({State.PUBLISHED}),
        State.BIDDING_CLOSED,
        _("platform clock"),
    ),
    Transition(
        "open",
        _("open the bids"),
        frozenset({State.BIDDING_CLOSED}),
        State.OPENED,
        _("opening session"),
    ),
    Transition(
        "start_evaluation",
        _("committee starts evaluating"),
        frozenset({State.OPENED}),
        State.EVALUATING,
        _("evaluation committee"),
    ),
    Transition(
        "publish_candidates",
        _("publish the candidates"),
        # From opened too: the evaluation report may be signed by a committee that evaluated
        # without the tender being marked as under evaluation.
        frozenset({State.OPENED, State.EVALUATING}),
        State.PUBLICITY,
        _("tenderer or agency"),
    ),
    Transition(
        "award", _("decide the award"), frozenset({State.PUBLICITY}), State.AWARDED, _("tenderer")
    ),
    Transition(
        "sign_contract",
        _("sign the contract"),
        frozenset({State.AWARDED}),
        State.CONTRACTED,
        _("tenderer and winner"),
    ),
    Transition(
        "archive",
        _("archive the project"),
        frozenset({State.CONTRACTED}),
        State.ARCHIVED,
        _("trading centre"),
    ),
    Transition(
        "cancel", _("terminate the tender"), _BEFORE_AWARD, State.CANCELLED, _("tenderer or agency")
    ),
    Transition(
        "fail",
        _("fewer than 3 bids, or all rejected"),
        frozenset({State.BIDDING_CLOSED, State.OPENED, State.EVALUATING}),
        State.FAILED,
        _("platform or committee"),
    ),
)
BY_NAME = {t.name: t for t in TRANSITIONS}
# The main line of the flowchart, top to bottom; the other states branch off it.
MAIN_LINE = (
    State.DRAFT,
    State.PUBLISHED,
    State.BIDDING_CLOSED,
    State.OPENED,
    State.EVALUATING,
    State.PUBLICITY,
    State.AWARDED,
    State.CONTRACTED,
    State.ARCHIVED,
)
SIDE_STATES = (State.CANCELLED, State.FAILED)


def check(name: str, status: str) -> Transition:
    """The transition ``name`` if a tender in ``status`` may take it, else a Conflict."""
    transition = BY_NAME[name]
    if status not in transition.sources:
        raise Conflict(
            _("“%(action)s” is not possible for a tender that is %(status)s.")
            % {"status": State(status).label, "action": transition.label},
            field="status",
            rule="tender_lifecycle",
        )
    return transition
