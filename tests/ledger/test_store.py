"""The stored log: every service's event becomes a leaf, tiles and roots match the reference tree."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from openbid.core.events import record_event
from openbid.core.models import DomainEvent
from openbid.ledger import merkle, services, store
from openbid.ledger.models import Entry, LedgerState, Node
from tests.factories import centre_with_staff, market_entity

pytestmark = pytest.mark.django_db


def add_events(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            record_event("test.tick", subjects=[("test", i)], payload={"i": i})


def reference_root(size: int) -> bytes:
    hashes = [bytes(h) for h in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    return merkle.root_from_leaves(hashes[:size])


def test_every_service_event_is_a_leaf_with_a_verifying_proof():
    _, staff = centre_with_staff()
    org, _ = market_entity()
    from openbid.accounts import services as accounts

    accounts.verify_organisation(staff, org, note="ok")
    events = list(DomainEvent.objects.order_by("id"))
    entries = list(Entry.objects.order_by("index"))
    assert [e.event_id for e in entries] == [e.pk for e in events]
    assert [e.index for e in entries] == list(range(len(events)))
    assert LedgerState.objects.get().size == len(events)
    checkpoint = services.issue_checkpoint()
    reader = store.TreeReader()
    for entry in entries:
        leaf = json.loads(bytes(entry.leaf))
        assert leaf["seq"] == entry.index
        assert leaf["event"] == entry.event_id
        proof = reader.inclusion_proof(entry.index, checkpoint.size)
        assert merkle.verify_inclusion(
            bytes(entry.leaf_hash), entry.index, checkpoint.size, proof, bytes(checkpoint.root_hash)
        )
    verified = json.loads(bytes(entries[-1].leaf))
    assert verified["type"] == "accounts.organisation.verified"
    assert verified["subjects"] == [f"organisation:{org.pk}"]
    assert verified["payload"]["to"] == "verified"


def test_leaf_is_rfc8785_canonical():
    import rfc8785

    market_entity()
    entry = Entry.objects.order_by("index").last()
    assert bytes(entry.leaf) == rfc8785.dumps(json.loads(bytes(entry.leaf)))


def test_a_rolled_back_change_leaves_no_gap():
    market_entity()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event("test.doomed")
        raise RuntimeError
    market_entity()
    indexes = list(Entry.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))


@pytest.mark.parametrize("n", [1, 255, 256, 257, 600])
def test_roots_and_tiles_match_the_reference(n):
    add_events(n)
    reader = store.TreeReader()
    for size in {1, n // 2 or 1, n}:
        assert reader.root(size) == reference_root(size)
    assert Node.objects.filter(level=8).count() == n // 256


def test_multi_tier_tiles_with_small_tiles(monkeypatch):
    # Tiles of height 1 (width 2) exercise the level-2, level-4 … tile completion paths cheaply.
    monkeypatch.setattr(store, "TILE_HEIGHT", 1)
    monkeypatch.setattr(store, "TILE_WIDTH", 2)
    for batch in [1, 2, 5, 1, 9, 16]:  # appends in batches of different sizes
        add_events(batch)
    size = LedgerState.objects.get().size
    reader = store.TreeReader()
    hashes = [bytes(h) for h in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    memory = merkle.MemoryTree(hashes)
    for node in Node.objects.all():
        assert bytes(node.hash) == memory.perfect_hash(node.level, node.index)
    assert Node.objects.filter(level=1).count() == size // 2
    assert Node.objects.filter(level=5).count() == size // 32
    for s in range(1, size + 1):
        assert reader.root(s) == memory.root(s)
    for i in range(size):
        assert reader.inclusion_proof(i, size) == memory.inclusion_proof(i, size)
    for s in range(1, size):
        assert reader.consistency_proof(s, size) == memory.consistency_proof(s, size)


def test_checkpoint_is_idempotent_and_signed():
    from openbid.ledger import keys
    from openbid.ledger.checkpoint import open_checkpoint

    market_entity()
    first = services.issue_checkpoint()
    assert services.issue_checkpoint().pk == first.pk
    verified = open_checkpoint(first.note, [keys.log_signer().verifier()], origin=keys.origin())
    assert verified.checkpoint.size == first.size
    assert verified.checkpoint.root_hash == reference_root(first.size)
    market_entity()
    second = services.issue_checkpoint()
    assert second.size > first.size


def test_checkpoint_clock_handler(clock, settings):
    from openbid.core import clockloop

    settings.OPENBID_LEDGER_CHECKPOINT_SECONDS = 60
    market_entity()
    assert clockloop.tick()["ledger.checkpoint"] == 1
    assert clockloop.tick()["ledger.checkpoint"] == 0  # nothing new
    market_entity()
    assert clockloop.tick()["ledger.checkpoint"] == 0  # too soon
    clock.advance(seconds=61)
    assert clockloop.tick()["ledger.checkpoint"] == 1


def test_new_checkpoint_queues_cosignature_collection(clock, settings):
    from django_tasks_db.models import DBTaskResult

    from openbid.core import clockloop
    from openbid.ledger import services as ledger_services
    from openbid.ledger.checkpoint import CosignatureV1Signer

    _, staff = centre_with_staff()
    key = CosignatureV1Signer.generate("witness.example.org").verifier().verifier_key()
    ledger_services.add_witness(
        staff, name="witness.example.org", url="https://w.example.org", verifier_key=key
    )
    assert clockloop.tick()["ledger.checkpoint"] == 1
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("collect_cosignatures")


def test_keys_are_created_once_when_many_threads_start_together(tmp_path):
    import threading

    from openbid.ledger import keys

    path = tmp_path / "k.key"
    results: list[str] = []
    errors: list[BaseException] = []

    def read(n: int) -> None:
        try:
            results.append(keys._stored(path, f"key-{n}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1 and results[0].startswith("key-")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
