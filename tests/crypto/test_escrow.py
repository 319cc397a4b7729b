"""Key escrow: SLIP-0039 shares of an escrow key, k-of-n custodians, and opening through them.

* every SLIP-0039 test vector of ``shared/reference/slip39/vectors.json`` (Trezor's
  python-shamir-mnemonic), through the ``shamir-mnemonic`` library the escrow uses: the valid sets
  recover the given master secret with the passphrase "TREZOR", the invalid ones are refused;
* escrow round trips for both suites (2-of-3 and 3-of-5, every k-subset of the shares);
* refusals: too few shares, a share of another escrow (even one with the same SLIP-0039
  identifier), a duplicate, a changed word (checksum), an unknown word, a wrong passphrase (which
  SLIP-0039 cannot detect and the public-key check does);
* a bid sealed to the bidder and the escrow opens through the escrow path.
"""

from __future__ import annotations

import functools
import itertools
import json
from typing import Any

import pytest
import shamir_mnemonic
from shamir_mnemonic.wordlist import WORDLIST

from openbid.crypto import KeyUse, get_suite
from openbid.crypto.errors import CryptoError, InvalidEnvelope, NotARecipient
from openbid.crypto.escrow import (
    EscrowError,
    EscrowFailure,
    EscrowPublic,
    create_escrow,
    identify_custodians,
    recover_private_key,
    unwrap_with_escrow,
)
from tests.reference import REFERENCE

SUITE_NAMES = ["intl-2026", "sm-2026"]
CUSTODIANS = ["trading-centre", "regulator", "notary", "audit-office", "tenderer-agency"]
AAD = b"tender:ZB-2026-0001 bidder:91110000600037341A"

# --- SLIP-0039 test vectors ----------------------------------------------------------------------

SLIP39_VECTORS: list[list[Any]] = json.loads((REFERENCE / "slip39" / "vectors.json").read_text())
SLIP39_PASSPHRASE = b"TREZOR"


def test_the_reference_file_holds_all_45_vectors() -> None:
    assert len(SLIP39_VECTORS) == 45
    assert sum(1 for _, _, secret, _ in SLIP39_VECTORS if secret) == 15


@pytest.mark.parametrize(
    ("description", "mnemonics", "secret_hex", "xprv"),
    SLIP39_VECTORS,
    ids=[vector[0].split(".")[0] for vector in SLIP39_VECTORS],
)
def test_slip39_vector(description: str, mnemonics: list[str], secret_hex: str, xprv: str) -> None:
    if secret_hex:
        secret = shamir_mnemonic.combine_mnemonics(mnemonics, SLIP39_PASSPHRASE)
        assert secret.hex() == secret_hex, description
    else:
        with pytest.raises(shamir_mnemonic.MnemonicError):
            shamir_mnemonic.combine_mnemonics(mnemonics, SLIP39_PASSPHRASE)


# --- escrow round trips --------------------------------------------------------------------------


@functools.cache
def escrow(
    name: str, threshold: int, count: int, passphrase: bytes = b""
) -> tuple[EscrowPublic, dict[str, str]]:
    return create_escrow(
        name, threshold=threshold, custodians=CUSTODIANS[:count], passphrase=passphrase
    )


@pytest.fixture(params=SUITE_NAMES)
def suite_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(("threshold", "count"), [(2, 3), (3, 5)])
def test_round_trip_with_every_k_subset(suite_name: str, threshold: int, count: int) -> None:
    record, mnemonics = escrow(suite_name, threshold, count)
    suite = get_suite(suite_name)
    assert record.suite == suite_name
    assert (record.threshold, record.count) == (threshold, count)
    assert list(mnemonics) == CUSTODIANS[:count]
    assert record.custodians == {name: index for index, name in enumerate(CUSTODIANS[:count])}
    assert sorted(record.fingerprints) == list(range(count))
    assert len(set(mnemonics.values())) == count
    assert all(len(mnemonic.split()) == 33 for mnemonic in mnemonics.values())

    recovered = set()
    for holders in itertools.combinations(CUSTODIANS[:count], threshold):
        private_key = recover_private_key(record, [mnemonics[name] for name in holders])
        assert suite.public_key(private_key, KeyUse.ENCRYPTION) == record.public_key
        recovered.add(private_key)
    assert len(recovered) == 1
    # More than k shares are fine, in any order.
    every = list(reversed(mnemonics.values()))
    assert recover_private_key(record, every) in recovered


def test_the_record_holds_nothing_secret(suite_name: str) -> None:
    record, mnemonics = escrow(suite_name, 3, 5)
    private_key = recover_private_key(record, list(mnemonics.values()))
    stored = json.dumps(record.to_dict())
    assert private_key.hex() not in stored
    for mnemonic in mnemonics.values():
        assert mnemonic not in stored
        assert " ".join(mnemonic.split()[4:8]) not in stored  # no run of the share's value words
    assert EscrowPublic.from_dict(json.loads(stored)) == record
    assert "private" not in repr(record)


def test_a_record_that_does_not_add_up_is_refused() -> None:
    record, _ = escrow("intl-2026", 2, 3)
    data = record.to_dict()
    with pytest.raises(ValueError, match="number of shares"):
        EscrowPublic.from_dict({**data, "count": 4})
    with pytest.raises(ValueError, match="not an escrow record"):
        EscrowPublic.from_dict({key: value for key, value in data.items() if key != "shares"})
    with pytest.raises(ValueError, match="custodian twice"):
        EscrowPublic.from_dict(
            {**data, "shares": [{**share, "custodian": "x"} for share in data["shares"]]}
        )


def test_identify_custodians_names_the_holders_in_order() -> None:
    record, mnemonics = escrow("intl-2026", 3, 5)
    holders = ["notary", "trading-centre", "tenderer-agency"]
    assert identify_custodians(record, [mnemonics[name] for name in holders]) == holders


def test_mnemonics_are_read_case_and_space_insensitively() -> None:
    record, mnemonics = escrow("intl-2026", 2, 3)
    sloppy = ["  " + mnemonics["regulator"].upper().replace(" ", "\n  "), mnemonics["notary"]]
    recover_private_key(record, sloppy)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"threshold": 1, "custodians": CUSTODIANS[:3]}, "threshold"),
        ({"threshold": 4, "custodians": CUSTODIANS[:3]}, "threshold"),
        ({"threshold": 2, "custodians": ["a", "b", "a"]}, "twice"),
        ({"threshold": 2, "custodians": ["a", " "]}, "non-empty"),
        ({"threshold": 2, "custodians": [f"c{i}" for i in range(17)]}, "1 to 16"),
        ({"threshold": 2, "custodians": ["a", "b"], "passphrase": "密码".encode()}, "ASCII"),
        ({"threshold": 2, "custodians": ["a", "b"], "iteration_exponent": 16}, "exponent"),
    ],
)
def test_unusable_arguments_are_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_escrow("intl-2026", **arguments)


def test_an_unknown_suite_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown crypto suite"):
        create_escrow("rot13", threshold=2, custodians=["a", "b"])


# --- refusals ------------------------------------------------------------------------------------


def reason(excinfo: pytest.ExceptionInfo[EscrowError]) -> EscrowFailure:
    return excinfo.value.reason


@pytest.mark.parametrize(("threshold", "count"), [(2, 3), (3, 5)])
def test_fewer_than_k_shares_are_refused(suite_name: str, threshold: int, count: int) -> None:
    record, mnemonics = escrow(suite_name, threshold, count)
    for given in ([], list(mnemonics.values())[: threshold - 1]):
        with pytest.raises(EscrowError, match="needed") as excinfo:
            recover_private_key(record, given)
        assert reason(excinfo) is EscrowFailure.NOT_ENOUGH_SHARES
        assert isinstance(excinfo.value, CryptoError)


def test_a_share_of_another_escrow_is_refused(suite_name: str) -> None:
    record, mnemonics = escrow(suite_name, 2, 3)
    _, others = create_escrow(suite_name, threshold=2, custodians=CUSTODIANS[:3])
    with pytest.raises(EscrowError) as excinfo:
        recover_private_key(record, [mnemonics["regulator"], others["notary"]])
    assert reason(excinfo) is EscrowFailure.FOREIGN_SHARE
    assert excinfo.value.position == 1


def test_a_foreign_share_with_the_same_identifier_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SLIP-0039 identifiers are only 15 bits: two escrows can share one. SLIP-0039 alone notices
    the mix only when recombining (its 4-byte digest), without saying which share is foreign; the
    fingerprints name it."""
    monkeypatch.setattr(shamir_mnemonic.shamir, "_random_identifier", lambda: 4242)
    first, first_shares = create_escrow("intl-2026", threshold=2, custodians=CUSTODIANS[:3])
    second, second_shares = create_escrow("intl-2026", threshold=2, custodians=CUSTODIANS[:3])
    assert first.identifier == second.identifier == 4242
    mixed = [first_shares["trading-centre"], second_shares["regulator"]]
    with pytest.raises(shamir_mnemonic.MnemonicError, match="digest"):
        shamir_mnemonic.combine_mnemonics(mixed)
    with pytest.raises(EscrowError) as excinfo:
        recover_private_key(first, mixed)
    assert reason(excinfo) is EscrowFailure.FOREIGN_SHARE
    assert excinfo.value.position == 1


def test_a_share_given_twice_is_refused(suite_name: str) -> None:
    record, mnemonics = escrow(suite_name, 2, 3)
    with pytest.raises(EscrowError) as excinfo:
        recover_private_key(
            record, [mnemonics["notary"], mnemonics["notary"].upper(), mnemonics["regulator"]]
        )
    assert reason(excinfo) is EscrowFailure.DUPLICATE_SHARE
    assert excinfo.value.position == 1


@pytest.mark.parametrize("position", [0, 3, 10, 20, 32])
def test_a_changed_word_fails_the_checksum(suite_name: str, position: int) -> None:
    record, mnemonics = escrow(suite_name, 2, 3)
    words = mnemonics["notary"].split()
    words[position] = WORDLIST[(WORDLIST.index(words[position]) + 1) % len(WORDLIST)]
    corrupted = " ".join(words)
    with pytest.raises(EscrowError, match="checksum") as excinfo:
        recover_private_key(record, [mnemonics["regulator"], corrupted])
    assert reason(excinfo) is EscrowFailure.BAD_CHECKSUM
    assert excinfo.value.position == 1
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__
    # The message quotes no word of the share.
    assert str(excinfo.value) == (
        "share 2 is not a valid SLIP-0039 mnemonic (its checksum fails: a word is wrong)"
    )


@pytest.mark.parametrize(
    "damage",
    [
        lambda words: [*words[:5], "bitcoin", *words[6:]],  # not in the word list
        lambda words: words[:-1],  # a word missing
        lambda words: words[:15],  # far too short
    ],
    ids=["unknown-word", "missing-word", "too-short"],
)
def test_a_malformed_share_is_refused(damage: Any) -> None:
    record, mnemonics = escrow("intl-2026", 2, 3)
    malformed = " ".join(damage(mnemonics["notary"].split()))
    with pytest.raises(EscrowError) as excinfo:
        recover_private_key(record, [malformed, mnemonics["regulator"]])
    assert reason(excinfo) in {EscrowFailure.MALFORMED_SHARE, EscrowFailure.BAD_CHECKSUM}
    assert excinfo.value.position == 0
    assert "bitcoin" not in str(excinfo.value)


def test_a_wrong_passphrase_is_caught_by_the_public_key_check(suite_name: str) -> None:
    record, mnemonics = escrow(suite_name, 2, 3, passphrase=b"kept by the agency")
    shares = [mnemonics["trading-centre"], mnemonics["notary"]]
    private_key = recover_private_key(record, shares, passphrase=b"kept by the agency")
    # SLIP-0039 itself accepts any passphrase and yields some other secret ...
    wrong = shamir_mnemonic.combine_mnemonics(shares, b"kept by the agenc")
    assert len(wrong) == 32 and wrong != private_key
    # ... which the escrow refuses, because it does not have the escrow public key.
    for passphrase in (b"kept by the agenc", b""):
        with pytest.raises(EscrowError, match="wrong passphrase") as excinfo:
            recover_private_key(record, shares, passphrase=passphrase)
        assert reason(excinfo) is EscrowFailure.KEY_MISMATCH


def test_a_record_with_another_public_key_is_refused(suite_name: str) -> None:
    record, mnemonics = escrow(suite_name, 2, 3)
    other = get_suite(suite_name).generate_encryption_key().public
    forged = EscrowPublic.from_dict({**record.to_dict(), "public_key": other.hex()})
    with pytest.raises(EscrowError) as excinfo:
        recover_private_key(forged, list(mnemonics.values())[:2])
    assert reason(excinfo) is EscrowFailure.KEY_MISMATCH


# --- opening a sealed bid through the escrow -----------------------------------------------------


@pytest.mark.parametrize(("threshold", "count"), [(2, 3), (3, 5)])
def test_a_bid_sealed_to_the_escrow_opens_through_it(
    suite_name: str, threshold: int, count: int
) -> None:
    suite = get_suite(suite_name)
    record, mnemonics = escrow(suite_name, threshold, count)
    bidder = suite.generate_encryption_key()
    bid = "投标文件：报价 1,234,567.00 元".encode()
    envelope = suite.seal([bidder.public, record.public_key], bid, AAD)
    assert record.key_id in suite.parse(envelope).key_ids

    # The bidder cannot release its key: k custodians step in.
    shares = [mnemonics[name] for name in CUSTODIANS[count - threshold : count]]
    data_key = unwrap_with_escrow(record, shares, envelope)
    assert suite.open_with_data_key(data_key, envelope, AAD) == bid
    # The same data key the bidder would have released.
    assert data_key == suite.unwrap(bidder.private, envelope)


def test_the_escrow_path_needs_the_passphrase_when_one_was_set() -> None:
    suite = get_suite("sm-2026")
    record, mnemonics = escrow("sm-2026", 2, 3, passphrase=b"kept by the agency")
    envelope = suite.seal([suite.generate_encryption_key().public, record.public_key], b"bid", AAD)
    shares = [mnemonics["regulator"], mnemonics["notary"]]
    with pytest.raises(EscrowError):
        unwrap_with_escrow(record, shares, envelope)
    data_key = unwrap_with_escrow(record, shares, envelope, passphrase=b"kept by the agency")
    assert suite.open_with_data_key(data_key, envelope, AAD) == b"bid"


def test_the_escrow_path_fails_for_a_bid_not_sealed_to_the_escrow(suite_name: str) -> None:
    suite = get_suite(suite_name)
    record, mnemonics = escrow(suite_name, 2, 3)
    envelope = suite.seal([suite.generate_encryption_key().public], b"bid", AAD)
    with pytest.raises(NotARecipient):
        unwrap_with_escrow(record, list(mnemonics.values())[:2], envelope)


def test_the_escrow_path_refuses_an_envelope_of_the_other_suite() -> None:
    record, mnemonics = escrow("intl-2026", 2, 3)
    national = get_suite("sm-2026")
    envelope = national.seal([national.generate_encryption_key().public], b"bid", AAD)
    with pytest.raises(InvalidEnvelope):
        unwrap_with_escrow(record, list(mnemonics.values())[:2], envelope)


def test_the_escrow_path_refuses_too_few_shares_before_unwrapping(suite_name: str) -> None:
    suite = get_suite(suite_name)
    record, mnemonics = escrow(suite_name, 3, 5)
    envelope = suite.seal([record.public_key], b"bid", AAD)
    with pytest.raises(EscrowError) as excinfo:
        unwrap_with_escrow(record, list(mnemonics.values())[:2], envelope)
    assert reason(excinfo) is EscrowFailure.NOT_ENOUGH_SHARES
