"""Clock-loop handlers of deposits: refunds become due, overdue refunds raise a warning."""

from __future__ import annotations

from openbid.core.clockloop import on_tick


@on_tick("deposits.create_due_refunds")
def create_due_refunds() -> int:
    """Refunds for every credit line of a released sub-account (idempotent)."""
    from openbid.deposits import services

    return services.create_due_refunds()


@on_tick("deposits.warn_overdue_refunds")
def warn_overdue_refunds() -> int:
    """One warning event per refund not completed by its due date (idempotent)."""
    from openbid.deposits import services

    return services.warn_overdue_refunds()
