"""Clock-loop handler of the opening."""

from __future__ import annotations

from openbid.core.clockloop import on_tick


@on_tick("opening.start_due")
def start_due() -> int:
    """Start the openings that are due (or fail tenders with too few bids), and close the
    decryption windows that have passed. Idempotent; the same is applied lazily on read."""
    from openbid.core import clock
    from openbid.opening.services import close_decryption, start_due_openings

    now = clock.now()
    return start_due_openings(now) + close_decryption(now)
