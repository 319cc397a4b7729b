"""The disputes entries of each role's home page (``openbid.accounts.home``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from openbid.accounts.home import PUBLIC_TASKS, ROLE_TASKS, Task
from openbid.accounts.roles import Role

CASES = Task(
    _("Objections and complaints (异议与投诉)"),
    _("Your objections and complaints, those to answer, and their time limits."),
    "disputes:index",
)
FEEDBACK = Task(
    _("Suggestions and problem reports"),
    _("Tell the trading centre what to improve; answered within 3 working days."),
    "disputes:feedback",
)
DECISIONS = Task(
    _("Complaint decisions"),
    _("Published complaint decisions and the penalties arising from them."),
    "disputes:decisions",
)
RESPONSIBILITIES = Task(
    _("Responsibility list of regulators"),
    _("Which regulator handles complaints for each industry and region."),
    "disputes:responsibilities",
)

ADDITIONS = {
    Role.BIDDER_STAFF: [CASES, FEEDBACK],
    Role.TENDERER_STAFF: [CASES, FEEDBACK],
    Role.AGENCY_STAFF: [CASES, FEEDBACK],
    Role.REGULATOR: [
        Task(
            _("Complaints (投诉处理)"),
            _("Accept, investigate and decide complaints; suspend tenders; refer cases."),
            "disputes:index",
        )
    ],
    Role.CENTRE_STAFF: [
        Task(
            _("Suggestions and problem reports"),
            _("Answer market entities' suggestions and problem reports within 3 working days."),
            "disputes:feedback",
        ),
        RESPONSIBILITIES,
    ],
}


def register() -> None:
    """Add the entries once (idempotent: ``ready`` may run more than once in tests)."""
    for role, tasks in ADDITIONS.items():
        existing = ROLE_TASKS.setdefault(role, [])
        for task in tasks:
            if task not in existing:
                existing.append(task)
    for task in (DECISIONS, RESPONSIBILITIES):
        if task not in PUBLIC_TASKS:
            PUBLIC_TASKS.append(task)
