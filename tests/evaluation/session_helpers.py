"""An evaluation ready to start, made through the services: a comprehensive (or lowest-price)
one-section tender, bids with technical files, the opening, a formed 5-expert committee with a
chair, and a certified signing key per member (tests sign as the client would)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from openbid.accounts.models import User
from openbid.bidding import package
from openbid.crypto import document_signatures
from openbid.crypto.document_message import signing_message
from openbid.crypto.models import DocumentSignature
from openbid.crypto.suites import KeyPair, get_suite
from openbid.evaluation import committee as committees
from openbid.evaluation import session as evaluation
from openbid.evaluation.models import CommitteeMember, EvaluationSession
from openbid.opening import services as opening
from openbid.opening.models import OpenedBid
from openbid.tendering.models import Tender
from tests.certificates import certify
from tests.evaluation.helpers import evaluation_day, pool, staff
from tests.opening.helpers import PDF, Sealed, at_deadline, bidder, one_section_tender, submit

SUITE = "intl-2026"

#: The worked example's rules: K is drawn from a range of one value (0.97), so the numbers can be
#: written by hand; T1 technical 0–30, C1 commercial 0–20, P price 0–40, CR credit 0–10.
RULES: dict[str, Any] = {
    "coefficient": {"low": "0.97", "high": "0.97", "step": "0.01"},
    "criteria": [
        {"code": "T1", "name": "施工组织设计", "category": "technical", "min": "0", "max": "30"},
        {"code": "C1", "name": "商务响应", "category": "commercial", "min": "0", "max": "20"},
        {"code": "P", "name": "投标报价", "category": "price", "min": "0", "max": "40"},
        {"code": "CR", "name": "信用", "category": "credit", "min": "0", "max": "10"},
    ],
}
PRICES = ("9600000.00", "9000000.00", "9900000.00")  # X, Y, Z
VENUES = [
    {"kind": "main", "name": "杭州市公共资源交易中心 评标室3", "region_code": "330100"},
    {"kind": "secondary", "name": "广州市公共资源交易中心 副场1", "region_code": "440100"},
]


def technical_package(n: int, price: str) -> bytes:
    return package.build(
        {
            "投标函.pdf": PDF + price.encode(),
            f"第{n}号投标人技术标.pdf": PDF + f"technical proposal {n}".encode(),
            "说明.txt": f"施工方案说明 第{n}份 独有内容 {price}".encode(),
        },
        {"price": price, "duration_days": 300 + n},
        tool="tests",
        machine=f"machine-{n}",
    )


@dataclass
class Ready:
    tender: Tender
    manager: User
    centre: User
    sealed: list[Sealed]
    members: list[CommitteeMember]
    keys: dict[int, KeyPair] = field(default_factory=dict)

    def user(self, member: CommitteeMember) -> User:
        assert member.expert is not None and member.expert.user is not None
        return member.expert.user

    @property
    def chair(self) -> CommitteeMember:
        self.tender.committee.refresh_from_db()
        return next(m for m in self.members if m.pk == self.tender.committee.chair_id)

    def opened(self) -> list[OpenedBid]:
        return list(OpenedBid.objects.filter(session__tender=self.tender).order_by("order"))

    def bid_of(self, price: str) -> OpenedBid:
        return next(b for b in self.opened() if f"{b.price:.2f}" == price)

    def body(self, member: CommitteeMember, kind: str, document_id: int, sha256: str) -> dict:
        suite = get_suite(SUITE)
        key = self.keys[member.pk]
        message = signing_message(kind, document_id, sha256)
        return {
            "sha256": sha256,
            "signature": base64.b64encode(suite.sign(key.private, message)).decode(),
            "public_key": base64.b64encode(key.public).decode(),
        }

    def sign(self, member: CommitteeMember, kind: str, document_id: int) -> DocumentSignature:
        user = self.user(member)
        document = document_signatures.signable(user, kind, document_id)
        return document_signatures.sign(
            user, kind, document_id, **self.body(member, kind, document_id, document.sha256)
        )

    def session(self) -> EvaluationSession:
        return EvaluationSession.objects.get(tender=self.tender)

    def sign_in_all(self) -> None:
        session = self.session()
        venues = list(session.venues.order_by("pk"))
        for n, m in enumerate(self.members):
            attendance = evaluation.check_in(self.user(m), session, venue=venues[n % 2])
            self.sign(m, evaluation.SIGN_IN_KIND, attendance.pk)


def ready(
    clock: Any,
    *,
    method: str = Tender.Evaluation.COMPREHENSIVE,
    rules: dict[str, Any] | None = None,
    prices: tuple[str, ...] = PRICES,
) -> Ready:
    """Up to a formed committee with a chair; the session not started."""
    if rules is None:
        rules = RULES if method == Tender.Evaluation.COMPREHENSIVE else {}
    weights = (
        {"technical": "30", "commercial": "20", "price": "40", "credit": "10"}
        if method == Tender.Evaluation.COMPREHENSIVE
        else {}
    )
    tender, manager = one_section_tender(
        evaluation_method=method, evaluation_rules=rules, evaluation_weights=weights
    )
    section = tender.sections.get()
    sealed = []
    for n, price in enumerate(prices, start=1):
        org, user = bidder(tender, clock)
        sealed.append(submit(user, org, section, technical_package(n, price)))
    at_deadline(clock, tender)
    opening.start_due_openings()
    for s in sealed:
        opening.release_key(s.user, s.bid, s.data_key)
    tender.refresh_from_db()
    centre = staff()
    experts = pool(centre, 5, region="330106")
    committee = committees.start_committee_draw(
        manager,
        tender,
        evaluation_date=evaluation_day(clock),
        groups=[{"specialty": "A02", "count": 5, "reserves": 0, "region": "local"}],
    )
    members = list(committee.members.select_related("expert__user", "expert__employer"))
    assert {m.expert_id for m in members} == {e.pk for e in experts}
    result = Ready(tender, manager, centre, sealed, sorted(members, key=lambda m: m.pk))
    suite = get_suite(SUITE)
    for m in result.members:
        committees.confirm_seat(result.user(m), m)
        key = suite.generate_signing_key()
        assert m.expert is not None
        certify(result.user(m), m.expert.employer, SUITE, key)
        result.keys[m.pk] = key
    committee.refresh_from_db()
    for m in result.members[:3]:
        committees.vote_chair(result.user(m), committee, candidate=result.members[0])
    clock.advance(minutes=30)
    return result


def started(clock: Any, **kw: Any) -> Ready:
    r = ready(clock, **kw)
    evaluation.start_session(r.manager, r.tender, venues=VENUES)
    return r
