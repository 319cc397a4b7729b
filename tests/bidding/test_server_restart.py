"""Kill the server during an upload: an unfinished upload is not a bid; a receipted bid survives
a restart.

Not simulated: the real ``openbid serve`` (waitress) runs as a separate process on a loopback
port and is killed with SIGKILL while requests are in flight, then started again on the same
database and files. It has its own ``OPENBID_HOME`` and its own SQLite database (the embedded
deployment: WAL, ``synchronous=FULL``) whatever database the suite runs on, as the second
instance in ``tests/ledger/test_witness.py`` does: pytest-django's test database (PostgreSQL on
CI) belongs to the test process, is emptied between tests and, under xdist, is one per worker, so
a server process cannot share it safely. What a kill can tear is the pair "row in the database,
bytes on disk", and the services order those the same way whatever the database engine is.

The data are made in a subprocess through the services and the shared test factories
(``tests/bidding/server_process.py``); the platform clock is frozen there and in the server (the
platform has no environment switch for its clock). The test speaks only HTTP to the server, as
``openbid-bidder`` does, and reads the database file and the stored files directly afterwards.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import http.client
import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from openbid.bidding import client
from openbid.crypto.suites import get_suite
from openbid.opening.aad import bid_aad
from tests.bidding.server_process import CLOCK_VARIABLE, SUITE

REPO = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
#: Generous but bounded: a loaded CI machine may be slow, a hung server must not hang the suite.
START_TIMEOUT = 60.0
SUBPROCESS_TIMEOUT = 120.0
HTTP_TIMEOUT = 30.0
#: The server's clock at each start (the setup ends at 10:01): later each time, so the ledger's
#: events stay in time order.
SERVER_TIMES = (
    (
        dt.datetime.fromisoformat("2026-03-02T11:00:00+08:00") + n * dt.timedelta(minutes=10)
    ).isoformat()
    for n in itertools.count()
)


# --- the platform: a home, a database and the people, made in a subprocess ------------------------


@dataclass
class Bidder:
    name: str
    organisation: int
    credit_code: str
    token: str
    signing_key: bytes
    public_key: str

    def api(self, url: str) -> client.Api:
        return client.Api(url, self.token, timeout=HTTP_TIMEOUT)


@dataclass
class Platform:
    home: Path
    env: dict[str, str]
    tender: int
    section: int
    bidders: dict[str, Bidder]

    @property
    def database(self) -> Path:
        return self.home / "openbid.sqlite3"

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """A query on the server's database file (read only, the server may be running)."""
        with closing(sqlite3.connect(self.database, timeout=20)) as db:
            return db.execute(sql, params).fetchall()

    def stored(self, name: str) -> Path:
        return self.home / "media" / name

    def partial(self, upload_id: str) -> Path:
        return self.home / "uploads" / f"{upload_id}.part"

    def openbid(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "openbid.cli", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )


def _environment(home: Path) -> dict[str, str]:
    """The suite's environment without its database and platform settings, plus this home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", CLOCK_VARIABLE)
        and not k.startswith("OPENBID_")
    }
    env.update(
        OPENBID_HOME=str(home),
        DATABASE_URL=f"sqlite:///{home / 'openbid.sqlite3'}",
        DJANGO_SETTINGS_MODULE="openbid.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return env


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """Migrate a fresh database and make a published one-section tender and three bidders who
    obtained its documents, each with a certified signing key and an API token."""
    home = tmp_path_factory.mktemp("openbid-home")
    env = _environment(home)
    done = subprocess.run(
        [sys.executable, "-m", "tests.bidding.server_process", "setup", "a", "b", "c"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    bidders = {
        name: Bidder(
            name,
            person["organisation"],
            person["credit_code"],
            person["token"],
            base64.b64decode(person["signing_key"]),
            person["public_key"],
        )
        for name, person in data["bidders"].items()
    }
    return Platform(home, env, data["tender"], data["section"], bidders)


# --- the server process ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    platform: Platform
    clock_at: str
    log: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def start(self) -> Server:
        env = {**self.platform.env, CLOCK_VARIABLE: self.clock_at}
        for _attempt in range(3):  # another process may take the free port before the server
            self.port = _free_port()
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [
                        *(sys.executable, "-m", "tests.bidding.server_process", "serve"),
                        *("--host", "127.0.0.1", "--port", str(self.port), "--threads", "4"),
                    ],
                    env=env,
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._ready():
                return self
            if "address already in use" not in self.output().lower():
                break
        self.kill()
        pytest.fail(f"the server did not start:\n{self.output()}")

    def _ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", f"/api/v1/sections/{self.platform.section}")
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def signal(self, signum: int) -> None:
        assert self.process is not None and self.process.poll() is None, self.output()
        os.kill(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL: no handler runs, no response is finished, nothing is cleaned up."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


@pytest.fixture
def servers(platform: Platform, tmp_path: Path) -> Iterator[Callable[[], Server]]:
    """Start a server on ``platform`` (each later on the platform clock); all are killed at the
    end whatever happens."""
    started: list[Server] = []

    def start() -> Server:
        server = Server(platform, next(SERVER_TIMES), tmp_path / f"server-{len(started)}.log")
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.kill()


# --- what the bidder does ----------------------------------------------------------------------


@dataclass
class Sealed:
    envelope: bytes
    commitment: str
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.envelope).hexdigest()


def seal(section: int, size: int) -> Sealed:
    """A sealed envelope of about ``size`` bytes for ``section`` (the plaintext is opaque here)."""
    suite = get_suite(SUITE)
    plaintext = os.urandom(size)
    recipient = suite.generate_encryption_key().public
    return Sealed(suite.seal([recipient], plaintext, bid_aad(section)), suite.hash(plaintext).hex())


def commit_body(platform: Platform, bidder: Bidder, sealed: Sealed) -> dict[str, str]:
    """What ``openbid-bidder submit`` sends to commit: the signed commitment message."""
    suite = get_suite(SUITE)
    message = client.commitment_message(
        platform.tender, platform.section, bidder.credit_code, sealed.sha256, sealed.commitment
    )
    return {
        "suite": SUITE,
        "commitment": sealed.commitment,
        "signature": base64.b64encode(suite.sign(bidder.signing_key, message)).decode(),
        "public_key": bidder.public_key,
    }


def start_upload(api: client.Api, platform: Platform, sealed: Sealed) -> dict[str, Any]:
    body = {"size": len(sealed.envelope), "sha256": sealed.sha256}
    answer: dict[str, Any] = api.call("POST", f"/sections/{platform.section}/uploads", body)
    return answer


def send(api: client.Api, upload: dict[str, Any], data: bytes, start: int, stop: int) -> int:
    """PUT ``data[start:stop]`` in chunks the platform accepts; the platform's offset after it."""
    received = start
    for offset in range(start, stop, upload["chunk_bytes"]):
        chunk = data[offset : min(offset + upload["chunk_bytes"], stop)]
        answer = api.call("PUT", f"/uploads/{upload['upload_id']}?offset={offset}", data=chunk)
        received = answer["received"]
    return received


def raw_put(
    server: Server, bidder: Bidder, upload_id: str, offset: int, length: int
) -> socket.socket:
    """Open a chunk PUT of ``length`` bytes: the headers only; the caller sends the body."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=HTTP_TIMEOUT)
    head = (
        f"PUT /api/v1/uploads/{upload_id}?offset={offset} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {bidder.token}\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    )
    sock.sendall(head.encode())
    return sock


def answer_of(sock: socket.socket) -> bytes:
    """What the server said on ``sock`` before it went away (nothing, after a kill)."""
    chunks = []
    with closing(sock):
        try:
            while block := sock.recv(65536):
                chunks.append(block)
        except OSError:
            pass
    return b"".join(chunks)


def receipt_fields(receipt: str) -> dict[str, str]:
    text = receipt.split("\n\n", 1)[0]
    return dict(line.partition(" ")[::2] for line in text.splitlines()[1:])


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_for(condition: Callable[[], bool], server: Server, what: str, timeout: float = 30) -> None:
    """Poll ``condition`` as fast as possible (the windows it looks for last milliseconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or (server.process and server.process.poll() is not None):
            pytest.fail(f"never saw {what}:\n{server.output()}")


def bid_rows(platform: Platform, bidder: Bidder) -> list[tuple[Any, ...]]:
    return platform.rows(
        "SELECT id, version, status, ciphertext, ciphertext_sha256, ledger_index, receipt, size "
        "FROM bidding_bid WHERE organisation_id = ? ORDER BY version",
        bidder.organisation,
    )


def upload_row(platform: Platform, upload_id: str) -> tuple[int, int, int | None]:
    (row,) = platform.rows(
        "SELECT received, size, bid_id FROM bidding_bidupload WHERE id = ?",
        uuid.UUID(upload_id).hex,
    )
    return row


def ledger_verifies(platform: Platform) -> None:
    done = platform.openbid("ledger", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("verified"), done.stdout


# --- the tests ---------------------------------------------------------------------------------


def test_kill_during_uploads_then_restart(platform: Platform, servers) -> None:
    a, b = platform.bidders["a"], platform.bidders["b"]
    server = servers()
    api_a, api_b = a.api(server.url), b.api(server.url)

    # B submits a bid and gets its receipt (回执) before the crash.
    sealed_b = seal(platform.section, 300_000)
    upload_b = start_upload(api_b, platform, sealed_b)
    size_b = len(sealed_b.envelope)
    assert send(api_b, upload_b, sealed_b.envelope, 0, size_b // 2) == size_b // 2
    assert send(api_b, upload_b, sealed_b.envelope, size_b // 2, size_b) == size_b
    bid_b = api_b.call(
        "POST", f"/uploads/{upload_b['upload_id']}/commit", commit_body(platform, b, sealed_b)
    )
    receipt_b = bid_b["receipt"]
    fields_b = receipt_fields(receipt_b)
    assert fields_b["ciphertext-sha256"] == sealed_b.sha256 == bid_b["ciphertext_sha256"]
    assert fields_b["ledger-index"] == str(bid_b["ledger_index"])
    assert fields_b["bid"] == str(bid_b["bid"])

    # B starts replacing its bid; the chunk's body is only partly sent when the server dies
    # (waitress is still receiving it).
    sealed_b2 = seal(platform.section, 1 * MiB)
    upload_b2 = start_upload(api_b, platform, sealed_b2)
    in_flight_b2 = raw_put(server, b, upload_b2["upload_id"], 0, len(sealed_b2.envelope))
    in_flight_b2.sendall(sealed_b2.envelope[: len(sealed_b2.envelope) // 3])

    # A uploads a large bid: the first chunk arrives; the second is fully sent, and the server
    # is killed while it writes that chunk to the partial file (before or while it records it).
    sealed_a = seal(platform.section, 18 * MiB)
    size_a = len(sealed_a.envelope)
    upload_a = start_upload(api_a, platform, sealed_a)
    chunk = upload_a["chunk_bytes"]
    assert size_a > 2 * chunk, "A's bid must need three chunks"
    first = send(api_a, upload_a, sealed_a.envelope, 0, chunk)
    assert first == chunk
    partial_a = platform.partial(upload_a["upload_id"])
    assert partial_a.stat().st_size == first
    in_flight_a = raw_put(server, a, upload_a["upload_id"], first, chunk)
    in_flight_a.sendall(sealed_a.envelope[first : 2 * chunk])
    wait_for(lambda: partial_a.stat().st_size > first, server, "A's second chunk being written")
    server.kill()

    # The connections died with the server: B's half-sent chunk got no answer (nor, almost
    # always, A's chunk: checked below against what the server recorded).
    answer_a = answer_of(in_flight_a)
    assert answer_of(in_flight_b2) == b""
    assert bid_rows(platform, a) == [] and len(bid_rows(platform, b)) == 1

    server = servers()
    api_a, api_b = a.api(server.url), b.api(server.url)

    # B's receipted bid survived: the same receipt, ciphertext hash and ledger index, its bytes
    # on disk, and the platform still vouches for the receipt.
    (mine,) = api_b.call("GET", "/bids")
    assert mine["bid"] == bid_b["bid"] and mine["version"] == 1 and mine["status"] == "valid"
    assert mine["receipt"] == receipt_b
    assert mine["ciphertext_sha256"] == sealed_b.sha256
    assert mine["ledger_index"] == bid_b["ledger_index"]
    ((_id, _v, status, name, sha, ledger_index, receipt, size),) = bid_rows(platform, b)
    assert (status, sha, ledger_index, receipt, size) == (
        "valid",
        sealed_b.sha256,
        bid_b["ledger_index"],
        receipt_b,
        size_b,
    )
    assert file_sha256(platform.stored(name)) == fields_b["ciphertext-sha256"]
    assert platform.rows('SELECT "index" FROM ledger_entry WHERE "index" = ?', ledger_index)
    check = api_b.call("POST", "/receipts/verify", {"receipt": receipt_b})
    assert check["signature_valid"] and check["matches_stored_bid"] and check["counts"], check

    # B's replacement never arrived: not a bid, nothing received, the receipted bid still counts.
    replacement = api_b.call("GET", f"/uploads/{upload_b2['upload_id']}")
    assert replacement["received"] == 0 and replacement["bid"] is None
    assert upload_row(platform, upload_b2["upload_id"]) == (0, len(sealed_b2.envelope), None)

    # A's unfinished upload is not a bid: not listed, no row, and it cannot be committed.
    assert api_a.call("GET", "/bids") == []
    assert bid_rows(platform, a) == []
    body_a = commit_body(platform, a, sealed_a)
    with pytest.raises(client.ApiError) as refused:
        api_a.call("POST", f"/uploads/{upload_a['upload_id']}/commit", body_a)
    assert refused.value.status == 409 and refused.value.rule == "upload_incomplete"

    # The server says where to resume: the second chunk was either not recorded (the kill came
    # before its transaction) or recorded whole. Every byte it counts is on disk, as sent.
    resume = api_a.call("GET", f"/uploads/{upload_a['upload_id']}")
    received = resume["received"]
    assert received in (first, 2 * chunk), received
    assert answer_a == b"" or received == 2 * chunk, answer_a[:200]
    assert upload_row(platform, upload_a["upload_id"]) == (received, size_a, None)
    on_disk = partial_a.read_bytes()
    assert len(on_disk) >= received
    assert on_disk[:received] == sealed_a.envelope[:received]

    # A chunk at any other offset is refused, naming the offset to resume from.
    with pytest.raises(client.ApiError) as refused:
        api_a.call("PUT", f"/uploads/{upload_a['upload_id']}?offset=0", data=b"x" * 16)
    assert refused.value.status == 409 and refused.value.rule == "upload_offset"
    assert f"{received}" in str(refused.value)

    # A resumes from there, commits and gets its receipt; its stored bytes are the receipted ones.
    assert send(api_a, resume, sealed_a.envelope, received, size_a) == size_a
    bid_a = api_a.call("POST", f"/uploads/{upload_a['upload_id']}/commit", body_a)
    fields_a = receipt_fields(bid_a["receipt"])
    assert fields_a["ciphertext-sha256"] == sealed_a.sha256
    ((_id, version, status, name, sha, ledger_index, receipt, size),) = bid_rows(platform, a)
    assert (version, status, sha, ledger_index, receipt, size) == (
        1,
        "valid",
        sealed_a.sha256,
        bid_a["ledger_index"],
        bid_a["receipt"],
        size_a,
    )
    assert file_sha256(platform.stored(name)) == sealed_a.sha256
    assert not partial_a.exists()
    assert int(fields_a["ledger-index"]) > int(fields_b["ledger-index"])

    # B's bid still counts, and the ledger verifies end to end.
    assert api_b.call("POST", "/receipts/verify", {"receipt": receipt_b})["counts"]
    ledger_verifies(platform)


class ReceiptedBytesLost(AssertionError):
    """The stored ciphertext of a receipted bid is not the receipted one."""


def test_kill_while_the_commit_stores_the_ciphertext(platform: Platform, servers) -> None:
    """A kill while the commit copies the ciphertext to its final name leaves a truncated copy
    there; the retried commit must not receipt it (it copies again), and the partial file goes
    only once a whole copy is stored."""
    c = platform.bidders["c"]
    for _attempt in range(3):
        server = servers()
        api = c.api(server.url)
        sealed = seal(platform.section, 16 * MiB)
        upload = start_upload(api, platform, sealed)
        send(api, upload, sealed.envelope, 0, len(sealed.envelope))
        stored = platform.stored(
            f"bids/{platform.tender}/{platform.section}/{upload['upload_id']}.obenv"
        )
        body = commit_body(platform, c, sealed)
        outcome: list[object] = []
        committing = threading.Thread(
            target=commit_in_background, args=(api, upload["upload_id"], body, outcome), daemon=True
        )
        committing.start()
        # Stop the server the moment the stored file appears, then kill it.
        wait_for(
            functools.partial(stored_or_finished, stored, committing), server, "the stored file"
        )
        if not stored.exists():
            pytest.fail(f"the commit ended without storing the ciphertext: {outcome}")
        server.signal(signal.SIGSTOP)
        caught = stored.stat().st_size
        server.kill()
        committing.join(HTTP_TIMEOUT)
        if caught < len(sealed.envelope):
            break  # killed in the middle of the copy
    else:
        pytest.skip("the copy finished each time before the server could be stopped")
    assert upload_row(platform, upload["upload_id"])[2] is None  # not a bid (yet)

    # After the restart the client retries the commit, as openbid-bidder does.
    server = servers()
    api = c.api(server.url)
    bid = api.call("POST", f"/uploads/{upload['upload_id']}/commit", body)
    fields = receipt_fields(bid["receipt"])
    assert fields["ciphertext-sha256"] == sealed.sha256
    (row,) = [r for r in bid_rows(platform, c) if r[0] == bid["bid"]]
    stored_now = platform.stored(row[3])
    if file_sha256(stored_now) != fields["ciphertext-sha256"]:
        raise ReceiptedBytesLost(
            f"bid {bid['bid']} is receipted for {len(sealed.envelope)} bytes with SHA-256 "
            f"{fields['ciphertext-sha256']}, but its stored ciphertext has "
            f"{stored_now.stat().st_size} bytes (the copy was killed at {caught}); the partial "
            f"file {'is gone' if not platform.partial(upload['upload_id']).exists() else 'remains'}"
        )
    assert not platform.partial(upload["upload_id"]).exists()


def stored_or_finished(stored: Path, committing: threading.Thread) -> bool:
    return stored.exists() or not committing.is_alive()


def commit_in_background(
    api: client.Api, upload_id: str, body: dict[str, str], outcome: list[object]
) -> None:
    """Commit, keeping the answer or the refusal; a dropped connection is what the test wants."""
    try:
        outcome.append(api.call("POST", f"/uploads/{upload_id}/commit", body))
    except client.Interrupted:
        pass  # the connection died with the server
    except client.ClientError as exc:
        outcome.append(exc)
