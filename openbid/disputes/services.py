"""Every change to objections, complaints, suspensions, the responsibility list and feedback.

Each service checks the actor's role and the statutory rules (``openbid.disputes.windows`` for the
periods), changes its rows in one transaction and records a domain event in it. A refusal writes
nothing.

Privacy: before the opening, who obtained the documents is secret (Law art. 22), and complainants
are anonymous to the public. The ledger's public payloads therefore never name an objector or a
complainant; a salted digest binds them to the event instead (``private_digest``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import (
    Actor,
    has_role,
    memberships,
    require_role,
    signed_in,
)
from openbid.accounts.roles import OrgType, Role
from openbid.bidding.models import Bid
from openbid.core import clock, holds, rules
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, salted_digest, service
from openbid.core.validation import clean_text
from openbid.disputes import timers, windows
from openbid.disputes.models import (
    OBJECTION_FIRST,
    Complaint,
    Feedback,
    InvestigationStep,
    Matter,
    Objection,
    Referral,
    ResponsibilityEntry,
    Suspension,
    Timer,
)
from openbid.opening.models import OpeningObjection
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Industry, Project, Tender
from openbid.tendering.services import require_manager


def _day(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _rules_on(tender: Tender) -> dt.date:
    return tender.rules_date or clock.today()


def _private(*parts: object) -> str:
    digest, _salt = salted_digest("|".join(str(p) for p in parts).encode())
    return digest


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def trading_centre() -> Organisation | None:
    return Organisation.objects.filter(org_type=OrgType.TRADING_CENTRE).order_by("id").first()


def respondent_org(tender: Tender) -> Organisation:
    """Who answers for the tenderer: its appointed agency if any, else the tenderer."""
    project = tender.project
    return project.agency if project.agency is not None else project.tenderer


# --- the responsibility list ------------------------------------------------------------------------


def _region_levels(code: str) -> list[str]:
    """A county code, its city and its province: 330106 → 330106, 330100, 330000."""
    levels = [code, code[:4] + "00", code[:2] + "0000"]
    return list(dict.fromkeys(levels))


def competent_regulator(project: Project) -> ResponsibilityEntry | None:
    """The responsibility list's entry for the project's industry and region: the most specific
    region first (county, city, province), and an entry for the industry before one for any."""
    entries = {
        (e.region_code, e.industry): e
        for e in ResponsibilityEntry.objects.filter(
            active=True, region_code__in=_region_levels(project.region_code)
        ).select_related("regulator")
    }
    for region in _region_levels(project.region_code):
        for industry in (project.industry, ""):
            if (region, industry) in entries:
                return entries[(region, industry)]
    return None


@service
def set_responsibility(
    actor: Actor, *, region_code: str, industry: str, regulator: str, basis: str
) -> ResponsibilityEntry:
    """Centre staff set which regulator supervises an industry in a region (行政监督职责分工); an
    earlier entry for the same industry and region is retired, never edited."""
    from openbid.accounts.regions import require_region

    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Setting the responsibility list"))
    region = require_region(region_code, field="region_code").code
    industry = industry or ""
    if industry and industry not in Industry.values:
        raise InvalidInput(_("Unknown industry."), field="industry", rule="choice")
    org = Organisation.objects.filter(credit_code=(regulator or "").strip().upper()).first()
    if org is None or org.org_type != OrgType.REGULATOR:
        raise InvalidInput(
            _("Name a registered regulator (行政监督部门) by its credit code."),
            field="regulator",
            rule="organisation_type",
        )
    basis = clean_text(basis, "basis", 300)
    now = clock.now()
    retired = list(
        ResponsibilityEntry.objects.filter(active=True, region_code=region, industry=industry)
    )
    ResponsibilityEntry.objects.filter(pk__in=[e.pk for e in retired]).update(active=False)
    entry = ResponsibilityEntry.objects.create(
        industry=industry, region_code=region, regulator=org, basis=basis, created_at=now
    )
    record_event(
        "disputes.responsibility.set",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("responsibility", entry.pk), ("organisation", org.pk)],
        payload={
            "region_code": region,
            "industry": industry or "*",
            "regulator": org.credit_code,
            "regulator_name": org.name,
            "basis": basis,
            "retired": [e.pk for e in retired],
        },
    )
    return entry


@service
def retire_responsibility(actor: Actor, entry: ResponsibilityEntry) -> ResponsibilityEntry:
    """Centre staff retire an entry of the responsibility list."""
    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Setting the responsibility list"))
    entry = ResponsibilityEntry.objects.select_for_update().get(pk=entry.pk)
    if not entry.active:
        raise Conflict(_("This entry is already retired."), field="entry", rule="retired")
    entry.active = False
    entry.save(update_fields=["active"])
    record_event(
        "disputes.responsibility.retired",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("responsibility", entry.pk)],
        payload={"region_code": entry.region_code, "industry": entry.industry or "*"},
    )
    return entry


# --- holds --------------------------------------------------------------------------------------------


def _case_label(s: Suspension) -> str:
    if s.objection_id is not None:
        return _("objection %(ref)s") % {"ref": s.objection.reference}  # type: ignore[union-attr]
    return _("the regulator's order in complaint %(ref)s") % {
        "ref": s.complaint.reference  # type: ignore[union-attr]
    }


def holds_of(tender_id: int) -> list[holds.Hold]:
    """The hold source registered with ``openbid.core.holds``: active suspensions of a tender."""
    from django.urls import reverse

    out = []
    for s in Suspension.objects.filter(
        tender_id=tender_id, released_at__isnull=True
    ).select_related("objection", "complaint"):
        url = (
            reverse("disputes:objection", args=[s.objection_id])
            if s.objection_id is not None
            else reverse("disputes:complaint", args=[s.complaint_id])
        )
        out.append(
            holds.Hold(
                tender_id=tender_id,
                case=_case_label(s),
                reason=s.reason,
                rule=s.rule,
                article=s.article,
                steps=tuple(s.steps),
                since=s.started_at,
                url=url,
            )
        )
    return out


def _release(suspensions: Iterable[Suspension], now: dt.datetime, why: str) -> list[int]:
    ids = [s.pk for s in suspensions if s.released_at is None]
    Suspension.objects.filter(pk__in=ids).update(released_at=now, release_reason=why)
    return ids


# --- objections ---------------------------------------------------------------------------------------


def interested_organisations(tender: Tender, matter: str) -> set[int]:
    """Organisations with standing on ``matter``: for the documents, those that obtained them or
    were invited (potential bidders); for the opening and the evaluation, the bidders; for other
    matters, any of them (Reg arts. 22, 54, 60: 潜在投标人、投标人或者其他利害关系人)."""
    obtained = set(
        DocumentObtainer.objects.filter(tender=tender).values_list("organisation_id", flat=True)
    )
    invited = set(tender.invited.values_list("pk", flat=True))
    bidders = set(
        Bid.objects.filter(section__tender=tender).values_list("organisation_id", flat=True)
    )
    if matter in (Matter.TENDER_DOCS, Matter.PREQUAL_DOCS):
        return obtained | invited
    if matter in (Matter.OPENING, Matter.EVALUATION):
        return bidders
    return obtained | invited | bidders


def _acting_org(
    actor: Actor, tender: Tender, matter: str, *, rule: str, action: str
) -> Organisation:
    user = signed_in(actor)
    require_role(user, Role.BIDDER_STAFF, action=action)
    standing = interested_organisations(tender, matter)
    for m in memberships(user, Role.BIDDER_STAFF).order_by("id"):
        if m.organisation_id in standing:
            return m.organisation
    article = rules.rule(rule, on=_rules_on(tender)).article if rule else ""
    raise NotAllowed(
        _(
            "%(action)s is for the bidders and other interested parties of this tender: for the "
            "documents, those that obtained them; for the opening and the evaluation result, those "
            "that bid (%(article)s)."
        )
        % {"action": action, "article": article},
        field="tender",
        rule=rule,
        article=article,
    )


def objection_window(tender: Tender, matter: str) -> windows.Window:
    """The window of an objection on ``matter``, or the refusal saying why there is none."""
    on = _rules_on(tender)
    if matter == Matter.OPENING:
        rule = rules.rule("objection_opening", on=on)
        raise Conflict(
            _(
                "Objections to the opening are raised at the opening, in the opening room, and "
                "answered on the spot (%(article)s)."
            )
            % {"article": rule.article},
            field="matter",
            rule=rule.key,
            article=rule.article,
        )
    if matter == Matter.TENDER_DOCS:
        if tender.status != State.PUBLISHED:
            window = windows.documents_window(tender, on)
            raise Conflict(
                _("Objections to the tender documents are raised while the tender accepts bids."),
                field="matter",
                rule=window.rule.key,
                article=window.rule.article,
            )
        return windows.documents_window(tender, on)
    if matter == Matter.PREQUAL_DOCS:
        found = windows.prequal_window(tender, on)
        if found is None:
            raise Conflict(
                _("This tender has no prequalification (资格预审)."),
                field="matter",
                rule="objection_prequal_docs",
                article=rules.rule("objection_prequal_docs", on=on).article,
            )
        return found
    if matter == Matter.EVALUATION:
        found = windows.evaluation_window(tender, on)
        if found is None:
            rule = rules.rule("objection_evaluation", on=on)
            raise Conflict(
                _(
                    "Objections to the evaluation result are raised during the publicity of the "
                    "candidates (%(article)s); the candidates of this tender are not in publicity."
                )
                % {"article": rule.article},
                field="matter",
                rule=rule.key,
                article=rule.article,
            )
        return found
    raise InvalidInput(
        _(
            "An objection is about the prequalification or tender documents or the evaluation "
            "result; for other matters, complain to the regulator."
        ),
        field="matter",
        rule="choice",
    )


def _suspended_steps(matter: str) -> tuple[str, ...]:
    # Documents: nothing after the bid deadline may happen until the reply (the opening and all
    # that follows). Evaluation result: the award and the contract wait (Reg art. 54).
    if matter == Matter.EVALUATION:
        return holds.steps_from("award")
    return holds.steps_from("open")


@service
def raise_objection(actor: Actor, tender: Tender, *, matter: str, text: str) -> Objection:
    """A potential bidder objects to the tender (or prequalification) documents, or a bidder to the
    evaluation result, within the statutory window (Reg arts. 22, 54). The tender's next steps are
    suspended until the tenderer replies (a hold), and the reply is due in 3 days."""
    tender = Tender.objects.select_related("project").get(pk=tender.pk)
    if matter not in Matter.values:
        raise InvalidInput(_("Choose one of the listed values."), field="matter", rule="choice")
    window = objection_window(tender, matter)
    org = _acting_org(
        actor, tender, matter, rule="objection_" + matter, action=_("Raising an objection")
    )
    now = clock.now()
    if not window.contains(now):
        opens = window.opens is not None and now < window.opens
        raise Conflict(
            _("Objections on this matter can be raised from %(time)s (%(article)s).")
            % {"time": _day(window.opens), "article": window.rule.article}  # type: ignore[arg-type]
            if opens
            else _(
                "The period for objections on this matter ended at %(time)s (%(rule)s, %(article)s)."
            )
            % {
                "time": _day(window.closes),  # type: ignore[arg-type]
                "rule": window.rule.localized_title(),
                "article": window.rule.article,
            },
            field="matter",
            rule=window.rule.key,
            article=window.rule.article,
            at=window.opens if opens else window.closes,
        )
    text = clean_text(text, "text", 10000)
    if Objection.objects.filter(
        tender=tender, matter=matter, raised_by=org, status=Objection.Status.PENDING
    ).exists():
        raise Conflict(
            _("Your organisation's objection on this matter is awaiting its reply."),
            field="matter",
            rule="objection_pending",
        )
    user = signed_in(actor)
    due = windows.reply_due(now, _rules_on(tender))
    objection = Objection.objects.create(
        tender=tender,
        matter=matter,
        raised_by=org,
        raised_by_user=user,
        text=text,
        raised_at=now,
        reply_due=due,
        suspends=True,
    )
    reply_rule = rules.rule("objection_reply", on=_rules_on(tender))
    suspension = Suspension.objects.create(
        tender=tender,
        objection=objection,
        steps=list(_suspended_steps(matter)),
        reason=_("an objection to %(matter)s awaits the tenderer's reply")
        % {"matter": Matter(matter).label},
        rule=reply_rule.key,
        article=reply_rule.article,
        started_at=now,
    )
    timers.start(
        Timer.Case.OBJECTION,
        objection.pk,
        Timer.Step.REPLY,
        "objection_reply",
        now,
        handler=respondent_org(tender),
        rules_on=_rules_on(tender),
    )
    record_event(
        "disputes.objection.raised",
        actor=user,
        subjects=[("tender", tender.pk), ("objection", objection.pk)],
        # The objector is not named: before the opening that would disclose who obtained the
        # documents (Law art. 22).
        payload={
            "matter": matter,
            "reply_due": due,
            "text_sha256": _sha(text),
            "suspended_steps": suspension.steps,
            "rule": window.rule.key,
            "article": window.rule.article,
        },
        private_digest=_private(objection.pk, org.credit_code, text),
    )
    return objection


@service
def reply_objection(
    actor: Actor, objection: Objection, *, reply: str, changes_documents: bool = False
) -> Objection:
    """The tenderer or its agency replies to an objection, online; the reply is delivered to the
    objector and the suspension it caused ends (Reg art. 22). A late reply is still recorded (and
    measured as late). Changes to the documents follow by clarification."""
    objection = Objection.objects.select_for_update(of=("self",)).get(pk=objection.pk)
    tender = Tender.objects.select_related("project").get(pk=objection.tender_id)
    org = require_manager(actor, tender.project, _("Replying to an objection"))
    if objection.status != Objection.Status.PENDING:
        raise Conflict(
            _("This objection has been answered."), field="reply", rule="objection_answered"
        )
    now = clock.now()
    objection.reply = clean_text(reply, "reply", 10000)
    objection.changes_documents = bool(changes_documents)
    objection.replied_by = signed_in(actor)
    objection.replied_by_org = org
    objection.replied_at = now
    objection.status = Objection.Status.ANSWERED
    objection.save()
    released = _release(objection.suspensions.all(), now, _("the objection was answered"))
    timers.finish(Timer.Case.OBJECTION, objection.pk, Timer.Step.REPLY, now)
    record_event(
        "disputes.objection.answered",
        actor=actor,
        actor_org=org,
        subjects=[("tender", tender.pk), ("objection", objection.pk)],
        payload={
            "reply_sha256": _sha(objection.reply),
            "changes_documents": objection.changes_documents,
            "on_time": now <= objection.reply_due,
            "released_holds": released,
        },
    )
    return objection


# --- complaints ----------------------------------------------------------------------------------------


def _objection_first(
    tender: Tender, org: Organisation, matter: str, now: dt.datetime
) -> tuple[Objection | None, OpeningObjection | None, int, dt.date | None]:
    """The objection that must come first, the days of its reply period (not counted), and the day
    it was raised; or the refusal."""
    on = _rules_on(tender)
    rule = rules.rule("complaint_objection_first", on=on)
    if matter == Matter.OPENING:
        found = (
            OpeningObjection.objects.filter(session__tender=tender, raised_by=org)
            .order_by("raised_at")
            .first()
        )
        if found is None or found.replied_at is None:
            raise Conflict(
                _(
                    "A complaint about %(matter)s needs an objection raised first with the tenderer "
                    "and answered or left unanswered past its time (%(article)s); your "
                    "organisation has none."
                )
                % {"matter": Matter(matter).label, "article": rule.article},
                field="matter",
                rule=rule.key,
                article=rule.article,
            )
        days = max(
            0, (windows.local_day(found.replied_at) - windows.local_day(found.raised_at)).days
        )
        return None, found, days, windows.local_day(found.raised_at)
    objection = (
        Objection.objects.filter(tender=tender, raised_by=org, matter=matter)
        .order_by("-raised_at")
        .first()
    )
    if objection is None:
        raise Conflict(
            _(
                "A complaint about %(matter)s needs an objection raised first with the tenderer "
                "and answered or left unanswered past its time (%(article)s); your "
                "organisation has none."
            )
            % {"matter": Matter(matter).label, "article": rule.article},
            field="matter",
            rule=rule.key,
            article=rule.article,
        )
    if objection.status == Objection.Status.PENDING and now < objection.reply_due:
        raise Conflict(
            _(
                "Your objection %(ref)s awaits the tenderer's reply until %(due)s; a complaint can "
                "be made after the reply, or after that time if none comes (%(article)s)."
            )
            % {
                "ref": objection.reference,
                "due": _day(objection.reply_due),
                "article": rule.article,
            },
            field="matter",
            rule=rule.key,
            article=rule.article,
            at=objection.reply_due,
        )
    days = windows.excluded_reply_days(
        objection.raised_at, objection.replied_at, objection.reply_due
    )
    return objection, None, days, windows.local_day(objection.raised_at)


def complaint_window_end(tender: Tender, knew_on: dt.date, excluded_days: int = 0) -> dt.datetime:
    return windows.complaint_window_end(knew_on, _rules_on(tender), excluded_days)


@service
def file_complaint(
    actor: Actor,
    tender: Tender,
    *,
    matter: str,
    knew_on: dt.date,
    text: str,
    requests: str,
) -> Complaint:
    """A bidder or other interested party complains to the competent regulator (Reg art. 60).

    Refused, writing nothing: without standing (not a bidder or interested party of the tender);
    on a matter that needs an objection first without one, or while it awaits its reply; after the
    complaint period (10 days from the day the complainant knew or should have known, the
    objection's reply period not counted); repeating a decided matter; or while the same
    complaint is pending. The regulator is found in the responsibility list by the project's
    industry and region; its acceptance decision is due in 3 working days (Reg art. 61).
    """
    tender = Tender.objects.select_related("project__tenderer", "project__agency").get(pk=tender.pk)
    if matter not in Matter.values:
        raise InvalidInput(_("Choose one of the listed values."), field="matter", rule="choice")
    if not isinstance(knew_on, dt.date) or isinstance(knew_on, dt.datetime):
        raise InvalidInput(_("A date is required."), field="knew_on", rule="required")
    now = clock.now()
    today = windows.local_day(now)
    if knew_on > today:
        raise InvalidInput(
            _("The day you knew of the matter cannot be in the future."),
            field="knew_on",
            rule="schedule_order",
        )
    if tender.published_at is not None and knew_on < windows.local_day(tender.published_at):
        raise InvalidInput(
            _("The tender was published on %(date)s; you cannot have known of it before.")
            % {"date": windows.local_day(tender.published_at).isoformat()},
            field="knew_on",
            rule="schedule_order",
        )
    org = _acting_org(
        actor, tender, matter, rule="complaint_standing", action=_("Filing a complaint")
    )
    objection = opening_objection = None
    excluded = 0
    if matter in OBJECTION_FIRST:
        objection, opening_objection, excluded, raised_on = _objection_first(
            tender, org, matter, now
        )
        # The complainant knew of the matter at the latest when it objected.
        if raised_on is not None and raised_on < knew_on:
            knew_on = raised_on
    end = complaint_window_end(tender, knew_on, excluded)
    if now >= end:
        rule = rules.rule("complaint_window", on=_rules_on(tender))
        raise Conflict(
            _(
                "The complaint period ended at %(time)s: %(days)d days from %(knew)s, the day you "
                "knew or should have known%(excluded)s (%(article)s)."
            )
            % {
                "time": _day(end),
                "days": rule.int_value,
                "knew": knew_on.isoformat(),
                "excluded": (
                    _(", with %(n)d days of the objection's reply period not counted")
                    % {"n": excluded}
                    if excluded
                    else ""
                ),
                "article": rule.article,
            },
            field="knew_on",
            rule=rule.key,
            article=rule.article,
            at=end,
        )
    same = Complaint.objects.filter(tender=tender, complainant=org, matter=matter)
    if same.filter(status=Complaint.Status.DECIDED).exists():
        rule = rules.rule("complaint_repeat", on=_rules_on(tender))
        decided = same.filter(status=Complaint.Status.DECIDED).order_by("-decided_at").first()
        raise Conflict(
            _(
                "Your complaint %(ref)s on this matter was decided on %(date)s; a decided matter "
                "is not accepted again (%(article)s)."
            )
            % {
                "ref": decided.reference,  # type: ignore[union-attr]
                "date": _day(decided.decided_at),  # type: ignore[union-attr, arg-type]
                "article": rule.article,
            },
            field="matter",
            rule=rule.key,
            article=rule.article,
        )
    if same.filter(status__in=[Complaint.Status.FILED, Complaint.Status.ACCEPTED]).exists():
        raise Conflict(
            _("Your organisation's complaint on this matter is being handled."),
            field="matter",
            rule="complaint_pending",
        )
    entry = competent_regulator(tender.project)
    if entry is None:
        raise NotFound(
            _(
                "No regulator is set in the responsibility list for %(industry)s in region "
                "%(region)s; the trading centre must complete the list."
            )
            % {
                "industry": Industry(tender.project.industry).label,
                "region": tender.project.region_code,
            },
            field="tender",
            rule="responsibility_list",
        )
    text = clean_text(text, "text", 20000)
    requests = clean_text(requests, "requests", 5000)
    user = signed_in(actor)
    accept = windows.limit_for("complaint_accept", now)
    complaint = Complaint.objects.create(
        tender=tender,
        matter=matter,
        objection=objection,
        opening_objection=opening_objection,
        complainant=org,
        complainant_user=user,
        regulator=entry.regulator,
        knew_on=knew_on,
        window_end=end,
        text=text,
        requests=requests,
        filed_at=now,
        accept_due=accept.due_at,
    )
    complaint.respondents.set(
        [o for o in (tender.project.tenderer, tender.project.agency) if o is not None]
    )
    timers.start(
        Timer.Case.COMPLAINT,
        complaint.pk,
        Timer.Step.ACCEPT,
        "complaint_accept",
        now,
        handler=entry.regulator,
    )
    record_event(
        "disputes.complaint.filed",
        actor=user,
        subjects=[
            ("tender", tender.pk),
            ("complaint", complaint.pk),
            ("organisation", entry.regulator_id),
        ],
        # The complainant is anonymous to the public: only a digest binds it to the event.
        payload={
            "matter": matter,
            "regulator": entry.regulator.credit_code,
            "accept_due": accept.due_at,
            "window_end": end,
            "objection": objection.pk if objection else None,
            "text_sha256": _sha(text),
        },
        private_digest=_private(complaint.pk, org.credit_code, text),
    )
    return complaint


def _regulator(actor: Actor, complaint: Complaint, action: str) -> Organisation:
    return require_role(
        actor, Role.REGULATOR, organisation=complaint.regulator, action=action
    ).organisation


def _locked(complaint: Complaint, *statuses: str, action: str) -> Complaint:
    found = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if found.status not in statuses:
        raise Conflict(
            _("%(action)s is not possible: the complaint is %(status)s.")
            % {"action": action, "status": found.get_status_display()},
            field="status",
            rule="complaint_lifecycle",
        )
    return found


def _complaint_event(
    type: str, complaint: Complaint, actor: Actor, org: Organisation, **payload: Any
) -> None:
    record_event(
        type,
        actor=actor,
        actor_org=org,
        subjects=[("tender", complaint.tender_id), ("complaint", complaint.pk)],
        payload=payload,
    )


@service
def accept_complaint(actor: Actor, complaint: Complaint) -> Complaint:
    """The regulator accepts the complaint (受理, Reg art. 61); its decision is due 30 working
    days after acceptance, periods of testing, inspection and expert review not counted."""
    action = _("Accepting a complaint")
    org = _regulator(actor, complaint, action)
    complaint = _locked(complaint, Complaint.Status.FILED, action=action)
    now = clock.now()
    timers.finish(Timer.Case.COMPLAINT, complaint.pk, Timer.Step.ACCEPT, now)
    decide = timers.start(
        Timer.Case.COMPLAINT,
        complaint.pk,
        Timer.Step.DECIDE,
        "complaint_decide",
        now,
        handler=complaint.regulator,
    )
    complaint.status = Complaint.Status.ACCEPTED
    complaint.accepted_at = now
    complaint.decide_due = decide.due_at
    complaint.handled_by = signed_in(actor)
    complaint.save(update_fields=["status", "accepted_at", "decide_due", "handled_by"])
    _complaint_event(
        "disputes.complaint.accepted",
        complaint,
        actor,
        org,
        decide_due=decide.due_at,
        on_time=now <= complaint.accept_due,
    )
    return complaint


@service
def reject_complaint(actor: Actor, complaint: Complaint, *, ground: str, reason: str) -> Complaint:
    """The regulator does not accept the complaint (不予受理), with its legal ground and reasons."""
    action = _("Rejecting a complaint")
    org = _regulator(actor, complaint, action)
    if ground not in Complaint.Rejection.values:
        raise InvalidInput(_("Choose one of the listed values."), field="ground", rule="choice")
    reason = clean_text(reason, "reason", 5000)
    complaint = _locked(complaint, Complaint.Status.FILED, action=action)
    now = clock.now()
    complaint.status = Complaint.Status.REJECTED
    complaint.rejected_at = now
    complaint.rejection = ground
    complaint.rejection_reason = reason
    complaint.handled_by = signed_in(actor)
    complaint.save()
    _release(complaint.suspensions.all(), now, _("the complaint was not accepted"))
    timers.finish(Timer.Case.COMPLAINT, complaint.pk, Timer.Step.ACCEPT, now)
    _complaint_event(
        "disputes.complaint.rejected",
        complaint,
        actor,
        org,
        ground=ground,
        reason=reason,
        on_time=now <= complaint.accept_due,
    )
    return complaint


def _step(
    complaint: Complaint,
    kind: str,
    actor: Actor,
    org: Organisation,
    text: str,
    *,
    addressee: Organisation | None = None,
    request: InvestigationStep | None = None,
    due: dt.datetime | None = None,
) -> InvestigationStep:
    return InvestigationStep.objects.create(
        complaint=complaint,
        kind=kind,
        addressee=addressee,
        request=request,
        text=text,
        due=due,
        by=signed_in(actor),
        by_org=org,
        at=clock.now(),
    )


@service
def request_materials(
    actor: Actor, complaint: Complaint, *, addressee: str, text: str, due_on: dt.date
) -> InvestigationStep:
    """The regulator asks a party for documents or explanations (调取、查阅有关文件, Reg art. 62);
    the addressee replies online by ``due_on``."""
    action = _("Requesting materials")
    org = _regulator(actor, complaint, action)
    complaint = _locked(complaint, Complaint.Status.ACCEPTED, action=action)
    target = Organisation.objects.filter(credit_code=(addressee or "").strip().upper()).first()
    if target is None:
        raise NotFound(
            _("No organisation with the credit code %(code)s is registered.") % {"code": addressee},
            field="addressee",
            rule="registered_organisation",
        )
    if not isinstance(due_on, dt.date) or due_on <= clock.today():
        raise InvalidInput(
            _("The reply date must be after today."), field="due_on", rule="schedule_order"
        )
    step = _step(
        complaint,
        InvestigationStep.Kind.REQUEST,
        actor,
        org,
        clean_text(text, "text", 5000),
        addressee=target,
        due=windows.end_of(due_on),
    )
    _complaint_event(
        "disputes.complaint.materials_requested",
        complaint,
        actor,
        org,
        step=step.pk,
        addressee=target.credit_code if target != complaint.complainant else "complainant",
        due=step.due,
    )
    return step


@service
def reply_to_request(actor: Actor, request: InvestigationStep, *, text: str) -> InvestigationStep:
    """The addressee of a request for materials replies online."""
    request = InvestigationStep.objects.select_for_update().get(pk=request.pk)
    if request.kind != InvestigationStep.Kind.REQUEST or request.addressee is None:
        raise NotFound(_("No such request."), field="request", rule="exists")
    membership = require_role(
        actor,
        Role.BIDDER_STAFF,
        Role.TENDERER_STAFF,
        Role.AGENCY_STAFF,
        organisation=request.addressee,
        action=_("Replying to a request for materials"),
    )
    complaint = _locked(request.complaint, Complaint.Status.ACCEPTED, action=_("Replying"))
    if request.ended_at is not None:
        raise Conflict(_("This request has been answered."), field="text", rule="answered")
    reply = _step(
        complaint,
        InvestigationStep.Kind.REPLY,
        actor,
        membership.organisation,
        clean_text(text, "text", 20000),
        request=request,
    )
    request.ended_at = reply.at
    request.save(update_fields=["ended_at"])
    record_event(
        "disputes.complaint.materials_given",
        actor=actor,
        subjects=[("tender", complaint.tender_id), ("complaint", complaint.pk)],
        payload={"step": reply.pk, "request": request.pk, "text_sha256": _sha(reply.text)},
    )
    return reply


@service
def record_hearing(actor: Actor, complaint: Complaint, *, text: str) -> InvestigationStep:
    """The regulator records a hearing or an interview (听证、询问笔录)."""
    action = _("Recording a hearing")
    org = _regulator(actor, complaint, action)
    complaint = _locked(complaint, Complaint.Status.ACCEPTED, action=action)
    step = _step(
        complaint, InvestigationStep.Kind.HEARING, actor, org, clean_text(text, "text", 20000)
    )
    _complaint_event(
        "disputes.complaint.hearing_recorded",
        complaint,
        actor,
        org,
        step=step.pk,
        text_sha256=_sha(step.text),
    )
    return step


@service
def pause_decision_clock(actor: Actor, complaint: Complaint, *, reason: str) -> InvestigationStep:
    """Testing, inspection, appraisal or expert review starts: its time is not counted in the
    decision limit (Reg art. 61); the decision's timer pauses."""
    action = _("Pausing the decision period")
    org = _regulator(actor, complaint, action)
    complaint = _locked(complaint, Complaint.Status.ACCEPTED, action=action)
    if complaint.steps.filter(kind=InvestigationStep.Kind.PAUSE, ended_at__isnull=True).exists():
        raise Conflict(
            _("The decision period is already paused."), field="reason", rule="complaint_decide"
        )
    step = _step(
        complaint, InvestigationStep.Kind.PAUSE, actor, org, clean_text(reason, "reason", 2000)
    )
    timer = timers.timer_of(Timer.Case.COMPLAINT, complaint.pk, Timer.Step.DECIDE)
    assert timer is not None
    timers.pause(timer, step.at)
    _complaint_event("disputes.complaint.clock_paused", complaint, actor, org, reason=step.text)
    return step


@service
def resume_decision_clock(actor: Actor, complaint: Complaint) -> Complaint:
    """The testing or expert review ends: the decision limit moves by the working days it took."""
    action = _("Resuming the decision period")
    org = _regulator(actor, complaint, action)
    complaint = _locked(complaint, Complaint.Status.ACCEPTED, action=action)
    pause = complaint.steps.filter(kind=InvestigationStep.Kind.PAUSE, ended_at__isnull=True).first()
    if pause is None:
        raise Conflict(
            _("The decision period is not paused."), field="complaint", rule="complaint_decide"
        )
    now = clock.now()
    pause.ended_at = now
    pause.save(update_fields=["ended_at"])
    timer = timers.timer_of(Timer.Case.COMPLAINT, complaint.pk, Timer.Step.DECIDE)
    assert timer is not None
    days = timers.resume(timer, now)
    complaint.decide_due = timer.due_at
    complaint.save(update_fields=["decide_due"])
    _complaint_event(
        "disputes.complaint.clock_resumed",
        complaint,
        actor,
        org,
        days_not_counted=days,
        decide_due=timer.due_at,
    )
    return complaint


@service
def suspend_tender(
    actor: Actor, complaint: Complaint, *, reason: str, steps: Sequence[str] | None = None
) -> Suspension:
    """The regulator orders the tender suspended while it handles the complaint (Reg art. 62): the
    steps named (by default all that remain) wait until it lifts the order or decides."""
    action = _("Suspending the tender")
    org = _regulator(actor, complaint, action)
    complaint = _locked(complaint, Complaint.Status.FILED, Complaint.Status.ACCEPTED, action=action)
    chosen = list(dict.fromkeys(steps or holds.ORDER))
    unknown = [s for s in chosen if s not in holds.STEPS]
    if unknown:
        raise InvalidInput(
            _("Unknown step %(step)s.") % {"step": unknown[0]}, field="steps", rule="choice"
        )
    if complaint.suspensions.filter(released_at__isnull=True).exists():
        raise Conflict(
            _("The tender is already suspended in this complaint."),
            field="steps",
            rule="complaint_suspension",
        )
    rule = rules.rule("complaint_suspension")
    suspension = Suspension.objects.create(
        tender_id=complaint.tender_id,
        complaint=complaint,
        steps=chosen,
        reason=clean_text(reason, "reason", 2000),
        rule=rule.key,
        article=rule.article,
        started_at=clock.now(),
    )
    _complaint_event(
        "disputes.tender.suspended",
        complaint,
        actor,
        org,
        suspension=suspension.pk,
        steps=chosen,
        reason=suspension.reason,
        article=rule.article,
    )
    return suspension


@service
def lift_suspension(actor: Actor, complaint: Complaint, *, reason: str) -> list[int]:
    """The regulator lifts its suspension order."""
    action = _("Lifting the suspension")
    org = _regulator(actor, complaint, action)
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    active = list(complaint.suspensions.filter(released_at__isnull=True))
    if not active:
        raise Conflict(
            _("The tender is not suspended in this complaint."),
            field="complaint",
            rule="complaint_suspension",
        )
    reason = clean_text(reason, "reason", 2000)
    released = _release(active, clock.now(), reason)
    _complaint_event(
        "disputes.tender.suspension_lifted", complaint, actor, org, released=released, reason=reason
    )
    return released


# Credit record categories a finding may carry (openbid.credit: a complaint finding is never good).
FINDING_CATEGORIES = ("minor", "ordinary", "serious")


@service
def decide_complaint(
    actor: Actor,
    complaint: Complaint,
    *,
    outcome: str,
    findings: str,
    measures: str = "",
    penalty: str = "",
    decision_number: str,
    credit_subject: str = "",
    credit_category: str = "",
    credit_valid_until: dt.date | None = None,
) -> Complaint:
    """The regulator decides the complaint in writing (投诉处理决定, Reg art. 61) and the decision is
    published at once, without naming the complainant. Any suspension ends. When the complaint is
    upheld against a market entity, the finding is recorded in its credit (source "complaint
    finding"): name its credit code, the category and the end of the record's validity."""
    action = _("Deciding a complaint")
    org = _regulator(actor, complaint, action)
    if outcome not in Complaint.Outcome.values:
        raise InvalidInput(_("Choose one of the listed values."), field="outcome", rule="choice")
    complaint = _locked(complaint, Complaint.Status.ACCEPTED, action=action)
    if complaint.steps.filter(kind=InvestigationStep.Kind.PAUSE, ended_at__isnull=True).exists():
        raise Conflict(
            _("Resume the decision period first: testing or expert review is still under way."),
            field="outcome",
            rule="complaint_decide",
        )
    findings = clean_text(findings, "findings", 20000)
    measures = clean_text(measures, "measures", 5000, required=False)
    penalty = clean_text(penalty, "penalty", 5000, required=False)
    decision_number = clean_text(decision_number, "decision_number", 120)
    subject_org = None
    if credit_subject:
        if outcome == Complaint.Outcome.DISMISSED:
            raise InvalidInput(
                _("A dismissed complaint finds nothing against anyone: no credit record."),
                field="credit_subject",
                rule="credit_category_fits_source",
            )
        subject_org = Organisation.objects.filter(
            credit_code=credit_subject.strip().upper()
        ).first()
        if subject_org is None:
            raise NotFound(
                _("No organisation with the credit code %(code)s is registered.")
                % {"code": credit_subject},
                field="credit_subject",
                rule="registered_organisation",
            )
        if credit_category not in FINDING_CATEGORIES:
            raise InvalidInput(
                _("Choose one of the listed values."), field="credit_category", rule="choice"
            )
        if credit_valid_until is None:
            raise InvalidInput(
                _("A date is required."), field="credit_valid_until", rule="required"
            )
    now = clock.now()
    complaint.status = Complaint.Status.DECIDED
    complaint.decided_at = now
    complaint.outcome = outcome
    complaint.findings = findings
    complaint.measures = measures
    complaint.penalty = penalty
    complaint.decision_number = decision_number
    complaint.published_at = now
    complaint.handled_by = signed_in(actor)
    complaint.save()
    released = _release(complaint.suspensions.all(), now, _("the complaint was decided"))
    timers.finish(Timer.Case.COMPLAINT, complaint.pk, Timer.Step.DECIDE, now)
    record = None
    if subject_org is not None:
        from openbid.credit import services as credit

        tender = complaint.tender
        record = credit.record_credit(
            actor,
            organisation=subject_org,
            source="complaint_finding",
            category=credit_category,
            title=_("Complaint finding %(number)s about %(tender)s")
            % {"number": decision_number, "tender": tender.title},
            facts=findings[:5000],
            legal_basis=_("《招标投标法实施条例》 arts. 60–62; complaint decision %(number)s")
            % {"number": decision_number},
            issuing_body=complaint.regulator.name,
            document_number=decision_number,
            decided_on=windows.local_day(now),
            valid_from=windows.local_day(now),
            valid_until=credit_valid_until,
        )
    _complaint_event(
        "disputes.complaint.decided",
        complaint,
        actor,
        org,
        outcome=outcome,
        decision_number=decision_number,
        findings=findings,
        measures=measures,
        penalty=penalty,
        released_holds=released,
        credit_record=record.number if record is not None else None,
        on_time=complaint.decide_due is None or now <= complaint.decide_due,
    )
    return complaint


@service
def refer_case(
    actor: Actor, complaint: Complaint, *, body: str, body_name: str, reference: str, reason: str
) -> Referral:
    """The regulator records that it referred the case to discipline inspection, the police or the
    procuratorate (两法衔接, 纪法衔接)."""
    action = _("Referring a case")
    org = _regulator(actor, complaint, action)
    complaint = _locked(
        complaint, Complaint.Status.ACCEPTED, Complaint.Status.DECIDED, action=action
    )
    if body not in Referral.Body.values:
        raise InvalidInput(_("Choose one of the listed values."), field="body", rule="choice")
    referral = Referral.objects.create(
        complaint=complaint,
        body=body,
        body_name=clean_text(body_name, "body_name", 200),
        reference=clean_text(reference, "reference", 120),
        reason=clean_text(reason, "reason", 5000),
        by=signed_in(actor),
        at=clock.now(),
    )
    _complaint_event(
        "disputes.complaint.referred",
        complaint,
        actor,
        org,
        referral=referral.pk,
        body=body,
        body_name=referral.body_name,
        reference=referral.reference,
    )
    return referral


# --- feedback -----------------------------------------------------------------------------------------

MARKET_ROLES = (Role.BIDDER_STAFF, Role.TENDERER_STAFF, Role.AGENCY_STAFF, Role.EXPERT)


@service
def submit_feedback(actor: Actor, *, kind: str, subject: str, text: str) -> Feedback:
    """A market entity submits a suggestion or reports a problem with the service (意见建议征集);
    the trading centre answers within 3 working days (feedback_reply_target)."""
    membership = require_role(actor, *MARKET_ROLES, action=_("Submitting a suggestion"))
    if kind not in Feedback.Kind.values:
        raise InvalidInput(_("Choose one of the listed values."), field="kind", rule="choice")
    now = clock.now()
    limit = windows.limit_for("feedback_reply_target", now)
    feedback = Feedback.objects.create(
        kind=kind,
        subject=clean_text(subject, "subject", 200),
        text=clean_text(text, "text", 10000),
        submitted_by=membership.organisation,
        submitted_by_user=signed_in(actor),
        submitted_at=now,
        answer_due=limit.due_at,
    )
    timers.start(
        Timer.Case.FEEDBACK,
        feedback.pk,
        Timer.Step.ANSWER,
        "feedback_reply_target",
        now,
        handler=trading_centre(),
    )
    record_event(
        "disputes.feedback.submitted",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("feedback", feedback.pk)],
        payload={"kind": kind, "subject": feedback.subject, "answer_due": limit.due_at},
    )
    return feedback


@service
def answer_feedback(actor: Actor, feedback: Feedback, *, answer: str) -> Feedback:
    """Trading centre staff answer a suggestion or problem report."""
    membership = require_role(actor, Role.CENTRE_STAFF, action=_("Answering a suggestion"))
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if feedback.answered_at is not None:
        raise Conflict(_("This has been answered."), field="answer", rule="answered")
    now = clock.now()
    feedback.answer = clean_text(answer, "answer", 10000)
    feedback.answered_by = signed_in(actor)
    feedback.answered_at = now
    feedback.save(update_fields=["answer", "answered_by", "answered_at"])
    timers.finish(Timer.Case.FEEDBACK, feedback.pk, Timer.Step.ANSWER, now)
    record_event(
        "disputes.feedback.answered",
        actor=actor,
        actor_org=membership.organisation,
        subjects=[("feedback", feedback.pk)],
        payload={"answer": feedback.answer, "on_time": now <= feedback.answer_due},
    )
    return feedback


# --- who sees what --------------------------------------------------------------------------------------


def is_regulator_of(user: Any, complaint: Complaint) -> bool:
    return has_role(user, Role.REGULATOR, organisation=complaint.regulator)


def is_complainant(user: Any, complaint: Complaint) -> bool:
    return has_role(user, Role.BIDDER_STAFF, organisation=complaint.complainant)


def is_respondent(user: Any, tender: Tender) -> bool:
    project = tender.project
    return has_role(user, Role.TENDERER_STAFF, organisation=project.tenderer) or (
        project.agency is not None
        and has_role(user, Role.AGENCY_STAFF, organisation=project.agency)
    )


def is_addressee(user: Any, complaint: Complaint) -> bool:
    orgs = memberships(user).values_list("organisation_id", flat=True)
    return complaint.steps.filter(
        kind=InvestigationStep.Kind.REQUEST, addressee_id__in=orgs
    ).exists()


def may_see_complaint(user: Any, complaint: Complaint) -> bool:
    return (
        is_regulator_of(user, complaint)
        or is_complainant(user, complaint)
        or is_respondent(user, complaint.tender)
        or is_addressee(user, complaint)
        or has_role(user, Role.CENTRE_STAFF)
    )


def may_see_objection(user: Any, objection: Objection) -> bool:
    if has_role(user, Role.BIDDER_STAFF, organisation=objection.raised_by):
        return True
    if is_respondent(user, objection.tender) or has_role(user, Role.CENTRE_STAFF):
        return True
    entry = competent_regulator(objection.tender.project)
    return entry is not None and has_role(user, Role.REGULATOR, organisation=entry.regulator)


def cases_for(user: Any) -> dict[str, Any]:
    """The cases a person deals with, by role."""
    orgs = list(memberships(user).values_list("organisation_id", flat=True))
    managed = Q(tender__project__tenderer_id__in=orgs) | Q(tender__project__agency_id__in=orgs)
    return {
        "objections_raised": Objection.objects.filter(raised_by_id__in=orgs).select_related(
            "tender"
        ),
        "objections_to_answer": Objection.objects.filter(managed).select_related("tender"),
        "complaints_filed": Complaint.objects.filter(complainant_id__in=orgs).select_related(
            "tender"
        ),
        "complaints_about": Complaint.objects.filter(managed).select_related("tender"),
        "complaints_handled": Complaint.objects.filter(regulator_id__in=orgs).select_related(
            "tender"
        ),
        "requests": InvestigationStep.objects.filter(
            kind=InvestigationStep.Kind.REQUEST, addressee_id__in=orgs
        ).select_related("complaint__tender"),
    }


def published_decisions() -> Any:
    return (
        Complaint.objects.filter(status=Complaint.Status.DECIDED, published_at__isnull=False)
        .select_related("tender__project", "regulator")
        .order_by("-published_at", "-id")
    )
