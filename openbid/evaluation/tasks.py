"""Clock-loop handler of the evaluation: publish committees once the evaluation result is public.

Committee draws themselves are performed by the draws' own handler (``draws.perform_pending``).
"""

from __future__ import annotations

from openbid.core.clockloop import on_tick


@on_tick("evaluation.publish_committees")
def publish_committees() -> int:
    """Idempotent: a committee already published is left alone; the same is applied on read."""
    from openbid.evaluation.committee import publish_due

    return publish_due()
