"""Recording domain events: one door per state change writes one event, in its own transaction.

A service calls ``record_event`` after it has changed its rows and before its transaction commits.
If the transaction rolls back, the event goes with it; if the event cannot be written, the state
change does not happen either. Listeners registered with ``on_event`` (the ledger) run inside the
same transaction, so they too stand or fall with the change.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from openbid.core import clock
from openbid.core.models import DomainEvent, EventSubject

P = ParamSpec("P")
R = TypeVar("R")

_listeners: list[Callable[[DomainEvent], object]] = []


def on_event(listener: Callable[[DomainEvent], object]) -> Callable[[DomainEvent], object]:
    """Register ``listener`` to run for every recorded event, inside the recording transaction."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def service(func: Callable[P, R]) -> Callable[P, R]:
    """Mark a function as a service: it runs in one transaction, all or nothing."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic():
            return func(*args, **kwargs)

    return wrapper


def salted_digest(data: bytes, salt: bytes | None = None) -> tuple[str, bytes]:
    """SHA-256 over ``salt || data``; returns the hex digest and the salt (keep it to reveal later)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    return hashlib.sha256(salt + data).hexdigest(), salt


def _plain_json(value: Mapping[str, Any]) -> dict[str, Any]:
    # Dates, decimals and UUIDs become strings now, so what is stored is exactly what is published.
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def record_event(
    type: str,
    *,
    actor: Any = None,
    actor_org: Any = None,
    subjects: Iterable[tuple[str, object]] = (),
    payload: Mapping[str, Any] | None = None,
    private_digest: str = "",
) -> DomainEvent:
    """Append one event describing a state change made in the current transaction.

    ``type`` is ``<context>.<subject>.<what happened>`` (``accounts.organisation.registered``);
    ``subjects`` are ``(kind, id)`` pairs the event is about; ``payload`` is public data only.
    """
    if not connection.in_atomic_block:
        raise RuntimeError(
            "record_event must run inside the transaction of the state change it describes"
        )
    event = DomainEvent.objects.create(
        occurred_at=clock.now(),
        type=type,
        actor_user=actor if getattr(actor, "pk", None) else None,
        actor_org=actor_org,
        payload=_plain_json(payload or {}),
        private_digest=private_digest,
    )
    seen: set[tuple[str, str]] = set()
    rows = []
    for kind, ref in subjects:
        key = (kind, str(ref))
        if key not in seen:
            seen.add(key)
            rows.append(EventSubject(event=event, kind=kind, ref=str(ref)))
    EventSubject.objects.bulk_create(rows)
    for listener in _listeners:
        listener(event)
    return event


def timeline(kind: str, ref: object) -> Any:
    """The events about one subject, oldest first."""
    return DomainEvent.objects.filter(subjects__kind=kind, subjects__ref=str(ref)).order_by("id")
