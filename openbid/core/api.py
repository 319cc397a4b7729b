"""Public API of the core: statutory rules, the working-day calendar, and the event record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from openbid.core import clock, rules, workdays
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import NotFound
from openbid.core.models import DomainEvent

router = Router(tags=["core"])


class RuleOut(Schema):
    key: str
    title: str
    title_zh: str
    value: str | None
    unit: str
    article: str
    in_force_from: dt.date
    in_force_until: dt.date | None
    kind: str
    bound: str | None
    display: str
    checked: bool


def _rule_out(rule: Any) -> dict[str, Any]:
    return {
        "key": rule.key,
        "title": rule.title,
        "title_zh": rule.title_zh,
        "value": None if rule.value is None else str(rule.value),
        "unit": rule.unit,
        "article": rule.article,
        "in_force_from": rule.in_force_from,
        "in_force_until": rule.in_force_until,
        "kind": rule.kind,
        "bound": rule.bound,
        "display": rule.display_value,
        "checked": rule.checked,
    }


@router.get("/rules", response=list[RuleOut], auth=PUBLIC, summary="Statutory rules in force")
def list_rules(request: HttpRequest, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Every rule in force on ``on`` (default today)."""
    return [_rule_out(r) for r in rules.all_rules(on=on or clock.today())]


@router.get("/rules/{key}", response=RuleOut, auth=PUBLIC, summary="One statutory rule")
def get_rule(request: HttpRequest, key: str, on: dt.date | None = None) -> dict[str, Any]:
    try:
        return _rule_out(rules.rule(key, on=on or clock.today()))
    except rules.RuleNotFound as missing:
        raise NotFound(str(missing), field="key", rule="rules_table") from missing


class WorkingDayOut(Schema):
    date: dt.date
    working_day: bool


class AddWorkingDaysOut(Schema):
    start: dt.date
    days: int
    result: dt.date


@router.get("/calendar/{day}", response=WorkingDayOut, auth=PUBLIC, summary="Is it a working day?")
def working_day(request: HttpRequest, day: dt.date) -> dict[str, Any]:
    return {"date": day, "working_day": workdays.is_working_day(day)}


@router.get(
    "/calendar/{start}/plus-working-days/{days}",
    response=AddWorkingDaysOut,
    auth=PUBLIC,
    summary="The n-th working day after a date (the start day is not counted)",
)
def plus_working_days(request: HttpRequest, start: dt.date, days: int) -> dict[str, Any]:
    return {"start": start, "days": days, "result": workdays.add_working_days(start, days)}


class EventOut(Schema):
    seq: int = Field(..., alias="pk")
    occurred_at: dt.datetime
    type: str
    actor_org: int | None = Field(None, alias="actor_org_id")
    subjects: list[str]
    payload: dict[str, Any]
    private_digest: str

    @staticmethod
    def resolve_subjects(obj: DomainEvent) -> list[str]:
        return [f"{s.kind}:{s.ref}" for s in obj.subjects.all()]


@router.get("/events", response=list[EventOut], auth=PUBLIC, summary="The event record, in order")
def list_events(
    request: HttpRequest, after: int = 0, limit: int = 100, subject: str | None = None
) -> Any:
    """Events with sequence number greater than ``after``, oldest first (page by the last ``seq``).

    ``subject`` (``kind:id``) narrows to one subject's timeline. Public payloads and digests only.
    """
    qs = DomainEvent.objects.filter(pk__gt=after).prefetch_related("subjects").order_by("id")
    if subject and ":" in subject:
        kind, ref = subject.split(":", 1)
        qs = qs.filter(subjects__kind=kind, subjects__ref=ref)
    return qs[: max(1, min(limit, 1000))]
