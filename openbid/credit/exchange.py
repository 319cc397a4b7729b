"""The exchange format of credit records: serious-dishonesty list export (for 信用中国 and other
platforms) and import of external records, as CSV and JSON with the same fields.

See ``docs/credit-exchange.md`` for the format. Export and import use the same field names, so a
file exported by one openbid platform imports into another (its ``record_number`` becomes the
imported record's external number).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from openbid.core import clock
from openbid.core.errors import DomainError, InvalidInput
from openbid.credit.models import CreditRecord

FORMAT = "openbid.credit.records"
VERSION = 1

FIELDS = (
    "record_number",
    "entity_name",
    "credit_code",
    "source",
    "category",
    "serious_list",
    "title",
    "facts",
    "legal_basis",
    "issuing_body",
    "document_number",
    "decided_on",
    "valid_from",
    "valid_until",
    "public",
    "repairable",
    "special_domain",
)
REQUIRED = frozenset(
    {
        "record_number",
        "credit_code",
        "source",
        "category",
        "title",
        "facts",
        "legal_basis",
        "issuing_body",
        "decided_on",
        "valid_from",
        "valid_until",
    }
)
FLAGS = {"serious_list": False, "public": True, "repairable": True, "special_domain": False}
MAX_IMPORT_BYTES = 10 * 1024 * 1024


# --- export ------------------------------------------------------------------------------------


def listed_records(on: Any = None) -> Any:
    """Public records in effect on ``on`` (today) that put an organisation on the serious-
    dishonesty list, oldest first."""
    day = on or clock.today()
    return (
        CreditRecord.objects.filter(
            serious_list=True,
            is_public=True,
            status=CreditRecord.Status.ACTIVE,
            valid_from__lte=day,
            valid_until__gte=day,
            subject__organisation__isnull=False,
        )
        .select_related("subject__organisation")
        .order_by("valid_from", "id")
    )


def row_of(record: CreditRecord) -> dict[str, Any]:
    org = record.subject.organisation
    assert org is not None
    return {
        "record_number": record.number,
        "entity_name": org.name,
        "credit_code": org.credit_code,
        "source": record.source,
        "category": record.category,
        "serious_list": record.serious_list,
        "title": record.title,
        "facts": record.facts,
        "legal_basis": record.legal_basis,
        "issuing_body": record.issuing_body,
        "document_number": record.document_number,
        "decided_on": record.decided_on.isoformat(),
        "valid_from": record.valid_from.isoformat(),
        "valid_until": record.valid_until.isoformat(),
        "public": record.is_public,
        "repairable": record.repairable,
        "special_domain": record.special_domain,
    }


def export_json(on: Any = None) -> dict[str, Any]:
    day = on or clock.today()
    return {
        "format": FORMAT,
        "version": VERSION,
        "platform": settings.OPENBID_LEDGER_ORIGIN,
        "list": "serious_dishonesty",
        "on": day.isoformat(),
        "generated_at": clock.now().isoformat(),
        "records": [row_of(r) for r in listed_records(day)],
    }


def export_csv(on: Any = None) -> str:
    """CSV (RFC 4180), UTF-8 with a byte order mark so spreadsheet programs read the Chinese."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for record in listed_records(on):
        row = row_of(record)
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return out.getvalue()


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- import ------------------------------------------------------------------------------------


@contextlib.contextmanager
def row_context(number: int) -> Iterator[None]:
    """Refusals inside name the row: ``records.3.valid_until`` and "Row 3: …"."""
    try:
        yield
    except DomainError as error:
        error.field = f"records.{number}.{error.field}" if error.field else f"records.{number}"
        error.message = _("Row %(row)d: %(message)s") % {"row": number, "message": str(error)}
        error.args = (str(error.message),)
        raise


def _flag(value: Any, field: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "是"}:
        return True
    if text in {"false", "0", "no", "否"}:
        return False
    raise InvalidInput(
        _("%(field)s must be true or false.") % {"field": field}, field=field, rule="boolean"
    )


def record_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of the exchange format as arguments of ``services.check_record`` plus the credit
    code, the external number and the flags; refuses unknown and missing fields."""
    if not isinstance(row, Mapping):
        raise InvalidInput(_("Each record must be an object."), field=None, rule="schema")
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise InvalidInput(
            _("Unknown field %(field)s.") % {"field": unknown[0]}, field=unknown[0], rule="schema"
        )
    for name in sorted(REQUIRED):
        if row.get(name) in (None, ""):
            raise InvalidInput(
                _("The field %(field)s is missing.") % {"field": name}, field=name, rule="required"
            )
    flags = {name: _flag(row.get(name), name, default) for name, default in FLAGS.items()}
    return {
        "credit_code": str(row["credit_code"]).strip().upper(),
        "external_id": str(row["record_number"]).strip(),
        "source": str(row["source"]).strip(),
        "category": str(row["category"]).strip(),
        "title": row["title"],
        "facts": row["facts"],
        "legal_basis": row["legal_basis"],
        "issuing_body": row["issuing_body"],
        "document_number": row.get("document_number") or "",
        "decided_on": row["decided_on"],
        "valid_from": row["valid_from"],
        "valid_until": row["valid_until"],
        "serious_list": flags["serious_list"],
        "is_public": flags["public"],
        "repairable": flags["repairable"],
        "special_domain": flags["special_domain"],
    }


def parse_upload(data: bytes, filename: str) -> list[dict[str, Any]]:
    """The rows of an uploaded CSV or JSON file (by its extension); refuses anything else."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            _("An import file is at most %(max)d MiB.") % {"max": MAX_IMPORT_BYTES // 2**20},
            field="file",
            rule="import_size",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            _("The file must be UTF-8 text."), field="file", rule="import_format"
        ) from None
    name = filename.lower()
    if name.endswith(".json"):
        return parse_json(text)
    if name.endswith(".csv"):
        return parse_csv(text)
    raise InvalidInput(
        _("Import a .csv or a .json file in the exchange format."),
        field="file",
        rule="import_format",
    )


def parse_json(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            _("The file is not valid JSON: %(problem)s") % {"problem": exc.msg},
            field="file",
            rule="import_format",
        ) from None
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise InvalidInput(
            _("The JSON file must be an object with a list of records."),
            field="file",
            rule="import_format",
        )
    return records


def parse_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = sorted(set(header) - set(FIELDS))
    if unknown or not header:
        raise InvalidInput(
            _("Unknown column %(column)s.") % {"column": unknown[0]}
            if unknown
            else _("The CSV file has no header row."),
            field="file",
            rule="import_format",
        )
    return [dict(row) for row in reader]
