"""The expert pool (专家库): admission, changes, suspension and removal (清退), availability and
declared conflicts. Centre staff manage the pool; an expert keeps their own calendar and conflicts.

Every change is a service with a ledger event. Experts' identities are not public: events carry
the expert's id, region and specialties, and a salted digest of the personal data
(``private_digest``), never a name or an identity number. Committee draws are in
``openbid.evaluation.committee``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils.translation import gettext as _

from openbid.accounts import identity
from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, has_role, require_role, signed_in
from openbid.accounts.regions import require_region
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.events import record_event, salted_digest, service
from openbid.core.validation import clean_text
from openbid.evaluation import specialties as specialty_table
from openbid.evaluation.models import (
    ConflictDeclaration,
    Expert,
    ExpertSpecialty,
    Unavailability,
)


def _staff(actor: Actor, action: str) -> User:
    user = signed_in(actor)
    require_role(user, Role.CENTRE_STAFF, action=action)
    return user


def check_id_number(value: str) -> str:
    """A citizen identity number (GB 11643-1999: 17 digits and a check character), normalised."""
    return identity.normalise_id_number(value)


def id_digest(id_number: str) -> str:
    """The platform's keyed digest of the identity number (``openbid.accounts.identity``), the
    same the credit context keeps for a person, so both recognise the same expert."""
    return identity.person_digest(id_number)


def _codes(values: Any) -> list[str]:
    codes = sorted({specialty_table.require(str(v)).code for v in values or [] if str(v).strip()})
    if not codes:
        raise InvalidInput(
            _("An expert has at least one specialty."), field="specialties", rule="required"
        )
    return codes


def _qualifications(values: Any) -> list[str]:
    out = [clean_text(v, "qualifications", 200) for v in values or [] if str(v).strip()]
    return out[:20]


def _employer(org: Any) -> Organisation:
    if not isinstance(org, Organisation):
        raise InvalidInput(_("Choose the expert's employer."), field="employer", rule="required")
    return org


def _private(expert: Expert) -> str:
    personal = json.dumps(
        {"name": expert.name, "id_digest": expert.id_digest, "employer": expert.employer_id},
        sort_keys=True,
    ).encode()
    return salted_digest(personal)[0]


def _public(expert: Expert) -> dict[str, Any]:
    return {
        "expert": expert.pk,
        "region_code": expert.region_code,
        "specialties": expert.specialty_codes,
        "status": expert.status,
    }


@service
def admit_expert(
    actor: Actor,
    *,
    name: str,
    id_number: str,
    employer: Organisation,
    region_code: str,
    specialties: list[str],
    title: str = "",
    qualifications: list[str] | None = None,
    user: User | None = None,
) -> Expert:
    """Admit an expert to the pool (centre staff). One person (identity number) is admitted once."""
    staff = _staff(actor, _("Admitting experts"))
    name = clean_text(name, "name", 80)
    digest = id_digest(id_number)
    employer = _employer(employer)
    region = require_region(region_code).code
    codes = _codes(specialties)
    if Expert.objects.filter(id_digest=digest).exists():
        raise Conflict(
            _("This person is already in the expert pool."), field="id_number", rule="unique"
        )
    if user is not None and Expert.objects.filter(user=user).exists():
        raise Conflict(_("This account already belongs to an expert."), field="user", rule="unique")
    now = clock.now()
    expert = Expert.objects.create(
        name=name,
        id_digest=digest,
        user=user,
        employer=employer,
        region_code=region,
        title=clean_text(title, "title", 80, required=False),
        qualifications=_qualifications(qualifications),
        admitted_at=now,
        status_changed_at=now,
    )
    ExpertSpecialty.objects.bulk_create(ExpertSpecialty(expert=expert, code=c) for c in codes)
    record_event(
        "evaluation.expert.admitted",
        actor=staff,
        subjects=[("expert", expert.pk)],
        payload=_public(expert),
        private_digest=_private(expert),
    )
    return expert


@service
def update_expert(
    actor: Actor,
    expert: Expert,
    *,
    employer: Organisation | None = None,
    region_code: str | None = None,
    specialties: list[str] | None = None,
    title: str | None = None,
    qualifications: list[str] | None = None,
) -> Expert:
    """Change an expert's employer, region, specialties, title or qualifications (centre staff)."""
    staff = _staff(actor, _("Changing experts"))
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.status == Expert.Status.REMOVED:
        raise Conflict(_("A removed expert cannot be changed."), field="status", rule="removed")
    changed: list[str] = []
    if employer is not None:
        expert.employer = _employer(employer)
        changed.append("employer")
    if region_code is not None:
        expert.region_code = require_region(region_code).code
        changed.append("region_code")
    if title is not None:
        expert.title = clean_text(title, "title", 80, required=False)
        changed.append("title")
    if qualifications is not None:
        expert.qualifications = _qualifications(qualifications)
        changed.append("qualifications")
    if specialties is not None:
        codes = _codes(specialties)
        ExpertSpecialty.objects.filter(expert=expert).delete()
        ExpertSpecialty.objects.bulk_create(ExpertSpecialty(expert=expert, code=c) for c in codes)
        changed.append("specialties")
    expert.save()
    record_event(
        "evaluation.expert.changed",
        actor=staff,
        subjects=[("expert", expert.pk)],
        payload={**_public(expert), "changed": changed},
        private_digest=_private(expert),
    )
    return expert


def _set_status(
    actor: Actor, expert: Expert, status: str, reason: str, allowed_from: set[str], action: str
) -> Expert:
    staff = _staff(actor, action)
    reason = clean_text(reason, "reason", 2000)
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.status not in allowed_from:
        raise Conflict(
            _("The expert is %(status)s: this change is not possible.")
            % {"status": expert.get_status_display()},
            field="status",
            rule="expert_status",
        )
    expert.status = status
    expert.status_reason = reason
    expert.status_changed_at = clock.now()
    expert.save(update_fields=["status", "status_reason", "status_changed_at"])
    record_event(
        f"evaluation.expert.{status}",
        actor=staff,
        subjects=[("expert", expert.pk)],
        payload={**_public(expert), "reason": reason},
    )
    return expert


@service
def suspend_expert(actor: Actor, expert: Expert, *, reason: str) -> Expert:
    """Suspend an admitted expert (no draws until reinstated); the reason is required."""
    return _set_status(
        actor,
        expert,
        Expert.Status.SUSPENDED,
        reason,
        {Expert.Status.ADMITTED},
        _("Suspending experts"),
    )


@service
def reinstate_expert(actor: Actor, expert: Expert, *, reason: str) -> Expert:
    """Admit a suspended expert again."""
    return _set_status(
        actor,
        expert,
        Expert.Status.ADMITTED,
        reason,
        {Expert.Status.SUSPENDED},
        _("Reinstating experts"),
    )


@service
def remove_expert(actor: Actor, expert: Expert, *, reason: str) -> Expert:
    """Remove an expert from the pool for good (清退); the reason is required and public."""
    return _set_status(
        actor,
        expert,
        Expert.Status.REMOVED,
        reason,
        {Expert.Status.ADMITTED, Expert.Status.SUSPENDED},
        _("Removing experts"),
    )


def _self_or_staff(actor: Actor, expert: Expert, action: str) -> User:
    user = signed_in(actor)
    if expert.user_id is not None and expert.user_id == user.pk:
        return user
    if has_role(user, Role.CENTRE_STAFF):
        return user
    raise NotAllowed(
        _("%(action)s is for the expert themself or centre staff.") % {"action": action},
        rule="expert_self",
    )


@service
def add_unavailability(
    actor: Actor, expert: Expert, *, start: dt.date, end: dt.date, reason: str = ""
) -> Unavailability:
    """Mark days on which the expert cannot evaluate (the expert, or centre staff)."""
    user = _self_or_staff(actor, expert, _("Entering unavailable days"))
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise InvalidInput(_("Give both dates."), field="start", rule="required")
    if end < start:
        raise InvalidInput(_("The last day is before the first."), field="end", rule="date_order")
    if end > start + dt.timedelta(days=366):
        raise InvalidInput(
            _("Enter at most a year at a time."), field="end", rule="unavailability_length"
        )
    item = Unavailability.objects.create(
        expert=expert,
        start=start,
        end=end,
        reason=clean_text(reason, "reason", 200, required=False),
        created_at=clock.now(),
    )
    record_event(
        "evaluation.expert.unavailable",
        actor=user,
        subjects=[("expert", expert.pk)],
        payload={"expert": expert.pk, "unavailability": item.pk, "start": start, "end": end},
    )
    return item


@service
def withdraw_unavailability(actor: Actor, item: Unavailability) -> Unavailability:
    """Take back unavailable days entered earlier."""
    user = _self_or_staff(actor, item.expert, _("Changing unavailable days"))
    item = Unavailability.objects.select_for_update().get(pk=item.pk)
    if item.withdrawn:
        return item
    item.withdrawn = True
    item.save(update_fields=["withdrawn"])
    record_event(
        "evaluation.expert.available_again",
        actor=user,
        subjects=[("expert", item.expert_id)],
        payload={"expert": item.expert_id, "unavailability": item.pk},
    )
    return item


@service
def declare_conflict(
    actor: Actor, expert: Expert, *, organisation: Organisation, reason: str
) -> ConflictDeclaration:
    """Declare a conflict of interest with an organisation: the expert is recused from its tenders
    and bids (Reg art. 46: members with an interest in a bidder withdraw)."""
    user = _self_or_staff(actor, expert, _("Declaring conflicts"))
    reason = clean_text(reason, "reason", 300)
    if not isinstance(organisation, Organisation):
        raise InvalidInput(_("Choose the organisation."), field="organisation", rule="required")
    if ConflictDeclaration.objects.filter(expert=expert, organisation=organisation).exists():
        raise Conflict(_("This conflict is already declared."), field="organisation", rule="unique")
    declaration = ConflictDeclaration.objects.create(
        expert=expert, organisation=organisation, reason=reason, declared_at=clock.now()
    )
    # Which organisation is private: it would point at the expert.
    record_event(
        "evaluation.expert.conflict_declared",
        actor=user,
        subjects=[("expert", expert.pk)],
        payload={"expert": expert.pk, "declaration": declaration.pk},
        private_digest=salted_digest(f"{expert.pk}:{organisation.credit_code}".encode())[0],
    )
    return declaration


def expert_for_user(user: Any) -> Expert | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Expert.objects.filter(user=user).first()
