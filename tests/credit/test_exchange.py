"""Serious-dishonesty list export (CSV and JSON) and import of external records."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from openbid.core.errors import Conflict, InvalidInput
from openbid.credit import exchange, services
from openbid.credit.models import CreditRecord
from tests.credit.helpers import credit_counts, make_record
from tests.factories import market_entity

pytestmark = pytest.mark.django_db

D = dt.date


def listed(staff, org, **overrides):
    fields = {
        "category": "serious",
        "serious_list": True,
        "title": "串通投标",
        "document_number": "测发改罚〔2026〕9号",
        "decided_on": D(2026, 2, 1),
        "valid_from": D(2026, 2, 1),
        "valid_until": D(2027, 1, 31),
    }
    fields.update(overrides)
    return make_record(staff, org, **fields)


def test_export_lists_public_listings_in_effect_only(staff, clock):
    org, _u = market_entity()
    rec = listed(staff, org)
    other, _u = market_entity()
    listed(staff, other, is_public=False)
    listed(
        staff,
        other,
        document_number="old",
        decided_on=D(2024, 1, 1),
        valid_from=D(2024, 1, 1),
        valid_until=D(2025, 1, 1),
    )
    make_record(staff, other, category="serious", document_number="not listed")
    data = exchange.export_json()
    assert data["format"] == "openbid.credit.records" and data["version"] == 1
    assert [r["record_number"] for r in data["records"]] == [rec.number]
    row = data["records"][0]
    assert row["credit_code"] == org.credit_code and row["valid_until"] == "2027-01-31"
    assert set(row) == set(exchange.FIELDS)
    text = exchange.export_csv()
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["record_number"] for r in rows] == [rec.number]
    assert rows[0]["serious_list"] == "true" and rows[0]["entity_name"] == org.name


def test_an_export_imports_into_another_platform(staff, clock):
    org, _u = market_entity()
    rec = listed(staff, org)
    rows = exchange.parse_upload(exchange.export_csv().encode("utf-8"), "list.csv")
    services.revoke_record(staff, rec, reason="moved")  # the same decision may come back imported
    created = services.import_records(staff, source_platform="信用中国", rows=rows)
    assert len(created) == 1
    imported = created[0]
    assert imported.external_id == rec.number and imported.source_platform == "信用中国"
    assert imported.serious_list and imported.subject.organisation == org
    before = credit_counts()
    with pytest.raises(Conflict) as caught:
        services.import_records(staff, source_platform="信用中国", rows=rows)
    assert caught.value.rule == "credit_duplicate_import"
    assert caught.value.field == "records.1.external_id"
    # This platform's own export of the imported record names the same decision: refused too.
    again = exchange.parse_upload(json.dumps(exchange.export_json()).encode(), "list.json")
    with pytest.raises(Conflict) as caught:
        services.import_records(staff, source_platform="另一平台", rows=again)
    assert caught.value.rule == "credit_duplicate_record"
    assert credit_counts() == before


def row(org, number="XY-1", **overrides):
    fields = {
        "record_number": number,
        "entity_name": org.name,
        "credit_code": org.credit_code,
        "source": "external",
        "category": "ordinary",
        "title": "违反合同约定",
        "facts": "未按合同约定工期完成。",
        "legal_basis": "《民法典》第五百七十七条",
        "issuing_body": "示范省住房和城乡建设厅",
        "decided_on": "2026-01-10",
        "valid_from": "2026-01-10",
        "valid_until": "2026-07-09",
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    ("bad", "field", "rule"),
    [
        ({"legal_basis": ""}, "records.2.legal_basis", "required"),
        ({"valid_until": "2026-01-01"}, "records.2.valid_until", "credit_validity_period"),
        ({"valid_until": "tomorrow"}, "records.2.valid_until", "date"),
        (
            {"credit_code": "91330100MA0000000X"},
            "records.2.credit_code",
            "credit_registered_entity",
        ),
        ({"record_number": "XY-1"}, "records.2.external_id", "credit_duplicate_import"),
        ({"colour": "red"}, "records.2.colour", "schema"),
        ({"public": "perhaps"}, "records.2.public", "boolean"),
    ],
)
def test_a_bad_row_refuses_the_whole_import(staff, clock, bad, field, rule):
    org, _u = market_entity()
    before = credit_counts()
    with pytest.raises((InvalidInput, Conflict)) as caught:
        services.import_records(
            staff, source_platform="信用中国", rows=[row(org), row(org, "XY-2", **bad)]
        )
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert str(caught.value).startswith(("Row 2", "第2行"))
    assert credit_counts() == before
    assert not CreditRecord.objects.exists()


def test_import_files_are_checked(staff):
    with pytest.raises(InvalidInput) as caught:
        exchange.parse_upload(b"{}", "records.xml")
    assert caught.value.rule == "import_format"
    with pytest.raises(InvalidInput):
        exchange.parse_upload(b"not json", "records.json")
    with pytest.raises(InvalidInput):
        exchange.parse_upload(b"colour,record_number\nred,1\n", "records.csv")
    with pytest.raises(InvalidInput) as caught:
        services.import_records(staff, source_platform="信用中国", rows=[])
    assert caught.value.field == "records"
