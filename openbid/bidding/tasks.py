"""Clock-loop handlers of bidding."""

from __future__ import annotations

from openbid.core import clock
from openbid.core.clockloop import on_tick


@on_tick("bidding.discard_unfinished_uploads")
def discard_unfinished_uploads() -> int:
    """Delete the partial files of uploads that were never committed before their deadline, and
    those of committed uploads that a crash left behind.

    An unfinished transfer is not a bid (E-Bidding art. 27); its row stays as a record that the
    upload was started, its bytes go. Idempotent.
    """
    from openbid.bidding.models import BidUpload
    from openbid.bidding.services import partial_path

    removed = 0
    for upload in BidUpload.objects.filter(
        bid__isnull=True, section__tender__bid_deadline__lte=clock.now()
    ).iterator():
        path = partial_path(upload)
        if path.exists():
            path.unlink(missing_ok=True)
            removed += 1
    # A committed upload's partial file is deleted when its bid's transaction commits; a crash
    # just then leaves it behind. The stored copy was made durable before the receipt.
    for upload in BidUpload.objects.filter(bid__isnull=False).only("pk").iterator():
        path = partial_path(upload)
        if path.exists():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
