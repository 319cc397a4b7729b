"""Award test data: a one-section tender whose bids were opened, made through the services, and
the candidates as the evaluation hands them over (plain data)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from openbid.accounts.models import Organisation, User
from openbid.award import services
from openbid.award.models import AwardNotice, Contract, ContractTemplate, Decision, Publicity
from openbid.bidding import package
from openbid.crypto.suites import KeyPair, get_suite
from openbid.opening import services as opening
from openbid.tendering.models import Tender
from tests.certificates import certify
from tests.factories import centre_with_staff, market_entity
from tests.opening.helpers import (
    SUITE,
    Sealed,
    at_deadline,
    bid_package,
    bidder,
    one_section_tender,
    submit,
)

REPORT_SHA256 = "ab" * 32
PRICES = ("11800000.50", "12345678.00", "12990000.00", "13100000.00")

TEMPLATE = (
    "建设工程施工合同 ${contract_number}\n"
    "发包人：${tenderer}（${tenderer_code}）\n承包人：${winner}（${winner_code}）\n"
    "工程名称：${project}（${project_code}）${tender} ${section}\n"
    "合同价款：${price}；工期：${duration_days}日历天\n主要条款：${key_terms}\n"
    "中标通知书发出日期：${award_notice_date}\n"
)


def opened_tender(
    clock: Any, prices: tuple[str, ...] = PRICES, **overrides: Any
) -> tuple[Tender, User, list[Sealed]]:
    """A one-section works tender with one valid bid per price, opened (status ``opened``)."""
    tender, manager = one_section_tender(**overrides)
    section = tender.sections.get()
    sealed = []
    for n, price in enumerate(prices):
        org, user = bidder(tender, clock)
        sealed.append(submit(user, org, section, bid_package(price, 300 + n, 项目经理=f"张{n}")))
    at_deadline(clock, tender, minutes=1)
    opening.start_due_openings(tender_id=tender.pk)
    tender.refresh_from_db()
    return tender, manager, sealed


def disclosed(n: int = 1) -> dict[str, str]:
    return {
        "quality": "合格",
        "duration": f"{300 + n}日历天",
        "qualification": "市政公用工程施工总承包二级",
        "project_manager": f"张{n}",
        "project_manager_certificate": f"一级注册建造师 浙133000{n:06d}",
    }


def candidates(sealed: list[Sealed], ranked: bool = True, n: int = 3) -> list[dict[str, Any]]:
    """The first ``n`` bids by price, as the lowest evaluated price method ranks them."""
    ordered = sorted(sealed, key=lambda s: package.read(s.plaintext).price)[:n]
    return [
        {
            "bidder": s.org.credit_code,
            "price": _price(s),
            "evaluated_price": _price(s),
            "rank": (i + 1) if ranked else None,
            "disclosed": disclosed(i + 1),
        }
        for i, s in enumerate(ordered)
    ]


def _price(s: Sealed) -> str:
    return str(package.read(s.plaintext).price)


def in_publicity(clock: Any, **overrides: Any) -> tuple[Publicity, User, list[Sealed]]:
    tender, manager, sealed = opened_tender(clock, **overrides)
    listed = candidates(sealed, overrides.get("candidates_ranked", True))
    publicity = services.publish_candidates(tender, listed, REPORT_SHA256)
    return publicity, manager, sealed


def after_publicity(clock: Any, publicity: Publicity) -> None:
    clock.set(publicity.ends_at + dt.timedelta(minutes=5))


def signing_key(user: User, org: Organisation) -> KeyPair:
    suite = get_suite(SUITE)
    key = suite.generate_signing_key()
    certify(user, org, SUITE, key)
    return key


def sign(
    user: User,
    org: Organisation,
    kind: str,
    document_id: int,
    sha256: str,
    key: KeyPair | None = None,
) -> Any:
    from openbid.crypto import document_signatures
    from openbid.crypto.document_message import signing_message

    suite = get_suite(SUITE)
    key = key or signing_key(user, org)
    return document_signatures.sign(
        user,
        kind,
        document_id,
        sha256=sha256,
        signature=base64.b64encode(
            suite.sign(key.private, signing_message(kind, document_id, sha256))
        ).decode(),
        public_key=base64.b64encode(key.public).decode(),
    )


def decided(clock: Any, **overrides: Any) -> tuple[Decision, User, list[Sealed]]:
    publicity, manager, sealed = in_publicity(clock, **overrides)
    after_publicity(clock, publicity)
    return services.decide_award(manager, publicity), manager, sealed


def issued(clock: Any, **overrides: Any) -> tuple[Decision, User, list[Sealed], AwardNotice]:
    decision, manager, sealed = decided(clock, **overrides)
    services.prepare_notices(manager, decision)
    notice = services.award_notice_of(decision)
    assert notice is not None
    tenderer = decision.publicity.tender.project.tenderer
    sign(manager, tenderer, "award-notice", notice.pk, notice.sha256)
    notice.refresh_from_db()
    return decision, manager, sealed, notice


def template() -> ContractTemplate:
    found = ContractTemplate.objects.filter(active=True).first()
    if found is not None:
        return found
    staff = centre_with_staff("template-staff")[1]
    return services.create_template(staff, name="施工合同示范文本", body=TEMPLATE, kind="works")


def drafted(clock: Any, **overrides: Any) -> tuple[Contract, User, list[Sealed]]:
    decision, manager, sealed, _notice = issued(clock, **overrides)
    contract = services.draft_contract(
        manager, decision, template=template(), duration_days=301, key_terms="按招标文件合同条款"
    )
    return contract, manager, sealed


def winner_of(contract: Contract, sealed: list[Sealed]) -> Sealed:
    return next(s for s in sealed if s.org.pk == contract.winner_id)


def signed_contract(clock: Any, **overrides: Any) -> tuple[Contract, User, list[Sealed]]:
    contract, manager, sealed = drafted(clock, **overrides)
    version = services.current_version(contract)
    sign(manager, contract.tenderer, "contract", contract.pk, version.sha256)
    w = winner_of(contract, sealed)
    sign(w.user, w.org, "contract", contract.pk, version.sha256)
    contract.refresh_from_db()
    return contract, manager, sealed


__all__ = ["market_entity"]
