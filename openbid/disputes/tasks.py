"""Clock-loop handler of disputes: warnings before targets and limits, escalation when overdue."""

from __future__ import annotations

from openbid.core.clockloop import on_tick


@on_tick("disputes.timers")
def check_timers() -> int:
    """Give each due warning and escalation once (idempotent; ``disputes.timers``)."""
    from openbid.disputes.timers import check_timers as check

    return check()
