"""RFC 9162 Merkle tree hashing, proof generation and proof verification (pure, no storage).

Everything here follows RFC 9162 ("Certificate Transparency Version 2.0"), Section 2.1, with
SHA-256 as the hash function, which is also the hashing of RFC 6962, C2SP tlog-checkpoint and
C2SP tlog-tiles:

* leaf hash ``SHA-256(0x00 || data)`` and interior node hash ``SHA-256(0x01 || left || right)``
  (RFC 9162 §2.1.1);
* the Merkle Tree Hash ``MTH(D[n])`` of a list of leaves, splitting at ``k``, the largest power
  of two strictly smaller than ``n`` (RFC 9162 §2.1.1);
* inclusion proofs ``PATH(m, D[n])`` (§2.1.3.1) and their verification (§2.1.3.2);
* consistency proofs ``PROOF(m, D[n])`` (§2.1.4.1) and their verification (§2.1.4.2).

Coordinates used throughout
---------------------------
A *range* ``(start, end)`` is the half-open leaf interval ``D[start:end]``; its hash is
``MTH(D[start:end])``.

A *perfect subtree* (what tlog-tiles calls a full subtree) is addressed as ``(level, index)``: it
covers the ``2**level`` leaves ``D[index * 2**level : (index + 1) * 2**level]``. Level 0 holds
the leaf hashes. Perfect subtrees never change once their last leaf is appended, so a storage
layer can write each of them exactly once. (The hashes of a C2SP tlog-tiles tile at tile level
``L`` are exactly the perfect subtrees at ``level = 8 * L``.)

Every range that RFC 9162's recursive proof definitions ask for starts at a multiple of a power
of two at least as large as the range itself ("left-aligned" ranges). Such a range is the
concatenation of at most ``log2(n)`` perfect subtrees of strictly decreasing size (one per set
bit of its length), and its MTH is the right-to-left fold of their hashes with
:func:`node_hash`. :func:`subtree_hash_from_perfect` does that fold, so a store of perfect
subtrees serves any proof in ``O(log n)`` reads: at most one range per proof is not itself a
perfect subtree (the one touching the right edge of the tree).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "MerkleAccumulator",
    "NodeHash",
    "PerfectHashFn",
    "SubtreeHashFn",
    "consistency_proof",
    "consistency_proof_ranges",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "largest_power_of_two_below",
    "leaf_hash",
    "node_hash",
    "perfect_nodes_for_ranges",
    "perfect_subtrees",
    "ranges_for_root",
    "root_from_leaves",
    "root_from_peaks",
    "root_from_perfect",
    "subtree_hash_from_perfect",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Size in bytes of every hash (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() — the root hash of the empty tree (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

SubtreeHashFn = Callable[[int, int], bytes]
"""``subtree_hash(start, end)`` returns ``MTH(D[start:end])`` for a left-aligned range."""

PerfectHashFn = Callable[[int, int], bytes]
"""``perfect_hash(level, index)`` returns the stored hash of a perfect subtree."""


@dataclass(frozen=True, slots=True)
class NodeHash:
    """A perfect subtree hash: covers leaves ``[index * 2**level, (index + 1) * 2**level)``.

    Unpacks like a tuple: ``level, index, hash = node``.
    """

    level: int
    index: int
    hash: bytes

    def __iter__(self) -> Iterator[int | bytes]:
        return iter((self.level, self.index, self.hash))

    @property
    def start(self) -> int:
        """First leaf covered."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf covered."""
        return (self.index + 1) << self.level


# --------------------------------------------------------------------------------------------
# Hashing (RFC 9162 §2.1.1)
# --------------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Hash of a leaf entry: ``SHA-256(0x00 || data)`` (RFC 9162 §2.1.1, MTH({d(0)}))."""
    return hashlib.sha256(_LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: ``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """``k``, the largest power of two strictly smaller than ``n`` (``n > 1``), RFC 9162 §2.1.1."""
    if n < 2:
        raise ValueError(f"no power of two below {n} is a valid split point (need n > 1)")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` computed straight from RFC 9162 §2.1.1's recursive definition.

    Takes the already-hashed leaves (``leaf_hash(d)`` for each entry). This is the slow, obviously
    correct reference implementation the faster code is tested against: O(n) hashing per call.
    """
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return bytes(leaf_hashes[0])
    k = largest_power_of_two_below(n)
    return node_hash(root_from_leaves(leaf_hashes[:k]), root_from_leaves(leaf_hashes[k:]))


# --------------------------------------------------------------------------------------------
# Decomposition into perfect subtrees
# --------------------------------------------------------------------------------------------


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose ``[start, end)`` into maximal aligned perfect subtrees, left to right.

    Returns ``(level, index)`` pairs. Each piece is the largest ``2**level``-aligned block that
    starts at the current position and fits in the range (the "compact range" of the interval).
    For a left-aligned range (see the module docstring) the levels strictly decrease and the
    pieces are exactly the subtrees RFC 9162 §2.1.1's recursion splits ``D[start:end]`` into.
    """
    if start < 0 or end < start:
        raise ValueError(f"invalid range [{start}, {end})")
    out: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        # Largest alignment of pos (unbounded when pos == 0), capped by the remaining length.
        align = (pos & -pos).bit_length() - 1 if pos else (end - pos).bit_length()
        level = min(align, (end - pos).bit_length() - 1)
        out.append((level, pos >> level))
        pos += 1 << level
    return out


def ranges_for_root(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees ``(level, index)`` whose right-to-left fold is ``MTH(D[0:size])``.

    These are one subtree per set bit of ``size``, largest first: the "peaks" an append-only
    store keeps on its right edge (RFC 9162 §2.1.1, unrolled). Empty for ``size == 0``.
    """
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    return perfect_subtrees(0, size)


def _check_left_aligned(start: int, end: int) -> None:
    n = end - start
    if start < 0 or n <= 0:
        raise ValueError(f"invalid range [{start}, {end})")
    # The smallest power of two >= n must divide start.
    span = 1 << (n - 1).bit_length()
    if start % span:
        raise ValueError(
            f"range [{start}, {end}) is not left-aligned: its MTH does not follow stored subtrees"
        )


def root_from_peaks(peaks: Sequence[bytes]) -> bytes:
    """Fold perfect-subtree hashes of strictly decreasing size, right to left (RFC 9162 §2.1.1).

    ``peaks`` are the hashes for :func:`perfect_subtrees` of a left-aligned range (or for
    :func:`ranges_for_root`), in that order. An empty sequence gives :data:`EMPTY_ROOT`.
    """
    if not peaks:
        return EMPTY_ROOT
    acc = bytes(peaks[-1])
    for h in reversed(peaks[:-1]):
        acc = node_hash(h, acc)
    return acc


def subtree_hash_from_perfect(start: int, end: int, perfect_hash: PerfectHashFn) -> bytes:
    """``MTH(D[start:end])`` from stored perfect subtrees, for a left-aligned range.

    Reads one perfect subtree per set bit of ``end - start`` (so ``O(log n)``) through
    ``perfect_hash(level, index)``. Raises :class:`ValueError` for a range that is empty or not
    left-aligned (RFC 9162 proofs never need those).
    """
    _check_left_aligned(start, end)
    pieces = perfect_subtrees(start, end)
    return root_from_peaks([perfect_hash(level, index) for level, index in pieces])


def root_from_perfect(size: int, perfect_hash: PerfectHashFn) -> bytes:
    """``MTH(D[0:size])`` from the stored peaks at :func:`ranges_for_root` (RFC 9162 §2.1.1).

    :data:`EMPTY_ROOT` for ``size == 0``; otherwise ``popcount(size)`` reads.
    """
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    return root_from_peaks([perfect_hash(level, index) for level, index in ranges_for_root(size)])


def perfect_nodes_for_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """All perfect subtrees ``(level, index)`` needed to hash the given left-aligned ranges.

    Deduplicated, in first-use order: lets a storage layer fetch everything a proof needs in
    one query, then answer :func:`subtree_hash_from_perfect` from memory.
    """
    seen: dict[tuple[int, int], None] = {}
    for start, end in ranges:
        _check_left_aligned(start, end)
        for node in perfect_subtrees(start, end):
            seen.setdefault(node, None)
    return list(seen)


# --------------------------------------------------------------------------------------------
# Proof generation (RFC 9162 §2.1.3.1 and §2.1.4.1), storage-agnostic
# --------------------------------------------------------------------------------------------


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form ``PATH(index, D[size])``, in proof order (RFC 9162 §2.1.3.1).

    ``PATH(m, D[n])`` is ``PATH(m, D[0:k]) : MTH(D[k:n])`` when ``m < k`` and
    ``PATH(m - k, D[k:n]) : MTH(D[0:k])`` otherwise, so the proof lists sibling subtrees from the
    leaf upwards. Every range returned is left-aligned, and all but at most one are perfect.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    top_down: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index - start < k:
            top_down.append((start + k, end))
            end = start + k
        else:
            top_down.append((start, start + k))
            start += k
    top_down.reverse()
    return top_down


def consistency_proof_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form ``PROOF(size1, D[size2])`` in proof order (RFC 9162 §2.1.4.1).

    ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)``; ``SUBPROOF(m, D[m], true)`` is empty,
    ``SUBPROOF(m, D[m], false) = {MTH(D[m])}``, and for ``m < n`` with split ``k``:
    ``SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`` if ``m <= k``, else
    ``SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])``.

    Defined for ``0 < size1 <= size2`` (empty when equal). A consistency proof from the empty tree
    is meaningless and raises :class:`ValueError`, as do ``size1 > size2`` and negative sizes.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    top_down: list[tuple[int, int]] = []
    start, end, m, whole = 0, size2, size1, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                top_down.append((start, end))
            break
        k = largest_power_of_two_below(n)
        if m <= k:
            top_down.append((start + k, end))
            end = start + k
        else:
            top_down.append((start, start + k))
            start += k
            m -= k
            whole = False
    top_down.reverse()
    return top_down


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHashFn) -> list[bytes]:
    """``PATH(index, D[size])`` (RFC 9162 §2.1.3.1) using ``subtree_hash(start, end)``.

    ``subtree_hash`` is only called for the left-aligned ranges of
    :func:`inclusion_proof_ranges` (``ceil(log2(size))`` calls at most).
    """
    return [subtree_hash(s, e) for s, e in inclusion_proof_ranges(index, size)]


def consistency_proof(size1: int, size2: int, subtree_hash: SubtreeHashFn) -> list[bytes]:
    """``PROOF(size1, D[size2])`` (RFC 9162 §2.1.4.1) using ``subtree_hash(start, end)``.

    ``subtree_hash`` is only called for the left-aligned ranges of
    :func:`consistency_proof_ranges`.
    """
    return [subtree_hash(s, e) for s, e in consistency_proof_ranges(size1, size2)]


# --------------------------------------------------------------------------------------------
# Proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------------------------


def _is_hash(value: object) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview)) and len(value) == HASH_SIZE


def _eq(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(bytes(a), bytes(b))


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Verify an inclusion proof, exactly as RFC 9162 §2.1.3.2 specifies.

    ``leaf_hash`` is the already-hashed leaf (``leaf_hash(entry)``). Returns ``False`` (never
    raises) for anything that is not a valid proof: ``index >= size``, a leaf hash, root or proof
    element that is not 32 bytes, a proof that is too short or too long, or a root mismatch.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root)):
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    # Step 1: leaf_index >= tree_size fails.
    if index < 0 or size <= 0 or index >= size:
        return False
    # Step 2-3.
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    # Step 4.
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5.
    return sn == 0 and _eq(r, root)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """Verify a consistency proof between two tree heads (RFC 9162 §2.1.4.2).

    Edge cases, matching transparency-dev/merkle (whose test vectors we pass):

    * ``size1 > size2`` or a negative size: refused;
    * ``size1 == 0``: refused — RFC 9162 §2.1.4.2 is stated for ``0 < first``, and a proof from
      the empty tree carries no information (every tree extends the empty tree);
    * ``size1 == size2``: valid exactly when the proof is empty and ``root1 == root2``;
    * otherwise the §2.1.4.2 algorithm runs; every proof element must be 32 bytes.
    """
    if size1 < 0 or size2 < 0 or size1 > size2 or size1 == 0:
        return False
    if size1 == size2:
        return len(proof) == 0 and _eq(root1, root2)
    if not (_is_hash(root1) and _is_hash(root2)):
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    # Step 1: an empty proof fails.
    if len(proof) == 0:
        return False
    path = [bytes(p) for p in proof]
    # Step 2: if first is an exact power of 2, prepend first_hash.
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    # Step 3.
    fn, sn = size1 - 1, size2 - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    return sn == 0 and _eq(fr, root1) and _eq(sr, root2)


# --------------------------------------------------------------------------------------------
# In-memory structures
# --------------------------------------------------------------------------------------------


class MerkleAccumulator:
    """Append-only compact range ``[0, size)``: the O(log n) stack of perfect subtree roots.

    Each :meth:`append` returns every perfect subtree hash that the new leaf completes (the leaf
    itself at level 0, then each merge), as :class:`NodeHash` values a storage layer writes once
    and never updates. :meth:`root` is ``MTH(D[0:size])`` at any time (RFC 9162 §2.1.1).

    To resume from storage, read the hashes at :func:`ranges_for_root` ``(size)`` and call
    :meth:`from_peaks`.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []

    @classmethod
    def from_peaks(cls, size: int, peaks: Sequence[bytes]) -> MerkleAccumulator:
        """Rebuild from the perfect subtree hashes at ``ranges_for_root(size)``, in that order."""
        expected = len(ranges_for_root(size))
        if len(peaks) != expected:
            raise ValueError(f"a tree of size {size} has {expected} peaks, got {len(peaks)}")
        if not all(_is_hash(p) for p in peaks):
            raise ValueError(f"every peak must be a {HASH_SIZE}-byte hash")
        acc = cls()
        acc._size = size
        acc._peaks = [bytes(p) for p in peaks]
        return acc

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def peaks(self) -> list[NodeHash]:
        """The current peaks, largest first (the subtrees of :func:`ranges_for_root`)."""
        return [
            NodeHash(level, index, h)
            for (level, index), h in zip(ranges_for_root(self._size), self._peaks, strict=True)
        ]

    def append(self, leaf_hash: bytes) -> list[NodeHash]:
        """Append one leaf hash; return the perfect subtree hashes it completes, lowest first."""
        if not _is_hash(leaf_hash):
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
        index = self._size
        h = bytes(leaf_hash)
        created = [NodeHash(0, index, h)]
        level = 0
        # Bit `level` of the old size set <=> a peak of that level sits at the top of the stack.
        while (index >> level) & 1:
            h = node_hash(self._peaks.pop(), h)
            level += 1
            created.append(NodeHash(level, index >> level, h))
        self._peaks.append(h)
        self._size = index + 1
        return created

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[NodeHash]:
        """Append several leaf hashes; return all perfect subtree hashes they complete."""
        created: list[NodeHash] = []
        for h in leaf_hashes:
            created.extend(self.append(h))
        return created

    def root(self) -> bytes:
        """``MTH(D[0:size])`` (RFC 9162 §2.1.1); :data:`EMPTY_ROOT` when empty."""
        return root_from_peaks(self._peaks)

    def copy(self) -> MerkleAccumulator:
        """An independent copy (e.g. to compute a tentative root before committing a batch)."""
        return MerkleAccumulator.from_peaks(self._size, self._peaks)


CompactRange = MerkleAccumulator
"""Alias: the accumulator is the compact range ``[0, size)``."""


class MemoryTree:
    """A whole tree in memory, every perfect subtree level stored (for tests and tooling).

    ``levels[l][i]`` is the perfect subtree ``(l, i)``. Implements ``subtree_hash`` through
    :func:`subtree_hash_from_perfect`, exactly as a database-backed store would.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._acc = MerkleAccumulator()
        self.levels: list[list[bytes]] = []
        for h in leaf_hashes:
            self.append(h)

    @classmethod
    def from_entries(cls, entries: Iterable[bytes]) -> MemoryTree:
        """Build from raw entries, hashing each with :func:`leaf_hash`."""
        return cls(leaf_hash(e) for e in entries)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._acc.size

    def append(self, leaf_hash: bytes) -> list[NodeHash]:
        """Append a leaf hash; returns the perfect subtrees completed (also stored here)."""
        created = self._acc.append(leaf_hash)
        for node in created:
            if node.level == len(self.levels):
                self.levels.append([])
            row = self.levels[node.level]
            assert node.index == len(row), "perfect subtrees are completed in order"
            row.append(node.hash)
        return created

    def perfect_hash(self, level: int, index: int) -> bytes:
        """Stored hash of the perfect subtree ``(level, index)``."""
        if level < 0 or index < 0 or level >= len(self.levels) or index >= len(self.levels[level]):
            raise KeyError((level, index))
        return self.levels[level][index]

    def subtree_hash(self, start: int, end: int) -> bytes:
        """``MTH(D[start:end])`` for a left-aligned range inside the tree."""
        if end > self.size:
            raise ValueError(f"range [{start}, {end}) exceeds tree size {self.size}")
        return subtree_hash_from_perfect(start, end, self.perfect_hash)

    def root(self, size: int | None = None) -> bytes:
        """``MTH(D[0:size])`` for the current size or any earlier one."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside [0, {self.size}]")
        return EMPTY_ROOT if size == 0 else self.subtree_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """``PATH(index, D[size])`` (RFC 9162 §2.1.3.1)."""
        size = self.size if size is None else size
        if size > self.size:
            raise ValueError(f"size {size} exceeds tree size {self.size}")
        return inclusion_proof(index, size, self.subtree_hash)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """``PROOF(size1, D[size2])`` (RFC 9162 §2.1.4.1)."""
        size2 = self.size if size2 is None else size2
        if size2 > self.size:
            raise ValueError(f"size {size2} exceeds tree size {self.size}")
        return consistency_proof(size1, size2, self.subtree_hash)
