"""Blind technical review (暗标评审) with staggered order (错位评审): a pure plan.

In a blind review the experts see the technical parts of the bids under random codes, never the
bidders' names, and each expert goes through them in a different order, so that no expert's
judgement is anchored by reading the same bid first as everyone else. The mapping code → bid is
revealed only after every expert has signed their technical scores.

The plan is a deterministic function of a 32-byte secret drawn when the review starts, the bids
and the experts, so it can be recomputed by anyone once the secret is revealed:

* **codes** — for each bid, in the order of the bid ids: ``HMAC-SHA256(secret, "openbid-blind-v1
  code <bid id> <attempt>")``, the first 25 bits written as 5 characters of the RFC 4648 base32
  alphabet, prefixed ``B-``; ``attempt`` starts at 0 and grows only when a code is already taken.
* **base order** — the bid ids sorted, then shuffled by Fisher–Yates (from the last position down,
  each swap index ``j`` uniform in ``[0, i]``) with integers drawn from the stream
  ``HMAC-SHA256(secret, "openbid-blind-v1 order <counter>")`` read as big-endian 256-bit numbers
  and reduced by rejection sampling (a draw is rejected when it falls in the incomplete last
  interval, ``>= 2**256 - 2**256 % (i + 1)``).
* **orders** — the experts sorted by id; the ``k``-th expert (from 0) reads the base order rotated
  left by ``k mod n`` (``n`` bids), reversed when ``(k div n)`` is odd. With up to ``n`` experts
  every expert starts with a different bid and every bid sits once in every position (a Latin
  square); with three or more bids and up to ``2n`` experts every order is still different
  (a reversed cycle of three or more is no rotation of the cycle).

The **commitment** is the SHA-256 of the RFC 8785 canonical JSON of ``{"version", "codes",
"orders", "secret"}`` (ids as strings, the secret in hex): the platform puts it in the ledger when
the review starts, and publishes the plan and secret when it reveals the mapping, so anyone can
recompute both the plan and the commitment.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

VERSION = "openbid-blind-v1"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648
SECRET_BYTES = 32


@dataclass(frozen=True)
class BlindPlan:
    """Codes for bids, and the order in which each expert reads them."""

    codes: dict[int, str]
    orders: dict[int, tuple[int, ...]]
    secret: bytes

    def document(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "codes": {str(bid): code for bid, code in sorted(self.codes.items())},
            "orders": {
                str(expert): [str(bid) for bid in order]
                for expert, order in sorted(self.orders.items())
            },
            "secret": self.secret.hex(),
        }

    def commitment(self) -> str:
        return hashlib.sha256(rfc8785.dumps(self.document())).hexdigest()

    def bid_of(self, code: str) -> int | None:
        return next((bid for bid, c in self.codes.items() if c == code), None)


def _mac(secret: bytes, label: str) -> bytes:
    return hmac.new(secret, f"{VERSION} {label}".encode(), hashlib.sha256).digest()


def _code(secret: bytes, bid: int, attempt: int) -> str:
    digest = _mac(secret, f"code {bid} {attempt}")
    bits = int.from_bytes(digest[:4], "big") >> 7  # the first 25 bits
    chars = [BASE32[(bits >> shift) & 31] for shift in (20, 15, 10, 5, 0)]
    return "B-" + "".join(chars)


def _stream(secret: bytes) -> Iterator[int]:
    counter = 0
    while True:
        yield int.from_bytes(_mac(secret, f"order {counter}"), "big")
        counter += 1


def _below(stream: Iterator[int], bound: int) -> int:
    """An integer uniform in ``[0, bound)`` by rejection sampling."""
    limit = 2**256 - (2**256 % bound)
    while True:
        value = next(stream)
        if value < limit:
            return value % bound


def plan(bid_ids: Sequence[int], expert_ids: Sequence[int], secret: bytes) -> BlindPlan:
    """The blind-review plan for these bids and experts under ``secret`` (see the module)."""
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"the secret is {SECRET_BYTES} bytes")
    bids = sorted(set(bid_ids))
    experts = sorted(set(expert_ids))
    if len(bids) != len(bid_ids) or len(experts) != len(expert_ids):
        raise ValueError("bids and experts are each listed once")
    if not bids or not experts:
        raise ValueError("a blind review needs bids and experts")
    codes: dict[int, str] = {}
    taken: set[str] = set()
    for bid in bids:
        attempt = 0
        while (code := _code(secret, bid, attempt)) in taken:
            attempt += 1
        codes[bid] = code
        taken.add(code)
    base = list(bids)
    stream = _stream(secret)
    for i in range(len(base) - 1, 0, -1):
        j = _below(stream, i + 1)
        base[i], base[j] = base[j], base[i]
    n = len(base)
    orders: dict[int, tuple[int, ...]] = {}
    for k, expert in enumerate(experts):
        shift = k % n
        order = base[shift:] + base[:shift]
        if (k // n) % 2 == 1:
            order.reverse()
        orders[expert] = tuple(order)
    return BlindPlan(codes, orders, bytes(secret))


def verify(document: dict[str, Any], commitment: str) -> BlindPlan:
    """Recompute a revealed plan from its secret, bids and experts and check it against the
    published document and the commitment made when the review started; raises ``ValueError``."""
    try:
        secret = bytes.fromhex(document["secret"])
        bids = [int(b) for b in document["codes"]]
        experts = [int(e) for e in document["orders"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a blind-review plan: {exc}") from None
    recomputed = plan(bids, experts, secret)
    if recomputed.document() != document:
        raise ValueError("the published plan is not the one its secret gives")
    if recomputed.commitment() != commitment:
        raise ValueError("the plan does not match the commitment made when the review started")
    return recomputed
