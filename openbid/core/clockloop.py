"""The clock loop: calls idempotent services when a statutory time has passed.

Deadlines are enforced at write time by the services themselves; this loop only does what may
happen late without harm (an opening starts, a publicity period ends, a reply becomes overdue).
Every handler must be idempotent — it may run twice for the same moment, or late after a restart —
and the same handlers are also applied lazily when the affected rows are read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from openbid.core import clock

logger = logging.getLogger("openbid.clock")

Handler = Callable[[], int]
_handlers: dict[str, Handler] = {}


def on_tick(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` (returning how many things it changed) to run on every tick."""

    def register(handler: Handler) -> Handler:
        _handlers[name] = handler
        return handler

    return register


def handlers() -> dict[str, Handler]:
    return dict(_handlers)


def tick() -> dict[str, int]:
    """Run every handler once; one handler failing does not stop the others."""
    results: dict[str, int] = {}
    for name, handler in _handlers.items():
        try:
            results[name] = handler()
        except Exception:
            logger.exception("clock handler %s failed at %s", name, clock.now().isoformat())
            results[name] = -1
    return results
