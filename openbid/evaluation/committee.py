"""Evaluation committees (评标委员会): the verifiable draw of experts with recusal, confirmations,
redraws, the tenderer's representatives and the chair's election.

Rules (Law art. 37, the rules table's ``committee_min`` and ``experts_share_min``): at least five
members, an odd number, technical and economic experts at least two thirds; the rest may be the
tenderer's (or its agency's) representatives. Experts are drawn at random from the pool
(``experts_random``, Reg art. 46) through the draw primitive (``openbid.draws``), after recusal:

* the expert works for the tenderer, its agency or a bidder of the tender;
* the expert declared a conflict with one of them;
* recent joint evaluations beyond the limit (settings ``OPENBID_EXPERT_JOINT_LIMIT`` within
  ``OPENBID_EXPERT_JOINT_WINDOW_DAYS``): the expert sat that often on committees of the same
  tenderer, or (in a redraw) with a member already confirmed on this committee — a local rule of
  the expert management measures, so it is a setting rather than a row of the statutory table;
* the expert is unavailable on the evaluation date;
* the expert is on the serious-dishonesty list (``credit_link``).

Each exclusion is recorded with its reason (``Recusal``), privately. The draw is secret: the ledger
holds the digests of the inputs (which include the pool snapshot's digest) and of the result; the
names are published with the evaluation result (``publish_if_due``). A member who declines is
replaced by the next reserve of the same group, in drawn order; when none is left, by a new draw
from the remaining eligible pool whose inputs name the previous draw.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, has_role, signed_in
from openbid.accounts.regions import require_region
from openbid.accounts.roles import Role
from openbid.core import clock, rules
from openbid.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, salted_digest, service
from openbid.draws import services as draws
from openbid.draws.models import Draw
from openbid.evaluation import credit_link
from openbid.evaluation import specialties as specialty_table
from openbid.evaluation.models import (
    ChairVote,
    Committee,
    CommitteeMember,
    ConflictDeclaration,
    Expert,
    Recusal,
    Reserve,
    Unavailability,
)
from openbid.opening.models import OpenedBid
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from openbid.tendering.services import require_manager

PURPOSE = "evaluation.committee"
REGION_MODES = ("local", "remote", "any")
ARTICLE = "Law art. 37"
# The committee's members become public with the evaluation result (candidates' publicity).
PUBLISHED_STATES = frozenset({State.PUBLICITY, State.AWARDED, State.CONTRACTED, State.ARCHIVED})
DRAWABLE_STATES = frozenset({State.OPENED, State.EVALUATING})


# --- who may do what ---------------------------------------------------------------------------


def _manager_or_staff(actor: Actor, tender: Tender, action: str) -> tuple[User, Organisation]:
    user = signed_in(actor)
    centre = (
        user.memberships.filter(role=Role.CENTRE_STAFF, active=True)
        .select_related("organisation")
        .first()
        if has_role(user, Role.CENTRE_STAFF)
        else None
    )
    if centre is not None:
        return user, centre.organisation
    return user, require_manager(user, tender.project, action)


def may_manage(user: Any, tender: Tender) -> bool:
    try:
        _manager_or_staff(user, tender, "")
    except DomainError:
        return False
    return True


def may_see_members(user: Any, committee: Committee) -> bool:
    """Names are for centre staff, regulators and auditors until the result is published."""
    return committee.published_at is not None or draws.may_see_secrets(user)


# --- committee rules -----------------------------------------------------------------------------


def check_composition(expert_seats: int, representative_seats: int, on: dt.date) -> None:
    """Refuse a committee that breaks Law art. 37 (as the rules table has it on ``on``)."""
    size = expert_seats + representative_seats
    minimum = rules.rule("committee_min", on=on)
    share = rules.rule("experts_share_min", on=on)
    if size < minimum.int_value:
        raise InvalidInput(
            _("An evaluation committee has at least %(min)d members; this one would have %(n)d.")
            % {"min": minimum.int_value, "n": size},
            field="groups",
            rule="committee_min",
            article=minimum.article,
        )
    if size % 2 == 0:
        raise InvalidInput(
            _("An evaluation committee has an odd number of members; this one would have %(n)d.")
            % {"n": size},
            field="representatives",
            rule="committee_min",
            article=minimum.article,
        )
    assert share.fraction is not None
    if expert_seats * 100 < share.fraction * size:
        raise InvalidInput(
            _(
                "Experts must be at least two thirds of the committee: %(experts)d of %(n)d is "
                "too few."
            )
            % {"experts": expert_seats, "n": size},
            field="representatives",
            rule="experts_share_min",
            article=share.article,
        )


def _clean_groups(groups: Any) -> list[dict[str, Any]]:
    if not isinstance(groups, list) or not groups:
        raise InvalidInput(
            _("Ask for at least one group of experts."), field="groups", rule="required"
        )
    out = []
    for n, g in enumerate(groups, start=1):
        if not isinstance(g, dict):
            raise InvalidInput(_("Each group is a specialty and a count."), field="groups")
        code = specialty_table.require(str(g.get("specialty", "")), field="groups").code
        try:
            count, reserves = int(g.get("count", 0)), int(g.get("reserves", 0) or 0)
        except (TypeError, ValueError):
            raise InvalidInput(
                _("Counts are whole numbers."), field="groups", rule="integer"
            ) from None
        if count < 1 or reserves < 0 or count > 50 or reserves > 50:
            raise InvalidInput(
                _("Each group draws 1 to 50 experts and 0 to 50 reserves."),
                field="groups",
                rule="range",
            )
        mode = str(g.get("region", "any") or "any")
        if mode not in REGION_MODES:
            raise InvalidInput(
                _("The region is local, remote or any."), field="groups", rule="region_mode"
            )
        provinces = sorted(
            {require_region(str(p), field="groups").province_code for p in g.get("provinces") or []}
        )
        out.append(
            {
                "name": f"g{n}",
                "specialty": code,
                "count": count,
                "reserves": reserves,
                "region": mode,
                "provinces": provinces if mode == "remote" else [],
            }
        )
    return out


# --- the eligible pool and recusal ---------------------------------------------------------------


def _fits(expert: Expert, group: dict[str, Any], home_province: str) -> bool:
    if not any(specialty_table.covers(group["specialty"], c) for c in expert.specialty_codes):
        return False
    province = expert.region_code[:2]
    if group["region"] == "local":
        return province == home_province
    if group["region"] == "remote":
        if province == home_province:
            return False
        return not group["provinces"] or f"{province}0000" in group["provinces"]
    return True


def bidder_organisations(tender: Tender) -> list[Organisation]:
    ids = OpenedBid.objects.filter(session__tender=tender).values_list(
        "bid__organisation", flat=True
    )
    return list(Organisation.objects.filter(pk__in=set(ids)).order_by("pk"))


def _joint_counts(
    committee: Committee, tender: Tender, on: dt.date, expert_ids: set[int]
) -> tuple[Counter[int], Counter[int]]:
    """Per expert: confirmed seats on committees of the same tenderer within the window, and
    committees shared with a member already confirmed on this one."""
    window = dt.timedelta(days=settings.OPENBID_EXPERT_JOINT_WINDOW_DAYS)
    recent = CommitteeMember.objects.filter(
        kind=CommitteeMember.Kind.EXPERT,
        status=CommitteeMember.Status.CONFIRMED,
        committee__evaluation_date__gte=on - window,
        committee__evaluation_date__lte=on,
    ).exclude(committee=committee)
    same_tenderer = Counter(
        recent.filter(
            committee__tender__project__tenderer=tender.project.tenderer_id,
            expert__in=expert_ids,
        ).values_list("expert", flat=True)
    )
    sitting = list(
        committee.members.filter(
            kind=CommitteeMember.Kind.EXPERT, status=CommitteeMember.Status.CONFIRMED
        ).values_list("expert", flat=True)
    )
    together: Counter[int] = Counter()
    if sitting:
        shared = recent.filter(expert__in=sitting).values_list("committee", flat=True)
        for expert_id in recent.filter(committee__in=shared, expert__in=expert_ids).values_list(
            "expert", flat=True
        ):
            together[expert_id] += 1
    return same_tenderer, together


def eligible_pool(
    committee: Committee,
    groups: list[dict[str, Any]],
    *,
    exclude: set[int] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[dict[str, Any]], list[tuple[Expert, str, str]]]:
    """Candidates (``{"ref", "tags"}``) fitting some group, and the recusals ``(expert, reason,
    detail)`` of experts who fit a group but are left out."""
    tender = committee.tender
    project = tender.project
    on = committee.evaluation_date
    home = project.region_code[:2]
    experts = [
        e
        for e in Expert.objects.filter(status=Expert.Status.ADMITTED)
        .select_related("employer")
        .prefetch_related("specialties")
        .order_by("pk")
    ]
    fitting = {e.pk: (e, [g["name"] for g in groups if _fits(e, g, home)]) for e in experts}
    fitting = {pk: v for pk, v in fitting.items() if v[1]}
    ids = set(fitting)
    bidders = bidder_organisations(tender)
    parties: dict[int, tuple[str, Organisation]] = {}
    for org in bidders:
        parties[org.pk] = (Recusal.Reason.EMPLOYER_BIDDER, org)
    if project.agency is not None:
        parties[project.agency.pk] = (Recusal.Reason.EMPLOYER_AGENCY, project.agency)
    parties[project.tenderer_id] = (Recusal.Reason.EMPLOYER_TENDERER, project.tenderer)
    reasons: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
    for pk in exclude & ids:
        reasons[pk].append((Recusal.Reason.ALREADY_DRAWN, ""))
    for pk, (expert, _tags) in fitting.items():
        if expert.employer_id in parties:
            reason, org = parties[expert.employer_id]
            reasons[pk].append((reason, org.name))
    for d in ConflictDeclaration.objects.filter(expert__in=ids, organisation__in=list(parties)):
        reasons[d.expert_id].append(
            (Recusal.Reason.DECLARED_CONFLICT, parties[d.organisation_id][1].name)
        )
    limit = settings.OPENBID_EXPERT_JOINT_LIMIT
    same_tenderer, together = _joint_counts(committee, tender, on, ids)
    for pk in ids:
        if same_tenderer[pk] >= limit:
            reasons[pk].append(
                (
                    Recusal.Reason.JOINT_EVALUATIONS,
                    _("%(n)d committees of this tenderer recently") % {"n": same_tenderer[pk]},
                )
            )
        if together[pk] >= limit:
            reasons[pk].append(
                (
                    Recusal.Reason.JOINT_EVALUATIONS,
                    _("%(n)d committees with a member of this one recently") % {"n": together[pk]},
                )
            )
    away = Unavailability.objects.filter(
        expert__in=ids, withdrawn=False, start__lte=on, end__gte=on
    ).values_list("expert", flat=True)
    for pk in set(away):
        reasons[pk].append((Recusal.Reason.UNAVAILABLE, on.isoformat()))
    for pk in credit_link.seriously_dishonest_expert_ids(ids, on):
        reasons[pk].append((Recusal.Reason.SERIOUSLY_DISHONEST, ""))
    candidates = []
    recused: list[tuple[Expert, str, str]] = []
    for pk, (expert, tags) in sorted(fitting.items()):
        if reasons[pk]:
            recused.extend((expert, reason, detail) for reason, detail in reasons[pk])
        else:
            candidates.append({"ref": f"expert:{pk}", "tags": tags})
    return candidates, recused


def _commit(
    actor: Actor,
    org: Organisation | None,
    committee: Committee,
    groups: list[dict[str, Any]],
    *,
    previous: Draw | None = None,
    exclude: set[int] = frozenset(),  # type: ignore[assignment]
    strict: bool = False,
) -> Draw:
    candidates, recused = eligible_pool(committee, groups, exclude=exclude)
    if strict:
        for g in groups:
            available = sum(1 for c in candidates if g["name"] in c["tags"])
            if available < g["count"]:
                raise InvalidInput(
                    _(
                        "Only %(n)d eligible experts of %(specialty)s (%(region)s) are in the "
                        "pool after recusal; %(count)d are asked for."
                    )
                    % {
                        "n": available,
                        "specialty": g["specialty"],
                        "region": g["region"],
                        "count": g["count"],
                    },
                    field="groups",
                    rule="expert_pool_too_small",
                )
    draw_groups = [
        {"name": g["name"], "tag": g["name"], "count": g["count"], "reserves": g["reserves"]}
        for g in groups
    ]
    draw = draws.commit_draw(
        actor,
        purpose=PURPOSE,
        subject=("tender", committee.tender_id),
        groups=draw_groups,
        candidates=candidates,
        criteria={
            "evaluation_date": committee.evaluation_date.isoformat(),
            "home_region": committee.tender.project.region_code,
            "groups": groups,
            "recused": len({e.pk for e, _r, _d in recused}),
            "joint_limit": settings.OPENBID_EXPERT_JOINT_LIMIT,
            "joint_window_days": settings.OPENBID_EXPERT_JOINT_WINDOW_DAYS,
        },
        secret=True,
        previous=previous,
        actor_org=org,
    )
    Recusal.objects.bulk_create(
        Recusal(committee=committee, draw=draw, expert=e, reason=r, detail=str(d)[:300])
        for e, r, d in recused
    )
    recusal_text = "\n".join(f"{e.pk}:{r}" for e, r, _d in sorted(recused, key=lambda x: x[0].pk))
    record_event(
        "evaluation.committee.draw_committed",
        actor=actor,
        actor_org=org,
        subjects=[("tender", committee.tender_id), ("committee", committee.pk), ("draw", draw.pk)],
        payload={
            "committee": committee.pk,
            "draw": draw.pk,
            "previous": previous.pk if previous else None,
            "inputs_sha256": draw.inputs_sha256,
            "seats": sum(g["count"] for g in groups),
            "reserves": sum(g["reserves"] for g in groups),
        },
        private_digest=salted_digest(recusal_text.encode())[0],
    )
    return draw


# --- services ------------------------------------------------------------------------------------


@service
def request_committee(
    actor: Actor,
    tender: Tender,
    *,
    evaluation_date: dt.date,
    groups: list[dict[str, Any]],
    representatives: int = 0,
) -> Committee:
    """Set up the tender's committee and commit the draw of its experts (after the opening).

    ``groups``: ``{"specialty", "count", "reserves", "region": local|remote|any, "provinces"}``.
    The composition must satisfy Law art. 37; recusal is applied before drawing. The draw is then
    performed by ``perform_committee_draws`` or the clock loop.
    """
    tender = (
        Tender.objects.select_for_update(of=("self",)).select_related("project").get(pk=tender.pk)
    )
    user, org = _manager_or_staff(actor, tender, _("Drawing the evaluation committee"))
    if tender.status not in DRAWABLE_STATES:
        raise Conflict(
            _("Experts are drawn after the opening and before the evaluation ends."),
            field="tender",
            rule="committee_after_opening",
        )
    if Committee.objects.filter(tender=tender).exists():
        raise Conflict(
            _("This tender's committee is already being drawn."), field="tender", rule="unique"
        )
    if not isinstance(evaluation_date, dt.date) or evaluation_date < clock.today():
        raise InvalidInput(
            _("The evaluation date is today or later."), field="evaluation_date", rule="date"
        )
    clean = _clean_groups(groups)
    try:
        representatives = int(representatives or 0)
    except (TypeError, ValueError):
        raise InvalidInput(_("Counts are whole numbers."), field="representatives") from None
    if representatives < 0:
        raise InvalidInput(_("Counts are whole numbers."), field="representatives", rule="range")
    expert_seats = sum(g["count"] for g in clean)
    check_composition(expert_seats, representatives, tender.rules_date or clock.today())
    committee = Committee.objects.create(
        tender=tender,
        evaluation_date=evaluation_date,
        criteria={"groups": clean},
        expert_seats=expert_seats,
        representative_seats=representatives,
        requested_by=user,
        requested_at=clock.now(),
    )
    record_event(
        "evaluation.committee.requested",
        actor=user,
        actor_org=org,
        subjects=[("tender", tender.pk), ("committee", committee.pk)],
        payload={
            "committee": committee.pk,
            "tender": tender.pk,
            "evaluation_date": evaluation_date,
            "expert_seats": expert_seats,
            "representative_seats": representatives,
        },
    )
    _commit(user, org, committee, clean, strict=True)
    return committee


def pending_draws(committee: Committee) -> Any:
    return draws.draws_of("tender", committee.tender_id).filter(
        purpose=PURPOSE, status=Draw.Status.COMMITTED
    )


def perform_committee_draws(committee: Committee) -> int:
    """Perform the committee's committed draws now (issuing a checkpoint if needed)."""
    done = 0
    for draw in pending_draws(committee):
        draws.draw_now(draw)
        done += 1
    return done


def start_committee_draw(actor: Actor, tender: Tender, **criteria: Any) -> Committee:
    """Commit the draw (one transaction), then perform it against a new checkpoint (another)."""
    committee = request_committee(actor, tender, **criteria)
    perform_committee_draws(committee)
    committee.refresh_from_db()
    return committee


def _ref_to_expert(ref: str) -> int:
    kind, _sep, pk = ref.partition(":")
    assert kind == "expert"
    return int(pk)


def _group_of(committee: Committee, name: str) -> dict[str, Any]:
    for g in committee.criteria["groups"]:
        if g["name"] == name:
            return dict(g)
    raise KeyError(name)


@draws.on_performed(PURPOSE)
def apply_draw(draw: Draw) -> None:
    """Seat the drawn members and keep the reserves (runs in the transaction performing the draw)."""
    committee = Committee.objects.select_for_update().get(tender_id=int(draw.subject_id))
    now = clock.now()
    assert draw.result is not None
    for group in draw.result["groups"]:
        for ref in group["members"]:
            CommitteeMember.objects.create(
                committee=committee,
                kind=CommitteeMember.Kind.EXPERT,
                expert_id=_ref_to_expert(ref),
                group=group["name"],
                draw=draw,
                invited_at=now,
            )
        for rank, ref in enumerate(group["reserves"], start=1):
            Reserve.objects.create(
                committee=committee,
                draw=draw,
                group=group["name"],
                rank=rank,
                expert_id=_ref_to_expert(ref),
            )
    _update_status(committee)
    record_event(
        "evaluation.committee.drawn",
        subjects=[("tender", committee.tender_id), ("committee", committee.pk), ("draw", draw.pk)],
        payload={
            "committee": committee.pk,
            "draw": draw.pk,
            "result_sha256": draw.result_sha256,
            "shortfall": draw.result["shortfall"],
        },
    )


def missing_seats(committee: Committee) -> dict[str, int]:
    """Expert seats per group not held by an invited or confirmed member."""
    held = Counter(
        committee.members.filter(kind=CommitteeMember.Kind.EXPERT)
        .exclude(status=CommitteeMember.Status.DECLINED)
        .values_list("group", flat=True)
    )
    out = {}
    for g in committee.criteria["groups"]:
        gap = g["count"] - held[g["name"]]
        if gap > 0:
            out[g["name"]] = gap
    return out


def _update_status(committee: Committee) -> None:
    members = committee.members.all()
    confirmed_experts = members.filter(
        kind=CommitteeMember.Kind.EXPERT, status=CommitteeMember.Status.CONFIRMED
    ).count()
    representatives = members.filter(kind=CommitteeMember.Kind.REPRESENTATIVE).count()
    if committee.status == Committee.Status.FORMED:
        return
    if confirmed_experts == committee.expert_seats and (
        representatives == committee.representative_seats
    ):
        committee.status = Committee.Status.FORMED
        committee.formed_at = clock.now()
        committee.save(update_fields=["status", "formed_at"])
        record_event(
            "evaluation.committee.formed",
            subjects=[("tender", committee.tender_id), ("committee", committee.pk)],
            payload={"committee": committee.pk, "size": committee.size},
        )
        return
    status = Committee.Status.DRAWING if missing_seats(committee) else Committee.Status.CONFIRMING
    if committee.status != status:
        committee.status = status
        committee.save(update_fields=["status"])


def _drawn_expert_ids(committee: Committee) -> set[int]:
    ids = set(committee.members.filter(expert__isnull=False).values_list("expert", flat=True))
    ids |= set(committee.reserves.values_list("expert", flat=True))
    return ids


def _redraw(actor: Actor, org: Organisation | None, committee: Committee) -> Draw | None:
    """Fill the missing seats: reserves first (in drawn order), then a new draw naming the
    previous one. Returns the new draw (committed, to be performed), if one was needed."""
    gaps = missing_seats(committee)
    now = clock.now()
    still: list[dict[str, Any]] = []
    for name, gap in gaps.items():
        reserves = list(
            committee.reserves.filter(group=name, used_at__isnull=True).order_by("draw", "rank")
        )
        for reserve in reserves[:gap]:
            reserve.used_at = now
            reserve.save(update_fields=["used_at"])
            CommitteeMember.objects.create(
                committee=committee,
                kind=CommitteeMember.Kind.EXPERT,
                expert=reserve.expert,
                group=name,
                draw=reserve.draw,
                reserve_rank=reserve.rank,
                invited_at=now,
            )
        if gap > len(reserves):
            still.append(
                {**_group_of(committee, name), "count": gap - len(reserves), "reserves": 0}
            )
    _update_status(committee)
    if not still:
        return None
    previous = (
        draws.draws_of("tender", committee.tender_id).filter(purpose=PURPOSE).order_by("pk").last()
    )
    return _commit(
        actor, org, committee, still, previous=previous, exclude=_drawn_expert_ids(committee)
    )


def _seat_for_expert(actor: Actor, member_id: int) -> tuple[User, CommitteeMember]:
    user = signed_in(actor)
    member = (
        CommitteeMember.objects.select_for_update(of=("self",))
        .select_related("committee", "expert")
        .filter(pk=member_id)
        .first()
    )
    if member is None or member.expert is None or member.expert.user_id != user.pk:
        raise NotFound(_("No such assignment of yours."), field="member", rule="exists")
    return user, member


@service
def confirm_seat(actor: Actor, member: CommitteeMember) -> CommitteeMember:
    """The drawn expert confirms they will evaluate."""
    user, member = _seat_for_expert(actor, member.pk)
    if member.status != CommitteeMember.Status.INVITED:
        raise Conflict(
            _("You have already answered this invitation."), field="member", rule="answered"
        )
    member.status = CommitteeMember.Status.CONFIRMED
    member.responded_at = clock.now()
    member.save(update_fields=["status", "responded_at"])
    committee = Committee.objects.select_for_update().get(pk=member.committee_id)
    record_event(
        "evaluation.committee.seat_confirmed",
        actor=user,
        subjects=[("tender", committee.tender_id), ("committee", committee.pk)],
        payload={"committee": committee.pk, "seat": member.pk},
        private_digest=salted_digest(f"{member.pk}:{member.expert_id}".encode())[0],
    )
    _update_status(committee)
    return member


@service
def decline_seat(actor: Actor, member: CommitteeMember, *, reason: str) -> CommitteeMember:
    """The drawn expert declines, with a reason; the seat goes to the next reserve of the group,
    or to a new verifiable draw when no reserve is left (performed by ``perform_committee_draws``
    or the clock loop)."""
    user, member = _seat_for_expert(actor, member.pk)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why you decline."), field="reason", rule="required")
    if member.status != CommitteeMember.Status.INVITED:
        raise Conflict(
            _("You have already answered this invitation."), field="member", rule="answered"
        )
    member.status = CommitteeMember.Status.DECLINED
    member.decline_reason = reason[:2000]
    member.responded_at = clock.now()
    member.save(update_fields=["status", "decline_reason", "responded_at"])
    committee = Committee.objects.select_for_update().get(pk=member.committee_id)
    record_event(
        "evaluation.committee.seat_declined",
        actor=user,
        subjects=[("tender", committee.tender_id), ("committee", committee.pk)],
        payload={"committee": committee.pk, "seat": member.pk},
        private_digest=salted_digest(f"{member.pk}:{member.expert_id}:{reason}".encode())[0],
    )
    try:
        _redraw(None, None, committee)
    except InvalidInput:
        # Nobody eligible is left: the seat stays open; staff may widen the criteria.
        _update_status(committee)
    return member


@service
def redraw_missing(actor: Actor, committee: Committee) -> Draw | None:
    """Fill seats left open (a draw's shortfall, declines when the pool ran dry) — manager or
    centre staff; reserves first, then a new draw naming the previous one."""
    committee = (
        Committee.objects.select_for_update(of=("self",))
        .select_related("tender")
        .get(pk=committee.pk)
    )
    user, org = _manager_or_staff(actor, committee.tender, _("Drawing the evaluation committee"))
    if pending_draws(committee).exists():
        raise Conflict(
            _("A draw of this committee is waiting for its seed."), field="committee", rule="draw"
        )
    if not missing_seats(committee):
        raise Conflict(_("No seat is open."), field="committee", rule="no_open_seat")
    return _redraw(user, org, committee)


@service
def add_representative(actor: Actor, committee: Committee, *, user: User) -> CommitteeMember:
    """Seat a representative of the tenderer (or its agency) — within the seats the composition
    allows (experts at least two thirds, Law art. 37)."""
    committee = (
        Committee.objects.select_for_update(of=("self",))
        .select_related("tender__project")
        .get(pk=committee.pk)
    )
    manager, org = _manager_or_staff(actor, committee.tender, _("Seating representatives"))
    project = committee.tender.project
    if not isinstance(user, User) or not (
        has_role(user, Role.TENDERER_STAFF, organisation=project.tenderer)
        or (
            project.agency is not None
            and has_role(user, Role.AGENCY_STAFF, organisation=project.agency)
        )
    ):
        raise InvalidInput(
            _("A representative is a person of the tenderer or of its agency."),
            field="user",
            rule="representative",
            article=ARTICLE,
        )
    seated = committee.members.filter(kind=CommitteeMember.Kind.REPRESENTATIVE)
    if seated.filter(user=user).exists():
        raise Conflict(_("This person is already on the committee."), field="user", rule="unique")
    if seated.count() >= committee.representative_seats:
        raise Conflict(
            _("All %(n)d representative seats are taken.") % {"n": committee.representative_seats},
            field="user",
            rule="experts_share_min",
            article=ARTICLE,
        )
    member = CommitteeMember.objects.create(
        committee=committee,
        kind=CommitteeMember.Kind.REPRESENTATIVE,
        user=user,
        status=CommitteeMember.Status.CONFIRMED,
        invited_at=clock.now(),
        responded_at=clock.now(),
    )
    record_event(
        "evaluation.committee.representative_seated",
        actor=manager,
        actor_org=org,
        subjects=[("tender", committee.tender_id), ("committee", committee.pk)],
        payload={"committee": committee.pk, "seat": member.pk},
    )
    _update_status(committee)
    return member


def member_of(user: Any, committee: Committee) -> CommitteeMember | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        committee.members.filter(status=CommitteeMember.Status.CONFIRMED)
        .filter(Q(user=user) | Q(expert__user=user))
        .first()
    )


def current_round(committee: Committee) -> int:
    last = committee.votes.order_by("-round").values_list("round", flat=True).first()
    if last is None:
        return 1
    voters = committee.votes.filter(round=last).count()
    return last + 1 if voters >= committee.size and committee.chair_id is None else last


@service
def vote_chair(actor: Actor, committee: Committee, *, candidate: CommitteeMember) -> ChairVote:
    """A member votes for the chair (主任委员). The first member with votes from more than half
    of the committee is elected; a round where everyone voted without a majority starts a new
    round."""
    committee = Committee.objects.select_for_update().get(pk=committee.pk)
    user = signed_in(actor)
    voter = member_of(user, committee)
    if voter is None:
        raise NotAllowed(
            _("Only the committee's members elect its chair."), rule="committee_member"
        )
    if committee.status != Committee.Status.FORMED:
        raise Conflict(
            _("The chair is elected once the committee is formed."),
            field="committee",
            rule="committee_formed",
        )
    if committee.chair_id is not None:
        raise Conflict(_("The chair is already elected."), field="committee", rule="chair")
    found = CommitteeMember.objects.filter(pk=candidate.pk).first()
    if (
        found is None
        or found.committee_id != committee.pk
        or found.status != CommitteeMember.Status.CONFIRMED
    ):
        raise InvalidInput(
            _("Vote for a member of this committee."), field="candidate", rule="committee_member"
        )
    round_ = current_round(committee)
    if committee.votes.filter(round=round_, voter=voter).exists():
        raise Conflict(
            _("You have already voted in this round."), field="candidate", rule="one_vote"
        )
    candidate = found
    vote = ChairVote.objects.create(
        committee=committee, round=round_, voter=voter, candidate=candidate, voted_at=clock.now()
    )
    record_event(
        "evaluation.committee.chair_vote",
        actor=user,
        subjects=[("tender", committee.tender_id), ("committee", committee.pk)],
        payload={
            "committee": committee.pk,
            "round": round_,
            "voter_seat": voter.pk,
            "candidate_seat": candidate.pk,
        },
    )
    tally = Counter(committee.votes.filter(round=round_).values_list("candidate", flat=True))
    winner, votes = tally.most_common(1)[0]
    if votes * 2 > committee.size:
        committee.chair_id = winner
        committee.save(update_fields=["chair"])
        record_event(
            "evaluation.committee.chair_elected",
            subjects=[("tender", committee.tender_id), ("committee", committee.pk)],
            payload={
                "committee": committee.pk,
                "round": round_,
                "chair_seat": winner,
                "votes": votes,
                "members": committee.size,
            },
        )
    return vote


# --- publication -----------------------------------------------------------------------------


@service
def publish_if_due(committee: Committee) -> bool:
    """Publish the members' names and the draws once the evaluation result is published
    (the tender's candidates are in publicity or later). Idempotent; also applied on read."""
    committee = (
        Committee.objects.select_for_update(of=("self",))
        .select_related("tender")
        .get(pk=committee.pk)
    )
    if committee.published_at is not None or committee.tender.status not in PUBLISHED_STATES:
        return False
    committee.published_at = clock.now()
    committee.save(update_fields=["published_at"])
    for draw in draws.draws_of("tender", committee.tender_id).filter(purpose=PURPOSE):
        draws.publish_draw(draw)
    members = committee.members.select_related("expert__employer", "user").filter(
        status=CommitteeMember.Status.CONFIRMED
    )
    record_event(
        "evaluation.committee.published",
        subjects=[("tender", committee.tender_id), ("committee", committee.pk)],
        payload={
            "committee": committee.pk,
            "chair_seat": committee.chair_id,
            "members": [
                {
                    "seat": m.pk,
                    "kind": m.kind,
                    "name": m.display_name,
                    "employer": m.expert.employer.name if m.expert else "",
                }
                for m in members
            ],
        },
    )
    return True


def publish_due() -> int:
    done = 0
    for committee in Committee.objects.filter(
        published_at__isnull=True, tender__status__in=PUBLISHED_STATES
    ):
        done += int(publish_if_due(committee))
    return done


def committee_of(tender: Tender) -> Committee | None:
    committee = Committee.objects.filter(tender=tender).first()
    if (
        committee is not None
        and committee.published_at is None
        and committee.tender.status in PUBLISHED_STATES
    ):
        publish_if_due(committee)
        committee.refresh_from_db()
    return committee


def assignments(user: Any) -> Any:
    """The seats of the expert signed in as ``user``, newest first."""
    return (
        CommitteeMember.objects.filter(expert__user=user, expert__isnull=False)
        .select_related("committee__tender__project")
        .order_by("-invited_at", "-pk")
    )


def local_date(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""
