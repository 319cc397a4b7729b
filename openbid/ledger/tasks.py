"""Background work of the ledger: periodic checkpoints, and asking witnesses to cosign them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from openbid.core import clock
from openbid.core.clockloop import on_tick


@on_tick("ledger.checkpoint")
def checkpoint_when_grown() -> int:
    """Issue a checkpoint if the log grew and the last one is older than the configured period."""
    from openbid.ledger import services, store

    latest = services.latest_checkpoint()
    if latest is not None:
        if latest.size == store.size():
            return 0
        age = clock.now() - latest.issued_at
        if age < dt.timedelta(seconds=settings.OPENBID_LEDGER_CHECKPOINT_SECONDS):
            return 0
    services.issue_checkpoint()
    from openbid.ledger.models import Witness
    from openbid.ledger.witness import collect_cosignatures

    if Witness.objects.filter(active=True).exists():
        # Network calls to witnesses belong in the task queue, not in the clock loop.
        collect_cosignatures.enqueue()
    return 1
