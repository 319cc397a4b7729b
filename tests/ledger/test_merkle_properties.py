"""Property tests for the RFC 9162 Merkle core (hypothesis; no Django, no database)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbid.ledger import merkle

MAX_SIZE = 300
FAST = settings(max_examples=60, deadline=None)


def leaves(seed: int, n: int) -> list[bytes]:
    """n distinct leaf hashes determined by seed."""
    return [merkle.leaf_hash(seed.to_bytes(8, "big") + i.to_bytes(8, "big")) for i in range(n)]


def flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


# Straight transcriptions of RFC 9162 §2.1.3.1 and §2.1.4.1 over the leaf list, used as oracles.
def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = merkle.largest_power_of_two_below(n)
    if m < k:
        return [*ref_path(m, d[:k]), merkle.root_from_leaves(d[k:])]
    return [*ref_path(m - k, d[k:]), merkle.root_from_leaves(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [merkle.root_from_leaves(d)]
    k = merkle.largest_power_of_two_below(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), merkle.root_from_leaves(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), merkle.root_from_leaves(d[:k])]


seeds = st.integers(min_value=0, max_value=2**32)
sizes = st.integers(min_value=1, max_value=MAX_SIZE)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[merkle.MemoryTree, int, int]:
    n = draw(sizes)
    size = draw(st.integers(min_value=1, max_value=n))
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return merkle.MemoryTree(leaves(draw(seeds), n)), index, size


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[merkle.MemoryTree, int, int]:
    n = draw(st.integers(min_value=2, max_value=MAX_SIZE))
    size2 = draw(st.integers(min_value=2, max_value=n))
    size1 = draw(st.integers(min_value=1, max_value=size2 - 1))
    return merkle.MemoryTree(leaves(draw(seeds), n)), size1, size2


# ---- hashing and roots -----------------------------------------------------------------------


def test_rfc9162_hashing() -> None:
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root_from_leaves([]) == merkle.EMPTY_ROOT
    assert merkle.MerkleAccumulator().root() == merkle.EMPTY_ROOT
    assert [merkle.largest_power_of_two_below(n) for n in (2, 3, 4, 5, 8, 9)] == [1, 2, 2, 4, 4, 8]


@FAST
@given(seeds, sizes)
def test_accumulator_root_equals_reference(seed: int, n: int) -> None:
    data = leaves(seed, n)
    acc = merkle.MerkleAccumulator()
    tree = merkle.MemoryTree()
    for i, h in enumerate(data):
        acc.append(h)
        tree.append(h)
        assert acc.root() == tree.root(i + 1)
    assert acc.size == n
    assert acc.root() == merkle.root_from_leaves(data)
    for k in {1, n // 2 or 1, n - 1 or 1}:
        assert tree.root(k) == merkle.root_from_leaves(data[:k])


@FAST
@given(seeds, sizes)
def test_accumulator_emits_every_perfect_subtree_once(seed: int, n: int) -> None:
    data = leaves(seed, n)
    acc = merkle.MerkleAccumulator()
    emitted = acc.extend(data)
    coords = [(node.level, node.index) for node in emitted]
    assert len(coords) == len(set(coords)) == 2 * n - bin(n).count("1")
    for node in emitted:
        assert node.hash == merkle.root_from_leaves(data[node.start : node.end])
    level, index, h = emitted[-1]
    assert (level, index, h) == (emitted[-1].level, emitted[-1].index, emitted[-1].hash)


@FAST
@given(seeds, sizes, st.integers(min_value=0, max_value=MAX_SIZE))
def test_accumulator_resumes_from_stored_peaks(seed: int, n: int, cut: int) -> None:
    cut = min(cut, n)
    data = leaves(seed, n)
    tree = merkle.MemoryTree(data)
    peaks = [tree.perfect_hash(level, index) for level, index in merkle.ranges_for_root(cut)]
    resumed = merkle.MerkleAccumulator.from_peaks(cut, peaks)
    assert [(p.level, p.index) for p in resumed.peaks] == merkle.ranges_for_root(cut)
    assert merkle.root_from_perfect(cut, tree.perfect_hash) == tree.root(cut)
    copy = resumed.copy()
    resumed.extend(data[cut:])
    assert resumed.root() == tree.root()
    assert copy.size == cut and copy.root() == tree.root(cut)


def test_accumulator_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        merkle.MerkleAccumulator().append(b"short")
    with pytest.raises(ValueError):
        merkle.MerkleAccumulator.from_peaks(3, [merkle.EMPTY_ROOT])
    assert merkle.CompactRange is merkle.MerkleAccumulator


@FAST
@given(st.integers(min_value=0, max_value=2**40))
def test_ranges_for_root_decomposition(size: int) -> None:
    pieces = merkle.ranges_for_root(size)
    assert len(pieces) == bin(size).count("1")
    levels = [level for level, _ in pieces]
    assert levels == sorted(levels, reverse=True) and len(set(levels)) == len(levels)
    pos = 0
    for level, index in pieces:
        assert index << level == pos
        pos += 1 << level
    assert pos == size


@FAST
@given(st.integers(min_value=0, max_value=2**20), st.integers(min_value=0, max_value=2**20))
def test_perfect_subtrees_cover_any_range(a: int, b: int) -> None:
    start, end = min(a, b), max(a, b)
    pos = start
    for level, index in merkle.perfect_subtrees(start, end):
        assert index << level == pos
        pos += 1 << level
    assert pos == end


@FAST
@given(seeds, sizes, st.data())
def test_subtree_hash_of_left_aligned_ranges(seed: int, n: int, data: st.DataObject) -> None:
    hashes = leaves(seed, n)
    tree = merkle.MemoryTree(hashes)
    span_bits = data.draw(st.integers(min_value=0, max_value=max(0, (n - 1).bit_length())))
    span = 1 << span_bits
    if span > n:
        span = 1 << ((n).bit_length() - 1)
    start = data.draw(st.integers(min_value=0, max_value=(n - 1) // span)) * span
    end = data.draw(st.integers(min_value=start + 1, max_value=min(n, start + span)))
    assert tree.subtree_hash(start, end) == merkle.root_from_leaves(hashes[start:end])


def test_subtree_hash_refuses_unaligned_ranges() -> None:
    tree = merkle.MemoryTree(leaves(1, 16))
    for start, end in [(1, 3), (2, 5), (4, 4), (3, 2), (8, 17)]:
        with pytest.raises(ValueError):
            tree.subtree_hash(start, end)


# ---- inclusion -------------------------------------------------------------------------------


@FAST
@given(seeds, sizes)
def test_every_inclusion_proof_verifies(seed: int, n: int) -> None:
    hashes = leaves(seed, n)
    tree = merkle.MemoryTree(hashes)
    root = tree.root()
    for index in range(n):
        proof = tree.inclusion_proof(index)
        assert merkle.verify_inclusion(hashes[index], index, n, proof, root)
        assert not merkle.verify_inclusion(hashes[index], index, n, proof, merkle.EMPTY_ROOT)
    assert tree.inclusion_proof(n // 2) == ref_path(n // 2, hashes)


@FAST
@given(tree_and_index())
def test_inclusion_proof_equals_rfc_definition(args: tuple[merkle.MemoryTree, int, int]) -> None:
    tree, index, size = args
    hashes = tree.levels[0][:size]
    assert tree.inclusion_proof(index, size) == ref_path(index, hashes)
    assert merkle.verify_inclusion(
        hashes[index], index, size, ref_path(index, hashes), tree.root(size)
    )


@FAST
@given(tree_and_index(), st.integers(min_value=0, max_value=255), st.data())
def test_inclusion_single_bit_flip_fails(
    args: tuple[merkle.MemoryTree, int, int], bit: int, data: st.DataObject
) -> None:
    tree, index, size = args
    leaf = tree.levels[0][index]
    proof = tree.inclusion_proof(index, size)
    root = tree.root(size)
    assert merkle.verify_inclusion(leaf, index, size, proof, root)
    assert not merkle.verify_inclusion(flip(leaf, bit), index, size, proof, root)
    assert not merkle.verify_inclusion(leaf, index, size, proof, flip(root, bit))
    if proof:
        i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        assert not merkle.verify_inclusion(leaf, index, size, bad, root)
        assert not merkle.verify_inclusion(leaf, index, size, proof[:-1], root)
        assert not merkle.verify_inclusion(leaf, index, size, proof[1:], root)
    assert not merkle.verify_inclusion(leaf, index, size, [*proof, root], root)
    assert not merkle.verify_inclusion(leaf, index, size, [root, *proof], root)
    assert not merkle.verify_inclusion(leaf, index, size, [*proof, b""], root)
    assert not merkle.verify_inclusion(leaf, size, size, proof, root)
    assert not merkle.verify_inclusion(leaf, -1, size, proof, root)


def test_inclusion_exhaustive_bit_flips() -> None:
    """Every single bit of leaf, every proof element and root, for one proof in a 37-leaf tree."""
    tree = merkle.MemoryTree(leaves(7, 37))
    index, size = 21, 37
    leaf, proof, root = tree.levels[0][index], tree.inclusion_proof(index, size), tree.root(size)
    assert merkle.verify_inclusion(leaf, index, size, proof, root)
    for bit in range(256):
        assert not merkle.verify_inclusion(flip(leaf, bit), index, size, proof, root)
        assert not merkle.verify_inclusion(leaf, index, size, proof, flip(root, bit))
        for i in range(len(proof)):
            bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
            assert not merkle.verify_inclusion(leaf, index, size, bad, root)


# ---- consistency -----------------------------------------------------------------------------


@FAST
@given(seeds, st.integers(min_value=1, max_value=MAX_SIZE))
def test_every_consistency_proof_verifies(seed: int, n: int) -> None:
    tree = merkle.MemoryTree(leaves(seed, n))
    root2 = tree.root()
    for size1 in range(1, n + 1):
        proof = tree.consistency_proof(size1)
        assert merkle.verify_consistency(size1, n, proof, tree.root(size1), root2)
    assert tree.consistency_proof(n) == []


@FAST
@given(tree_and_sizes())
def test_consistency_proof_equals_rfc_definition(args: tuple[merkle.MemoryTree, int, int]) -> None:
    tree, size1, size2 = args
    hashes = tree.levels[0][:size2]
    assert tree.consistency_proof(size1, size2) == ref_subproof(size1, hashes, True)


@FAST
@given(tree_and_sizes(), st.integers(min_value=0, max_value=255), st.data())
def test_consistency_single_bit_flip_fails(
    args: tuple[merkle.MemoryTree, int, int], bit: int, data: st.DataObject
) -> None:
    tree, size1, size2 = args
    proof = tree.consistency_proof(size1, size2)
    root1, root2 = tree.root(size1), tree.root(size2)
    assert merkle.verify_consistency(size1, size2, proof, root1, root2)
    assert not merkle.verify_consistency(size1, size2, proof, flip(root1, bit), root2)
    assert not merkle.verify_consistency(size1, size2, proof, root1, flip(root2, bit))
    i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
    assert not merkle.verify_consistency(size1, size2, bad, root1, root2)
    assert not merkle.verify_consistency(size1, size2, proof[:-1], root1, root2)
    assert not merkle.verify_consistency(size1, size2, [*proof, root1], root1, root2)
    assert not merkle.verify_consistency(size1, size2, [root2, *proof], root1, root2)
    assert not merkle.verify_consistency(size1, size2, [], root1, root2)
    assert not merkle.verify_consistency(size1, size2, proof, root2, root1)
    assert not merkle.verify_consistency(0, size2, proof, root1, root2)
    assert not merkle.verify_consistency(size2, size1, proof, root2, root1)


def test_consistency_exhaustive_bit_flips() -> None:
    tree = merkle.MemoryTree(leaves(9, 45))
    size1, size2 = 13, 45
    proof, root1, root2 = tree.consistency_proof(size1, size2), tree.root(size1), tree.root(size2)
    assert merkle.verify_consistency(size1, size2, proof, root1, root2)
    for bit in range(256):
        assert not merkle.verify_consistency(size1, size2, proof, flip(root1, bit), root2)
        assert not merkle.verify_consistency(size1, size2, proof, root1, flip(root2, bit))
        for i in range(len(proof)):
            bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
            assert not merkle.verify_consistency(size1, size2, bad, root1, root2)


def test_consistency_edge_cases() -> None:
    tree = merkle.MemoryTree(leaves(3, 8))
    r = tree.root()
    assert merkle.verify_consistency(8, 8, [], r, r)
    assert not merkle.verify_consistency(8, 8, [r], r, r)
    assert not merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    assert not merkle.verify_consistency(0, 8, [], merkle.EMPTY_ROOT, r)
    for bad in [(0, 8), (9, 8), (-1, 8)]:
        with pytest.raises(ValueError):
            merkle.consistency_proof_ranges(*bad)
    with pytest.raises(ValueError):
        merkle.inclusion_proof_ranges(8, 8)
    with pytest.raises(ValueError):
        tree.consistency_proof(1, 9)


# ---- storage access pattern ------------------------------------------------------------------


class CountingTree(merkle.MemoryTree):
    def __init__(self, hashes: list[bytes]) -> None:
        super().__init__(hashes)
        self.reads = 0

    def perfect_hash(self, level: int, index: int) -> bytes:
        self.reads += 1
        return super().perfect_hash(level, index)


@FAST
@given(tree_and_index(), st.integers(min_value=1, max_value=MAX_SIZE))
def test_proofs_need_logarithmic_reads(args: tuple[merkle.MemoryTree, int, int], s1: int) -> None:
    """Proofs touch O(log n) stored perfect subtrees: at most one range is not perfect."""
    tree, index, size = args
    counting = CountingTree(tree.levels[0])
    depth = max(1, (size - 1).bit_length())
    counting.inclusion_proof(index, size)
    assert counting.reads <= 2 * depth
    needed = merkle.perfect_nodes_for_ranges(merkle.inclusion_proof_ranges(index, size))
    assert len(needed) <= 2 * depth
    ranges = merkle.inclusion_proof_ranges(index, size)
    assert sum(1 for s, e in ranges if (e - s) & (e - s - 1)) <= 1
    size1 = min(s1, size)
    counting.reads = 0
    counting.consistency_proof(size1, size)
    assert counting.reads <= 2 * depth + 1
    ranges = merkle.consistency_proof_ranges(size1, size)
    assert sum(1 for s, e in ranges if (e - s) & (e - s - 1)) <= 1


def test_proof_from_batched_node_fetch() -> None:
    """A store can fetch every node a proof needs in one query, then answer from a dict."""
    tree = merkle.MemoryTree(leaves(5, 200))
    ranges = merkle.inclusion_proof_ranges(123, 199)
    fetched = {node: tree.perfect_hash(*node) for node in merkle.perfect_nodes_for_ranges(ranges)}
    proof = [
        merkle.subtree_hash_from_perfect(s, e, lambda lv, ix: fetched[(lv, ix)]) for s, e in ranges
    ]
    assert proof == tree.inclusion_proof(123, 199)
    assert merkle.verify_inclusion(tree.levels[0][123], 123, 199, proof, tree.root(199))
