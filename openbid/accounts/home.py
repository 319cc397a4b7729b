"""What each role can do, as shown on its home page. Each context adds its entries here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from openbid.accounts.roles import Role


@dataclass(frozen=True)
class Task:
    title: str | Promise
    description: str | Promise
    url_name: str
    url_args: tuple[str, ...] = ()

    def url(self) -> str:
        return reverse(self.url_name, args=self.url_args)


# Contexts that notify people register a function here: given a signed-in person, it returns
# their latest notifications as {"at": datetime, "text": str, "link": str}, newest first.
NOTIFICATION_SOURCES: list[Callable[[Any], list[dict[str, Any]]]] = []


def notifications_for(user: Any) -> list[dict[str, Any]]:
    """The latest notifications of every context for ``user``, newest first."""
    found = [n for source in NOTIFICATION_SOURCES for n in source(user)]
    return sorted(found, key=lambda n: n["at"], reverse=True)


PUBLIC_TASKS = [
    Task(
        _("Market entity registry"),
        _("Registered organisations and their status."),
        "organisations",
    ),
    Task(
        _("Statutory rules"),
        _("Periods, caps and thresholds with the articles they come from."),
        "rules",
    ),
    Task(_("Event record"), _("Every state change on the platform, as it happened."), "events"),
    Task(
        _("Credit information (信用信息)"),
        _("Credit grades and records of market entities, and the serious-dishonesty list."),
        "credit:index",
    ),
    Task(
        _("Tender notices"),
        _("Published tenders, their notices, documents and clarifications."),
        "tendering:tenders",
    ),
    Task(
        _("Tender plans"),
        _("Tenders announced ahead of their notices."),
        "tendering:plans",
    ),
    Task(
        _("Published contracts (合同订立公开)"),
        _("Every signed contract, its versions and changes."),
        "award:contracts",
    ),
    Task(
        _("Process flowchart (办事流程图)"),
        _("Every step of a tender, drawn from the rules the platform enforces."),
        "tendering:flowchart",
    ),
]

ROLE_TASKS: dict[str, list[Task]] = {
    Role.CENTRE_STAFF: [
        Task(
            _("Review registrations"),
            _("Verify organisations registered by integrity commitment, or suspend them."),
            "organisations",
        ),
        Task(
            _("Expert pool"),
            _("Admit, suspend or remove (清退) evaluation experts."),
            "evaluation:pool",
        ),
        Task(
            _("Holiday calendar"),
            _("Enter next year's State Council holiday schedule, including make-up working days."),
            "admin:core_calendarday_changelist",
        ),
        Task(
            _("Credit workspace"),
            _("Record credit information, review repair applications, import and export records."),
            "credit:workspace",
        ),
        Task(
            _("Deposits workspace"),
            _("Bank statements, unmatched payments, refunds due and late, exports for the bank."),
            "deposits:staff",
        ),
        Task(
            _("Contract templates"),
            _("The contract templates (合同范本) tenderers draft contracts from."),
            "award:templates",
        ),
        Task(
            _("Written reports and late flags"),
            _("Written reports to the regulator and contracts, with due times and late flags."),
            "award:reports",
        ),
        Task(_("Administration"), _("Organisations, people and the calendar."), "admin:index"),
    ],
    Role.TENDERER_STAFF: [
        Task(
            _("Your projects"),
            _("Projects, tender plans and tenders of your organisation."),
            "tendering:projects",
        ),
        Task(
            _("Register a project"),
            _("Register a project (项目登记) before tendering it."),
            "tendering:project_new",
        ),
        Task(
            _("Your organisation"),
            _("Profile, status and people of your organisation."),
            "my_organisation",
        ),
        Task(
            _("Our credit"),
            _("Your credit grade with its working, your records, and credit repair (信用修复)."),
            "credit:mine",
        ),
    ],
    Role.AGENCY_STAFF: [
        Task(
            _("Your projects"),
            _("Projects you manage for tenderers, with their plans and tenders."),
            "tendering:projects",
        ),
        Task(
            _("Register a project"),
            _("Register a project for a tenderer, as its agency."),
            "tendering:project_new",
        ),
        Task(
            _("Your organisation"),
            _("Profile, status and people of your agency."),
            "my_organisation",
        ),
        Task(
            _("Our credit"),
            _("Your credit grade with its working, your records, and credit repair (信用修复)."),
            "credit:mine",
        ),
    ],
    Role.BIDDER_STAFF: [
        Task(
            _("Open tenders"),
            _("Find tenders, obtain their documents free of charge, ask questions."),
            "tendering:tenders",
        ),
        Task(
            _("My bids"),
            _("Your sealed bids with their status and receipts; submit or withdraw them."),
            "bidding:my_bids",
        ),
        Task(
            _("Deposits and e-guarantees"),
            _("Your basic account, deposit sub-accounts, refunds, and e-guarantees (电子保函)."),
            "deposits:mine",
        ),
        Task(
            _("Award notices and contracts"),
            _("Award and result notices you received; contracts to sign with your certificate."),
            "award:my_notices",
        ),
        Task(
            _("Your organisation"),
            _("Profile, status and people of your company."),
            "my_organisation",
        ),
        Task(
            _("Our credit"),
            _("Your credit grade with its working, your records, and credit repair (信用修复)."),
            "credit:mine",
        ),
    ],
    Role.EXPERT: [
        Task(
            _("My assignments"),
            _("Committees you were drawn for: confirm or decline."),
            "evaluation:my_assignments",
        ),
        Task(_("Your organisation"), _("The employer you are registered with."), "my_organisation"),
        Task(
            _("Your credit"),
            _("Your credit records as an expert, and credit repair (信用修复)."),
            "credit:mine",
        ),
    ],
    Role.REGULATOR: [
        Task(
            _("Market entity registry"),
            _("Organisations, their status and their history."),
            "organisations",
        ),
        Task(_("Event record"), _("Every state change on the platform."), "events"),
        Task(
            _("Written reports and late flags"),
            _("Written reports to the regulator and contracts, with due times and late flags."),
            "award:reports",
        ),
        Task(
            _("Credit workspace"),
            _("Record penalties and findings, decide credit repair applications."),
            "credit:workspace",
        ),
    ],
    Role.AUDITOR: [
        Task(_("Event record"), _("Every state change on the platform."), "events"),
    ],
}
