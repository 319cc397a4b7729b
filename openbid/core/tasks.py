"""Clock-loop handlers of the core."""

from __future__ import annotations

import logging

from openbid.core import clock
from openbid.core.clockloop import on_tick
from openbid.core.workdays import coverage_warning

logger = logging.getLogger("openbid.calendar")
_warned_on: set[str] = set()


@on_tick("core.calendar_coverage")
def warn_when_next_year_is_missing() -> int:
    """Log, once a day from 1 November, that next year's holiday schedule is still missing.

    Centre staff see the same warning on their home page; this puts it in the operators' logs too.
    """
    today = clock.today().isoformat()
    if today in _warned_on:
        return 0
    warning = coverage_warning(clock.today())
    if warning is None:
        return 0
    _warned_on.add(today)
    logger.warning("%s", warning)
    return 1
