"""`openbid serve --demo` from a clean home: migrates, loads the demo, serves pages and the API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str, str]:
    """Status, body, and every Set-Cookie header of a GET on the loopback server."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        cookies = "; ".join(response.headers.get_all("Set-Cookie") or [])
        return response.status, response.read().decode(), cookies


@pytest.fixture
def served(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(OPENBID_HOME=str(tmp_path), OPENBID_CLOCK_INTERVAL="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "openbid.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _get(base + "/api/v1/rules")
            break
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.3)
    try:
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_serve_demo_answers_in_chinese_english_and_openapi(served):
    base, process = served
    assert process.poll() is None, process.stdout.read() if process.stdout else ""
    status, zh, _ = _get(base + "/")
    assert status == 200
    assert '<html lang="zh-hans">' in zh
    assert "电子招标投标交易平台" in zh
    status, en, cookies = _get(base + "/?lang=en")
    assert '<html lang="en">' in en
    assert "Electronic tendering and bidding platform" in en
    assert "openbid_language=en" in cookies
    status, schema, _ = _get(base + "/api/v1/openapi.json")
    assert status == 200
    assert '"openapi": "3.' in schema or '"openapi":"3.' in schema
    status, stylesheet, _ = _get(base + "/static/openbid/site.css")
    assert status == 200 and "--brand" in stylesheet
    status, registry, _ = _get(base + "/organisations/")
    assert "第一建设工程有限公司" in registry  # the demo data is there
    process.terminate()
    output, _ = process.communicate(timeout=20)
    assert "openbid is running at http://127.0.0.1:" in output
    assert "login bidder1" in output
    assert "openbid-demo-2026" in output
