"""The demo log, audited the way any standard C2SP tlog-tiles client would audit it.

Nothing here imports the ledger code (not even its Merkle module): the test reads only the public
URLs — ``/api/v1/ledger/key`` for the verifier key, then ``/ledger/checkpoint``, the hash tiles
``/ledger/tile/<L>/<N>[.p/<W>]`` and the entry bundles ``/ledger/tile/entries/<N>[.p/<W>]`` — and
checks them with its own small implementations of C2SP signed-note (Ed25519), tlog-checkpoint,
tlog-tiles and RFC 9162 Merkle tree hashing.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from openbid.demo import run_demo
from openbid.ledger.services import issue_checkpoint
from tests.factories import market_entity

pytestmark = pytest.mark.django_db

WIDTH = 256  # hashes per tile: tiles are 8 levels high
HASH = 32


# ---- RFC 9162 §2.1.1 ---------------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes: list[bytes]) -> bytes:
    """MTH over already hashed leaves, straight from the recursive definition."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)  # largest power of two below n
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


# ---- C2SP signed-note and tlog-checkpoint -------------------------------------------------


def parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    name, key_id_hex, material_b64 = vkey.split("+", 2)  # base64 may contain "+"
    material = base64.b64decode(material_b64, validate=True)
    assert material[0] == 0x01 and len(material) == 33, "an Ed25519 signed-note key"
    key_id = hashlib.sha256(name.encode() + b"\n" + material).digest()[:4]
    assert key_id.hex() == key_id_hex, "the key ID is SHA-256(name || 0x0A || 0x01 || key)[:4]"
    return name, key_id, Ed25519PublicKey.from_public_bytes(material[1:])


def open_note(note: str, vkey: str) -> str:
    """The note's text, once a signature by ``vkey`` verifies (others are ignored)."""
    name, key_id, public_key = parse_verifier_key(vkey)
    text, blank, signatures = note.rpartition("\n\n")
    text += "\n"
    assert blank and signatures.endswith("\n")
    verified = 0
    for line in signatures[:-1].split("\n"):
        assert line.startswith("\u2014 "), "signature lines start with an em dash and a space"
        signer, encoded = line[2:].split(" ")
        raw = base64.b64decode(encoded, validate=True)
        if signer == name and raw[:4] == key_id:
            public_key.verify(raw[4:], text.encode())  # raises InvalidSignature
            verified += 1
    assert verified == 1, "signed by the log's key"
    return text


# ---- C2SP tlog-tiles ----------------------------------------------------------------------


def index_path(n: int) -> str:
    path = f"{n % 1000:03d}"
    while n >= 1000:
        n //= 1000
        path = f"x{n % 1000:03d}/{path}"
    return path


def tile_path(n: int, width: int) -> str:
    return index_path(n) + ("" if width == WIDTH else f".p/{width}")


def fetch(client, path: str) -> bytes:
    response = client.get(f"/ledger/{path}")
    assert response.status_code == 200, path
    assert response["Content-Type"] == "application/octet-stream"
    return response.content


def hashes_at(client, level: int, count: int) -> list[bytes]:
    """All ``count`` hashes of tile level ``level``, fetched tile by tile (full, then partial)."""
    out: list[bytes] = []
    for n in range((count + WIDTH - 1) // WIDTH):
        width = min(WIDTH, count - n * WIDTH)
        data = fetch(client, f"tile/{level}/{tile_path(n, width)}")
        assert len(data) == width * HASH
        out += [data[i : i + HASH] for i in range(0, len(data), HASH)]
    return out


def root_from_tiles(levels: list[list[bytes]], size: int) -> bytes:
    """The tree hash from the tiles: one perfect subtree per set bit of ``size``, each folded
    from at most 128 hashes of one tile level, then combined right to left."""
    peaks = []
    start = 0
    for k in reversed(range(size.bit_length())):
        if not size >> k & 1:
            continue
        tier, height = divmod(k, 8)
        first = start >> (8 * tier)
        peaks.append(mth(levels[tier][first : first + (1 << height)]))
        start += 1 << k
    root = peaks[-1]
    for peak in reversed(peaks[:-1]):
        root = node_hash(peak, root)
    return root


def test_a_standard_client_audits_the_demo_log(client):
    list(run_demo())
    for _ in range(260):
        market_entity()
    # The demo's committee draw signed a checkpoint; the clock loop would sign the grown log.
    issue_checkpoint()

    key = client.get("/api/v1/ledger/key").json()
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = open_note(response.content.decode("utf-8"), key["verifier_key"])
    origin, size_line, root_line, *_extensions = text[:-1].split("\n")
    assert origin == key["origin"] == key["verifier_key"].split("+")[0]
    assert size_line == str(int(size_line))
    size = int(size_line)
    root = base64.b64decode(root_line, validate=True)
    assert size > WIDTH + 15 and len(root) == HASH

    # Every tile of the tree, level by level; each full tile hashes to its entry one level up.
    levels = []
    level = 0
    while size >> (8 * level):
        levels.append(hashes_at(client, level, size >> (8 * level)))
        level += 1
    assert len(levels) == 2, "a full level-0 tile and a partial level-1 tile"
    for lower, upper in itertools.pairwise(levels):
        for n, tile_hash in enumerate(upper):
            assert mth(lower[n * WIDTH : (n + 1) * WIDTH]) == tile_hash
    assert root_from_tiles(levels, size) == root
    assert mth(levels[0]) == root

    # Entry bundles: uint16 length-prefixed entries hashing to the level-0 tiles.
    entries: list[bytes] = []
    for n in range((size + WIDTH - 1) // WIDTH):
        data = fetch(client, f"tile/entries/{tile_path(n, min(WIDTH, size - n * WIDTH))}")
        pos = 0
        while pos < len(data):
            length = int.from_bytes(data[pos : pos + 2], "big")
            entries.append(data[pos + 2 : pos + 2 + length])
            pos += 2 + length
        assert pos == len(data)
    assert len(entries) == size
    assert [leaf_hash(e) for e in entries] == levels[0]
    documents = [json.loads(e) for e in entries]
    assert [d["seq"] for d in documents] == list(range(size))
    types = {d["type"] for d in documents}
    assert any(t.startswith("accounts.") for t in types)
    assert all(isinstance(d["subjects"], list) and "time" in d for d in documents)

    # Nothing beyond the checkpoint's tree is served as if it existed.
    full = size // WIDTH
    assert client.get(f"/ledger/tile/0/{index_path(full)}").status_code == 404
    rest = size % WIDTH
    if rest < WIDTH - 1:
        over = client.get(f"/ledger/tile/0/{tile_path(full, rest + 1)}")
        assert over.status_code == 404
