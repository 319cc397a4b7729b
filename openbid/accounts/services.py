"""Every change to organisations, people, roles and API tokens.

Each service runs in one transaction, checks the actor's role itself, and records a domain event.
Public payloads carry what the public registry shows about an organisation; personal data (user
names, passwords) never enters an event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from openbid.accounts import commitment
from openbid.accounts.credit_code import validate_credit_code
from openbid.accounts.models import ApiToken, Membership, Organisation, User
from openbid.accounts.permissions import Actor, has_role, require_role, signed_in
from openbid.accounts.regions import require_region
from openbid.accounts.roles import ROLES_BY_ORG_TYPE, SELF_REGISTERING_TYPES, OrgType, Role
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, service
from openbid.core.validation import clean_text

TOKEN_PREFIX = "obt_"  # noqa: S105 - a public marker, not a secret


def _organisation_payload(org: Organisation) -> dict[str, Any]:
    return {
        "name": org.name,
        "credit_code": org.credit_code,
        "org_type": org.org_type,
        "region_code": org.region_code,
        "status": org.status,
    }


def _check_new_user(username: str, password: str, field_prefix: str) -> str:
    username = clean_text(username, f"{field_prefix}username", 150)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(
            _("The login name %(name)s is taken.") % {"name": username},
            field=f"{field_prefix}username",
            rule="unique_username",
        )
    try:
        password_validation.validate_password(password, User(username=username))
    except ValidationError as exc:
        raise InvalidInput(
            " ".join(str(m) for m in exc.messages),
            field=f"{field_prefix}password",
            rule="password_policy",
        ) from exc
    return username


def _already_registered(code: str) -> Conflict:
    return Conflict(
        _("An organisation with the unified social credit code %(code)s is already registered.")
        % {"code": code},
        field="credit_code",
        rule="unique_credit_code",
    )


def _check_new_organisation(name: str, credit_code: str, org_type: str, region_code: str) -> str:
    name = clean_text(name, "name", 200)
    if org_type not in OrgType.values:
        raise InvalidInput(
            _("Unknown organisation type %(type)s.") % {"type": org_type},
            field="org_type",
            rule="org_type",
        )
    code = validate_credit_code(credit_code, field="credit_code")
    require_region(region_code, field="region_code")
    if Organisation.objects.filter(credit_code=code).exists():
        raise _already_registered(code)
    return code


def _create_user(username: str, password: str, display_name: str) -> User:
    user = User(username=username, display_name=(display_name or "").strip()[:80])
    user.set_password(password)
    user.save()
    return user


def _create_organisation(
    *,
    name: str,
    code: str,
    org_type: str,
    region_code: str,
    legal_representative: str,
    signed_by: User | None,
) -> Organisation:
    now = clock.now()
    try:
        with transaction.atomic():
            return Organisation.objects.create(
                name=name.strip(),
                credit_code=code,
                org_type=org_type,
                region_code=region_code,
                legal_representative=(legal_representative or "").strip()[:80],
                commitment_version=commitment.CURRENT_VERSION,
                commitment_digest=commitment.digest(),
                commitment_signed_by=signed_by,
                registered_at=now,
                status_changed_at=now,
            )
    except IntegrityError as exc:  # a concurrent registration of the same code won the race
        raise _already_registered(code) from exc


def _add_membership(user: User, org: Organisation, role: str, *, is_admin: bool) -> Membership:
    if role not in ROLES_BY_ORG_TYPE[org.org_type]:
        raise InvalidInput(
            _("The role %(role)s cannot be held in an organisation of type %(type)s.")
            % {"role": Role(role).label, "type": OrgType(org.org_type).label},
            field="role",
            rule="role_fits_org_type",
        )
    membership, created = Membership.objects.get_or_create(
        user=user,
        organisation=org,
        role=role,
        defaults={"is_admin": is_admin, "created_at": clock.now()},
    )
    if not created:
        if membership.active:
            raise Conflict(
                _("%(person)s already holds this role in %(org)s.")
                % {"person": user, "org": org.name},
                field="role",
                rule="unique_membership",
            )
        membership.active = True
        membership.is_admin = is_admin
        membership.save(update_fields=["active", "is_admin"])
    return membership


@service
def register_market_entity(
    *,
    name: str,
    credit_code: str,
    org_type: str,
    region_code: str,
    admin_username: str,
    admin_password: str,
    admin_display_name: str = "",
    legal_representative: str = "",
    accept_commitment: bool = False,
    commitment_version: str = commitment.CURRENT_VERSION,
) -> tuple[Organisation, User]:
    """Register a market entity and its first administrator by integrity commitment (诚信承诺制).

    The entity is usable at once ("秒入库"); centre staff verify or suspend it afterwards. Only
    tenderers, agencies, bidders and experts' employers register themselves; trading centres and
    regulators are created by centre staff. Refuses an invalid credit code (GB 32100-2015), an
    unknown region (GB/T 2260), a duplicate code, a taken login name, a weak password, and a
    registration without the signed commitment.
    """
    if org_type in OrgType.values and org_type not in SELF_REGISTERING_TYPES:
        raise NotAllowed(
            _("Organisations of type %(type)s are created by the trading centre, not registered.")
            % {"type": OrgType(org_type).label},
            field="org_type",
            rule="self_registration",
        )
    code = _check_new_organisation(name, credit_code, org_type, region_code)
    if not accept_commitment:
        raise InvalidInput(
            _("Registration needs the signed integrity commitment (诚信承诺书)."),
            field="accept_commitment",
            rule="integrity_commitment",
        )
    if commitment_version != commitment.CURRENT_VERSION:
        raise InvalidInput(
            _("The commitment version %(version)s is not the current one; reload the form.")
            % {"version": commitment_version},
            field="commitment_version",
            rule="integrity_commitment",
        )
    username = _check_new_user(admin_username, admin_password, "admin_")
    user = _create_user(username, admin_password, admin_display_name)
    org = _create_organisation(
        name=name,
        code=code,
        org_type=org_type,
        region_code=region_code,
        legal_representative=legal_representative,
        signed_by=user,
    )
    role = next(iter(ROLES_BY_ORG_TYPE[org_type]))
    _add_membership(user, org, role, is_admin=True)
    record_event(
        "accounts.organisation.registered",
        actor=user,
        actor_org=org,
        subjects=[("organisation", org.pk)],
        payload={
            **_organisation_payload(org),
            "commitment_version": org.commitment_version,
            "commitment_digest": org.commitment_digest,
        },
    )
    return org, user


@service
def create_public_body(
    actor: Actor,
    *,
    name: str,
    credit_code: str,
    org_type: str,
    region_code: str,
    legal_representative: str = "",
) -> Organisation:
    """Create a trading centre or regulator organisation.

    Centre staff only — except the very first trading centre of an empty platform, which the
    operator creates with no actor (``openbid manage bootstrap``). Public bodies do not sign the
    market entities' integrity commitment and start as verified.
    """
    if org_type not in (OrgType.TRADING_CENTRE, OrgType.REGULATOR):
        raise InvalidInput(
            _("Only trading centres and regulators are created this way."),
            field="org_type",
            rule="public_body_type",
        )
    first_centre = (
        actor is None
        and org_type == OrgType.TRADING_CENTRE
        and not Organisation.objects.filter(org_type=OrgType.TRADING_CENTRE).exists()
    )
    if not first_centre:
        require_role(actor, Role.CENTRE_STAFF, action=_("Creating a public body"))
    code = _check_new_organisation(name, credit_code, org_type, region_code)
    org = _create_organisation(
        name=name,
        code=code,
        org_type=org_type,
        region_code=region_code,
        legal_representative=legal_representative,
        signed_by=None,
    )
    org.status = Organisation.Status.VERIFIED
    org.save(update_fields=["status"])
    record_event(
        "accounts.organisation.created",
        actor=actor,
        subjects=[("organisation", org.pk)],
        payload=_organisation_payload(org),
    )
    return org


@service
def add_person(
    actor: Actor,
    organisation: Organisation,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    is_admin: bool = False,
) -> Membership:
    """Create a person's login and give them a role in ``organisation``.

    Allowed to the organisation's administrators and to centre staff (and to the operator with no
    actor while the organisation has no administrator yet, for bootstrapping). The role must fit
    the organisation's type.
    """
    _require_org_admin(actor, organisation, _("Adding a person"))
    if role not in Role.values:
        raise InvalidInput(_("Unknown role %(role)s.") % {"role": role}, field="role", rule="role")
    username = _check_new_user(username, password, "")
    user = _create_user(username, password, display_name)
    membership = _add_membership(user, organisation, role, is_admin=is_admin)
    record_event(
        "accounts.membership.granted",
        actor=actor,
        actor_org=organisation,
        subjects=[("organisation", organisation.pk), ("person", user.pk)],
        payload={"role": role, "is_admin": is_admin},
    )
    return membership


def _require_org_admin(actor: Actor, organisation: Organisation, action: str) -> None:
    if actor is None:
        if Membership.objects.filter(
            organisation=organisation, is_admin=True, active=True
        ).exists():
            raise NotAllowed(
                _("%(action)s needs a signed-in administrator.") % {"action": action},
                rule="role_required",
            )
        return
    user = signed_in(actor)
    if has_role(user, Role.CENTRE_STAFF):
        return
    is_admin = Membership.objects.filter(
        user=user, organisation=organisation, is_admin=True, active=True
    ).exists()
    if not is_admin or not organisation.is_usable:
        raise NotAllowed(
            _("%(action)s needs an administrator of %(org)s or trading centre staff.")
            % {"action": action, "org": organisation.name},
            rule="org_admin_required",
        )


@service
def end_membership(actor: Actor, membership: Membership, *, reason: str) -> Membership:
    """End a person's role in an organisation (the login stays; the role no longer works)."""
    _require_org_admin(actor, membership.organisation, _("Ending a role"))
    reason = clean_text(reason, "reason", 500)
    if not membership.active:
        raise Conflict(_("This role has already ended."), field="membership", rule="state")
    membership.active = False
    membership.save(update_fields=["active"])
    record_event(
        "accounts.membership.ended",
        actor=actor,
        subjects=[("organisation", membership.organisation_id), ("person", membership.user_id)],
        payload={"role": membership.role, "reason": reason},
    )
    return membership


# Each status change: the statuses it may start from, the status it leads to, and its event.
_TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "verify": (
        frozenset({Organisation.Status.COMMITTED}),
        Organisation.Status.VERIFIED,
        "accounts.organisation.verified",
    ),
    "suspend": (
        frozenset({Organisation.Status.COMMITTED, Organisation.Status.VERIFIED}),
        Organisation.Status.SUSPENDED,
        "accounts.organisation.suspended",
    ),
    "reinstate": (
        frozenset({Organisation.Status.SUSPENDED}),
        Organisation.Status.VERIFIED,
        "accounts.organisation.reinstated",
    ),
}


def _change_status(actor: Actor, org: Organisation, change: str, reason: str) -> Organisation:
    require_role(actor, Role.CENTRE_STAFF, action=_("Changing an organisation's status"))
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    sources, target, event = _TRANSITIONS[change]
    if org.status not in sources:
        raise Conflict(
            _("The organisation is %(status)s; it cannot become %(target)s.")
            % {
                "status": Organisation.Status(org.status).label,
                "target": Organisation.Status(target).label,
            },
            field="status",
            rule="organisation_status",
        )
    previous = org.status
    org.status = target
    org.status_reason = reason
    org.status_changed_at = clock.now()
    org.save(update_fields=["status", "status_reason", "status_changed_at"])
    record_event(
        event,
        actor=actor,
        subjects=[("organisation", org.pk)],
        payload={"from": previous, "to": target, "reason": reason},
    )
    return org


@service
def verify_organisation(actor: Actor, org: Organisation, *, note: str = "") -> Organisation:
    """Centre staff confirm a committed registration against the source registers."""
    return _change_status(actor, org, "verify", clean_text(note, "reason", 500, required=False))


@service
def suspend_organisation(actor: Actor, org: Organisation, *, reason: str) -> Organisation:
    """Centre staff suspend an organisation (e.g. a false commitment); its people can no longer act.

    The reason is required and public, because suspension affects the entity's market access.
    """
    reason = clean_text(reason, "reason", 500)
    return _change_status(actor, org, "suspend", reason)


@service
def reinstate_organisation(actor: Actor, org: Organisation, *, reason: str) -> Organisation:
    """Centre staff lift a suspension after review; the organisation returns as verified."""
    return _change_status(actor, org, "reinstate", clean_text(reason, "reason", 500))


@service
def change_password(actor: Actor, *, old_password: str, new_password: str) -> None:
    """A person changes their own password; the old one must be given."""
    user = signed_in(actor)
    if not user.check_password(old_password):
        raise InvalidInput(
            _("The current password is wrong."), field="old_password", rule="password_check"
        )
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise InvalidInput(
            " ".join(str(m) for m in exc.messages), field="new_password", rule="password_policy"
        ) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record_event("accounts.person.password_changed", actor=user, subjects=[("person", user.pk)])


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@service
def issue_api_token(actor: Actor, *, name: str) -> tuple[ApiToken, str]:
    """Issue a bearer token for a machine client acting as the actor; returns it once, in clear."""
    user = signed_in(actor)
    name = clean_text(name, "name", 80)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=_token_digest(raw),
        created_at=clock.now(),
    )
    record_event(
        "accounts.api_token.issued",
        actor=user,
        subjects=[("person", user.pk)],
        payload={"token": token.prefix, "name": name},
    )
    return token, raw


@service
def revoke_api_token(actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the person's own tokens; it stops working at once."""
    user = signed_in(actor)
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound(_("No such API token."), field="token_id", rule="exists")
    if token.revoked_at is not None:
        raise Conflict(_("This API token is already revoked."), field="token_id", rule="state")
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    record_event(
        "accounts.api_token.revoked",
        actor=user,
        subjects=[("person", user.pk)],
        payload={"token": token.prefix},
    )
    return token


def user_for_token(raw: str) -> User | None:
    """The active person a bearer token belongs to, or None. Marks the token as used."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = clock.now()
    # At most one write a minute per token: a bulk upload sends many requests in a row.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
