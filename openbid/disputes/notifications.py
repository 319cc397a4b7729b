"""What the disputes context tells people on their home page: warnings and escalations given to
their organisation, replies to their objections, and decisions on their complaints."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from openbid.accounts.permissions import memberships
from openbid.disputes.models import Alert, Complaint, Objection, Timer

HOME_LIMIT = 5


def _case_link(timer: Timer) -> str:
    names = {
        Timer.Case.OBJECTION: "disputes:objection",
        Timer.Case.COMPLAINT: "disputes:complaint",
        Timer.Case.FEEDBACK: "disputes:feedback_detail",
    }
    return reverse(names[Timer.Case(timer.case)], args=[timer.case_id])


def alert_text(alert: Alert) -> str:
    timer = alert.timer
    params = {
        "step": timer.get_step_display(),
        "case": f"{timer.get_case_display()} {timer.case_id}",
        "target": timer.target_at.astimezone().strftime("%Y-%m-%d %H:%M"),
        "due": timer.due_at.astimezone().strftime("%Y-%m-%d %H:%M"),
    }
    if alert.kind == Alert.Kind.TARGET:
        return _("Target near: %(step)s (%(case)s) by %(target)s.") % params
    if alert.kind == Alert.Kind.LIMIT:
        return _("Statutory limit near: %(step)s (%(case)s) by %(due)s.") % params
    return _("Overdue, escalated to you: %(step)s (%(case)s) was due by %(due)s.") % params


def for_person(user: Any) -> list[dict[str, Any]]:
    """The latest notifications for the home page (``openbid.accounts.home.NOTIFICATION_SOURCES``)."""
    orgs = list(memberships(user).values_list("organisation_id", flat=True))
    if not orgs:
        return []
    out: list[dict[str, Any]] = []
    for alert in Alert.objects.filter(to_id__in=orgs).select_related("timer")[:HOME_LIMIT]:
        out.append({"at": alert.at, "text": alert_text(alert), "link": _case_link(alert.timer)})
    for objection in Objection.objects.filter(
        raised_by_id__in=orgs, replied_at__isnull=False
    ).order_by("-replied_at")[:HOME_LIMIT]:
        out.append(
            {
                "at": objection.replied_at,
                "text": _("Your objection %(ref)s was answered.") % {"ref": objection.reference},
                "link": reverse("disputes:objection", args=[objection.pk]),
            }
        )
    for complaint in Complaint.objects.filter(
        complainant_id__in=orgs, decided_at__isnull=False
    ).order_by("-decided_at")[:HOME_LIMIT]:
        out.append(
            {
                "at": complaint.decided_at,
                "text": _("Your complaint %(ref)s was decided: %(outcome)s.")
                % {"ref": complaint.reference, "outcome": complaint.get_outcome_display()},
                "link": reverse("disputes:complaint", args=[complaint.pk]),
            }
        )
    return sorted(out, key=lambda n: n["at"], reverse=True)[:HOME_LIMIT]
