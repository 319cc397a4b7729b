"""Before the opening, nothing the platform stores suffices to decrypt a bid (DESIGN principle 4).

The attacker here gets everything: every row of every table (bids, uploads, receipts, the ledger,
events, sessions, the opening rows awaiting keys), every file under ``OPENBID_HOME`` and the media
storage (the ciphertexts, the platform's own signing keys), and the Django secret key. Every piece
of that, as stored and decoded (base64, hex, signed-note key strings), and every 32-byte window of
it, is tried as the bid's data key; every whole value and decoded key is also tried as a recipient
private key. None opens the envelope. The same harness, given the bidder's key, does open it — so
the search is real.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from openbid.bidding import package
from openbid.crypto import escrow as crypto_escrow
from openbid.crypto.errors import CryptoError
from openbid.crypto.suites import get_suite
from openbid.opening import services
from openbid.opening.aad import bid_aad
from openbid.opening.models import OpenedBid
from tests.opening.helpers import SUITE, at_deadline, tender_with_bids

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(rb"[A-Za-z0-9+/=_\-]{40,}")


def database_values() -> Iterator[bytes]:
    """Every value of every row of every table, read with SQL (no model hides a column)."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, bytes | bytearray | memoryview):
                        yield bytes(value)
                    else:
                        yield str(value).encode()


def stored_files() -> Iterator[bytes]:
    roots = {Path(settings.OPENBID_HOME), Path(settings.MEDIA_ROOT)}
    location = settings.STORAGES["default"].get("OPTIONS", {}).get("location")
    if location:
        roots.add(Path(location))
    seen: set[Path] = set()
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.resolve() not in seen:
                seen.add(path.resolve())
                yield path.read_bytes()


def decoded(blob: bytes) -> Iterator[bytes]:
    """The blob and what its tokens decode to: base64 (also URL-safe, with the first byte, a
    signed-note key type, dropped), hex, and the parts of ``PRIVATE+KEY+name+id+key`` strings."""
    yield blob
    for token in _TOKEN.findall(blob):
        parts = [token, *token.split(b"+")]
        for part in parts:
            if re.fullmatch(rb"[0-9a-fA-F]+", part) and len(part) % 2 == 0:
                yield bytes.fromhex(part.decode())
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    raw = decode(part + b"=" * (-len(part) % 4))
                except (binascii.Error, ValueError):
                    continue
                yield raw
                yield raw[1:]


def windows(blob: bytes, size: int = 32) -> Iterator[bytes]:
    for start in range(max(len(blob) - size + 1, 0)):
        yield blob[start : start + size]


def opens(envelope: bytes, aad: bytes, material: Iterable[bytes]) -> bytes | None:
    """The first piece of material that opens the envelope, as data key or as private key."""
    suite = get_suite(SUITE)
    tried: set[bytes] = set()
    for blob in material:
        for value in decoded(blob):
            if len(value) == 32 and value not in tried:
                tried.add(value)
                for attempt in (suite.open_with_data_key, suite.open):
                    try:
                        attempt(value, envelope, aad)
                    except (CryptoError, ValueError):
                        continue
                    return value
            for window in windows(value):
                if window in tried:
                    continue
                tried.add(window)
                try:
                    suite.open_with_data_key(window, envelope, aad)
                except (CryptoError, ValueError):
                    continue
                return window
    return None


def test_nothing_stored_before_the_opening_decrypts_a_bid(clock):
    tender, _manager, sealed = tender_with_bids(clock)
    at_deadline(clock, tender)
    services.start_due_openings()  # the session exists; no key released yet
    assert OpenedBid.objects.filter(status=OpenedBid.Status.AWAITING_KEY).count() == 3

    material = [*database_values(), *stored_files(), settings.SECRET_KEY.encode()]
    everything = b"\n".join(material)
    assert len(everything) > 10_000  # the dump is real: tables, receipts, ledger, files
    assert any(s.envelope in everything for s in sealed)  # the ciphertexts are in it
    assert any(b"PRIVATE+KEY+" in m for m in material)  # and the platform's private keys

    for s in sealed:
        aad = bid_aad(s.bid.section_id)
        assert opens(s.envelope, aad, material) is None
        # Nothing of the bid's content is stored in clear either.
        assert s.data_key not in everything
        assert s.encryption.private not in everything
        assert s.plaintext[:200] not in everything
        nonce = package.read(s.plaintext).manifest["nonce"]  # makes the commitment unguessable
        assert nonce.encode() not in everything
    for price in (b"12345678.00", b"11800000.50", b"12990000.00"):
        assert price not in everything

    # The harness finds a key when there is one: the bidder's own data key, or private key.
    s = sealed[0]
    aad = bid_aad(s.bid.section_id)
    assert opens(s.envelope, aad, [*material, b"x" + s.data_key + b"y"]) == s.data_key
    key_file = base64.b64encode(s.encryption.private)
    assert opens(s.envelope, aad, [*material, key_file]) == s.encryption.private


def test_nothing_stored_before_the_opening_decrypts_a_bid_sealed_to_the_escrow(clock):
    """With a key escrow, the platform keeps its public record (public key, share fingerprints):
    the dump still opens no bid, and holds no share nor any way to rebuild the escrow key."""
    from tests.opening.test_escrow import escrowed_tender, four_bids

    tender, _manager, people, record = escrowed_tender()
    sealed = four_bids(clock, tender, record)
    at_deadline(clock, tender)
    services.start_due_openings()

    material = [*database_values(), *stored_files(), settings.SECRET_KEY.encode()]
    everything = b"\n".join(material)
    assert record.public_key.hex().encode() in everything  # the escrow record is in the dump
    for s in sealed:
        assert opens(s.envelope, bid_aad(s.bid.section_id), material) is None
    for person in people:
        assert person.share.encode() not in everything
        words = person.share.split()
        assert " ".join(words[4:8]).encode() not in everything
    # Two custodians' shares would do it: the harness finds the escrow key when it is there.
    key = crypto_escrow.recover_private_key(record, [people[0].share, people[2].share])
    s = sealed[3]
    assert opens(s.envelope, bid_aad(s.bid.section_id), [*material, key.hex().encode()]) == key
