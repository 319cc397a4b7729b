"""The draw algorithm ``openbid-draw-v1``: a deterministic function of a seed and committed inputs.

This module is the specification; ``docs/draws.md`` says the same in prose. It needs nothing but
SHA-256 and RFC 8785 (JSON Canonicalization Scheme), so anyone can reimplement it and recompute a
draw. The idea is that of RFC 3797 (Publicly Verifiable Nominations Committee (NomCom) Random
Selection): fix and publish the candidates and the procedure first, then take a random value that
nobody could know at that moment, and derive the selection from it by a public, deterministic
procedure. Here the random value is the root hash of the first ledger checkpoint whose tree
contains the commitment to the inputs.

Documents
---------
``snapshot`` (kept private when the draw is secret)::

    {"salt": "<32 hex digits: 16 random bytes>",
     "candidates": [{"ref": "expert:17", "tags": ["g1", "g2"]}, ...]}

``inputs`` (committed to the ledger by its digest)::

    {"version": "openbid-draw-v1",
     "purpose": "evaluation.committee",
     "subject": {"kind": "tender", "id": "12"},
     "previous": null,                       # or the id of the draw this one replaces seats of
     "criteria": {...},                      # what the caller drew by, for people to read
     "groups": [{"name": "g1", "tag": "g1", "count": 3, "reserves": 1}, ...],
     "candidates": {"count": 42, "sha256": "<hex SHA-256 of JCS(snapshot)>"}}

``digest(doc) = SHA-256(JCS(doc))`` where JCS is RFC 8785. The ledger event
``draws.draw.committed`` carries ``inputs_sha256 = hex(digest(inputs))``.

Seed
----
``seed`` is the 32-byte root hash of the first signed ledger checkpoint whose size is greater than
the ledger index of the commitment event (so the checkpoint's tree contains the commitment, and
its root did not exist before the inputs were fixed).

Stream
------
Block ``i`` (``i = 0, 1, 2, …``) of the random stream is::

    SHA-256( "openbid-draw-v1" || 0x00 || purpose (UTF-8) || 0x00
             || seed (32 bytes) || digest(inputs) (32 bytes) || i (8 bytes, big-endian) )

read as an unsigned 256-bit big-endian integer. Each block is used once, in order.

``uniform_int(n)`` (``n ≥ 1``): let ``limit = 2**256 - (2**256 mod n)``; take the next block
``x``; if ``x < limit`` return ``x mod n``, else discard it and take the next (rejection sampling:
every value in ``[0, n)`` is equally likely; a rejection has probability below ``n / 2**256``).

``shuffle(items)``: Fisher–Yates (Durstenfeld): for ``i`` from ``len - 1`` down to ``1``:
``j = uniform_int(i + 1)``; swap ``items[i]`` and ``items[j]``.

``choose(items, k)``: the first ``k`` items of ``shuffle(items)``.

Selection (``groups-v1``)
-------------------------
``order = shuffle(snapshot.candidates)`` (the snapshot's list order, stream from block 0). Then,
walking ``order`` once, each candidate becomes a *member* of the first group (in the inputs'
order) whose ``tag`` it carries (a group whose tag is ``null`` accepts everyone) and that has fewer
members than its ``count``. Walking ``order`` again over the candidates not yet placed, each becomes
a *reserve* of the first group it carries the tag of that has fewer reserves than its
``reserves``. The result is::

    {"order": ["expert:9", ...],                     # every candidate, in drawn order
     "groups": [{"name": "g1", "members": [...], "reserves": [...]}, ...],
     "shortfall": 0}                                 # seats (members and reserves) left empty

The ledger event ``draws.draw.performed`` carries ``result_sha256 = hex(SHA-256(salt || JCS(result)))``
with the snapshot's salt, so a secret result cannot be guessed from its digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, TypeVar

import rfc8785

VERSION = "openbid-draw-v1"
METHOD = "groups-v1"
_TWO_256 = 1 << 256

T = TypeVar("T")


class DrawInputError(ValueError):
    """The inputs or the snapshot are not a well-formed draw."""


def canonical(doc: Any) -> bytes:
    """RFC 8785 canonical JSON of ``doc``."""
    return rfc8785.dumps(doc)


def digest(doc: Any) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON of ``doc``."""
    return hashlib.sha256(canonical(doc)).digest()


def result_digest(salt_hex: str, result: Any) -> str:
    """Hex SHA-256(salt || JCS(result)): the result's digest as the ledger records it."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical(result)).hexdigest()


class Stream:
    """The SHA-256 counter-mode stream of one draw: ``(seed, purpose, digest(inputs))``."""

    def __init__(self, seed: bytes, purpose: str, inputs_digest: bytes) -> None:
        if len(seed) != 32 or len(inputs_digest) != 32:
            raise DrawInputError("the seed and the inputs digest are 32 bytes each")
        self._prefix = (
            VERSION.encode() + b"\x00" + purpose.encode("utf-8") + b"\x00" + seed + inputs_digest
        )
        self.counter = 0

    def block(self) -> int:
        """The next block as a 256-bit integer."""
        data = self._prefix + self.counter.to_bytes(8, "big")
        self.counter += 1
        return int.from_bytes(hashlib.sha256(data).digest(), "big")

    def uniform_int(self, n: int) -> int:
        """An unbiased integer in ``[0, n)`` by rejection sampling."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise DrawInputError("n must be a positive integer")
        limit = _TWO_256 - (_TWO_256 % n)
        while True:
            x = self.block()
            if x < limit:
                return x % n

    def shuffle(self, items: Sequence[T]) -> list[T]:
        """A Fisher–Yates (Durstenfeld) permutation of ``items``."""
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.uniform_int(i + 1)
            out[i], out[j] = out[j], out[i]
        return out

    def choose(self, items: Sequence[T], k: int) -> list[T]:
        """The first ``k`` items of ``shuffle(items)``, in drawn order."""
        if k < 0 or k > len(items):
            raise DrawInputError(f"cannot choose {k} of {len(items)}")
        return self.shuffle(items)[:k]


# Pure functions: each starts a fresh stream at block 0.


def uniform_int(seed: bytes, purpose: str, inputs_digest: bytes, n: int) -> int:
    """The first unbiased integer in ``[0, n)`` of the draw's stream."""
    return Stream(seed, purpose, inputs_digest).uniform_int(n)


def shuffle(seed: bytes, purpose: str, inputs_digest: bytes, items: Sequence[T]) -> list[T]:
    """``items`` in the order the draw's stream gives them."""
    return Stream(seed, purpose, inputs_digest).shuffle(items)


def choose(seed: bytes, purpose: str, inputs_digest: bytes, items: Sequence[T], k: int) -> list[T]:
    """``k`` of ``items``, in drawn order."""
    return Stream(seed, purpose, inputs_digest).choose(items, k)


# --- the selection --------------------------------------------------------------------------


def _check(inputs: Any, snapshot: Any) -> None:
    if not isinstance(inputs, dict) or inputs.get("version") != VERSION:
        raise DrawInputError(f"the inputs are not an {VERSION} document")
    if not isinstance(inputs.get("purpose"), str) or not inputs["purpose"]:
        raise DrawInputError("the inputs name no purpose")
    groups = inputs.get("groups")
    if not isinstance(groups, list) or not groups:
        raise DrawInputError("the inputs have no groups")
    for g in groups:
        if not isinstance(g, dict) or not isinstance(g.get("name"), str):
            raise DrawInputError("every group has a name")
        for key in ("count", "reserves"):
            value = g.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DrawInputError(f"group {g['name']}: {key} is a non-negative integer")
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("candidates"), list):
        raise DrawInputError("the snapshot has no candidate list")
    refs = [c.get("ref") if isinstance(c, dict) else None for c in snapshot["candidates"]]
    if any(not isinstance(r, str) for r in refs) or len(set(refs)) != len(refs):
        raise DrawInputError("every candidate has a distinct ref")


def snapshot_matches(inputs: dict[str, Any], snapshot: dict[str, Any]) -> bool:
    """Whether ``snapshot`` is the one the inputs commit to (digest and count)."""
    declared = inputs.get("candidates") or {}
    return declared.get("sha256") == digest(snapshot).hex() and declared.get("count") == len(
        snapshot.get("candidates", [])
    )


def select(seed: bytes, inputs: dict[str, Any], snapshot: dict[str, Any]) -> dict[str, Any]:
    """The result of the draw (``groups-v1`` above): a pure function of its three arguments."""
    _check(inputs, snapshot)
    stream = Stream(seed, inputs["purpose"], digest(inputs))
    candidates = snapshot["candidates"]
    order = stream.shuffle(candidates)
    groups = inputs["groups"]
    members: list[list[str]] = [[] for _ in groups]
    reserves: list[list[str]] = [[] for _ in groups]

    def fits(candidate: dict[str, Any], group: dict[str, Any]) -> bool:
        tag = group.get("tag")
        return tag is None or tag in (candidate.get("tags") or [])

    placed: set[str] = set()
    for candidate in order:
        for n, group in enumerate(groups):
            if len(members[n]) < group["count"] and fits(candidate, group):
                members[n].append(candidate["ref"])
                placed.add(candidate["ref"])
                break
    for candidate in order:
        if candidate["ref"] in placed:
            continue
        for n, group in enumerate(groups):
            if len(reserves[n]) < group["reserves"] and fits(candidate, group):
                reserves[n].append(candidate["ref"])
                break
    seats = sum(g["count"] + g["reserves"] for g in groups)
    filled = sum(len(m) + len(r) for m, r in zip(members, reserves, strict=True))
    return {
        "order": [c["ref"] for c in order],
        "groups": [
            {"name": g["name"], "members": m, "reserves": r}
            for g, m, r in zip(groups, members, reserves, strict=True)
        ],
        "shortfall": seats - filled,
    }
