"""Deadline surge: N bidders each upload a sealed bid over loopback within one window of time.

    python bench/deadline_surge.py [--bidders 300] [--mib 10] [--window 60] [--concurrency 32]
                                   [--threads 8] [--time-limit 900] [--keep]

Setup (not timed): a temporary OPENBID_HOME with SQLite, or the database in DATABASE_URL
(PostgreSQL); through the services, a trading centre, a tenderer with a published tender of one
section, and N bidder organisations, each with a person, an API token and the tender documents.
N bids of ``--mib`` MiB are sealed in memory with ``intl-2026`` and their commitment messages
signed as ``openbid-bidder submit`` signs them. Then ``openbid serve --no-worker`` is started as
a separate process on a free loopback port.

To keep memory bounded every bid is sealed under one data key, message id and nonce (a benchmark
shortcut, never to be done with real bids: GCM must not reuse a nonce), each wrapped to the
bidder's own encryption key. The packages share one random body and differ in their manifest
(nonce, price) and a small per-bid file, so the ciphertexts differ from the first bid's only in a
few blocks (header, manifest, tail, tag): each bid is kept as the base envelope plus its own
blocks, is a valid envelope with its own SHA-256 (checked by opening two of them), and is sent
without copying the base.

Surge (timed): the bidders' start times are spread evenly over ``--window`` seconds (0: all at
once) and served by ``--concurrency`` client threads, each with its own keep-alive connection.
Each bidder does what the client does: start the upload, PUT the chunks (``chunk_bytes`` each),
commit. Recorded per bid: the time from the final chunk's answer to the receipt, and the bytes.
Afterwards every receipt is verified with the key published at ``/api/v1/ledger/key`` and checked
against the bid it names, and the stored ciphertexts are counted.

Baseline (same run, before the surge, server idle): the same N x size bytes written straight to
files under the same temporary folder by the same number of threads, in the same chunks, with an
fsync after each chunk as the server's chunk write does. Ratio = upload throughput (bytes of the
receipted bids over the time from the first byte sent to the last receipt) / disk throughput.
With a window, the upload throughput cannot exceed the offered load N x size / window: the
ceiling is printed next to the ratio. ``--window 0`` measures the platform's capacity.

Also printed: per-phase client latencies, the server's CPU time (waitress's I/O thread, which
reads every request body, apart from its request threads), and its log grouped. People are given
a fast password hasher (they sign in with tokens only). The temporary folder is removed at the end
unless ``--keep``. Exit status 1 if any bid got no receipt (or a receipt that does not verify).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUITE = "intl-2026"
BLOCK = 64 * 1024  # the granularity at which a bid is stored as base envelope + its own blocks
HTTP_TIMEOUT = 120.0  # as the openbid-bidder client
NETWORK_RETRIES = 3  # network failures only, as the client; HTTP errors are final
PASSWORD = "Bench-" + secrets.token_urlsafe(18)  # nobody signs in with it: tokens only
PDF = b"%PDF-1.7\n% bench tender document\n" + b"0" * 1024


@dataclass
class Sealed:
    """One bid: the base envelope with ``patches`` (offset, bytes) laid over it."""

    index: int
    token: str
    credit_code: str
    sha256: str
    commitment: str
    signature: str
    public_key: str
    patches: list[tuple[int, bytes]]


@dataclass
class Outcome:
    index: int
    scheduled: float = 0.0
    started: float | None = None  # first byte of the start request
    last_chunk: float | None = None  # the final chunk's answer received
    receipt_at: float | None = None
    receipt: str | None = None
    bytes_sent: int = 0
    retries: int = 0
    error: str | None = None
    put_times: list[float] = field(default_factory=list)
    start_time: float | None = None


# --- the bids, as base envelope + per-bid blocks --------------------------------------------------


def pieces(base: bytes, patches: list[tuple[int, bytes]], start: int, end: int) -> Iterator[Any]:
    """The bytes ``[start, end)`` of a bid, as slices of the base and of its own blocks."""
    view = memoryview(base)
    position = start
    for offset, data in patches:
        stop = offset + len(data)
        if stop <= position or offset >= end:
            continue
        if offset > position:
            yield view[position:offset]
        lo, hi = max(offset, position), min(stop, end)
        yield memoryview(data)[lo - offset : hi - offset]
        position = hi
    if position < end:
        yield view[position:end]


def assemble(base: bytes, patches: list[tuple[int, bytes]]) -> bytes:
    return b"".join(pieces(base, patches, 0, len(base)))


def seal_all(
    n: int, size: int, section_id: int, tender_id: int, bidders: list[tuple[str, str, Any]]
) -> tuple[bytes, list[Sealed], dict[str, Any]]:
    from openbid.bidding import package
    from openbid.bidding.client import commitment_message
    from openbid.crypto.suites import (
        COMMITMENT_SIZE,
        DATA_KEY_SIZE,
        ENVELOPE_MAGIC,
        ENVELOPE_VERSION,
        MESSAGE_ID_SIZE,
        NONCE_SIZE,
        get_suite,
        parse_envelope,
    )
    from openbid.opening.aad import bid_aad

    suite = get_suite(SUITE)
    aad = bid_aad(section_id)
    data_key = os.urandom(DATA_KEY_SIZE)
    message_id = os.urandom(MESSAGE_ID_SIZE)
    nonce = os.urandom(NONCE_SIZE)
    name = suite.name.encode("ascii")
    prefix = (
        ENVELOPE_MAGIC
        + bytes([ENVELOPE_VERSION, len(name)])
        + name
        + message_id
        + suite._derive(data_key, message_id, b"COMMITKEY", COMMITMENT_SIZE)
        + nonce
        + struct.pack(">H", 1)
    )
    aead_key = suite._derive(data_key, message_id, b"DERIVEKEY", suite._aead_key_size)

    def plaintext(i: int, body: bytes) -> bytes:
        letter = b"%PDF-1.7 bid " + f"{i:08d}".encode() + b" " * 4000
        return package.build(
            {"技术标.pdf": body, "投标函.pdf": letter},
            {"price": f"{10_000_000 + i}.00", "duration_days": 360},
            tool="bench",
            machine="0" * 64,
        )

    def envelope(recipient: bytes, data: bytes) -> bytes:
        # Suite.seal, with the data key, message id and nonce fixed (see the module docstring).
        wrapped = suite._wrap(recipient, data_key)
        header = prefix + suite.key_id(recipient) + struct.pack(">H", len(wrapped)) + wrapped
        return header + suite._aead_encrypt(aead_key, nonce, data, header + aad)

    # The body length that makes the envelope exactly ``size`` bytes.
    probe = suite.generate_encryption_key().public
    body_len = size
    for _ in range(4):
        overhead = len(envelope(probe, plaintext(0, b"\0" * body_len))) - body_len
        if body_len == size - overhead:
            break
        body_len = size - overhead
    if body_len <= 0:
        sys.exit(f"--mib is too small: a package and its envelope need {overhead} bytes")
    body = os.urandom(body_len)

    base = b""
    bids, keys = [], []
    for i, (token, code, signing) in enumerate(bidders):
        encryption = suite.generate_encryption_key()
        data = plaintext(i, body)
        sealed = envelope(encryption.public, data)
        if i == 0:
            base = sealed
        if len(sealed) != len(base):
            sys.exit(f"bid {i} is {len(sealed)} bytes, not {len(base)}")
        patches = []
        for offset in range(0, len(sealed), BLOCK):
            block = sealed[offset : offset + BLOCK]
            if block != base[offset : offset + BLOCK]:
                if patches and patches[-1][0] + len(patches[-1][1]) == offset:
                    patches[-1] = (patches[-1][0], patches[-1][1] + block)
                else:
                    patches.append((offset, block))
        sha256 = hashlib.sha256(sealed).hexdigest()
        commitment = suite.hash(data).hex()
        message = commitment_message(tender_id, section_id, code, sha256, commitment)
        bids.append(
            Sealed(
                index=i,
                token=token,
                credit_code=code,
                sha256=sha256,
                commitment=commitment,
                signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
                public_key=base64.b64encode(signing.public).decode(),
                patches=patches,
            )
        )
        keys.append(encryption.private)

    # Each bid is a valid envelope: rebuild two from base + blocks and open them.
    for i in sorted({0, n - 1}):
        rebuilt = assemble(base, bids[i].patches)
        assert hashlib.sha256(rebuilt).hexdigest() == bids[i].sha256
        parse_envelope(rebuilt)
        opened = package.read(suite.open(keys[i], rebuilt, aad))
        assert str(opened.price) == f"{10_000_000 + i}.00", opened.price
    patch_bytes = sum(len(d) for b in bids for _o, d in b.patches)
    return base, bids, {"patch_bytes": patch_bytes}


# --- the platform: data through the services, then the server -------------------------------------


def make_platform(n: int, run: str) -> tuple[int, int, list[tuple[str, str, Any]], str]:
    """Centre, tenderer, a published one-section tender, and ``n`` bidders with tokens who obtained
    the documents. Returns the tender id, section id, [(token, credit code)], and the engine."""
    import datetime as dt

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from openbid.accounts import services as accounts
    from openbid.accounts.credit_code import generate_credit_code
    from openbid.accounts.models import Organisation
    from openbid.accounts.roles import OrgType, Role
    from openbid.core import clock, workdays
    from openbid.crypto.suites import get_suite
    from openbid.demo import _certify, _trust_demo_ca
    from openbid.tendering import services as tendering
    from openbid.tendering.models import Tender

    # Fast password hashing, as the tests do: the bidders' people sign in with tokens only, and
    # PBKDF2 for N people would dominate the setup.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]

    serial = iter(range(int(run, 16) % 9_000_000, 10_000_000))

    def code(authority: str = "9") -> str:
        return generate_credit_code(authority, "1", "330100", f"MA{next(serial):07d}")

    # Publish with the clock two hours back, so that document issue (from one hour after
    # publication) is open now; the deadline is some 25 days ahead.
    real_now = clock.now()
    clock.freeze(real_now - dt.timedelta(hours=2))
    try:
        if not Organisation.objects.filter(org_type=OrgType.TRADING_CENTRE).exists():
            centre = accounts.create_public_body(
                None,
                name="基准测试公共资源交易中心",
                credit_code=code("1"),
                org_type=OrgType.TRADING_CENTRE,
                region_code="330100",
            )
            staff = accounts.add_person(
                None,
                centre,
                username=f"centre-{run}",
                password=PASSWORD,
                role=Role.CENTRE_STAFF,
                is_admin=True,
            ).user
            # Bids must be signed with a registered certificate's key: trust the demo CA.
            _trust_demo_ca(staff, "330100")
        _org, tenderer = accounts.register_market_entity(
            name=f"基准招标人{run}有限公司",
            credit_code=code(),
            org_type=OrgType.TENDERER,
            region_code="330100",
            admin_username=f"tenderer-{run}",
            admin_password=PASSWORD,
            accept_commitment=True,
        )
        project = tendering.register_project(
            tenderer,
            code=f"2026-330100-48-01-{int(run, 16) % 1_000_000:06d}",
            name=f"基准道路改造工程{run}",
            region_code="330100",
            industry="municipal",
            funding_source="budget",
            state_funding_percent="100",
            estimated_investment="50000000",
            approval_ref="杭发改审批〔2026〕12号",
        )
        start = clock.now() + dt.timedelta(hours=1)
        local = start.astimezone(dt.timezone(dt.timedelta(hours=8)))
        day = workdays.working_day_on_or_after(local.date() + dt.timedelta(days=25))
        deadline = local.replace(
            year=day.year, month=day.month, day=day.day, hour=9, minute=30, second=0, microsecond=0
        )
        tender = tendering.create_tender(
            tenderer,
            project,
            title="基准道路改造工程施工招标",
            kind=Tender.Kind.WORKS,
            method=Tender.Method.OPEN,
            evaluation_method=Tender.Evaluation.LOWEST_PRICE,
            deposit_form=Tender.DepositForm.CASH_OR_GUARANTEE,
            qualification="具备市政公用工程施工总承包二级及以上资质",
            doc_issue_start=start,
            doc_issue_end=start + dt.timedelta(days=7),
            question_deadline=deadline - dt.timedelta(days=10),
            bid_deadline=deadline,
            sections=[
                {
                    "name": "一标段 道路工程",
                    "estimated_price": "20000000",
                    "ceiling_price": "21000000",
                    "deposit": "400000",
                }
            ],
        )
        tendering.upload_document(
            tenderer,
            tender,
            SimpleUploadedFile("招标文件.pdf", PDF, content_type="application/pdf"),
        )
        tendering.publish_tender(tenderer, tender)
    finally:
        clock.unfreeze()
    tender.refresh_from_db()
    section = tender.sections.get()

    bidders = []
    suite = get_suite("intl-2026")
    for i in range(n):
        credit_code = code()
        org, user = accounts.register_market_entity(
            name=f"基准投标人{run}-{i}有限公司",
            credit_code=credit_code,
            org_type=OrgType.BIDDER,
            region_code="330100",
            admin_username=f"bidder-{run}-{i}",
            admin_password=PASSWORD,
            accept_commitment=True,
        )
        tendering.obtain_documents(user, tender)
        _token, raw = accounts.issue_api_token(user, name="deadline surge bench")
        signing = suite.generate_signing_key()
        _certify(user, org, signing)
        bidders.append((raw, credit_code, signing))
    return tender.pk, section.pk, bidders, engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "openbid.cli", "serve", "--no-worker"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=out)
    limit = time.monotonic() + 120
    while time.monotonic() < limit:
        if server.poll() is not None:
            sys.exit(f"the server exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        conn = connect(port)
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _body = request(conn, "GET", "/api/v1/ledger/key")
            if status == 200:  # this also makes the server generate its log key before the surge
                conn.close()
                return server
        conn.close()
        time.sleep(0.2)
    stop_server(server)
    sys.exit(f"the server did not answer within 120 s:\n{log.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of a process, by thread id."""
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


# --- HTTP ------------------------------------------------------------------------------------------


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: dict[str, Any] | None = None,
    raw: list[Any] | None = None,
    length: int = 0,
) -> tuple[int, Any]:
    """One request on a keep-alive connection; ``raw`` pieces are sent as they are (no copy)."""
    conn.putrequest(method, path, skip_accept_encoding=True)
    conn.putheader("Accept", "application/json")
    if token:
        conn.putheader("Authorization", f"Bearer {token}")
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(data)))
    elif raw is not None:
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(length))
    conn.endheaders()
    if data:
        conn.send(data)
    for piece in raw or ():
        conn.send(piece)
    response = conn.getresponse()
    payload = response.read()
    try:
        return response.status, json.loads(payload) if payload else None
    except ValueError:
        return response.status, {"error": {"message": payload[:200].decode("utf-8", "replace")}}


def describe(status: int, answer: Any) -> str:
    error = (answer or {}).get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):
        rule = f" [{error['rule']}]" if error.get("rule") else ""
        return f"HTTP {status}{rule}: {error.get('message')}"
    return f"HTTP {status}: {str(answer)[:200]}"


# --- the surge -------------------------------------------------------------------------------------


class Worker:
    """One client thread's keep-alive connection, reopened after a network failure."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def call(self, outcome: Outcome, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        for attempt in range(NETWORK_RETRIES + 1):
            if self.conn is None:
                self.conn = connect(self.port)
            try:
                return request(self.conn, method, path, **kwargs)
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == NETWORK_RETRIES:
                    raise
                outcome.retries += 1
                time.sleep(min(2**attempt, 8) * 0.25)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def submit(worker: Worker, base: bytes, bid: Sealed, section_id: int, outcome: Outcome) -> None:
    size = len(base)
    outcome.started = time.perf_counter()
    status, answer = worker.call(
        outcome,
        "POST",
        f"/api/v1/sections/{section_id}/uploads",
        token=bid.token,
        body={"size": size, "sha256": bid.sha256},
    )
    outcome.start_time = time.perf_counter() - outcome.started
    if status != 201:
        outcome.error = f"start: {describe(status, answer)}"
        return
    upload_id, chunk = answer["upload_id"], int(answer["chunk_bytes"])
    received, conflicts = int(answer["received"]), 0
    while received < size:
        end = min(received + chunk, size)
        t = time.perf_counter()
        status, answer = worker.call(
            outcome,
            "PUT",
            f"/api/v1/uploads/{upload_id}?offset={received}",
            token=bid.token,
            raw=list(pieces(base, bid.patches, received, end)),
            length=end - received,
        )
        outcome.put_times.append(time.perf_counter() - t)
        outcome.bytes_sent += end - received
        if status == 409 and (answer or {}).get("error", {}).get("rule") == "upload_offset":
            conflicts += 1  # a chunk whose answer was lost: resume where the platform stands
            status, answer = worker.call(
                outcome, "GET", f"/api/v1/uploads/{upload_id}", token=bid.token
            )
            if status != 200 or conflicts > 3:
                outcome.error = f"resume: {describe(status, answer)}"
                return
        elif status != 200:
            outcome.error = f"chunk at {received}: {describe(status, answer)}"
            return
        received = int(answer["received"])
    outcome.last_chunk = time.perf_counter()
    status, answer = worker.call(
        outcome,
        "POST",
        f"/api/v1/uploads/{upload_id}/commit",
        token=bid.token,
        body={
            "suite": SUITE,
            "commitment": bid.commitment,
            "signature": bid.signature,
            "public_key": bid.public_key,
        },
    )
    if status not in (200, 201):
        outcome.error = f"commit: {describe(status, answer)}"
        return
    outcome.receipt_at = time.perf_counter()
    outcome.receipt = answer["receipt"]


def surge(
    port: int,
    base: bytes,
    bids: list[Sealed],
    section_id: int,
    window: float,
    concurrency: int,
    time_limit: float,
) -> list[Outcome]:
    n = len(bids)
    t0 = time.perf_counter() + 0.5
    outcomes = [Outcome(i, t0 + (i * window / (n - 1) if n > 1 else 0.0)) for i in range(n)]
    lock = threading.Lock()
    queue = iter(range(n))
    stop_at = t0 + time_limit

    def run() -> None:
        worker = Worker(port)
        try:
            while True:
                with lock:
                    i = next(queue, None)
                if i is None:
                    return
                outcome = outcomes[i]
                time.sleep(max(0.0, outcome.scheduled - time.perf_counter()))
                if time.perf_counter() > stop_at:
                    outcome.error = "not started: the time limit passed"
                    continue
                try:
                    submit(worker, base, bids[i], section_id, outcome)
                except (OSError, http.client.HTTPException) as exc:
                    outcome.error = f"network: {type(exc).__name__}: {exc}"
        finally:
            worker.close()

    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(run) for _ in range(concurrency)]:
            future.result()
    return outcomes


# --- the baseline ----------------------------------------------------------------------------------


def disk_baseline(
    folder: Path, base: bytes, bids: list[Sealed], chunk: int, concurrency: int
) -> float:
    """Seconds to write every bid to its own file, chunk by chunk, fsync after each chunk."""
    folder.mkdir()
    size = len(base)
    os.sync()  # start from a clean page cache: nothing of the setup left to write back

    def write(bid: Sealed) -> None:
        fd = os.open(folder / f"{bid.index}.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for start in range(0, size, chunk):
                for piece in pieces(base, bid.patches, start, min(start + chunk, size)):
                    view = memoryview(piece)
                    while view:
                        view = view[os.write(fd, view) :]
                os.fsync(fd)
        finally:
            os.close(fd)

    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(write, bids))
    seconds = time.perf_counter() - t
    shutil.rmtree(folder)
    os.sync()
    return seconds


# --- reporting -------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def verify_receipts(port: int, bids: list[Sealed], outcomes: list[Outcome]) -> list[str]:
    """Problems with the receipts: each must verify with the published key and name its bid."""
    from openbid.ledger.note import NoteError, parse_verifier_key, verify_note

    conn = connect(port)
    status, answer = request(conn, "GET", "/api/v1/ledger/key")
    conn.close()
    assert status == 200, answer
    verifier = parse_verifier_key(answer["verifier_key"])
    problems = []
    for bid, outcome in zip(bids, outcomes, strict=True):
        if outcome.receipt is None:
            continue
        try:
            text = verify_note(outcome.receipt, [verifier]).text
        except NoteError as exc:
            problems.append(f"bid {bid.index}: the receipt does not verify ({exc})")
            continue
        fields = dict(line.partition(" ")[::2] for line in text.splitlines()[1:])
        expected = {
            "bidder": bid.credit_code,
            "ciphertext-sha256": bid.sha256,
            "commitment": bid.commitment,
            "suite": SUITE,
        }
        wrong = [k for k, v in expected.items() if fields.get(k) != v]
        if not text.startswith("openbid bid receipt v1\n") or wrong:
            problems.append(f"bid {bid.index}: the receipt names another {', '.join(wrong)}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bidders", type=int, default=300)
    parser.add_argument("--mib", type=float, default=10)
    parser.add_argument("--window", type=float, default=60, help="seconds; 0: all at once")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--threads", type=int, default=8, help="the server's (waitress) threads")
    parser.add_argument(
        "--time-limit", type=float, default=900, help="seconds after which no bidder starts"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary OPENBID_HOME")
    args = parser.parse_args()
    if args.bidders < 1 or args.concurrency < 1 or args.window < 0 or args.mib <= 0:
        parser.error("--bidders, --concurrency and --mib must be positive, --window at least 0")

    home = Path(tempfile.mkdtemp(prefix="openbid-bench-"))
    os.environ["OPENBID_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbid.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from openbid.bidding import services
    from openbid.bidding.models import Bid

    n, size = args.bidders, int(args.mib * 2**20)
    run = os.urandom(3).hex()
    server = None
    try:
        t = time.perf_counter()
        tender_id, section_id, bidders, engine = make_platform(n, run)
        connection.close()
        platform_seconds = time.perf_counter() - t
        t = time.perf_counter()
        base, bids, info = seal_all(n, size, section_id, tender_id, bidders)
        print(
            f"database: {engine}; {n} bidders x {size:,} bytes; window {args.window:g} s; "
            f"{args.concurrency} client connections; server threads {args.threads}"
        )
        print(
            f"setup (not timed): platform data {platform_seconds:.1f} s, sealing "
            f"{time.perf_counter() - t:.1f} s (per-bid blocks {info['patch_bytes'] / 2**20:.1f} MiB)"
        )

        port = free_port()
        log = home / "server.log"
        server = start_server(port, args.threads, log)

        disk_seconds = disk_baseline(
            home / "baseline", base, bids, services.CHUNK_BYTES, args.concurrency
        )

        server_cpu = cpu_seconds(server.pid)
        client_cpu = time.process_time()
        t = time.perf_counter()
        outcomes = surge(
            port, base, bids, section_id, args.window, args.concurrency, args.time_limit
        )
        wall = time.perf_counter() - t
        after = cpu_seconds(server.pid)
        # The main thread runs waitress's I/O loop (it reads every request body); the others
        # are its request threads (Django).
        io_cpu = after.get(server.pid, 0.0) - server_cpu.get(server.pid, 0.0)
        app_cpu = sum(after.values()) - sum(server_cpu.values()) - io_cpu
        client_cpu = time.process_time() - client_cpu
        problems = verify_receipts(port, bids, outcomes)
    finally:
        if server is not None:
            stop_server(server)

    # What the platform holds afterwards (read after the server stopped).
    stored_bids = Bid.objects.filter(section_id=section_id).count()
    connection.close()
    leftover_parts = len(list((home / "uploads").glob("*.part")))
    stored = list((Path(settings.MEDIA_ROOT) / "bids").rglob("*.obenv"))
    stored_bytes = sum(p.stat().st_size for p in stored)

    done = [o for o in outcomes if o.receipt is not None]
    errors = Counter(o.error for o in outcomes if o.error)
    mib = 2**20
    print(f"receipts issued: {len(done)}/{n}   (receipts that verify: {len(done) - len(problems)})")
    for message, count in errors.most_common(10):
        print(f"  {count:4d} x {message}")
    for problem in problems[:10]:
        print(f"  {problem}")
    print(
        f"platform holds: {stored_bids} bids, {len(stored)} stored ciphertexts "
        f"({stored_bytes / mib:,.0f} MiB), {leftover_parts} partial uploads left"
    )
    starts = [o.started for o in outcomes if o.started is not None]
    if starts:
        lateness = [o.started - o.scheduled for o in outcomes if o.started is not None]
        print(
            f"window used: {max(starts) - min(starts):.1f} s (asked {args.window:g} s); a start "
            f"was at most {max(lateness):.2f} s late (median {statistics.median(lateness):.3f} s)"
        )
    if done:
        latency = [o.receipt_at - o.last_chunk for o in done]  # type: ignore[operator]
        puts = [x for o in outcomes for x in o.put_times]
        begin = [o.start_time for o in outcomes if o.start_time is not None]
        print(
            f"final chunk -> receipt: p50 {percentile(latency, 50) * 1e3:,.0f} ms, "
            f"p99 {percentile(latency, 99) * 1e3:,.0f} ms, max {max(latency) * 1e3:,.0f} ms"
        )
        print(
            f"  (start upload p50 {percentile(begin, 50) * 1e3:,.0f} ms p99 "
            f"{percentile(begin, 99) * 1e3:,.0f} ms; PUT chunk p50 {percentile(puts, 50) * 1e3:,.0f}"
            f" ms p99 {percentile(puts, 99) * 1e3:,.0f} ms; network retries "
            f"{sum(o.retries for o in outcomes)})"
        )
        first = min(starts)
        last = max(o.receipt_at for o in done)  # type: ignore[type-var]
        upload_bytes = len(done) * size
        sent = sum(o.bytes_sent for o in outcomes)
        upload_rate = upload_bytes / (last - first) / mib
        disk_rate = n * size / disk_seconds / mib
        print(f"baseline  disk, fsync per chunk : {disk_rate:9,.1f} MiB/s")
        print(
            f"surge     upload to receipt     : {upload_rate:9,.1f} MiB/s   ratio "
            f"{upload_rate / disk_rate:6.3f}   ({upload_bytes / mib:,.0f} MiB in {last - first:.1f} s;"
            f" {sent / mib:,.0f} MiB sent)"
        )
        if args.window > 0:
            offered = n * size / args.window / mib
            print(
                f"          offered load N x size / window: {offered:,.1f} MiB/s, so the ratio "
                f"cannot exceed {offered / disk_rate:.3f} here (--window 0 measures capacity)"
            )
        print(
            f"CPU during the surge ({wall:.1f} s wall, {os.cpu_count()} cores): server "
            f"{io_cpu + app_cpu:.1f} s (waitress I/O thread {io_cpu:.1f} s, request threads "
            f"{app_cpu:.1f} s), clients {client_cpu:.1f} s"
        )
    text = log.read_text(errors="replace")
    noted = Counter(
        re.sub(r"\d+", "N", line.strip())[:120]
        for line in text.splitlines()
        if line.strip() and not line.startswith("openbid is running")
    )
    if noted:
        print("server log:")
        for line, count in noted.most_common(6):
            print(f"  {count:4d} x {line}")
    if args.keep:
        print(f"kept {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)
    if len(done) - len(problems) < n:
        sys.exit(1)


if __name__ == "__main__":
    main()
