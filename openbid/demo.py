"""The demo scenario: organisations and people for every role, then a tender, made through the
services.

Each step is a service call, exactly as a person would make it through the web or the API, so the
demo also exercises the rules and fills the event record. The tender's schedule is computed from
the platform clock and the holiday calendar, so the demo runs on any day; when the calendar does
not cover the dates it needs, the tender part is skipped with a line saying why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from openbid.accounts import services
from openbid.accounts.credit_code import generate_credit_code
from openbid.accounts.models import Organisation, User
from openbid.accounts.roles import OrgType, Role
from openbid.core import clock, rules, workdays
from openbid.tendering import services as tendering
from openbid.tendering.models import Tender

DEMO_PASSWORD = "openbid-demo-2026"  # noqa: S105 - printed for the demo users, not a secret
DEMO_REGION = "330100"  # 杭州市

# (authority/category, body, name, type, login, role-display)
_MARKET_ENTITIES = [
    ("91", "MA2DEM001", "示范城市建设投资集团有限公司", OrgType.TENDERER, "tenderer"),
    ("91", "MA2DEM002", "诚信工程咨询有限公司", OrgType.AGENCY, "agency"),
    ("91", "MA2DEM003", "第一建设工程有限公司", OrgType.BIDDER, "bidder1"),
    ("91", "MA2DEM004", "第二建设工程有限公司", OrgType.BIDDER, "bidder2"),
    ("91", "MA2DEM005", "第三建设工程有限公司", OrgType.BIDDER, "bidder3"),
    ("12", "MB0DEM006", "示范市建筑设计研究院", OrgType.EXPERT_EMPLOYER, "expert"),
]
_CENTRE = ("11", "MB0DEM000", "示范市公共资源交易中心")
_REGULATOR = ("11", "MB0DEM007", "示范市发展和改革委员会")


def _code(prefix: str, body: str) -> str:
    return generate_credit_code(prefix[0], prefix[1], DEMO_REGION, body)


def demo_present() -> bool:
    return Organisation.objects.filter(credit_code=_code(_CENTRE[0], _CENTRE[1])).exists()


def run_demo() -> Iterator[str]:
    """Create the demo organisations and people; yield a line per step."""
    centre = services.create_public_body(
        None,
        name=_CENTRE[2],
        credit_code=_code(_CENTRE[0], _CENTRE[1]),
        org_type=OrgType.TRADING_CENTRE,
        region_code=DEMO_REGION,
    )
    yield f"created trading centre {centre.name} ({centre.credit_code})"
    staff = services.add_person(
        None,
        centre,
        username="centre",
        password=DEMO_PASSWORD,
        role=Role.CENTRE_STAFF,
        display_name="交易中心 王工",
        is_admin=True,
    ).user
    yield "  login centre: trading centre staff"
    services.add_person(
        staff,
        centre,
        username="auditor",
        password=DEMO_PASSWORD,
        role=Role.AUDITOR,
        display_name="审计 赵工",
    )
    yield "  login auditor: auditor (read-only)"

    regulator = services.create_public_body(
        staff,
        name=_REGULATOR[2],
        credit_code=_code(_REGULATOR[0], _REGULATOR[1]),
        org_type=OrgType.REGULATOR,
        region_code=DEMO_REGION,
    )
    services.add_person(
        staff,
        regulator,
        username="regulator",
        password=DEMO_PASSWORD,
        role=Role.REGULATOR,
        display_name="监督 李处",
        is_admin=True,
    )
    yield f"created regulator {regulator.name}\n  login regulator: regulator"

    people: dict[str, tuple[Organisation, User]] = {}
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
        yield f"registered {OrgType(org_type).label}: {org.name} ({org.credit_code})"
        yield f"  login {login}"
        if org_type != OrgType.BIDDER or login == "bidder1":
            services.verify_organisation(staff, org, note="营业执照信息核验一致")
            yield "  verified by the trading centre"

    try:
        with transaction.atomic():  # the tender part happens whole or not at all
            lines = _tender_demo(people)
    except workdays.CalendarNotCovered as exc:
        yield f"Tender demo skipped: {exc}"
    else:
        yield from lines

    yield f"All demo logins use the password: {DEMO_PASSWORD}"
    users = ", ".join(User.objects.order_by("id").values_list("username", flat=True))
    yield f"Logins: {users}"


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
