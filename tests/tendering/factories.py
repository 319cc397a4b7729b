"""Tendering test data, made through the services."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from openbid.accounts.roles import OrgType
from openbid.core import clock
from openbid.tendering import services
from openbid.tendering.models import Project, Tender
from tests.factories import market_entity

_serial = itertools.count(1)
PDF = b"%PDF-1.7\n% test tender document\n" + b"0" * 1024


def pdf(name: str = "招标文件.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def project(tenderer_user: Any = None, **overrides: Any) -> tuple[Project, Any]:
    if tenderer_user is None:
        _org, tenderer_user = market_entity(OrgType.TENDERER)
    n = next(_serial)
    fields: dict[str, Any] = {
        "code": f"2026-330100-48-01-{n:06d}",
        "name": f"示范道路改造工程{n}",
        "region_code": "330100",
        "industry": "municipal",
        "funding_source": "budget",
        "state_funding_percent": "100",
        "estimated_investment": "50000000",
        "approval_ref": "杭发改审批〔2026〕12号",
    }
    fields.update(overrides)
    return services.register_project(tenderer_user, **fields), tenderer_user


def schedule(start: dt.datetime | None = None, days: int = 25) -> dict[str, dt.datetime]:
    """A lawful schedule starting at ``start`` (default: one hour from now), deadline on a weekday."""
    from openbid.core import workdays

    start = start or clock.now() + dt.timedelta(hours=1)
    local = start.astimezone(dt.timezone(dt.timedelta(hours=8)))
    deadline_day = workdays.working_day_on_or_after(local.date() + dt.timedelta(days=days))
    deadline = local.replace(
        year=deadline_day.year,
        month=deadline_day.month,
        day=deadline_day.day,
        hour=9,
        minute=30,
        second=0,
        microsecond=0,
    )
    return {
        "doc_issue_start": start,
        "doc_issue_end": start + dt.timedelta(days=7),
        "question_deadline": deadline - dt.timedelta(days=10),
        "bid_deadline": deadline,
    }


def tender_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "示范道路改造工程施工招标",
        "kind": Tender.Kind.WORKS,
        "method": Tender.Method.OPEN,
        "evaluation_method": Tender.Evaluation.LOWEST_PRICE,
        "deposit_form": Tender.DepositForm.CASH_OR_GUARANTEE,
        "qualification": "具备市政公用工程施工总承包二级及以上资质",
        **schedule(),
        "sections": [
            {
                "name": "一标段 道路工程",
                "estimated_price": "20000000",
                "ceiling_price": "21000000",
                "deposit": "400000",
            },
            {"name": "二标段 排水工程", "estimated_price": "8000000", "deposit": "160000"},
        ],
    }
    fields.update(overrides)
    return fields


def draft_tender(
    user: Any = None, project_obj: Project | None = None, **overrides: Any
) -> tuple[Tender, Any]:
    if project_obj is None:
        project_obj, user = project(user)
    tender = services.create_tender(user, project_obj, **tender_fields(**overrides))
    return tender, user


def published_tender(**overrides: Any) -> tuple[Tender, Any]:
    tender, user = draft_tender(**overrides)
    services.upload_document(user, tender, pdf())
    services.publish_tender(user, tender)
    tender.refresh_from_db()
    return tender, user


def at(text: str) -> dt.datetime:
    """A China-time instant from ``"2026-03-27 09:30"``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def row_counts() -> dict[str, int]:
    """Rows of every tendering table, the event record and the ledger: a refusal changes none."""
    from openbid.core.models import DomainEvent
    from openbid.ledger.models import Entry
    from openbid.tendering.models import (
        Clarification,
        Document,
        DocumentObtainer,
        Notice,
        Question,
        Section,
        TenderPlan,
    )

    tables = (
        Project,
        TenderPlan,
        Tender,
        Section,
        Notice,
        Document,
        DocumentObtainer,
        Question,
        Clarification,
        DomainEvent,
        Entry,
    )
    return {m.__name__: m.objects.count() for m in tables}


__all__ = [
    "PDF",
    "at",
    "draft_tender",
    "io",
    "pdf",
    "project",
    "published_tender",
    "row_counts",
    "schedule",
    "tender_fields",
]
