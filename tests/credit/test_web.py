"""Credit pages: public credit, the entity's own view, the staff workspace, exports, imports."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from openbid.credit import exchange
from openbid.credit.models import CreditRecord, RepairApplication
from tests.credit.helpers import make_record
from tests.factories import market_entity

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def en(client):
    client.cookies["openbid_language"] = "en"
    return client


def test_public_credit_page_shows_grade_working_and_public_records_only(en, staff, bidder):
    org, _user = bidder
    public = make_record(staff, org, document_number="P-1")
    hidden = make_record(staff, org, is_public=False, category="minor", title="未公开的记录")
    page = en.get(reverse("credit:entity", args=[org.credit_code])).content.decode()
    assert 'data-testid="grade">A<' in page and "80.00" in page
    assert public.number in page and hidden.number not in page and "未公开的记录" not in page
    assert "《招标投标法实施条例》第六十八条" in page


def test_index_search_and_the_serious_list(en, staff, bidder):
    org, _user = bidder
    rec = make_record(staff, org, category="serious", serious_list=True, title="串通投标")
    page = en.get(reverse("credit:index"), {"q": org.credit_code}).content.decode()
    assert reverse("credit:entity", args=[org.credit_code]) in page
    assert rec.number in page
    csv_response = en.get(reverse("credit:export_csv"))
    assert csv_response["Content-Type"].startswith("text/csv")
    assert rec.number in csv_response.content.decode("utf-8-sig")
    data = json.loads(en.get(reverse("credit:export_json")).content)
    assert [r["record_number"] for r in data["records"]] == [rec.number]


def test_the_entity_sees_its_full_working_and_applies_for_repair(en, staff, bidder):
    org, user = bidder
    rec = make_record(staff, org, decided_on=D(2025, 11, 1), valid_from=D(2025, 11, 1))
    early = make_record(staff, org, document_number="E-1", is_public=False, category="minor")
    en.force_login(user)
    page = en.get(reverse("credit:mine")).content.decode()
    assert rec.number in page and early.number in page
    assert "can be applied for from 2026-04-05" in page
    home = en.get(reverse("home")).content.decode()
    assert 'data-testid="notifications"' in home and rec.number in home
    response = en.post(reverse("credit:apply_repair", args=[early.pk]), {"statement": "已整改"})
    assert response.status_code == 422 and "2026-04-05" in response.content.decode()
    response = en.post(
        reverse("credit:apply_repair", args=[rec.pk]),
        {"statement": "已整改", "evidence": SimpleUploadedFile("r.pdf", b"%PDF x")},
    )
    assert response.status_code == 302
    application = RepairApplication.objects.get(record=rec)
    assert application.evidence_name == "r.pdf"
    assert en.get(reverse("credit:evidence", args=[application.pk])).status_code == 200


def test_staff_workspace_record_form_refusals_and_decisions(en, staff, bidder):
    org, user = bidder
    en.force_login(user)
    assert en.get(reverse("credit:workspace")).status_code == 403
    en.force_login(staff)
    assert en.get(reverse("credit:workspace")).status_code == 200
    form = {
        "credit_code": org.credit_code,
        "source": "admin_penalty",
        "category": "ordinary",
        "title": "虚假材料",
        "facts": "提供虚假业绩。",
        "legal_basis": "",
        "issuing_body": "测试市发展和改革委员会",
        "decided_on": "2026-01-05",
        "valid_from": "2026-01-05",
        "valid_until": "2027-01-04",
        "is_public": "on",
        "repairable": "on",
    }
    response = en.post(reverse("credit:record_new"), form)
    assert response.status_code == 422 and "needs its legal basis" in response.content.decode()
    assert not CreditRecord.objects.exists()
    response = en.post(reverse("credit:record_new"), {**form, "legal_basis": "条例第六十八条"})
    rec = CreditRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "credit:record", args=[rec.pk]
    )
    response = en.post(reverse("credit:revoke", args=[rec.pk]), {"reason": "复议撤销"})
    rec.refresh_from_db()
    assert rec.status == "revoked"


def test_web_import_is_all_or_nothing(en, staff, bidder):
    org, _user = bidder
    en.force_login(staff)
    good = {
        "record_number": "X-1",
        "credit_code": org.credit_code,
        "source": "external",
        "category": "ordinary",
        "title": "t",
        "facts": "f",
        "legal_basis": "b",
        "issuing_body": "i",
        "decided_on": "2026-01-01",
        "valid_from": "2026-01-01",
        "valid_until": "2026-06-30",
    }
    bad = {**good, "record_number": "X-2", "valid_until": "2025-12-31"}
    upload = SimpleUploadedFile(
        "records.json", json.dumps({"records": [good, bad]}).encode(), "application/json"
    )
    response = en.post(
        reverse("credit:import"), {"source_platform": "信用中国", "file": upload}, follow=True
    )
    assert "Row 2" in response.content.decode() and not CreditRecord.objects.exists()
    upload = SimpleUploadedFile("records.json", json.dumps({"records": [good]}).encode())
    response = en.post(
        reverse("credit:import"), {"source_platform": "信用中国", "file": upload}, follow=True
    )
    assert "1 records imported" in response.content.decode()
    assert exchange.listed_records().count() == 0


def test_records_are_hidden_from_strangers_unless_public(en, staff, bidder):
    org, _user = bidder
    hidden = make_record(staff, org, is_public=False, category="minor")
    shown = make_record(staff, org, document_number="S-2")
    assert en.get(reverse("credit:record", args=[hidden.pk])).status_code == 404
    assert en.get(reverse("credit:record", args=[shown.pk])).status_code == 200
    _other, stranger = market_entity()
    en.force_login(stranger)
    assert en.get(reverse("credit:apply_repair", args=[shown.pk])).status_code == 403
