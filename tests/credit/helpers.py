"""Credit test data, made through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openbid.credit import services
from openbid.credit.models import CreditRecord


def record_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "source": "admin_penalty",
        "category": "ordinary",
        "title": "未按规定提交投标保证金",
        "facts": "2026年1月在示范道路改造工程投标中提供虚假业绩材料。",
        "legal_basis": "《招标投标法实施条例》第六十八条",
        "issuing_body": "测试市发展和改革委员会",
        "document_number": "",
        "decided_on": dt.date(2026, 1, 5),
        "valid_from": dt.date(2026, 1, 5),
        "valid_until": dt.date(2027, 1, 4),
    }
    fields.update(overrides)
    return fields


def make_record(staff: Any, org: Any = None, **overrides: Any) -> CreditRecord:
    return services.record_credit(staff, organisation=org, **record_fields(**overrides))


def credit_counts() -> dict[str, int]:
    """Rows of every credit table, the event record and the ledger: a refusal changes none."""
    from openbid.core.models import DomainEvent
    from openbid.credit.models import CreditSubject, Notification, RepairApplication
    from openbid.ledger.models import Entry

    tables = (CreditSubject, CreditRecord, RepairApplication, Notification, DomainEvent, Entry)
    return {m.__name__: m.objects.count() for m in tables}
