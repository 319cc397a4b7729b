"""The demo scenario: organisations and people for every role, a tender opened in the past, then a
tender published today, made through the services.

Each step is a service call, exactly as a person would make it through the web or the API, so the
demo also exercises the rules and fills the event record. To show a whole opening without waiting
for a bid deadline, the demo first sets the platform clock back about 40 days and plays a
completed tender step by step on it: five bidders obtain the documents, seal their bids on their
own machines and submit them before the deadline; the opening starts at the deadline, each bidder
releases its key, the bids are read out, an objection is answered and the agency signs the opening
record; the centre admits a small expert pool and the agency draws a 5-expert evaluation committee
(one expert recused as a bidder's employee) by a verifiable draw. Along the way a bidder objects to
the tender documents (the tender is suspended until the agency replies the next morning), and after
the opening another complains about it to the regulator of the responsibility list, which accepts,
investigates and dismisses the complaint in a published decision. The committee evaluates the five
bids at two venues (blind technical review, signed score sheets, K drawn verifiably) and signs its
report; the candidates go into publicity by themselves, the clock passes the publicity, the tenderer
decides, signs the award notice with its certified key, the agency drafts the contract from the
centre's template, both parties sign it with their certificates and it is published, deposits fall
due for refund, and the written report is filed. The clock then returns to the present (never
beyond it), where the live tender is
published, so every event in the ledger is in time order. Schedules are computed from the clock
and the holiday calendar, so the demo runs on any day; when the calendar does not cover the dates
a part needs, that part is skipped with a line saying why.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from openbid.accounts import identity, services
from openbid.accounts.credit_code import generate_credit_code
from openbid.accounts.models import Organisation, User
from openbid.accounts.roles import OrgType, Role
from openbid.bidding import package
from openbid.bidding import services as bidding
from openbid.bidding.models import Bid
from openbid.core import clock, rules, workdays
from openbid.core.models import DomainEvent
from openbid.credit import services as credit
from openbid.crypto import escrow as crypto_escrow
from openbid.crypto import services as certificates
from openbid.crypto.models import TrustedCA
from openbid.crypto.suites import KeyPair, get_suite
from openbid.crypto.testca import TestCA, _public_key_from_pair, to_pem
from openbid.crypto.x509 import KeyType
from openbid.deposits import demo as deposits_demo
from openbid.disputes import services as disputes
from openbid.opening import escrow as opening_escrow
from openbid.opening import services as opening
from openbid.opening.aad import bid_aad
from openbid.opening.models import OpenedBid, OpeningSession
from openbid.tendering import services as tendering
from openbid.tendering.models import Section, Tender

DEMO_PASSWORD = "openbid-demo-2026"  # noqa: S105 - printed for the demo users, not a secret
DEMO_REGION = "330100"  # 杭州市

# (authority/category, body, name, type, login, role-display)
_MARKET_ENTITIES = [
    ("91", "MA2DEM001", "示范城市建设投资集团有限公司", OrgType.TENDERER, "tenderer"),
    ("91", "MA2DEM002", "诚信工程咨询有限公司", OrgType.AGENCY, "agency"),
    ("91", "MA2DEM003", "第一建设工程有限公司", OrgType.BIDDER, "bidder1"),
    ("91", "MA2DEM004", "第二建设工程有限公司", OrgType.BIDDER, "bidder2"),
    ("91", "MA2DEM005", "第三建设工程有限公司", OrgType.BIDDER, "bidder3"),
    ("91", "MA2DEM008", "第四建设工程有限公司", OrgType.BIDDER, "bidder4"),
    ("91", "MA2DEM009", "第五建设工程有限公司", OrgType.BIDDER, "bidder5"),
    ("12", "MB0DEM006", "示范市建筑设计研究院", OrgType.EXPERT_EMPLOYER, "expert"),
]
_CENTRE = ("11", "MB0DEM000", "示范市公共资源交易中心")
_REGULATOR = ("11", "MB0DEM007", "示范市发展和改革委员会")

People = dict[str, tuple[Organisation, User]]


def _code(prefix: str, body: str) -> str:
    return generate_credit_code(prefix[0], prefix[1], DEMO_REGION, body)


def demo_present() -> bool:
    return Organisation.objects.filter(credit_code=_code(_CENTRE[0], _CENTRE[1])).exists()


def run_demo() -> Iterator[str]:
    """Create the demo organisations and people, a tender opened in the past and a tender
    published today; yield a line per step.

    The whole scenario runs before the first line is yielded, so the platform clock is back where
    it was (running, or frozen at the time a test set) whether or not the lines are all read.
    """
    yield from _run()


def _frozen_at() -> dt.datetime | None:
    """The time the platform clock is frozen at (a test or a simulation), or ``None`` if it runs.

    ``openbid.core.clock`` has no public reader for this; the demo needs it to put the clock back
    exactly as it found it.
    """
    return clock._frozen


def _restore_clock(frozen_at: dt.datetime | None) -> None:
    if frozen_at is None:
        clock.unfreeze()
    else:
        clock.freeze(frozen_at)


def _run() -> list[str]:
    out: list[str] = []
    frozen_at = _frozen_at()
    present = clock.now()
    _PRESENT[0] = present
    try:
        past, why_not = completed_schedule(present)
        if past is not None:
            # Before any row is written: the organisations, too, are registered in the past.
            clock.freeze(past["start"])
            out.append(
                f"The platform clock is set back to {_time(past['start'])} to play a completed "
                "tender; it returns to the present afterwards."
            )
        people = _organisations(out)

        if past is None:
            out.append(f"Completed opening demo skipped: {why_not}")
        else:
            try:
                with transaction.atomic():  # the completed tender happens whole or not at all
                    lines = _completed_demo(people, past)
            except workdays.CalendarNotCovered as exc:
                out.append(f"Completed opening demo skipped: {exc}")
            else:
                out.extend(lines)
            reached = clock.now()
            _restore_clock(frozen_at)
            if clock.now() < reached:  # cannot happen: the scenario ends weeks before the present
                raise RuntimeError("the completed tender ran past the present")
            out.append(f"The platform clock is back at the present: {_time(clock.now())}")

        try:
            with transaction.atomic():  # the tender part happens whole or not at all
                lines = _tender_demo(people)
        except workdays.CalendarNotCovered as exc:
            out.append(f"Tender demo skipped: {exc}")
        else:
            out.extend(lines)
        with transaction.atomic():
            out.extend(_credit_demo(people))
    finally:
        _restore_clock(frozen_at)

    out.append(f"All demo logins use the password: {DEMO_PASSWORD}")
    users = ", ".join(User.objects.order_by("id").values_list("username", flat=True))
    out.append(f"Logins: {users}")
    return out


def _organisations(out: list[str]) -> People:
    """The trading centre, the regulator and the market entities, with one login each."""
    centre = services.create_public_body(
        None,
        name=_CENTRE[2],
        credit_code=_code(_CENTRE[0], _CENTRE[1]),
        org_type=OrgType.TRADING_CENTRE,
        region_code=DEMO_REGION,
    )
    out.append(f"created trading centre {centre.name} ({centre.credit_code})")
    staff = services.add_person(
        None,
        centre,
        username="centre",
        password=DEMO_PASSWORD,
        role=Role.CENTRE_STAFF,
        display_name="交易中心 王工",
        is_admin=True,
    ).user
    out.append("  login centre: trading centre staff")
    out += _trust_demo_ca(staff, centre.region_code)
    services.add_person(
        staff,
        centre,
        username="auditor",
        password=DEMO_PASSWORD,
        role=Role.AUDITOR,
        display_name="审计 赵工",
    )
    out.append("  login auditor: auditor (read-only)")

    regulator = services.create_public_body(
        staff,
        name=_REGULATOR[2],
        credit_code=_code(_REGULATOR[0], _REGULATOR[1]),
        org_type=OrgType.REGULATOR,
        region_code=DEMO_REGION,
    )
    regulator_user = services.add_person(
        staff,
        regulator,
        username="regulator",
        password=DEMO_PASSWORD,
        role=Role.REGULATOR,
        display_name="监督 李处",
        is_admin=True,
    ).user
    out.append(f"created regulator {regulator.name}\n  login regulator: regulator")
    disputes.set_responsibility(
        staff,
        region_code=DEMO_REGION,
        industry="",
        regulator=regulator.credit_code,
        basis="示范市招标投标行政监督职责分工（示范）",
    )
    out.append(
        f"  responsibility list: {regulator.name} handles complaints for every industry in "
        f"{DEMO_REGION}"
    )

    people: People = {"centre": (centre, staff), "regulator": (regulator, regulator_user)}
    for prefix, body, name, org_type, login in _MARKET_ENTITIES:
        org, user = services.register_market_entity(
            name=name,
            credit_code=_code(prefix, body),
            org_type=org_type,
            region_code=DEMO_REGION,
            admin_username=login,
            admin_password=DEMO_PASSWORD,
            admin_display_name=f"{name[:4]} 联系人",
            legal_representative="张三",
            accept_commitment=True,
        )
        people[login] = (org, user)
        out.append(f"registered {OrgType(org_type).label}: {org.name} ({org.credit_code})")
        out.append(f"  login {login}")
        if org_type != OrgType.BIDDER or login == "bidder1":
            services.verify_organisation(staff, org, note="营业执照信息核验一致")
            out.append("  verified by the trading centre")
    return people


# --- credit ------------------------------------------------------------------------------------


def _credit_demo(people: People) -> list[str]:
    """A few credit records so the public credit pages show different grades: a commendation
    (AAA), an administrative penalty (A), a listing on the serious-dishonesty list, and a minor
    record repaired through the whole repair procedure."""
    out: list[str] = []
    regulator = User.objects.get(username="regulator")
    staff = User.objects.get(username="centre")
    issuer = _REGULATOR[2]
    today = clock.today()

    def days_ago(n: int) -> dt.date:
        return today - dt.timedelta(days=n)

    credit.record_credit(
        regulator,
        organisation=people["bidder3"][0],
        source="performance",
        category="good",
        title="合同履约评价优秀",
        facts="示范城市建设投资集团有限公司对其承建工程的履约评价为优秀。",
        legal_basis="《招标投标法实施条例》第四十一条；示范市公共资源交易市场主体信用评价办法",
        document_number="示发改信〔2026〕1号",
        decided_on=days_ago(30),
        valid_from=days_ago(30),
        valid_until=days_ago(30) + dt.timedelta(days=364),
        issuing_body=issuer,
    )
    out.append("credit: bidder3 has a commendation for its contract performance (grade AAA)")
    credit.record_credit(
        regulator,
        organisation=people["bidder2"][0],
        source="admin_penalty",
        category="ordinary",
        title="投标文件中提供不实业绩材料",
        facts="在示范道路改造工程投标中提供的一项业绩证明与实际不符。",
        legal_basis="《招标投标法实施条例》第六十八条",
        document_number="示发改罚〔2026〕3号",
        decided_on=days_ago(20),
        valid_from=days_ago(20),
        valid_until=days_ago(20) + dt.timedelta(days=364),
        issuing_body=issuer,
    )
    out.append("credit: bidder2 has an administrative penalty (grade A)")
    listed = credit.record_credit(
        regulator,
        organisation=people["bidder4"][0],
        source="admin_penalty",
        category="serious",
        serious_list=True,
        title="串通投标",
        facts="与其他投标人相互约定投标报价，情节严重。",
        legal_basis="《招标投标法》第五十三条；《招标投标法实施条例》第六十七条",
        document_number="示发改罚〔2026〕5号",
        decided_on=days_ago(10),
        valid_from=days_ago(10),
        valid_until=days_ago(10) + dt.timedelta(days=729),
        issuing_body=issuer,
    )
    out.append(
        f"credit: bidder4 is on the serious-dishonesty list until {listed.valid_until} "
        "(it is refused documents and bids)"
    )
    minor = credit.record_credit(
        regulator,
        organisation=people["bidder5"][0],
        source="complaint_finding",
        category="minor",
        title="投标保证金未从基本账户转出",
        facts="经投诉处理查实，其投标保证金未从其基本账户转出。",
        legal_basis="《招标投标法实施条例》第二十六条",
        document_number="示发改投诉〔2025〕12号",
        decided_on=days_ago(150),
        valid_from=days_ago(150),
        valid_until=days_ago(150) + dt.timedelta(days=364),
        issuing_body=issuer,
    )
    application = credit.apply_for_repair(
        people["bidder5"][1], minor, statement="已建立异议答复台账并指定专人负责，作出信用承诺。"
    )
    credit.accept_repair(staff, application)
    credit.decide_repair(
        staff, application, approve=True, reason="已纠正失信行为，满足最短公示期，同意修复。"
    )
    out.append(f"credit: bidder5 applied for repair of {minor.number}; the centre approved it")
    return out


# --- the tender ----------------------------------------------------------------------------------

DEMO_PROJECT_SERIAL = "000001"


def demo_schedule(now: dt.datetime) -> dict[str, dt.datetime]:
    """A lawful schedule for a tender published at ``now``: documents issued from now for 7 days,
    the bid deadline (and opening) at 09:30 on the first working day at least 25 days later
    (Law art. 24 asks for 20), questions until 17:00 ten days before it.

    Raises ``CalendarNotCovered`` when the holiday calendar does not reach the deadline.
    """
    local = timezone.localtime(now)
    start = local.replace(second=0, microsecond=0)  # not after now: documents are issued at once
    period = rules.rule("bid_period_min", on=local.date()).int_value
    deadline_day = workdays.working_day_on_or_after(start.date() + dt.timedelta(days=period + 5))

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=local.tzinfo)

    return {
        "doc_issue_start": start,
        "doc_issue_end": at(start.date() + dt.timedelta(days=7), 17),
        "question_deadline": at(deadline_day - dt.timedelta(days=10), 17),
        "bid_deadline": at(deadline_day, 9, 30),
    }


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def demo_pdf(lines: list[str]) -> bytes:
    """A small, valid one-page PDF (A4, Helvetica) showing ``lines`` of ASCII text."""
    body = "BT /F1 12 Tf 16 TL 72 770 Td " + " ".join(f"({_pdf_text(t)}) '" for t in lines)
    content = (body + " ET").encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _tender_demo(people: dict[str, tuple[Organisation, User]]) -> list[str]:
    """The tenderer registers a project; its agency publishes a plan and a tender with two
    sections and its documents; two bidders obtain them; one asks, the agency clarifies."""
    tenderer_org, tenderer = people["tenderer"]
    agency_org, agency = people["agency"]
    bidder1, bidder2 = people["bidder1"][1], people["bidder2"][1]
    now = clock.now()
    schedule = demo_schedule(now)  # first: nothing is written if the calendar is not covered
    today = clock.today()
    out: list[str] = []

    project = tendering.register_project(
        tenderer,
        code=f"{today.year}-{DEMO_REGION}-48-01-{DEMO_PROJECT_SERIAL}",
        name="示范新城学校建设工程",
        region_code=DEMO_REGION,
        industry="building",
        funding_source="budget",
        state_funding_percent="100",
        estimated_investment="52000000",
        approval_ref=f"杭发改审批〔{today.year}〕8号",
        agency=agency_org.credit_code,
    )
    out.append(f"registered project {project.code} {project.name}")
    out.append(f"  tenderer {tenderer_org.name}, agency {agency_org.name} (login tenderer)")

    plan = tendering.publish_plan(
        agency,
        project,
        title=f"{project.name}施工招标计划",
        expected_notice_date=today,
        estimated_amount="45000000",
        description="教学楼、宿舍楼及室外配套工程施工，分两个标段招标。",
    )
    out.append(f"published tender plan: {plan.title} (login agency)")

    tender = tendering.create_tender(
        agency,
        project,
        plan=plan,
        title=f"{project.name}施工招标",
        kind=Tender.Kind.WORKS,
        method=Tender.Method.OPEN,
        evaluation_method=Tender.Evaluation.COMPREHENSIVE,
        evaluation_weights={"价格": 60, "技术": 30, "商务": 10},
        separated_award=True,
        award_method=Tender.AwardMethod.LOTTERY,
        deposit_form=Tender.DepositForm.CASH_OR_GUARANTEE,
        qualification="具备建筑工程施工总承包二级及以上资质，具有有效的安全生产许可证",
        sections=[
            {
                "name": "一标段 教学楼及宿舍楼",
                "estimated_price": "36000000",
                "ceiling_price": "37500000",
                "deposit": "720000",
            },
            {"name": "二标段 室外及配套工程", "estimated_price": "9000000", "deposit": "180000"},
        ],
        doc_issue_start=schedule["doc_issue_start"],
        doc_issue_end=schedule["doc_issue_end"],
        question_deadline=schedule["question_deadline"],
        bid_deadline=schedule["bid_deadline"],
    )
    out.append(f"created tender {tender.title} with 2 sections")

    pdf = demo_pdf(
        [
            "openbid demo - tender documents",
            f"Project {project.code}: new town school construction works",
            "Section 1: teaching and dormitory buildings, estimated price 36,000,000 yuan",
            "Section 2: outdoor and supporting works, estimated price 9,000,000 yuan",
            f"Bid deadline and opening: {_time(schedule['bid_deadline'])} (Beijing time)",
        ]
    )
    document = tendering.upload_document(
        agency, tender, ContentFile(pdf, name="招标文件.pdf"), filename="招标文件.pdf"
    )
    out.append(
        f"uploaded tender documents {document.filename} v{document.version} "
        f"({document.size} bytes, sha256 {document.sha256[:16]}…)"
    )

    notice = tendering.publish_tender(agency, tender)
    out.append(f"published the notice: {notice.title}")
    out.append(
        f"  documents issued free {_time(schedule['doc_issue_start'])} – "
        f"{_time(schedule['doc_issue_end'])}; bid deadline and opening "
        f"{_time(schedule['bid_deadline'])}"
    )

    tendering.obtain_documents(bidder1, tender)
    tendering.obtain_documents(bidder2, tender)
    out.append("bidder1 and bidder2 obtained the documents (who did stays secret until opening)")

    question = tendering.ask_question(
        bidder1, tender, text="二标段室外工程是否包含校园围墙及大门？"
    )
    clarification = tendering.issue_clarification(
        agency,
        tender,
        text="答复：二标段室外及配套工程包含校园围墙及大门，详见工程量清单第3章。",
        affects_preparation=False,
        answers=[question.pk],
    )
    out.append(
        f"bidder1 asked a question; the agency answered it in clarification "
        f"no. {clarification.number} (bid deadline unchanged)"
    )
    return out


# --- the completed tender, played in the past ------------------------------------------------------

COMPLETED_PROJECT_SERIAL = "000002"
PAST_DAYS = 70  # how far back the completed tender starts (opening, evaluation, award, contract)
BID_SUITE = "intl-2026"

# (login, price in yuan, duration in days, project manager) of the five bids, in submission order
COMPLETED_BIDS = [
    ("bidder1", "17368000.00", 360, "王建国"),
    ("bidder2", "17845500.00", 330, "李明"),
    ("bidder3", "16990000.00", 365, "陈思远"),
    ("bidder4", "18120000.00", 300, "赵强"),
    ("bidder5", "17512300.50", 345, "孙立"),
]


def completed_schedule(present: dt.datetime) -> tuple[dict[str, dt.datetime] | None, str]:
    """When the completed tender happens: it starts (``start``) at 09:00 China time on the working
    day on or before ``PAST_DAYS`` days before ``present``; documents are issued from an hour later
    and the bid deadline follows ``demo_schedule``; bids are submitted the afternoon before it.

    Returns the times, or ``None`` and why the completed tender cannot be played: the holiday
    calendar does not cover its dates, or the event record already holds events after its start
    (the demo never writes into the past of an existing record).
    """
    try:
        calendar = workdays.WorkingCalendar()
        local = present.astimezone(workdays.CHINA_TZ)
        day = calendar.working_day_on_or_before(local.date() - dt.timedelta(days=PAST_DAYS))
        start = dt.datetime.combine(day, dt.time(9, 0), tzinfo=workdays.CHINA_TZ)
        schedule = demo_schedule(start + dt.timedelta(hours=1))
    except workdays.CalendarNotCovered as exc:
        return None, str(exc)
    deadline = schedule["bid_deadline"]
    times = {
        "start": start,
        **schedule,
        "obtain": start + dt.timedelta(days=1, hours=1),
        "submit": dt.datetime.combine(
            deadline.astimezone(workdays.CHINA_TZ).date() - dt.timedelta(days=1),
            dt.time(14, 0),
            tzinfo=workdays.CHINA_TZ,
        ),
        "opening": deadline + dt.timedelta(minutes=1),
        "present": present,
    }
    if times["opening"] + dt.timedelta(hours=2) > present:
        return None, f"its bid deadline {_time(deadline)} is not yet past"
    latest = DomainEvent.objects.order_by("-id").values_list("occurred_at", flat=True).first()
    if latest is not None and latest > start:
        return None, (
            f"the event record already has events after {_time(start)}, and events stay in "
            "time order"
        )
    return times, ""


def _move_to(moment: dt.datetime) -> dt.datetime:
    """Advance the (frozen) platform clock to ``moment``; it never goes back."""
    now = clock.now()
    if moment < now:
        raise RuntimeError(f"the demo clock would go back from {now} to {moment}")
    return clock.advance(moment - now)


def _bid_package(login: str, org: Organisation, price: str, days: int, manager: str) -> bytes:
    """What a bidder seals: its bid letter and technical proposal (generated PDFs of a few KB)
    and the bid form read out at the opening."""
    number = login.removeprefix("bidder")
    letter = demo_pdf(
        [
            "openbid demo - bid letter",
            f"Bidder {number}, unified social credit code {org.credit_code}",
            f"Bid price: {Decimal(price):,.2f} yuan (tax included)",
            f"Construction period: {days} calendar days; quality: qualified",
            "Bid validity: 90 days from the bid deadline",
        ]
    )
    proposal = demo_pdf(
        [f"openbid demo - technical proposal of bidder {number}"]
        + [
            f"{n}. Method statement for work item {n}: sequence, crew, plant, quality and "
            f"safety checks, environmental measures (week {n} to week {n + 4})."
            for n in range(1, 31)
        ]
    )
    return package.build(
        {"投标函.pdf": letter, "技术标.pdf": proposal},
        {"price": price, "duration_days": days, "项目经理": manager, "质量目标": "合格"},
        tool="openbid demo",
        machine=hashlib.sha256(f"openbid demo machine of {login}".encode()).hexdigest(),
    )


@dataclass
class _Sealed:
    """A submitted bid and the data key its bidder keeps (in memory only) until the opening."""

    login: str
    bid: Bid
    data_key: bytes
    size: int


#: The demo's certification authority (a built-in test CA: its key is derived from a public seed,
#: so it is for demonstrations only).
DEMO_CA_NAME = "示范CA（演示用）"
#: How far the demo's CRL reaches either side of the time it is uploaded (the demo moves the
#: clock back to tell a completed procurement).
_DEMO_CRL_REACH = dt.timedelta(days=800)


def _demo_ca() -> TestCA:
    return TestCA.create_root(
        DEMO_CA_NAME,
        seed="openbid-demo-ca",
        not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        organisation="示范CA",
    )


def _trust_demo_ca(staff: User, region_code: str) -> list[str]:
    """The centre staff recognise the demo CA and upload its CRL (CA 互认)."""
    ca = _demo_ca()
    row = certificates.add_trusted_ca(
        staff, name=DEMO_CA_NAME, region_code=region_code, certificate_pem=to_pem(ca.certificate)
    )
    now = clock.now()
    certificates.add_crl(
        staff,
        ca=row,
        crl_pem_or_der=to_pem(
            ca.crl(this_update=now - _DEMO_CRL_REACH, next_update=now + _DEMO_CRL_REACH)
        ),
    )
    return [f"  trusted CA {DEMO_CA_NAME} added by the trading centre, with its CRL"]


def _certify(user: User, org: Organisation, signing: KeyPair) -> None:
    """The demo CA issues the bidder's person a signing certificate for ``signing``, and the
    person registers it on the platform."""
    ca = _demo_ca()
    if not TrustedCA.objects.filter(fingerprint=certificates.fingerprint(ca.certificate)).exists():
        return  # not trusted: the commit will say so
    key_type = KeyType.ED25519 if BID_SUITE == "intl-2026" else KeyType.SM2
    certificate = ca.issue_person_certificate(
        name=user.get_full_name() or user.get_username(),
        public_key=_public_key_from_pair(signing, key_type),
        credit_code=org.credit_code,
        organisation=org.name,
        not_before=clock.now() - dt.timedelta(days=1),
    )
    certificates.register_certificate(user, certificate_pem=to_pem(certificate), purpose="signing")


def _seal_and_submit(
    login: str,
    org: Organisation,
    user: User,
    section: Section,
    plaintext: bytes,
    also_to: tuple[bytes, ...] = (),
) -> _Sealed:
    """What the bidder client does: seal to the bidder's own key (and ``also_to``: the tender's
    escrow key), sign the commitment, upload the envelope in two chunks and commit it."""
    suite = get_suite(BID_SUITE)
    encryption = suite.generate_encryption_key()
    signing = suite.generate_signing_key()
    _certify(user, org, signing)
    envelope = suite.seal([encryption.public, *also_to], plaintext, bid_aad(section))
    sha = hashlib.sha256(envelope).hexdigest()
    upload = bidding.start_upload(user, section, size=len(envelope), sha256=sha)
    half = len(envelope) // 2
    bidding.append_chunk(user, upload.pk, offset=0, stream=io.BytesIO(envelope[:half]), length=half)
    _move_to(clock.now() + dt.timedelta(minutes=1))
    rest = envelope[half:]
    bidding.append_chunk(user, upload.pk, offset=half, stream=io.BytesIO(rest), length=len(rest))
    commitment = suite.hash(plaintext).hex()
    message = bidding.commitment_message(section, org, sha, commitment)
    bid = bidding.commit_bid(
        user,
        upload.pk,
        suite=BID_SUITE,
        commitment=commitment,
        signature=base64.b64encode(suite.sign(signing.private, message)).decode(),
        public_key=base64.b64encode(signing.public).decode(),
    )
    # At the opening the bidder client unwraps the data key with the private key and releases it.
    data_key = suite.unwrap(encryption.private, envelope)
    return _Sealed(login, bid, data_key, len(envelope))


def _completed_demo(people: People, times: dict[str, dt.datetime]) -> list[str]:
    """A one-section tender from registration to the signed opening record, on the clock set back:
    five bidders seal and submit before the deadline, and release their keys at the opening."""
    tenderer_org, tenderer = people["tenderer"]
    agency_org, agency = people["agency"]
    out: list[str] = []

    def step(text: str) -> None:
        out.append(f"{_time(clock.now())}  {text}")

    _move_to(times["start"] + dt.timedelta(minutes=10))
    year = clock.today().year
    project = tendering.register_project(
        tenderer,
        code=f"{year}-{DEMO_REGION}-48-01-{COMPLETED_PROJECT_SERIAL}",
        name="示范滨江路道路改造工程",
        region_code=DEMO_REGION,
        industry="municipal",
        funding_source="budget",
        state_funding_percent="100",
        estimated_investment="21000000",
        approval_ref=f"杭发改审批〔{year}〕3号",
        agency=agency_org.credit_code,
    )
    step(f"registered project {project.code} {project.name} (tenderer {tenderer_org.name})")

    _move_to(times["start"] + dt.timedelta(minutes=20))
    tender = tendering.create_tender(
        agency,
        project,
        title=f"{project.name}施工招标",
        kind=Tender.Kind.WORKS,
        method=Tender.Method.OPEN,
        evaluation_method=Tender.Evaluation.COMPREHENSIVE,
        evaluation_weights={"technical": "40", "commercial": "10", "price": "40", "credit": "10"},
        separated_award=False,
        deposit_form=Tender.DepositForm.CASH_OR_GUARANTEE,
        qualification="具备市政公用工程施工总承包二级及以上资质，具有有效的安全生产许可证",
        sections=[
            {
                "name": "一标段 道路及排水工程",
                "estimated_price": "18000000",
                "ceiling_price": "18500000",
                "deposit": "300000",
            }
        ],
        doc_issue_start=times["doc_issue_start"],
        doc_issue_end=times["doc_issue_end"],
        question_deadline=times["question_deadline"],
        bid_deadline=times["bid_deadline"],
    )
    pdf = demo_pdf(
        [
            "openbid demo - tender documents",
            f"Project {project.code}: riverside road reconstruction works",
            "Section 1: road and drainage works, ceiling price 18,500,000 yuan",
            f"Bid deadline and opening: {_time(times['bid_deadline'])} (Beijing time)",
        ]
    )
    tendering.upload_document(
        agency, tender, ContentFile(pdf, name="招标文件.pdf"), filename="招标文件.pdf"
    )
    # The key escrow, made off the platform (as `openbid escrow create` does): the trading centre
    # and the regulator each hold one share, both needed. The shares exist only in this function.
    custodians = [people["centre"], people["regulator"]]
    record, shares = crypto_escrow.create_escrow(
        BID_SUITE, threshold=2, custodians=[org.credit_code for org, _u in custodians]
    )
    opening_escrow.register_escrow(agency, tender, record.to_dict())
    step(
        "the agency registered the tender's key escrow: 2 of 2 custodians (the trading centre "
        f"and the regulator), escrow key {record.key_id.hex()[:16]}…"
    )
    _move_to(times["start"] + dt.timedelta(minutes=30))
    tendering.publish_tender(agency, tender)
    tender.refresh_from_db()  # the service published its own copy of the row
    step(
        f"the agency published {tender.title} (one section, ceiling price 18,500,000.00 yuan); "
        f"documents from {_time(times['doc_issue_start'])}, bid deadline and opening "
        f"{_time(times['bid_deadline'])}"
    )

    for n, (login, *_bid) in enumerate(COMPLETED_BIDS):
        _move_to(times["obtain"] + dt.timedelta(minutes=25 * n))
        tendering.obtain_documents(people[login][1], tender)
    step(f"bidder1 to bidder{len(COMPLETED_BIDS)} have obtained the documents")
    out.extend(
        deposits_demo.pay_deposits(
            people,
            tender,
            [login for login, *_rest in COMPLETED_BIDS],
            guarantee_login=COMPLETED_BIDS[-1][0],
            ca=_demo_ca(),
        )
    )

    # An objection to the tender documents (Reg art. 22): the tender is suspended until the agency
    # replies, which it does the next morning, well within its 3 days.
    _move_to(times["obtain"] + dt.timedelta(hours=4))
    documents_objection = disputes.raise_objection(
        people["bidder2"][1],
        tender,
        matter="tender_docs",
        text="招标文件第三章要求“近三年在本市完成过类似工程”，以特定行政区域的业绩作为资格条件，"
        "限制外地投标人，请予修改。",
    )
    step(
        f"bidder2 objected to the tender documents ({documents_objection.reference}); the tender "
        f"is suspended until the reply, due by {_time(documents_objection.reply_due)}"
    )
    _move_to(times["obtain"] + dt.timedelta(days=1))
    disputes.reply_objection(
        agency,
        documents_objection,
        reply="经核查，该条款系笔误，资格条件中的业绩要求不限地域，以澄清为准。",
        changes_documents=True,
    )
    step(f"the agency replied to objection {documents_objection.reference}; the suspension ended")

    section = tender.sections.get()
    sealed: list[_Sealed] = []
    for n, (login, price, days, manager) in enumerate(COMPLETED_BIDS):
        _move_to(times["submit"] + dt.timedelta(minutes=20 * n))
        org, user = people[login]
        submitted = _seal_and_submit(
            login,
            org,
            user,
            section,
            _bid_package(login, org, price, days, manager),
            also_to=(record.public_key,),
        )
        sealed.append(submitted)
        step(
            f"{login} sealed its bid with {BID_SUITE} to its own key and the escrow key "
            f"({submitted.size} bytes), uploaded it in 2 chunks and committed it: receipt at "
            f"ledger index {submitted.bid.ledger_index}"
        )

    _move_to(times["opening"])
    opening.start_due_openings(tender_id=tender.pk)
    session = OpeningSession.objects.get(tender=tender)
    step(
        f"bid deadline passed: the opening started; {len(sealed)} sealed bids await their keys "
        f"until {_time(session.decryption_deadline)}"
    )

    # The keys are released one after another, well within the decryption window; the last
    # bidder has lost its key (a broken laptop) and releases none.
    gap = min(dt.timedelta(minutes=2), (session.decryption_deadline - clock.now()) / 8)
    *releasing, lost = sealed
    for submitted in releasing:
        _move_to(clock.now() + gap)
        org, user = people[submitted.login]
        opened = opening.release_key(user, submitted.bid, submitted.data_key)
        if opened.status == OpenedBid.Status.OPENED and opened.price is not None:
            step(
                f"{submitted.login} released its key: bid {opened.order} {org.name} read out: "
                f"{opened.price:,.2f} yuan, {opened.duration_days} days"
            )
        else:
            step(f"{submitted.login} released its key: bid {opened.order} rejected")

    # The window closes; the bid sealed to the escrow waits for the custodians.
    _move_to(session.decryption_deadline)
    opening.close_decryption(tender_id=tender.pk)
    session.refresh_from_db()
    assert session.escrow_deadline is not None  # the bid sealed to the escrow waits
    step(
        f"the decryption window closed; {lost.login} released no key, and its bid is sealed to "
        f"the escrow: the custodians give their shares until {_time(session.escrow_deadline)}"
    )
    for org, user in custodians:
        _move_to(clock.now() + gap)
        opening_escrow.give_share(user, tender, shares[org.credit_code])
        step(f"{org.name} gave its escrow share")
    del shares
    found = OpenedBid.objects.get(bid=lost.bid)
    session.refresh_from_db()
    step(
        f"the escrow key was recombined and the shares erased: bid {found.order} "
        f"{found.bid.organisation.name} read out through the escrow: {found.price:,.2f} yuan, "
        f"{found.duration_days} days"
    )
    counts = {status: session.bids.filter(status=status).count() for status in OpenedBid.Status}
    closed = _time(session.closed_at) if session.closed_at else "-"
    out.append(
        f"  decryption closed at {closed}: {counts[OpenedBid.Status.OPENED]} bids opened, "
        f"{counts[OpenedBid.Status.REJECTED]} rejected"
    )

    _move_to(clock.now() + gap)
    objection = opening.raise_objection(
        people["bidder3"][1],
        session,
        text="第4号投标人的工期为300日历天，明显短于其他投标人，请核实其唱标内容。",
    )
    step(f"bidder3 raised objection no. {objection.number} at the opening")
    _move_to(clock.now() + gap)
    opening.reply_objection(
        agency,
        objection,
        reply="经核对，第4号投标人投标函载明工期300日历天，唱标无误；工期是否合理由评标委员会评审。",
    )
    step(f"the agency answered objection no. {objection.number} on the spot")

    _move_to(clock.now() + gap)
    session = opening.sign_opening_record(agency, session)
    step(f"the agency signed the opening record and published it: SHA-256 {session.record_sha256}")
    step(deposits_demo.record_findings(agency, tender))
    try:
        with transaction.atomic():  # the complaint happens whole or not at all
            out.extend(_complaint_demo(people, tender, present=times["present"]))
    except workdays.CalendarNotCovered as exc:  # its decision period reaches an unknown year
        out.append(f"Complaint demo skipped: {exc}")
    out += _committee_demo(people, tender, step, gap)
    try:
        with transaction.atomic():  # the award happens whole or not at all
            out += _award_demo(people, tender, step, gap)
    except workdays.CalendarNotCovered as exc:
        out.append(f"Award demo skipped: {exc}")
    return out


# (name, specialties) of the demo's expert pool; the first is the "expert" login.
DEMO_EXPERTS = [
    ("陈建华", ["A0201", "A0601"]),
    ("林晓东", ["A0201"]),
    ("周雅琴", ["A0202"]),
    ("吴国平", ["A0201", "A0703"]),
    ("郑文斌", ["A0601"]),
    ("孙丽萍", ["A0202", "A0204"]),
    ("马志强", ["A0201"]),
]


def _demo_id_number(n: int) -> str:
    """A well-formed, made-up identity number (GB 11643 check character) for demo expert ``n``."""
    body = f"{DEMO_REGION}19750101{n:02d}1"
    return body + identity.check_character(body)


def _committee_demo(people: People, tender: Tender, step: Any, gap: dt.timedelta) -> list[str]:
    """A small expert pool, and a verifiable draw of the tender's 5-expert committee."""
    from openbid.draws.models import Draw
    from openbid.evaluation import committee as committees
    from openbid.evaluation import services as evaluation
    from openbid.evaluation.models import Recusal

    out: list[str] = []
    _centre, staff = people["centre"]
    employer, expert_user = people["expert"]
    _move_to(clock.now() + gap)
    for n, (name, codes) in enumerate(DEMO_EXPERTS):
        account = expert_user
        if n > 0:  # each expert signs with their own certificate: each has an account
            account = services.add_person(
                expert_user,
                employer,
                username=f"expert{n + 1}",
                password=DEMO_PASSWORD,
                role=Role.EXPERT,
                display_name=name,
            ).user
        evaluation.admit_expert(
            staff,
            name=name,
            id_number=_demo_id_number(n),
            employer=employer,
            region_code=DEMO_REGION,
            specialties=codes,
            title="高级工程师",
            user=account,
        )
    # One more works for a bidder: recused before the draw.
    evaluation.admit_expert(
        staff,
        name="钱卫国",
        id_number=_demo_id_number(len(DEMO_EXPERTS)),
        employer=people["bidder2"][0],
        region_code=DEMO_REGION,
        specialties=["A0201"],
    )
    out.append(
        f"  the trading centre admitted {len(DEMO_EXPERTS) + 1} experts to the pool "
        f"(logins expert, expert2 … expert{len(DEMO_EXPERTS)}; expert is 陈建华)"
    )
    _move_to(clock.now() + gap)
    committee = committees.request_committee(
        people["agency"][1],
        tender,
        evaluation_date=clock.today(),
        groups=[{"specialty": "A02", "count": 5, "reserves": 1, "region": "local"}],
    )
    committees.perform_committee_draws(committee)
    draw = Draw.objects.get(subject_kind="tender", subject_id=str(tender.pk))
    recused = Recusal.objects.filter(committee=committee).count()
    assert draw.checkpoint is not None
    step(
        f"the agency drew the 5-expert evaluation committee (1 reserve): {recused} expert recused, "
        f"inputs committed at ledger index {draw.commitment_index}, seed = root of checkpoint "
        f"{draw.checkpoint.size}; check it with `openbid draw verify {draw.pk}`"
    )
    committee.refresh_from_db()
    out += _evaluation_demo(people, tender, committee, step, gap)
    return out


#: The demo's expert scores: per bid (in reading order), a base for each expert-scored factor;
#: expert k adds the k-th offset (all within a fifth of the factor's range of each other).
_DEMO_SCORES = {
    "T1": ([21, 19, 22, 18, 20], [0, 1, -1, 0.5, -0.5]),
    "T2": ([12, 11, 13, 10, 12], [0, 0.5, -0.5, 1, -1]),
    "C1": ([8, 7, 9, 7, 8], [0, 0.5, -0.5, 0, 0.5]),
}


def _evaluation_demo(
    people: People, tender: Tender, committee: Any, step: Any, gap: dt.timedelta
) -> list[str]:
    """The committee confirms and elects its chair; the evaluation runs at a main and a
    secondary venue: clearing, blind technical review, commercial review, K drawn verifiably,
    results, and the report signed by all five experts with their certificates."""
    from openbid.crypto import document_signatures
    from openbid.crypto.document_message import signing_message
    from openbid.evaluation import committee as committees
    from openbid.evaluation import session as evaluation
    from openbid.evaluation.models import CommitteeMember

    out: list[str] = []
    suite = get_suite(BID_SUITE)
    seats = list(
        committee.members.filter(kind=CommitteeMember.Kind.EXPERT)
        .select_related("expert__user", "expert__employer")
        .order_by("pk")
    )
    users = {m.pk: m.expert.user for m in seats}
    keys: dict[int, KeyPair] = {}
    for m in seats:
        _move_to(clock.now() + gap / 4)
        committees.confirm_seat(users[m.pk], m)
        keys[m.pk] = suite.generate_signing_key()
        _certify(users[m.pk], m.expert.employer, keys[m.pk])
    committee.refresh_from_db()
    step(
        f"the five drawn experts confirmed ({committee.get_status_display()}); each holds a "
        "signing certificate of the demo CA"
    )
    for m in seats[:3]:
        committees.vote_chair(users[m.pk], committee, candidate=seats[0])
    step(f"the committee elected {seats[0].expert.name} its chair (3 of 5 votes)")

    def sign(m: Any, kind: str, document_id: int) -> None:
        user = users[m.pk]
        sha = document_signatures.signable(user, kind, document_id).sha256
        signature = suite.sign(keys[m.pk].private, signing_message(kind, document_id, sha))
        document_signatures.sign(
            user,
            kind,
            document_id,
            sha256=sha,
            signature=base64.b64encode(signature).decode(),
            public_key=base64.b64encode(keys[m.pk].public).decode(),
        )

    _move_to(clock.now() + gap)
    session = evaluation.start_session(
        people["agency"][1],
        tender,
        venues=[
            {"kind": "main", "name": "杭州市公共资源交易中心 评标室3", "region_code": DEMO_REGION},
            {"kind": "secondary", "name": "宁波市公共资源交易中心 副场2", "region_code": "330200"},
        ],
    )
    findings = sum(len(b["findings"]) for b in session.clearing["bids"])
    step(
        f"the agency started the evaluation: the platform cleared {len(session.clearing['bids'])} "
        f"bids ({findings} findings), compared their packages, committed the blind-review plan "
        f"({session.blind_commitment[:16]}…) and drew K = {session.coefficient} verifiably "
        f"(`openbid draw verify {session.coefficient_draw_id}`)"
    )
    venues = list(session.venues.order_by("pk"))
    for n, m in enumerate(seats):
        _move_to(clock.now() + gap / 4)
        attendance = evaluation.check_in(users[m.pk], session, venue=venues[0 if n < 3 else 1])
        sign(m, evaluation.SIGN_IN_KIND, attendance.pk)
    step("the experts signed in with their certificates: 3 at the main venue, 2 at the secondary")
    evaluation.post_message(
        users[seats[0].pk], session, text="请各位专家先阅读评标办法，技术标按各自顺序独立评审。"
    )
    bids = evaluation.bids(session)
    for part, codes in (("technical", ("T1", "T2")), ("commercial", ("C1",))):
        for k, m in enumerate(seats):
            _move_to(clock.now() + gap / 2)
            rows = []
            for i, b in enumerate(bids):
                for code in codes:
                    base, offsets = _DEMO_SCORES[code]
                    rows.append(
                        {
                            "bid": evaluation.code_of(session, b.pk)
                            if part == "technical"
                            else b.pk,
                            "criterion": code,
                            "points": str(Decimal(str(base[i])) + Decimal(str(offsets[k]))),
                        }
                    )
            evaluation.save_scores(users[m.pk], session, part, rows)
            evaluation.submit_sheet(users[m.pk], session, part)
        for m in seats:
            sheet = evaluation.sheet_for(users[m.pk], session, part)
            sign(m, evaluation.SCORES_KIND, sheet.pk)
        session.refresh_from_db()
        if part == "technical":
            evaluation.verify_blind(session)
            step(
                "every expert scored the technical bids under codes, each in their own order, and "
                "signed the scores; the blind-review plan and secret were then published and "
                "recompute to the commitment"
            )
        else:
            step("every expert scored the commercial factors and signed the scores")
    _move_to(clock.now() + gap)
    chair = users[seats[0].pk]
    evaluation.compute_results(chair, session)
    evaluation.perform_draws(session)
    session.refresh_from_db()
    assert session.result is not None
    ranking = ", ".join(
        f"{e['rank']}. {e['bidder']} {e['figure']}" for e in session.result["ranking"]["entries"]
    )
    step(f"the chair had the results computed: {ranking}")
    report = evaluation.generate_report(chair, session)
    step(f"the chair generated the evaluation report: SHA-256 {report.sha256}")
    for m in seats:
        _move_to(clock.now() + gap / 4)
        sign(m, evaluation.REPORT_KIND, report.pk)
    session.refresh_from_db()
    report.refresh_from_db()
    fee = session.fees.first()
    step(
        f"all five experts signed the report with their certificates: the evaluation is "
        f"{session.get_status_display()}; recommended candidates: "
        + ", ".join(c["bidder"] for c in report.candidates)
        + (f"; fees recorded for payment: {fee.amount} yuan each ({fee.basis})" if fee else "")
    )
    return out


def _complaint_schedule(opened: dt.datetime) -> dict[str, dt.datetime]:
    """The complaint about the opening: filed the day after it, accepted on the next working day,
    materials requested and given that day, decided the working day after."""
    calendar = workdays.WorkingCalendar()
    opened_day = opened.astimezone(workdays.CHINA_TZ).date()
    filed = dt.datetime.combine(
        opened_day + dt.timedelta(days=1), dt.time(10, 0), tzinfo=workdays.CHINA_TZ
    )
    accept_day = calendar.next_working_day(filed.date())
    decide_day = calendar.next_working_day(accept_day)
    return {
        "filed": filed,
        "accepted": dt.datetime.combine(accept_day, dt.time(9, 30), tzinfo=workdays.CHINA_TZ),
        "requested": dt.datetime.combine(accept_day, dt.time(10, 0), tzinfo=workdays.CHINA_TZ),
        "given": dt.datetime.combine(accept_day, dt.time(15, 0), tzinfo=workdays.CHINA_TZ),
        "decided": dt.datetime.combine(decide_day, dt.time(10, 0), tzinfo=workdays.CHINA_TZ),
    }


def _complaint_demo(people: People, tender: Tender, *, present: dt.datetime) -> list[str]:
    """bidder3, whose objection at the opening was answered, complains about the opening to the
    regulator of the responsibility list; the regulator accepts it, asks the agency for the bid
    form, and dismisses it in a decision published without the complainant's name."""
    out: list[str] = []
    opened_on = clock.today()
    times = _complaint_schedule(clock.now())
    if times["decided"] + dt.timedelta(hours=1) > present:
        out.append("Complaint demo skipped: its decision would fall after the present")
        return out
    _org, bidder3 = people["bidder3"]
    regulator_org, officer = people["regulator"]
    agency_org, agency = people["agency"]
    _move_to(times["filed"])
    complaint = disputes.file_complaint(
        bidder3,
        tender,
        matter="opening",
        knew_on=opened_on,
        text="开标时第4号投标人唱标工期为300日历天，明显不合理，招标代理机构当场答复后未予纠正。",
        requests="请核查第4号投标人的投标函及唱标记录。",
    )
    out.append(
        f"{_time(clock.now())}  bidder3 complained about the opening ({complaint.reference}) to "
        f"{regulator_org.name}; acceptance due by {_time(complaint.accept_due)}"
    )
    _move_to(times["accepted"])
    disputes.accept_complaint(officer, complaint)
    _move_to(times["requested"])
    request = disputes.request_materials(
        officer,
        complaint,
        addressee=agency_org.credit_code,
        text="请提供第4号投标人的投标函及开标记录。",
        due_on=times["decided"].date(),
    )
    _move_to(times["given"])
    disputes.reply_to_request(
        agency, request, text="已提供第4号投标人投标函（工期300日历天）及签署的开标记录。"
    )
    out.append(
        f"{_time(clock.now())}  the regulator accepted it and asked the agency for the bid form; "
        "the agency gave it"
    )
    _move_to(times["decided"])
    complaint = disputes.decide_complaint(
        officer,
        complaint,
        outcome="dismissed",
        findings="经核查，第4号投标人投标函载明工期300日历天，唱标内容与投标函一致；工期是否合理属于评标"
        "委员会评审事项，不属于开标程序问题。",
        decision_number=f"示发改投诉〔{clock.today().year}〕1号",
    )
    out.append(
        f"{_time(clock.now())}  the regulator dismissed complaint {complaint.reference} in "
        f"decision {complaint.decision_number}, published without the complainant's name"
    )
    return out


# --- the award and the contract -----------------------------------------------------------------

#: The demo's contract template (the trading centre's 合同范本), with the award's placeholders.
DEMO_CONTRACT_TEMPLATE = (
    "建设工程施工合同（示范文本）\n合同编号：${contract_number}\n"
    "发包人：${tenderer}（统一社会信用代码 ${tenderer_code}）\n"
    "承包人：${winner}（统一社会信用代码 ${winner_code}）\n"
    "一、工程概况：${project}（项目代码 ${project_code}），${tender}，${section}。\n"
    "二、合同价款：${price}（含税），与中标价一致。\n"
    "三、工期：${duration_days}日历天。\n"
    "四、主要条款：${key_terms}\n"
    "五、本合同依据${award_notice_date}发出的中标通知书订立，经双方以数字证书签署后生效并公开。\n"
)


def _demo_sign(user: User, org: Organisation, kind: str, document_id: int, sha256: str) -> None:
    """What ``openbid-bidder sign`` does with a certified key: the demo CA certifies a fresh
    signing key for the person, who signs the document's SHA-256 with it."""
    from openbid.crypto import document_signatures
    from openbid.crypto.document_message import signing_message

    suite = get_suite(BID_SUITE)
    key = suite.generate_signing_key()
    _certify(user, org, key)
    document_signatures.sign(
        user,
        kind,
        document_id,
        sha256=sha256,
        signature=base64.b64encode(
            suite.sign(key.private, signing_message(kind, document_id, sha256))
        ).decode(),
        public_key=base64.b64encode(key.public).decode(),
    )


def _award_demo(people: People, tender: Tender, step: Any, gap: dt.timedelta) -> list[str]:
    """Candidate publicity, the award, the signed award notice, a contract signed by both and
    published, and the written report to the regulator — if the publicity ends well before the
    present (the clock never passes it)."""
    from openbid.award import services as award

    out: list[str] = []
    tenderer_org, tenderer = people["tenderer"]
    _agency_org, agency = people["agency"]
    _centre, staff = people["centre"]
    from openbid.award.models import Publicity

    # The candidates went into publicity when the last member signed the evaluation report.
    publicity = Publicity.objects.filter(section__tender=tender).first()
    if publicity is None:
        out.append("  award demo skipped: the evaluation report was not signed by every member")
        return out
    names = ", ".join(
        f"{c.rank}. {c.bidder.name} {c.price:,.2f}" for c in publicity.candidates.order_by("rank")
    )
    step(
        f"the evaluation report signed by every member put the candidates in publicity ({names}); "
        f"publicity until {_time(publicity.ends_at)}"
    )
    after = publicity.ends_at + dt.timedelta(hours=9)
    if after + dt.timedelta(hours=3) > _present_limit():
        out.append(
            f"  award demo skipped: the publicity ends {_time(publicity.ends_at)}, too close to now"
        )
        return out
    _move_to(after)
    award.record_publicity_ends()
    decision = award.decide_award(tenderer, publicity)
    assert decision.winner is not None
    winner_org = decision.winner.bidder
    step(f"the publicity ended; the tenderer decided the award: {winner_org.name} (first-ranked)")
    _move_to(clock.now() + gap)
    award.prepare_notices(agency, decision)
    notice = award.award_notice_of(decision)
    assert notice is not None
    _move_to(clock.now() + gap)
    _demo_sign(tenderer, tenderer_org, "award-notice", notice.pk, notice.sha256)
    step(
        f"the tenderer signed the award notice with its certificate: issued to {winner_org.name}, "
        "result notices to the other bidders, result published"
    )
    _move_to(clock.now() + gap)
    template = award.create_template(
        staff, name="建设工程施工合同（示范文本）", body=DEMO_CONTRACT_TEMPLATE, kind="works"
    )
    contract = award.draft_contract(
        agency,
        decision,
        template=template,
        duration_days=decision.winner.disclosed.get("duration", "365").removesuffix("日历天"),
        key_terms="按招标文件合同条款执行；预付款10%，按月进度付款，竣工结算后付至97%，质保金3%。",
    )
    version = award.current_version(contract)
    step(
        f"the agency drafted contract {contract.number} from the centre's template: SHA-256 {version.sha256}"
    )
    winner_user = next(user for org, user in people.values() if org.pk == winner_org.pk)
    for org, user in ((tenderer_org, tenderer), (winner_org, winner_user)):
        _move_to(clock.now() + gap)
        _demo_sign(user, org, "contract", contract.pk, version.sha256)
    contract.refresh_from_db()
    step(
        f"the tenderer and {winner_org.name} signed the contract with their certificates; it is "
        f"published (合同订立公开) at /award/contracts/{contract.pk}/"
    )
    _move_to(clock.now() + gap)
    report = award.file_written_report(agency, tender)
    step(f"the agency filed the written report to the regulator (due {_time(report.due_at)})")
    return out


def _present_limit() -> dt.datetime:
    """The present the completed tender must stay before (set by ``_run``)."""
    return _PRESENT[0]


_PRESENT: list[dt.datetime] = [dt.datetime.max.replace(tzinfo=dt.UTC)]
