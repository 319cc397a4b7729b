"""Timers of case steps: statutory limit, target, warnings given once, escalation, handling time.

Every timed step of a case (an objection's reply, a complaint's acceptance decision and decision,
the answer to a suggestion) has one ``Timer`` row, started by the service that opens the step and
stopped by the service that takes it. ``check_timers`` — run by the clock loop and safe to run any
number of times — gives each warning once (an ``Alert`` row, unique per timer, kind and recipient,
and a ledger event):

* ``target``: from ``OPENBID_DISPUTES_WARNING_HOURS`` (24) hours before the target, to the handler;
* ``limit``: from the same time before the statutory limit, to the handler;
* ``escalated``: once the limit has passed and the step is not done, to the supervising body — for
  an objection the competent regulator of the tender (responsibility list; the trading centre if
  none is listed), for a complaint the regulator's department itself (a distinct escalation alert
  on its people's home pages), for a suggestion the trading centre.

``handling_figures`` and ``handling_rates`` expose the measured handling times for the indicators.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.conf import settings

from openbid.accounts.models import Organisation
from openbid.core import clock, workdays
from openbid.core.events import record_event, service
from openbid.disputes import windows
from openbid.disputes.models import Alert, Timer


def warning_lead() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "OPENBID_DISPUTES_WARNING_HOURS", 24)))


def start(
    case: str,
    case_id: int,
    step: str,
    key: str,
    started_at: dt.datetime,
    *,
    handler: Organisation | None,
    rules_on: dt.date | None = None,
) -> Timer:
    """Start the timer of a step (inside the calling service's transaction)."""
    limit = windows.limit_for(key, started_at, rules_on=rules_on)
    return Timer.objects.create(
        case=case,
        case_id=case_id,
        step=step,
        handler=handler,
        rule=limit.rule.key,
        article=limit.rule.article,
        started_at=started_at,
        target_at=limit.target_at,
        due_at=limit.due_at,
    )


def timer_of(case: str, case_id: int, step: str) -> Timer | None:
    return Timer.objects.filter(case=case, case_id=case_id, step=step).first()


def finish(case: str, case_id: int, step: str, at: dt.datetime) -> Timer | None:
    """Stop the timer of a step: the step is done at ``at``."""
    timer = Timer.objects.select_for_update().filter(case=case, case_id=case_id, step=step).first()
    if timer is not None and timer.done_at is None:
        timer.done_at = at
        timer.paused_at = None
        timer.save(update_fields=["done_at", "paused_at"])
    return timer


def pause(timer: Timer, at: dt.datetime) -> None:
    timer.paused_at = at
    timer.save(update_fields=["paused_at"])


def resume(timer: Timer, at: dt.datetime) -> int:
    """End a pause: the target and the limit move by the working days it covered. Returns them."""
    if timer.paused_at is None:
        return 0
    days = windows.working_days_in(timer.paused_at, at)
    timer.target_at = windows.extend_by_working_days(timer.target_at, days)
    timer.due_at = windows.extend_by_working_days(timer.due_at, days)
    timer.paused_at = None
    timer.save(update_fields=["target_at", "due_at", "paused_at"])
    return days


# --- warnings -----------------------------------------------------------------------------------


def supervisor_of(timer: Timer) -> Organisation | None:
    """Who an overdue step is escalated to (see the module docstring)."""
    from openbid.disputes import services

    if timer.case == Timer.Case.OBJECTION:
        from openbid.disputes.models import Objection

        objection = Objection.objects.select_related("tender__project").get(pk=timer.case_id)
        entry = services.competent_regulator(objection.tender.project)
        return entry.regulator if entry is not None else services.trading_centre()
    if timer.case == Timer.Case.COMPLAINT:
        return timer.handler
    return services.trading_centre()


def due_alerts(timer: Timer, now: dt.datetime) -> list[tuple[str, Organisation | None]]:
    """The alerts a timer calls for at ``now`` (given or not)."""
    if timer.done_at is not None or timer.paused_at is not None:
        return []
    lead = warning_lead()
    out: list[tuple[str, Organisation | None]] = []
    if now >= timer.target_at - lead:
        out.append((Alert.Kind.TARGET, timer.handler))
    if now >= timer.due_at - lead:
        out.append((Alert.Kind.LIMIT, timer.handler))
    if now >= timer.due_at:
        out.append((Alert.Kind.ESCALATED, supervisor_of(timer)))
    return out


def check_timers(now: dt.datetime | None = None) -> int:
    """Give every warning and escalation that is due and not yet given (idempotent)."""
    now = now or clock.now()
    given = 0
    open_timers = Timer.objects.filter(
        done_at__isnull=True, paused_at__isnull=True, target_at__lte=now + warning_lead()
    ).values_list("pk", flat=True)
    for pk in list(open_timers):
        given += _alert(pk, now)
    return given


@service
def _alert(timer_id: int, now: dt.datetime) -> int:
    timer = Timer.objects.select_for_update().get(pk=timer_id)
    given = 0
    for kind, to in due_alerts(timer, now):
        if to is None or Alert.objects.filter(timer=timer, kind=kind, to=to).exists():
            continue
        alert = Alert.objects.create(timer=timer, kind=kind, to=to, at=now)
        record_event(
            f"disputes.timer.{'escalated' if kind == Alert.Kind.ESCALATED else 'warned'}",
            subjects=[(timer.case, timer.case_id), ("organisation", to.pk)],
            payload={
                "alert": alert.pk,
                "kind": kind,
                "step": timer.step,
                "target": timer.target_at,
                "due": timer.due_at,
                "rule": timer.rule,
                "article": timer.article,
                "to": to.credit_code,
            },
        )
        given += 1
    return given


# --- handling time --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handling:
    """One timed step as measured: the indicators read these."""

    case: str
    case_id: int
    step: str
    rule: str
    started_at: dt.datetime
    done_at: dt.datetime | None
    target_at: dt.datetime
    due_at: dt.datetime
    working_days: int | None  # working days after the start day up to the day it was done
    hours: Decimal | None
    within_target: bool | None
    within_limit: bool | None


def _measure(timer: Timer) -> Handling:
    done = timer.done_at
    hours = None
    days = None
    if done is not None:
        seconds = Decimal(int((done - timer.started_at).total_seconds()))
        hours = (seconds / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        days = workdays.working_days_between(
            windows.local_day(timer.started_at), windows.local_day(done)
        )
    return Handling(
        case=timer.case,
        case_id=timer.case_id,
        step=timer.step,
        rule=timer.rule,
        started_at=timer.started_at,
        done_at=done,
        target_at=timer.target_at,
        due_at=timer.due_at,
        working_days=days,
        hours=hours,
        within_target=None if done is None else done <= timer.target_at,
        within_limit=None if done is None else done <= timer.due_at,
    )


def handling_figures(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None, case: str | None = None
) -> list[Handling]:
    """Every timed step started in [since, until), measured."""
    qs = Timer.objects.all().order_by("started_at", "id")
    if since is not None:
        qs = qs.filter(started_at__gte=since)
    if until is not None:
        qs = qs.filter(started_at__lt=until)
    if case is not None:
        qs = qs.filter(case=case)
    return [_measure(t) for t in qs]


def _rate(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def handling_rates(figures: Iterable[Handling]) -> dict[str, dict[str, Any]]:
    """Per ``case.step``: how many, how many done, the on-time rates (target and limit) of the done
    ones, and their mean handling time in working days."""
    groups: dict[str, list[Handling]] = defaultdict(list)
    for f in figures:
        groups[f"{f.case}.{f.step}"].append(f)
    out: dict[str, dict[str, Any]] = {}
    for key, items in sorted(groups.items()):
        done = [f for f in items if f.done_at is not None]
        days = [f.working_days or 0 for f in done]
        out[key] = {
            "count": len(items),
            "done": len(done),
            "within_target_rate": _rate(sum(1 for f in done if f.within_target), len(done)),
            "within_limit_rate": _rate(sum(1 for f in done if f.within_limit), len(done)),
            "mean_working_days": (
                (Decimal(sum(days)) / len(days)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
                if days
                else None
            ),
        }
    return out
