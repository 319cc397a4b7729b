"""The evaluation session (评标): remote multi-venue evaluation, clearing, blind technical review,
scoring, the report signed by every member, and the members' fees.

Everything here is a service (one transaction, a ledger event) over the committee drawn by
``openbid.evaluation.committee``; the figures come from the pure engines (``clearing``,
``similarity``, ``blind``, ``scoring``, ``report_pdf``). The order of things:

1. **Start** (``open_session``, the tender's managers or centre staff): once the committee is
   formed. Venues are named (one main venue 主场, any secondary venues 副场); the tender goes to
   ``evaluating``; the platform clears the opened bids (arithmetic, ceiling, abnormally low
   prices, required items: ``clearing.clear``) and compares their packages (``similarity.compare``
   over the files' SHA-256, the authoring fingerprint and the text of ``.txt`` files — no PDF text
   library is a dependency, so PDF text is not extracted); findings that need the bidder's word
   become clarification requests. A 32-byte secret is drawn for the blind review and the plan's
   commitment goes to the ledger; under the base-price formula the coefficient K is drawn through
   the verifiable draw (``evaluation.price_coefficient``).
2. **Sign-in**: each member signs in at a venue with their certificate: the platform makes a
   sign-in document (session, seat, venue, a nonce) and the member signs its SHA-256
   (``evaluation-sign-in``). Only signed-in members score, post to the discussion record or sign.
3. **Blind technical review** (暗标, 错位评审): every member sees the technical files (bid files
   whose name contains the tender's ``technical_marker``, 技术标 by default) under codes, in their
   own order, never the bidder; they score, submit the points, give reasons for scores far from
   the others', and sign the sheet (``evaluation-scores``). When every technical sheet is signed,
   the plan and secret are published and ``blind.verify`` recomputes them.
4. **Commercial review** (comprehensive scoring with commercial factors): the same, by bid.
5. **Results** (the chair): comprehensive scoring or the lowest evaluated price (with the chair's
   adjustments, each with a reason); ties left after the announced tie-breaks go to a verifiable
   draw (``evaluation.tie``).
6. **Report** (the chair generates it; every member signs its SHA-256, ``evaluation-report``):
   when the last member signs, the session is complete, the fees are recorded, and
   ``signals.report_signed`` fires (the award context moves the tender to publicity); the
   committee's names are then published if the tender is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from decimal import ROUND_CEILING, Decimal
from typing import Any

import rfc8785
from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, has_role, signed_in
from openbid.accounts.regions import require_region
from openbid.accounts.roles import Role
from openbid.core import clock, holds
from openbid.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, service
from openbid.crypto import document_signatures
from openbid.crypto.models import DocumentSignature
from openbid.draws import services as draws
from openbid.draws.models import Draw
from openbid.evaluation import blind, clearing, report_pdf, scoring, signals, similarity
from openbid.evaluation import committee as committees
from openbid.evaluation.models import (
    Attendance,
    ClarificationRequest,
    Committee,
    CommitteeMember,
    EvaluationSession,
    ExpertFee,
    Message,
    PriceAdjustment,
    Report,
    Score,
    ScoreSheet,
    Venue,
)
from openbid.opening import services as opening
from openbid.opening.models import OpenedBid
from openbid.tendering import evaluation_rules, lifecycle
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender

SIGN_IN_KIND = "evaluation-sign-in"
SCORES_KIND = "evaluation-scores"
REPORT_KIND = "evaluation-report"
COEFFICIENT_PURPOSE = "evaluation.price_coefficient"
TIE_PURPOSE = "evaluation.tie"
MAX_CANDIDATES = 3
Status = EvaluationSession.Status
Part = ScoreSheet.Part

_EXPERT_CATEGORIES = {Part.TECHNICAL: ("technical",), Part.COMMERCIAL: ("commercial",)}


def _digest(doc: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


# --- reading --------------------------------------------------------------------------------------


def session_of(tender: Tender) -> EvaluationSession | None:
    return (
        EvaluationSession.objects.select_related("tender__project", "committee")
        .filter(tender=tender)
        .first()
    )


def _lock(session: EvaluationSession) -> EvaluationSession:
    return (
        EvaluationSession.objects.select_for_update(of=("self",))
        .select_related("tender__project", "committee")
        .get(pk=session.pk)
    )


def members(session: EvaluationSession) -> list[CommitteeMember]:
    """The confirmed members, by seat."""
    return list(
        session.committee.members.filter(status=CommitteeMember.Status.CONFIRMED)
        .select_related("expert__employer", "user")
        .order_by("pk")
    )


def labels(session: EvaluationSession) -> dict[int, str]:
    """Seat → ``E1``, ``E2``…: how the working names members (their names are secret until the
    result is published; the report's committee table maps labels to names)."""
    return {m.pk: f"E{n}" for n, m in enumerate(members(session), start=1)}


def bids(session: EvaluationSession) -> list[OpenedBid]:
    """The opened bids under evaluation, in reading order (clearing's invalid ones left out)."""
    rejected = {b["bid"] for b in session.clearing.get("bids", []) if b.get("invalid")}
    return [
        b
        for b in OpenedBid.objects.filter(
            session__tender_id=session.tender_id, status=OpenedBid.Status.OPENED
        )
        .select_related("bid__organisation")
        .order_by("order")
        if b.pk not in rejected
    ]


def member_for(actor: Actor, session: EvaluationSession) -> CommitteeMember:
    user = signed_in(actor)
    member = committees.member_of(user, session.committee)
    if member is None:
        raise NotAllowed(
            _("Only the committee's members take part in the evaluation."),
            rule="committee_member",
        )
    return member


def signed_in_at(session: EvaluationSession, member: CommitteeMember) -> Attendance | None:
    return (
        session.attendance.filter(member=member, signed_in_at__isnull=False)
        .select_related("venue")
        .first()
    )


def _require_present(session: EvaluationSession, member: CommitteeMember) -> None:
    if signed_in_at(session, member) is None:
        raise Conflict(
            _("Sign in at your venue with your certificate first."),
            field="session",
            rule="signed_in",
        )


def _require_open(session: EvaluationSession) -> None:
    if session.status in (Status.REPORTING, Status.COMPLETED):
        raise Conflict(
            _("The evaluation is over: its report is written."),
            field="session",
            rule="session_over",
        )


def criteria(session: EvaluationSession, part: str | None = None) -> list[dict[str, Any]]:
    found = session.rules["criteria"]
    if part is None:
        return list(found)
    return [c for c in found if c["category"] in _EXPERT_CATEGORIES[Part(part)]]


def parts(session: EvaluationSession) -> list[str]:
    return [p for p in (Part.TECHNICAL, Part.COMMERCIAL) if criteria(session, p)]


def signer_organisation(member: CommitteeMember, tender: Tender) -> Organisation:
    """The organisation a member signs for: an expert's employer; a representative's tenderer or
    agency."""
    if member.expert is not None:
        return member.expert.employer
    project = tender.project
    if project.agency is not None and has_role(
        member.user, Role.AGENCY_STAFF, organisation=project.agency
    ):
        return project.agency
    return project.tenderer


# --- starting -------------------------------------------------------------------------------------


def _clean_venues(venues: Any) -> list[dict[str, str]]:
    if not isinstance(venues, list) or not venues or len(venues) > 20:
        raise InvalidInput(
            _("Name the main venue and any secondary venues (at most 20)."),
            field="venues",
            rule="venues",
        )
    out = []
    for v in venues:
        if not isinstance(v, dict):
            raise InvalidInput(_("A venue is a kind, a name and a region."), field="venues")
        kind = str(v.get("kind") or "")
        name = str(v.get("name") or "").strip()
        if kind not in Venue.Kind.values or not name or len(name) > 120:
            raise InvalidInput(
                _("A venue is main or secondary, with a name of at most 120 characters."),
                field="venues",
                rule="venues",
            )
        region = require_region(str(v.get("region_code") or ""), field="venues").code
        out.append({"kind": kind, "name": name, "region_code": region})
    if sum(1 for v in out if v["kind"] == Venue.Kind.MAIN) != 1:
        raise InvalidInput(
            _("An evaluation has exactly one main venue (主场)."), field="venues", rule="main_venue"
        )
    return out


def _label(opened: OpenedBid) -> str:
    return opened.bid.organisation.name


def _items(form: dict[str, Any]) -> list[clearing.PricedItem]:
    """Priced items declared in the bid form (``items``: code, quantity, unit_price, total)."""
    out = []
    for item in form.get("items") or []:
        try:
            out.append(
                clearing.PricedItem(
                    code=str(item["code"]),
                    quantity=Decimal(str(item["quantity"])),
                    unit_price=Decimal(str(item["unit_price"])),
                    total=Decimal(str(item["total"])),
                    name=str(item.get("name", "")),
                )
            )
        except (KeyError, TypeError, ArithmeticError):
            continue
    return out


def _clearing(tender: Tender, rules: dict[str, Any], opened: list[OpenedBid]) -> dict[str, Any]:
    section = tender.sections.get()
    result = clearing.clear(
        [
            clearing.BidPrices(_label(b), Decimal(str(b.price)), _items(b.form or {}))
            for b in opened
        ],
        clearing.ClearingRules(
            ceiling=section.ceiling_price,
            low_below_others_mean_percent=Decimal(rules["abnormally_low_percent"]),
            required_items=tuple(rules["required_items"]),
        ),
    )
    by_label = {_label(b): b for b in opened}
    rows = []
    for label, cleared in result.bids.items():
        rows.append(
            {
                "bid": by_label[label].pk,
                "order": by_label[label].order,
                "bidder": label,
                "price": str(cleared.price),
                "corrected_price": str(cleared.corrected_price),
                "invalid": cleared.invalid,
                "findings": [
                    {
                        "kind": f.kind.value,
                        "severity": f.severity.value,
                        "rule": f.rule,
                        "source": f.source,
                        "item": f.item,
                        "numbers": {k: str(v) for k, v in f.numbers.items()},
                    }
                    for f in cleared.findings
                ],
            }
        )
    rows.sort(key=lambda r: int(str(r["order"])))
    return {"ceiling": str(section.ceiling_price or ""), "bids": rows}


def _similarity(opened: list[OpenedBid]) -> dict[str, Any]:
    documents = []
    for b in opened:
        package = opening.opened_package(b)
        text = "\n".join(
            data.decode("utf-8", errors="replace")
            for name, data in sorted(package.files.items())
            if name.lower().endswith(".txt")
        )
        documents.append(similarity.BidDocuments.from_manifest(_label(b), package.manifest, text))
    report = similarity.compare(documents)
    return {
        "source": "files' SHA-256, authoring fingerprint, text of .txt files",
        "threshold": str(report.rules.threshold),
        "similar": [
            {"a": p.a, "b": p.b, "estimate": str(p.estimate), "exact": str(p.exact)}
            for p in report.similar
        ],
        "duplicate_files": [
            {"sha256": d.sha256, "copies": [list(c) for c in d.copies]}
            for d in report.duplicate_files
        ],
        "shared_fingerprints": [
            {"field": s.field, "value": s.value, "bidders": list(s.bidders)}
            for s in report.shared_fingerprints
        ],
        "no_text": list(report.no_text),
        "flagged_pairs": [list(p) for p in report.flagged_pairs],
    }


def _question(finding: dict[str, Any]) -> str:
    n = finding["numbers"]
    if finding["kind"] == clearing.FindingKind.ABNORMALLY_LOW:
        return _(
            "Your price appears abnormally low (%(numbers)s). Explain how it is made up and show "
            "that it is not below your cost."
        ) % {"numbers": ", ".join(f"{k} {v}" for k, v in n.items())}
    return _("Please confirm or explain: %(kind)s (%(numbers)s).") % {
        "kind": finding["kind"],
        "numbers": ", ".join(f"{k} {v}" for k, v in n.items()),
    }


@service
def open_session(
    actor: Actor, tender: Tender, *, venues: list[dict[str, Any]]
) -> EvaluationSession:
    """Start the evaluation of ``tender`` (its managers or centre staff) once its committee is
    formed: venues, the tender to ``evaluating``, clearing and the similarity check, clarification
    requests for findings needing the bidder's word, the blind-review secret and the commitment to
    its plan, and (base-price formula) the commitment of the draw of K."""
    tender = (
        Tender.objects.select_for_update(of=("self",)).select_related("project").get(pk=tender.pk)
    )
    user, org = committees._manager_or_staff(actor, tender, _("Starting the evaluation"))
    committee = Committee.objects.filter(tender=tender).first()
    if committee is None or committee.status != Committee.Status.FORMED:
        raise Conflict(
            _("The evaluation starts once the committee is formed."),
            field="tender",
            rule="committee_formed",
        )
    if EvaluationSession.objects.filter(tender=tender).exists():
        raise Conflict(_("The evaluation has started already."), field="tender", rule="unique")
    lifecycle.check("start_evaluation", tender.status)
    # A pending objection or a regulator's suspension order stops the evaluation (Reg arts. 22,
    # 62): refused at write time, naming the case.
    holds.require_no_hold(tender, "start_evaluation")
    if tender.sections.count() != 1:
        raise Conflict(
            _(
                "The platform evaluates one-section tenders; evaluate each section as its own tender."
            ),
            field="tender",
            rule="one_section",
        )
    clean_venues = _clean_venues(venues)
    rules = evaluation_rules.effective(tender)
    opened = list(
        OpenedBid.objects.filter(session__tender=tender, status=OpenedBid.Status.OPENED)
        .select_related("bid__organisation")
        .order_by("order")
    )
    if not opened:
        raise Conflict(_("No bid was opened."), field="tender", rule="no_bids")
    seated = list(committee.members.filter(status=CommitteeMember.Status.CONFIRMED).order_by("pk"))
    cleared = _clearing(tender, rules, opened)
    rejected = {b["bid"] for b in cleared["bids"] if b["invalid"]}
    evaluated = [b for b in opened if b.pk not in rejected]
    if not evaluated:
        raise Conflict(
            _("Every opened bid fails clearing: there is nothing to evaluate."),
            field="tender",
            rule="no_valid_bids",
        )
    secret = secrets.token_bytes(blind.SECRET_BYTES)
    plan = blind.plan([b.pk for b in evaluated], [m.pk for m in seated], secret)
    now = clock.now()
    session = EvaluationSession.objects.create(
        tender=tender,
        committee=committee,
        rules=rules,
        clearing=cleared,
        similarity=_similarity(evaluated),
        blind_secret=secret,
        blind_commitment=plan.commitment(),
        blind_codes={str(k): v for k, v in plan.codes.items()},
        opened_by=user,
        opened_at=now,
    )
    for v in clean_venues:
        Venue.objects.create(session=session, **v)
    tender.status = State.EVALUATING
    tender.save(update_fields=["status"])
    for part in parts(session):
        for m in seated:
            ScoreSheet.objects.create(session=session, member=m, part=part)
    asked = 0
    for row in cleared["bids"]:
        for finding in row["findings"]:
            if finding["severity"] in (
                clearing.Severity.CLARIFICATION,
                clearing.Severity.CONFIRMATION,
            ):
                ClarificationRequest.objects.create(
                    session=session,
                    bid_id=row["bid"],
                    finding=finding["kind"],
                    question=_question(finding),
                    asked_at=now,
                )
                asked += 1
    record_event(
        "evaluation.session.started",
        actor=user,
        actor_org=org,
        subjects=[("tender", tender.pk), ("committee", committee.pk), ("evaluation", session.pk)],
        payload={
            "session": session.pk,
            "method": tender.evaluation_method,
            "rules_sha256": _digest(rules),
            "venues": clean_venues,
            "bids": len(opened),
            "rejected_at_clearing": sorted(rejected),
            "clearing_sha256": _digest(cleared),
            "similarity_sha256": _digest(session.similarity),
            "clarifications": asked,
            "blind_commitment": session.blind_commitment,
        },
    )
    if _needs_coefficient(session):
        _commit_coefficient(user, org, session)
    return session


def start_session(actor: Actor, tender: Tender, **kw: Any) -> EvaluationSession:
    """Open the session (one transaction), then perform the draw of K (another)."""
    session = open_session(actor, tender, **kw)
    perform_draws(session)
    session.refresh_from_db()
    return session


def perform_draws(session: EvaluationSession) -> int:
    done = 0
    for draw in draws.draws_of("tender", session.tender_id).filter(
        purpose__in=(COEFFICIENT_PURPOSE, TIE_PURPOSE), status=Draw.Status.COMMITTED
    ):
        draws.draw_now(draw)
        done += 1
    return done


# --- the coefficient K ------------------------------------------------------------------------


def _needs_coefficient(session: EvaluationSession) -> bool:
    return (
        session.tender.evaluation_method == Tender.Evaluation.COMPREHENSIVE
        and session.rules["price_formula"] == "base_price"
        and any(c["category"] == "price" for c in session.rules["criteria"])
    )


def coefficient_choices(rules: dict[str, Any]) -> list[Decimal]:
    c = rules["coefficient"]
    return scoring.coefficient_choices(Decimal(c["low"]), Decimal(c["high"]), Decimal(c["step"]))


def _commit_coefficient(user: User, org: Organisation | None, session: EvaluationSession) -> Draw:
    choices = coefficient_choices(session.rules)
    draw = draws.commit_draw(
        user,
        purpose=COEFFICIENT_PURPOSE,
        subject=("tender", session.tender_id),
        groups=[{"name": "coefficient", "tag": None, "count": 1, "reserves": 0}],
        candidates=[{"ref": f"k{i:04d}", "tags": []} for i in range(len(choices))],
        criteria={
            "coefficient": session.rules["coefficient"],
            "choices": [str(c) for c in choices],
            "index": "the drawn candidate k<index>",
        },
        actor_org=org,
    )
    session.coefficient_draw = draw
    session.save(update_fields=["coefficient_draw"])
    return draw


@draws.on_performed(COEFFICIENT_PURPOSE)
def apply_coefficient(draw: Draw) -> None:
    """K = the announced choice at the drawn index (runs in the transaction performing the draw)."""
    session = EvaluationSession.objects.select_for_update().get(coefficient_draw=draw)
    assert draw.result is not None
    index = int(draw.result["groups"][0]["members"][0].removeprefix("k"))
    c = session.rules["coefficient"]
    k = scoring.drawn_coefficient(Decimal(c["low"]), Decimal(c["high"]), Decimal(c["step"]), index)
    session.coefficient = str(k)
    session.coefficient_index = index
    session.save(update_fields=["coefficient", "coefficient_index"])
    record_event(
        "evaluation.session.coefficient_drawn",
        subjects=[("tender", session.tender_id), ("evaluation", session.pk), ("draw", draw.pk)],
        payload={"session": session.pk, "draw": draw.pk, "index": index, "coefficient": str(k)},
    )


# --- sign-in, discussion, clarifications ----------------------------------------------------------


@service
def check_in(actor: Actor, session: EvaluationSession, *, venue: Venue) -> Attendance:
    """A member asks to sign in at ``venue``: the platform makes the sign-in document, which the
    member then signs with their certificate (``evaluation-sign-in``, the attendance's id)."""
    session = _lock(session)
    member = member_for(actor, session)
    _require_open(session)
    found = Venue.objects.filter(pk=getattr(venue, "pk", 0) or 0, session=session).first()
    if found is None:
        raise InvalidInput(
            _("Choose one of this evaluation's venues."), field="venue", rule="venue"
        )
    if signed_in_at(session, member) is not None:
        raise Conflict(_("You have signed in already."), field="venue", rule="signed_in_once")
    now = clock.now()
    document = {
        "type": "openbid-evaluation-sign-in/1",
        "session": session.pk,
        "tender": session.tender_id,
        "seat": member.pk,
        "venue": {"id": found.pk, "name": found.name, "region_code": found.region_code},
        "nonce": secrets.token_hex(16),
        "requested_at": now.isoformat(),
    }
    attendance = session.attendance.filter(member=member, signed_in_at__isnull=True).first()
    if attendance is None:
        attendance = Attendance(session=session, member=member)
    attendance.venue = found
    attendance.document = document
    attendance.sha256 = _digest(document)
    attendance.requested_at = now
    attendance.save()
    record_event(
        "evaluation.session.sign_in_requested",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={"session": session.pk, "seat": member.pk, "venue": found.pk},
    )
    return attendance


def sign_in_signable(actor: Actor, attendance_id: int) -> document_signatures.Signable:
    attendance = (
        Attendance.objects.select_related("session__tender__project", "member__expert", "venue")
        .filter(pk=attendance_id)
        .first()
    )
    user = signed_in(actor)
    if attendance is None or committees.member_of(user, attendance.session.committee) != (
        attendance.member
    ):
        raise NotFound(_("No such sign-in of yours."), field="attendance", rule="exists")
    if attendance.signed_in_at is not None:
        raise Conflict(_("You have signed in already."), field="attendance", rule="signed_in_once")
    session = attendance.session
    _require_open(session)

    def on_signed(row: DocumentSignature) -> None:
        attendance.signed_in_at = clock.now()
        attendance.save(update_fields=["signed_in_at"])
        record_event(
            "evaluation.session.signed_in",
            actor=user,
            subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
            payload={
                "session": session.pk,
                "seat": attendance.member_id,
                "venue": attendance.venue_id,
                "venue_kind": attendance.venue.kind,
                "region_code": attendance.venue.region_code,
                "sha256": attendance.sha256,
                "signature": row.pk,
            },
        )

    return document_signatures.Signable(
        kind=SIGN_IN_KIND,
        document_id=attendance.pk,
        sha256=attendance.sha256,
        organisation=signer_organisation(attendance.member, session.tender),
        title=str(_("Sign-in at %(venue)s") % {"venue": attendance.venue.name}),
        subjects=(("tender", session.tender_id), ("evaluation", session.pk)),
        on_signed=on_signed,
    )


@service
def post_message(actor: Actor, session: EvaluationSession, *, text: str) -> Message:
    """A signed-in member adds to the discussion record (讨论记录)."""
    session = _lock(session)
    member = member_for(actor, session)
    _require_open(session)
    _require_present(session, member)
    text = (text or "").strip()
    if not text or len(text) > 4000:
        raise InvalidInput(_("Write 1 to 4000 characters."), field="text", rule="length")
    message = Message.objects.create(
        session=session, member=member, text=text, posted_at=clock.now()
    )
    record_event(
        "evaluation.session.message",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={"session": session.pk, "message": message.pk, "sha256": _digest(text)},
    )
    return message


@service
def ask_clarification(
    actor: Actor, session: EvaluationSession, *, bid: OpenedBid, question: str
) -> ClarificationRequest:
    """A signed-in member puts a question to a bidder through the platform (澄清、说明; it may
    not change the bid's substance, Law art. 39)."""
    session = _lock(session)
    member = member_for(actor, session)
    _require_open(session)
    _require_present(session, member)
    if getattr(bid, "pk", None) not in {b.pk for b in bids(session)}:
        raise InvalidInput(_("Ask about a bid under evaluation."), field="bid", rule="bid")
    question = (question or "").strip()
    if not question or len(question) > 4000:
        raise InvalidInput(_("Write 1 to 4000 characters."), field="question", rule="length")
    request = ClarificationRequest.objects.create(
        session=session, bid=bid, question=question, asked_at=clock.now()
    )
    record_event(
        "evaluation.clarification.asked",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk), ("bid", bid.bid_id)],
        payload={"session": session.pk, "request": request.pk, "seat": member.pk},
    )
    return request


@service
def answer_clarification(
    actor: Actor, request: ClarificationRequest, *, answer: str
) -> ClarificationRequest:
    """The bidder answers a clarification request, once, while the evaluation is under way."""
    user = signed_in(actor)
    request = (
        ClarificationRequest.objects.select_for_update(of=("self",))
        .select_related("session", "bid__bid__organisation")
        .get(pk=request.pk)
    )
    org = request.bid.bid.organisation
    if not has_role(user, Role.BIDDER_STAFF, organisation=org):
        raise NotAllowed(
            _("Only the bidder's staff answer its clarification requests."), rule="bidder"
        )
    if request.answered_at is not None:
        raise Conflict(_("This request is answered already."), field="answer", rule="answered")
    _require_open(request.session)
    answer = (answer or "").strip()
    if not answer or len(answer) > 10000:
        raise InvalidInput(_("Write 1 to 10000 characters."), field="answer", rule="length")
    request.answer = answer
    request.answered_by = user
    request.answered_at = clock.now()
    request.save(update_fields=["answer", "answered_by", "answered_at"])
    record_event(
        "evaluation.clarification.answered",
        actor=user,
        actor_org=org,
        subjects=[("tender", request.session.tender_id), ("evaluation", request.session_id)],
        payload={"request": request.pk, "sha256": _digest(answer)},
    )
    return request


def clarifications_for(user: Any) -> QuerySet[ClarificationRequest]:
    """The clarification requests to the organisations the bidder ``user`` works for."""
    orgs = [m.organisation_id for m in user.memberships.filter(role=Role.BIDDER_STAFF, active=True)]
    return (
        ClarificationRequest.objects.filter(bid__bid__organisation__in=orgs)
        .select_related("session__tender", "bid__bid__organisation")
        .order_by("-asked_at", "-pk")
    )


# --- the blind review -----------------------------------------------------------------------------


def _plan(session: EvaluationSession) -> blind.BlindPlan:
    experts = sorted(
        session.sheets.filter(part=Part.TECHNICAL).values_list("member_id", flat=True)
    ) or [m.pk for m in members(session)]
    return blind.plan(
        sorted(int(k) for k in session.blind_codes), experts, bytes(session.blind_secret)
    )


def code_of(session: EvaluationSession, bid_id: int) -> str:
    return str(session.blind_codes[str(bid_id)])


def _bid_of_code(session: EvaluationSession, code: str) -> int:
    for bid, c in session.blind_codes.items():
        if c == code:
            return int(bid)
    raise InvalidInput(
        _("%(code)s is not a code of this review.") % {"code": code}, field="bid", rule="code"
    )


def technical_names(session: EvaluationSession, opened: OpenedBid) -> list[str]:
    marker = session.rules["technical_marker"]
    files = opening.opened_package(opened).manifest.get("files", [])
    return sorted(str(f["name"]) for f in files if marker in str(f["name"]))


def _shown_name(code: str, n: int, name: str) -> str:
    ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
    return f"{code}-{n}.{ext}"


def blind_list(actor: Actor, session: EvaluationSession) -> list[dict[str, Any]]:
    """The technical bids in the member's own order, under codes: nothing names a bidder (the
    files are shown as ``<code>-<n>.<ext>``)."""
    member = member_for(actor, session)
    plan = _plan(session)
    order = plan.orders.get(member.pk)
    if order is None:
        raise NotAllowed(_("You have no place in this blind review."), rule="committee_member")
    by_pk = {b.pk: b for b in bids(session)}
    out = []
    for position, bid_pk in enumerate(order, start=1):
        code = plan.codes[bid_pk]
        names = technical_names(session, by_pk[bid_pk]) if bid_pk in by_pk else []
        out.append(
            {
                "position": position,
                "code": code,
                "files": [_shown_name(code, n, name) for n, name in enumerate(names, start=1)],
            }
        )
    return out


def technical_file(
    actor: Actor, session: EvaluationSession, code: str, n: int
) -> tuple[str, bytes]:
    """A technical file of the bid under ``code`` (its ``n``-th, from 1), for a member."""
    member_for(actor, session)
    bid_pk = _bid_of_code(session, code)
    opened = next((b for b in bids(session) if b.pk == bid_pk), None)
    names = technical_names(session, opened) if opened else []
    if opened is None or not 1 <= n <= len(names):
        raise NotFound(_("No such technical file."), field="file", rule="exists")
    data = opening.opened_package(opened).files[names[n - 1]]
    return _shown_name(code, n, names[n - 1]), data


def _reveal(session: EvaluationSession) -> None:
    plan = _plan(session)
    document = plan.document()
    blind.verify(document, session.blind_commitment)
    session.blind_plan = document
    session.revealed_at = clock.now()
    session.save(update_fields=["blind_plan", "revealed_at"])
    record_event(
        "evaluation.blind.revealed",
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={
            "session": session.pk,
            "commitment": session.blind_commitment,
            "plan": document,
        },
    )


def verify_blind(session: EvaluationSession) -> blind.BlindPlan:
    """Recompute the published plan from its secret and check the commitment (``ValueError``)."""
    if session.blind_plan is None:
        raise ValueError("the blind-review plan is not published yet")
    return blind.verify(session.blind_plan, session.blind_commitment)


# --- score sheets ---------------------------------------------------------------------------------


def sheet_for(actor: Actor, session: EvaluationSession, part: str) -> ScoreSheet:
    member = member_for(actor, session)
    sheet = session.sheets.filter(member=member, part=part).first()
    if sheet is None:
        raise NotFound(_("No such score sheet."), field="part", rule="exists")
    return sheet


def _require_stage(session: EvaluationSession, part: str) -> None:
    stage = Status.TECHNICAL if part == Part.TECHNICAL else Status.COMMERCIAL
    if session.status != stage:
        raise Conflict(
            _("This is not the time for %(part)s scores (the evaluation is at: %(status)s).")
            % {"part": Part(part).label, "status": Status(session.status).label},
            field="part",
            rule="stage",
        )


def _bid_ref(session: EvaluationSession, part: str, ref: Any) -> int:
    evaluated = {b.pk for b in bids(session)}
    if part == Part.TECHNICAL:
        pk = _bid_of_code(session, str(ref))
    else:
        try:
            pk = int(ref)
        except (TypeError, ValueError):
            pk = -1
    if pk not in evaluated:
        raise InvalidInput(_("Score a bid under evaluation."), field="bid", rule="bid")
    return pk


def _criterion(session: EvaluationSession, part: str, code: str) -> dict[str, Any]:
    found = next((c for c in criteria(session, part) if c["code"] == code), None)
    if found is None:
        raise InvalidInput(
            _("%(code)s is not a factor of this part.") % {"code": code},
            field="criterion",
            rule="score_unknown",
        )
    return found


def _points(c: dict[str, Any], points: Any, who: str, bidder: str) -> Decimal:
    criterion = scoring.Criterion(
        c["code"], scoring.Category(c["category"]), Decimal(c["max"]), Decimal(c["min"]), c["name"]
    )
    value = scoring.check_score(criterion, scoring.ExpertScore(who, bidder, c["code"], points))
    if c.get("pass_fail") and value not in (0, 1):
        raise InvalidInput(
            _("Factor %(code)s is pass (1) or fail (0).") % {"code": c["code"]},
            field="points",
            rule="pass_fail",
        )
    return value


@service
def save_scores(
    actor: Actor, session: EvaluationSession, part: str, rows: list[dict[str, Any]]
) -> ScoreSheet:
    """A signed-in member enters scores (``{"bid", "criterion", "points", "reason"}``; the bid
    by its code in the technical part, by id in the commercial part). Before submitting, points
    and reasons change; after, only reasons; after signing, nothing. Each score lies within its
    factor's range."""
    session = _lock(session)
    part = str(part)
    if part not in Part.values:
        raise InvalidInput(_("No such part."), field="part", rule="part")
    sheet = sheet_for(actor, session, part)
    _require_stage(session, part)
    _require_present(session, sheet.member)
    if sheet.signed_at is not None:
        raise Conflict(_("You have signed this sheet."), field="part", rule="sheet_signed")
    if not isinstance(rows, list) or not rows:
        raise InvalidInput(_("Send at least one score."), field="scores", rule="required")
    who = labels(session)[sheet.member_id]
    changed = []
    for row in rows:
        if not isinstance(row, dict):
            raise InvalidInput(_("Each score is a bid, a factor and points."), field="scores")
        bid_pk = _bid_ref(session, part, row.get("bid"))
        c = _criterion(session, part, str(row.get("criterion") or ""))
        points = _points(c, row.get("points"), who, str(row.get("bid")))
        reason = str(row.get("reason") or "").strip()[:2000]
        existing = sheet.scores.filter(bid_id=bid_pk, criterion=c["code"]).first()
        if sheet.submitted_at is not None and (existing is None or existing.points != points):
            raise Conflict(
                _("Your points are submitted: only reasons can still be given."),
                field="points",
                rule="sheet_submitted",
            )
        if existing is None:
            existing = Score(sheet=sheet, bid_id=bid_pk, criterion=c["code"])
        existing.points = points
        existing.reason = reason
        changed.append(existing)
    for score in changed:
        score.save()
    record_event(
        "evaluation.scores.saved",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={"session": session.pk, "sheet": sheet.pk, "part": part, "scores": len(changed)},
    )
    return sheet


def _missing(session: EvaluationSession, sheet: ScoreSheet) -> list[tuple[int, str]]:
    have = set(sheet.scores.values_list("bid_id", "criterion"))
    return [
        (b.pk, c["code"])
        for b in bids(session)
        for c in criteria(session, sheet.part)
        if (b.pk, c["code"]) not in have
    ]


@service
def submit_sheet(actor: Actor, session: EvaluationSession, part: str) -> ScoreSheet:
    """The member submits their points (every bid on every factor of the part); they can no
    longer change them, only give reasons, then sign."""
    session = _lock(session)
    sheet = sheet_for(actor, session, part)
    _require_stage(session, part)
    _require_present(session, sheet.member)
    if sheet.submitted_at is not None:
        raise Conflict(_("You have submitted this sheet."), field="part", rule="sheet_submitted")
    missing = _missing(session, sheet)
    if missing:
        raise InvalidInput(
            _("Score every bid on every factor first: %(n)d scores are missing.")
            % {"n": len(missing)},
            field="scores",
            rule="score_missing",
        )
    sheet.submitted_at = clock.now()
    sheet.save(update_fields=["submitted_at"])
    record_event(
        "evaluation.scores.submitted",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={"session": session.pk, "sheet": sheet.pk, "part": sheet.part},
    )
    return sheet


def _expert_scores(
    session: EvaluationSession, part: str, names: dict[int, str] | None = None
) -> list[scoring.ExpertScore]:
    """The part's scores for the engine: members by label, bids by ``names`` (default: id)."""
    seat = labels(session)
    return [
        scoring.ExpertScore(
            seat[s.sheet.member_id],
            names[s.bid_id] if names is not None else str(s.bid_id),
            s.criterion,
            Decimal(s.points),
            s.reason,
        )
        for s in Score.objects.filter(sheet__session=session, sheet__part=part).select_related(
            "sheet"
        )
    ]


def _scoring_criteria(
    session: EvaluationSession, part: str | None = None
) -> list[scoring.Criterion]:
    return [
        scoring.Criterion(
            c["code"],
            scoring.Category(c["category"]),
            Decimal(c["max"]),
            Decimal(c["min"]),
            c["name"],
        )
        for c in criteria(session, part)
    ]


def outliers(session: EvaluationSession, part: str) -> list[scoring.Outlier]:
    """Scores far from the other members' mean (once every sheet of the part is submitted)."""
    rule = scoring.OutlierRule(Decimal(session.rules["outlier_share"]))
    return list(
        scoring.find_outliers(_scoring_criteria(session, part), _expert_scores(session, part), rule)
    )


def all_submitted(session: EvaluationSession, part: str) -> bool:
    return not session.sheets.filter(part=part, submitted_at__isnull=True).exists()


def sheet_document(session: EvaluationSession, sheet: ScoreSheet) -> dict[str, Any]:
    """What a member signs: their scores of the part, the technical bids by code."""
    technical = sheet.part == Part.TECHNICAL
    return {
        "type": "openbid-evaluation-scores/1",
        "session": session.pk,
        "tender": session.tender_id,
        "seat": sheet.member_id,
        "part": sheet.part,
        "scores": sorted(
            (
                {
                    "bid": code_of(session, s.bid_id) if technical else str(s.bid_id),
                    "criterion": s.criterion,
                    "points": f"{Decimal(s.points):.2f}",
                    "reason": s.reason,
                }
                for s in sheet.scores.all()
            ),
            key=lambda r: (r["bid"], r["criterion"]),
        ),
    }


def sheet_signable(actor: Actor, sheet_id: int) -> document_signatures.Signable:
    user = signed_in(actor)
    sheet = (
        ScoreSheet.objects.select_related("session__tender__project", "member__expert__employer")
        .filter(pk=sheet_id)
        .first()
    )
    if sheet is None or committees.member_of(user, sheet.session.committee) != sheet.member:
        raise NotFound(_("No such score sheet of yours."), field="sheet", rule="exists")
    session = sheet.session
    _require_stage(session, sheet.part)
    _require_present(session, sheet.member)
    if sheet.signed_at is not None:
        raise Conflict(_("You have signed this sheet."), field="sheet", rule="sheet_signed")
    if sheet.submitted_at is None or not all_submitted(session, sheet.part):
        raise Conflict(
            _("Sign once every member has submitted their points (outlying scores need reasons)."),
            field="sheet",
            rule="sheets_submitted",
        )
    me = labels(session)[sheet.member_id]
    unreasoned = [
        o for o in outliers(session, sheet.part) if o.expert == me and not o.reason.strip()
    ]
    if unreasoned:
        o = unreasoned[0]
        bidder = code_of(session, int(o.bidder)) if sheet.part == Part.TECHNICAL else o.bidder
        raise InvalidInput(
            _(
                "Your %(points)s points for %(bid)s on %(criterion)s are %(deviation)s from the "
                "others' mean %(mean)s (more than %(limit)s): give a written reason first."
            )
            % {
                "points": o.points,
                "bid": bidder,
                "criterion": o.criterion,
                "deviation": scoring.round2(o.deviation),
                "mean": scoring.round2(o.others_mean),
                "limit": scoring.round2(o.limit),
            },
            field="reason",
            rule="score_outlier_reason",
        )
    digest = _digest(sheet_document(session, sheet))

    def on_signed(row: DocumentSignature) -> None:
        sheet.sha256 = digest
        sheet.signed_at = clock.now()
        sheet.save(update_fields=["sha256", "signed_at"])
        record_event(
            "evaluation.scores.signed",
            actor=user,
            subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
            payload={
                "session": session.pk,
                "sheet": sheet.pk,
                "part": sheet.part,
                "sha256": digest,
                "signature": row.pk,
            },
        )
        locked = _lock(session)
        if locked.sheets.filter(part=sheet.part, signed_at__isnull=True).exists():
            return
        if sheet.part == Part.TECHNICAL:
            _reveal(locked)
        if sheet.part == Part.TECHNICAL and Part.COMMERCIAL in parts(locked):
            locked.status = Status.COMMERCIAL
        else:
            locked.status = Status.SUMMARY
        locked.save(update_fields=["status"])

    return document_signatures.Signable(
        kind=SCORES_KIND,
        document_id=sheet.pk,
        sha256=digest,
        organisation=signer_organisation(sheet.member, session.tender),
        title=str(_("My %(part)s scores") % {"part": Part(sheet.part).label}),
        subjects=(("tender", session.tender_id), ("evaluation", session.pk)),
        on_signed=on_signed,
    )


# --- results ------------------------------------------------------------------------------------


def _chair(actor: Actor, session: EvaluationSession) -> CommitteeMember:
    member = member_for(actor, session)
    if session.committee.chair_id != member.pk:
        raise NotAllowed(_("Only the committee's chair does this."), rule="committee_chair")
    return member


@service
def record_adjustment(
    actor: Actor,
    session: EvaluationSession,
    *,
    bid: OpenedBid,
    amount: Any,
    reason: str,
    clause: str = "",
) -> PriceAdjustment:
    """The chair records a price adjustment (价格折算) the committee agreed, with its reason
    (lowest evaluated price method, before the results)."""
    session = _lock(session)
    chair = _chair(actor, session)
    if session.tender.evaluation_method != Tender.Evaluation.LOWEST_PRICE:
        raise Conflict(
            _("Price adjustments belong to the lowest evaluated price method."),
            field="amount",
            rule="method",
        )
    if session.status != Status.SUMMARY:
        raise Conflict(
            _("Adjustments are recorded after the technical review, before the results."),
            field="amount",
            rule="stage",
        )
    if getattr(bid, "pk", None) not in {b.pk for b in bids(session)}:
        raise InvalidInput(_("Adjust a bid under evaluation."), field="bid", rule="bid")
    value = scoring.decimal_value(amount, field="amount", allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the adjustment's reason."), field="reason", rule="required")
    adjustment = PriceAdjustment.objects.create(
        session=session,
        bid=bid,
        amount=value,
        reason=reason[:2000],
        clause=(clause or "").strip()[:100],
        recorded_by=chair,
        recorded_at=clock.now(),
    )
    record_event(
        "evaluation.adjustment.recorded",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={
            "session": session.pk,
            "bid": bid.pk,
            "amount": str(value),
            "reason": adjustment.reason,
            "clause": adjustment.clause,
        },
    )
    return adjustment


def _credit(
    session: EvaluationSession, opened: list[OpenedBid], max_points: Decimal
) -> dict[int, Any]:
    if not apps.is_installed("openbid.credit"):
        raise Conflict(_("The credit context is not installed."), rule="credit")
    from openbid.credit.effects import evaluation_credit_points

    day = timezone.localdate(session.opened_at)
    return {b.pk: evaluation_credit_points(b.bid.organisation, max_points, on=day) for b in opened}


def _ranking_json(ranking: scoring.Ranking, ids: dict[str, int]) -> dict[str, Any]:
    """The ranking as stored: bidders by name and bid id; ties by bid id."""
    return {
        "entries": [
            {
                "rank": e.rank,
                "bid": ids[e.bidder],
                "bidder": e.bidder,
                "figure": str(e.figure),
                "decided_by": e.decided_by,
            }
            for e in ranking.entries
        ],
        "ties": [[ids[b] for b in group] for group in ranking.ties],
    }


def _ranking_from(data: dict[str, Any]) -> scoring.Ranking:
    names = {e["bid"]: e["bidder"] for e in data["entries"]}
    return scoring.Ranking(
        entries=tuple(
            scoring.Ranked(e["rank"], e["bidder"], Decimal(e["figure"]), e["decided_by"])
            for e in data["entries"]
        ),
        ties=tuple(tuple(names[b] for b in g) for g in data["ties"]),
    )


def _pass_fail(session: EvaluationSession, opened: list[OpenedBid]) -> tuple[set[int], list[str]]:
    """Bids most members failed on a pass/fail factor, and the working."""
    failed: set[int] = set()
    lines = []
    n = len(members(session))
    for c in criteria(session, Part.TECHNICAL):
        if not c.get("pass_fail"):
            continue
        fails = Counter(
            Score.objects.filter(sheet__session=session, criterion=c["code"], points=0).values_list(
                "bid_id", flat=True
            )
        )
        for b in opened:
            if fails[b.pk] * 2 > n:
                failed.add(b.pk)
            lines.append(f"{_label(b)} {c['code']}: failed by {fails[b.pk]} of {n}")
    return failed, lines


def _compute(session: EvaluationSession) -> dict[str, Any]:
    """Scores, working and ranking. The engines name bidders by organisation (one bid each in a
    one-section tender) and members by label (``E1``…), so the working reads as it is printed."""
    opened = bids(session)
    names = {b.pk: _label(b) for b in opened}
    ids = {name: pk for pk, name in names.items()}
    section = session.tender.sections.get()
    ceiling = section.ceiling_price
    rules = session.rules
    ties = [scoring.TieBreak(t) for t in rules["tie_breaks"]]
    rows: dict[str, dict[str, Any]] = {
        names[b.pk]: {
            "bid": b.pk,
            "order": b.order,
            "bidder": names[b.pk],
            "price": str(b.price),
            "valid": True,
            "note": "",
            "parts": {},
            "total": None,
        }
        for b in opened
    }
    result: dict[str, Any] = {"method": session.tender.evaluation_method}
    result["experts"] = {label: seat for seat, label in labels(session).items()}
    working: list[str] = []
    if session.tender.evaluation_method == Tender.Evaluation.LOWEST_PRICE:
        failed, working = _pass_fail(session, opened)
        for pk in failed:
            rows[names[pk]].update(valid=False, note="technical review failed")
        adjustments: dict[int, list[scoring.Adjustment]] = {}
        for a in session.adjustments.all():
            adjustments.setdefault(a.bid_id, []).append(
                scoring.Adjustment(Decimal(a.amount), a.reason, a.clause)
            )
        valid = [b for b in opened if b.pk not in failed]
        if not valid:
            raise Conflict(_("Every bid failed the technical review."), rule="no_valid_bids")
        lep = scoring.lowest_evaluated_price(
            [
                scoring.PricedBid(
                    names[b.pk],
                    Decimal(str(b.price)),
                    tuple(adjustments.get(b.pk, ())),
                    b.bid.committed_at,
                )
                for b in valid
            ],
            ceiling=ceiling,
            tie_breaks=ties,
        )
        for name in lep.above_ceiling:
            rows[name].update(valid=False, note="above the ceiling price")
        for name, ep in lep.prices.items():
            rows[name]["parts"] = {"evaluated_price": str(ep.evaluated_price)}
            rows[name]["total"] = str(ep.evaluated_price)
            working.extend(ep.working)
        ranking = lep.ranking
        result["columns"] = ["evaluated_price"]
    else:
        criteria_list = _scoring_criteria(session)
        price_method: scoring.PriceMethod
        if rules["price_formula"] == "base_price":
            price_method = scoring.BasePriceMethod(
                coefficient=Decimal(session.coefficient or "1"),
                trim_extremes_from=rules["trim_extremes_from"],
                above_points_per_percent=Decimal(rules["above_points_per_percent"]),
                below_points_per_percent=Decimal(rules["below_points_per_percent"]),
                partial_percent=scoring.PartialPercent(rules["partial_percent"]),
                deviation_places=rules["deviation_places"],
            )
        else:
            price_method = scoring.LowestPriceMethod()
        method = scoring.ComprehensiveMethod(
            criteria=criteria_list,
            price_method=price_method,
            aggregation=scoring.Aggregation(
                rules["drop_extremes_from"], scoring.AggregationLevel(rules["aggregation_level"])
            ),
            outliers=scoring.OutlierRule(Decimal(rules["outlier_share"])),
            total_points=Decimal(rules["total_points"]),
            tie_breaks=ties,
        )
        credit_criterion = next((c for c in criteria_list if c.category == "credit"), None)
        credit: dict[int, Any] = (
            _credit(session, opened, credit_criterion.max_points) if credit_criterion else {}
        )
        scores = _expert_scores(session, Part.TECHNICAL, names) + _expert_scores(
            session, Part.COMMERCIAL, names
        )
        outcome = scoring.comprehensive_scores(
            method,
            prices={names[b.pk]: Decimal(str(b.price)) for b in opened},
            scores=scores,
            credit={names[pk]: c.points for pk, c in credit.items()},
            ceiling=ceiling,
            submitted_at={names[b.pk]: b.bid.committed_at for b in opened},
        )
        for name in outcome.above_ceiling:
            rows[name].update(valid=False, note="above the ceiling price")
        if outcome.price and outcome.price.base:
            working.extend(outcome.price.base.working)
        for name, bs in outcome.scores.items():
            cells = {a.subject: str(a.points) for a in bs.aggregates}
            for c in criteria_list:
                if c.category == "price" and bs.price_score is not None:
                    cells[c.code] = str(bs.price_score.points)
                if c.category == "credit" and bs.credit is not None:
                    cells[c.code] = str(bs.credit)
            rows[name]["parts"] = cells
            rows[name]["total"] = str(bs.total)
            rows[name]["working"] = list(bs.working)
            pk = ids[name]
            if pk in credit:
                rows[name]["credit"] = {
                    "grade": credit[pk].grade,
                    "share_percent": str(credit[pk].share_percent),
                    "basis": credit[pk].basis,
                }
            working.extend(bs.working)
        result["outliers"] = [
            {
                "expert": o.expert,
                "bid": ids[o.bidder],
                "bidder": o.bidder,
                "criterion": o.criterion,
                "points": str(o.points),
                "others_mean": str(scoring.round2(o.others_mean)),
                "reason": o.reason,
            }
            for o in outcome.outliers
        ]
        result["coefficient"] = session.coefficient or None
        ranking = outcome.ranking
        result["columns"] = [c.code for c in criteria_list]
    result["working"] = working
    result["ranking"] = _ranking_json(ranking, ids)
    result["bids"] = sorted(rows.values(), key=lambda r: int(r["order"]))
    return result


@service
def compute_results(actor: Actor, session: EvaluationSession) -> EvaluationSession:
    """The chair has the platform compute the results once every sheet is signed (and K is
    drawn): scores with their full working, the ranking; a tie left after the announced
    tie-breaks is settled by a verifiable draw (``evaluation.tie``), committed here."""
    session = _lock(session)
    chair = _chair(actor, session)
    if session.status != Status.SUMMARY:
        raise Conflict(
            _("The results are computed once every score sheet is signed."),
            field="session",
            rule="stage",
        )
    if _needs_coefficient(session) and not session.coefficient:
        raise Conflict(
            _("The coefficient K has not been drawn yet."), field="session", rule="coefficient"
        )
    session.result = _compute(session)
    session.status = Status.SCORED
    session.scored_at = clock.now()
    session.save(update_fields=["result", "status", "scored_at"])
    record_event(
        "evaluation.results.computed",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={
            "session": session.pk,
            "chair_seat": chair.pk,
            "result_sha256": _digest(session.result),
            "ties": session.result["ranking"]["ties"],
        },
    )
    for group in session.result["ranking"]["ties"]:
        draws.commit_draw(
            actor,
            purpose=TIE_PURPOSE,
            subject=("tender", session.tender_id),
            groups=[{"name": "order", "tag": None, "count": len(group), "reserves": 0}],
            candidates=[{"ref": f"bid:{pk}", "tags": []} for pk in group],
            criteria={"tie": group, "rule": "ranking tie after the announced tie-breaks"},
        )
    return session


@draws.on_performed(TIE_PURPOSE)
def apply_tie(draw: Draw) -> None:
    """Put a tied group in the drawn order (in the transaction performing the draw)."""
    session = EvaluationSession.objects.select_for_update().get(tender_id=int(draw.subject_id))
    assert draw.result is not None and session.result is not None
    drawn = [int(ref.removeprefix("bid:")) for ref in draw.result["groups"][0]["members"]]
    ids = {e["bidder"]: e["bid"] for e in session.result["ranking"]["entries"]}
    names = {pk: name for name, pk in ids.items()}
    ranking = _ranking_from(session.result["ranking"]).resolve([names[pk] for pk in drawn])
    session.result = {**session.result, "ranking": _ranking_json(ranking, ids)}
    session.save(update_fields=["result"])
    record_event(
        "evaluation.results.tie_drawn",
        subjects=[("tender", session.tender_id), ("evaluation", session.pk), ("draw", draw.pk)],
        payload={"session": session.pk, "draw": draw.pk, "order": drawn},
    )


def candidates(session: EvaluationSession) -> list[dict[str, Any]]:
    """The recommended candidates: the first three of the final ranking (ties resolved)."""
    if session.result is None or session.result["ranking"]["ties"]:
        return []
    return [
        {"rank": n, "bid": e["bid"], "bidder": e["bidder"], "figure": e["figure"]}
        for n, e in enumerate(session.result["ranking"]["entries"][:MAX_CANDIDATES], start=1)
    ]


# --- the report -----------------------------------------------------------------------------------


def _finding_lines(session: EvaluationSession) -> list[str]:
    lines = []
    for row in session.clearing.get("bids", []):
        for f in row["findings"]:
            numbers = ", ".join(f"{k} {v}" for k, v in f["numbers"].items())
            lines.append(
                f"{row['bidder']}：{f['kind']}（{f['severity']}）{numbers}；依据 {f['source']}"
            )
    sim = session.similarity
    for p in sim.get("similar", []):
        lines.append(f"投标文件雷同：{p['a']} 与 {p['b']} 相似度 {p['exact']}")
    for d in sim.get("duplicate_files", []):
        holders = "、".join(f"{b}（{n}）" for b, n in d["copies"])
        lines.append(f"相同文件（SHA-256 {d['sha256'][:16]}…）：{holders}")
    for s in sim.get("shared_fingerprints", []):
        lines.append(f"相同编制机器特征 {s['field']}：{'、'.join(s['bidders'])}")
    for c in session.clarifications.select_related("bid__bid__organisation").order_by("pk"):
        answer = c.answer or "（未答复）"
        lines.append(f"澄清：{_label(c.bid)}：{c.question} 答复：{answer}")
    return lines


def build_report(session: EvaluationSession) -> report_pdf.Report:
    tender = session.tender
    result = session.result or {}
    chair = session.committee.chair_id
    seat_label = labels(session)
    people = []
    for m in members(session):
        role = "评标专家" if m.kind == CommitteeMember.Kind.EXPERT else "招标人代表"
        if m.pk == chair:
            role += "（组长）"
        people.append(
            report_pdf.Member(
                name=f"{seat_label[m.pk]} {m.display_name}",
                role=role,
                employer=signer_organisation(m, tender).name,
                specialty=", ".join(m.expert.specialty_codes) if m.expert else "",
            )
        )
    ranks = {e["bid"]: e["rank"] for e in result.get("ranking", {}).get("entries", [])}
    columns = result.get("columns", [])
    rows = result.get("bids", [])
    bid_rows = [
        report_pdf.BidRow(
            order=r["order"],
            bidder=r["bidder"],
            price=f"{Decimal(r['price']):,.2f}",
            status="有效" if r["valid"] else "否决",
            note=r["note"],
        )
        for r in rows
    ]
    for row in session.clearing.get("bids", []):
        if row["invalid"]:
            bid_rows.append(
                report_pdf.BidRow(
                    order=row["order"],
                    bidder=row["bidder"],
                    price=f"{Decimal(row['price']):,.2f}",
                    status="否决",
                    note="清标：" + "、".join(f["kind"] for f in row["findings"]),
                )
            )
    bid_rows.sort(key=lambda b: b.order)
    reasons = [
        f"{o['expert']} 对 {o['bidder']} 的 {o['criterion']} 评分 {o['points']}"
        f"（其他成员均值 {o['others_mean']}）：{o['reason']}"
        for o in result.get("outliers", [])
    ]
    for a in session.adjustments.select_related("bid__bid__organisation"):
        reasons.append(f"价格折算 {_label(a.bid)} {a.amount}：{a.reason} {a.clause}".strip())
    method = tender.get_evaluation_method_display()
    if result.get("coefficient"):
        method += f"；下浮系数 K = {result['coefficient']}（可验证抽取）"
    return report_pdf.Report(
        title="评标报告",
        tender=tender.title,
        project=f"{tender.project.name}（{tender.project.code}）",
        method=method,
        evaluated_at=timezone.localtime(session.opened_at).strftime("%Y-%m-%d %H:%M"),
        members=people,
        bids=bid_rows,
        criteria=columns,
        scores=[
            report_pdf.ScoreRow(
                bidder=r["bidder"],
                parts=[r["parts"].get(c, "") for c in columns],
                total=r["total"] or "—",
                rank=ranks.get(r["bid"]),
            )
            for r in rows
        ],
        candidates=[c["bidder"] for c in candidates(session)],
        findings=_finding_lines(session),
        working=result.get("working", []),
        reasons=reasons,
        footer=f"暗标承诺 {session.blind_commitment}",
    )


@service
def generate_report(actor: Actor, session: EvaluationSession) -> Report:
    """The chair generates the evaluation report (评标报告) once the results are final (no tie
    waiting for its draw): a PDF whose SHA-256 every member then signs."""
    session = _lock(session)
    _chair(actor, session)
    if session.status != Status.SCORED:
        raise Conflict(
            _("The report is generated once the results are computed."),
            field="session",
            rule="stage",
        )
    if session.result is None or session.result["ranking"]["ties"]:
        raise Conflict(_("A tie is waiting for its draw."), field="session", rule="tie_pending")
    pdf = report_pdf.render(build_report(session))
    report = Report.objects.create(
        session=session,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        candidates=candidates(session),
        generated_at=clock.now(),
    )
    session.status = Status.REPORTING
    session.save(update_fields=["status"])
    record_event(
        "evaluation.report.generated",
        actor=actor,
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={"session": session.pk, "report": report.pk, "sha256": report.sha256},
    )
    return report


def report_signers(report: Report) -> set[int]:
    return set(
        DocumentSignature.objects.filter(
            kind=REPORT_KIND, document_id=report.pk, sha256=report.sha256
        ).values_list("signer_id", flat=True)
    )


def _member_user(member: CommitteeMember) -> int | None:
    return member.expert.user_id if member.expert is not None else member.user_id


def report_signable(actor: Actor, report_id: int) -> document_signatures.Signable:
    user = signed_in(actor)
    report = (
        Report.objects.select_related("session__tender__project", "session__committee")
        .filter(pk=report_id)
        .first()
    )
    member = committees.member_of(user, report.session.committee) if report else None
    if report is None or member is None:
        raise NotFound(_("No such report for you to sign."), field="report", rule="exists")
    session = report.session
    if session.status != Status.REPORTING:
        raise Conflict(_("The report is signed by all already."), field="report", rule="complete")

    def on_signed(row: DocumentSignature) -> None:
        record_event(
            "evaluation.report.signed",
            actor=user,
            subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
            payload={"report": report.pk, "sha256": report.sha256, "seat": member.pk},
        )
        signers = report_signers(report)
        if all(_member_user(m) in signers for m in members(session)):
            _complete(session, report)

    return document_signatures.Signable(
        kind=REPORT_KIND,
        document_id=report.pk,
        sha256=report.sha256,
        organisation=signer_organisation(member, session.tender),
        title=str(_("Evaluation report of %(title)s") % {"title": session.tender.title}),
        subjects=(("tender", session.tender_id), ("evaluation", session.pk)),
        on_signed=on_signed,
    )


def _rate(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name)))


def fee_for(duration: dt.timedelta) -> tuple[Decimal, str]:
    """A member's fee for a session of ``duration``: whole days at the day rate, a remaining
    half-day at the half-day rate (a started half-day of four hours counts; at least one)."""
    hours = Decimal(int(duration.total_seconds())) / Decimal(3600)
    halves = max(1, int((hours / 4).to_integral_value(rounding=ROUND_CEILING)))
    days, half = divmod(halves, 2)
    day_rate = _rate("OPENBID_EXPERT_FEE_DAY")
    half_rate = _rate("OPENBID_EXPERT_FEE_HALF_DAY")
    amount = (day_rate * days + half_rate * half).quantize(Decimal("0.01"))
    basis = (
        f"{hours.quantize(Decimal('0.01'))} h → {days} × {day_rate} (day) + "
        f"{half} × {half_rate} (half-day) = {amount}"
    )
    return amount, basis


def _complete(session: EvaluationSession, report: Report) -> None:
    session = _lock(session)
    now = clock.now()
    report.completed_at = now
    report.save(update_fields=["completed_at"])
    session.status = Status.COMPLETED
    session.completed_at = now
    session.save(update_fields=["status", "completed_at"])
    amount, basis = fee_for(now - session.opened_at)
    for m in members(session):
        if m.kind != CommitteeMember.Kind.EXPERT:
            continue  # the tenderer's representatives are not paid evaluation fees
        ExpertFee.objects.create(session=session, member=m, amount=amount, basis=basis)
    record_event(
        "evaluation.report.completed",
        subjects=[("tender", session.tender_id), ("evaluation", session.pk)],
        payload={
            "session": session.pk,
            "report": report.pk,
            "sha256": report.sha256,
            "candidates": report.candidates,
            "fees": {"each": str(amount), "basis": basis},
        },
    )
    signals.fire_report_signed(session.tender, report)
    tender = Tender.objects.get(pk=session.tender_id)
    if tender.status in committees.PUBLISHED_STATES:
        committees.publish_if_due(session.committee)


@service
def pay_fee(actor: Actor, fee: ExpertFee, *, reference: str) -> ExpertFee:
    """Centre staff record a fee paid online, with the payment's reference."""
    user = signed_in(actor)
    if not has_role(user, Role.CENTRE_STAFF):
        raise NotAllowed(_("Fees are paid by the trading centre."), rule="centre_staff")
    fee = ExpertFee.objects.select_for_update().get(pk=fee.pk)
    if fee.status == ExpertFee.Status.PAID:
        raise Conflict(_("This fee is paid already."), field="fee", rule="paid")
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(_("Give the payment's reference."), field="reference", rule="required")
    fee.status = ExpertFee.Status.PAID
    fee.payment_reference = reference[:100]
    fee.paid_at = clock.now()
    fee.save(update_fields=["status", "payment_reference", "paid_at"])
    record_event(
        "evaluation.fee.paid",
        actor=user,
        subjects=[("evaluation", fee.session_id)],
        payload={"fee": fee.pk, "amount": str(fee.amount), "reference": fee.payment_reference},
    )
    return fee


def may_follow(user: Any, session: EvaluationSession) -> bool:
    """Who sees the session's progress: members, the tender's managers, centre staff, regulators."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        committees.member_of(user, session.committee) is not None
        or committees.may_manage(user, session.tender)
        or has_role(user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR)
    )


def may_download_report(user: Any, session: EvaluationSession) -> bool:
    report = getattr(session, "report", None)
    if report is None:
        return False
    if committees.member_of(user, session.committee) is not None:
        return True
    return report.completed_at is not None and may_follow(user, session)


__all__ = [
    "DomainError",
    "answer_clarification",
    "ask_clarification",
    "check_in",
    "compute_results",
    "generate_report",
    "open_session",
    "pay_fee",
    "post_message",
    "record_adjustment",
    "save_scores",
    "submit_sheet",
]
