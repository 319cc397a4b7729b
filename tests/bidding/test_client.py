"""``openbid-bidder`` end to end against a live server: keygen → pack → seal → submit (killed
half-way, then resumed) → verify-receipt; and the CSR, open and refusal paths."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from openbid.accounts.services import issue_api_token
from openbid.bidding import client, package, services
from openbid.bidding.models import Bid, BidUpload
from openbid.crypto import _der, sm
from openbid.crypto.suites import KeyUse, get_suite
from openbid.crypto.testca import TestCA, to_pem
from openbid.opening.aad import bid_aad
from openbid.tendering import services as tendering
from tests.certificates import certify
from tests.factories import credit_code, market_entity
from tests.opening import helpers as opening
from tests.tendering.factories import published_tender

SUITE = "intl-2026"


def run(capsys: Any, *argv: Any) -> tuple[int, str, str]:
    code = client.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def bid_folder(tmp_path: Path, price: str = "8765432.10") -> tuple[Path, Path]:
    folder = tmp_path / "bid"
    (folder / "资格").mkdir(parents=True)
    (folder / "投标函.pdf").write_bytes(b"%PDF-1.7 letter of bid")
    (folder / "资格" / "营业执照.pdf").write_bytes(b"%PDF-1.7 licence" * 2000)
    form = tmp_path / "form.json"
    form.write_text(f'{{"price": {price}, "duration_days": 300, "quality": "合格"}}')
    return folder, form


def prepare(
    capsys: Any,
    tmp_path: Path,
    section_id: int,
    suite: str = SUITE,
    *,
    owner: tuple[Any, Any] | None = None,
) -> Path:
    """keygen, pack and seal; with ``owner`` (user, organisation), the user registers a signing
    certificate for the new signing key, as a bidder does before submitting."""
    keys, out = tmp_path / "keys", tmp_path / "out"
    assert run(capsys, "keygen", "--suite", suite, "--out", keys)[0] == 0
    if owner is not None:
        public = get_suite(suite).public_key_from_pem(
            (keys / "signing.pub").read_bytes(), KeyUse.SIGNING
        )
        certify(owner[0], owner[1], suite, public)
    folder, form = bid_folder(tmp_path)
    out.mkdir()
    assert run(capsys, "pack", folder, "--form", form, "--out", out / "bid.zip")[0] == 0
    code, _out, err = run(
        capsys,
        *("seal", out / "bid.zip", "--suite", suite, "--to", keys / "encryption.pub"),
        *("--sign", keys / "signing.key", "--section-aad", section_id, "--out", out / "bid.obenv"),
    )
    assert code == 0, err
    return out / "bid.obenv"


@pytest.mark.django_db(transaction=True)
def test_keygen_pack_seal_submit_interrupted_resume_verify(
    live_server, clock, tmp_path, capsys, monkeypatch
):
    tender, _manager = published_tender()
    clock.advance(hours=2)
    org, user = market_entity()
    tendering.obtain_documents(user, tender)
    section = tender.sections.order_by("number").first()
    _token, token = issue_api_token(user, name="openbid-bidder")
    monkeypatch.setenv("OPENBID_TOKEN", token)
    monkeypatch.setattr(services, "CHUNK_BYTES", 4096)  # several chunks for a small bid

    envelope = prepare(capsys, tmp_path, section.pk, owner=(user, org))
    keys = tmp_path / "keys"
    for name in ("signing.key", "encryption.key"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    assert (keys / "encryption.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    sealed = json.loads((tmp_path / "out" / "bid.obenv.json").read_text())
    assert sealed["section"] == section.pk and sealed["suite"] == SUITE
    manifest = package.read((tmp_path / "out" / "bid.zip").read_bytes()).manifest
    assert manifest["form"] == {"price": "8765432.10", "duration_days": 300, "quality": "合格"}
    assert len(manifest["authoring"]["machine"]) == 64
    assert manifest["authoring"]["tool"].startswith("openbid-bidder ")
    size = envelope.stat().st_size
    assert size > 3 * 4096

    # The connection dies on the third chunk: the client stops, keeping the upload id.
    real_call = client.Api.call
    puts: list[str] = []

    def flaky(self: client.Api, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        if method == "PUT":
            puts.append(path)
            if len(puts) == 3:
                raise client.Interrupted("connection reset by peer")
        return real_call(self, method, path, *args, **kwargs)

    monkeypatch.setattr(client.Api, "call", flaky)
    submit = (
        *("submit", envelope, "--url", live_server.url, "--section", section.pk),
        *("--sign", keys / "signing.key", "--retries", 0),
    )
    code, _out, err = run(capsys, *submit)
    assert code == 3, err
    assert "8192 of" in err and "run the same submit command again" in err
    assert "[" in err and "%" in err  # the progress bar
    upload = BidUpload.objects.get()
    assert upload.received == 8192 and not Bid.objects.exists()
    state = json.loads((tmp_path / "out" / "bid.obenv.upload.json").read_text())
    assert state["upload_id"] == str(upload.pk)

    # Run again: it resumes at the platform's offset and commits.
    monkeypatch.setattr(client.Api, "call", real_call)
    code, out, err = run(capsys, *submit)
    assert code == 0, err
    assert "resuming at byte 8192" in err
    bid = Bid.objects.get()
    assert BidUpload.objects.count() == 1
    assert bid.ciphertext.read() == envelope.read_bytes()
    assert bid.organisation == org and bid.commitment == sealed["commitment"]
    receipt = tmp_path / "out" / "bid.receipt"
    assert receipt.read_text() == bid.receipt and f"bid {bid.pk}" in out

    # Running submit once more (the answer was lost, say) gives the same bid.
    assert run(capsys, *submit)[0] == 0
    assert Bid.objects.count() == 1

    code, out, err = run(capsys, "verify-receipt", receipt, "--url", live_server.url)
    assert code == 0, err
    assert "genuine" in out
    forged = tmp_path / "forged.receipt"
    text = receipt.read_text()
    forged.write_text(text.replace(f"\nsection {section.pk}\n", f"\nsection {section.pk + 1}\n"))
    assert forged.read_text() != text
    code, out, _err = run(capsys, "verify-receipt", forged, "--url", live_server.url)
    assert code == 1 and "NOT GENUINE" in out

    # At the opening: the data key, unwrapped here, opens the bid; a wrong key does not.
    code, out, err = run(capsys, "open", envelope, "--key", keys / "encryption.key")
    assert code == 0, err
    released = json.loads((tmp_path / "out" / "bid.obenv.datakey.json").read_text())
    assert len(base64.b64decode(released["data_key"])) == 32
    assert released["commitment"] == bid.commitment
    code, _out, err = run(capsys, "open", envelope, "--key", keys / "signing.key")
    assert code == 2 and "encryption private key" in err

    code, out, err = run(capsys, "withdraw", "--bid", bid.pk, "--url", live_server.url)
    assert code == 0, err
    code, out, _err = run(capsys, "verify-receipt", receipt, "--url", live_server.url)
    assert code == 2 and "撤回" in out  # the platform's answer, in its default language


@pytest.mark.django_db(transaction=True)
def test_open_releases_the_data_key_at_the_opening(
    live_server, clock, tmp_path, capsys, monkeypatch
):
    tender, _manager = opening.one_section_tender()
    section = tender.sections.get()
    for _ in range(2):  # the opening needs three bids
        org, user = opening.bidder(tender, clock)
        opening.submit(user, org, section, opening.bid_package())
    mine, user = opening.bidder(tender, clock)
    monkeypatch.setenv("OPENBID_TOKEN", issue_api_token(user, name="cli")[1])
    envelope = prepare(capsys, tmp_path, section.pk, owner=(user, mine))
    keys = tmp_path / "keys"
    url = ("--url", live_server.url)
    assert run(capsys, "submit", envelope, *url, "--sign", keys / "signing.key")[0] == 0
    bid = Bid.objects.get(organisation=mine)

    # Before the deadline the platform refuses the key; nothing is released.
    code, _out, err = run(capsys, "open", envelope, "--key", keys / "encryption.key", *url)
    assert code == 1 and "opening_started" in err
    clock.set(tender.bid_deadline)
    code, out, err = run(capsys, "open", envelope, "--key", keys / "encryption.key", *url)
    assert code == 0, err
    assert f"bid {bid.pk} opened: price 8765432.10, duration 300 days" in out
    assert bid.opening.status == "opened"


@pytest.mark.django_db(transaction=True)
def test_submit_refusals_are_reported(live_server, clock, tmp_path, capsys, monkeypatch):
    tender, _manager = published_tender()
    clock.advance(hours=2)
    _org, user = market_entity()
    tendering.obtain_documents(user, tender)
    first, second = tender.sections.order_by("number")
    monkeypatch.setenv("OPENBID_TOKEN", issue_api_token(user, name="cli")[1])
    envelope = prepare(capsys, tmp_path, first.pk)
    sign = ("--sign", tmp_path / "keys" / "signing.key")

    code, _out, err = run(
        capsys, "submit", envelope, "--url", live_server.url, "--section", second.pk, *sign
    )
    assert code == 2 and "sealed for section" in err

    clock.set(tender.bid_deadline)
    code, _out, err = run(capsys, "submit", envelope, "--url", live_server.url, *sign)
    assert code == 1 and "late_bid_refused" in err
    assert not Bid.objects.exists()

    monkeypatch.setenv("OPENBID_TOKEN", "obt_not-a-token")
    code, _out, err = run(capsys, "submit", envelope, "--url", live_server.url, *sign)
    assert code == 2 and "OPENBID_TOKEN" in err


@pytest.mark.parametrize("suite", ["intl-2026", "sm-2026"])
def test_csr_names_the_person_and_the_credit_code(tmp_path, capsys, suite):
    code = credit_code()
    keys = tmp_path / "keys"
    assert run(capsys, "keygen", "--suite", suite, "--out", keys)[0] == 0
    out = tmp_path / "signing.csr"
    result, _out, err = run(
        capsys,
        *("csr", "--suite", suite, "--key", keys / "signing.key", "--name", "张三"),
        *("--credit-code", code, "--org-name", "测试建设有限公司", "--out", out),
    )
    assert result == 0, err
    pem = out.read_bytes()
    request = x509.load_pem_x509_csr(pem)
    assert request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张三"
    identifier = request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    assert identifier[0].value == f"NTRCN-{code}"
    if suite == "intl-2026":
        assert request.is_signature_valid
        return
    # SM2: cryptography parses the request but cannot verify it; check it with openbid.crypto.sm.
    parts = _der.children(_der.parse(_der.from_pem(pem, "CERTIFICATE REQUEST"), _der.SEQUENCE))
    info = _der.encode(*parts[0])
    spki = _der.children(parts[0][1])[2]
    public = sm.public_key_from_pem(_der.to_pem(_der.encode(*spki), "PUBLIC KEY"))
    assert public == sm.public_key_from_private(
        sm.private_key_from_pem((keys / "signing.key").read_bytes())
    )
    assert sm.verify(public, info, sm.signature_from_der(parts[2][1][1:]))

    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    result, _out, err = run(
        capsys,
        *("csr", "--suite", suite, "--key", keys / "signing.key", "--name", "x"),
        *("--credit-code", wrong, "--out", tmp_path / "x.csr"),
    )
    assert result == 2 and "GB 32100" in err


@pytest.mark.parametrize("suite", ["intl-2026", "sm-2026"])
def test_seal_to_an_escrow_custodians_certificate(tmp_path, capsys, suite):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ca = TestCA.create_root("测试 CA", seed="escrow-ca", not_before=start)
    custodian = ca.issue_person("托管人", None, seed="custodian", not_before=start, suite=suite)
    certificate = tmp_path / "escrow.crt"
    certificate.write_text(to_pem(custodian.encryption_certificate))
    signing_certificate = tmp_path / "escrow-signing.crt"
    signing_certificate.write_text(to_pem(custodian.signing_certificate))
    keys = tmp_path / "keys"
    run(capsys, "keygen", "--suite", suite, "--out", keys)
    folder, form = bid_folder(tmp_path)
    run(capsys, "pack", folder, "--form", form, "--out", tmp_path / "b.zip")
    seal = ("seal", tmp_path / "b.zip", "--suite", suite, "--section", 5, "--to")
    own = keys / "encryption.pub"
    code, _out, err = run(capsys, *seal, own, "--to", certificate, "--out", tmp_path / "b.obenv")
    assert code == 0, err
    envelope = (tmp_path / "b.obenv").read_bytes()
    opened = get_suite(suite).open(custodian.encryption_key.private, envelope, bid_aad(5))
    assert opened == (tmp_path / "b.zip").read_bytes()
    if suite == "intl-2026":  # an Ed25519 signing certificate is no encryption key
        code, _out, err = run(
            capsys, *seal, own, "--to", signing_certificate, "--out", tmp_path / "c.obenv"
        )
        assert code == 2 and "encryption key" in err


def test_seal_and_pack_refusals(tmp_path, capsys):
    keys = tmp_path / "keys"
    run(capsys, "keygen", "--out", keys)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    seal = ("--section", 1, "--out", tmp_path / "x.obenv")
    code, _out, err = run(capsys, "seal", junk, "--to", keys / "encryption.pub", *seal)
    assert code == 2 and "not a bid package" in err
    folder, form = bid_folder(tmp_path)
    assert run(capsys, "pack", folder, "--form", form, "--out", tmp_path / "b.zip")[0] == 0
    code, _out, err = run(capsys, "seal", tmp_path / "b.zip", "--to", keys / "signing.pub", *seal)
    assert code == 2 and "encryption public key" in err
    code, _out, err = run(capsys, "pack", folder, "--form", form, "--out", tmp_path / "b.zip")
    assert code == 2 and "--force" in err
    form.write_text('{"price": -5}')
    code, _out, err = run(capsys, "pack", folder, "--form", form, "--out", tmp_path / "c.zip")
    assert code == 2 and "price" in err
    assert not (tmp_path / "x.obenv").exists()


@pytest.mark.django_db(transaction=True)
def test_sealing_reads_the_tender_and_saves_the_escrow_key(live_server, clock, tmp_path, capsys):
    from tests.opening.test_escrow import escrowed_tender

    tender, _manager, people, record = escrowed_tender()
    pem = tmp_path / "escrow.pub"
    code, out, err = run(
        capsys, "sealing", "--url", live_server.url, "--tender", tender.pk, "--escrow-out", pem
    )
    assert code == 0, err
    assert "suite: intl-2026" in out and "2 of 3 custodians" in out
    assert record.key_id.hex() in out and people[0].org.name in out
    public = get_suite(SUITE).public_key_from_pem(pem.read_bytes(), KeyUse.ENCRYPTION)
    assert public == record.public_key
    # The saved key is what "seal --to" takes: the escrow can then open the bid.
    keys = tmp_path / "keys"
    run(capsys, "keygen", "--out", keys)
    folder, form = bid_folder(tmp_path)
    run(capsys, "pack", folder, "--form", form, "--out", tmp_path / "b.zip")
    code, _out, err = run(
        capsys,
        *("seal", tmp_path / "b.zip", "--section", 1, "--to", keys / "encryption.pub"),
        *("--to", pem, "--out", tmp_path / "b.obenv"),
    )
    assert code == 0, err
    sealed = json.loads((tmp_path / "b.obenv.json").read_text())
    assert record.key_id.hex() in sealed["recipients"]
    code, _out, err = run(
        capsys, "sealing", "--url", live_server.url, "--tender", tender.pk, "--escrow-out", pem
    )
    assert code == 2 and "exists" in err  # never overwritten without --force
