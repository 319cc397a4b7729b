"""The expert pool: admission, changes, suspension, removal, calendar and conflicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.evaluation import services, specialties
from openbid.evaluation.models import ConflictDeclaration, Expert, ExpertSpecialty, Unavailability
from openbid.ledger.models import Entry
from tests.evaluation.helpers import employer, expert, id_number, staff
from tests.factories import market_entity

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = (Expert, ExpertSpecialty, Unavailability, ConflictDeclaration, DomainEvent, Entry)
    return {m.__name__: m.objects.count() for m in models}


def test_admission_stores_a_keyed_digest_never_the_id_number(clock: Any) -> None:
    centre = staff()
    number = id_number(77)
    e = services.admit_expert(
        centre,
        name="王工",
        id_number=number,
        employer=employer(),
        region_code="330106",
        specialties=["A0201", "A0601"],
    )
    assert e.status == Expert.Status.ADMITTED
    assert e.specialty_codes == ["A0201", "A0601"]
    assert number not in e.id_digest and len(e.id_digest) == 64
    event = DomainEvent.objects.get(type="evaluation.expert.admitted")
    assert event.payload == {
        "expert": e.pk,
        "region_code": "330106",
        "specialties": ["A0201", "A0601"],
        "status": "admitted",
    }
    assert "王工" not in str(event.payload) and event.private_digest
    with pytest.raises(Conflict):
        services.admit_expert(
            centre,
            name="王工",
            id_number=number.lower(),
            employer=employer(),
            region_code="330106",
            specialties=["A0201"],
        )


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"id_number": "330106198000001018"}, "gb11643"),  # wrong check character
        ({"id_number": "12345"}, "gb11643"),
        ({"specialties": []}, "required"),
        ({"specialties": ["Z99"]}, "specialty_code"),
        ({"region_code": "999999"}, None),
        ({"name": "  "}, "required"),
    ],
)
def test_admission_refusals_write_nothing(clock: Any, change: dict, rule: str | None) -> None:
    centre = staff()
    org = employer()
    before = counts()
    fields: dict[str, Any] = {
        "name": "李工",
        "id_number": id_number(5),
        "employer": org,
        "region_code": "330106",
        "specialties": ["A0201"],
        **change,
    }
    with pytest.raises(InvalidInput) as exc:
        services.admit_expert(centre, **fields)
    if rule:
        assert exc.value.rule == rule
    assert counts() == before


def test_only_centre_staff_manage_the_pool(clock: Any) -> None:
    _org, bidder = market_entity()
    org = employer()
    before = counts()
    with pytest.raises(NotAllowed):
        services.admit_expert(
            bidder,
            name="李工",
            id_number=id_number(6),
            employer=org,
            region_code="330106",
            specialties=["A0201"],
        )
    with pytest.raises(NotAllowed):
        services.admit_expert(
            None,
            name="李工",
            id_number=id_number(6),
            employer=org,
            region_code="330106",
            specialties=["A0201"],
        )
    assert counts() == before


def test_suspend_reinstate_remove(clock: Any) -> None:
    centre = staff()
    e = expert(centre)
    with pytest.raises(InvalidInput):
        services.suspend_expert(centre, e, reason=" ")
    e = services.suspend_expert(centre, e, reason="年度考核不合格")
    assert e.status == Expert.Status.SUSPENDED and e.status_reason == "年度考核不合格"
    with pytest.raises(Conflict):
        services.suspend_expert(centre, e, reason="again")
    e = services.reinstate_expert(centre, e, reason="整改完成")
    assert e.status == Expert.Status.ADMITTED
    e = services.remove_expert(centre, e, reason="违规收受财物，清退")
    assert e.status == Expert.Status.REMOVED
    before = counts()
    for call in (services.reinstate_expert, services.suspend_expert, services.remove_expert):
        with pytest.raises(Conflict):
            call(centre, e, reason="x")
    with pytest.raises(Conflict):
        services.update_expert(centre, e, title="x")
    assert counts() == before
    types = list(
        DomainEvent.objects.filter(type__startswith="evaluation.expert.").values_list(
            "type", flat=True
        )
    )
    assert types[-3:] == [
        "evaluation.expert.suspended",
        "evaluation.expert.admitted",
        "evaluation.expert.removed",
    ]


def test_update_expert(clock: Any) -> None:
    centre = staff()
    e = expert(centre)
    e = services.update_expert(centre, e, specialties=["A0601", "a0201"], region_code="440305")
    assert e.specialty_codes == ["A0201", "A0601"] and e.region_code == "440305"
    assert DomainEvent.objects.filter(type="evaluation.expert.changed").count() == 1


def test_calendar_and_conflicts_by_the_expert_or_staff(clock: Any) -> None:
    centre = staff()
    e = expert(centre)
    day = dt.date(2026, 3, 10)
    item = services.add_unavailability(e.user, e, start=day, end=day, reason="出差")
    assert item.expert == e
    with pytest.raises(InvalidInput):
        services.add_unavailability(e.user, e, start=day, end=day - dt.timedelta(days=1))
    other = expert(centre)
    before = counts()
    with pytest.raises(NotAllowed):
        services.add_unavailability(other.user, e, start=day, end=day)
    with pytest.raises(NotAllowed):
        services.declare_conflict(other.user, e, organisation=e.employer, reason="x")
    assert counts() == before
    services.withdraw_unavailability(centre, item)
    item.refresh_from_db()
    assert item.withdrawn
    org, _user = market_entity()
    services.declare_conflict(e.user, e, organisation=org, reason="配偶任职")
    with pytest.raises(Conflict):
        services.declare_conflict(centre, e, organisation=org, reason="again")
    event = DomainEvent.objects.get(type="evaluation.expert.conflict_declared")
    assert org.credit_code not in str(event.payload)


def test_specialty_classification_is_hierarchical() -> None:
    table = specialties.table()
    assert table["A0201"].parent == "A02" and table["A02"].parent == "A"
    assert all(s.parent is None or s.parent in table for s in table.values())
    assert specialties.covers("A02", "A0201") and not specialties.covers("A0201", "A02")
