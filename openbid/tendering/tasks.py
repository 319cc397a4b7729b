"""Clock-loop handlers of tendering."""

from __future__ import annotations

from openbid.core.clockloop import on_tick


@on_tick("tendering.close_bidding")
def close_bidding() -> int:
    """Mark tenders whose bid deadline has passed as "bidding closed" (idempotent)."""
    from openbid.tendering.services import close_bidding_due

    return close_bidding_due()
