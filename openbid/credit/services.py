"""Every change to credit: records, corrections, revocations, repair, imports, and the people
credit records are about.

Each service runs in one transaction, checks the actor's role itself, checks its rules, and
records a domain event. Records are recorded by trading-centre staff and regulators (the bodies
that decide penalties and findings, or staff entering them on their behalf); a market entity
applies for repair of its own records; staff accept and decide. A record that is not public
enters the ledger only as a digest: its event names neither the subject nor the facts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts import identity
from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, has_role, require_role, signed_in
from openbid.accounts.roles import Role
from openbid.core import clock, rules
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.events import record_event, service
from openbid.core.fields import label
from openbid.core.validation import clean_text
from openbid.credit import notifications
from openbid.credit.models import (
    Category,
    CreditRecord,
    CreditSubject,
    RepairApplication,
    Source,
)
from openbid.credit.periods import add_period, earliest_repair_date, rule_for
from openbid.credit.policy import allowed_categories

STAFF_ROLES = (Role.CENTRE_STAFF, Role.REGULATOR)
MARKET_ROLES = (Role.BIDDER_STAFF, Role.TENDERER_STAFF, Role.AGENCY_STAFF, Role.EXPERT)
EVIDENCE_TYPES = frozenset({".pdf", ".ofd", ".jpg", ".jpeg", ".png", ".zip"})
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def is_credit_staff(user: Any) -> bool:
    return has_role(user, *STAFF_ROLES)


def _staff(actor: Actor, action: str) -> User:
    membership = require_role(actor, *STAFF_ROLES, action=action)
    return membership.user


def _day(value: dt.date) -> str:
    return value.isoformat()


# --- subjects ----------------------------------------------------------------------------------

# One identity-number digest for the platform (the expert pool uses the same).
normalise_id_number = identity.normalise_id_number
person_digest = identity.person_digest


def subject_of(org: Organisation) -> CreditSubject | None:
    """The credit subject of an organisation, if any record was ever made about it."""
    return CreditSubject.objects.filter(organisation=org).first()


def _subject_for(org: Organisation) -> CreditSubject:
    subject, _created = CreditSubject.objects.get_or_create(
        organisation=org,
        defaults={"kind": CreditSubject.Kind.ORGANISATION, "created_at": clock.now()},
    )
    return subject


@service
def register_person(
    actor: Actor,
    *,
    name: str,
    id_number: str,
    employer: Organisation | None = None,
    user: User | None = None,
) -> CreditSubject:
    """Register a person (an evaluation expert) as a credit subject: name and a keyed digest of
    the identity card number, optionally the employer and the person's login. Refuses an invalid
    number and a person registered already. Personal data stays out of the ledger."""
    staff = _staff(actor, _("Registering a person for credit records"))
    name = clean_text(name, "person_name", 80)
    digest = person_digest(id_number)
    if CreditSubject.objects.filter(person_digest=digest).exists():
        raise Conflict(
            _("A person with this identity card number is registered already."),
            field="id_number",
            rule="credit_unique_person",
        )
    subject = CreditSubject.objects.create(
        kind=CreditSubject.Kind.PERSON,
        person_name=name,
        person_digest=digest,
        employer=employer,
        user=user,
        created_at=clock.now(),
    )
    record_event(
        "credit.person.registered",
        actor=staff,
        subjects=[("credit_subject", subject.pk)],
        payload={"subject": subject.reference},
        private_digest=digest,
    )
    return subject


# --- records -----------------------------------------------------------------------------------


def _as_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise InvalidInput(_("Give a date, not a time."), field=field, rule="date")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(
            _("The %(field)s must be a date (YYYY-MM-DD).") % {"field": label(field)},
            field=field,
            rule="date",
        ) from None


def _legal_basis_rule() -> rules.Rule:
    return rules.rule("credit_record_legal_basis")


def check_record(
    *,
    source: str,
    category: str,
    title: str,
    facts: str,
    legal_basis: str,
    issuing_body: str,
    document_number: str = "",
    decided_on: Any,
    valid_from: Any,
    valid_until: Any,
    serious_list: bool = False,
    source_platform: str = "",
    external_id: str = "",
) -> dict[str, Any]:
    """The record's fields cleaned, or the first refusal naming the field and the rule."""
    if source not in Source.values:
        raise InvalidInput(
            _("Unknown source %(source)s.") % {"source": source},
            field="source",
            rule="credit_source",
        )
    if category not in allowed_categories(source):
        raise InvalidInput(
            _("A record from the source %(source)s cannot have the category %(category)s.")
            % {"source": Source(source).label, "category": Category(category).label}
            if category in Category.values
            else _("Unknown category %(category)s.") % {"category": category},
            field="category",
            rule="credit_category_fits_source",
        )
    cleaned: dict[str, Any] = {"source": source, "category": category}
    cleaned["title"] = clean_text(title, "title", 200)
    cleaned["facts"] = clean_text(facts, "facts", 5000)
    basis = "" if legal_basis is None else str(legal_basis).strip()
    if not basis:
        rule = _legal_basis_rule()
        raise InvalidInput(
            _(
                "A credit record needs its legal basis: the law, regulation or decision it rests on."
            ),
            field="legal_basis",
            rule=rule.key,
            article=rule.article,
        )
    cleaned["legal_basis"] = clean_text(basis, "legal_basis", 2000)
    cleaned["issuing_body"] = clean_text(issuing_body, "issuing_body", 200)
    cleaned["document_number"] = clean_text(document_number, "document_number", 120, required=False)
    decided = _as_date(decided_on, "decided_on")
    start = _as_date(valid_from, "valid_from")
    end = _as_date(valid_until, "valid_until")
    today = clock.today()
    if decided > today:
        raise InvalidInput(
            _("The decision date %(date)s is in the future.") % {"date": _day(decided)},
            field="decided_on",
            rule="credit_decided_in_past",
        )
    if start < decided:
        raise InvalidInput(
            _("The validity period cannot start (%(start)s) before the decision (%(decided)s).")
            % {"start": _day(start), "decided": _day(decided)},
            field="valid_from",
            rule="credit_validity_period",
        )
    if end < start:
        raise InvalidInput(
            _("The end of the validity period (%(end)s) is before its start (%(start)s).")
            % {"end": _day(end), "start": _day(start)},
            field="valid_until",
            rule="credit_validity_period",
        )
    if category != Category.GOOD:
        longest = rule_for("penalty_display_max", decided)
        limit = add_period(start, longest)
        if end > limit:
            raise InvalidInput(
                _(
                    "Dishonesty information is public for at most %(period)s: the validity period "
                    "may end on %(limit)s at the latest."
                )
                % {"period": longest.display_value, "limit": _day(limit)},
                field="valid_until",
                rule=longest.key,
                article=longest.article,
            )
    if serious_list and category != Category.SERIOUS:
        raise InvalidInput(
            _("Only a record of serious dishonesty puts an entity on the serious-dishonesty list."),
            field="serious_list",
            rule="credit_serious_list_category",
        )
    cleaned.update(
        decided_on=decided,
        valid_from=start,
        valid_until=end,
        serious_list=bool(serious_list),
        source_platform=clean_text(source_platform, "source_platform", 80, required=False),
        external_id=clean_text(external_id, "external_id", 80, required=False),
    )
    if cleaned["external_id"] and not cleaned["source_platform"]:
        raise InvalidInput(
            _("An external record number needs the platform it comes from."),
            field="source_platform",
            rule="required",
        )
    return cleaned


def _duplicate_external(platform: str, external_id: str) -> Conflict:
    return Conflict(
        _("The record %(id)s of %(platform)s was imported already.")
        % {"id": external_id, "platform": platform},
        field="external_id",
        rule="credit_duplicate_import",
    )


def _check_duplicates(
    subject: CreditSubject | None, cleaned: Mapping[str, Any], *, exclude: Any = None
) -> None:
    if (
        cleaned["external_id"]
        and CreditRecord.objects.filter(
            source_platform=cleaned["source_platform"], external_id=cleaned["external_id"]
        ).exists()
    ):
        raise _duplicate_external(cleaned["source_platform"], cleaned["external_id"])
    if subject is not None and cleaned["document_number"]:
        same = CreditRecord.objects.filter(
            subject=subject,
            issuing_body=cleaned["issuing_body"],
            document_number=cleaned["document_number"],
            status=CreditRecord.Status.ACTIVE,
        )
        if exclude is not None:
            same = same.exclude(pk=exclude.pk)
        found = same.first()
        if found is not None:
            raise Conflict(
                _("%(body)s's decision %(number)s is recorded already as %(record)s.")
                % {
                    "body": cleaned["issuing_body"],
                    "number": cleaned["document_number"],
                    "record": found.number,
                },
                field="document_number",
                rule="credit_duplicate_record",
            )


def _public_payload(record: CreditRecord) -> dict[str, Any]:
    return {
        "record": record.number,
        "subject": record.subject.reference,
        "subject_name": str(record.subject),
        "source": record.source,
        "category": record.category,
        "title": record.title,
        "legal_basis": record.legal_basis,
        "issuing_body": record.issuing_body,
        "document_number": record.document_number,
        "decided_on": record.decided_on,
        "valid_from": record.valid_from,
        "valid_until": record.valid_until,
        "serious_list": record.serious_list,
        "public": True,
    }


def _content_digest(record: CreditRecord) -> str:
    content = {**_public_payload(record), "facts": record.facts}
    text = json.dumps(content, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _record_subjects(record: CreditRecord) -> list[tuple[str, object]]:
    subjects: list[tuple[str, object]] = [("credit_record", record.pk)]
    if record.is_public and record.subject.organisation_id is not None:
        subjects.append(("organisation", record.subject.organisation_id))
    return subjects


def _record_event(
    type: str, record: CreditRecord, actor: Any, extra: Mapping[str, Any] | None = None
) -> None:
    payload: dict[str, Any] = (
        _public_payload(record) if record.is_public else {"record": record.number, "public": False}
    )
    payload.update(extra or {})
    record_event(
        type,
        actor=actor,
        subjects=_record_subjects(record),
        payload=payload,
        private_digest=_content_digest(record),
    )


def _subject_arg(organisation: Organisation | None, subject: CreditSubject | None) -> CreditSubject:
    if (organisation is None) == (subject is None):
        raise InvalidInput(
            _("Name the organisation or the person the record is about."),
            field="subject",
            rule="required",
        )
    return subject if subject is not None else _subject_for(organisation)  # type: ignore[arg-type]


def _create(
    staff: User,
    subject: CreditSubject,
    cleaned: Mapping[str, Any],
    *,
    is_public: bool,
    special_domain: bool,
    repairable: bool,
    supersedes: CreditRecord | None = None,
) -> CreditRecord:
    recorder = require_role(staff, *STAFF_ROLES).organisation
    try:
        with transaction.atomic():
            return CreditRecord.objects.create(
                subject=subject,
                is_public=bool(is_public),
                special_domain=bool(special_domain),
                repairable=bool(repairable) and cleaned["category"] != Category.GOOD,
                supersedes=supersedes,
                recorded_by=staff,
                recorded_for=recorder,
                recorded_at=clock.now(),
                **cleaned,
            )
    except IntegrityError as exc:  # a concurrent import of the same external record won the race
        raise _duplicate_external(cleaned["source_platform"], cleaned["external_id"]) from exc


def _notify_subject(
    subject: CreditSubject, kind: str, params: Mapping[str, Any], link: str = ""
) -> None:
    notifications.notify(
        organisation=subject.organisation, user=subject.user, kind=kind, params=params, link=link
    )


@service
def record_credit(
    actor: Actor,
    *,
    organisation: Organisation | None = None,
    subject: CreditSubject | None = None,
    source: str,
    category: str,
    title: str,
    facts: str,
    legal_basis: str,
    issuing_body: str,
    document_number: str = "",
    decided_on: Any,
    valid_from: Any,
    valid_until: Any,
    is_public: bool = True,
    serious_list: bool = False,
    special_domain: bool = False,
    repairable: bool = True,
) -> CreditRecord:
    """Record a credit record about an organisation or a person (centre staff or regulator).

    Rules: a legal basis is required (credit_record_legal_basis); the category must fit the
    source (a commendation is good news; a penalty is not); the validity period starts on or
    after the decision and ends on or after its start, and dishonesty information is public for
    at most the statutory maximum (penalty_display_max); only serious dishonesty may list the
    subject (credit_serious_list_category); an issuing body's decision is recorded once. The
    subject is notified.
    """
    staff = _staff(actor, _("Recording credit information"))
    target = _subject_arg(organisation, subject)
    cleaned = check_record(
        source=source,
        category=category,
        title=title,
        facts=facts,
        legal_basis=legal_basis,
        issuing_body=issuing_body,
        document_number=document_number,
        decided_on=decided_on,
        valid_from=valid_from,
        valid_until=valid_until,
        serious_list=serious_list,
    )
    _check_duplicates(target, cleaned)
    record = _create(
        staff,
        target,
        cleaned,
        is_public=is_public,
        special_domain=special_domain,
        repairable=repairable,
    )
    _record_event("credit.record.created", record, staff)
    _notify_subject(
        target,
        "record_created",
        {"record": record.number, "title": record.title, "until": _day(record.valid_until)},
        reverse("credit:mine"),
    )
    return record


def _active(record: CreditRecord, action: str) -> CreditRecord:
    locked = (
        CreditRecord.objects.select_for_update(of=("self",))
        .select_related("subject__organisation")
        .get(pk=record.pk)
    )
    if locked.status != CreditRecord.Status.ACTIVE:
        raise Conflict(
            _("%(action)s is refused: the record %(record)s is %(status)s.")
            % {"action": action, "record": locked.number, "status": locked.get_status_display()},
            field="record",
            rule="credit_record_never_edited",
        )
    return locked


@service
def supersede_record(
    actor: Actor, record: CreditRecord, *, reason: str, **fields: Any
) -> CreditRecord:
    """Correct a record: a new record with the corrected fields supersedes it (the old one stays
    in the ledger, marked superseded). ``fields`` are those of ``record_credit``; fields not
    given are taken from the old record. The subject is notified."""
    staff = _staff(actor, _("Correcting a credit record"))
    reason = clean_text(reason, "reason", 2000)
    old = _active(record, _("Correcting the record"))
    names = (
        "source", "category", "title", "facts", "legal_basis", "issuing_body", "document_number",
        "decided_on", "valid_from", "valid_until", "serious_list",
    )  # fmt: skip
    unknown = sorted(set(fields) - set(names) - {"is_public", "special_domain", "repairable"})
    if unknown:
        raise InvalidInput(
            _("Unknown field %(field)s.") % {"field": unknown[0]}, field=unknown[0], rule="schema"
        )
    values = {n: fields.get(n, getattr(old, n)) for n in names}
    cleaned = check_record(**values)
    _check_duplicates(old.subject, cleaned, exclude=old)
    now = clock.now()
    old.status = CreditRecord.Status.SUPERSEDED
    old.status_reason = reason
    old.status_changed_at = now
    old.save(update_fields=["status", "status_reason", "status_changed_at"])
    new = _create(
        staff,
        old.subject,
        cleaned,
        is_public=fields.get("is_public", old.is_public),
        special_domain=fields.get("special_domain", old.special_domain),
        repairable=fields.get("repairable", old.repairable),
        supersedes=old,
    )
    _record_event(
        "credit.record.superseded",
        new,
        staff,
        {"supersedes": old.number, "reason": reason if new.is_public else ""},
    )
    _notify_subject(
        old.subject,
        "record_superseded",
        {"record": old.number, "new": new.number, "reason": reason},
        reverse("credit:mine"),
    )
    return new


@service
def revoke_record(actor: Actor, record: CreditRecord, *, reason: str) -> CreditRecord:
    """Revoke a record whose decision was annulled or withdrawn (撤销): it stops counting and is no
    longer shown publicly; it stays in the ledger. The subject is notified."""
    staff = _staff(actor, _("Revoking a credit record"))
    reason = clean_text(reason, "reason", 2000)
    locked = _active(record, _("Revoking the record"))
    locked.status = CreditRecord.Status.REVOKED
    locked.status_reason = reason
    locked.status_changed_at = clock.now()
    locked.save(update_fields=["status", "status_reason", "status_changed_at"])
    record_event(
        "credit.record.revoked",
        actor=staff,
        subjects=_record_subjects(locked),
        payload={"record": locked.number, "reason": reason if locked.is_public else ""},
    )
    _notify_subject(
        locked.subject,
        "record_revoked",
        {"record": locked.number, "reason": reason},
        reverse("credit:mine"),
    )
    return locked


# --- repair ------------------------------------------------------------------------------------


def may_apply(actor: Any, record: CreditRecord) -> bool:
    subject = record.subject
    if subject.organisation is not None:
        return has_role(actor, *MARKET_ROLES, organisation=subject.organisation)
    return subject.user_id is not None and getattr(actor, "pk", None) == subject.user_id


def repair_refusal(
    record: CreditRecord, today: dt.date | None = None
) -> InvalidInput | Conflict | None:
    """Why a repair of ``record`` cannot be applied for today, or ``None`` when it can."""
    today = today or clock.today()
    if record.status != CreditRecord.Status.ACTIVE:
        return Conflict(
            _("The record %(record)s is %(status)s; only a record in effect can be repaired.")
            % {"record": record.number, "status": record.get_status_display()},
            field="record",
            rule="credit_repair_active_only",
        )
    if record.category == Category.GOOD:
        return InvalidInput(
            _("The record %(record)s is good information; there is nothing to repair.")
            % {"record": record.number},
            field="record",
            rule="credit_repair_negative_only",
        )
    if not record.repairable:
        return InvalidInput(
            _("The record %(record)s cannot be repaired: its decision excludes credit repair.")
            % {"record": record.number},
            field="record",
            rule="credit_repair_unrepairable",
        )
    if today > record.valid_until:
        return Conflict(
            _("The record %(record)s expired on %(date)s; it no longer counts or shows.")
            % {"record": record.number, "date": _day(record.valid_until)},
            field="record",
            rule="credit_repair_active_only",
        )
    earliest, rule = earliest_repair_date(record)
    if today < earliest:
        return Conflict(
            _(
                "A repair of %(record)s can be applied for from %(date)s: the minimum publicity "
                "period is %(period)s from %(start)s."
            )
            % {
                "record": record.number,
                "date": _day(earliest),
                "period": rule.display_value,
                "start": _day(record.valid_from),
            },
            field="record",
            rule=rule.key,
            article=rule.article,
            at=earliest,
        )
    if record.repair_applications.filter(
        status__in=[RepairApplication.Status.SUBMITTED, RepairApplication.Status.UNDER_REVIEW]
    ).exists():
        return Conflict(
            _("A repair application for %(record)s is already being handled.")
            % {"record": record.number},
            field="record",
            rule="credit_one_open_repair",
        )
    return None


def _evidence(upload: UploadedFile | None) -> tuple[str, str]:
    if upload is None:
        return "", ""
    name = PurePath(upload.name or "evidence").name
    if PurePath(name).suffix.lower() not in EVIDENCE_TYPES:
        raise InvalidInput(
            _("Evidence may be a PDF, OFD, JPEG, PNG or ZIP file."),
            field="evidence",
            rule="evidence_type",
        )
    if not 0 < (upload.size or 0) <= MAX_EVIDENCE_BYTES:
        raise InvalidInput(
            _("Evidence files are between 1 byte and %(max)d MiB.")
            % {"max": MAX_EVIDENCE_BYTES // 2**20},
            field="evidence",
            rule="evidence_size",
        )
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return name, sha.hexdigest()


@service
def apply_for_repair(
    actor: Actor, record: CreditRecord, *, statement: str, evidence: UploadedFile | None = None
) -> RepairApplication:
    """The subject of a record applies for credit repair (信用修复) with its statement of
    rectification and evidence, once the minimum publicity period has passed.

    Rules: only the subject's own people apply; the record is in effect, dishonesty information
    and repairable (credit_repair_unrepairable); the minimum period (penalty_display,
    penalty_display_min_serious, penalty_display_min_safety, credit_serious_list_min) has passed;
    one application at a time. The applicant is notified that it was received.
    """
    user = signed_in(actor)
    record = (
        CreditRecord.objects.select_for_update(of=("self",))
        .select_related("subject__organisation")
        .get(pk=record.pk)
    )
    if not may_apply(user, record):
        raise NotAllowed(
            _("Only the people of the entity the record is about may apply for its repair."),
            field="record",
            rule="credit_repair_own_records",
        )
    refusal = repair_refusal(record)
    if refusal is not None:
        raise refusal
    statement = clean_text(statement, "statement", 5000)
    name, sha = _evidence(evidence)
    try:
        with transaction.atomic():
            application = RepairApplication.objects.create(
                record=record,
                applicant=user,
                statement=statement,
                evidence_name=name,
                evidence_sha256=sha,
                submitted_at=clock.now(),
            )
    except IntegrityError as exc:  # a concurrent application won the race
        raise Conflict(
            _("A repair application for %(record)s is already being handled.")
            % {"record": record.number},
            field="record",
            rule="credit_one_open_repair",
        ) from exc
    if evidence is not None:
        application.evidence.save(name, evidence, save=True)
    record_event(
        "credit.repair.applied",
        actor=user,
        subjects=[("credit_record", record.pk), ("credit_repair", application.pk)],
        payload={"application": application.pk, "record": record.number},
        private_digest=sha,
    )
    _notify_subject(
        record.subject,
        "repair_submitted",
        {"record": record.number, "application": application.pk},
        reverse("credit:mine"),
    )
    return application


def _open_application(
    application: RepairApplication, status: str, action: str
) -> RepairApplication:
    locked = (
        RepairApplication.objects.select_for_update(of=("self",))
        .select_related("record__subject__organisation")
        .get(pk=application.pk)
    )
    if locked.status != status:
        raise Conflict(
            _("%(action)s is refused: the application is %(status)s.")
            % {"action": action, "status": locked.get_status_display()},
            field="application",
            rule="credit_repair_steps",
        )
    return locked


def due_dates(application: RepairApplication) -> dict[str, dt.date | None]:
    """When acceptance and decision are due (credit_repair_accept, credit_repair_decide)."""
    from openbid.core import workdays

    submitted = timezone.localdate(application.submitted_at)
    accept = rules.rule("credit_repair_accept", on=submitted)
    decide = rules.rule("credit_repair_decide", on=submitted)
    out: dict[str, dt.date | None] = {"accept_by": None, "decide_by": None}
    try:
        out["accept_by"] = workdays.add_working_days(submitted, accept.int_value)
        if application.accepted_at is not None:
            accepted = timezone.localdate(application.accepted_at)
            out["decide_by"] = workdays.add_working_days(accepted, decide.int_value)
    except workdays.CalendarNotCovered:
        pass
    return out


@service
def accept_repair(actor: Actor, application: RepairApplication) -> RepairApplication:
    """Staff accept a repair application for review (受理). The applicant is notified."""
    staff = _staff(actor, _("Accepting a credit repair application"))
    locked = _open_application(application, RepairApplication.Status.SUBMITTED, _("Accepting"))
    locked.status = RepairApplication.Status.UNDER_REVIEW
    locked.accepted_by = staff
    locked.accepted_at = clock.now()
    locked.save(update_fields=["status", "accepted_by", "accepted_at"])
    record_event(
        "credit.repair.accepted",
        actor=staff,
        subjects=[("credit_record", locked.record_id), ("credit_repair", locked.pk)],
        payload={"application": locked.pk, "record": locked.record.number},
    )
    _notify_subject(
        locked.record.subject,
        "repair_accepted",
        {"record": locked.record.number, "application": locked.pk},
        reverse("credit:mine"),
    )
    return locked


@service
def decide_repair(
    actor: Actor, application: RepairApplication, *, approve: bool, reason: str
) -> RepairApplication:
    """Staff decide an accepted repair application, with reasons. Approved: the record is
    repaired — it stops counting and is no longer shown publicly (a listing ends), and stays in
    the ledger. Rejected: the record stays as it is and a new application may follow. The
    applicant is notified of the decision and its reasons."""
    staff = _staff(actor, _("Deciding a credit repair application"))
    reason = clean_text(reason, "reason", 2000)
    locked = _open_application(application, RepairApplication.Status.UNDER_REVIEW, _("Deciding"))
    now = clock.now()
    locked.status = (
        RepairApplication.Status.APPROVED if approve else RepairApplication.Status.REJECTED
    )
    locked.decided_by = staff
    locked.decided_at = now
    locked.decision_reason = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    record = locked.record
    if approve:
        record = _active(record, _("Repairing the record"))
        record.status = CreditRecord.Status.REPAIRED
        record.status_reason = reason
        record.status_changed_at = now
        record.save(update_fields=["status", "status_reason", "status_changed_at"])
    record_event(
        "credit.repair.approved" if approve else "credit.repair.rejected",
        actor=staff,
        subjects=[("credit_record", record.pk), ("credit_repair", locked.pk)],
        payload={"application": locked.pk, "record": record.number, "reason": reason},
    )
    _notify_subject(
        record.subject,
        "repair_approved" if approve else "repair_rejected",
        {"record": record.number, "application": locked.pk, "reason": reason},
        reverse("credit:mine"),
    )
    return locked


# --- imports -----------------------------------------------------------------------------------


@service
def import_records(
    actor: Actor, *, source_platform: str, rows: Iterable[Mapping[str, Any]]
) -> list[CreditRecord]:
    """Import records from an external credit platform (信用中国 or another city's platform), all
    or nothing. Each row names the entity by its credit code (it must be registered here) and
    carries the external record number; a number imported before, or twice in one file, is
    refused (credit_duplicate_import), as is any row ``record_credit`` would refuse. A refusal
    names the row (from 1) and the field, and nothing is written."""
    staff = _staff(actor, _("Importing credit records"))
    platform = clean_text(source_platform, "source_platform", 80)
    from openbid.credit import exchange

    parsed = list(rows)
    if not parsed:
        raise InvalidInput(_("The file holds no records."), field="records", rule="required")
    seen: set[str] = set()
    created = []
    for number, row in enumerate(parsed, start=1):
        with exchange.row_context(number):
            values = exchange.record_fields(row)
            org = Organisation.objects.filter(credit_code=values.pop("credit_code")).first()
            if org is None:
                raise InvalidInput(
                    _("No organisation with this unified social credit code is registered here."),
                    field="credit_code",
                    rule="credit_registered_entity",
                )
            external_id = values.pop("external_id")
            if external_id in seen:
                raise _duplicate_external(platform, external_id)
            seen.add(external_id)
            is_public = values.pop("is_public")
            repairable = values.pop("repairable")
            special = values.pop("special_domain")
            cleaned = check_record(**values, source_platform=platform, external_id=external_id)
            subject = _subject_for(org)
            _check_duplicates(subject, cleaned)
            record = _create(
                staff,
                subject,
                cleaned,
                is_public=is_public,
                special_domain=special,
                repairable=repairable,
            )
        _record_event(
            "credit.record.imported",
            record,
            staff,
            {"source_platform": platform, "external_id": external_id if record.is_public else ""},
        )
        _notify_subject(
            subject,
            "record_created",
            {"record": record.number, "title": record.title, "until": _day(record.valid_until)},
            reverse("credit:mine"),
        )
        created.append(record)
    return created
