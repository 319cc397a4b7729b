"""Clock-loop handlers of the award: what may happen late without harm (principle 2)."""

from __future__ import annotations

from openbid.core.clockloop import on_tick


@on_tick("award.deadlines")
def deadlines() -> int:
    """Record ended publicities; warn before, and flag after, the written report's and the
    contracts' statutory deadlines. Idempotent: each warning and flag is recorded once."""
    from openbid.award import services
    from openbid.core import clock

    now = clock.now()
    return (
        services.record_publicity_ends(now)
        + services.report_deadlines(now)
        + services.contract_deadlines(now)
    )
