"""API of the expert pool and evaluation committees (``/api/v1/``).

Thin over ``openbid.evaluation.services`` and ``openbid.evaluation.committee``. The pool is for
centre staff; an expert reads their own assignments and answers them; a tender's managers (and
centre staff) draw its committee. Members' names are shown to centre staff, regulators and
auditors, and to everyone once the evaluation result is published; each draw's verification data
is at ``/api/v1/draws/{id}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import has_role, signed_in
from openbid.accounts.roles import Role
from openbid.core.api_auth import PUBLIC
from openbid.core.errors import InvalidInput, NotAllowed, NotFound
from openbid.draws import services as draws
from openbid.evaluation import committee as committees
from openbid.evaluation import services
from openbid.evaluation.models import Committee, CommitteeMember, Expert
from openbid.tendering.models import Tender

router = Router(tags=["evaluation"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ExpertIn(In):
    name: str = Field(..., max_length=80)
    id_number: str = Field(..., max_length=18, description="never stored: only a keyed digest")
    employer: str = Field(..., description="the employer's unified social credit code")
    region_code: str = Field(..., description="GB/T 2260")
    specialties: list[str] = Field(..., description="codes of the specialty classification")
    title: str = ""
    qualifications: list[str] = []
    username: str | None = Field(None, description="the expert's account, if they have one")


class ExpertChangeIn(In):
    employer: str | None = None
    region_code: str | None = None
    specialties: list[str] | None = None
    title: str | None = None
    qualifications: list[str] | None = None


class ReasonIn(In):
    reason: str = Field(..., max_length=2000)


class UnavailabilityIn(In):
    start: dt.date
    end: dt.date
    reason: str = ""


class ConflictIn(In):
    organisation: str = Field(..., description="unified social credit code")
    reason: str = Field(..., max_length=300)


class ExpertOut(Schema):
    id: int
    name: str
    employer: str
    employer_name: str
    region_code: str
    title: str
    qualifications: list[str]
    specialties: list[str]
    status: str
    status_reason: str
    admitted_at: dt.datetime
    has_account: bool


class GroupIn(In):
    specialty: str
    count: int
    reserves: int = 0
    region: str = Field("any", description="local, remote (远程异地) or any")
    provinces: list[str] = Field([], description="for remote groups: only these provinces")


class CommitteeIn(In):
    evaluation_date: dt.date
    groups: list[GroupIn]
    representatives: int = Field(0, description="seats of the tenderer's representatives")


class RepresentativeIn(In):
    username: str


class VoteIn(In):
    seat: int = Field(..., description="the seat (member id) voted for")


class SeatOut(Schema):
    seat: int
    kind: str
    status: str
    group: str
    name: str | None = Field(None, description="secret until the result is published")
    employer: str | None = None
    draw: int | None
    reserve_rank: int | None


class DrawRefOut(Schema):
    id: int
    previous: int | None
    status: str
    inputs_sha256: str
    commitment_index: int | None
    checkpoint_size: int | None
    seed: str | None
    result_sha256: str | None
    url: str


class CommitteeOut(Schema):
    tender: int
    status: str
    evaluation_date: dt.date
    expert_seats: int
    representative_seats: int
    size: int
    criteria: dict[str, Any]
    missing_seats: dict[str, int]
    chair_seat: int | None
    published_at: dt.datetime | None
    seats: list[SeatOut]
    draws: list[DrawRefOut]


class AssignmentOut(Schema):
    seat: int
    tender: int
    tender_title: str
    evaluation_date: dt.date
    status: str
    committee_status: str
    decline_reason: str


def _expert_out(e: Expert) -> dict[str, Any]:
    return {
        "id": e.pk,
        "name": e.name,
        "employer": e.employer.credit_code,
        "employer_name": e.employer.name,
        "region_code": e.region_code,
        "title": e.title,
        "qualifications": e.qualifications,
        "specialties": e.specialty_codes,
        "status": e.status,
        "status_reason": e.status_reason,
        "admitted_at": e.admitted_at,
        "has_account": e.user_id is not None,
    }


def _staff_only(request: HttpRequest) -> None:
    if not has_role(signed_in(request.user), Role.CENTRE_STAFF):
        raise NotAllowed(_("The expert pool is managed by centre staff."), rule="role_required")


def _org(code: str, field: str) -> Organisation:
    org = Organisation.objects.filter(credit_code=code.strip().upper()).first()
    if org is None:
        raise InvalidInput(_("No organisation has this credit code."), field=field, rule="exists")
    return org


def _expert(expert_id: int) -> Expert:
    e = Expert.objects.select_related("employer").filter(pk=expert_id).first()
    if e is None:
        raise NotFound(_("No such expert."), field="expert_id", rule="exists")
    return e


@router.get("/experts", response=list[ExpertOut], summary="The expert pool (centre staff)")
def list_experts(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    _staff_only(request)
    qs = Expert.objects.select_related("employer").prefetch_related("specialties")
    if status:
        qs = qs.filter(status=status)
    return [_expert_out(e) for e in qs]


@router.post("/experts", response={201: ExpertOut}, summary="Admit an expert (centre staff)")
def admit(request: HttpRequest, body: ExpertIn) -> Any:
    user = None
    if body.username:
        user = User.objects.filter(username=body.username).first()
        if user is None:
            raise InvalidInput(_("No such account."), field="username", rule="exists")
    expert = services.admit_expert(
        request.user,
        name=body.name,
        id_number=body.id_number,
        employer=_org(body.employer, "employer"),
        region_code=body.region_code,
        specialties=body.specialties,
        title=body.title,
        qualifications=body.qualifications,
        user=user,
    )
    return Status(201, _expert_out(expert))


@router.get("/experts/me/assignments", response=list[AssignmentOut], summary="My assignments")
def my_assignments(request: HttpRequest) -> list[dict[str, Any]]:
    user = signed_in(request.user)
    return [
        {
            "seat": m.pk,
            "tender": m.committee.tender_id,
            "tender_title": m.committee.tender.title,
            "evaluation_date": m.committee.evaluation_date,
            "status": m.status,
            "committee_status": m.committee.status,
            "decline_reason": m.decline_reason,
        }
        for m in committees.assignments(user)
    ]


@router.get("/experts/{expert_id}", response=ExpertOut, summary="One expert (centre staff)")
def get_expert(request: HttpRequest, expert_id: int) -> dict[str, Any]:
    _staff_only(request)
    return _expert_out(_expert(expert_id))


@router.post("/experts/{expert_id}", response=ExpertOut, summary="Change an expert")
def change_expert(request: HttpRequest, expert_id: int, body: ExpertChangeIn) -> dict[str, Any]:
    expert = services.update_expert(
        request.user,
        _expert(expert_id),
        employer=_org(body.employer, "employer") if body.employer else None,
        region_code=body.region_code,
        specialties=body.specialties,
        title=body.title,
        qualifications=body.qualifications,
    )
    return _expert_out(expert)


@router.post("/experts/{expert_id}/suspend", response=ExpertOut, summary="Suspend an expert")
def suspend(request: HttpRequest, expert_id: int, body: ReasonIn) -> dict[str, Any]:
    return _expert_out(
        services.suspend_expert(request.user, _expert(expert_id), reason=body.reason)
    )


@router.post("/experts/{expert_id}/reinstate", response=ExpertOut, summary="Reinstate an expert")
def reinstate(request: HttpRequest, expert_id: int, body: ReasonIn) -> dict[str, Any]:
    return _expert_out(
        services.reinstate_expert(request.user, _expert(expert_id), reason=body.reason)
    )


@router.post("/experts/{expert_id}/remove", response=ExpertOut, summary="Remove an expert (清退)")
def remove(request: HttpRequest, expert_id: int, body: ReasonIn) -> dict[str, Any]:
    return _expert_out(services.remove_expert(request.user, _expert(expert_id), reason=body.reason))


@router.post(
    "/experts/{expert_id}/unavailability",
    response={201: dict[str, Any]},
    summary="Enter days the expert cannot evaluate (the expert or centre staff)",
)
def unavailability(request: HttpRequest, expert_id: int, body: UnavailabilityIn) -> Any:
    item = services.add_unavailability(
        request.user, _expert(expert_id), start=body.start, end=body.end, reason=body.reason
    )
    return Status(201, {"id": item.pk, "start": item.start, "end": item.end})


@router.post(
    "/experts/{expert_id}/conflicts",
    response={201: dict[str, Any]},
    summary="Declare a conflict of interest with an organisation",
)
def conflict(request: HttpRequest, expert_id: int, body: ConflictIn) -> Any:
    declaration = services.declare_conflict(
        request.user,
        _expert(expert_id),
        organisation=_org(body.organisation, "organisation"),
        reason=body.reason,
    )
    return Status(201, {"id": declaration.pk})


# --- committees ------------------------------------------------------------------------------


def _tender(tender_id: int) -> Tender:
    tender = (
        Tender.objects.select_related("project").filter(pk=tender_id, published_at__isnull=False)
    ).first()
    if tender is None:
        raise NotFound(_("No such tender."), field="tender_id", rule="exists")
    return tender


def _visible(committee: Committee, user: Any) -> bool:
    if committee.published_at is not None:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        committees.may_manage(user, committee.tender)
        or draws.may_see_secrets(user)
        or committee.members.filter(Q(expert__user=user) | Q(user=user)).exists()
    )


def _committee(tender: Tender, user: Any) -> Committee:
    committee = committees.committee_of(tender)
    if committee is None or not _visible(committee, user):
        raise NotFound(_("This tender has no committee yet."), field="tender_id", rule="exists")
    return committee


def committee_out(committee: Committee, user: Any) -> dict[str, Any]:
    names = committees.may_see_members(user, committee)
    own = user.pk if getattr(user, "is_authenticated", False) else None
    seats = []
    for m in committee.members.select_related("expert__employer", "user").order_by("pk"):
        visible = (
            names
            or m.kind == CommitteeMember.Kind.REPRESENTATIVE
            or (m.expert is not None and own is not None and m.expert.user_id == own)
        )
        seats.append(
            {
                "seat": m.pk,
                "kind": m.kind,
                "status": m.status,
                "group": m.group,
                "name": m.display_name if visible else None,
                "employer": m.expert.employer.name if visible and m.expert else None,
                "draw": m.draw_id,
                "reserve_rank": m.reserve_rank,
            }
        )
    draw_rows = [
        {
            "id": d.pk,
            "previous": d.previous_id,
            "status": d.status,
            "inputs_sha256": d.inputs_sha256,
            "commitment_index": d.commitment_index,
            "checkpoint_size": d.checkpoint.size if d.checkpoint else None,
            "seed": d.seed or None,
            "result_sha256": d.result_sha256 or None,
            "url": f"/api/v1/draws/{d.pk}",
        }
        for d in draws.draws_of("tender", committee.tender_id)
        .filter(purpose=committees.PURPOSE)
        .select_related("checkpoint")
    ]
    return {
        "tender": committee.tender_id,
        "status": committee.status,
        "evaluation_date": committee.evaluation_date,
        "expert_seats": committee.expert_seats,
        "representative_seats": committee.representative_seats,
        "size": committee.size,
        "criteria": committee.criteria,
        "missing_seats": committees.missing_seats(committee),
        "chair_seat": committee.chair_id,
        "published_at": committee.published_at,
        "seats": seats,
        "draws": draw_rows,
    }


@router.get(
    "/tenders/{tender_id}/committee",
    response=CommitteeOut,
    auth=PUBLIC,
    summary="The tender's evaluation committee: seats, draws and their verification data",
)
def get_committee(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    tender = _tender(tender_id)
    return committee_out(_committee(tender, request.user), request.user)


@router.post(
    "/tenders/{tender_id}/committee",
    response={201: CommitteeOut},
    summary="Draw the evaluation committee (after the opening; the tender's managers or centre staff)",
)
def start_committee(request: HttpRequest, tender_id: int, body: CommitteeIn) -> Any:
    tender = _tender(tender_id)
    committee = committees.start_committee_draw(
        request.user,
        tender,
        evaluation_date=body.evaluation_date,
        groups=[g.model_dump() for g in body.groups],
        representatives=body.representatives,
    )
    return Status(201, committee_out(committee, request.user))


@router.post(
    "/tenders/{tender_id}/committee/redraw",
    response=CommitteeOut,
    summary="Fill the open seats: reserves first, then a new verifiable draw",
)
def redraw(request: HttpRequest, tender_id: int) -> dict[str, Any]:
    tender = _tender(tender_id)
    committee = _committee(tender, request.user)
    committees.redraw_missing(request.user, committee)
    committees.perform_committee_draws(committee)
    committee.refresh_from_db()
    return committee_out(committee, request.user)


@router.post(
    "/tenders/{tender_id}/committee/representatives",
    response={201: CommitteeOut},
    summary="Seat a representative of the tenderer or its agency",
)
def representative(request: HttpRequest, tender_id: int, body: RepresentativeIn) -> Any:
    tender = _tender(tender_id)
    committee = _committee(tender, request.user)
    person = User.objects.filter(username=body.username).first()
    if person is None:
        raise InvalidInput(_("No such account."), field="username", rule="exists")
    committees.add_representative(request.user, committee, user=person)
    committee.refresh_from_db()
    return Status(201, committee_out(committee, request.user))


@router.post(
    "/tenders/{tender_id}/committee/chair-votes",
    response={201: CommitteeOut},
    summary="A member votes for the committee's chair",
)
def chair_vote(request: HttpRequest, tender_id: int, body: VoteIn) -> Any:
    tender = _tender(tender_id)
    committee = _committee(tender, request.user)
    candidate = committee.members.filter(pk=body.seat).first()
    if candidate is None:
        raise InvalidInput(_("Vote for a member of this committee."), field="seat")
    committees.vote_chair(request.user, committee, candidate=candidate)
    committee.refresh_from_db()
    return Status(201, committee_out(committee, request.user))


def _seat(seat_id: int) -> CommitteeMember:
    seat = CommitteeMember.objects.filter(pk=seat_id).first()
    if seat is None:
        raise NotFound(_("No such assignment of yours."), field="seat_id", rule="exists")
    return seat


@router.post(
    "/committee-seats/{seat_id}/confirm",
    response=AssignmentOut,
    summary="The drawn expert confirms",
)
def confirm(request: HttpRequest, seat_id: int) -> dict[str, Any]:
    seat = committees.confirm_seat(request.user, _seat(seat_id))
    return _assignment(seat)


@router.post(
    "/committee-seats/{seat_id}/decline",
    response=AssignmentOut,
    summary="The drawn expert declines, with a reason (a reserve or a new draw takes the seat)",
)
def decline(request: HttpRequest, seat_id: int, body: ReasonIn) -> dict[str, Any]:
    seat = committees.decline_seat(request.user, _seat(seat_id), reason=body.reason)
    committees.perform_committee_draws(seat.committee)
    return _assignment(seat)


def _assignment(m: CommitteeMember) -> dict[str, Any]:
    m = CommitteeMember.objects.select_related("committee__tender").get(pk=m.pk)
    return {
        "seat": m.pk,
        "tender": m.committee.tender_id,
        "tender_title": m.committee.tender.title,
        "evaluation_date": m.committee.evaluation_date,
        "status": m.status,
        "committee_status": m.committee.status,
        "decline_reason": m.decline_reason,
    }


# The evaluation session's endpoints live in their own module, under the same root.
from openbid.evaluation.session_api import router as session_router  # noqa: E402

router.add_router("", session_router)
