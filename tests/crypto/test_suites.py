"""Both crypto suites behind one interface: signatures, keys and sealed envelopes."""

from __future__ import annotations

import functools
import hashlib
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbid.crypto import (
    SUITES,
    DecryptionFailed,
    InvalidEnvelope,
    InvalidKey,
    KeyPair,
    KeyUse,
    Suite,
    get_suite,
)
from openbid.crypto.errors import NotARecipient
from openbid.crypto.suites import ENVELOPE_MAGIC, parse_envelope

SUITE_NAMES = ["intl-2026", "sm-2026"]
AAD = b"tender:ZB-2026-0001 bidder:91110000600037341A"


@pytest.fixture(params=SUITE_NAMES)
def suite(request: pytest.FixtureRequest) -> Suite:
    return get_suite(request.param)


@functools.cache
def keys(name: str, count: int = 3) -> tuple[KeyPair, ...]:
    suite = get_suite(name)
    return tuple(suite.generate_encryption_key() for _ in range(count))


@functools.cache
def sealed(name: str) -> bytes:
    """One envelope per suite, for three recipients, reused by the tampering tests."""
    return get_suite(name).seal([key.public for key in keys(name)], b"bid: 1,234,567.89 CNY", AAD)


def test_registry() -> None:
    assert sorted(SUITES) == sorted(SUITE_NAMES)
    for name in SUITE_NAMES:
        assert get_suite(name).name == name
    with pytest.raises(KeyError, match="known: intl-2026, sm-2026"):
        get_suite("rot13")


def test_hash(suite: Suite) -> None:
    if suite.name == "intl-2026":
        assert suite.hash(b"abc") == hashlib.sha256(b"abc").digest()
    else:
        assert suite.hash(b"abc").hex().startswith("66c7f0f4")  # GB/T 32905 example 1
    assert len(suite.hash(b"")) == 32


# --- signatures --------------------------------------------------------------------------------


def test_sign_and_verify(suite: Suite) -> None:
    signer = suite.generate_signing_key()
    other = suite.generate_signing_key()
    signature = suite.sign(signer.private, b"bid document")
    assert suite.verify(signer.public, b"bid document", signature)
    assert not suite.verify(signer.public, b"bid document!", signature)
    assert not suite.verify(other.public, b"bid document", signature)
    changed = bytearray(signature)
    changed[10] ^= 0x01
    assert not suite.verify(signer.public, b"bid document", bytes(changed))
    assert not suite.verify(signer.public, b"bid document", signature[:-1])
    with pytest.raises(InvalidKey):
        suite.verify(signer.public[:-1], b"bid document", signature)
    with pytest.raises(InvalidKey):
        suite.sign(signer.private[:-1], b"bid document")


# --- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("use", list(KeyUse))
def test_key_serialisation(suite: Suite, use: KeyUse) -> None:
    pair = (
        suite.generate_signing_key() if use is KeyUse.SIGNING else suite.generate_encryption_key()
    )
    assert suite.public_key(pair.private, use) == pair.public
    public_pem = suite.public_key_to_pem(pair.public, use)
    private_pem = suite.private_key_to_pem(pair.private, use)
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert suite.public_key_from_pem(public_pem, use) == pair.public
    assert suite.private_key_from_pem(private_pem, use) == pair.private
    assert repr(pair.private) not in repr(pair)  # a private key never shows in logs
    with pytest.raises(InvalidKey):
        suite.public_key_from_pem(b"not a key", use)
    with pytest.raises(InvalidKey):
        suite.private_key_from_pem(public_pem, use)


def test_intl_key_types_not_mixed() -> None:
    suite = get_suite("intl-2026")
    signing = suite.generate_signing_key()
    encryption = suite.generate_encryption_key()
    with pytest.raises(InvalidKey):
        suite.public_key_from_pem(
            suite.public_key_to_pem(signing.public, KeyUse.SIGNING), KeyUse.ENCRYPTION
        )
    with pytest.raises(InvalidKey):
        suite.private_key_from_pem(
            suite.private_key_to_pem(encryption.private, KeyUse.ENCRYPTION), KeyUse.SIGNING
        )


def test_cross_suite_pem_refused() -> None:
    intl, national = get_suite("intl-2026"), get_suite("sm-2026")
    pem = national.public_key_to_pem(national.generate_signing_key().public, KeyUse.SIGNING)
    with pytest.raises(InvalidKey):
        intl.public_key_from_pem(pem, KeyUse.SIGNING)
    pem = intl.public_key_to_pem(intl.generate_signing_key().public, KeyUse.SIGNING)
    with pytest.raises(InvalidKey):
        national.public_key_from_pem(pem, KeyUse.SIGNING)


# --- envelopes ---------------------------------------------------------------------------------


def test_round_trip_several_recipients(suite: Suite) -> None:
    envelope = sealed(suite.name)
    for key in keys(suite.name):
        assert suite.open(key.private, envelope, AAD) == b"bid: 1,234,567.89 CNY"


def test_envelope_layout(suite: Suite) -> None:
    envelope = sealed(suite.name)
    name = suite.name.encode()
    assert envelope[:5] == ENVELOPE_MAGIC == b"OBENV"
    assert envelope[5] == 1
    assert envelope[6] == len(name) and envelope[7 : 7 + len(name)] == name
    offset = 7 + len(name) + 32 + 32 + 12
    assert struct.unpack(">H", envelope[offset : offset + 2]) == (3,)
    parsed = parse_envelope(envelope)
    assert (parsed.version, parsed.suite) == (1, suite.name)
    assert parsed.key_ids == tuple(suite.key_id(key.public) for key in keys(suite.name))
    wrapped_size = 32 + 48 if suite.name == "intl-2026" else 65 + 32 + 32
    assert {len(r.wrapped) for r in parsed.recipients} == {wrapped_size}
    assert parsed.header + parsed.ciphertext == envelope
    assert len(parsed.ciphertext) == len(b"bid: 1,234,567.89 CNY") + 16
    # Each seal uses a fresh data key, message id and nonce.
    again = suite.seal([keys(suite.name)[0].public], b"bid: 1,234,567.89 CNY", AAD)
    assert parse_envelope(again).message_id != parsed.message_id


def test_data_key_release(suite: Suite) -> None:
    """At opening the bidder releases the data key, not its private key; anyone can then open."""
    envelope = sealed(suite.name)
    first, second, _ = keys(suite.name)
    data_key = suite.unwrap(first.private, envelope)
    assert len(data_key) == 32
    assert suite.unwrap(second.private, envelope) == data_key
    assert suite.open_with_data_key(data_key, envelope, AAD) == b"bid: 1,234,567.89 CNY"
    with pytest.raises(DecryptionFailed):
        suite.open_with_data_key(os.urandom(32), envelope, AAD)
    with pytest.raises(DecryptionFailed):
        suite.open_with_data_key(data_key[:16], envelope, AAD)
    other = suite.seal([first.public], b"another bid", AAD)
    with pytest.raises(DecryptionFailed):  # the data key of another envelope
        suite.open_with_data_key(suite.unwrap(first.private, other), envelope, AAD)


def test_aad_must_match(suite: Suite) -> None:
    envelope = sealed(suite.name)
    key = keys(suite.name)[0]
    for aad in (b"", AAD + b" ", AAD.replace(b"0001", b"0002")):
        with pytest.raises(DecryptionFailed):
            suite.open(key.private, envelope, aad)


def test_wrong_key_refused(suite: Suite) -> None:
    envelope = sealed(suite.name)
    outsider = suite.generate_encryption_key()
    with pytest.raises(NotARecipient):
        suite.open(outsider.private, envelope, AAD)
    with pytest.raises(NotARecipient):
        suite.unwrap(outsider.private, envelope)


def test_tampered_ciphertext_detected(suite: Suite) -> None:
    envelope = sealed(suite.name)
    key = keys(suite.name)[0]
    for position in (len(parse_envelope(envelope).header), len(envelope) - 17, len(envelope) - 1):
        changed = bytearray(envelope)
        changed[position] ^= 0x80
        with pytest.raises(DecryptionFailed):
            suite.open(key.private, bytes(changed), AAD)
    with pytest.raises(DecryptionFailed):
        suite.open(key.private, envelope + b"\x00", AAD)
    with pytest.raises((DecryptionFailed, InvalidEnvelope)):
        suite.open(key.private, envelope[:-1], AAD)


def header_fields(envelope: bytes) -> dict[str, int]:
    """An offset inside each field of the header (the first recipient's fields included)."""
    start = 7 + envelope[6]
    first_recipient = start + 32 + 32 + 12 + 2
    return {
        "suite": 7,
        "message id": start,
        "commitment": start + 32,
        "nonce": start + 64,
        "wrapped key": first_recipient + 32 + 2 + 40,
        "second key id": first_recipient + 32 + 2 + len(parse_envelope(envelope).recipients[0].wrapped),
    }  # fmt: skip


@pytest.mark.parametrize(
    "field", ["suite", "message id", "commitment", "nonce", "wrapped key", "second key id"]
)
def test_tampered_header_detected(suite: Suite, field: str) -> None:
    envelope = sealed(suite.name)
    position = header_fields(envelope)[field]
    changed = bytearray(envelope)
    changed[position] ^= 0x01
    # The first recipient's key opens nothing; the second's key id no longer matches.
    for key in keys(suite.name)[:2]:
        with pytest.raises((DecryptionFailed, InvalidEnvelope)):
            suite.open(key.private, bytes(changed), AAD)


def test_swapped_wrapped_keys_detected(suite: Suite) -> None:
    envelope = sealed(suite.name)
    parsed = parse_envelope(envelope)
    first, second = parsed.recipients[:2]
    swapped = envelope.replace(first.wrapped, b"\x00" * len(first.wrapped))
    swapped = swapped.replace(second.wrapped, first.wrapped)
    with pytest.raises(DecryptionFailed):
        suite.open(keys(suite.name)[1].private, swapped, AAD)
    # A wrapped key moved in from another envelope, for the same recipient, fails the commitment.
    key = keys(suite.name)[0]
    other = parse_envelope(suite.seal([key.public], b"other", AAD)).recipients[0].wrapped
    with pytest.raises(DecryptionFailed):
        suite.open(key.private, envelope.replace(first.wrapped, other), AAD)


def test_malformed_envelopes_refused(suite: Suite) -> None:
    envelope = sealed(suite.name)
    key = keys(suite.name)[0]
    other_suite = "sm-2026" if suite.name == "intl-2026" else "intl-2026"
    for bad in (
        b"",
        b"XXENV" + envelope[5:],
        envelope[:5] + b"\x02" + envelope[6:],
        envelope[:80],
        envelope[: len(parse_envelope(envelope).header) + 15],
    ):
        with pytest.raises(InvalidEnvelope):
            suite.open(key.private, bad, AAD)
    with pytest.raises(InvalidEnvelope):
        suite.open(key.private, sealed(other_suite), AAD)


def test_seal_arguments(suite: Suite) -> None:
    key = keys(suite.name)[0]
    with pytest.raises(ValueError):
        suite.seal([], b"bid", AAD)
    with pytest.raises(ValueError):
        suite.seal([key.public, key.public], b"bid", AAD)
    with pytest.raises(InvalidKey):
        suite.seal([key.public[:-1]], b"bid", AAD)


def test_empty_and_large_plaintexts(suite: Suite) -> None:
    key = keys(suite.name)[0]
    for plaintext in (b"", os.urandom(1 << 20)):
        envelope = suite.seal([key.public], plaintext, AAD)
        assert suite.open(key.private, envelope, AAD) == plaintext


@pytest.mark.parametrize("name", SUITE_NAMES)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plaintext=st.binary(max_size=4096), aad=st.binary(max_size=64))
def test_property_round_trip(name: str, plaintext: bytes, aad: bytes) -> None:
    suite = get_suite(name)
    first, second = keys(name, 2)
    envelope = suite.seal([first.public, second.public], plaintext, aad)
    assert suite.open(second.private, envelope, aad) == plaintext
    data_key = suite.unwrap(first.private, envelope)
    assert suite.open_with_data_key(data_key, envelope, aad) == plaintext
    with pytest.raises(DecryptionFailed):
        suite.open_with_data_key(data_key, envelope, aad + b"x")
