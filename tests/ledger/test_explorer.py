"""The ledger explorer (区块链浏览): search by subject or sequence number, proofs checked twice."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pytest
from django.db import transaction

from openbid.accounts import services as accounts
from openbid.core.events import record_event
from openbid.ledger import keys, services, store
from openbid.ledger.models import Entry
from tests.factories import centre_with_staff, market_entity

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "openbid" / "static" / "openbid"


def add_events(n: int) -> None:
    with transaction.atomic():
        for _ in range(n):
            i = store.size()
            record_event("test.tick", subjects=[("test", i)], payload={"i": i, "说明": "<b>&"})


def rows(content: str) -> list[str]:
    return re.findall(r"<tr data-ledger-entry.*?</tr>", content, re.S)


def test_explorer_shows_the_checkpoint_and_the_latest_events(client):
    add_events(30)
    response = client.get("/ledger/", {"lang": "en"})
    assert response.status_code == 200
    content = response.content.decode()
    latest = services.latest_checkpoint()  # issued for a platform that had none
    assert latest is not None and latest.size == 30
    assert "Ledger explorer" in content
    assert keys.log_verifier_key() in content
    assert base64.b64encode(bytes(latest.root_hash)).decode() in content
    assert html.escape(latest.note) in content
    assert "log signature" in content and "valid" in content
    found = rows(content)
    assert len(found) == 20
    assert all('data-server-result><span class="badge verified">' in r for r in found)
    assert "openbid/ledger-verify.js" in content


def test_search_by_subject_lists_its_events_with_verified_proofs(client):
    _, staff = centre_with_staff()
    org, _ = market_entity()
    add_events(5)
    accounts.verify_organisation(staff, org, note="ok")
    add_events(5)
    checkpoint = services.issue_checkpoint()
    response = client.get("/ledger/", {"subject": f"organisation:{org.pk}", "lang": "en"})
    content = response.content.decode()
    assert f"Events about organisation:{org.pk}" in content
    expected = Entry.objects.filter(
        event__subjects__kind="organisation", event__subjects__ref=str(org.pk)
    ).order_by("index")
    found = rows(content)
    assert [int(re.search(r'data-index="(\d+)"', r)[1]) for r in found] == [
        e.index for e in expected
    ]
    for row, entry in zip(found, expected, strict=True):
        # The leaf is shown byte for byte (the browser hashes what it shows) with its proof.
        leaf = html.unescape(re.search(r"<pre data-leaf[^>]*>(.*?)</pre>", row, re.S)[1])
        assert leaf.encode() == bytes(entry.leaf)
        assert bytes(entry.leaf_hash).hex() in row
        proof = re.search(r'data-proof="([^"]*)"', row)[1].split()
        expected_proof = store.TreeReader().inclusion_proof(entry.index, checkpoint.size)
        assert [base64.b64decode(p) for p in proof] == expected_proof
        assert 'class="badge verified"' in row
    same = client.get("/ledger/", {"q": f"organisation:{org.pk}"}).content.decode()
    assert len(rows(same)) == len(found)


def test_search_by_sequence_number(client):
    add_events(12)
    services.issue_checkpoint()
    add_events(1)
    content = client.get("/ledger/", {"q": "7", "lang": "en"}).content.decode()
    assert "Event at sequence number 7" in content
    assert [re.search(r'data-index="(\d+)"', r)[1] for r in rows(content)] == ["7"]
    pending = client.get("/ledger/", {"q": "12", "lang": "en"}).content.decode()
    (row,) = rows(pending)
    assert "data-pending" in row and "not yet in a checkpoint" in row
    missing = client.get("/ledger/", {"q": "99", "lang": "en"}).content.decode()
    assert "There is no event at sequence number 99" in missing
    assert rows(missing) == []


def test_a_tampered_entry_fails_the_server_check(client):
    add_events(4)
    services.issue_checkpoint()
    entry = Entry.objects.get(index=2)
    Entry.objects.filter(index=2).update(leaf=bytes(entry.leaf).replace(b'"i":2', b'"i":3'))
    (row,) = rows(client.get("/ledger/", {"q": "2", "lang": "en"}).content.decode())
    assert 'data-server-result><span class="badge suspended">FAILED' in row


def test_bad_searches_say_what_to_type(client):
    add_events(1)
    content = client.get("/ledger/", {"q": "tender 12", "lang": "en"}).content.decode()
    assert "Search for a subject as kind:id" in content
    content = client.get("/ledger/", {"q": "tender:12", "lang": "en"}).content.decode()
    assert "No events found." in content


def test_subject_paging(client, monkeypatch):
    from openbid.ledger import views

    monkeypatch.setattr(views, "EXPLORER_PAGE", 3)
    with transaction.atomic():
        for i in range(7):
            record_event("test.tick", subjects=[("lot", 1)], payload={"i": i})
    services.issue_checkpoint()
    first = client.get("/ledger/", {"q": "lot:1"}).content.decode()
    assert len(rows(first)) == 3
    assert "after=2" in first
    rest = client.get("/ledger/", {"q": "lot:1", "after": 2}).content.decode()
    assert [re.search(r'data-index="(\d+)"', r)[1] for r in rows(rest)] == ["3", "4", "5"]


@pytest.mark.browser
def test_the_browser_verifies_each_proof(client):
    """Headless Chromium runs ledger-verify.js on the rendered page (served as localhost, a
    secure context, so WebCrypto is available); one leaf is altered on the page to fail."""
    import os

    chromium = Path(os.environ.get("OPENBID_CHROMIUM", "/usr/bin/chromium"))
    if not chromium.exists():
        pytest.skip(f"{chromium} is not installed")
    from playwright.sync_api import sync_playwright

    add_events(300)
    services.issue_checkpoint()
    add_events(2)
    page_html = client.get("/ledger/", {"lang": "en"}).content.decode()
    tampered = page_html.replace("&quot;i&quot;:290", "&quot;i&quot;:291", 1)
    assert tampered != page_html
    script = (STATIC / "ledger-verify.js").read_text()

    def serve(route):
        url = route.request.url
        if url.endswith(".js"):
            route.fulfill(body=script, content_type="text/javascript")
        elif "tampered" in url:
            route.fulfill(body=tampered, content_type="text/html; charset=utf-8")
        elif url.endswith("/ledger/"):
            route.fulfill(body=page_html, content_type="text/html; charset=utf-8")
        else:
            route.fulfill(status=404, body="")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route("http://localhost/**", serve)
            page.goto("http://localhost/ledger/")
            page.wait_for_function(
                "document.querySelectorAll('tr[data-browser-verified]').length === 20"
            )
            states = page.eval_on_selector_all(
                "tr[data-ledger-entry]",
                "rows => rows.map(r => [r.dataset.index, r.dataset.browserVerified])",
            )
            assert len(states) == 20
            assert {index: state for index, state in states} == {
                **{str(i): "verified" for i in range(282, 300)},
                "300": "pending",
                "301": "pending",
            }
            page.goto("http://localhost/ledger/tampered/")
            page.wait_for_function(
                "document.querySelectorAll('tr[data-browser-verified]').length === 20"
            )
            verdicts = dict(
                page.eval_on_selector_all(
                    "tr[data-ledger-entry]",
                    "rows => rows.map(r => [r.dataset.index, r.dataset.browserVerified])",
                )
            )
            assert verdicts["290"] == "failed"
            assert verdicts["289"] == "verified"
        finally:
            browser.close()
