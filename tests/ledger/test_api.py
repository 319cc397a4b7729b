"""The ledger's public JSON API: checkpoint, key, the entries feed, proofs and subject timelines."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.db import transaction

from openbid.accounts import services as accounts
from openbid.core.events import record_event, timeline
from openbid.ledger import merkle, services, store
from openbid.ledger.models import Entry
from openbid.ledger.note import parse_verifier_key, verify_note
from tests.factories import centre_with_staff, market_entity

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger"


def add_events(n: int) -> None:
    with transaction.atomic():
        for _ in range(n):
            i = store.size()
            record_event("test.tick", subjects=[("test", i)], payload={"i": i})


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def refusal(response, field: str) -> dict:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"]
    return error


def test_checkpoint_and_key(client):
    add_events(5)
    cp = client.get(f"{API}/checkpoint").json()
    assert cp["size"] == 5
    latest = services.latest_checkpoint()
    assert latest is not None
    assert b64(cp["root_hash"]) == bytes(latest.root_hash) == store.TreeReader().root(5)
    assert cp["note"] == client.get("/ledger/checkpoint").content.decode()
    assert cp["cosignatures"] == []
    key = client.get(f"{API}/key").json()
    assert key["origin"] == cp["origin"]
    assert key["tiles_url"].endswith("/ledger/")
    verified = verify_note(cp["note"], [parse_verifier_key(key["verifier_key"])])
    assert verified.text.split("\n")[:3] == [cp["origin"], "5", cp["root_hash"]]


def test_entries_carry_the_exact_leaf_and_its_hash(client):
    add_events(3)
    page = client.get(f"{API}/entries").json()
    assert page["size"] == 3 and page["after"] == -1 and page["next_after"] == 2
    for expected, item in enumerate(page["entries"]):
        entry = Entry.objects.get(index=expected)
        leaf = b64(item["leaf_b64"])
        assert item["seq"] == expected
        assert item["event"] == entry.event_id
        assert leaf == bytes(entry.leaf)
        assert json.loads(leaf) == item["leaf"]
        assert item["leaf"]["seq"] == expected
        assert item["leaf_hash"] == hashlib.sha256(b"\x00" + leaf).hexdigest()


def test_paging_never_skips_or_repeats_while_the_log_grows(client):
    add_events(10)
    seen: list[int] = []
    after = -1
    for _ in range(100):
        page = client.get(f"{API}/entries", {"after": after, "limit": 4}).json()
        seen += [e["seq"] for e in page["entries"]]
        if not page["entries"]:
            assert page["next_after"] == after
            break
        after = page["next_after"]
        if len(seen) < 30:
            add_events(3)  # new events arrive between the pages
    assert seen == list(range(store.size()))
    assert len(seen) > 30


def test_paging_stops_at_a_gap_instead_of_skipping(client):
    add_events(10)
    Entry.objects.filter(index=5).delete()  # as if entry 5 were not visible yet
    page = client.get(f"{API}/entries", {"limit": 100}).json()
    assert [e["seq"] for e in page["entries"]] == [0, 1, 2, 3, 4]
    assert client.get(f"{API}/entries", {"after": 4}).json()["entries"] == []


def test_paging_refusals(client):
    refusal(client.get(f"{API}/entries", {"limit": 0}), "limit")
    refusal(client.get(f"{API}/entries", {"limit": 1001}), "limit")
    refusal(client.get(f"{API}/entries", {"after": -2}), "after")
    refusal(client.get(f"{API}/entries", {"after": "x"}), "after")
    refusal(client.get(f"{API}/subjects/test/1", {"limit": 0}), "limit")


def test_inclusion_proofs_verify_against_the_checkpoint(client):
    add_events(37)
    latest = services.issue_checkpoint()
    add_events(4)  # beyond the checkpoint
    for index in range(latest.size):
        proof = client.get(f"{API}/proof/inclusion", {"index": index}).json()
        assert proof["size"] == latest.size
        assert b64(proof["root_hash"]) == bytes(latest.root_hash)
        assert merkle.verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            index,
            latest.size,
            [b64(p) for p in proof["proof"]],
            bytes(latest.root_hash),
        )
    explicit = client.get(f"{API}/proof/inclusion", {"index": 40, "size": 41}).json()
    assert merkle.verify_inclusion(
        bytes.fromhex(explicit["leaf_hash"]),
        40,
        41,
        [b64(p) for p in explicit["proof"]],
        store.TreeReader().root(41),
    )


def test_inclusion_refusals(client):
    add_events(5)
    services.issue_checkpoint()
    add_events(2)
    error = refusal(client.get(f"{API}/proof/inclusion", {"index": 5}), "index")
    assert "5" in error["message"]
    refusal(client.get(f"{API}/proof/inclusion", {"index": 3, "size": 3}), "index")
    refusal(client.get(f"{API}/proof/inclusion", {"index": -1}), "index")
    error = refusal(client.get(f"{API}/proof/inclusion", {"index": 0, "size": 8}), "size")
    assert "7" in error["message"]
    refusal(client.get(f"{API}/proof/inclusion"), "index")
    assert client.get(f"{API}/proof/inclusion", {"index": 6, "size": 7}).status_code == 200


def test_consistency_proofs(client):
    add_events(20)
    first = services.issue_checkpoint()
    add_events(300)
    second = services.issue_checkpoint()
    for size in (1, 2, 7, 19, 20):
        proof = client.get(f"{API}/proof/consistency", {"first": size}).json()
        assert proof["second"] == second.size
        assert b64(proof["second_root"]) == bytes(second.root_hash)
        assert merkle.verify_consistency(
            size,
            second.size,
            [b64(p) for p in proof["proof"]],
            b64(proof["first_root"]),
            bytes(second.root_hash),
        )
    proof = client.get(f"{API}/proof/consistency", {"first": 20, "second": 256}).json()
    assert b64(proof["first_root"]) == bytes(first.root_hash)
    assert merkle.verify_consistency(
        20, 256, [b64(p) for p in proof["proof"]], bytes(first.root_hash), b64(proof["second_root"])
    )
    same = client.get(f"{API}/proof/consistency", {"first": 9, "second": 9}).json()
    assert same["proof"] == [] and same["first_root"] == same["second_root"]


def test_consistency_refusals(client):
    add_events(6)
    services.issue_checkpoint()
    refusal(client.get(f"{API}/proof/consistency", {"first": 0}), "first")
    refusal(client.get(f"{API}/proof/consistency", {"first": 7}), "first")
    refusal(client.get(f"{API}/proof/consistency", {"first": 3, "second": 2}), "first")
    refusal(client.get(f"{API}/proof/consistency", {"first": 3, "second": 7}), "second")
    refusal(client.get(f"{API}/proof/consistency"), "first")


def test_subject_timeline(client):
    _, staff = centre_with_staff()
    org, _ = market_entity()
    add_events(3)
    accounts.verify_organisation(staff, org, note="ok")
    accounts.suspend_organisation(staff, org, reason="test")
    answer = client.get(f"{API}/subjects/organisation/{org.pk}").json()
    events = list(timeline("organisation", org.pk))
    assert answer["kind"] == "organisation" and answer["ref"] == str(org.pk)
    assert [e["event"] for e in answer["entries"]] == [e.pk for e in events]
    seqs = [e["seq"] for e in answer["entries"]]
    assert seqs == sorted(seqs) and len(seqs) == len(events) >= 3
    for item in answer["entries"]:
        assert f"organisation:{org.pk}" in item["leaf"]["subjects"]
    first = client.get(f"{API}/subjects/organisation/{org.pk}", {"limit": 1}).json()
    rest = client.get(
        f"{API}/subjects/organisation/{org.pk}", {"after": first["next_after"]}
    ).json()
    assert [e["seq"] for e in first["entries"] + rest["entries"]] == seqs
    assert client.get(f"{API}/subjects/tender/999").json()["entries"] == []


def test_endpoints_are_public_and_documented(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "checkpoint",
        "key",
        "entries",
        "proof/inclusion",
        "proof/consistency",
        "subjects/{kind}/{ref}",
    ):
        assert f"{API}/{path}" in paths
        assert client.get(f"{API}/{path.replace('{kind}/{ref}', 'x/1')}").status_code in (200, 422)
