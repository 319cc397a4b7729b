"""Every change to projects, plans, tenders, notices, documents, questions and clarifications.

Each service checks the actor's role, the statutory rules (``tendering.rules``), changes its rows
in one transaction and records a domain event (and so a ledger leaf) in that transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import Actor, has_role, require_role, signed_in
from openbid.accounts.regions import require_region
from openbid.accounts.roles import OrgType, Role
from openbid.core import clock, rules
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, salted_digest, service
from openbid.core.fields import label
from openbid.core.money import yuan
from openbid.core.validation import clean_text
from openbid.credit.gate import refuse_if_listed
from openbid.tendering import evaluation_rules, lifecycle, notices
from openbid.tendering import rules as tender_rules
from openbid.tendering.lifecycle import State
from openbid.tendering.models import (
    Clarification,
    Document,
    DocumentObtainer,
    FundingSource,
    Industry,
    Notice,
    Project,
    Question,
    Section,
    Tender,
    TenderPlan,
)

# 项目代码 of the national investment project online approval platform:
# year-region(6)-industry(2)-type(2)-serial(6), e.g. 2026-330100-48-01-123456.
PROJECT_CODE = re.compile(r"^(?P<year>[0-9]{4})-(?P<region>[0-9]{6})-[0-9]{2}-[0-9]{2}-[0-9]{6}$")

ALLOWED_DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ofd": "application/ofd",
}
_MAGIC = {
    ".pdf": b"%PDF-",
    ".zip": b"PK\x03\x04",
    ".docx": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
    ".ofd": b"PK\x03\x04",
}


def max_document_bytes() -> int:
    return int(getattr(settings, "OPENBID_MAX_DOCUMENT_BYTES", 200 * 1024 * 1024))


# --- who may act -----------------------------------------------------------------------------


def managing_organisations(project: Project) -> list[Organisation]:
    orgs = [project.tenderer]
    if project.agency is not None:
        orgs.append(project.agency)
    return orgs


def require_manager(actor: Actor, project: Project, action: str) -> Organisation:
    """The tenderer's or the appointed agency's organisation the actor acts for, or a refusal."""
    user = signed_in(actor)
    for org, role in ((project.tenderer, Role.TENDERER_STAFF), (project.agency, Role.AGENCY_STAFF)):
        if org is not None and has_role(user, role, organisation=org):
            return org
    raise NotAllowed(
        _("%(action)s is for the tenderer of the project or its appointed agency.")
        % {"action": action},
        rule="tender_manager",
    )


def _tender_subjects(tender: Tender) -> list[tuple[str, object]]:
    return [("tender", tender.pk), ("project", tender.project_id)]


# --- projects and plans ----------------------------------------------------------------------


def _decimal(
    value: Any, field: str, *, low: Decimal | None = None, high: Decimal | None = None
) -> Decimal:
    amount = yuan(value, field=field)
    if high is not None and (amount > high or (low is not None and amount < low)):
        raise InvalidInput(
            _("The %(field)s must be between %(low)s and %(high)s.")
            % {"field": label(field), "low": low, "high": high},
            field=field,
            rule="range",
        )
    if low is not None and amount < low:
        raise InvalidInput(
            _("The %(field)s must be at least %(low)s.") % {"field": label(field), "low": low},
            field=field,
            rule="range",
        )
    return amount


def _organisation(code: str | None, field: str, org_type: str) -> Organisation | None:
    if not code:
        return None
    org = Organisation.objects.filter(credit_code=str(code).strip().upper()).first()
    if org is None:
        raise NotFound(
            _("No organisation with the credit code %(code)s is registered.") % {"code": code},
            field=field,
            rule="registered_organisation",
        )
    if org.org_type != org_type:
        raise InvalidInput(
            _("%(org)s is not registered as %(type)s.")
            % {"org": org.name, "type": OrgType(org_type).label},
            field=field,
            rule="organisation_type",
        )
    if not org.is_usable:
        raise NotAllowed(
            _("%(org)s is suspended.") % {"org": org.name}, field=field, rule="organisation_status"
        )
    return org


@service
def register_project(
    actor: Actor,
    *,
    code: str,
    name: str,
    region_code: str,
    industry: str,
    funding_source: str,
    state_funding_percent: Any,
    estimated_investment: Any,
    approval_ref: str,
    tenderer: str | None = None,
    agency: str | None = None,
    green_channel: bool = False,
    green_reason: str = "",
    green_exemptions: Sequence[str] = (),
) -> Project:
    """Register a project (项目登记) for a tenderer, optionally naming its agency.

    The tenderer's staff register for their organisation; an agency's staff register for the
    tenderer named by credit code and become the project's agency. A green-channel project
    (emergency, disaster relief, urgent public need) names its reason and the rules it is exempted
    from, which are limited to ``tendering.rules.EXEMPTIBLE``.
    """
    user = signed_in(actor)
    code = (code or "").strip()
    match = PROJECT_CODE.match(code)
    if match is None:
        raise InvalidInput(
            _(
                "A project code has the form YYYY-RRRRRR-II-TT-NNNNNN (year, region, industry, type, "
                "serial), e.g. 2026-330100-48-01-123456."
            ),
            field="code",
            rule="project_code_format",
        )
    if not 2000 <= int(match["year"]) <= clock.today().year + 1:
        raise InvalidInput(
            _("The project code's year is not plausible."), field="code", rule="project_code_format"
        )
    require_region(match["region"], field="code")
    region_code = require_region(region_code, field="region_code").code
    if not has_role(user, Role.TENDERER_STAFF, Role.AGENCY_STAFF):
        raise NotAllowed(
            _("Projects are registered by a tenderer's staff or a tendering agency's staff."),
            rule="tender_manager",
        )
    if Project.objects.filter(code=code).exists():
        raise Conflict(
            _("The project %(code)s is already registered.") % {"code": code},
            field="code",
            rule="unique_project_code",
        )
    if industry not in Industry.values:
        raise InvalidInput(_("Unknown industry."), field="industry", rule="choice")
    if funding_source not in FundingSource.values:
        raise InvalidInput(_("Unknown funding source."), field="funding_source", rule="choice")
    percent = _decimal(
        state_funding_percent, "state_funding_percent", low=Decimal(0), high=Decimal(100)
    )
    investment = _decimal(estimated_investment, "estimated_investment", low=Decimal("0.01"))

    agency_org = _organisation(agency, "agency", OrgType.AGENCY)
    tenderer_org = _organisation(tenderer, "tenderer", OrgType.TENDERER) or _only_org(
        user, Role.TENDERER_STAFF, "tenderer"
    )
    assert tenderer_org is not None
    acting_for_tenderer = has_role(user, Role.TENDERER_STAFF, organisation=tenderer_org)
    if not acting_for_tenderer:
        if agency_org is None and has_role(user, Role.AGENCY_STAFF):
            agency_org = _only_org(user, Role.AGENCY_STAFF, "agency")
        if agency_org is None or not has_role(user, Role.AGENCY_STAFF, organisation=agency_org):
            raise NotAllowed(
                _(
                    "Only the tenderer's staff, or staff of the agency that registers it, may "
                    "register a project."
                ),
                field="tenderer",
                rule="tender_manager",
            )
    if isinstance(green_exemptions, str):  # one key given as a string, not a list of its letters
        green_exemptions = [green_exemptions]
    exemptions = list(dict.fromkeys(str(k).strip() for k in green_exemptions or ()))
    green_reason = clean_text(green_reason, "green_reason", 1000, required=bool(green_channel))
    if not green_channel and exemptions:
        raise InvalidInput(
            _("Only green-channel projects may be exempted from rules."),
            field="green_exemptions",
            rule="green_channel",
        )
    for key in exemptions:
        if key not in tender_rules.EXEMPTIBLE:
            raise InvalidInput(
                _(
                    "%(rule)s cannot be exempted; a green-channel project may be exempted only from: "
                    "%(allowed)s."
                )
                % {"rule": key, "allowed": ", ".join(tender_rules.EXEMPTIBLE)},
                field="green_exemptions",
                rule="green_channel",
            )
    project = Project.objects.create(
        code=code,
        name=clean_text(name, "name", 200),
        region_code=region_code,
        industry=industry,
        funding_source=funding_source,
        state_funding_percent=percent,
        estimated_investment=investment,
        tenderer=tenderer_org,
        agency=agency_org,
        approval_ref=clean_text(approval_ref, "approval_ref", 120),
        green_channel=bool(green_channel),
        green_reason=green_reason,
        green_exemptions=exemptions,
        registered_at=clock.now(),
    )
    record_event(
        "tendering.project.registered",
        actor=user,
        actor_org=project.agency if not acting_for_tenderer else tenderer_org,
        subjects=[("project", project.pk), ("organisation", tenderer_org.pk)],
        payload={
            "code": project.code,
            "name": project.name,
            "region_code": project.region_code,
            "industry": project.industry,
            "funding_source": project.funding_source,
            "state_funding_percent": str(percent),
            "estimated_investment": str(investment),
            "tenderer": tenderer_org.credit_code,
            "agency": agency_org.credit_code if agency_org else None,
            "green_channel": project.green_channel,
            "green_reason": project.green_reason,
            "green_exemptions": exemptions,
        },
    )
    return project


def _only_org(user: Any, role: str, field: str) -> Organisation:
    """The one organisation in which ``user`` holds ``role``; else the caller must name one."""
    from openbid.accounts.permissions import memberships

    found = [m.organisation for m in memberships(user, role)]
    if len(found) != 1:
        raise InvalidInput(
            _("Name the %(field)s by its unified social credit code.") % {"field": label(field)},
            field=field,
            rule="required",
        )
    return found[0]


@service
def publish_plan(
    actor: Actor,
    project: Project,
    *,
    title: str,
    expected_notice_date: dt.date,
    estimated_amount: Any,
    description: str = "",
) -> TenderPlan:
    """Publish a tender plan ahead of the notice (招标计划提前发布); public at once."""
    org = require_manager(actor, project, _("Publishing a tender plan"))
    if not isinstance(expected_notice_date, dt.date) or isinstance(
        expected_notice_date, dt.datetime
    ):
        raise InvalidInput(_("A date is required."), field="expected_notice_date", rule="required")
    if expected_notice_date < clock.today():
        raise InvalidInput(
            _("The expected notice date has passed."),
            field="expected_notice_date",
            rule="schedule_order",
        )
    plan = TenderPlan.objects.create(
        project=project,
        title=clean_text(title, "title", 200),
        description=clean_text(description, "description", 5000, required=False),
        expected_notice_date=expected_notice_date,
        estimated_amount=_decimal(estimated_amount, "estimated_amount", low=Decimal("0.01")),
        published_at=clock.now(),
    )
    record_event(
        "tendering.plan.published",
        actor=actor,
        actor_org=org,
        subjects=[("plan", plan.pk), ("project", project.pk)],
        payload={
            "title": plan.title,
            "expected_notice_date": plan.expected_notice_date,
            "estimated_amount": str(plan.estimated_amount),
            "project": project.code,
        },
    )
    return plan


# --- tenders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionInput:
    name: str
    estimated_price: Any
    deposit: Any
    ceiling_price: Any = None


TENDER_FIELDS = (
    "title",
    "kind",
    "method",
    "evaluation_method",
    "evaluation_weights",
    "evaluation_rules",
    "separated_award",
    "award_method",
    "candidates_ranked",
    "deposit_form",
    "qualification",
    "crypto_suite",
    "decryption_window_minutes",
    "doc_issue_start",
    "doc_issue_end",
    "question_deadline",
    "bid_deadline",
)


def _clean_tender_fields(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["title"] = clean_text(data.get("title"), "title", 200)
    if data.get("crypto_suite") in (None, ""):
        out["crypto_suite"] = data["crypto_suite"] = Tender.CryptoSuite.INTERNATIONAL
    out["qualification"] = clean_text(data.get("qualification"), "qualification", 10000)
    for field, choices in (
        ("kind", Tender.Kind),
        ("method", Tender.Method),
        ("evaluation_method", Tender.Evaluation),
        ("deposit_form", Tender.DepositForm),
        ("crypto_suite", Tender.CryptoSuite),
    ):
        if data.get(field) not in choices.values:
            raise InvalidInput(_("Choose one of the listed values."), field=field, rule="choice")
    for field in ("doc_issue_start", "doc_issue_end", "question_deadline", "bid_deadline"):
        value = data.get(field)
        if not isinstance(value, dt.datetime):
            raise InvalidInput(_("A date and time is required."), field=field, rule="required")
        if timezone.is_naive(value):
            out[field] = timezone.make_aware(value)
    weights = data.get("evaluation_weights") or {}
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and _weight(v) is not None for k, v in weights.items()
    ):
        raise InvalidInput(
            _("Weights are a mapping of criterion to a percent between 0 and 100."),
            field="evaluation_weights",
            rule="weights_total",
        )
    out["evaluation_weights"] = {k: str(v) for k, v in weights.items()}
    out["evaluation_rules"] = evaluation_rules.clean(
        data.get("evaluation_rules"), out["evaluation_method"]
    )
    out["separated_award"] = bool(data.get("separated_award"))
    out["award_method"], out["candidates_ranked"] = _award_terms(
        out["separated_award"], data.get("award_method"), data.get("candidates_ranked")
    )
    out["decryption_window_minutes"] = _decryption_window(data.get("decryption_window_minutes"))
    # Only the order here: the statutory periods (and the holiday calendar) at publication.
    order = tender_rules.order_problems(
        doc_issue_start=out["doc_issue_start"],
        doc_issue_end=out["doc_issue_end"],
        question_deadline=out["question_deadline"],
        bid_deadline=out["bid_deadline"],
        now=clock.now(),
    )
    if order:
        raise order[0].error()
    return out


def _award_terms(separated: bool, method: Any, ranked: Any) -> tuple[str, bool]:
    """The award decision method and whether candidates are ranked, as the tender announces them.

    A separated award (评定分离) names its method (vote, lottery or deliberation) and may ask for
    unranked candidates; otherwise the first-ranked candidate wins (Reg art. 55), so there is no
    method and the candidates are always ranked (an unticked box is ignored)."""
    method = "" if method is None else str(method).strip()
    ranked = True if ranked is None or ranked == "" else bool(ranked)
    if not separated:
        if method:
            raise InvalidInput(
                _(
                    "An award method is announced only when evaluation is separated from award "
                    "(评定分离); otherwise the first-ranked candidate wins."
                ),
                field="award_method",
                rule="award_method",
            )
        return "", True  # ranked: the first-ranked candidate wins
    if method not in Tender.AwardMethod.values:
        raise InvalidInput(
            _(
                "A separated award (评定分离) announces how the tenderer decides: a decision "
                "committee vote, a verifiable lottery or collective deliberation."
            ),
            field="award_method",
            rule="award_method",
        )
    return method, ranked


# The decryption window is the platform's and the tender's choice (E-Bidding art. 31 only says a
# failure is the bidder's fault or not): long enough for a bidder on a slow line to release its
# key, short enough that the opening is not held up for hours.
DECRYPTION_WINDOW_MINUTES = (10, 240)


def _decryption_window(value: Any) -> int:
    low, high = DECRYPTION_WINDOW_MINUTES
    if value is None or value == "":
        return int(getattr(settings, "OPENBID_DECRYPTION_WINDOW_MINUTES", 30))
    if isinstance(value, bool) or not isinstance(value, int | str):
        value = None
    try:
        minutes = int(value) if value is not None else None
    except ValueError:
        minutes = None
    if minutes is None or not low <= minutes <= high:
        raise InvalidInput(
            _("The decryption window is a whole number of minutes from %(low)d to %(high)d.")
            % {"low": low, "high": high},
            field="decryption_window_minutes",
            rule="decryption_window",
        )
    return minutes


def _weight(value: Any) -> Decimal | None:
    """A weight as a percent from 0 to 100, or ``None`` (floats refused like money)."""
    if isinstance(value, bool | float) or not isinstance(value, int | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    return number


def _clean_sections(
    kind: str, deposit_form: str, sections: Sequence[SectionInput | dict[str, Any]]
) -> list[Section]:
    if not sections:
        raise InvalidInput(
            _("A tender needs at least one section."), field="sections", rule="section_required"
        )
    out = []
    for number, raw in enumerate(sections, start=1):
        prefix = f"sections.{number}."
        item = _section_input(raw, prefix)
        section = Section(
            number=number,
            name=clean_text(item.name, prefix + "name", 200),
            estimated_price=yuan(
                item.estimated_price, field=prefix + "estimated_price", allow_negative=True
            ),
            deposit=yuan(item.deposit, field=prefix + "deposit", allow_negative=True),
            ceiling_price=None
            if item.ceiling_price in (None, "")
            else yuan(item.ceiling_price, field=prefix + "ceiling_price", allow_negative=True),
        )
        # Signs and amounts are checked now; the deposit cap again at publication, by its rules.
        for problem in tender_rules.section_problems(
            kind,
            deposit_form,
            tender_rules.SectionTerms(
                number, section.estimated_price, section.ceiling_price, section.deposit
            ),
            clock.today(),
        ):
            raise problem.error()
        out.append(section)
    return out


def _section_input(raw: SectionInput | dict[str, Any], prefix: str) -> SectionInput:
    if isinstance(raw, SectionInput):
        return raw
    if not isinstance(raw, dict):
        raise InvalidInput(
            _("Each section is a name, an estimated price and a deposit."),
            field=prefix.rstrip("."),
            rule="schema",
        )
    known = {"name", "estimated_price", "deposit", "ceiling_price"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput(
            _("Unknown field %(field)s.") % {"field": prefix + unknown[0]},
            field=prefix + unknown[0],
            rule="schema",
        )
    for required in ("name", "estimated_price", "deposit"):
        if raw.get(required) in (None, ""):
            raise InvalidInput(
                _("Please fill in the %(field)s.") % {"field": required},
                field=prefix + required,
                rule="required",
            )
    return SectionInput(**raw)


def _invited(codes: Iterable[str]) -> list[Organisation]:
    orgs = []
    for code in dict.fromkeys(c.strip().upper() for c in codes if c and c.strip()):
        org = _organisation(code, "invited", OrgType.BIDDER)
        assert org is not None
        orgs.append(org)
    return orgs


@service
def create_tender(
    actor: Actor,
    project: Project,
    *,
    sections: Sequence[SectionInput | dict[str, Any]],
    invited: Sequence[str] = (),
    plan: TenderPlan | None = None,
    **fields: Any,
) -> Tender:
    """Create a draft tender with its sections; statutory periods are checked when it is published."""
    org = require_manager(actor, project, _("Creating a tender"))
    unknown = set(fields) - set(TENDER_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Unknown field %(field)s.") % {"field": sorted(unknown)[0]},
            field=sorted(unknown)[0],
            rule="schema",
        )
    data = _clean_tender_fields(fields)
    if plan is not None and plan.project_id != project.pk:
        raise InvalidInput(
            _("The plan belongs to another project."), field="plan", rule="same_project"
        )
    section_rows = _clean_sections(data["kind"], data["deposit_form"], sections)
    tender = Tender.objects.create(
        project=project, plan=plan, created_by=signed_in(actor), created_at=clock.now(), **data
    )
    for section in section_rows:
        section.tender = tender
    Section.objects.bulk_create(section_rows)
    tender.invited.set(_invited(invited))
    record_event(
        "tendering.tender.created",
        actor=actor,
        actor_org=org,
        subjects=_tender_subjects(tender),
        payload={
            "title": tender.title,
            "method": tender.method,
            "kind": tender.kind,
            "sections": len(section_rows),
        },
    )
    return tender


@service
def update_tender(
    actor: Actor,
    tender: Tender,
    *,
    sections: Sequence[SectionInput | dict[str, Any]] | None = None,
    invited: Sequence[str] | None = None,
    **fields: Any,
) -> Tender:
    """Change a draft tender (a published one changes only by clarification)."""
    org = require_manager(actor, tender.project, _("Changing a tender"))
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    if tender.status != State.DRAFT:
        raise Conflict(
            _("Only a draft tender can be edited; publish a clarification instead."),
            field="status",
            rule="tender_lifecycle",
        )
    unknown = set(fields) - set(TENDER_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Unknown field %(field)s.") % {"field": sorted(unknown)[0]},
            field=sorted(unknown)[0],
            rule="schema",
        )
    current = {f: getattr(tender, f) for f in TENDER_FIELDS}
    if fields.get("evaluation_method", tender.evaluation_method) != tender.evaluation_method:
        current["evaluation_rules"] = {}  # another method: its own defaults, unless announced
    current.update(fields)
    data = _clean_tender_fields(current)
    for field, value in data.items():
        setattr(tender, field, value)
    tender.save()
    if sections is not None:
        rows = _clean_sections(tender.kind, tender.deposit_form, sections)
        tender.sections.all().delete()
        for row in rows:
            row.tender = tender
        Section.objects.bulk_create(rows)
    if invited is not None:
        tender.invited.set(_invited(invited))
    record_event(
        "tendering.tender.updated",
        actor=actor,
        actor_org=org,
        subjects=_tender_subjects(tender),
        # Names of what changed only: a draft is not public, and invitees are potential bidders.
        payload={
            "fields": sorted(fields),
            "sections": None if sections is None else tender.sections.count(),
            "invited_changed": invited is not None,
        },
    )
    return tender


def publication_problems(tender: Tender) -> list[tender_rules.Problem]:
    """What would stop ``tender`` from being published now (empty when it may be)."""
    return tender_rules.problems(
        tender, now=clock.now(), exemptions=tuple(tender.project.green_exemptions or ())
    )


@service
def publish_tender(actor: Actor, tender: Tender) -> Notice:
    """Publish the tender notice (or invitation): checks every statutory rule, then the notice is
    immutable and public at once, and the tender keeps the rules in force today."""
    org = require_manager(actor, tender.project, _("Publishing a tender"))
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    lifecycle.check("publish", tender.status)
    found = publication_problems(tender)
    if found:
        raise found[0].error()
    now = clock.now()
    tender.status = State.PUBLISHED
    tender.published_at = now
    tender.rules_date = timezone.localdate(now)
    tender.save(update_fields=["status", "published_at", "rules_date"])
    kind = Notice.Kind.INVITATION if tender.method == Tender.Method.INVITED else Notice.Kind.TENDER
    notice = notices.publish(tender, kind, notices.tender_notice_text(tender), now)
    record_event(
        "tendering.tender.published",
        actor=actor,
        actor_org=org,
        subjects=[*_tender_subjects(tender), ("notice", notice.pk)],
        payload={
            "notice": notice.pk,
            "notice_sha256": notice.sha256,
            "title": tender.title,
            "bid_deadline": tender.bid_deadline,
            "exemptions": list(tender.project.green_exemptions or ()),
            "sections": [
                {
                    "number": s.number,
                    "estimated_price": str(s.estimated_price),
                    "ceiling_price": None if s.ceiling_price is None else str(s.ceiling_price),
                    "deposit": str(s.deposit),
                }
                for s in tender.sections.all()
            ],
        },
    )
    return notice


@service
def cancel_tender(actor: Actor, tender: Tender, *, reason: str) -> Tender:
    """Terminate a tender before the award (招标终止), publishing the reason to everyone."""
    org = require_manager(actor, tender.project, _("Terminating a tender"))
    reason = clean_text(reason, "reason", 2000)
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    lifecycle.check("cancel", tender.status)
    was_public = tender.status != State.DRAFT
    tender.status = State.CANCELLED
    tender.status_reason = reason
    tender.save(update_fields=["status", "status_reason"])
    notice = (
        notices.publish(
            tender, Notice.Kind.CANCELLATION, notices.cancellation_text(tender, reason), clock.now()
        )
        if was_public
        else None
    )
    record_event(
        "tendering.tender.cancelled",
        actor=actor,
        actor_org=org,
        subjects=_tender_subjects(tender),
        payload={"reason": reason, "notice": notice.pk if notice else None},
    )
    return tender


@service
def fail_tender(actor: Actor, tender: Tender, *, reason: str) -> Tender:
    """Record a failed tender (流标: fewer than 3 bids, or all rejected); a re-tender may follow."""
    if not has_role(actor, Role.CENTRE_STAFF):
        require_manager(actor, tender.project, _("Declaring a tender failed"))
    reason = clean_text(reason, "reason", 2000)
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    lifecycle.check("fail", tender.status)
    tender.status = State.FAILED
    tender.status_reason = reason
    tender.save(update_fields=["status", "status_reason"])
    record_event(
        "tendering.tender.failed",
        actor=actor,
        subjects=_tender_subjects(tender),
        payload={"reason": reason},
    )
    return tender


@service
def create_retender(actor: Actor, failed: Tender) -> Tender:
    """Start a new draft tender from a failed (流标) or terminated (招标终止) one, linked to it,
    with the same sections and invitees; its schedule must be set anew before publication.

    A tender is re-tendered once; a re-tender that fails again is re-tendered in its turn."""
    org = require_manager(actor, failed.project, _("Re-tendering"))
    failed = Tender.objects.select_for_update().get(pk=failed.pk)
    if failed.status not in (State.FAILED, State.CANCELLED):
        raise Conflict(
            _("Only a failed or terminated tender can be re-tendered."),
            field="status",
            rule="tender_lifecycle",
        )
    existing = Tender.objects.filter(retender_of=failed).first()
    if existing is not None:
        raise Conflict(
            _("This tender has already been re-tendered as %(title)s.") % {"title": existing.title},
            field="retender_of",
            rule="retender_once",
        )
    fields = {f: getattr(failed, f) for f in TENDER_FIELDS}
    tender = Tender.objects.create(
        project=failed.project,
        plan=failed.plan,
        retender_of=failed,
        created_by=signed_in(actor),
        created_at=clock.now(),
        **{**fields, "title": f"{failed.title}（重新招标）"},
    )
    Section.objects.bulk_create(
        Section(
            tender=tender,
            number=s.number,
            name=s.name,
            estimated_price=s.estimated_price,
            ceiling_price=s.ceiling_price,
            deposit=s.deposit,
        )
        for s in failed.sections.all()
    )
    tender.invited.set(failed.invited.all())
    record_event(
        "tendering.tender.retendered",
        actor=actor,
        actor_org=org,
        subjects=[*_tender_subjects(tender), ("tender", failed.pk)],
        payload={"retender_of": failed.pk},
    )
    return tender


def close_bidding_due(now: dt.datetime | None = None) -> int:
    """Move published tenders whose bid deadline has passed to "bidding closed" (idempotent).

    Bids themselves are refused at write time by comparing the clock with the deadline; this only
    updates the status shown to people, so it may run late without harm.
    """
    now = now or clock.now()
    changed = 0
    for tender_id in Tender.objects.filter(
        status=State.PUBLISHED, bid_deadline__lte=now
    ).values_list("pk", flat=True):
        changed += _close_bidding(tender_id, now)
    return changed


@service
def _close_bidding(tender_id: int, now: dt.datetime) -> int:
    tender = Tender.objects.select_for_update().get(pk=tender_id)
    if tender.status != State.PUBLISHED or tender.bid_deadline > now:
        return 0
    tender.status = State.BIDDING_CLOSED
    tender.save(update_fields=["status"])
    record_event(
        "tendering.tender.bidding_closed",
        subjects=_tender_subjects(tender),
        payload={"bid_deadline": tender.bid_deadline},
    )
    return 1


# --- documents ---------------------------------------------------------------------------------


@service
def upload_document(
    actor: Actor, tender: Tender, upload: File, *, filename: str | None = None
) -> Document:
    """Store a tender document file as the next version, streaming it and hashing it as it goes.

    Allowed types: PDF, OFD, ZIP, DOCX, XLSX (checked by extension and content); at most
    ``OPENBID_MAX_DOCUMENT_BYTES``. The file's SHA-256 goes to the ledger; documents are free
    (rule doc_fee).
    """
    org = require_manager(actor, tender.project, _("Uploading tender documents"))
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    now = clock.now()
    if tender.status not in (State.DRAFT, State.PUBLISHED) or (
        tender.status == State.PUBLISHED and now >= tender.bid_deadline
    ):
        raise Conflict(
            _("Documents can be changed only before the bid deadline."),
            field="status",
            rule="tender_lifecycle",
            at=tender.bid_deadline if tender.status == State.PUBLISHED else None,
        )
    if tender.status == State.PUBLISHED and "clarification_lead_bid" not in (
        tender.project.green_exemptions or ()
    ):
        # A new version of issued documents is an amendment (修改): it must reach bidders at least
        # 15 days before the deadline, like a clarification (Law art. 23; Reg art. 21).
        earliest = earliest_deadline_after_clarification(tender, now)
        if tender.bid_deadline < earliest:
            rule = rules.rule("clarification_lead_bid", on=tender.rules_date)
            raise InvalidInput(
                _(
                    "Amended tender documents must reach bidders at least %(days)d days before the "
                    "bid deadline (%(article)s): first issue a clarification moving the deadline to "
                    "%(earliest)s or later."
                )
                % {
                    "days": rule.int_value,
                    "article": rule.article,
                    "earliest": earliest.strftime("%Y-%m-%d %H:%M"),
                },
                field="file",
                rule=rule.key,
                article=rule.article,
                at=earliest,
            )
    raw_name = filename or getattr(upload, "name", "") or ""
    name = raw_name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if extension not in ALLOWED_DOCUMENT_TYPES:
        raise InvalidInput(
            _("%(name)s is not an allowed document type (PDF, OFD, ZIP, DOCX, XLSX).")
            % {"name": name or "?"},
            field="file",
            rule="document_type",
        )
    size = getattr(upload, "size", None)
    limit = max_document_bytes()
    if size is not None and size > limit:
        raise InvalidInput(
            _("The file is %(size)d bytes; at most %(limit)d are accepted.")
            % {"size": size, "limit": limit},
            field="file",
            rule="document_size",
        )
    digest = hashlib.sha256()
    total = 0
    head = b""
    upload.seek(0)
    for chunk in upload.chunks():
        if not head:
            head = chunk[:8]
        total += len(chunk)
        if total > limit:
            raise InvalidInput(
                _("The file is larger than %(limit)d bytes.") % {"limit": limit},
                field="file",
                rule="document_size",
            )
        digest.update(chunk)
    if total == 0:
        raise InvalidInput(_("The file is empty."), field="file", rule="document_size")
    if not head.startswith(_MAGIC[extension]):
        raise InvalidInput(
            _("The content of %(name)s is not a %(type)s file.")
            % {"name": name, "type": extension[1:].upper()},
            field="file",
            rule="document_type",
        )
    upload.seek(0)
    version = (Document.objects.filter(tender=tender).aggregate(v=Max("version"))["v"] or 0) + 1
    document = Document(
        tender=tender,
        version=version,
        filename=name[:200],
        content_type=ALLOWED_DOCUMENT_TYPES[extension],
        size=total,
        sha256=digest.hexdigest(),
        uploaded_by=signed_in(actor),
        uploaded_at=now,
    )
    document.file.save(f"{tender.pk}-v{version}{extension}", upload, save=False)
    document.save()
    record_event(
        "tendering.document.uploaded",
        actor=actor,
        actor_org=org,
        subjects=[*_tender_subjects(tender), ("document", document.pk)],
        payload={
            "version": version,
            "filename": document.filename,
            "size": total,
            "sha256": document.sha256,
        },
    )
    return document


@service
def obtain_documents(actor: Actor, tender: Tender) -> DocumentObtainer:
    """A bidder obtains the tender documents (获取招标文件), free, with no other precondition.

    Who obtained them is kept secret until opening (Law art. 22): the ledger records only a salted
    digest of the organisation, and nobody else can list obtainers before then. An organisation
    on the serious-dishonesty list is refused while it is listed (credit_serious_list_bidding_ban).
    """
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Obtaining tender documents"))
    org = membership.organisation
    refuse_if_listed(org, action=_("Obtaining tender documents"), field="tender")
    tender = Tender.objects.get(pk=tender.pk)
    now = clock.now()
    if tender.status != State.PUBLISHED:
        raise Conflict(
            _("The tender is not open for bidding."), field="status", rule="tender_lifecycle"
        )
    if not tender.doc_issue_start <= now <= tender.doc_issue_end:
        raise Conflict(
            _("Documents are issued from %(start)s to %(end)s.")
            % {
                "start": timezone.localtime(tender.doc_issue_start).strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(tender.doc_issue_end).strftime("%Y-%m-%d %H:%M"),
            },
            field="tender",
            rule="doc_issue_period",
            at=tender.doc_issue_start if now < tender.doc_issue_start else tender.doc_issue_end,
        )
    if tender.method == Tender.Method.INVITED and not tender.invited.filter(pk=org.pk).exists():
        raise NotAllowed(
            _("This is an invitation tender and your organisation is not invited."),
            field="tender",
            rule="invited_only",
        )
    existing = DocumentObtainer.objects.filter(tender=tender, organisation=org).first()
    if existing is not None:
        return existing
    digest, salt = salted_digest(f"{tender.pk}:{org.credit_code}".encode())
    obtained = DocumentObtainer.objects.create(
        tender=tender,
        organisation=org,
        obtained_by=signed_in(actor),
        obtained_at=now,
        digest_salt=salt,  # kept so that, after opening, the ledger digest can be shown to match
    )
    # No subject and no payload: the public ledger can be listed by subject, and counting this
    # tender's "obtained" leaves would disclose the number of obtainers (Law art. 22). The digest
    # binds the tender and the organisation without revealing either.
    record_event(
        "tendering.documents.obtained",
        actor=actor,
        subjects=[],
        payload={},
        private_digest=digest,
    )
    return obtained


# States in which the opening has certainly taken place. A failed (流标) tender may have failed
# before any opening (fewer than 3 bids: no opening, Law art. 28), and a terminated one has not
# been opened; their obtainers stay secret, also because a re-tender follows.
_OPENED_STATES = frozenset(
    {
        State.OPENED,
        State.EVALUATING,
        State.PUBLICITY,
        State.AWARDED,
        State.CONTRACTED,
        State.ARCHIVED,
    }
)


def obtainers(actor: Actor, tender: Tender) -> list[DocumentObtainer]:
    """The organisations that obtained the documents: only after the opening has begun.

    Before it, the law forbids disclosing their names or number (Law art. 22; E-Bidding arts.
    20–21) — to the tenderer, the agency and everyone else.
    """
    tender = Tender.objects.get(pk=tender.pk)
    if tender.status not in _OPENED_STATES:
        raise NotAllowed(
            _("Who obtained the documents stays secret until the opening (%(article)s).")
            % {"article": rules.rule("obtainers_secret").article},
            rule="obtainers_secret",
            article=rules.rule("obtainers_secret").article,
            at=tender.bid_deadline,
        )
    if not has_role(actor, Role.CENTRE_STAFF, Role.REGULATOR):
        require_manager(actor, tender.project, _("Listing who obtained the documents"))
    return list(tender.obtainers.select_related("organisation").order_by("obtained_at"))


# --- questions and clarifications ----------------------------------------------------------------


@service
def ask_question(actor: Actor, tender: Tender, *, text: str) -> Question:
    """A bidder that obtained the documents asks a question; others see it without the asker."""
    membership = require_role(actor, Role.BIDDER_STAFF, action=_("Asking a question"))
    tender = Tender.objects.get(pk=tender.pk)
    if not DocumentObtainer.objects.filter(
        tender=tender, organisation=membership.organisation
    ).exists():
        raise NotAllowed(
            _("Obtain the tender documents before asking."),
            field="tender",
            rule="obtained_documents",
        )
    now = clock.now()
    if tender.status != State.PUBLISHED or now > tender.question_deadline:
        raise Conflict(
            _("Questions closed at %(time)s.")
            % {"time": timezone.localtime(tender.question_deadline).strftime("%Y-%m-%d %H:%M")},
            field="tender",
            rule="question_deadline",
            at=tender.question_deadline,
        )
    question = Question.objects.create(
        tender=tender,
        asked_by=membership.organisation,
        text=clean_text(text, "text", 5000),
        asked_at=now,
    )
    record_event(
        "tendering.question.asked",
        actor=actor,
        subjects=[("tender", tender.pk), ("question", question.pk)],
        payload={"text": question.text},
    )
    return question


def _answer_ids(tender: Tender, answers: Sequence[int]) -> list[int]:
    """The ids of this tender's questions that a clarification answers; refuses any other id."""
    try:
        ids = list(dict.fromkeys(int(a) for a in answers or ()))
    except (TypeError, ValueError):
        raise InvalidInput(
            _("Answers are given as question numbers."), field="answers", rule="schema"
        ) from None
    found = set(Question.objects.filter(tender=tender, pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            _("Question %(id)s is not a question about this tender.") % {"id": missing[0]},
            field="answers",
            rule="same_tender",
        )
    return ids


def earliest_deadline_after_clarification(tender: Tender, now: dt.datetime) -> dt.datetime:
    """The earliest lawful bid deadline for a clarification issued at ``now`` that may affect
    bid preparation: 15 days later, on a working day (Law art. 23; Reg art. 21)."""
    rule = rules.rule("clarification_lead_bid", on=tender.rules_date or timezone.localdate(now))
    local_deadline = timezone.localtime(tender.bid_deadline)
    earliest = timezone.localtime(now) + dt.timedelta(days=rule.int_value)
    # Keep the deadline's time of day, on the first working day that is late enough.
    candidate = earliest.replace(
        hour=local_deadline.hour, minute=local_deadline.minute, second=0, microsecond=0
    )
    if candidate < earliest:
        candidate += dt.timedelta(days=1)
    from openbid.core import workdays

    day = workdays.working_day_on_or_after(candidate.date())
    return candidate.replace(year=day.year, month=day.month, day=day.day)


@service
def issue_clarification(
    actor: Actor,
    tender: Tender,
    *,
    text: str,
    affects_preparation: bool,
    new_bid_deadline: dt.datetime | None = None,
    answers: Sequence[int] = (),
) -> Clarification:
    """Publish a clarification or amendment (澄清/修改) to everyone who obtained the documents.

    One that may affect bid preparation must reach them at least 15 days before the bid deadline
    (Law art. 23; Reg art. 21); if less time is left, the deadline must move — the refusal names
    the earliest lawful deadline. Moving the deadline moves the opening with it.
    """
    org = require_manager(actor, tender.project, _("Issuing a clarification"))
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    if tender.status != State.PUBLISHED:
        raise Conflict(
            _("Clarifications are issued while the tender accepts bids."),
            field="status",
            rule="tender_lifecycle",
        )
    now = clock.now()
    if now >= tender.bid_deadline:
        # The deadline is enforced by the clock, not by the job that closes bidding: once it has
        # passed, a clarification cannot reopen bidding by moving it.
        raise Conflict(
            _("The bid deadline has passed; no clarification can be issued."),
            field="status",
            rule="tender_lifecycle",
            at=tender.bid_deadline,
        )
    text = clean_text(text, "text", 20000)
    answer_ids = _answer_ids(tender, answers)
    previous = tender.bid_deadline
    deadline = previous
    if new_bid_deadline is not None:
        if timezone.is_naive(new_bid_deadline):
            new_bid_deadline = timezone.make_aware(new_bid_deadline)
        if new_bid_deadline < previous:
            raise InvalidInput(
                _("A clarification cannot bring the bid deadline forward."),
                field="new_bid_deadline",
                rule="schedule_order",
            )
        deadline = new_bid_deadline
    exempt = "clarification_lead_bid" in (tender.project.green_exemptions or ())
    if affects_preparation and not exempt:
        earliest = earliest_deadline_after_clarification(tender, now)
        if deadline < earliest:
            rule = rules.rule("clarification_lead_bid", on=tender.rules_date)
            raise InvalidInput(
                _(
                    "This clarification may affect bid preparation and reaches bidders less than "
                    "%(days)d days before the deadline (%(article)s): move the bid deadline to "
                    "%(earliest)s or later."
                )
                % {
                    "days": rule.int_value,
                    "article": rule.article,
                    "earliest": earliest.strftime("%Y-%m-%d %H:%M"),
                },
                field="new_bid_deadline",
                rule=rule.key,
                article=rule.article,
                at=earliest,
            )
    if deadline != previous:
        from openbid.core import workdays

        local = timezone.localtime(deadline)
        if not workdays.is_working_day(local.date()):
            day = workdays.next_working_day(local.date())
            raise InvalidInput(
                _(
                    "The new bid deadline (the opening) falls on a public holiday or rest day; the "
                    "next working day is %(day)s."
                )
                % {"day": day.isoformat()},
                field="new_bid_deadline",
                rule="deadline_on_working_day",
                article="民法典 art. 203",
                at=local.replace(year=day.year, month=day.month, day=day.day),
            )
        tender.bid_deadline = deadline
        tender.save(update_fields=["bid_deadline"])
    number = (Clarification.objects.filter(tender=tender).aggregate(n=Max("number"))["n"] or 0) + 1
    clarification = Clarification.objects.create(
        tender=tender,
        number=number,
        text=text,
        affects_preparation=bool(affects_preparation),
        previous_deadline=previous,
        bid_deadline=deadline,
        issued_at=now,
        issued_by=signed_in(actor),
    )
    answered = Question.objects.filter(tender=tender, pk__in=answer_ids, answered_by__isnull=True)
    answered_ids = list(answered.values_list("pk", flat=True))
    answered.update(answered_by=clarification)
    notice = notices.publish(
        tender, Notice.Kind.CLARIFICATION, notices.clarification_text(tender, clarification), now
    )
    record_event(
        "tendering.clarification.issued",
        actor=actor,
        actor_org=org,
        subjects=[
            *_tender_subjects(tender),
            ("clarification", clarification.pk),
            ("notice", notice.pk),
        ],
        payload={
            "number": number,
            "text": text,
            "affects_preparation": clarification.affects_preparation,
            "previous_deadline": previous,
            "bid_deadline": deadline,
            "answers": answered_ids,
            "notice_sha256": notice.sha256,
        },
    )
    return clarification
