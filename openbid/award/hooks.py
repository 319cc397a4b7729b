"""Where other contexts plug into the award, one call each (from their AppConfig.ready).

* Deposits (投标保证金): ``on_result_published(fn)`` — ``fn(tender, winner_ids, at, section=section)``
  runs when a section's award result is published (the award notice is signed and issued), with the
  winning organisations' ids; ``on_contract_signed(fn)`` — ``fn(tender, bidder, at)`` runs when a contract
  is signed by both parties (its first version), with the winning organisation.
* Disputes (异议/投诉): ``add_block_check(fn)`` — ``fn(tender, step) -> str | None`` returns why
  ``step`` of ``tender``'s award is on hold (an objection not yet answered, a complaint's
  suspension), or ``None``. ``step`` is ``"award"`` (the decision, the notices, the award notice's
  signature, drafting the contract), ``"sign_contract"`` (contract signatures and changes) — the
  step names of ``openbid.core.holds`` — or ``None`` (any step).
  ``openbid.award.services.award_blocked`` asks the award's own suspensions first, then each check.

Every hook runs inside the transaction of the award's state change, so what it writes stands or
falls with it; a hook that raises refuses the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

ResultPublished = Callable[..., object]
ContractSigned = Callable[[Any, Any, dt.datetime], object]
BlockCheck = Callable[[Any, "str | None"], "str | None"]

_result_published: list[ResultPublished] = []
_contract_signed: list[ContractSigned] = []
_block_checks: list[BlockCheck] = []


def on_result_published(fn: ResultPublished) -> ResultPublished:
    if fn not in _result_published:
        _result_published.append(fn)
    return fn


def on_contract_signed(fn: ContractSigned) -> ContractSigned:
    if fn not in _contract_signed:
        _contract_signed.append(fn)
    return fn


def add_block_check(fn: BlockCheck) -> BlockCheck:
    if fn not in _block_checks:
        _block_checks.append(fn)
    return fn


def result_published(
    tender: Any, winner_ids: list[int], at: dt.datetime, *, section: Any = None
) -> None:
    for fn in list(_result_published):
        fn(tender, winner_ids, at, section=section)


def contract_signed(tender: Any, bidder: Any, at: dt.datetime) -> None:
    for fn in list(_contract_signed):
        fn(tender, bidder, at)


def blocked_by_others(tender: Any, step: str | None = None) -> str | None:
    for fn in list(_block_checks):
        reason = fn(tender, step)
        if reason:
            return str(reason)
    return None
