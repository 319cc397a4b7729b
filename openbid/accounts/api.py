"""API for organisations, people and tokens. Thin: every change goes through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from openbid.accounts import commitment, services
from openbid.accounts.models import Organisation
from openbid.accounts.permissions import memberships
from openbid.accounts.regions import children, require_region
from openbid.core.api_auth import PUBLIC

router = Router(tags=["organisations"])


class OrganisationOut(Schema):
    name: str
    credit_code: str
    org_type: str
    region_code: str
    status: str
    status_reason: str
    registered_at: dt.datetime
    commitment_version: str
    commitment_digest: str


class RegistrationIn(Schema):
    name: str = Field(..., max_length=200)
    credit_code: str = Field(..., max_length=18)
    org_type: str
    region_code: str = Field(..., max_length=6)
    legal_representative: str = Field("", max_length=80)
    admin_username: str = Field(..., max_length=150)
    admin_password: str
    admin_display_name: str = Field("", max_length=80)
    accept_commitment: bool
    commitment_version: str = commitment.CURRENT_VERSION


class ReasonIn(Schema):
    reason: str = Field("", max_length=500)


class PersonIn(Schema):
    username: str = Field(..., max_length=150)
    password: str
    role: str
    display_name: str = Field("", max_length=80)
    is_admin: bool = False


class MembershipOut(Schema):
    organisation: str = Field(..., alias="organisation.credit_code")
    organisation_name: str = Field(..., alias="organisation.name")
    role: str
    is_admin: bool


class MeOut(Schema):
    username: str
    display_name: str
    memberships: list[MembershipOut]


class TokenIn(Schema):
    name: str = Field(..., max_length=80)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    token: str | None = None
    created_at: dt.datetime


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None


class CommitmentOut(Schema):
    version: str
    text: str
    sha256: str


@router.get("/commitment", response=CommitmentOut, auth=PUBLIC, summary="The integrity commitment")
def current_commitment(request: HttpRequest) -> dict[str, str]:
    """The text a registering market entity signs, and the digest stored when it does."""
    return {
        "version": commitment.CURRENT_VERSION,
        "text": commitment.text(),
        "sha256": commitment.digest(),
    }


@router.post(
    "/organisations",
    response={201: OrganisationOut},
    auth=PUBLIC,
    summary="Register a market entity",
)
def register(request: HttpRequest, payload: RegistrationIn) -> Status[Organisation]:
    org, _user = services.register_market_entity(**payload.dict())
    return Status(201, org)


@router.get("/organisations", response=list[OrganisationOut], auth=PUBLIC)
def list_organisations(
    request: HttpRequest, status: str | None = None, after: str = "", limit: int = 100
) -> Any:
    """The market entity registry, by credit code; page with ``after`` = the last code seen."""
    qs = Organisation.objects.filter(credit_code__gt=after).order_by("credit_code")
    if status:
        qs = qs.filter(status=status)
    return qs[: max(1, min(limit, 1000))]


@router.get("/organisations/{credit_code}", response=OrganisationOut, auth=PUBLIC)
def get_organisation(request: HttpRequest, credit_code: str) -> Organisation:
    return get_object_or_404(Organisation, credit_code=credit_code.upper())


@router.post("/organisations/{credit_code}/verify", response=OrganisationOut)
def verify(request: HttpRequest, credit_code: str, payload: ReasonIn) -> Organisation:
    org = get_object_or_404(Organisation, credit_code=credit_code.upper())
    return services.verify_organisation(request.user, org, note=payload.reason)


@router.post("/organisations/{credit_code}/suspend", response=OrganisationOut)
def suspend(request: HttpRequest, credit_code: str, payload: ReasonIn) -> Organisation:
    org = get_object_or_404(Organisation, credit_code=credit_code.upper())
    return services.suspend_organisation(request.user, org, reason=payload.reason)


@router.post("/organisations/{credit_code}/reinstate", response=OrganisationOut)
def reinstate(request: HttpRequest, credit_code: str, payload: ReasonIn) -> Organisation:
    org = get_object_or_404(Organisation, credit_code=credit_code.upper())
    return services.reinstate_organisation(request.user, org, reason=payload.reason)


@router.post("/organisations/{credit_code}/people", response={201: MembershipOut})
def add_person(request: HttpRequest, credit_code: str, payload: PersonIn) -> Status[Any]:
    org = get_object_or_404(Organisation, credit_code=credit_code.upper())
    return Status(201, services.add_person(request.user, org, **payload.dict()))


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "username": user.get_username(),
        "display_name": getattr(user, "display_name", ""),
        "memberships": list(memberships(user)),
    }


@router.post("/tokens", response={201: TokenOut}, summary="Create an API token (shown once)")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    token, raw = services.issue_api_token(request.user, name=payload.name)
    return Status(
        201,
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "token": raw,
            "created_at": token.created_at,
        },
    )


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    services.revoke_api_token(request.user, token_id)
    return Status(204, None)


@router.get("/regions", response=list[RegionOut], auth=PUBLIC, summary="GB/T 2260 divisions")
def list_regions(request: HttpRequest, parent: str | None = None) -> Any:
    """Province-level divisions, or the children of ``parent``."""
    if parent:
        require_region(parent, field="parent")
    return children(parent)
