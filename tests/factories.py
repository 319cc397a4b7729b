"""Test data made through the services, as a person would make it."""

from __future__ import annotations

import itertools
from typing import Any

from openbid.accounts import services
from openbid.accounts.credit_code import generate_credit_code
from openbid.accounts.models import Organisation, User
from openbid.accounts.roles import OrgType, Role

PASSWORD = "a-Long-enough-passphrase-42"
_serial = itertools.count(1)

_FIRST_ROLE = {
    OrgType.TENDERER: Role.TENDERER_STAFF,
    OrgType.AGENCY: Role.AGENCY_STAFF,
    OrgType.BIDDER: Role.BIDDER_STAFF,
    OrgType.EXPERT_EMPLOYER: Role.EXPERT,
}


def credit_code(region: str = "330100", authority: str = "9", category: str = "1") -> str:
    n = next(_serial)
    return generate_credit_code(authority, category, region, f"MA{n:07d}")


def centre_with_staff(username: str = "centre") -> tuple[Organisation, User]:
    centre = Organisation.objects.filter(org_type=OrgType.TRADING_CENTRE).first()
    if centre is None:
        centre = services.create_public_body(
            None,
            name="测试公共资源交易中心",
            credit_code=credit_code(authority="1", category="1"),
            org_type=OrgType.TRADING_CENTRE,
            region_code="330100",
        )
        admin = None
    else:
        admin = User.objects.filter(
            memberships__organisation=centre, memberships__is_admin=True
        ).first()
    membership = services.add_person(
        admin,
        centre,
        username=username,
        password=PASSWORD,
        role=Role.CENTRE_STAFF,
        is_admin=admin is None,
    )
    return centre, membership.user


def market_entity(
    org_type: str = OrgType.BIDDER, username: str | None = None, **overrides: Any
) -> tuple[Organisation, User]:
    n = next(_serial)
    fields: dict[str, Any] = {
        "name": f"测试单位{n}有限公司",
        "credit_code": credit_code(),
        "org_type": org_type,
        "region_code": "330100",
        "admin_username": username or f"user{n}",
        "admin_password": PASSWORD,
        "accept_commitment": True,
    }
    fields.update(overrides)
    return services.register_market_entity(**fields)


def regulator_with_staff(staff: User, username: str = "regulator") -> tuple[Organisation, User]:
    org = services.create_public_body(
        staff,
        name="测试市发展和改革委员会",
        credit_code=credit_code(authority="1", category="1"),
        org_type=OrgType.REGULATOR,
        region_code="330100",
    )
    membership = services.add_person(
        staff, org, username=username, password=PASSWORD, role=Role.REGULATOR, is_admin=True
    )
    return org, membership.user
