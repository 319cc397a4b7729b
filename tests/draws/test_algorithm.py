"""The pure draw functions (openbid-draw-v1): known answers, rejection sampling, uniformity."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbid.draws import algorithm
from openbid.draws.algorithm import DrawInputError, Stream

SEED = hashlib.sha256(b"seed").digest()
INPUTS = hashlib.sha256(b"inputs").digest()


def test_block_zero_is_sha256_of_the_documented_message() -> None:
    # Written from the specification, not from the module: the message of block 0.
    message = b"openbid-draw-v1\x00award.lottery\x00" + SEED + INPUTS + bytes(8)
    expected = int.from_bytes(hashlib.sha256(message).digest(), "big")
    assert Stream(SEED, "award.lottery", INPUTS).block() == expected
    assert expected == 0xE93E4AAC08F4A5A31C7309EAFFD55B03D18E3EF9A3B57AE9651B0C69F4110B8E


def test_known_answers() -> None:
    # Computed once with this implementation and checked against the specification above.
    assert algorithm.uniform_int(SEED, "award.lottery", INPUTS, 10) == 4
    assert algorithm.uniform_int(SEED, "award.lottery", INPUTS, 7) == 2
    assert algorithm.shuffle(SEED, "award.lottery", INPUTS, list(range(10))) == [
        2,
        3,
        5,
        9,
        0,
        6,
        7,
        8,
        1,
        4,
    ]
    assert algorithm.choose(SEED, "evaluation.committee", INPUTS, list("abcdefg"), 3) == [
        "b",
        "d",
        "g",
    ]


def test_uniform_int_is_block_mod_n_without_rejection() -> None:
    block = 0xE93E4AAC08F4A5A31C7309EAFFD55B03D18E3EF9A3B57AE9651B0C69F4110B8E
    assert algorithm.uniform_int(SEED, "award.lottery", INPUTS, 10) == block % 10


def test_purpose_and_inputs_change_the_stream() -> None:
    a = algorithm.shuffle(SEED, "award.lottery", INPUTS, list(range(20)))
    b = algorithm.shuffle(SEED, "supervision.inspection", INPUTS, list(range(20)))
    c = algorithm.shuffle(SEED, "award.lottery", hashlib.sha256(b"other").digest(), list(range(20)))
    assert a != b and a != c


class FixedStream(Stream):
    """A stream whose blocks are given: to exercise the rejection branch."""

    def __init__(self, blocks: list[int]) -> None:
        super().__init__(SEED, "test.fixed", INPUTS)
        self.blocks = list(blocks)

    def block(self) -> int:
        self.counter += 1
        return self.blocks.pop(0)


def test_rejection_sampling_discards_the_biased_tail() -> None:
    n = 3
    limit = (1 << 256) - ((1 << 256) % n)  # 2**256 ≡ 1 (mod 3): one value is rejected
    assert limit == (1 << 256) - 1
    stream = FixedStream([limit, limit + 0, 5])
    assert stream.uniform_int(n) == 5 % 3
    assert stream.counter == 3  # two blocks rejected, the third used
    # The largest value accepted:
    assert FixedStream([limit - 1]).uniform_int(n) == (limit - 1) % 3


def test_rejection_for_a_power_of_two_never_happens() -> None:
    assert FixedStream([(1 << 256) - 1]).uniform_int(1 << 8) == 255


def test_n_must_be_positive() -> None:
    with pytest.raises(DrawInputError):
        algorithm.uniform_int(SEED, "award.lottery", INPUTS, 0)
    with pytest.raises(DrawInputError):
        algorithm.choose(SEED, "award.lottery", INPUTS, [1, 2], 3)


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.lists(st.integers(), max_size=30, unique=True))
def test_shuffle_is_a_permutation_and_deterministic(seed: bytes, items: list[int]) -> None:
    first = algorithm.shuffle(seed, "award.lottery", INPUTS, items)
    assert sorted(first) == sorted(items)
    assert algorithm.shuffle(seed, "award.lottery", INPUTS, items) == first


@settings(max_examples=5, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(min_value=2, max_value=7))
def test_uniform_int_is_roughly_uniform(seed: bytes, n: int) -> None:
    # 3000 values from one stream: each of n outcomes within a generous band of 3000/n
    # (a chi-square bound at a false-alarm rate far below one in a million).
    stream = Stream(seed, "test.uniformity", INPUTS)
    counts = Counter(stream.uniform_int(n) for _ in range(3000))
    expected = 3000 / n
    chi2 = sum((counts[k] - expected) ** 2 / expected for k in range(n))
    assert set(counts) == set(range(n))
    assert chi2 < 40


def test_every_position_is_equally_likely_for_small_shuffles() -> None:
    # 3 items: 6 permutations, 3000 shuffles with different inputs digests.
    counts = Counter(
        tuple(algorithm.shuffle(SEED, "test.perm", hashlib.sha256(b"%d" % i).digest(), "abc"))
        for i in range(3000)
    )
    assert len(counts) == 6
    assert all(400 < c < 600 for c in counts.values())


def _inputs(snapshot: dict) -> dict:
    inputs = {
        "version": "openbid-draw-v1",
        "purpose": "evaluation.committee",
        "subject": {"kind": "tender", "id": "1"},
        "previous": None,
        "criteria": {},
        "groups": [
            {"name": "g1", "tag": "g1", "count": 2, "reserves": 1},
            {"name": "g2", "tag": None, "count": 1, "reserves": 0},
        ],
        "candidates": {"count": len(snapshot["candidates"]), "sha256": ""},
    }
    inputs["candidates"]["sha256"] = algorithm.digest(snapshot).hex()
    return inputs


SNAPSHOT = {
    "salt": "00" * 16,
    "candidates": [{"ref": f"expert:{i}", "tags": ["g1"] if i % 2 else []} for i in range(1, 9)],
}


def test_select_known_answer_with_groups_and_reserves() -> None:
    inputs = _inputs(SNAPSHOT)
    assert algorithm.digest(inputs).hex() == (
        "57907091ebdd93f324966d5b1a2c11c2ba7617e11301a957bbbf3c03c9881c15"
    )
    result = algorithm.select(SEED, inputs, SNAPSHOT)
    assert result == {
        "order": [
            "expert:2",
            "expert:6",
            "expert:7",
            "expert:8",
            "expert:5",
            "expert:3",
            "expert:1",
            "expert:4",
        ],
        # Walking the order: expert:2 has no g1 tag → g2 (tag null); 7 and 5 fill g1; then the
        # first unplaced g1 candidate in the order, expert:3, is g1's reserve.
        "groups": [
            {"name": "g1", "members": ["expert:7", "expert:5"], "reserves": ["expert:3"]},
            {"name": "g2", "members": ["expert:2"], "reserves": []},
        ],
        "shortfall": 0,
    }
    assert algorithm.snapshot_matches(inputs, SNAPSHOT)


def test_select_reports_a_shortfall() -> None:
    snapshot = {"salt": "11" * 16, "candidates": [{"ref": "expert:1", "tags": ["g1"]}]}
    result = algorithm.select(SEED, _inputs(snapshot), snapshot)
    assert result["groups"][0]["members"] == ["expert:1"]
    assert result["shortfall"] == 3  # one g1 member, the g1 reserve and g2's member are missing


def test_malformed_inputs_are_refused() -> None:
    inputs = _inputs(SNAPSHOT)
    with pytest.raises(DrawInputError):
        algorithm.select(SEED, {**inputs, "version": "v0"}, SNAPSHOT)
    duplicated = {"salt": "", "candidates": [{"ref": "a"}, {"ref": "a"}]}
    with pytest.raises(DrawInputError):
        algorithm.select(SEED, inputs, duplicated)
    with pytest.raises(DrawInputError):
        algorithm.select(
            SEED, {**inputs, "groups": [{"name": "g", "count": -1, "reserves": 0}]}, SNAPSHOT
        )
