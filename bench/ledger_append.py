"""Ledger append and proof speed, against merely hashing the same leaves in the same run.

    python bench/ledger_append.py [--events 1000000] [--batch 10000]

Uses SQLite in a temporary OPENBID_HOME, or the database in DATABASE_URL (PostgreSQL). Prints:
the rate of SHA-256 leaf hashing alone (the baseline), the rate of appending prepared leaves
(leaf hash, tile hashes, one multi-row insert per batch, in one transaction per batch) and its
ratio to the baseline, the rate of building the canonical JSON leaves from event rows (reported
separately: it is the same work whatever the storage), and inclusion-proof times at full size.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="openbid-bench-")
    os.environ.setdefault("OPENBID_HOME", home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbid.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from openbid.core import clock
    from openbid.core.models import DomainEvent
    from openbid.ledger import leaves, merkle, store
    from openbid.ledger.models import Entry, LedgerState, Node

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    call_command("migrate", verbosity=0)
    if Entry.objects.exists():
        sys.exit("the database already holds a ledger; use an empty one")
    n, batch = args.events, args.batch
    print(f"database: {engine}; events: {n:,}; batch: {batch:,}")

    # Setup (not timed): the event rows the leaves describe.
    t = time.perf_counter()
    now = clock.now()
    for start in range(0, n, 50_000):
        DomainEvent.objects.bulk_create(
            DomainEvent(
                occurred_at=now,
                type="tendering.bid.received",
                payload={"tender": 1000 + i % 97, "section": i % 3, "receipt": f"R{i:010d}"},
                private_digest=hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
            )
            for i in range(start, min(n, start + 50_000))
        )
    print(f"setup: {n:,} event rows in {time.perf_counter() - t:.1f} s")

    # Canonical JSON leaves (RFC 8785) from the rows.
    t = time.perf_counter()
    ids, data = [], []
    for index, event in enumerate(
        DomainEvent.objects.order_by("id")
        .select_related("actor_org")
        .prefetch_related("subjects")
        .iterator(chunk_size=5000)
    ):
        ids.append(event.pk)
        data.append(leaves.leaf_bytes(event, index))
    leaf_seconds = time.perf_counter() - t

    # Baseline: SHA-256 of the same leaves, nothing else.
    t = time.perf_counter()
    for leaf in data:
        hashlib.sha256(b"\x00" + leaf).digest()
    hash_seconds = time.perf_counter() - t

    # Appending the prepared leaves.
    t = time.perf_counter()
    for start in range(0, n, batch):
        with transaction.atomic():
            state = store._locked_state()
            store.append_leaves(state, ids[start : start + batch], data[start : start + batch])
    append_seconds = time.perf_counter() - t
    size = LedgerState.objects.get(pk=1).size
    assert size == n, size
    assert Node.objects.filter(level=8).count() == n // 256

    # Proofs at full size: a fresh reader per proof; the tile cache is cold on the first round.
    reader_root = store.TreeReader().root(size)
    rng = random.Random(7)
    picks = [rng.randrange(size) for _ in range(args.proofs)]
    store.clear_cache()
    cold, warm = [], []
    for bucket in (cold, warm):
        for index in picks:
            t = time.perf_counter()
            proof = store.TreeReader().inclusion_proof(index, size)
            bucket.append(time.perf_counter() - t)
        assert merkle.verify_inclusion(
            merkle.leaf_hash(data[picks[-1]]), picks[-1], size, proof, reader_root
        )
    connection.close()

    hash_rate = n / hash_seconds
    append_rate = n / append_seconds
    print(f"baseline  sha256 of the leaves : {hash_rate:12,.0f} leaves/s")
    print(
        f"append    prepared leaves      : {append_rate:12,.0f} events/s   ratio {append_rate / hash_rate:6.1%}"
    )
    print(
        f"leaves    canonical JSON       : {n / leaf_seconds:12,.0f} events/s   ratio {n / leaf_seconds / hash_rate:6.1%}"
    )
    both = n / (append_seconds + leaf_seconds)
    print(
        f"end to end JSON + append       : {both:12,.0f} events/s   ratio {both / hash_rate:6.1%}"
    )
    for name, times in (("cold", cold), ("warm", warm)):
        print(
            f"inclusion proof at {size:,} ({name} tile cache): median {statistics.median(times) * 1e3:.3f} ms, "
            f"p99 {sorted(times)[int(len(times) * 0.99)] * 1e3:.3f} ms"
        )


if __name__ == "__main__":
    main()
