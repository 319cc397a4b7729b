"""The trusted server clock.

Every decision that depends on time (a deadline, a period, a due reply) reads ``now()`` from here,
never ``datetime.now()`` or ``timezone.now()`` directly, so tests can move time explicitly and an
operator can see one place where time comes from.
"""

from __future__ import annotations

import datetime as dt
import threading

from django.utils import timezone

_lock = threading.Lock()
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    frozen = _frozen
    if frozen is not None:
        return frozen
    return timezone.now()


def today() -> dt.date:
    """Today's date in the platform's time zone (Asia/Shanghai by default)."""
    return timezone.localdate(now())


def freeze(at: dt.datetime) -> None:
    """Stop the clock at ``at`` (tests and simulations only)."""
    if timezone.is_naive(at):
        raise ValueError("the clock needs an aware datetime")
    global _frozen
    with _lock:
        _frozen = at


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move a frozen clock forward by ``delta`` and return the new time."""
    global _frozen
    with _lock:
        if _frozen is None:
            raise RuntimeError("the clock is not frozen; freeze() it before advancing")
        _frozen = _frozen + delta
        return _frozen


def unfreeze() -> None:
    global _frozen
    with _lock:
        _frozen = None
