"""C2SP tlog-witness in both directions: this platform witnessing logs, and being witnessed.

The witness side is driven with crafted requests (every status code of the protocol); the log
side with an injected transport (one instance witnessing itself); and two real instances talk
over loopback: a second ``openbid serve`` process with its own home, database and witness key
cosigns our checkpoints, follows the protocol under concurrent requests, and refuses a fork.
"""

from __future__ import annotations

import base64
import http.client
import io
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client

from openbid.core.events import record_event
from openbid.ledger import keys, merkle, services, store, witness
from openbid.ledger.checkpoint import Checkpoint as CheckpointBody
from openbid.ledger.checkpoint import (
    CosignatureV1Signer,
    CosignatureV1Verifier,
    open_checkpoint,
    parse_witness_verifier_key,
    sign_checkpoint,
)
from openbid.ledger.models import Cosignature, Witness, WitnessedLog
from openbid.ledger.note import Ed25519Signer, Note, NoteSignature, parse_note
from openbid.ledger.witness import SIZE_CONTENT_TYPE, format_add_checkpoint
from tests.factories import PASSWORD, centre_with_staff, credit_code

URL = "/ledger/witness/add-checkpoint"
FOREIGN = "example.org/foreign-log"

Answer = tuple[int, Mapping[str, str], bytes]


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def platform_keys(settings, monkeypatch) -> Iterator[None]:
    """This instance ("A") with its own origin, witness name and fresh keys from the environment."""
    settings.OPENBID_LEDGER_ORIGIN = "a.openbid.test/ledger"
    settings.OPENBID_WITNESS_NAME = "witness.a.openbid.test"
    log_key = Ed25519Signer.generate(settings.OPENBID_LEDGER_ORIGIN).signer_key()
    witness_key = CosignatureV1Signer.generate(settings.OPENBID_WITNESS_NAME).signer_key()
    monkeypatch.setenv("OPENBID_LEDGER_SIGNING_KEY", log_key)
    monkeypatch.setenv("OPENBID_WITNESS_SIGNING_KEY", witness_key)
    keys.log_signer.cache_clear()
    keys.witness_signer.cache_clear()
    yield
    keys.log_signer.cache_clear()
    keys.witness_signer.cache_clear()


@pytest.fixture
def staff(db):
    return centre_with_staff()[1]


def add_events(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            record_event("test.tick", subjects=[("test", i)], payload={"i": i})


def tree_of(n: int, label: str = "entry") -> merkle.MemoryTree:
    return merkle.MemoryTree.from_entries(f"{label} {i}".encode() for i in range(n))


def signed(signer: Ed25519Signer, tree: merkle.MemoryTree, size: int, *others) -> bytes:
    body = CheckpointBody(signer.name, size, tree.root(size))
    return sign_checkpoint(body, signer, *others)


def post(body: bytes, client: Client | None = None):
    return (client or Client()).generic("POST", URL, body, content_type="text/plain")


# --------------------------------------------------------------------------------------------
# Witness side: a standard log of another operator
# --------------------------------------------------------------------------------------------


@dataclass
class ForeignLog:
    signer: Ed25519Signer
    tree: merkle.MemoryTree

    def request(self, old: int, size: int, proof: list[bytes] | None = None) -> bytes:
        if proof is None:
            proof = [] if old in (0, size) else self.tree.consistency_proof(old, size)
        return format_add_checkpoint(old, proof, signed(self.signer, self.tree, size))


@pytest.fixture
def foreign(platform_keys, staff) -> ForeignLog:
    log = ForeignLog(Ed25519Signer.generate(FOREIGN), tree_of(40))
    services.witness_log(
        staff, origin=FOREIGN, verifier_keys=[log.signer.verifier().verifier_key()]
    )
    return log


def assert_cosigned(response, note: bytes) -> NoteSignature:
    assert response.status_code == 200, response.content
    lines = response.content.decode().splitlines(keepends=True)
    assert len(lines) == 1 and lines[0].startswith("— witness.a.openbid.test ")
    signature = NoteSignature.from_line(lines[0])
    verifier = parse_witness_verifier_key(keys.witness_verifier_key())
    assert isinstance(verifier, CosignatureV1Verifier)
    text = parse_note(note).text.encode()
    assert verifier.verify(text, signature.signature)
    return signature


def stored(origin: str = FOREIGN) -> tuple[int, bytes, str]:
    row = WitnessedLog.objects.get(origin=origin)
    return row.size, bytes(row.root_hash), row.checkpoint


def test_cosigns_a_standard_checkpoint_and_follows_the_log(foreign: ForeignLog) -> None:
    body = foreign.request(0, 10)
    response = post(body, Client(enforce_csrf_checks=True))  # machine to machine: no CSRF token
    signature = assert_cosigned(response, signed(foreign.signer, foreign.tree, 10))
    # tlog-witness: the answer appended to the checkpoint is a note with the cosignature.
    full = open_checkpoint(
        signed(foreign.signer, foreign.tree, 10) + response.content,
        [foreign.signer.verifier()],
        [parse_witness_verifier_key(keys.witness_verifier_key())],
    )
    assert full.witnesses == {"witness.a.openbid.test"}
    assert full.cosignatures[0].timestamp == CosignatureV1Verifier.timestamp_of(signature.signature)
    assert stored()[:2] == (10, foreign.tree.root(10))
    assert stored()[2] == signed(foreign.signer, foreign.tree, 10).decode()

    # The log grows: a proof from the cosigned size is accepted; other signatures are ignored.
    stranger = CosignatureV1Signer.generate("witness.elsewhere.example")
    note = signed(foreign.signer, foreign.tree, 25, stranger)
    response = post(format_add_checkpoint(10, foreign.tree.consistency_proof(10, 25), note))
    assert_cosigned(response, note)
    assert stored()[:2] == (25, foreign.tree.root(25))

    # The same checkpoint again (old size = size, same root): cosigned again, state unchanged.
    assert_cosigned(post(foreign.request(25, 25)), signed(foreign.signer, foreign.tree, 25))
    assert stored()[0] == 25


def test_409_carries_the_latest_cosigned_size(foreign: ForeignLog) -> None:
    assert post(foreign.request(0, 10)).status_code == 200
    for old in (0, 5, 12):
        response = post(foreign.request(old, 30))
        assert response.status_code == 409
        assert response["Content-Type"] == SIZE_CONTENT_TYPE
        assert response.content == b"10\n"
    assert stored()[0] == 10


def test_409_for_the_same_size_with_another_root_is_not_a_size_hint(foreign: ForeignLog) -> None:
    assert post(foreign.request(0, 10)).status_code == 200
    other = tree_of(10, "forged")
    response = post(format_add_checkpoint(10, [], signed(foreign.signer, other, 10)))
    assert response.status_code == 409
    assert not response["Content-Type"].startswith(SIZE_CONTENT_TYPE)
    assert stored()[:2] == (10, foreign.tree.root(10))


def test_422_for_a_proof_that_does_not_verify(foreign: ForeignLog) -> None:
    assert post(foreign.request(0, 10)).status_code == 200
    before = stored()
    fork = tree_of(30, "forged")  # signed by the log's key, but not an extension of size 10
    response = post(
        format_add_checkpoint(10, fork.consistency_proof(10, 30), signed(foreign.signer, fork, 30))
    )
    assert response.status_code == 422
    proof = foreign.tree.consistency_proof(10, 30)
    proof[0] = bytes(32)
    assert post(foreign.request(10, 30, proof)).status_code == 422
    assert post(foreign.request(10, 30, [])).status_code == 422  # a proof is needed
    assert post(foreign.request(10, 10, foreign.tree.consistency_proof(10, 12))).status_code == 422
    assert stored() == before


def test_422_for_a_proof_from_zero_and_for_a_bad_empty_tree(foreign: ForeignLog) -> None:
    assert post(foreign.request(0, 10, [bytes(32)])).status_code == 422
    bad_empty = sign_checkpoint(CheckpointBody(FOREIGN, 0, bytes(32)), foreign.signer)
    assert post(format_add_checkpoint(0, [], bad_empty)).status_code == 422
    good_empty = sign_checkpoint(CheckpointBody(FOREIGN, 0, merkle.EMPTY_ROOT), foreign.signer)
    assert_cosigned(post(format_add_checkpoint(0, [], good_empty)), good_empty)
    assert stored()[0] == 0


def test_404_for_an_origin_it_does_not_witness(foreign: ForeignLog) -> None:
    other = ForeignLog(Ed25519Signer.generate("example.org/unknown-log"), tree_of(5))
    response = post(other.request(0, 5))
    assert response.status_code == 404
    assert not WitnessedLog.objects.filter(origin="example.org/unknown-log").exists()


def test_403_without_a_valid_signature_by_a_known_key(foreign: ForeignLog) -> None:
    impostor = Ed25519Signer.generate(FOREIGN)  # right name, another key: an unknown key
    assert post(format_add_checkpoint(0, [], signed(impostor, foreign.tree, 10))).status_code == 403
    stranger = Ed25519Signer.generate("someone.else.example")
    body = CheckpointBody(FOREIGN, 10, foreign.tree.root(10))
    assert post(format_add_checkpoint(0, [], sign_checkpoint(body, stranger))).status_code == 403
    note = parse_note(signed(foreign.signer, foreign.tree, 10))
    sig = note.signatures[0]
    broken = NoteSignature(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    tampered = Note(note.text, (broken,)).to_bytes()
    assert post(format_add_checkpoint(0, [], tampered)).status_code == 403
    # A known key's bad signature fails the note even beside a good one.
    both = Note(note.text, (sig, NoteSignature(sig.name, sig.key_id, broken.signature))).to_bytes()
    assert post(format_add_checkpoint(0, [], both)).status_code == 403
    assert stored()[0] == 0


def test_400_for_malformed_requests(foreign: ForeignLog) -> None:
    note = signed(foreign.signer, foreign.tree, 10)
    hash_line = base64.b64encode(bytes(32)) + b"\n"
    malformed = [
        b"",
        b"hello",
        b"old 0",
        b"old 0\n",
        b"old 0\n" + note,  # no empty line before the checkpoint
        b"old 00\n\n" + note,
        b"old -1\n\n" + note,
        b"old 1e3\n\n" + note,
        b"Old 0\n\n" + note,
        b"old 18446744073709551616\n\n" + note,
        b"old 5\nnot base64!\n\n" + note,
        b"old 5\n" + base64.b64encode(bytes(31)) + b"\n\n" + note,
        b"old 5\n" + hash_line * 64 + b"\n" + note,
        b"old 0\n\n",
        b"old 0\n\nexample.org/foreign-log\n10\n",  # no signatures
        b"old 0\n\n" + note.replace(b"\n10\n", b"\nten\n"),
        b"old 0\n\n\xff\xfe\n\n",
        b"old 11\n\n" + note,  # old size larger than the checkpoint
    ]
    for body in malformed:
        response = post(body)
        assert response.status_code == 400, body
        assert b"Traceback" not in response.content
    assert stored()[0] == 0
    # 63 proof lines is the most a client may send: well-formed, so it reaches the proof check.
    assert post(b"old 0\n" + hash_line * 63 + b"\n" + note).status_code == 422


def test_405_413_and_no_stack_traces(foreign: ForeignLog, monkeypatch) -> None:
    client = Client()
    response = client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert client.put(URL, b"old 0\n\n", content_type="text/plain").status_code == 405
    huge = foreign.request(0, 10) + b"x" * witness.MAX_BODY_BYTES
    assert post(huge).status_code == 413
    assert stored()[0] == 0

    def boom(body: bytes):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(witness, "process_add_checkpoint", boom)
    response = post(foreign.request(0, 10))
    assert response.status_code == 500
    assert b"secret" not in response.content and b"Traceback" not in response.content


def test_check_and_persist_is_atomic(foreign: ForeignLog, monkeypatch) -> None:
    """Even a writer that slips in between the check and the write cannot be overwritten."""
    assert post(foreign.request(0, 10)).status_code == 200
    real = witness.verify_consistency

    def racing(*args, **kwargs):
        # What a concurrent request could do if the row were not locked: persist size 20.
        WitnessedLog.objects.filter(origin=FOREIGN).update(size=20, root_hash=foreign.tree.root(20))
        return real(*args, **kwargs)

    monkeypatch.setattr(witness, "verify_consistency", racing)
    response = post(foreign.request(10, 30))
    assert response.status_code == 409
    assert response["Content-Type"] == SIZE_CONTENT_TYPE
    assert response.content == b"20\n"
    # Size 30 was not persisted (the simulated writer ran in our transaction: it rolled back too).
    assert stored()[0] == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_from_the_same_old_size_cosign_one(platform_keys) -> None:
    """Real concurrent transactions (PostgreSQL row locks; SQLite is covered by the loopback test)."""
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database does not serve concurrent writers")
    log = ForeignLog(Ed25519Signer.generate(FOREIGN), tree_of(40))
    WitnessedLog.objects.create(origin=FOREIGN, verifier_keys=log.signer.verifier().verifier_key())
    sizes = list(range(10, 18))
    barrier = threading.Barrier(len(sizes))

    def submit(size: int) -> tuple[int, str, bytes]:
        try:
            barrier.wait()
            return witness.process_add_checkpoint(log.request(0, size))
        finally:
            connection.close()

    with ThreadPoolExecutor(len(sizes)) as pool:
        answers = list(pool.map(submit, sizes))
    winners = [size for size, answer in zip(sizes, answers, strict=True) if answer[0] == 200]
    assert len(winners) == 1, answers
    losers = {answer for answer in answers if answer[0] != 200}
    assert losers == {(409, SIZE_CONTENT_TYPE, f"{winners[0]}\n".encode())}
    assert stored()[:2] == (winners[0], log.tree.root(winners[0]))


# --------------------------------------------------------------------------------------------
# Log side, one instance witnessing itself through an injected transport
# --------------------------------------------------------------------------------------------


def client_transport(calls: list[tuple[str, bytes]] | None = None) -> witness.Transport:
    client = Client()

    def send(url: str, body: bytes) -> Answer:
        if calls is not None:
            calls.append((url, body))
        response = client.generic(
            "POST", urllib.parse.urlsplit(url).path, body, content_type="text/plain"
        )
        return response.status_code, {k.lower(): v for k, v in response.items()}, response.content

    return send


@pytest.fixture
def self_witnessed(platform_keys, staff) -> Witness:
    services.witness_log(staff, origin=keys.origin(), verifier_keys=[keys.log_verifier_key()])
    return services.add_witness(
        staff,
        name=keys.witness_name(),
        url="http://a.openbid.test/ledger/witness/",
        verifier_key=keys.witness_verifier_key(),
    )


def witness_verifiers() -> list:
    return [parse_witness_verifier_key(keys.witness_verifier_key())]


def test_request_cosignatures_stores_and_publishes_the_cosignature(self_witnessed: Witness) -> None:
    checkpoint = services.issue_checkpoint()
    calls: list[tuple[str, bytes]] = []
    results = witness.request_cosignatures(transport=client_transport(calls))
    assert results[self_witnessed.name].ok, results
    assert calls[0][0] == "http://a.openbid.test/ledger/witness/add-checkpoint"
    assert calls[0][1].startswith(b"old 0\n\n" + checkpoint.note.encode())
    checkpoint.refresh_from_db()
    cosignature = Cosignature.objects.get(checkpoint=checkpoint)
    assert cosignature.witness_name == self_witnessed.name
    assert checkpoint.note.endswith(cosignature.line + "\n")
    assert results[self_witnessed.name].line == cosignature.line + "\n"
    opened = open_checkpoint(checkpoint.note, [keys.log_signer().verifier()], witness_verifiers())
    assert opened.witnesses == {self_witnessed.name}
    self_witnessed.refresh_from_db()
    assert (self_witnessed.last_size, self_witnessed.last_error) == (checkpoint.size, "")

    # Asking again does not call the witness; a grown log is proved from the last size.
    calls.clear()
    assert witness.request_cosignatures(transport=client_transport(calls))[self_witnessed.name].ok
    assert calls == []
    add_events(5)
    grown = services.issue_checkpoint()
    assert witness.request_cosignatures(transport=client_transport(calls))[self_witnessed.name].ok
    proof = store.TreeReader().consistency_proof(checkpoint.size, grown.size)
    assert calls[0][1] == format_add_checkpoint(checkpoint.size, proof, grown.note)
    grown.refresh_from_db()
    assert Cosignature.objects.filter(checkpoint=grown).count() == 1
    assert open_checkpoint(
        grown.note, [keys.log_signer().verifier()], witness_verifiers()
    ).witnesses


def test_request_cosignatures_follows_a_409_size_hint(self_witnessed: Witness) -> None:
    first = services.issue_checkpoint()
    assert witness.request_cosignatures(transport=client_transport())[self_witnessed.name].ok
    Witness.objects.filter(pk=self_witnessed.pk).update(last_size=0)  # we forgot what it saw
    add_events(3)
    services.issue_checkpoint()
    calls: list[tuple[str, bytes]] = []
    outcome = witness.request_cosignatures(transport=client_transport(calls))[self_witnessed.name]
    assert outcome.ok, outcome
    assert [body.split(b"\n")[0] for _url, body in calls] == [
        b"old 0",
        f"old {first.size}".encode(),
    ]


def fixed(*answers: Answer) -> witness.Transport:
    replies = list(answers)

    def send(url: str, body: bytes) -> Answer:
        return replies.pop(0) if len(replies) > 1 else replies[0]

    return send


SIZE = {"content-type": SIZE_CONTENT_TYPE}


@pytest.mark.parametrize(
    ("answers", "last_size"),
    [
        ([(409, SIZE, b"999999\n")], 0),  # the witness saw a larger tree of our origin
        ([(409, SIZE, b"1\n")], 3),  # it went back below what it cosigned for us
        ([(409, SIZE, b"05\n")], 0),
        ([(409, {"content-type": "text/plain"}, b"5\n")], 0),  # same size, another root
        ([(422, {}, b"bad proof\n")], 0),
        ([(500, {}, b"oops\n")], 0),
        ([(200, {}, b"not a signature line\n")], 0),
        ([(409, SIZE, b"1\n"), (409, SIZE, b"2\n"), (409, SIZE, b"3\n"), (409, SIZE, b"4\n")], 0),
    ],
)
def test_request_cosignatures_records_refusals(self_witnessed: Witness, answers, last_size) -> None:
    add_events(5)
    checkpoint = services.issue_checkpoint()
    note = checkpoint.note
    Witness.objects.filter(pk=self_witnessed.pk).update(last_size=last_size)
    outcome = witness.request_cosignatures(transport=fixed(*answers))[self_witnessed.name]
    assert not outcome.ok
    self_witnessed.refresh_from_db()
    assert self_witnessed.last_error == outcome.message != ""
    assert self_witnessed.last_size == last_size
    assert not Cosignature.objects.exists()
    checkpoint.refresh_from_db()
    assert checkpoint.note == note


def test_request_cosignatures_rejects_a_cosignature_by_another_key(self_witnessed: Witness) -> None:
    checkpoint = services.issue_checkpoint()
    impostor = CosignatureV1Signer.generate(self_witnessed.name)
    text = parse_note(checkpoint.note).text.encode()
    line = NoteSignature(impostor.name, impostor.key_id, impostor.sign(text)).line.encode()
    unrelated = CosignatureV1Signer.generate("other.witness.example")
    other = NoteSignature(unrelated.name, unrelated.key_id, unrelated.sign(text)).line.encode()
    outcome = witness.request_cosignatures(transport=fixed((200, {}, line + other)))
    assert not outcome[self_witnessed.name].ok
    assert not Cosignature.objects.exists()

    def unreachable(url: str, body: bytes) -> Answer:
        raise ConnectionRefusedError("connection refused")

    outcome = witness.request_cosignatures(transport=unreachable)
    assert "connection refused" in outcome[self_witnessed.name].message
    # Unknown keys' lines in an answer are ignored, the witness's own line is kept.
    sent = client_transport()

    def with_extra(url: str, body: bytes) -> Answer:
        status, headers, answer = sent(url, body)
        return status, headers, other + answer

    outcome = witness.request_cosignatures(transport=with_extra)
    assert outcome[self_witnessed.name].ok
    genuine = Cosignature.objects.get()
    before = checkpoint.note
    checkpoint.refresh_from_db()
    assert checkpoint.note == before + genuine.line + "\n"
    assert "other.witness.example" not in checkpoint.note


def test_inactive_witnesses_and_no_checkpoint(self_witnessed: Witness) -> None:
    def never(url: str, body: bytes) -> Answer:
        raise AssertionError("no request expected")

    assert witness.request_cosignatures(transport=never) == {}  # no checkpoint yet
    services.issue_checkpoint()
    Witness.objects.update(active=False)
    assert witness.request_cosignatures(transport=never) == {}


def test_task_and_command(self_witnessed: Witness, staff, monkeypatch) -> None:
    services.issue_checkpoint()
    monkeypatch.setattr(witness, "http_transport", client_transport())
    result = witness.collect_cosignatures.call()
    assert result == {
        self_witnessed.name: {"ok": True, "message": result[self_witnessed.name]["message"]}
    }
    assert Cosignature.objects.count() == 1

    out = io.StringIO()
    call_command("ledger_witness", "key", stdout=out)
    assert out.getvalue().strip() == keys.witness_verifier_key()
    out = io.StringIO()
    call_command("ledger_witness", "cosign", stdout=out)
    assert out.getvalue().startswith(f"ok  {self_witnessed.name}")

    vkey = Ed25519Signer.generate("example.org/new-log").verifier().verifier_key()
    out = io.StringIO()
    call_command(
        "ledger_witness", "add-log", "--origin", "example.org/new-log", "--key", vkey,
        "--as", staff.username, stdout=out,
    )  # fmt: skip
    assert WitnessedLog.objects.get(origin="example.org/new-log").verifier_keys == vkey
    with pytest.raises(CommandError):
        call_command(
            "ledger_witness",
            "add-log",
            "--origin",
            "x.example/log",
            "--key",
            vkey,
            "--as",
            "nobody",
        )
    with pytest.raises(CommandError):  # the key is not named after the origin
        call_command(
            "ledger_witness",
            "add-log",
            "--origin",
            "x.example/log",
            "--key",
            vkey,
            "--as",
            staff.username,
        )


# --------------------------------------------------------------------------------------------
# Two instances on loopback
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    base: str
    name: str
    verifier_key: str
    process: subprocess.Popen[str]


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "openbid.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def instance_b(platform_keys, tmp_path: Path) -> Iterator[Instance]:
    """Another openbid ("B"): own home, SQLite database and witness key; it witnesses our log."""
    name = "witness.b.test"
    signer = CosignatureV1Signer.generate(name)
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("OPENBID_")
    }
    env.update(
        OPENBID_HOME=str(tmp_path / "b"),
        OPENBID_LEDGER_ORIGIN="b.openbid.test/ledger",
        OPENBID_WITNESS_NAME=name,
        OPENBID_WITNESS_SIGNING_KEY=signer.signer_key(),
        OPENBID_BOOTSTRAP_PASSWORD=PASSWORD,
    )
    _run(["manage", "migrate", "-v0"], env)
    _run(
        ["manage", "bootstrap", "--name", "乙市公共资源交易中心", "--region", "330100",
         "--credit-code", credit_code(authority="1", category="1"), "--admin", "b-admin"],
        env,
    )  # fmt: skip
    out = _run(
        ["manage", "ledger_witness", "add-log", "--origin", keys.origin(),
         "--key", keys.log_verifier_key(), "--as", "b-admin"],
        env,
    )  # fmt: skip
    assert signer.verifier().verifier_key() in out
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "openbid.cli", "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", URL)
            assert connection.getresponse().status == 405
            connection.close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"instance B did not start: {output}")
            time.sleep(0.1)
    try:
        yield Instance(f"http://127.0.0.1:{port}", name, signer.verifier().verifier_key(), process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def signed_at(reader: store.TreeReader, size: int) -> bytes:
    return sign_checkpoint(
        CheckpointBody(keys.origin(), size, reader.root(size)), keys.log_signer()
    )


def test_two_instances_cosign_and_refuse_a_fork(instance_b: Instance, staff) -> None:
    add_url = instance_b.base + URL

    def to_b(body: bytes) -> Answer:
        return witness.http_transport(add_url, body)

    # A trusts B as a witness (by URL and key) and asks it to cosign its checkpoint.
    services.add_witness(
        staff,
        name=instance_b.name,
        url=instance_b.base + "/ledger/witness",
        verifier_key=instance_b.verifier_key,
    )
    add_events(3)
    first = services.issue_checkpoint()
    outcome = witness.request_cosignatures()[instance_b.name]
    assert outcome.ok, outcome
    first.refresh_from_db()
    cosignature = Cosignature.objects.get(checkpoint=first, witness_name=instance_b.name)
    assert first.note.endswith(cosignature.line + "\n")
    b_key = parse_witness_verifier_key(instance_b.verifier_key)
    opened = open_checkpoint(
        first.note, [keys.log_signer().verifier()], [b_key], origin=keys.origin()
    )
    assert opened.witnesses == {instance_b.name}
    assert Witness.objects.get(name=instance_b.name).last_size == first.size
    served = Client().get("/ledger/checkpoint").content  # A publishes the cosigned checkpoint
    assert open_checkpoint(served, [keys.log_signer().verifier()], [b_key]).witnesses == {
        instance_b.name
    }

    # Concurrent requests from the same old size: B cosigns exactly one, the rest get 409.
    add_events(6)
    reader = store.TreeReader()
    sizes = [first.size + k for k in range(1, 6)]
    bodies = [
        format_add_checkpoint(
            first.size, reader.consistency_proof(first.size, s), signed_at(reader, s)
        )
        for s in sizes
    ]
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(to_b, bodies))
    winners = [size for size, (status, _h, _b) in zip(sizes, answers, strict=True) if status == 200]
    assert len(winners) == 1, answers
    for status, headers, body in answers:
        if status != 200:
            assert (status, headers["content-type"], body) == (
                409,
                SIZE_CONTENT_TYPE,
                f"{winners[0]}\n".encode(),
            )

    # A's own next checkpoint: B answers 409 with the size it saw, A re-proves from it.
    second = services.issue_checkpoint()
    outcome = witness.request_cosignatures()[instance_b.name]
    assert outcome.ok, outcome
    second.refresh_from_db()
    assert open_checkpoint(second.note, [keys.log_signer().verifier()], [b_key]).witnesses == {
        instance_b.name
    }

    # A fork: checkpoints signed with A's key for a tree that does not extend what B cosigned.
    forged = tree_of(second.size + 4, "forged")
    fork = sign_checkpoint(
        CheckpointBody(keys.origin(), forged.size, forged.root()), keys.log_signer()
    )
    status, _h, _b = to_b(
        format_add_checkpoint(second.size, forged.consistency_proof(second.size, forged.size), fork)
    )
    assert status == 422
    same_size = sign_checkpoint(
        CheckpointBody(keys.origin(), second.size, forged.root(second.size)), keys.log_signer()
    )
    status, headers, _b = to_b(format_add_checkpoint(second.size, [], same_size))
    assert status == 409 and headers["content-type"] != SIZE_CONTENT_TYPE
    # B's state is unchanged: it still reports, and still accepts, A's genuine tree.
    assert to_b(format_add_checkpoint(0, [], fork))[::2] == (409, f"{second.size}\n".encode())
    status, _h, line = to_b(
        format_add_checkpoint(second.size, [], parse_note(second.note).to_bytes())
    )
    assert status == 200
    assert b_key.verify(
        parse_note(second.note).text.encode(), NoteSignature.from_line(line.decode()).signature
    )
