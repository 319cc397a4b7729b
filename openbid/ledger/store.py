"""Appending to the log and reading its tree: the only code that touches the ledger tables.

Storage follows C2SP tlog-tiles: tiles are 256 hashes wide and 8 levels high. Level-0 hashes
are the entries' leaf hashes; hashes at tree levels 8, 16, … are ``Node`` rows. Any other perfect
subtree hash is folded from at most 128 hashes of one tile, so a proof reads O(log n) rows in a
handful of queries and never rebuilds the tree.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from openbid.core.errors import DomainError
from openbid.core.models import DomainEvent
from openbid.ledger import leaves, merkle
from openbid.ledger.models import Entry, LedgerState, Node

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


class LedgerError(DomainError):
    code = "ledger"


def _locked_state() -> LedgerState:
    state = LedgerState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        LedgerState.objects.get_or_create(pk=1)
        state = LedgerState.objects.select_for_update().get(pk=1)
    return state


def size() -> int:
    state = LedgerState.objects.filter(pk=1).values_list("size", flat=True).first()
    return int(state or 0)


def append_event(event: DomainEvent) -> int:
    """Append ``event`` as the next leaf, inside the transaction that recorded it; return its index.

    Registered as an event listener: the log and the state change commit or roll back together,
    and the lock on the state row makes leaf indexes gapless.
    """
    return append_events([event])[0]


def append_events(events: Sequence[DomainEvent]) -> list[int]:
    """Append several events in order (the listener path is a batch of one); return their indexes."""
    state = _locked_state()
    leaves_ = []
    for offset, event in enumerate(events):
        leaf = leaves.leaf_bytes(event, state.size + offset)
        if len(leaf) > leaves.MAX_LEAF_BYTES:
            raise LedgerError(
                _("The event is too large to record (%(n)d bytes, at most %(max)d).")
                % {"n": len(leaf), "max": leaves.MAX_LEAF_BYTES},
                field="payload",
                rule="ledger_leaf_size",
            )
        leaves_.append(leaf)
    return append_leaves(state, [e.pk for e in events], leaves_)


def append_leaves(
    state: LedgerState, event_ids: Sequence[int], leaf_data: Sequence[bytes]
) -> list[int]:
    """Store prepared leaves at the end of the log under the locked ``state`` row.

    The hot path of a bulk import: one multi-row insert, then the tile hashes the batch completes.
    Each leaf must already carry its own index (``leaves.leaf_bytes``).
    """
    first = state.size
    hashes = [merkle.leaf_hash(leaf) for leaf in leaf_data]
    rows = [
        (first + i, event_id, leaf, h)
        for i, (event_id, leaf, h) in enumerate(zip(event_ids, leaf_data, hashes, strict=True))
    ]
    _insert_entries(rows)
    _complete_tiles(first, first + len(hashes), hashes)
    state.size = first + len(hashes)
    state.save(update_fields=["size"])
    return list(range(first, state.size))


_ENTRY_COLUMNS = ("index", "event_id", "leaf", "leaf_hash")


def _insert_entries(rows: list[tuple[int, int, bytes, bytes]]) -> None:
    # Constant table and column names only; the values always travel as parameters.
    quote = connection.ops.quote_name
    table = quote(Entry._meta.db_table)
    columns = ", ".join(quote(c) for c in _ENTRY_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 1:
            # COPY is several times faster than INSERT for a bulk append.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)",  # noqa: S608
                rows,
            )


def _complete_tiles(start: int, end: int, new_leaf_hashes: list[bytes]) -> None:
    """Store the level-8k node hashes completed by leaves ``[start, end)``."""
    level, lo, hi, hashes = 0, start, end, new_leaf_hashes
    while True:
        first_tile, last_tile = lo // TILE_WIDTH, hi // TILE_WIDTH
        if first_tile == last_tile:
            return
        # Tiles first_tile .. last_tile-1 became complete; fetch what of them is not in hand.
        tile_start = first_tile * TILE_WIDTH
        known = _hashes_at(level, tile_start, lo) if tile_start < lo else []
        row = known + hashes
        completed: list[Node] = []
        for tile in range(first_tile, last_tile):
            offset = tile * TILE_WIDTH - tile_start
            completed.append(
                Node(
                    level=level + TILE_HEIGHT,
                    index=tile,
                    hash=_levels(row[offset : offset + TILE_WIDTH])[-1][0],
                )
            )
        Node.objects.bulk_create(completed)
        level += TILE_HEIGHT
        lo, hi = first_tile, last_tile
        hashes = [bytes(n.hash) for n in completed]


def _hashes_available(level: int, start: int, end: int) -> list[bytes]:
    """The stored hashes of tree level ``level`` from ``start``, up to ``end`` or the first gap."""
    if end <= start:
        return []
    if level == 0:
        rows: Iterable[Any] = (
            Entry.objects.filter(index__gte=start, index__lt=end)
            .order_by("index")
            .values_list("index", "leaf_hash")
        )
    else:
        rows = (
            Node.objects.filter(level=level, index__gte=start, index__lt=end)
            .order_by("index")
            .values_list("index", "hash")
        )
    out = []
    expected = start
    for index, value in rows:
        if index != expected:
            break
        out.append(bytes(value))
        expected += 1
    return out


def _hashes_at(level: int, start: int, end: int) -> list[bytes]:
    """Stored hashes of tree level ``level`` (0 or a multiple of 8) for indexes ``[start, end)``."""
    out = _hashes_available(level, start, end)
    expected = start + len(out)
    if len(out) != end - start:
        raise LedgerError(
            _("The ledger is missing hashes at level %(level)d from index %(index)d.")
            % {"level": level, "index": expected},
            rule="ledger_integrity",
        )
    return out


# Stored hashes never change once committed, and tiles read outside a transaction are committed:
# those are cached, complete tiles with all their inner levels (a perfect subtree of height 8).
_TILE_CACHE: OrderedDict[tuple[int, int], list[list[bytes]]] = OrderedDict()
_TILE_CACHE_SIZE = 4096


def clear_cache() -> None:
    _TILE_CACHE.clear()


def _fold(hashes: list[bytes]) -> list[bytes]:
    return [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]


def _levels(base: list[bytes]) -> list[list[bytes]]:
    levels = [base]
    while len(levels[-1]) > 1:
        levels.append(_fold(levels[-1]))
    return levels


class TreeReader:
    """Perfect subtree hashes of the stored tree, reading each tile at most once."""

    def __init__(self) -> None:
        self._tiles: dict[tuple[int, int], list[list[bytes]]] = {}

    def _tile_levels(self, tier: int, index: int, width: int) -> list[list[bytes]]:
        key = (tier, index)
        levels = self._tiles.get(key) or _TILE_CACHE.get(key)
        if levels is None or len(levels[0]) < width:
            start = index * TILE_WIDTH
            base = _hashes_available(tier * TILE_HEIGHT, start, start + TILE_WIDTH)
            if len(base) < width:
                raise LedgerError(
                    _("The ledger is missing hashes at level %(level)d from index %(index)d.")
                    % {"level": tier * TILE_HEIGHT, "index": start + len(base)},
                    rule="ledger_integrity",
                )
            levels = _levels(base) if len(base) == TILE_WIDTH else [base]
            # A prefix of committed hashes never changes either, so partial tiles are cached too.
            if not connection.in_atomic_block:
                _TILE_CACHE[key] = levels
                if len(_TILE_CACHE) > _TILE_CACHE_SIZE:
                    _TILE_CACHE.popitem(last=False)
        self._tiles[key] = levels
        return levels

    def tile(self, tier: int, index: int, width: int = TILE_WIDTH) -> list[bytes]:
        """The first ``width`` hashes of tile ``index`` at tile level ``tier``."""
        return self._tile_levels(tier, index, width)[0][:width]

    def perfect_hash(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree at ``level`` covering leaves ``index * 2**level …``."""
        tier, height = divmod(level, TILE_HEIGHT)
        first = index << height  # first base hash, in units of the tile level's nodes
        count = 1 << height
        tile_index, offset = divmod(first, TILE_WIDTH)
        levels = self._tile_levels(tier, tile_index, offset + count)
        if len(levels) > height:  # a complete tile: every inner node is at hand
            return levels[height][offset >> height]
        hashes = levels[0][offset : offset + count]
        while len(hashes) > 1:
            hashes = _fold(hashes)
        return hashes[0]

    def subtree_hash(self, start: int, end: int) -> bytes:
        return merkle.subtree_hash_from_perfect(start, end, self.perfect_hash)

    def root(self, tree_size: int) -> bytes:
        return merkle.root_from_perfect(tree_size, self.perfect_hash)

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        return merkle.inclusion_proof(index, tree_size, self.subtree_hash)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return merkle.consistency_proof(size1, size2, self.subtree_hash)
