"""The demo scenario: organisations and people for every role, made through the services.

Each step is a service call, exactly as a person would make it through the web or the API, so the
demo also exercises the rules and fills the event record.
"""

from __future__ import annotations

from collections.abc import Iterator

from openbid.accounts import services
from openbid.accounts.credit_code import generate_credit_code
from openbid.accounts.models import Organisation, User
from openbid.accounts.roles import OrgType, Role

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

    for prefix, body, name, org_type, login in _MARKET_ENTITIES:
        org, _user = services.register_market_entity(
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
        yield f"registered {OrgType(org_type).label}: {org.name} ({org.credit_code})"
        yield f"  login {login}"
        if org_type != OrgType.BIDDER or login == "bidder1":
            services.verify_organisation(staff, org, note="营业执照信息核验一致")
            yield "  verified by the trading centre"

    yield f"All demo logins use the password: {DEMO_PASSWORD}"
    users = ", ".join(User.objects.order_by("id").values_list("username", flat=True))
    yield f"Logins: {users}"
