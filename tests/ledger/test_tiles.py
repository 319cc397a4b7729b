"""The C2SP tlog-tiles resources: canonical paths, tile and bundle contents, 404s and headers."""

from __future__ import annotations

import gzip
import random

import pytest
from django.db import transaction

from openbid.core.events import record_event
from openbid.ledger import merkle, services, store, tiles
from openbid.ledger.models import Entry, Node

IMMUTABLE = "public, max-age=31536000, immutable"

# --------------------------------------------------------------------------------------------
# Paths (no database)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "text"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (1_000_000, "x001/x000/000"),
        ((1 << 56) - 1, "x072/x057/x594/x037/x927/935"),
    ],
)
def test_index_encoding(index, text):
    assert tiles.format_index(index) == text
    assert tiles.parse_index(text) == index


def test_index_round_trip():
    rng = random.Random(9162)
    for index in [*range(2100), *(rng.randrange(1 << 56) for _ in range(2000))]:
        assert tiles.parse_index(tiles.format_index(index)) == index


@pytest.mark.parametrize(
    ("index", "width", "path"),
    [
        (0, 256, "000"),
        (0, 1, "000.p/1"),
        (1, 255, "001.p/255"),
        (1234067, 17, "x001/x234/067.p/17"),
    ],
)
def test_tile_path_round_trip(index, width, path):
    assert tiles.format_tile_path(index, width) == path
    assert tiles.parse_tile_path(path) == (index, width)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "0",
        "00",
        "0000",
        "1000",
        "x001",
        "x000/001",  # a leading zero group: 1 is spelled 001
        "x000/x001/000",
        "001/002",  # all groups but the last need the x
        "x001/x002",  # the last must not have it
        "X001/002",
        "x1/002",
        "x001/02",
        "x001//002",
        "/001",
        "001/",
        "x001/x002/x003/x004/x005/x006/x007/000",  # beyond any uint64 tree
        "-01",
        "+01",
        " 001",
        "٠٠١",  # Arabic-Indic digits are digits to Python's int(), not to the spec
        "000.p/0",
        "000.p/256",
        "000.p/300",
        "000.p/01",
        "000.p/00",
        "000.p/",
        "000.p/-1",
        "000.p/1.p/1",
        "000.p1",
        "0000.p/1",
    ],
)
def test_non_canonical_paths_are_refused(path):
    with pytest.raises(tiles.TilePathError):
        tiles.parse_tile_path(path)


@pytest.mark.parametrize("level", ["", "00", "01", "64", "100", "-1", "x1", "1 "])
def test_non_canonical_levels_are_refused(level):
    with pytest.raises(tiles.TilePathError):
        tiles.parse_level(level)


def test_levels():
    assert [tiles.parse_level(str(n)) for n in range(64)] == list(range(64))
    assert tiles.TileRef(1, 1234067, 17).path() == "tile/1/x001/x234/067.p/17"
    assert tiles.TileRef(None, 3).path() == "tile/entries/003"


def test_tiles_for_size_follows_the_spec_example():
    # tlog-tiles: "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
    # partial level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of
    # width 17, and one partial level 2 tile of width 1."
    refs = tiles.tiles_for_size(70_000)
    level0 = [r for r in refs if r.level == 0]
    assert len(level0) == 274 and all(not r.partial for r in level0[:273])
    assert level0[-1] == tiles.TileRef(0, 273, 112)
    assert [r for r in refs if r.level == 1] == [tiles.TileRef(1, 0), tiles.TileRef(1, 1, 17)]
    assert [r for r in refs if r.level == 2] == [tiles.TileRef(2, 0, 1)]
    assert tiles.tiles_for_size(256) == [tiles.TileRef(0, 0), tiles.TileRef(1, 0, 1)]
    assert tiles.tiles_for_size(0) == []


# --------------------------------------------------------------------------------------------
# Served resources
# --------------------------------------------------------------------------------------------


def grow_to(size: int) -> None:
    """Record test events until the log has ``size`` entries."""
    with transaction.atomic():
        for i in range(store.size(), size):
            record_event("test.tick", subjects=[("test", i)], payload={"i": i, "名": "测试"})
    assert store.size() == size


def leaf_hashes() -> list[bytes]:
    return [bytes(h) for h in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]


def leaves() -> list[bytes]:
    return [bytes(v) for v in Entry.objects.order_by("index").values_list("leaf", flat=True)]


def get(client, path: str, **headers):
    return client.get(f"/ledger/{path}", **headers)


def parse_bundle(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 2], "big")
        out.append(data[pos + 2 : pos + 2 + n])
        pos += 2 + n
    assert pos == len(data)
    return out


@pytest.mark.django_db
def test_tiles_and_bundles_across_the_first_full_tile(client):
    grow_to(255)
    assert get(client, "tile/0/000").status_code == 404  # not complete yet
    assert get(client, "tile/0/000.p/256").status_code == 404  # not a canonical name
    partial = get(client, "tile/0/000.p/255")
    assert partial.status_code == 200
    assert partial.content == b"".join(leaf_hashes())
    assert get(client, "tile/1/000.p/1").status_code == 404
    assert get(client, "tile/entries/000").status_code == 404
    assert parse_bundle(get(client, "tile/entries/000.p/255").content) == leaves()

    grow_to(300)
    hashes, data = leaf_hashes(), leaves()
    full = get(client, "tile/0/000")
    assert full.status_code == 200
    assert len(full.content) == 8192
    assert full.content == b"".join(hashes[:256])
    assert full.content.startswith(partial.content)  # what was served never changes
    assert get(client, "tile/0/001.p/44").content == b"".join(hashes[256:300])
    assert get(client, "tile/0/001.p/1").content == hashes[256]
    assert get(client, "tile/0/001.p/45").status_code == 404  # more than the log has
    assert get(client, "tile/0/001").status_code == 404
    level1 = get(client, "tile/1/000.p/1")
    assert level1.content == merkle.root_from_leaves(hashes[:256])
    assert level1.content == bytes(Node.objects.get(level=8, index=0).hash)
    assert get(client, "tile/1/000.p/2").status_code == 404
    assert get(client, "tile/2/000.p/1").status_code == 404
    assert get(client, "tile/1/000").status_code == 404
    assert parse_bundle(get(client, "tile/entries/000").content) == data[:256]
    assert parse_bundle(get(client, "tile/entries/001.p/44").content) == data[256:]
    assert get(client, "tile/entries/001.p/45").status_code == 404
    for leaf, h in zip(
        parse_bundle(get(client, "tile/entries/000").content), hashes[:256], strict=True
    ):
        assert merkle.leaf_hash(leaf) == h


@pytest.mark.django_db
def test_tiles_above_level_zero_and_the_root(client):
    grow_to(2 * 256 + 3)
    hashes = leaf_hashes()
    level1 = get(client, "tile/1/000.p/2").content
    assert level1 == merkle.root_from_leaves(hashes[:256]) + merkle.root_from_leaves(
        hashes[256:512]
    )
    # The root of the tree, from tiles alone: the level-1 hashes then the partial level-0 tile.
    tail = get(client, "tile/0/002.p/3").content
    peaks = [merkle.root_from_leaves([level1[:32], level1[32:]])]
    peaks += [merkle.root_from_leaves([tail[i : i + 32] for i in range(0, 96, 32)])]
    root = merkle.root_from_peaks(peaks)
    assert root == merkle.root_from_leaves(hashes) == store.TreeReader().root(515)


@pytest.mark.django_db
def test_resource_headers(client):
    grow_to(260)
    for path in ("tile/0/000", "tile/0/001.p/4", "tile/1/000.p/1", "tile/entries/000"):
        response = get(client, path)
        assert response.status_code == 200, path
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Cache-Control"] == IMMUTABLE
        assert response["Access-Control-Allow-Origin"] == "*"
    missing = get(client, "tile/0/001")
    assert missing.status_code == 404
    assert "immutable" not in missing["Cache-Control"]
    assert client.head("/ledger/tile/0/000").status_code == 200
    assert client.post("/ledger/tile/0/000").status_code == 405


@pytest.mark.django_db
def test_bundles_are_compressed_for_clients_that_ask(client):
    grow_to(256)
    plain = get(client, "tile/entries/000")
    assert "Content-Encoding" not in plain
    packed = get(client, "tile/entries/000", HTTP_ACCEPT_ENCODING="gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert "Accept-Encoding" in packed["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "tile/0/0000",
        "tile/00/000",
        "tile/64/000",
        "tile/0/x000/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/01",
        "tile/entries/000.p/0",
        "tile/entries/x000/000",
        "tile/entries/0",
        "tile/data/000",
    ],
)
def test_non_canonical_urls_are_not_found(client, path):
    grow_to(3)
    assert get(client, path).status_code == 404


@pytest.mark.django_db
def test_checkpoint_is_issued_on_a_fresh_platform_and_served_as_a_note(client):
    grow_to(5)
    response = get(client, "checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "immutable" not in response["Cache-Control"]
    assert "max-age=5" in response["Cache-Control"]
    latest = services.latest_checkpoint()
    assert latest is not None and latest.size == 5
    assert response.content.decode() == latest.note
    body, _, signatures = response.content.decode().partition("\n\n")
    assert body.split("\n")[1] == "5"
    assert signatures.startswith("— ")
    grow_to(7)  # a later checkpoint comes from the clock loop, not from reading
    assert get(client, "checkpoint").content.decode() == latest.note


@pytest.mark.django_db
def test_checkpoint_carries_cosignatures(client):
    from openbid.core import clock
    from openbid.ledger.checkpoint import CosignatureV1Signer, add_cosignature
    from openbid.ledger.models import Cosignature
    from openbid.ledger.note import parse_note

    grow_to(2)
    latest = services.issue_checkpoint()
    signer = CosignatureV1Signer.generate("witness.example/w1")
    cosigned = parse_note(add_cosignature(latest.note, signer, timestamp=1_700_000_000))
    line = cosigned.signatures[-1].line
    Cosignature.objects.create(
        checkpoint=latest,
        witness_name=signer.name,
        key_id=signer.key_id,
        timestamp=1_700_000_000,
        line=line,
        received_at=clock.now(),
    )
    text = get(client, "checkpoint").content.decode()
    assert text == latest.note + line
    assert parse_note(text).signatures[-1].name == "witness.example/w1"
