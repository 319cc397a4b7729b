"""Deposit test data, made through the services as people and banks make it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openbid.accounts.models import Organisation, User
from openbid.deposits import services
from openbid.deposits.models import SubAccount
from openbid.tendering.models import Tender
from tests.opening.helpers import bidder, one_section_tender

BANK = "demo"
HEADER = "bank_reference,booked_at,amount,currency,payee_account,payer_account,payer_name,payer_bank,memo"


def tender(**overrides: Any) -> tuple[Tender, User]:
    """A one-section tender (section deposit 400,000.00 yuan; deadline 2026-03-27 09:30)."""
    return one_section_tender(**overrides)


def bidder_with_account(
    tender: Tender, clock: Any, account: str, *, sme: bool = False
) -> tuple[Organisation, User, SubAccount]:
    """A bidder that registered ``account`` as its basic account and obtained the documents."""
    org, user = bidder(tender, clock)
    services.register_basic_account(
        user,
        bank_name="中国工商银行杭州分行",
        account_name=org.name,
        account_number=account,
        sme=sme,
    )
    sub = services.open_sub_account(user, tender.sections.get())
    return org, user, sub


def line(
    ref: str,
    booked: str,
    amount: str,
    payee: str,
    payer: str,
    name: str = "测试单位",
) -> str:
    return f"{ref},{booked},{amount},CNY,{payee},{payer},{name},中国工商银行杭州分行,投标保证金"


def statement(*lines: str, bom: bool = False) -> bytes:
    text = "\r\n".join([HEADER, *lines]) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def deposit_rows() -> dict[str, int]:
    """Rows of every deposits table, the event record and the ledger."""
    from openbid.core.models import DomainEvent
    from openbid.deposits import models
    from openbid.ledger.models import Entry

    tables = [
        models.BasicAccount,
        models.SubAccount,
        models.Statement,
        models.WebhookDelivery,
        models.CreditLine,
        models.Refund,
        models.RefundBatch,
        models.DepositFinding,
        models.GuaranteeIssuer,
        models.GuaranteeApplication,
        models.Guarantee,
        models.GuaranteeClaim,
        DomainEvent,
        Entry,
    ]
    return {m.__name__: m.objects.count() for m in tables}
