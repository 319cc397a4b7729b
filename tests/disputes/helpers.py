"""Disputes test data, made through the services: the regulator with its responsibility-list
entry, a published tender whose documents bidders obtained, and row counts for refusals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from openbid.accounts.models import Organisation, User
from openbid.disputes import services
from openbid.tendering import services as tendering
from openbid.tendering.models import Tender
from tests.factories import centre_with_staff, market_entity, regulator_with_staff
from tests.tendering.factories import published_tender, row_counts


@dataclass
class World:
    tender: Tender
    manager: User
    staff: User
    regulator: Organisation
    officer: User
    bidder: Organisation
    bidder_user: User


def regulator_for_region(staff: User | None = None) -> tuple[Organisation, User, User]:
    """The centre, a regulator and its responsibility-list entry for municipal works in 330100."""
    if staff is None:
        _centre, staff = centre_with_staff()
    org, officer = regulator_with_staff(staff)
    services.set_responsibility(
        staff,
        region_code="330100",
        industry="municipal",
        regulator=org.credit_code,
        basis="杭州市招标投标行政监督职责分工（示范）",
    )
    return org, officer, staff


def world(clock: Any, **tender_overrides: Any) -> World:
    """A published tender (municipal works, region 330100) and a bidder that obtained its
    documents, the clock just after the documents are issued."""
    regulator, officer, staff = regulator_for_region()
    tender, manager = published_tender(**tender_overrides)
    clock.set(tender.doc_issue_start + dt.timedelta(minutes=1))
    bidder, bidder_user = market_entity()
    tendering.obtain_documents(bidder_user, tender)
    return World(tender, manager, staff, regulator, officer, bidder, bidder_user)


def counts() -> dict[str, int]:
    """Rows of the tendering tables, the event record, the ledger and every disputes table."""
    from openbid.disputes import models

    out = row_counts()
    for model in (
        models.Objection,
        models.Complaint,
        models.Suspension,
        models.Timer,
        models.Alert,
        models.InvestigationStep,
        models.Referral,
        models.Feedback,
        models.ResponsibilityEntry,
    ):
        out[model.__name__] = model.objects.count()
    from openbid.credit.models import CreditRecord

    out["CreditRecord"] = CreditRecord.objects.count()
    return out
