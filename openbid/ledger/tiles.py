"""The log as C2SP tlog-tiles resources: the checkpoint, hash tiles and entry bundles.

https://c2sp.org/tlog-tiles serves a log as static, cacheable files under a URL prefix (ours is
``/ledger/``):

* ``checkpoint`` — the latest signed checkpoint (C2SP tlog-checkpoint, a signed note) with the
  witness cosignatures received for it;
* ``tile/<L>/<N>[.p/<W>]`` — a hash tile: the concatenated 32-byte hashes ``MTH`` of the perfect
  subtrees of height ``8 * L`` with indexes ``N * 256 … N * 256 + W - 1``. A full tile has
  ``W = 256`` hashes (8,192 bytes) and no ``.p/<W>`` suffix; a partial tile has ``1 <= W <= 255``.
* ``tile/entries/<N>[.p/<W>]`` — an entry bundle: the leaves ``N * 256 … N * 256 + W - 1``, each as
  a big-endian uint16 length followed by the leaf bytes.

``<L>`` is decimal without leading zeroes, 0 to 63. ``<N>`` is written in zero-padded 3-digit
groups, every group but the last prefixed with ``x`` (1234067 → ``x001/x234/067``); ``<W>`` is
decimal without leading zeroes, 1 to 255. Parsing here is strict: only the one canonical spelling
of a resource is accepted, so every resource has exactly one URL (and one cache entry).

A resource exists once all of its hashes (entries) are in the log: a tile of width ``W`` at level
``L`` and index ``N`` exists when the log has at least ``(N * 256 + W) * 256**L`` leaves. Hashes
never change once stored, so a resource that exists never changes either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from openbid.ledger import services, store
from openbid.ledger.models import Checkpoint, Entry
from openbid.ledger.note import NoteError, NoteSignature

TILE_HEIGHT = store.TILE_HEIGHT
TILE_WIDTH = store.TILE_WIDTH
MAX_LEVEL = 63
"""tlog-tiles: ``<L>`` is between 0 and 63."""

_MAX_GROUPS = 7  # every index of a tree of at most 2**64 - 1 leaves fits in 7 groups of 3 digits

_LEVEL = re.compile(r"0|[1-9][0-9]?", re.ASCII)
_INDEX = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}", re.ASCII)
_WIDTH = re.compile(r"[1-9][0-9]{0,2}", re.ASCII)


class TilePathError(ValueError):
    """A path that is not the canonical tlog-tiles name of any resource."""


@dataclass(frozen=True)
class TileRef:
    """One tlog-tiles resource: ``level`` is ``None`` for an entry bundle."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def tree_level(self) -> int:
        """The Merkle tree level of the tile's hashes (0 for an entry bundle)."""
        return (self.level or 0) * TILE_HEIGHT

    @property
    def leaves_needed(self) -> int:
        """The log size from which this resource exists."""
        return (self.index * TILE_WIDTH + self.width) << self.tree_level

    def path(self) -> str:
        """The path under the log's prefix, e.g. ``tile/1/x001/234.p/7``."""
        level = "entries" if self.level is None else str(self.level)
        return f"tile/{level}/{format_tile_path(self.index, self.width)}"


def format_index(index: int) -> str:
    """``<N>``: 3-digit groups, all but the last with an ``x`` prefix (1234067 → x001/x234/067)."""
    if index < 0:
        raise ValueError(f"negative tile index {index}")
    out = f"{index % 1000:03d}"
    while index >= 1000:
        index //= 1000
        out = f"x{index % 1000:03d}/{out}"
    return out


def format_tile_path(index: int, width: int = TILE_WIDTH) -> str:
    """``<N>[.p/<W>]`` for a tile of ``width`` hashes."""
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is not between 1 and {TILE_WIDTH}")
    return format_index(index) + ("" if width == TILE_WIDTH else f".p/{width}")


def parse_index(text: str) -> int:
    """The inverse of :func:`format_index`; refuses every other spelling."""
    if not _INDEX.fullmatch(text) or text.count("/") >= _MAX_GROUPS:
        raise TilePathError(f"not a tile index: {text!r}")
    value = 0
    for group in text.split("/"):
        value = value * 1000 + int(group.removeprefix("x"))
    if format_index(value) != text:  # a leading x000 group
        raise TilePathError(f"not the canonical encoding of tile index {value}: {text!r}")
    return value


def parse_tile_path(text: str) -> tuple[int, int]:
    """``<N>[.p/<W>]`` → ``(index, width)``; a full tile has width 256."""
    index_text, sep, width_text = text.partition(".p/")
    if not sep:
        return parse_index(text), TILE_WIDTH
    if not _WIDTH.fullmatch(width_text) or int(width_text) >= TILE_WIDTH:
        raise TilePathError(f"not a partial tile width (1 to 255): {width_text!r}")
    return parse_index(index_text), int(width_text)


def parse_level(text: str) -> int:
    """``<L>``: decimal, no leading zeroes, 0 to 63."""
    if not _LEVEL.fullmatch(text) or int(text) > MAX_LEVEL:
        raise TilePathError(f"not a tile level (0 to {MAX_LEVEL}): {text!r}")
    return int(text)


def hash_tile_ref(level: str, path: str) -> TileRef:
    """The hash tile named by ``tile/<level>/<path>``."""
    index, width = parse_tile_path(path)
    return TileRef(parse_level(level), index, width)


def entry_bundle_ref(path: str) -> TileRef:
    """The entry bundle named by ``tile/entries/<path>``."""
    index, width = parse_tile_path(path)
    return TileRef(None, index, width)


def exists(ref: TileRef, tree_size: int | None = None) -> bool:
    """Whether every hash or entry of ``ref`` is in the log (of ``tree_size``, default: now)."""
    size = store.size() if tree_size is None else tree_size
    return ref.leaves_needed <= size


def tile_bytes(ref: TileRef) -> bytes | None:
    """The concatenated hashes of a hash tile, or ``None`` if the log does not have them yet."""
    if ref.level is None:
        raise ValueError("an entry bundle is not a hash tile")
    if not exists(ref):
        return None
    return b"".join(store.TreeReader().tile(ref.level, ref.index, ref.width))


def bundle_bytes(ref: TileRef) -> bytes | None:
    """The entry bundle (uint16 length-prefixed leaves), or ``None`` if not all logged yet."""
    if ref.level is not None:
        raise ValueError("a hash tile is not an entry bundle")
    if not exists(ref):
        return None
    start = ref.index * TILE_WIDTH
    rows = (
        Entry.objects.filter(index__gte=start, index__lt=start + ref.width)
        .order_by("index")
        .values_list("index", "leaf")
    )
    parts = []
    for expected, (index, leaf) in enumerate(rows, start):
        if index != expected:
            break
        data = bytes(leaf)
        parts.append(len(data).to_bytes(2, "big") + data)
    if len(parts) != ref.width:
        raise store.LedgerError(
            _("The ledger is missing entries from index %(index)d.")
            % {"index": start + len(parts)},
            rule="ledger_integrity",
        )
    return b"".join(parts)


def tiles_for_size(tree_size: int) -> list[TileRef]:
    """Every hash tile a client needs for a tree of ``tree_size`` leaves (full and partial).

    At level ``L`` there are ``size // 256**(L+1)`` full tiles and, if ``size // 256**L`` is not a
    multiple of 256, one partial tile of that remainder's width.
    """
    refs: list[TileRef] = []
    level = 0
    while level <= MAX_LEVEL and tree_size >> (level * TILE_HEIGHT):
        count = tree_size >> (level * TILE_HEIGHT)
        full, rest = divmod(count, TILE_WIDTH)
        refs.extend(TileRef(level, n) for n in range(full))
        if rest:
            refs.append(TileRef(level, full, rest))
        level += 1
    return refs


# --------------------------------------------------------------------------------------------
# The checkpoint resource (``<prefix>/checkpoint``)
# --------------------------------------------------------------------------------------------


def current_checkpoint() -> Checkpoint:
    """The latest checkpoint; on a platform that has none yet, sign one for the current tree."""
    return services.latest_checkpoint() or services.issue_checkpoint()


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """The signed note as served: the log's signature, then every witness cosignature received.

    Cosignatures are stored one line each; a line already in the note, or one that is not a
    well-formed signature line, is not repeated.
    """
    text = checkpoint.note if checkpoint.note.endswith("\n") else checkpoint.note + "\n"
    present = set(text.split("\n"))
    for line in checkpoint.cosignatures.order_by("id").values_list("line", flat=True):
        line = line.strip("\n")
        if line in present:
            continue
        try:
            NoteSignature.from_line(line)
        except NoteError:
            continue
        present.add(line)
        text += line + "\n"
    return text
