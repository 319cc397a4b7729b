"""Every change of the award and the contract (定标与合同).

Each service checks the actor's role, the statutory rules (keys of the rules table, with their
articles), changes its rows in one transaction and records a domain event in that transaction.
The order of things for one section:

1. ``publish_candidates`` — the evaluation context calls it once the evaluation report is signed:
   the candidate publicity (中标候选人公示, Reg art. 54) for at least ``publicity_min`` days;
2. ``decide_award`` — after the publicity, by the tenderer: the first-ranked candidate unless a
   statutory reason passes it over (``award_first_candidate``, Reg art. 55), or, for a separated
   award (评定分离), the method the tender announced: vote, verifiable lottery, deliberation;
3. ``prepare_notices`` — the award notice and the result notices (``award_notice``, Law art. 45);
   the tenderer signs the award notice with its certificate (document kind ``award-notice``), which
   issues every notice of the section and publishes the result;
4. ``file_written_report`` — the written report to the regulator (``report_to_regulator``, Law
   art. 47), warned before it is due and flagged when late;
5. ``draft_contract`` / ``change_contract`` — from a centre template; both parties sign the same
   SHA-256 (document kind ``contract``) within ``contract_within`` (Law art. 46); a signed version
   is published at once (合同订立公开);
6. ``evaluate_performance`` / ``forward_to_credit`` / ``record_payment``.

Every step after the publicity asks ``award_blocked`` first: a suspension (an objection under
Reg art. 54 halts the process until it is answered) or a hold of the disputes context refuses it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, has_role, memberships, require_role, signed_in
from openbid.accounts.roles import Role
from openbid.award import documents, hooks
from openbid.award.models import (
    AwardNotice,
    Candidate,
    Contract,
    ContractTemplate,
    ContractVersion,
    Decision,
    Payment,
    PerformanceEvaluation,
    Publicity,
    Suspension,
    Vote,
    WrittenReport,
)
from openbid.bidding.models import Bid
from openbid.core import clock, rules, workdays
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, service
from openbid.core.money import yuan
from openbid.core.validation import clean_text
from openbid.draws import services as draws
from openbid.draws.models import Draw
from openbid.tendering import lifecycle, notices
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Notice, Section, Tender
from openbid.tendering.services import require_manager

LOTTERY_PURPOSE = "award.lottery"
PASS_OVER_REASONS = ("gave_up", "cannot_perform", "ineligible")
DISCLOSED_KEYS = frozenset(documents.DISCLOSED_ZH)
REQUIRED_DISCLOSED = ("quality", "duration", "qualification")
REQUIRED_DISCLOSED_WORKS = ("project_manager", "project_manager_certificate")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _rule(key: str, tender: Tender) -> rules.Rule:
    return rules.rule(key, on=tender.rules_date or clock.today())


def _contract_subjects(tender: Tender, contract: Any) -> list[tuple[str, object]]:
    return [*_subjects(tender), ("contract", contract.pk), ("organisation", contract.winner_id)]


def _subjects(tender: Tender, section: Section | None = None) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = [("tender", tender.pk), ("project", tender.project_id)]
    if section is not None:
        out.append(("section", section.pk))
    return out


def period_end(start: dt.datetime, days: int) -> dt.datetime:
    """The end of a period of ``days`` calendar days from ``start``: the start day is not counted,
    a last day that is a public holiday moves to the next working day, and the day ends at 24:00
    (民法典 arts. 201, 203). For a minimum period (the publicity) the move only lengthens it."""
    last = workdays.add_calendar_days_period(timezone.localdate(start), days)
    return workdays.period_end_datetime(last)


def _is_tenderer(user: Any, tender: Tender) -> bool:
    return has_role(user, Role.TENDERER_STAFF, organisation=tender.project.tenderer)


def _require_tenderer(actor: Actor, tender: Tender, action: str) -> Organisation:
    """The award decision and the contract are the tenderer's own (定标主体): its staff only."""
    user = signed_in(actor)
    if not _is_tenderer(user, tender):
        raise NotAllowed(
            _("%(action)s is for the tenderer's staff (%(org)s).")
            % {"action": action, "org": tender.project.tenderer.name},
            rule="tenderer_only",
        )
    return tender.project.tenderer


# --- suspension and holds ------------------------------------------------------------------------


def open_suspension(tender: Tender) -> Suspension | None:
    return Suspension.objects.filter(tender=tender, resumed_at__isnull=True).first()


def award_blocked(tender: Tender, step: str | None = None) -> str | None:
    """Why the award of ``tender`` may not go on now, or ``None``: an open suspension of the
    award (an objection during the publicity), then every check other contexts registered with
    ``openbid.award.hooks.add_block_check`` (the disputes context's holds), asked about ``step``
    (``"award"`` or ``"sign_contract"``; ``None``: any)."""
    suspension = open_suspension(tender)
    if suspension is not None:
        return suspension.reason
    return hooks.blocked_by_others(tender, step)


def _require_not_blocked(tender: Tender, action: str, step: str = "award") -> None:
    reason = award_blocked(tender, step)
    if reason:
        objection = _rule("objection_reply", tender)
        raise Conflict(
            _("%(action)s is refused: the award is suspended (%(reason)s).")
            % {"action": action, "reason": reason},
            field="tender",
            rule="award_suspended",
            article=objection.article,
        )


def _may_suspend(actor: Actor, tender: Tender) -> Organisation | None:
    if actor is None:
        return None  # the platform, on behalf of the disputes context
    user = signed_in(actor)
    public_body = memberships(user, Role.CENTRE_STAFF, Role.REGULATOR).first()
    if public_body is not None:
        return public_body.organisation
    return require_manager(user, tender.project, _("Suspending the award"))


_SUSPENDABLE = frozenset({State.PUBLICITY, State.AWARDED})


@service
def suspend_publicity(tender: Tender, reason: str, by: Actor = None) -> Suspension:
    """Suspend the award of ``tender`` (暂停招标投标活动) — an objection to the evaluation result
    was raised during the publicity, and until the tenderer answers it the process stops (Reg
    art. 54; ``objection_evaluation``, ``objection_reply``). ``by`` is the person (the tenderer or
    its agency, centre staff, a regulator) or ``None`` for the platform (the disputes context).
    Every later step refuses while the suspension is open."""
    org = _may_suspend(by, tender)
    reason = clean_text(reason, "reason", 2000)
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    if tender.status not in _SUSPENDABLE:
        raise Conflict(
            _("Only an award in progress (candidates in publicity, or awarded) can be suspended."),
            field="status",
            rule="tender_lifecycle",
        )
    if open_suspension(tender) is not None:
        raise Conflict(_("The award is suspended already."), field="tender", rule="award_suspended")
    now = clock.now()
    row = Suspension.objects.create(
        tender=tender,
        reason=reason,
        suspended_at=now,
        suspended_by=by if isinstance(by, User) else None,
    )
    rule = _rule("objection_evaluation", tender)
    record_event(
        "award.suspended",
        actor=by,
        actor_org=org,
        subjects=_subjects(tender),
        payload={"suspension": row.pk, "reason": reason, "rule": rule.key, "article": rule.article},
    )
    return row


@service
def resume_publicity(tender: Tender, by: Actor = None, note: str = "") -> Suspension:
    """End the open suspension of ``tender`` (the objection is answered, the hold lifted); the
    award goes on. A publicity whose period ended during the suspension is not extended."""
    org = _may_suspend(by, tender)
    note = clean_text(note, "note", 2000, required=False)
    Tender.objects.select_for_update().get(pk=tender.pk)
    row = open_suspension(tender)
    if row is None:
        raise Conflict(_("The award is not suspended."), field="tender", rule="award_suspended")
    row.resumed_at = clock.now()
    row.resumed_by = by if isinstance(by, User) else None
    row.resume_note = note
    row.save(update_fields=["resumed_at", "resumed_by", "resume_note"])
    record_event(
        "award.resumed",
        actor=by,
        actor_org=org,
        subjects=_subjects(tender),
        payload={"suspension": row.pk, "note": note},
    )
    return row


# --- 1. candidate publicity ----------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateIn:
    """One recommended candidate as the evaluation hands it over (plain data).

    ``bidder`` is the organisation or its credit code; ``rank`` is 1, 2, 3 for ranked candidates
    and ``None`` when the tender asks for unranked ones; ``score`` (comprehensive evaluation) or
    ``evaluated_price`` (lowest evaluated price) is what the committee's ranking rests on;
    ``disclosed`` holds the items the publicity must show (``publicity_contents``): quality,
    duration, qualification, and for works the project manager and their certificate, plus
    optionally evaluation and other."""

    bidder: Organisation | str
    price: Any
    rank: int | None = None
    score: Any = None
    evaluated_price: Any = None
    disclosed: Mapping[str, str] = field(default_factory=dict)


def _candidate_in(raw: CandidateIn | Mapping[str, Any], n: int) -> CandidateIn:
    if isinstance(raw, CandidateIn):
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            _("Each candidate is a bidder, a price and the disclosed items."),
            field=f"candidates.{n}",
            rule="schema",
        )
    known = {"bidder", "price", "rank", "score", "evaluated_price", "disclosed"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput(
            _("Unknown field %(field)s.") % {"field": f"candidates.{n}.{unknown[0]}"},
            field=f"candidates.{n}.{unknown[0]}",
            rule="schema",
        )
    return CandidateIn(**dict(raw))


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        value = None
    try:
        number = Decimal(str(value).strip()) if value is not None else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        raise InvalidInput(
            _("%(field)s must be a non-negative decimal number.") % {"field": field},
            field=field,
            rule="decimal",
        )
    return number


def _bidder(value: Organisation | str, section: Section, field: str) -> Organisation:
    if isinstance(value, Organisation):
        org: Organisation | None = value
    else:
        org = Organisation.objects.filter(credit_code=str(value or "").strip().upper()).first()
    if (
        org is None
        or not Bid.objects.filter(
            section=section, organisation=org, status=Bid.Status.VALID
        ).exists()
    ):
        raise InvalidInput(
            _("%(bidder)s has no valid bid in this section: only bidders can be candidates.")
            % {"bidder": getattr(org, "name", None) or value},
            field=field,
            rule="candidate_is_bidder",
        )
    return org


def _disclosed(raw: Any, tender: Tender, field: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raw = {}
    unknown = sorted(set(raw) - DISCLOSED_KEYS)
    if unknown:
        raise InvalidInput(
            _("Unknown disclosed item %(item)s.") % {"item": unknown[0]},
            field=f"{field}.{unknown[0]}",
            rule="publicity_contents",
        )
    out = {k: clean_text(v, f"{field}.{k}", 1000, required=False) for k, v in raw.items()}
    required = REQUIRED_DISCLOSED + (
        REQUIRED_DISCLOSED_WORKS if tender.kind == Tender.Kind.WORKS else ()
    )
    rule = _rule("publicity_contents", tender)
    for key in required:
        if not out.get(key):
            raise InvalidInput(
                _("The publicity must disclose the candidate's %(item)s.")
                % {"item": documents.DISCLOSED_ZH[key]},
                field=f"{field}.{key}",
                rule=rule.key,
                article=rule.article,
            )
    return {k: v for k, v in out.items() if v}


def _clean_candidates(
    tender: Tender, section: Section, candidates: Sequence[CandidateIn | Mapping[str, Any]]
) -> list[Candidate]:
    cap = _rule("candidates_max", tender)
    if not candidates or len(candidates) > cap.int_value:
        raise InvalidInput(
            _("The committee recommends one to %(max)d candidates.") % {"max": cap.int_value},
            field="candidates",
            rule=cap.key,
            article=cap.article,
        )
    rows: list[Candidate] = []
    seen: set[int] = set()
    for n, raw in enumerate(candidates, start=1):
        item = _candidate_in(raw, n)
        prefix = f"candidates.{n}"
        org = _bidder(item.bidder, section, f"{prefix}.bidder")
        if org.pk in seen:
            raise InvalidInput(
                _("%(bidder)s is listed twice.") % {"bidder": org.name},
                field=f"{prefix}.bidder",
                rule="unique_candidate",
            )
        seen.add(org.pk)
        score = _decimal(item.score, f"{prefix}.score")
        evaluated = (
            None
            if item.evaluated_price in (None, "")
            else yuan(item.evaluated_price, field=f"{prefix}.evaluated_price")
        )
        if tender.evaluation_method == Tender.Evaluation.COMPREHENSIVE and score is None:
            raise InvalidInput(
                _("A comprehensive evaluation gives each candidate its score."),
                field=f"{prefix}.score",
                rule="required",
            )
        if tender.evaluation_method == Tender.Evaluation.LOWEST_PRICE and evaluated is None:
            raise InvalidInput(
                _("The lowest evaluated price method gives each candidate its evaluated price."),
                field=f"{prefix}.evaluated_price",
                rule="required",
            )
        rows.append(
            Candidate(
                position=n,
                rank=item.rank,
                bidder=org,
                price=yuan(item.price, field=f"{prefix}.price"),
                score=score,
                evaluated_price=evaluated,
                disclosed=_disclosed(item.disclosed, tender, prefix + ".disclosed"),
            )
        )
    ranks = [c.rank for c in rows]
    if tender.candidates_ranked:
        if sorted(r or 0 for r in ranks) != list(range(1, len(rows) + 1)):
            raise InvalidInput(
                _("Ranked candidates are numbered 1, 2, 3 in their order, each rank once."),
                field="candidates",
                rule=cap.key,
                article=cap.article,
            )
        rows.sort(key=lambda c: c.rank or 0)
        for position, row in enumerate(rows, start=1):
            row.position = position
    elif any(r is not None for r in ranks):
        raise InvalidInput(
            _("This tender asks the committee for unranked candidates (评定分离): give no ranks."),
            field="candidates",
            rule="award_method",
        )
    return rows


def objection_channel() -> str:
    return str(
        getattr(
            settings,
            "OPENBID_OBJECTION_CHANNEL",
            "在本平台该项目的“定标与合同”页面在线提出异议，或书面提交招标人",
        )
    )


@service
def publish_candidates(
    tender: Tender,
    candidates: Sequence[CandidateIn | Mapping[str, Any]],
    report_sha256: str,
    *,
    section: Section | None = None,
    actor: Actor = None,
    publicity_days: int | None = None,
) -> Publicity:
    """Publish the candidate publicity (中标候选人公示) of one section, the moment the evaluation
    report is signed: the evaluation context calls this with plain data.

    Rules: at most ``candidates_max`` candidates (Reg art. 53), ranked 1…n unless the tender asks
    for unranked ones; each a bidder with a valid bid in the section; the disclosed items
    (``publicity_contents``); the period at least ``publicity_min`` days (Reg art. 54), counted
    from the day after publication to 24:00, a last day on a holiday moving to the next working
    day. The tender moves to ``publicity`` with its first section. ``actor`` is ``None`` for the
    platform (the evaluation hook) or the tenderer's or agency's staff.
    """
    org = None
    if actor is not None:
        org = require_manager(actor, tender.project, _("Publishing the candidates"))
    tender = (
        Tender.objects.select_for_update(of=("self",))
        .select_related("project__tenderer")
        .get(pk=tender.pk)
    )
    if section is None:
        sections = list(tender.sections.all())
        if len(sections) != 1:
            raise InvalidInput(
                _("Name the section: this tender has several."), field="section", rule="required"
            )
        section = sections[0]
    elif section.tender_id != tender.pk:
        raise InvalidInput(
            _("The section belongs to another tender."), field="section", rule="same_tender"
        )
    if tender.status != State.PUBLICITY:
        lifecycle.check("publish_candidates", tender.status)
    if Publicity.objects.filter(section=section).exists():
        raise Conflict(
            _("The candidates of this section are published already."),
            field="section",
            rule="publicity_once",
        )
    digest = (report_sha256 or "").strip().lower()
    if not _HEX64.fullmatch(digest):
        raise InvalidInput(
            _("The evaluation report's SHA-256 is 64 hexadecimal digits."),
            field="report_sha256",
            rule="sha256",
        )
    rows = _clean_candidates(tender, section, candidates)
    minimum = _rule("publicity_min", tender)
    days = minimum.int_value if publicity_days in (None, "") else int(publicity_days or 0)
    if days < minimum.int_value:
        raise InvalidInput(
            _("The publicity lasts at least %(days)d days.") % {"days": minimum.int_value},
            field="publicity_days",
            rule=minimum.key,
            article=minimum.article,
        )
    now = clock.now()
    publicity = Publicity(
        tender=tender,
        section=section,
        report_sha256=digest,
        ranked=tender.candidates_ranked,
        published_at=now,
        ends_at=period_end(now, days),
        days=days,
    )
    for row in rows:  # for the text: the rows are saved below
        row.publicity = publicity
    text = documents.publicity_text(publicity, rows, objection_channel())
    publicity.notice = notices.publish(tender, Notice.Kind.CANDIDATES, text, now)
    publicity.save()
    for row in rows:
        row.publicity = publicity
    Candidate.objects.bulk_create(rows)
    if tender.status != State.PUBLICITY:
        tender.status = State.PUBLICITY
        tender.save(update_fields=["status"])
    record_event(
        "award.candidates.published",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(tender, section), ("notice", publicity.notice.pk)],
        payload={
            "publicity": publicity.pk,
            "section": section.number,
            "report_sha256": digest,
            "ranked": publicity.ranked,
            "candidates": [_candidate_payload(c) for c in rows],
            "published_at": now,
            "ends_at": publicity.ends_at,
            "days": days,
            "rule": minimum.key,
            "article": minimum.article,
            "notice_sha256": publicity.notice.sha256,
        },
    )
    return publicity


def _candidate_payload(c: Candidate) -> dict[str, Any]:
    return {
        "position": c.position,
        "rank": c.rank,
        "bidder": c.bidder.credit_code,
        "name": c.bidder.name,
        "price": str(c.price),
        "score": None if c.score is None else str(c.score),
        "evaluated_price": None if c.evaluated_price is None else str(c.evaluated_price),
        "disclosed": c.disclosed,
    }


def publicity_open(publicity: Publicity, now: dt.datetime | None = None) -> bool:
    return (now or clock.now()) < publicity.ends_at


def record_publicity_ends(now: dt.datetime | None = None) -> int:
    """Record ``award.publicity.ended`` once for each publicity whose period has passed (the
    clock loop's part; idempotent: nothing depends on it, the period is compared at write time)."""
    now = now or clock.now()
    done = 0
    for pk in Publicity.objects.filter(
        ends_at__lte=now, ended_recorded_at__isnull=True
    ).values_list("pk", flat=True):
        done += _record_publicity_end(pk, now)
    return done


@service
def _record_publicity_end(pk: int, now: dt.datetime) -> int:
    publicity = (
        Publicity.objects.select_for_update(of=("self",)).select_related("tender").get(pk=pk)
    )
    if publicity.ended_recorded_at is not None:
        return 0
    publicity.ended_recorded_at = now
    publicity.save(update_fields=["ended_recorded_at"])
    record_event(
        "award.publicity.ended",
        subjects=_subjects(publicity.tender, publicity.section),
        payload={"publicity": pk, "ended_at": publicity.ends_at},
    )
    return 1


# --- 2. the award decision --------------------------------------------------------------------------


@dataclass(frozen=True)
class PassOver:
    """A candidate the tenderer does not make the winner, for a statutory reason (Reg art. 55):
    ``gave_up`` (放弃中标), ``cannot_perform`` (force majeure, or no performance security) or
    ``ineligible`` (found to have broken the law in a way that affects the result)."""

    candidate: int
    reason: str
    explanation: str


def _candidate(publicity: Publicity, ref: Any, field: str) -> Candidate:
    found = None
    if isinstance(ref, Candidate):
        ref = ref.pk
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        found = publicity.candidates.filter(pk=int(ref)).select_related("bidder").first()
    if found is None and isinstance(ref, str):
        found = (
            publicity.candidates.filter(bidder__credit_code=ref.strip().upper())
            .select_related("bidder")
            .first()
        )
    if found is None:
        raise InvalidInput(
            _("Not one of this section's candidates."), field=field, rule="candidate"
        )
    return found


def _pass_overs(
    publicity: Publicity, items: Iterable[PassOver | Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], set[int]]:
    rule = _rule("award_first_candidate", publicity.tender)
    out: list[dict[str, Any]] = []
    ids: set[int] = set()
    for n, raw in enumerate(items, start=1):
        item = raw if isinstance(raw, PassOver) else PassOver(**dict(raw))
        prefix = f"passed_over.{n}"
        candidate = _candidate(publicity, item.candidate, f"{prefix}.candidate")
        if item.reason not in PASS_OVER_REASONS:
            raise InvalidInput(
                _(
                    "A candidate is passed over only for a statutory reason: it gave up, cannot "
                    "perform, or was found ineligible."
                ),
                field=f"{prefix}.reason",
                rule=rule.key,
                article=rule.article,
            )
        if candidate.pk in ids:
            raise InvalidInput(
                _("%(bidder)s is listed twice.") % {"bidder": candidate.bidder.name},
                field=f"{prefix}.candidate",
                rule="unique_candidate",
            )
        ids.add(candidate.pk)
        out.append(
            {
                "candidate": candidate.pk,
                "bidder": candidate.bidder.credit_code,
                "name": candidate.bidder.name,
                "reason": item.reason,
                "explanation": clean_text(item.explanation, f"{prefix}.explanation", 2000),
            }
        )
    return out, ids


@service
def decide_award(
    actor: Actor,
    publicity: Publicity,
    *,
    passed_over: Iterable[PassOver | Mapping[str, Any]] = (),
    votes: Iterable[Mapping[str, Any]] = (),
    winner: Any = None,
    reasons: str = "",
) -> Decision:
    """Decide the winner of a section (定标) once its publicity has ended, by the tenderer.

    Without a separated award the first-ranked candidate wins; candidates the tenderer passes over
    for a statutory reason (``passed_over``, Reg art. 55) must be the first ones in rank order, and
    the next one wins. With a separated award (评定分离) the tender's announced method decides
    among the candidates not passed over: ``votes`` (票决: at least 3 members, one vote each, the
    most votes wins, a tie is refused), a verifiable lottery (抽签: a draw of ``openbid-draw-v1``
    seeded by the next ledger checkpoint, performed at once) or ``winner`` with ``reasons``
    (集体议事). The decision, its method and reasons are published; the tender is awarded once
    every section is decided; the written report to the regulator falls due.
    """
    tender = publicity.tender
    org = _require_tenderer(actor, tender, _("Deciding the award"))
    user = signed_in(actor)
    Tender.objects.select_for_update(of=("self",)).get(pk=tender.pk)
    publicity = Publicity.objects.select_related("tender__project__tenderer", "section").get(
        pk=publicity.pk
    )
    tender = publicity.tender
    now = clock.now()
    if publicity_open(publicity, now):
        minimum = _rule("publicity_min", tender)
        raise Conflict(
            _("The candidates are in publicity until %(end)s; the award is decided afterwards.")
            % {"end": documents.when(publicity.ends_at)},
            field="publicity",
            rule=minimum.key,
            article=minimum.article,
            at=publicity.ends_at,
        )
    _require_not_blocked(tender, _("Deciding the award"))
    if Decision.objects.filter(publicity=publicity).exists():
        raise Conflict(
            _("The award of this section is decided already."),
            field="publicity",
            rule="decision_once",
        )
    skipped, skipped_ids = _pass_overs(publicity, passed_over)
    candidates = list(publicity.candidates.select_related("bidder").order_by("position"))
    eligible = [c for c in candidates if c.pk not in skipped_ids]
    first_rule = _rule("award_first_candidate", tender)
    if not eligible:
        raise Conflict(
            _("No candidate is left to decide on: the tender is repeated (重新招标)."),
            field="passed_over",
            rule=first_rule.key,
            article=first_rule.article,
        )
    reasons = clean_text(reasons, "reasons", 5000, required=False)
    decision = Decision(
        publicity=publicity,
        status=Decision.Status.DECIDED,
        passed_over=skipped,
        decided_by=user,
        decided_by_org=org,
        started_at=now,
        reasons=reasons,
    )
    votes = list(votes)
    if not tender.separated_award:
        if votes or winner not in (None, ""):
            raise InvalidInput(
                _("Without a separated award the first-ranked candidate wins: no vote or choice."),
                field="winner",
                rule=first_rule.key,
                article=first_rule.article,
            )
        if [c.pk for c in candidates[: len(skipped_ids)]] != [
            c.pk for c in candidates if c.pk in skipped_ids
        ]:
            raise InvalidInput(
                _(
                    "Candidates are passed over in rank order: the first, then the second, never "
                    "a later one while an earlier one stays."
                ),
                field="passed_over",
                rule=first_rule.key,
                article=first_rule.article,
            )
        decision.method = Decision.Method.NEXT_RANKED if skipped else Decision.Method.FIRST_RANKED
        decision.winner = eligible[0]
        decision.save()
        return _finish(decision, actor, org)
    method = tender.award_method
    if method == Tender.AwardMethod.VOTE:
        decision.method = Decision.Method.VOTE
        if winner not in (None, ""):
            raise InvalidInput(
                _("A vote decides the winner: do not name one."),
                field="winner",
                rule="award_method",
            )
        ballots = _ballots(publicity, votes, skipped_ids)
        counts = Counter(c.pk for _m, c, _r in ballots)
        (top, most), *rest = counts.most_common()
        if rest and rest[0][1] == most:
            raise Conflict(
                _("The vote is tied at %(n)d votes: the decision committee votes again.")
                % {"n": most},
                field="votes",
                rule="vote_majority",
            )
        decision.winner = next(c for _m, c, _r in ballots if c.pk == top)
        decision.save()
        Vote.objects.bulk_create(
            Vote(decision=decision, member=m, candidate=c, reason=r) for m, c, r in ballots
        )
        return _finish(decision, actor, org)
    if votes:
        raise InvalidInput(
            _("This tender does not decide by vote."), field="votes", rule="award_method"
        )
    if method == Tender.AwardMethod.DELIBERATION:
        decision.method = Decision.Method.DELIBERATION
        chosen = _candidate(publicity, winner, "winner")
        if chosen.pk in skipped_ids:
            raise InvalidInput(
                _("%(bidder)s is passed over and cannot win.") % {"bidder": chosen.bidder.name},
                field="winner",
                rule=first_rule.key,
            )
        if len(reasons) < 10:
            raise InvalidInput(
                _("Collective deliberation records its reasons (at least 10 characters)."),
                field="reasons",
                rule="deliberation_reasons",
            )
        decision.winner = chosen
        decision.save()
        return _finish(decision, actor, org)
    # The lottery: commit the eligible candidates, seed from the next checkpoint, perform.
    if winner not in (None, ""):
        raise InvalidInput(
            _("The lottery decides the winner: do not name one."),
            field="winner",
            rule="award_method",
        )
    decision.method = Decision.Method.LOTTERY
    decision.status = Decision.Status.DRAWING
    decision.save()
    draw = draws.commit_draw(
        actor,
        purpose=LOTTERY_PURPOSE,
        subject=("section", publicity.section_id),
        groups=[{"name": "winner", "tag": None, "count": 1, "reserves": len(eligible) - 1}],
        candidates=[{"ref": _lottery_ref(c), "tags": []} for c in eligible],
        criteria={
            "tender": tender.pk,
            "section": publicity.section.number,
            "method": "award lottery among the candidates not passed over (评定分离 抽签)",
            "passed_over": [s["bidder"] for s in skipped],
        },
        actor_org=org,
    )
    decision.draw = draw
    decision.save(update_fields=["draw"])
    record_event(
        "award.lottery.committed",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(tender, publicity.section), ("draw", draw.pk)],
        payload={"decision": decision.pk, "draw": draw.pk, "inputs_sha256": draw.inputs_sha256},
    )
    draws.draw_now(draw)  # the handler below finishes the decision in the same transaction
    decision.refresh_from_db()
    return decision


def _lottery_ref(candidate: Candidate) -> str:
    return f"bidder:{candidate.bidder.credit_code}"


def _ballots(
    publicity: Publicity, votes: list[Mapping[str, Any]], skipped: set[int]
) -> list[tuple[str, Candidate, str]]:
    if len(votes) < 3:
        raise InvalidInput(
            _("A decision committee vote needs at least 3 members' votes."),
            field="votes",
            rule="vote_members",
        )
    out: list[tuple[str, Candidate, str]] = []
    members: set[str] = set()
    for n, vote in enumerate(votes, start=1):
        prefix = f"votes.{n}"
        if not isinstance(vote, Mapping):
            raise InvalidInput(
                _("Each vote names a member and a candidate."), field=prefix, rule="schema"
            )
        member = clean_text(vote.get("member"), f"{prefix}.member", 80)
        if member in members:
            raise InvalidInput(
                _("%(member)s has voted already: one vote each.") % {"member": member},
                field=f"{prefix}.member",
                rule="vote_members",
            )
        members.add(member)
        candidate = _candidate(publicity, vote.get("candidate"), f"{prefix}.candidate")
        if candidate.pk in skipped:
            raise InvalidInput(
                _("%(bidder)s is passed over and cannot win.") % {"bidder": candidate.bidder.name},
                field=f"{prefix}.candidate",
                rule="award_first_candidate",
            )
        reason = clean_text(vote.get("reason"), f"{prefix}.reason", 1000, required=False)
        out.append((member, candidate, reason))
    return out


@draws.on_performed(LOTTERY_PURPOSE)
def _lottery_performed(draw: Draw) -> None:
    """The lottery's draw is performed (now or by the clock loop): its first member wins."""
    decision = Decision.objects.select_for_update().filter(draw=draw).first()
    if decision is None or decision.status != Decision.Status.DRAWING:
        return
    assert draw.result is not None
    ref = draw.result["groups"][0]["members"][0]
    decision.winner = next(
        c for c in decision.publicity.candidates.select_related("bidder") if _lottery_ref(c) == ref
    )
    decision.status = Decision.Status.DECIDED
    decision.save(update_fields=["winner", "status"])
    _finish(decision, None, decision.decided_by_org)


def _finish(decision: Decision, actor: Actor, org: Organisation) -> Decision:
    """Publish the decision, start the written report's clock, and award the tender when every
    section with candidates is decided."""
    now = clock.now()
    decision.decided_at = now
    decision.text = documents.decision_text(decision)
    decision.sha256 = documents.sha256(decision.text)
    decision.save(update_fields=["decided_at", "text", "sha256"])
    publicity = decision.publicity
    tender = Tender.objects.select_for_update().get(pk=publicity.tender_id)
    report_rule = _rule("report_to_regulator", tender)
    WrittenReport.objects.get_or_create(
        tender=tender,
        defaults={"decided_at": now, "due_at": period_end(now, report_rule.int_value)},
    )
    undecided = tender.sections.exclude(
        publicity__decision__status=Decision.Status.DECIDED
    ).exists()
    if not undecided and tender.status == State.PUBLICITY:
        lifecycle.check("award", tender.status)
        tender.status = State.AWARDED
        tender.save(update_fields=["status"])
    winner = decision.winner
    assert winner is not None
    record_event(
        "award.decided",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(tender, publicity.section), ("organisation", winner.bidder_id)],
        payload={
            "decision": decision.pk,
            "method": decision.method,
            "winner": winner.bidder.credit_code,
            "name": winner.bidder.name,
            "price": str(winner.price),
            "reasons": decision.reasons,
            "passed_over": decision.passed_over,
            "votes": [
                {"member": v.member, "bidder": v.candidate.bidder.credit_code, "reason": v.reason}
                for v in decision.votes.select_related("candidate__bidder")
            ],
            "draw": decision.draw_id,
            "sha256": decision.sha256,
            "tender_status": tender.status,
        },
    )
    return decision


# --- 3. notices, result, written report ------------------------------------------------------------


def _decided(decision: Decision) -> Decision:
    decision = Decision.objects.select_related(
        "publicity__tender__project__tenderer", "publicity__section", "winner__bidder"
    ).get(pk=decision.pk)
    if decision.status != Decision.Status.DECIDED or decision.winner is None:
        raise Conflict(_("The award is not decided yet."), field="decision", rule="decision_first")
    return decision


@service
def prepare_notices(actor: Actor, decision: Decision) -> list[AwardNotice]:
    """Prepare the award notice (中标通知书) to the winner and a result notice to every other
    bidder with a valid bid in the section (``award_notice``, Law art. 45). They are issued
    together when the tenderer signs the award notice with its certificate."""
    decision = _decided(decision)
    tender = decision.publicity.tender
    org = require_manager(actor, tender.project, _("Preparing the award notices"))
    _require_not_blocked(tender, _("Preparing the award notices"))
    if decision.notices.exists():
        raise Conflict(
            _("The notices of this decision are prepared already."),
            field="decision",
            rule="notices_once",
        )
    winner = decision.winner
    assert winner is not None
    now = clock.now()
    others = (
        Organisation.objects.filter(
            bids__section=decision.publicity.section, bids__status=Bid.Status.VALID
        )
        .exclude(pk=winner.bidder_id)
        .distinct()
        .order_by("credit_code")
    )
    rows = [AwardNotice(decision=decision, kind=AwardNotice.Kind.AWARD, recipient=winner.bidder)]
    rows += [
        AwardNotice(decision=decision, kind=AwardNotice.Kind.RESULT, recipient=o) for o in others
    ]
    for row in rows:
        row.text = (
            documents.award_notice_text(row)
            if row.kind == AwardNotice.Kind.AWARD
            else documents.result_notice_text(row)
        )
        row.sha256 = documents.sha256(row.text)
        row.prepared_at = now
    AwardNotice.objects.bulk_create(rows)
    record_event(
        "award.notices.prepared",
        actor=actor,
        actor_org=org,
        subjects=_subjects(tender, decision.publicity.section),
        payload={
            "decision": decision.pk,
            "notices": [
                {"kind": r.kind, "recipient": r.recipient.credit_code, "sha256": r.sha256}
                for r in rows
            ],
        },
    )
    return list(decision.notices.order_by("kind", "id"))


def issue_notices(notice: AwardNotice) -> None:
    """Issue every notice of the decision at once: the tenderer has just signed the award notice
    (called by the signature's callback, in its transaction). Publishes the result announcement
    (中标结果公告) and tells the deposits context (``hooks.on_result_published``)."""
    decision = notice.decision
    tender = decision.publicity.tender
    now = clock.now()
    decision.notices.filter(issued_at__isnull=True).update(issued_at=now)
    announcement = notices.publish(
        tender, Notice.Kind.RESULT, documents.result_announcement_text(decision, now), now
    )
    winner = decision.winner
    assert winner is not None
    contract_rule = _rule("contract_within", tender)
    record_event(
        "award.notices.issued",
        actor_org=tender.project.tenderer,
        subjects=[
            *_subjects(tender, decision.publicity.section),
            ("notice", announcement.pk),
            ("organisation", winner.bidder_id),
        ],
        payload={
            "decision": decision.pk,
            "award_notice": notice.pk,
            "award_notice_sha256": notice.sha256,
            "issued_at": now,
            "result_sha256": announcement.sha256,
            "contract_due_at": period_end(now, contract_rule.int_value),
            "rule": contract_rule.key,
            "article": contract_rule.article,
        },
    )
    hooks.result_published(tender, [winner.bidder_id], now, section=decision.publicity.section)


def award_notice_of(decision: Decision) -> AwardNotice | None:
    return decision.notices.filter(kind=AwardNotice.Kind.AWARD).first()


def report_decisions(tender: Tender) -> list[Decision]:
    return list(
        Decision.objects.filter(publicity__tender=tender, status=Decision.Status.DECIDED)
        .select_related("publicity__section", "winner__bidder")
        .order_by("publicity__section__number")
    )


@service
def file_written_report(actor: Actor, tender: Tender) -> WrittenReport:
    """File the written report to the regulator (招标投标情况书面报告) — due within
    ``report_to_regulator`` days of deciding the winner (Law art. 47). Generated from the record:
    the project, the tender, each section's bids, publicity, decision and award notice. Filed
    after its due time it is accepted and flagged late."""
    org = require_manager(actor, tender.project, _("Filing the written report"))
    report = WrittenReport.objects.select_for_update().filter(tender=tender).first()
    if report is None:
        raise Conflict(
            _("The written report is due once the winner is decided."),
            field="tender",
            rule="decision_first",
        )
    if report.filed_at is not None:
        raise Conflict(
            _("The written report was filed on %(when)s.")
            % {"when": documents.when(report.filed_at)},
            field="tender",
            rule="report_once",
        )
    now = clock.now()
    report.text = documents.written_report_text(tender, report_decisions(tender), now)
    report.sha256 = documents.sha256(report.text)
    report.filed_at = now
    report.filed_by = signed_in(actor)
    report.late = now >= report.due_at
    report.save()
    rule = _rule("report_to_regulator", tender)
    record_event(
        "award.report.filed",
        actor=actor,
        actor_org=org,
        subjects=_subjects(tender),
        payload={
            "report": report.pk,
            "sha256": report.sha256,
            "due_at": report.due_at,
            "late": report.late,
            "rule": rule.key,
            "article": rule.article,
        },
    )
    return report


def report_warning_days() -> int:
    return int(getattr(settings, "OPENBID_AWARD_REPORT_WARNING_DAYS", 3))


def contract_warning_days() -> tuple[int, ...]:
    return tuple(getattr(settings, "OPENBID_AWARD_CONTRACT_WARNING_DAYS", (7, 1)))


def report_deadlines(now: dt.datetime | None = None) -> int:
    """Warn once when a written report is due within ``OPENBID_AWARD_REPORT_WARNING_DAYS`` days,
    and flag it once when it is overdue (the clock loop; idempotent)."""
    now = now or clock.now()
    done = 0
    soon = now + dt.timedelta(days=report_warning_days())
    for pk in WrittenReport.objects.filter(
        filed_at__isnull=True, warned_at__isnull=True, due_at__lte=soon
    ).values_list("pk", flat=True):
        done += _report_flag(pk, now, "due_soon")
    for pk in WrittenReport.objects.filter(
        filed_at__isnull=True, overdue_at__isnull=True, due_at__lte=now
    ).values_list("pk", flat=True):
        done += _report_flag(pk, now, "overdue")
    return done


@service
def _report_flag(pk: int, now: dt.datetime, what: str) -> int:
    report = (
        WrittenReport.objects.select_for_update(of=("self",)).select_related("tender").get(pk=pk)
    )
    if report.filed_at is not None:
        return 0
    if what == "due_soon":
        if report.warned_at is not None:
            return 0
        report.warned_at = now
        report.save(update_fields=["warned_at"])
    else:
        if report.overdue_at is not None:
            return 0
        report.overdue_at = now
        report.save(update_fields=["overdue_at"])
    rule = _rule("report_to_regulator", report.tender)
    record_event(
        f"award.report.{what}",
        subjects=_subjects(report.tender),
        payload={"report": report.pk, "due_at": report.due_at, "article": rule.article},
    )
    return 1


# --- 4. contracts ----------------------------------------------------------------------------------


def _require_centre(actor: Actor, action: str) -> User:
    return require_role(actor, Role.CENTRE_STAFF, action=action).user


@service
def create_template(actor: Actor, *, name: str, body: str, kind: str = "") -> ContractTemplate:
    """Add a contract template (合同范本), by centre staff; its ``${placeholders}`` must be ones the
    award fills (``documents.PLACEHOLDERS``)."""
    user = _require_centre(actor, _("Adding a contract template"))
    name = clean_text(name, "name", 120)
    body = clean_text(body, "body", 100_000)
    kind = (kind or "").strip()
    if kind and kind not in Tender.Kind.values:
        raise InvalidInput(_("Choose one of the listed values."), field="kind", rule="choice")
    found, valid = documents.template_placeholders(body)
    unknown = sorted(set(found) - set(documents.PLACEHOLDERS))
    if not valid or unknown:
        raise InvalidInput(
            _("Unknown placeholder %(name)s; the placeholders are: %(known)s.")
            % {
                "name": "${" + (unknown[0] if unknown else "?") + "}",
                "known": ", ".join("${" + k + "}" for k in documents.PLACEHOLDERS),
            },
            field="body",
            rule="template_placeholders",
        )
    template = ContractTemplate.objects.create(
        name=name, kind=kind, body=body, created_by=user, created_at=clock.now()
    )
    record_event(
        "award.template.created",
        actor=actor,
        subjects=[("contract_template", template.pk)],
        payload={
            "template": template.pk,
            "name": name,
            "kind": kind,
            "sha256": documents.sha256(body),
        },
    )
    return template


@service
def retire_template(actor: Actor, template: ContractTemplate) -> ContractTemplate:
    """Take a template out of use (contracts drafted from it keep their text)."""
    _require_centre(actor, _("Retiring a contract template"))
    template = ContractTemplate.objects.select_for_update().get(pk=template.pk)
    if not template.active:
        raise Conflict(_("The template is out of use already."), field="template", rule="template")
    template.active = False
    template.save(update_fields=["active"])
    record_event(
        "award.template.retired", actor=actor, subjects=[("contract_template", template.pk)]
    )
    return template


def _contract_values(
    contract: Contract, price: Decimal, duration_days: int, key_terms: str
) -> dict[str, str]:
    decision = contract.decision
    tender = decision.publicity.tender
    section = decision.publicity.section
    notice = award_notice_of(decision)
    return {
        "contract_number": contract.number,
        "tenderer": contract.tenderer.name,
        "tenderer_code": contract.tenderer.credit_code,
        "winner": contract.winner.name,
        "winner_code": contract.winner.credit_code,
        "project": tender.project.name,
        "project_code": tender.project.code,
        "tender": tender.title,
        "section": f"第{section.number}标段 {section.name}",
        "price": documents.money(price),
        "duration_days": str(duration_days),
        "key_terms": key_terms,
        "award_notice_date": documents.day(notice.issued_at if notice else None),
    }


def _duration(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = 0
    if isinstance(value, bool | float) or days < 1 or days > 3650:
        raise InvalidInput(
            _("The duration is a whole number of days from 1 to 3650."),
            field="duration_days",
            rule="range",
        )
    return days


def _new_version(
    contract: Contract, user: User, price: Decimal, duration: int, terms: str, reason: str
) -> ContractVersion:
    number = (
        contract.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    text = documents.contract_text(
        contract.template.body, _contract_values(contract, price, duration, terms)
    )
    if number > 1:
        text += f"（第{number}版，变更原因：{reason}）\n"
    return ContractVersion.objects.create(
        contract=contract,
        number=number,
        price=price,
        duration_days=duration,
        key_terms=terms,
        text=text,
        sha256=documents.sha256(text),
        reason=reason,
        created_by=user,
        created_at=clock.now(),
    )


@service
def draft_contract(
    actor: Actor,
    decision: Decision,
    *,
    template: ContractTemplate | int,
    duration_days: Any,
    key_terms: str,
    price: Any = None,
) -> Contract:
    """Draft the contract of an awarded section from a centre template, by the tenderer or its
    agency, once the award notice is issued. The price is the winning bid's (the contract's main
    terms agree with the tender and the bid: ``contract_terms_match``, Reg art. 57); it is to be
    signed within ``contract_within`` days of the award notice (Law art. 46)."""
    decision = _decided(decision)
    tender = decision.publicity.tender
    org = require_manager(actor, tender.project, _("Drafting the contract"))
    user = signed_in(actor)
    _require_not_blocked(tender, _("Drafting the contract"))
    notice = award_notice_of(decision)
    if notice is None or notice.issued_at is None:
        raise Conflict(
            _("The contract is drafted once the award notice is signed and issued."),
            field="decision",
            rule="award_notice",
            article=_rule("award_notice", tender).article,
        )
    if Contract.objects.filter(decision=decision).exists():
        raise Conflict(
            _("This section's contract is drafted already; change it instead."),
            field="decision",
            rule="contract_once",
        )
    template_pk = template.pk if isinstance(template, ContractTemplate) else template
    found = ContractTemplate.objects.filter(pk=template_pk).first()
    if found is None or not found.active:
        raise InvalidInput(
            _("Choose a contract template in use."), field="template", rule="template"
        )
    winner = decision.winner
    assert winner is not None
    amount = winner.price if price in (None, "") else yuan(price, field="price")
    match = _rule("contract_terms_match", tender)
    if amount != winner.price:
        raise InvalidInput(
            _("The contract price is the winning bid's price, %(price)s.")
            % {"price": documents.money(winner.price)},
            field="price",
            rule=match.key,
            article=match.article,
        )
    duration = _duration(duration_days)
    terms = clean_text(key_terms, "key_terms", 20_000)
    within = _rule("contract_within", tender)
    assert notice.issued_at is not None
    contract = Contract.objects.create(
        decision=decision,
        number=f"HT-{tender.project.code}-{decision.publicity.section.number}",
        tenderer=tender.project.tenderer,
        winner=winner.bidder,
        template=found,
        due_at=period_end(notice.issued_at, within.int_value),
        created_at=clock.now(),
    )
    version = _new_version(contract, user, amount, duration, terms, "")
    record_event(
        "award.contract.drafted",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(tender, decision.publicity.section), ("contract", contract.pk)],
        payload={
            "contract": contract.pk,
            "number": contract.number,
            "version": version.number,
            "sha256": version.sha256,
            "price": str(amount),
            "due_at": contract.due_at,
            "rule": within.key,
            "article": within.article,
        },
    )
    return contract


def current_version(contract: Contract) -> ContractVersion:
    version = contract.versions.order_by("-number").first()
    assert version is not None
    return version


@service
def change_contract(
    actor: Actor,
    contract: Contract,
    *,
    reason: str,
    price: Any = None,
    duration_days: Any = None,
    key_terms: str | None = None,
) -> ContractVersion:
    """Change a contract (合同变更): a new version with its reasons, to be signed again by both
    parties and then published. Before the first signing the price still must be the bid's
    (``contract_terms_match``)."""
    contract = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("decision__publicity__tender__project", "decision__winner", "template")
        .get(pk=contract.pk)
    )
    tender = contract.decision.publicity.tender
    org = require_manager(actor, tender.project, _("Changing the contract"))
    _require_not_blocked(tender, _("Changing the contract"), "sign_contract")
    reason = clean_text(reason, "reason", 2000)
    old = current_version(contract)
    amount = old.price if price in (None, "") else yuan(price, field="price")
    duration = old.duration_days if duration_days in (None, "") else _duration(duration_days)
    terms = old.key_terms if key_terms is None else clean_text(key_terms, "key_terms", 20_000)
    winner = contract.decision.winner
    assert winner is not None
    if contract.signed_at is None and amount != winner.price:
        match = _rule("contract_terms_match", tender)
        raise InvalidInput(
            _("The contract price is the winning bid's price, %(price)s.")
            % {"price": documents.money(winner.price)},
            field="price",
            rule=match.key,
            article=match.article,
        )
    if (amount, duration, terms) == (old.price, old.duration_days, old.key_terms):
        raise InvalidInput(
            _("The change changes nothing: give a new price, duration or key terms."),
            field="reason",
            rule="contract_change",
        )
    version = _new_version(contract, signed_in(actor), amount, duration, terms, reason)
    record_event(
        "award.contract.changed",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(tender), ("contract", contract.pk)],
        payload={
            "contract": contract.pk,
            "version": version.number,
            "sha256": version.sha256,
            "reason": reason,
            "price": str(amount),
            "duration_days": duration,
        },
    )
    return version


@service
def record_late_reason(actor: Actor, contract: Contract, *, reason: str) -> Contract:
    """After the statutory period (``contract_within``, Law art. 46) the contract is signed only
    once the tenderer has recorded why it is late; the contract is then flagged late."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    tender = contract.decision.publicity.tender
    org = _require_tenderer(actor, tender, _("Recording why the contract is late"))
    if contract.signed_at is not None or clock.now() < contract.due_at:
        raise Conflict(
            _("Only a contract not signed within its period needs a reason for being late."),
            field="contract",
            rule="contract_within",
        )
    contract.late_reason = clean_text(reason, "reason", 2000)
    contract.save(update_fields=["late_reason"])
    record_event(
        "award.contract.late_reason",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(tender), ("contract", contract.pk)],
        payload={
            "contract": contract.pk,
            "reason": contract.late_reason,
            "due_at": contract.due_at,
        },
    )
    return contract


def party_of(user: Any, contract: Contract) -> Organisation | None:
    """The contract party ``user`` signs for: the tenderer's staff or the winner's staff."""
    if has_role(user, Role.TENDERER_STAFF, organisation=contract.tenderer):
        return contract.tenderer
    if has_role(user, Role.BIDDER_STAFF, organisation=contract.winner):
        return contract.winner
    return None


def signing_parties(version: ContractVersion) -> set[int]:
    from openbid.award.signing import CONTRACT_KIND
    from openbid.crypto.models import DocumentSignature

    return set(
        DocumentSignature.objects.filter(
            kind=CONTRACT_KIND, document_id=version.contract_id, sha256=version.sha256
        ).values_list("organisation_id", flat=True)
    )


def contract_signed_by_one(version: ContractVersion) -> None:
    """A party has signed ``version`` (the signature's callback): once both have, the version is
    signed and published at once (合同订立公开); the first signed version closes the tender's
    award (``contracted`` when every section's contract is signed) and starts the deposit
    refunds (``hooks.on_contract_signed``)."""
    contract = Contract.objects.select_for_update().get(pk=version.contract_id)
    if signing_parties(version) != {contract.tenderer_id, contract.winner_id}:
        return
    now = clock.now()
    version.signed_at = version.published_at = now
    version.save(update_fields=["signed_at", "published_at"])
    first = contract.signed_at is None
    tender = Tender.objects.select_for_update().get(pk=contract.decision.publicity.tender_id)
    if first:
        contract.signed_at = now
        contract.late = now >= contract.due_at
        contract.save(update_fields=["signed_at", "late"])
        unsigned = tender.sections.exclude(
            publicity__decision__contract__signed_at__isnull=False
        ).exists()
        if not unsigned and tender.status == State.AWARDED:
            lifecycle.check("sign_contract", tender.status)
            tender.status = State.CONTRACTED
            tender.save(update_fields=["status"])
    record_event(
        "award.contract.published",
        actor_org=contract.tenderer,
        subjects=_contract_subjects(tender, contract),
        payload={
            "contract": contract.pk,
            "number": contract.number,
            "version": version.number,
            "sha256": version.sha256,
            "price": str(version.price),
            "duration_days": version.duration_days,
            "reason": version.reason,
            "signed_at": now,
            "late": contract.late,
            "tender_status": tender.status,
        },
    )
    if first:
        hooks.contract_signed(tender, contract.winner, now)


def contract_deadlines(now: dt.datetime | None = None) -> int:
    """Warn once at each of ``OPENBID_AWARD_CONTRACT_WARNING_DAYS`` days before an unsigned
    contract's due time, and flag it once when overdue (the clock loop; idempotent)."""
    now = now or clock.now()
    done = 0
    for pk in Contract.objects.filter(signed_at__isnull=True).values_list("pk", flat=True):
        done += _contract_flags(pk, now)
    return done


@service
def _contract_flags(pk: int, now: dt.datetime) -> int:
    contract = Contract.objects.select_for_update().get(pk=pk)
    if contract.signed_at is not None:
        return 0
    tender = contract.decision.publicity.tender
    done = 0
    if now >= contract.due_at:
        if contract.overdue_at is None:
            contract.overdue_at = now
            contract.save(update_fields=["overdue_at"])
            record_event(
                "award.contract.overdue",
                subjects=[*_subjects(tender), ("contract", contract.pk)],
                payload={"contract": contract.pk, "due_at": contract.due_at},
            )
            done += 1
        return done
    left = contract.due_at - now
    due = [d for d in contract_warning_days() if left <= dt.timedelta(days=d)]
    new = [d for d in due if d not in (contract.warned_days or [])]
    if new:
        contract.warned_days = sorted({*(contract.warned_days or []), *new}, reverse=True)
        contract.save(update_fields=["warned_days"])
        record_event(
            "award.contract.due_soon",
            subjects=[*_subjects(tender), ("contract", contract.pk)],
            payload={"contract": contract.pk, "due_at": contract.due_at, "days": min(new)},
        )
        done += 1
    return done


# --- performance and payments ----------------------------------------------------------------------


def _signed_contract(contract: Contract) -> Contract:
    contract = Contract.objects.select_related(
        "decision__publicity__tender__project__tenderer", "winner", "tenderer"
    ).get(pk=contract.pk)
    if contract.signed_at is None:
        raise Conflict(
            _("The contract is not signed by both parties yet."),
            field="contract",
            rule="contract_signed",
        )
    return contract


@service
def evaluate_performance(
    actor: Actor,
    contract: Contract,
    *,
    milestone: str,
    rating: str,
    comments: str,
    final: bool = False,
) -> PerformanceEvaluation:
    """The tenderer evaluates the winner's performance (履约评价) at a milestone or at the end
    (``performance_obligation``, Law art. 48). Nothing follows a final evaluation. Centre staff or
    a regulator forward it to the credit context (``forward_to_credit``)."""
    contract = _signed_contract(contract)
    tender = contract.decision.publicity.tender
    org = _require_tenderer(actor, tender, _("Evaluating performance"))
    if rating not in PerformanceEvaluation.Rating.values:
        raise InvalidInput(_("Choose one of the listed values."), field="rating", rule="choice")
    if contract.evaluations.filter(final=True).exists():
        raise Conflict(
            _("The final evaluation is recorded; nothing follows it."),
            field="final",
            rule="performance_final",
        )
    row = PerformanceEvaluation.objects.create(
        contract=contract,
        milestone=clean_text(milestone, "milestone", 120),
        final=bool(final),
        rating=rating,
        comments=clean_text(comments, "comments", 5000),
        evaluated_on=clock.today(),
        evaluated_by=signed_in(actor),
        created_at=clock.now(),
    )
    record_event(
        "award.performance.evaluated",
        actor=actor,
        actor_org=org,
        subjects=_contract_subjects(tender, contract),
        payload={
            "evaluation": row.pk,
            "contract": contract.pk,
            "milestone": row.milestone,
            "final": row.final,
            "rating": row.rating,
            "comments": row.comments,
        },
    )
    return row


# A performance rating as a credit category; a "qualified" performance is neither news for credit.
CREDIT_CATEGORY = {
    PerformanceEvaluation.Rating.EXCELLENT: "good",
    PerformanceEvaluation.Rating.GOOD: "good",
    PerformanceEvaluation.Rating.POOR: "minor",
    PerformanceEvaluation.Rating.UNQUALIFIED: "ordinary",
}


@service
def forward_to_credit(actor: Actor, evaluation: PerformanceEvaluation) -> Any:
    """Record a performance evaluation in the credit context (``record_credit``, source
    ``performance``), by centre staff or a regulator — the people who record credit information.
    The issuing body is the tenderer, the document number the evaluation's; excellent and good
    are good information, poor minor and unqualified ordinary dishonesty, valid one year; a
    qualified performance is not credit news and is refused."""
    from openbid.credit import services as credit

    evaluation = (
        PerformanceEvaluation.objects.select_for_update(of=("self",))
        .select_related(
            "contract__winner", "contract__tenderer", "contract__decision__publicity__tender"
        )
        .get(pk=evaluation.pk)
    )
    if evaluation.credit_record_id is not None:
        raise Conflict(
            _("This evaluation is recorded in the credit context already."),
            field="evaluation",
            rule="credit_once",
        )
    category = CREDIT_CATEGORY.get(evaluation.rating)  # type: ignore[call-overload]
    if category is None:
        raise Conflict(
            _("A qualified performance is neither good nor dishonesty information."),
            field="rating",
            rule="credit_category_fits_source",
        )
    contract = evaluation.contract
    tender = contract.decision.publicity.tender
    basis = _rule("performance_obligation", tender)
    start = evaluation.evaluated_on
    record = credit.record_credit(
        actor,
        organisation=contract.winner,
        source="performance",
        category=category,
        title=f"履约评价（{evaluation.get_rating_display()}）：{contract.number} {evaluation.milestone}",
        facts=(
            f"{contract.tenderer.name}对合同{contract.number}（{tender.title}）"
            f"的履约评价：{evaluation.milestone}，{evaluation.get_rating_display()}。"
            f"{evaluation.comments}"
        ),
        legal_basis=f"《中华人民共和国招标投标法》第四十八条（{basis.title_zh}）",
        issuing_body=contract.tenderer.name,
        document_number=f"{contract.number}-PE{evaluation.pk}",
        decided_on=start,
        valid_from=start,
        valid_until=start.replace(year=start.year + 1) - dt.timedelta(days=1)
        if not (start.month == 2 and start.day == 29)
        else start + dt.timedelta(days=364),
    )
    evaluation.credit_record = record
    evaluation.save(update_fields=["credit_record"])
    record_event(
        "award.performance.forwarded",
        actor=actor,
        subjects=[("contract", contract.pk), ("organisation", contract.winner_id)],
        payload={"evaluation": evaluation.pk, "credit_record": record.number},
    )
    return record


@service
def record_payment(
    actor: Actor,
    contract: Contract,
    *,
    amount: Any,
    paid_on: Any,
    milestone: str,
    reference: str,
) -> Payment:
    """Attach a payment record to a signed contract (by the tenderer, who pays): a positive amount
    in yuan, paid on or after the signing and not in the future, a reference used once; payments
    never add up to more than the contract price in force."""
    contract = _signed_contract(contract)
    tender = contract.decision.publicity.tender
    org = _require_tenderer(actor, tender, _("Recording a payment"))
    Contract.objects.select_for_update().get(pk=contract.pk)
    value = yuan(amount, field="amount")
    if value <= 0:
        raise InvalidInput(_("A payment is a positive amount."), field="amount", rule="money_range")
    day = _date(paid_on, "paid_on")
    assert contract.signed_at is not None
    if day > clock.today() or day < timezone.localdate(contract.signed_at):
        raise InvalidInput(
            _("A payment is dated between the signing (%(signed)s) and today.")
            % {"signed": documents.day(contract.signed_at)},
            field="paid_on",
            rule="payment_date",
        )
    reference = clean_text(reference, "reference", 80)
    if contract.payments.filter(reference=reference).exists():
        raise Conflict(
            _("The payment %(ref)s is recorded already.") % {"ref": reference},
            field="reference",
            rule="payment_once",
        )
    price = signed_price(contract)
    paid = contract.payments.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    if paid + value > price:
        raise InvalidInput(
            _("Payments would total %(total)s, more than the contract price %(price)s.")
            % {"total": documents.money(paid + value), "price": documents.money(price)},
            field="amount",
            rule="payments_within_price",
        )
    row = Payment.objects.create(
        contract=contract,
        amount=value,
        paid_on=day,
        milestone=clean_text(milestone, "milestone", 120),
        reference=reference,
        recorded_by=signed_in(actor),
        recorded_at=clock.now(),
    )
    record_event(
        "award.payment.recorded",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(tender), ("contract", contract.pk)],
        payload={
            "payment": row.pk,
            "contract": contract.pk,
            "amount": str(value),
            "paid_on": day,
            "milestone": row.milestone,
            "reference": reference,
        },
    )
    return row


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(_("A date is written YYYY-MM-DD."), field=field, rule="date") from None


def signed_price(contract: Contract) -> Decimal:
    """The price of the latest version signed by both parties."""
    version = contract.versions.filter(signed_at__isnull=False).order_by("-number").first()
    return version.price if version is not None else Decimal("0.00")


def payments_of(
    contract: Contract,
    *,
    milestone: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[list[Payment], Decimal]:
    """A contract's payments (optionally of one milestone, within dates) and their total."""
    qs = contract.payments.order_by("paid_on", "id")
    if milestone:
        qs = qs.filter(milestone=milestone)
    if since:
        qs = qs.filter(paid_on__gte=since)
    if until:
        qs = qs.filter(paid_on__lte=until)
    rows = list(qs)
    return rows, sum((p.amount for p in rows), Decimal("0.00"))


# --- reading ---------------------------------------------------------------------------------------


def publicities_of(tender: Tender) -> list[Publicity]:
    return list(
        Publicity.objects.filter(tender=tender)
        .select_related("section", "notice")
        .order_by("section__number")
    )


def get_publicity(pk: int) -> Publicity:
    found = Publicity.objects.select_related("tender__project", "section").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such publicity."), field="publicity", rule="exists")
    return found


def get_decision(pk: int) -> Decision:
    found = Decision.objects.select_related("publicity__tender__project").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such decision."), field="decision", rule="exists")
    return found


def get_contract(pk: int) -> Contract:
    found = (
        Contract.objects.select_related(
            "decision__publicity__tender__project", "winner", "tenderer"
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No such contract."), field="contract", rule="exists")
    return found


def may_see_contract(user: Any, contract: Contract) -> bool:
    """Parties, the tender's managers, centre staff, regulators and auditors see every version;
    everyone sees the published ones."""
    if party_of(user, contract) is not None:
        return True
    if has_role(user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR):
        return True
    try:
        require_manager(user, contract.decision.publicity.tender.project, "")
    except NotAllowed:
        return False
    return True


def may_see_notice(user: Any, notice: AwardNotice) -> bool:
    if has_role(user, Role.BIDDER_STAFF, organisation=notice.recipient):
        return True
    if has_role(user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR):
        return True
    try:
        require_manager(user, notice.decision.publicity.tender.project, "")
    except NotAllowed:
        return False
    return True
