"""The blind-review plan: codes and staggered orders recomputed from the documented algorithm by an
independent implementation written from the module's description, Latin-square orders, and a
revealed plan that fails verification after any change."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbid.evaluation import blind

SECRET = bytes(range(32))


def reference_plan(bids: list[int], experts: list[int], secret: bytes) -> dict:
    """The algorithm as the module docstring states it, written out again."""

    def mac(label: str) -> bytes:
        return hmac.new(secret, ("openbid-blind-v1 " + label).encode(), hashlib.sha256).digest()

    codes, taken = {}, set()
    for bid in sorted(bids):
        attempt = 0
        while True:
            value = int.from_bytes(mac(f"code {bid} {attempt}")[:4], "big") >> 7
            code = "B-" + "".join(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(value >> (5 * (4 - i))) & 31] for i in range(5)
            )
            if code not in taken:
                break
            attempt += 1
        codes[bid] = code
        taken.add(code)
    counter = 0

    def below(bound: int) -> int:
        nonlocal counter
        while True:
            value = int.from_bytes(mac(f"order {counter}"), "big")
            counter += 1
            if value < 2**256 - 2**256 % bound:
                return value % bound

    base = sorted(bids)
    for i in range(len(base) - 1, 0, -1):
        j = below(i + 1)
        base[i], base[j] = base[j], base[i]
    orders = {}
    for k, expert in enumerate(sorted(experts)):
        n = len(base)
        order = base[k % n :] + base[: k % n]
        orders[expert] = tuple(reversed(order)) if (k // n) % 2 else tuple(order)
    return {"codes": codes, "orders": orders}


def test_the_plan_is_the_documented_function():
    bids, experts = [31, 7, 12, 45, 3], [101, 102, 103, 104, 105, 106, 107]
    made = blind.plan(bids, experts, SECRET)
    expected = reference_plan(bids, experts, SECRET)
    assert made.codes == expected["codes"]
    assert made.orders == expected["orders"]
    assert all(code.startswith("B-") and len(code) == 7 for code in made.codes.values())


def test_orders_are_staggered_as_a_latin_square():
    bids, experts = [1, 2, 3, 4, 5], [10, 11, 12, 13, 14]
    made = blind.plan(bids, experts, SECRET)
    orders = list(made.orders.values())
    for position in range(5):
        assert sorted(order[position] for order in orders) == bids
    assert len({order[0] for order in orders}) == 5


@settings(max_examples=60, deadline=None)
@given(
    bids=st.lists(st.integers(1, 10**6), min_size=1, max_size=30, unique=True),
    experts=st.lists(st.integers(1, 10**6), min_size=1, max_size=13, unique=True),
    secret=st.binary(min_size=32, max_size=32),
)
def test_every_expert_reads_every_bid_once_under_unique_codes(bids, experts, secret):
    made = blind.plan(bids, experts, secret)
    assert len(set(made.codes.values())) == len(bids)
    for order in made.orders.values():
        assert sorted(order) == sorted(bids)
    if len(bids) >= 3 and len(experts) <= 2 * len(bids):
        assert len(set(made.orders.values())) == len(experts)
    assert made.bid_of(made.codes[bids[0]]) == bids[0]


def test_a_revealed_plan_verifies_and_any_change_fails():
    made = blind.plan([5, 6, 7], [1, 2, 3], SECRET)
    document = json.loads(json.dumps(made.document()))
    assert blind.verify(document, made.commitment()).codes == made.codes
    swapped = json.loads(json.dumps(document))
    first, second = list(swapped["codes"])[:2]
    swapped["codes"][first], swapped["codes"][second] = (
        swapped["codes"][second],
        swapped["codes"][first],
    )
    with pytest.raises(ValueError, match="not the one its secret gives"):
        blind.verify(swapped, made.commitment())
    other = blind.plan([5, 6, 7], [1, 2, 3], bytes(32))
    with pytest.raises(ValueError, match="commitment"):
        blind.verify(other.document(), made.commitment())
    with pytest.raises(ValueError):
        blind.verify({"secret": "zz"}, made.commitment())


def test_refusals():
    with pytest.raises(ValueError):
        blind.plan([1], [1], b"short")
    with pytest.raises(ValueError):
        blind.plan([], [1], SECRET)
    with pytest.raises(ValueError):
        blind.plan([1, 1], [2], SECRET)
