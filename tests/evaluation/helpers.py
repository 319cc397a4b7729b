"""Experts and opened tenders for evaluation tests, made through the services."""

from __future__ import annotations

import itertools
from typing import Any

from openbid.accounts import identity
from openbid.accounts import services as accounts
from openbid.accounts.models import Organisation, User
from openbid.accounts.roles import OrgType, Role
from openbid.evaluation import services
from openbid.evaluation.models import Expert
from openbid.opening import services as opening
from openbid.tendering.models import Tender
from tests.factories import PASSWORD, centre_with_staff, market_entity
from tests.opening.helpers import Sealed, at_deadline, tender_with_bids

_serial = itertools.count(1)


def id_number(n: int | None = None) -> str:
    """A well-formed identity number (GB 11643 check character) for person ``n``."""
    n = next(_serial) if n is None else n
    body = f"3301061980{(n // 1000) % 100:02d}{n % 1000:03d}{n % 10:02d}"[:17]
    return body + identity.check_character(body)


def staff() -> User:
    _centre, user = centre_with_staff(username=f"centre{next(_serial)}")
    return user


def employer(region: str = "330100") -> Organisation:
    org, _user = market_entity(OrgType.EXPERT_EMPLOYER, region_code=region)
    return org


def expert(
    staff_user: User,
    *,
    specialties: tuple[str, ...] = ("A0201",),
    region: str = "330106",
    employer_org: Organisation | None = None,
    with_account: bool = True,
    name: str | None = None,
    number: str | None = None,
) -> Expert:
    n = next(_serial)
    org = employer_org or employer(region[:4] + "00")
    user = None
    if with_account:
        admin = User.objects.filter(
            memberships__organisation=org, memberships__is_admin=True
        ).first()
        user = accounts.add_person(
            admin, org, username=f"expert{n}", password=PASSWORD, role=Role.EXPERT
        ).user
    return services.admit_expert(
        staff_user,
        name=name or f"专家{n}",
        id_number=number or id_number(n),
        employer=org,
        region_code=region,
        specialties=list(specialties),
        title="高级工程师",
        qualifications=["一级建造师"],
        user=user,
    )


def pool(staff_user: User, count: int, **kw: Any) -> list[Expert]:
    return [expert(staff_user, **kw) for _ in range(count)]


def opened_tender(clock: Any) -> tuple[Tender, User, list[Sealed]]:
    """A one-section tender with three bids, opened (status ``opened``)."""
    tender, manager, sealed = tender_with_bids(clock)
    at_deadline(clock, tender)
    opening.start_due_openings()
    tender.refresh_from_db()
    return tender, manager, sealed


def evaluation_day(clock: Any) -> Any:
    import datetime as dt

    return clock.now().date() + dt.timedelta(days=1)
