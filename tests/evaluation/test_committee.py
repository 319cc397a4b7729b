"""Drawing an evaluation committee: recusal, the verifiable draw, confirmations, redraws, the
committee rules (Law art. 37), representatives and the chair's election, publication."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.draws.models import Draw
from openbid.evaluation import committee as committees
from openbid.evaluation import credit_link, services
from openbid.evaluation.models import Committee, CommitteeMember, Recusal, Reserve
from openbid.ledger.models import Entry
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from tests.evaluation.helpers import evaluation_day, expert, opened_tender, pool, staff
from tests.factories import market_entity
from tests.opening.helpers import (
    bid_package,
    bidder,
    one_section_tender,
    submit,
    tender_with_bids,
)

pytestmark = pytest.mark.django_db

FIVE = [{"specialty": "A02", "count": 5, "reserves": 0, "region": "local"}]


def counts() -> dict[str, int]:
    models = (Committee, CommitteeMember, Recusal, Reserve, Draw, DomainEvent, Entry)
    return {m.__name__: m.objects.count() for m in models}


def draw_committee(actor: Any, tender: Tender, clock: Any, **kw: Any) -> Committee:
    criteria: dict[str, Any] = {"evaluation_date": evaluation_day(clock), "groups": FIVE}
    criteria.update(kw)
    return committees.start_committee_draw(actor, tender, **criteria)


def verify(draw: Draw) -> str:
    out = StringIO()
    call_command("draw", "verify", str(draw.pk), stdout=out)
    return out.getvalue()


def experts_of(committee: Committee, status: str | None = None) -> set[int]:
    qs = committee.members.filter(kind=CommitteeMember.Kind.EXPERT)
    if status:
        qs = qs.filter(status=status)
    return set(qs.values_list("expert", flat=True))


def test_a_verifiable_secret_draw_of_five_local_experts(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    centre = staff()
    local = pool(centre, 7, region="330106")
    remote = pool(centre, 2, region="440305")
    wrong_specialty = pool(centre, 2, specialties=("B0201",))
    committee = draw_committee(manager, tender, clock)
    assert committee.status == Committee.Status.CONFIRMING
    drawn = experts_of(committee, CommitteeMember.Status.INVITED)
    assert len(drawn) == 5 and drawn <= {e.pk for e in local}
    draw = Draw.objects.get(purpose="evaluation.committee")
    refs = {c["ref"] for c in draw.snapshot["candidates"]}
    assert refs == {f"expert:{e.pk}" for e in local}  # remote and other specialties left out
    assert not ({f"expert:{e.pk}" for e in remote + wrong_specialty} & refs)
    assert draw.secret and draw.inputs["previous"] is None
    assert verify(draw).strip().endswith("verified")
    # Nothing public names the drawn experts: only digests.
    after = DomainEvent.objects.filter(pk__gte=draw.commitment_event_id)
    for event in after:
        text = str(event.payload)
        for e in drawn:
            assert f"expert:{e}" not in text and f"'expert': {e}" not in text
    assert "inputs" not in draw.commitment_event.payload


def test_remote_groups_draw_from_other_provinces(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    centre = staff()
    pool(centre, 3, region="330106")
    guangdong = pool(centre, 3, region="440305")
    jiangsu = pool(centre, 3, region="320102")
    groups = [
        {"specialty": "A02", "count": 2, "region": "local"},
        {"specialty": "A0201", "count": 3, "region": "remote", "provinces": ["440000"]},
    ]
    committee = draw_committee(manager, tender, clock, groups=groups)
    remote = set(committee.members.filter(group="g2").values_list("expert", flat=True))
    assert remote == {e.pk for e in guangdong}
    assert not remote & {e.pk for e in jiangsu}


def test_recusal_before_drawing(clock: Any, settings: Any, monkeypatch: Any) -> None:
    settings.OPENBID_EXPERT_JOINT_LIMIT = 1
    tender, manager, sealed = opened_tender(clock)
    project = tender.project
    centre = staff()
    eligible = pool(centre, 5)
    at_tenderer = expert(centre, employer_org=project.tenderer, with_account=False)
    at_bidder = expert(centre, employer_org=sealed[0].org, with_account=False)
    conflicted = expert(centre)
    services.declare_conflict(
        conflicted.user, conflicted, organisation=sealed[1].org, reason="亲属"
    )
    away = expert(centre)
    day = evaluation_day(clock)
    services.add_unavailability(away.user, away, start=day, end=day + dt.timedelta(days=2))
    dishonest = expert(centre)
    monkeypatch.setattr(
        credit_link,
        "seriously_dishonest_expert_ids",
        lambda ids, on: {dishonest.pk} & set(ids),
    )
    committee = draw_committee(manager, tender, clock)
    reasons = {(r.expert_id, r.reason) for r in Recusal.objects.filter(committee=committee)}
    assert reasons == {
        (at_tenderer.pk, Recusal.Reason.EMPLOYER_TENDERER),
        (at_bidder.pk, Recusal.Reason.EMPLOYER_BIDDER),
        (conflicted.pk, Recusal.Reason.DECLARED_CONFLICT),
        (away.pk, Recusal.Reason.UNAVAILABLE),
        (dishonest.pk, Recusal.Reason.SERIOUSLY_DISHONEST),
    }
    assert Recusal.objects.get(expert=at_bidder).detail == sealed[0].org.name
    assert experts_of(committee) == {e.pk for e in eligible}
    draw = Draw.objects.get()
    assert draw.inputs["criteria"]["recused"] == 5
    assert len(draw.snapshot["candidates"]) == 5


def test_recusal_for_recent_joint_evaluations(clock: Any, settings: Any) -> None:
    settings.OPENBID_EXPERT_JOINT_LIMIT = 1
    first, manager, _sealed = tender_with_bids(clock)
    # A second tender of the same tenderer; both are then opened.
    second, _user = one_section_tender(user=manager, project_obj=first.project)
    section = second.sections.get()
    for price in ("1000000.00", "1100000.00", "1200000.00"):
        org, user = bidder(second, clock)
        submit(user, org, section, bid_package(price))
    clock.set(max(first.bid_deadline, second.bid_deadline) + dt.timedelta(minutes=1))
    from openbid.opening import services as opening

    opening.start_due_openings()
    second.refresh_from_db()
    first.refresh_from_db()
    assert first.status == second.status == State.OPENED
    centre = staff()
    pool(centre, 10)
    one = draw_committee(manager, first, clock)
    members = list(one.members.all())
    for m in members:
        committees.confirm_seat(m.expert.user, m)
    one.refresh_from_db()
    assert one.status == Committee.Status.FORMED
    two = draw_committee(manager, second, clock)
    joint = Recusal.objects.filter(committee=two, reason=Recusal.Reason.JOINT_EVALUATIONS)
    assert {r.expert_id for r in joint} == {m.expert_id for m in members}
    assert not experts_of(two) & {m.expert_id for m in members}


def test_decline_triggers_a_verifiable_redraw(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    centre = staff()
    pool(centre, 8)
    committee = draw_committee(manager, tender, clock)
    first = Draw.objects.get()
    seat = committee.members.order_by("pk").first()
    assert seat is not None
    with pytest.raises(InvalidInput):
        committees.decline_seat(seat.expert.user, seat, reason=" ")
    other = committee.members.exclude(pk=seat.pk).first()
    with pytest.raises(Exception):  # noqa: B017 - not their seat
        committees.decline_seat(other.expert.user, seat, reason="x")
    committees.decline_seat(seat.expert.user, seat, reason="当日另有评标任务")
    second = Draw.objects.exclude(pk=first.pk).get()
    assert second.previous == first and second.inputs["previous"] == first.pk
    assert second.status == Draw.Status.COMMITTED
    refs = {c["ref"] for c in second.snapshot["candidates"]}
    assert f"expert:{seat.expert_id}" not in refs
    assert not refs & {f"expert:{e}" for e in experts_of(committee)}
    assert second.inputs["groups"] == [{"name": "g1", "tag": "g1", "count": 1, "reserves": 0}]
    assert committees.perform_committee_draws(committee) == 1
    committee.refresh_from_db()
    assert committee.status == Committee.Status.CONFIRMING
    active = committee.members.exclude(status=CommitteeMember.Status.DECLINED)
    assert active.count() == 5
    newcomer = active.get(draw=second)
    assert newcomer.expert_id != seat.expert_id
    assert verify(second).strip().endswith("verified")
    with pytest.raises(Conflict):
        committees.confirm_seat(seat.expert.user, seat)


def test_decline_goes_to_the_next_reserve_first(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    pool(staff(), 8)
    groups = [{"specialty": "A02", "count": 5, "reserves": 2, "region": "local"}]
    committee = draw_committee(manager, tender, clock, groups=groups)
    reserves = list(committee.reserves.order_by("rank"))
    assert len(reserves) == 2
    seat = committee.members.first()
    committees.decline_seat(seat.expert.user, seat, reason="生病")
    assert Draw.objects.count() == 1  # no new draw: the first reserve takes the seat
    taken = committee.members.get(expert=reserves[0].expert)
    assert taken.reserve_rank == 1 and taken.status == CommitteeMember.Status.INVITED


def test_no_one_left_leaves_the_seat_open(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    pool(staff(), 5)
    committee = draw_committee(manager, tender, clock)
    seat = committee.members.first()
    committees.decline_seat(seat.expert.user, seat, reason="出国")
    committee.refresh_from_db()
    assert committee.status == Committee.Status.DRAWING
    assert committees.missing_seats(committee) == {"g1": 1}
    with pytest.raises(InvalidInput):
        committees.redraw_missing(manager, committee)
    pool(staff(), 1)
    draw = committees.redraw_missing(manager, committee)
    assert draw is not None
    committees.perform_committee_draws(committee)
    assert committees.missing_seats(committee) == {}


@pytest.mark.parametrize(
    ("groups", "representatives", "rule"),
    [
        ([{"specialty": "A02", "count": 4}], 0, "committee_min"),
        ([{"specialty": "A02", "count": 6}], 0, "committee_min"),  # even
        ([{"specialty": "A02", "count": 5}], 2, "allowed"),  # 7 members, 5/7 ≥ 2/3: allowed
        ([{"specialty": "A02", "count": 3}], 2, "experts_share_min"),
        ([{"specialty": "A02", "count": 5}], 4, "experts_share_min"),
        ([{"specialty": "A02", "count": 9}], 0, "expert_pool_too_small"),
        ([{"specialty": "Z1", "count": 5}], 0, "specialty_code"),
        ([{"specialty": "A02", "count": 5, "region": "moon"}], 0, "region_mode"),
    ],
)
def test_committee_rule_refusals_write_nothing(
    clock: Any, groups: list, representatives: int, rule: str
) -> None:
    tender, manager, _sealed = opened_tender(clock)
    pool(staff(), 8)
    if (groups[0]["count"], representatives) == (5, 2):
        # 5 experts and 2 representatives make 7 (odd, 5/7 ≥ 2/3): allowed. Check it is.
        committees.request_committee(
            manager,
            tender,
            evaluation_date=evaluation_day(clock),
            groups=groups,
            representatives=representatives,
        )
        return
    before = counts()
    with pytest.raises(InvalidInput) as exc:
        committees.request_committee(
            manager,
            tender,
            evaluation_date=evaluation_day(clock),
            groups=groups,
            representatives=representatives,
        )
    assert exc.value.rule == rule
    if rule in ("committee_min", "experts_share_min"):
        assert exc.value.article == "Law art. 37"
    assert counts() == before


def test_who_and_when(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    pool(staff(), 6)
    _org, outsider = market_entity()
    before = counts()
    with pytest.raises(NotAllowed):
        committees.request_committee(
            outsider, tender, evaluation_date=evaluation_day(clock), groups=FIVE
        )
    with pytest.raises(InvalidInput):
        committees.request_committee(
            manager, tender, evaluation_date=clock.now().date() - dt.timedelta(days=1), groups=FIVE
        )
    assert counts() == before
    early, early_manager = one_section_tender()
    with pytest.raises(Conflict):
        committees.request_committee(
            early_manager, early, evaluation_date=evaluation_day(clock), groups=FIVE
        )
    # Centre staff may draw too; a second committee is refused.
    committees.request_committee(
        staff(), tender, evaluation_date=evaluation_day(clock), groups=FIVE
    )
    with pytest.raises(Conflict):
        committees.request_committee(
            manager, tender, evaluation_date=evaluation_day(clock), groups=FIVE
        )


def test_representative_chair_election_and_publication(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    pool(staff(), 6)
    groups = [{"specialty": "A02", "count": 4}]
    committee = draw_committee(manager, tender, clock, groups=groups, representatives=1)
    for m in committee.members.all():
        committees.confirm_seat(m.expert.user, m)
    committee.refresh_from_db()
    assert committee.status == Committee.Status.CONFIRMING  # the representative is missing
    _org, stranger = market_entity()
    with pytest.raises(InvalidInput):
        committees.add_representative(manager, committee, user=stranger)
    rep = committees.add_representative(manager, committee, user=manager)
    with pytest.raises(Conflict):
        committees.add_representative(manager, committee, user=manager)
    committee.refresh_from_db()
    assert committee.status == Committee.Status.FORMED and committee.size == 5

    experts = list(committee.members.filter(kind=CommitteeMember.Kind.EXPERT).order_by("pk"))
    favourite = experts[0]
    with pytest.raises(NotAllowed):
        committees.vote_chair(stranger, committee, candidate=favourite)
    committees.vote_chair(manager, committee, candidate=favourite)
    with pytest.raises(Conflict):
        committees.vote_chair(manager, committee, candidate=experts[1])
    committees.vote_chair(experts[1].expert.user, committee, candidate=favourite)
    committee.refresh_from_db()
    assert committee.chair_id is None  # 2 of 5 is no majority
    committees.vote_chair(experts[2].expert.user, committee, candidate=favourite)
    committee.refresh_from_db()
    assert committee.chair_id == favourite.pk
    elected = DomainEvent.objects.get(type="evaluation.committee.chair_elected")
    assert elected.payload["votes"] == 3 and elected.payload["members"] == 5
    with pytest.raises(Conflict):
        committees.vote_chair(experts[3].expert.user, committee, candidate=rep)

    # Secret until the evaluation result is published.
    assert committees.committee_of(tender).published_at is None
    Tender.objects.filter(pk=tender.pk).update(status=State.PUBLICITY)
    tender.refresh_from_db()
    published = committees.committee_of(tender)
    assert published is not None and published.published_at is not None
    draw = Draw.objects.get()
    assert draw.published_at is not None
    names = DomainEvent.objects.get(type="evaluation.committee.published").payload["members"]
    assert {n["name"] for n in names} == {m.display_name for m in committee.members.all()}


def test_a_tie_round_starts_a_new_round(clock: Any) -> None:
    tender, manager, _sealed = opened_tender(clock)
    pool(staff(), 6)
    committee = draw_committee(manager, tender, clock)
    members = list(committee.members.order_by("pk"))
    for m in members:
        committees.confirm_seat(m.expert.user, m)
    committee.refresh_from_db()
    # 2 + 2 + 1: no majority; round 2 starts.
    for voter, candidate in zip(members, [0, 0, 1, 1, 2], strict=True):
        committees.vote_chair(voter.expert.user, committee, candidate=members[candidate])
    committee.refresh_from_db()
    assert committee.chair_id is None
    assert committees.current_round(committee) == 2
    vote = committees.vote_chair(members[0].expert.user, committee, candidate=members[1])
    assert vote.round == 2


def test_the_demo_draws_a_verifiable_committee(clock: Any) -> None:
    from openbid.demo import run_demo

    lines = list(run_demo())
    assert any("drew the 5-expert evaluation committee" in line for line in lines)
    committee = Committee.objects.get()
    assert committee.members.count() == 5 and committee.reserves.count() == 1
    assert Recusal.objects.get().reason == Recusal.Reason.EMPLOYER_BIDDER
    assert verify(Draw.objects.get(purpose="evaluation.committee")).strip().endswith("verified")
    out = StringIO()
    call_command("ledger", "verify", stdout=out)
    assert out.getvalue().strip().endswith("verified")
