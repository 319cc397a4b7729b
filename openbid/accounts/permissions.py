"""Role checks. Services call these first; views only hide what a person may not do.

A check passes for an active membership with the role, in an organisation that is not suspended,
and (when ``organisation`` is given) in that organisation.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from openbid.accounts.models import Membership, Organisation, User
from openbid.core.errors import NotAllowed

# Whoever asks a service to act: a person, an anonymous visitor, or None for the platform itself
# (the clock loop, the operator's bootstrap). Services decide what each may do.
Actor = User | AnonymousUser | None


def signed_in(actor: Actor) -> User:
    """The actor as an active, signed-in person, or a refusal."""
    if not isinstance(actor, User) or not actor.is_active:
        raise NotAllowed(_("Sign in first."), rule="login_required")
    return actor


def memberships(user: Any, *roles: str) -> Any:
    """The active memberships of ``user`` with any of ``roles`` in usable organisations."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Membership.objects.none()
    qs = (
        Membership.objects.filter(user=user, active=True)
        .exclude(organisation__status=Organisation.Status.SUSPENDED)
        .select_related("organisation")
    )
    if roles:
        qs = qs.filter(role__in=roles)
    return qs


def has_role(user: Any, *roles: str, organisation: Organisation | None = None) -> bool:
    qs = memberships(user, *roles)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return qs.exists()


def require_role(
    user: Any, *roles: str, organisation: Organisation | None = None, action: str = ""
) -> Membership:
    """Return the membership that allows ``action``, or refuse naming the roles it needs."""
    qs = memberships(user, *roles)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    membership = qs.order_by("id").first()
    if membership is None:
        from openbid.accounts.roles import Role

        roles_text = " / ".join(str(Role(r).label) for r in roles)
        action_text = action or _("This action")
        if organisation is not None:
            message = _(
                "%(action)s is refused: it needs one of these roles in %(org)s: %(roles)s."
            ) % {"action": action_text, "org": organisation.name, "roles": roles_text}
        else:
            message = _("%(action)s is refused: it needs one of these roles: %(roles)s.") % {
                "action": action_text,
                "roles": roles_text,
            }
        raise NotAllowed(message, rule="role_required")
    return membership
