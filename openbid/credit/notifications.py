"""Notifications to the subject of credit records, shown on the home page and the credit page.

A small facility of the credit context: a ``Notification`` row is written by the service making
the change, in its transaction, addressed to an organisation (all its people see it) or to one
person (an expert). Its text is rendered when read, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from openbid.core import clock
from openbid.credit.models import Notification

HOME_LIMIT = 5


def notify(
    *, organisation: Any, user: Any, kind: str, params: Mapping[str, Any], link: str = ""
) -> Notification:
    return Notification.objects.create(
        organisation=organisation,
        user=user if organisation is None else None,
        kind=kind,
        params=dict(params),
        link=link,
        created_at=clock.now(),
    )


def text(note: Notification) -> str:
    """The notification's message in the active language."""
    p = note.params
    messages = {
        "record_created": _(
            "A credit record %(record)s (%(title)s) was recorded about you; it is valid until %(until)s."
        ),
        "record_superseded": _(
            "The credit record %(record)s was corrected by %(new)s. Reason: %(reason)s"
        ),
        "record_revoked": _("The credit record %(record)s was revoked. Reason: %(reason)s"),
        "repair_submitted": _(
            "Your credit repair application no. %(application)s for %(record)s was received."
        ),
        "repair_accepted": _(
            "Your credit repair application no. %(application)s for %(record)s was accepted for review."
        ),
        "repair_approved": _(
            "Your credit repair application no. %(application)s was approved: the record %(record)s "
            "is repaired and no longer counts or shows publicly. Reasons: %(reason)s"
        ),
        "repair_rejected": _(
            "Your credit repair application no. %(application)s for %(record)s was rejected. "
            "Reasons: %(reason)s"
        ),
    }
    template = messages.get(note.kind)
    if template is None:
        return note.kind
    try:
        return template % p
    except (KeyError, TypeError, ValueError):
        return note.kind


def visible_to(user: Any) -> Any:
    """Notifications addressed to the person or to any organisation they are an active member of."""
    from openbid.accounts.permissions import memberships

    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    orgs = memberships(user).values_list("organisation_id", flat=True)
    return Notification.objects.filter(Q(user=user) | Q(organisation_id__in=orgs)).order_by(
        "-created_at", "-id"
    )


def for_person(user: Any) -> list[dict[str, Any]]:
    """The latest notifications for the home page (``openbid.accounts.home.NOTIFICATION_SOURCES``)."""
    return [
        {"at": n.created_at, "text": text(n), "link": n.link} for n in visible_to(user)[:HOME_LIMIT]
    ]
