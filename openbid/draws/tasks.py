"""Clock-loop handler of the draws: perform committed draws once a checkpoint fixes their seed."""

from __future__ import annotations

from openbid.core.clockloop import on_tick


@on_tick("draws.perform_pending")
def perform_pending() -> int:
    """Idempotent: a draw already performed (on demand, or by an earlier tick) is left alone."""
    from openbid.draws.services import perform_pending as perform

    return perform()
