"""The deposit pages and API, end to end through HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openbid.deposits import guarantees, testissuer
from openbid.deposits.models import BasicAccount, CreditLine, Guarantee, Refund, SubAccount
from tests.certificates import test_ca, trust_test_ca
from tests.deposits.helpers import BANK, at, line, statement, tender
from tests.factories import credit_code
from tests.opening.helpers import bidder

pytestmark = pytest.mark.django_db

A = "6222020200112233445"
EN = {"openbid_language": "en"}


def _login(client, user):
    client.force_login(user)
    client.cookies["openbid_language"] = "en"


def test_bidder_page_register_account_and_see_sub_account(client, clock):
    t, _manager = tender()
    org, user = bidder(t, clock)
    _login(client, user)
    page = client.get("/deposits/")
    assert page.status_code == 200
    sub = SubAccount.objects.get(organisation=org)
    assert sub.number in page.content.decode()
    assert "200000.00" in page.content.decode()
    bad = client.post(
        "/deposits/basic-account/",
        {"bank_name": "工行", "account_name": "别人", "account_number": A},
    )
    assert bad.status_code == 422 and not BasicAccount.objects.exists()
    ok = client.post(
        "/deposits/basic-account/",
        {"bank_name": "工行", "account_name": org.name, "account_number": A},
    )
    assert ok.status_code == 302 and BasicAccount.objects.get().account_number == A


def test_staff_page_import_export(client, clock, staff):
    t, _manager = tender()
    org, user = bidder(t, clock)
    from openbid.deposits import services

    services.register_basic_account(user, bank_name="工行", account_name=org.name, account_number=A)
    sub = SubAccount.objects.get(organisation=org)
    _login(client, staff)
    assert client.get("/deposits/staff/").status_code == 200
    data = statement(line("S1", "2026-03-10T10:00:00+08:00", "200000.00", sub.number, A))
    response = client.post(
        "/deposits/staff/import/",
        {"bank": BANK, "file": SimpleUploadedFile("s.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 302
    assert CreditLine.objects.get().match == "accepted"
    bad = client.post(
        "/deposits/staff/import/",
        {"bank": BANK, "file": SimpleUploadedFile("s.csv", b"x,y\r\n1,2\r\n")},
    )
    assert bad.status_code == 422
    clock.set(at("2026-04-08 10:00"))
    services.result_published(t, [], at("2026-04-08 10:00"))
    assert client.post("/deposits/staff/export/").status_code == 302
    refund = Refund.objects.get()
    assert refund.status == "exported"
    batch_csv = client.get(f"/deposits/staff/batches/{refund.batch_id}.csv")
    assert batch_csv.status_code == 200 and A in batch_csv.content.decode()
    # Bidders do not see the staff page.
    _login(client, user)
    assert client.get("/deposits/staff/").status_code == 403


def test_api_one_stop_issuance_and_status(client, clock, staff):
    trust_test_ca()
    t, _manager = tender()
    org, user = bidder(t, clock)
    person = testissuer.issue_certificate(
        test_ca(),
        name="测试保险股份有限公司",
        credit_code=credit_code(),
        not_before=clock.now() - dt.timedelta(days=30),
    )
    _login(client, staff)
    created = client.post(
        "/api/v1/guarantees/issuers",
        {
            "name": "测试保险股份有限公司",
            "kind": "insurer",
            "certificate_pem": person.signing_certificate_pem,
            "api_url": guarantees.BUILTIN_TEST,
            "fee_percent": "0.3",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    issuer_id = created.json()["id"]
    _login(client, user)
    section = t.sections.get()
    subs = client.get("/api/v1/deposits/sub-accounts").json()
    assert subs[0]["amount_due"] == "200000.00" and subs[0]["status"] == "missing"
    app = client.post(
        "/api/v1/guarantees/applications",
        {"section": section.pk, "issuer": issuer_id},
        content_type="application/json",
    )
    assert app.status_code == 201, app.content
    assert app.json()["fee"] == "600.00"
    app_id = app.json()["id"]
    paid = client.post(
        f"/api/v1/guarantees/applications/{app_id}/pay",
        {"payment_reference": "PAY-9"},
        content_type="application/json",
    )
    assert paid.json()["status"] == "paid"
    issued = client.post(f"/api/v1/guarantees/applications/{app_id}/issue")
    assert issued.status_code == 200, issued.content
    assert issued.json()["status"] == "issued" and issued.json()["guarantee"]
    status = client.get(f"/api/v1/deposits/sections/{section.pk}/status/{org.credit_code}")
    assert status.json()["status"] == "guaranteed"
    # Registering the same file again through the API: refused with the error shape.
    g = Guarantee.objects.get()
    again = client.post(
        "/api/v1/guarantees",
        {"guarantee": __import__("json").loads(g.document), "signature": g.signature},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["error"]["rule"] == "unique_guarantee"
    # Another bidder cannot read this bidder's status before the opening.
    _other, other_user = bidder(t, clock)
    _login(client, other_user)
    hidden = client.get(f"/api/v1/deposits/sections/{section.pk}/status/{org.credit_code}")
    assert hidden.status_code == 403


def test_api_statement_import_and_shared_payers(client, clock, staff):
    t, _manager = tender()
    from openbid.deposits import services

    subs = []
    for _ in range(2):
        org, user = bidder(t, clock)
        services.register_basic_account(
            user, bank_name="工行", account_name=org.name, account_number=A
        )
        subs.append(SubAccount.objects.get(organisation=org))
    _login(client, staff)
    data = statement(
        line("X1", "2026-03-10T10:00:00+08:00", "200000.00", subs[0].number, A),
        line("X2", "2026-03-10T10:01:00+08:00", "200000.00", subs[1].number, A),
    )
    response = client.post(
        "/api/v1/deposits/statements",
        {"bank": BANK, "file": SimpleUploadedFile("s.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 201, response.content
    assert response.json()["new"] == 2
    shared = client.get(f"/api/v1/deposits/tenders/{t.pk}/shared-payers").json()
    assert shared == [{"payer_account": A, "bidders": [s.organisation.credit_code for s in subs]}]
