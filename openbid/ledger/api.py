"""Public JSON API of the ledger (``/api/v1/ledger``): checkpoint, key, entries, proofs, timelines.

Everything here is public and read-only. Hashes in proofs and roots are standard base64 (as in
checkpoints); leaf hashes are hex. ``/entries`` is the feed other platforms synchronise from: it
pages by sequence number over an append-only, gapless sequence, so a reader that asks for the
entries ``after`` the last one it has can never skip or repeat one. The same log is served for
standard clients in the C2SP tlog-tiles layout under ``/ledger/``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema

from openbid.core.api_auth import PUBLIC
from openbid.core.errors import InvalidInput
from openbid.ledger import keys, store, tiles
from openbid.ledger.models import Checkpoint, Entry

router = Router(tags=["ledger"])

MAX_LIMIT = 1000


class CosignatureOut(Schema):
    witness: str
    key_id: str
    timestamp: int
    line: str
    received_at: dt.datetime


class CheckpointOut(Schema):
    origin: str
    size: int
    root_hash: str
    note: str
    issued_at: dt.datetime
    cosignatures: list[CosignatureOut]


class KeyOut(Schema):
    origin: str
    verifier_key: str
    tiles_url: str


class EntryOut(Schema):
    seq: int
    event: int
    leaf: dict[str, Any]
    leaf_b64: str
    leaf_hash: str


class EntriesOut(Schema):
    size: int
    after: int
    next_after: int
    entries: list[EntryOut]


class SubjectOut(Schema):
    kind: str
    ref: str
    after: int
    next_after: int
    entries: list[EntryOut]


class InclusionOut(Schema):
    index: int
    size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyOut(Schema):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


def _b64(data: bytes | memoryview) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _entry_out(entry: Entry) -> dict[str, Any]:
    leaf = bytes(entry.leaf)
    return {
        "seq": entry.index,
        "event": entry.event_id,
        "leaf": json.loads(leaf),
        "leaf_b64": _b64(leaf),
        "leaf_hash": bytes(entry.leaf_hash).hex(),
    }


def _page(after: int, limit: int) -> None:
    if after < -1:
        raise InvalidInput(
            _("after is the last sequence number you have, or -1 to start from the first entry."),
            field="after",
            rule="ledger_paging",
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            _("limit must be between 1 and %(max)d.") % {"max": MAX_LIMIT},
            field="limit",
            rule="ledger_paging",
        )


def _contiguous(entries: Iterable[Entry], after: int) -> list[Entry]:
    """Entries ``after + 1, after + 2, …`` up to the first gap (a reader never skips one)."""
    out = []
    for expected, entry in enumerate(entries, after + 1):
        if entry.index != expected:
            break
        out.append(entry)
    return out


def _checkpoint_out(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "origin": checkpoint.body.split("\n", 1)[0],
        "size": checkpoint.size,
        "root_hash": _b64(checkpoint.root_hash),
        "note": tiles.checkpoint_text(checkpoint),
        "issued_at": checkpoint.issued_at,
        "cosignatures": [
            {
                "witness": c.witness_name,
                "key_id": f"{c.key_id:08x}",
                "timestamp": c.timestamp,
                "line": c.line,
                "received_at": c.received_at,
            }
            for c in checkpoint.cosignatures.order_by("id")
        ],
    }


@router.get("/checkpoint", response=CheckpointOut, auth=PUBLIC, summary="The latest checkpoint")
def latest_checkpoint(request: HttpRequest) -> dict[str, Any]:
    """The latest signed tree head: size, root hash, the signed note as served at
    ``/ledger/checkpoint`` (log signature and witness cosignatures) and when it was issued."""
    return _checkpoint_out(tiles.current_checkpoint())


@router.get("/key", response=KeyOut, auth=PUBLIC, summary="The log's verifier key")
def verifier_key(request: HttpRequest) -> dict[str, Any]:
    """The signed-note verifier key checkpoints are signed with, the log's origin, and where the
    C2SP tlog-tiles resources are served."""
    return {
        "origin": keys.origin(),
        "verifier_key": keys.log_verifier_key(),
        "tiles_url": request.build_absolute_uri(reverse("ledger:explorer")),
    }


@router.get("/entries", response=EntriesOut, auth=PUBLIC, summary="Log entries, in order")
def entries(request: HttpRequest, after: int = -1, limit: int = 100) -> dict[str, Any]:
    """The entries with sequence numbers above ``after`` (-1: from the first), oldest first.

    Page by passing the ``next_after`` of one answer as the ``after`` of the next; an empty page
    means you are up to date. ``size`` is the log size when the page was read.
    """
    _page(after, limit)
    size = store.size()
    rows = _contiguous(
        Entry.objects.filter(index__gt=after, index__lt=size).order_by("index")[:limit], after
    )
    return {
        "size": size,
        "after": after,
        "next_after": rows[-1].index if rows else after,
        "entries": [_entry_out(e) for e in rows],
    }


@router.get(
    "/subjects/{kind}/{ref}", response=SubjectOut, auth=PUBLIC, summary="A subject's timeline"
)
def subject_timeline(
    request: HttpRequest, kind: str, ref: str, after: int = -1, limit: int = 100
) -> dict[str, Any]:
    """The entries about one subject (``tender/12``, ``organisation/3``), oldest first, paged like
    ``/entries``."""
    _page(after, limit)
    rows: QuerySet[Entry] = Entry.objects.filter(
        event__subjects__kind=kind, event__subjects__ref=ref, index__gt=after
    ).order_by("index")[:limit]
    page = list(rows)
    return {
        "kind": kind,
        "ref": ref,
        "after": after,
        "next_after": page[-1].index if page else after,
        "entries": [_entry_out(e) for e in page],
    }


def _tree_size(size: int | None, field: str) -> int:
    """``size``, or the latest checkpoint's; refused beyond the log."""
    if size is None:
        return tiles.current_checkpoint().size
    log_size = store.size()
    if not 0 <= size <= log_size:
        raise InvalidInput(
            _("%(field)s must be a tree size between 0 and the log size %(size)d.")
            % {"field": field, "size": log_size},
            field=field,
            rule="ledger_tree_size",
        )
    return size


@router.get(
    "/proof/inclusion", response=InclusionOut, auth=PUBLIC, summary="Inclusion proof of an entry"
)
def inclusion_proof(request: HttpRequest, index: int, size: int | None = None) -> dict[str, Any]:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries (default: the
    latest checkpoint's size)."""
    tree_size = _tree_size(size, "size")
    if not 0 <= index < tree_size:
        raise InvalidInput(
            _("index must be a sequence number below the tree size %(size)d.")
            % {"size": tree_size},
            field="index",
            rule="ledger_leaf_index",
        )
    reader = store.TreeReader()
    entry = Entry.objects.only("leaf_hash").get(index=index)
    return {
        "index": index,
        "size": tree_size,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "root_hash": _b64(reader.root(tree_size)),
        "proof": [_b64(h) for h in reader.inclusion_proof(index, tree_size)],
    }


@router.get(
    "/proof/consistency",
    response=ConsistencyOut,
    auth=PUBLIC,
    summary="Consistency proof between two tree sizes",
)
def consistency_proof(
    request: HttpRequest, first: int, second: int | None = None
) -> dict[str, Any]:
    """RFC 9162 consistency proof that the tree of ``second`` entries (default: the latest
    checkpoint's size) extends the tree of ``first`` entries."""
    second_size = _tree_size(second, "second")
    if not 1 <= first <= second_size:
        raise InvalidInput(
            _("first must be a tree size between 1 and second (%(second)d).")
            % {"second": second_size},
            field="first",
            rule="ledger_tree_size",
        )
    reader = store.TreeReader()
    return {
        "first": first,
        "second": second_size,
        "first_root": _b64(reader.root(first)),
        "second_root": _b64(reader.root(second_size)),
        "proof": [_b64(h) for h in reader.consistency_proof(first, second_size)],
    }
