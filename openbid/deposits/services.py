"""Bid deposits (投标保证金): basic accounts, sub-accounts, bank credits and their matching, refunds.

Every state change is a service (one transaction, one event). Rules applied:

* the required amount is the section's deposit reduced by the credit effects
  (``openbid.credit.effects.deposit_for``: SMEs and AAA exempt, AA and A reduced, per region);
* a cash deposit counts only if it was booked **before the bid deadline** and came **from the
  bidder's registered basic account** (Reg art. 26, ``deposit_from_basic_account``);
* refunds: unsuccessful bidders within 2 working days after the result (the action plans' target,
  ``deposit_refund_after_result``); the winner within 5 days after the contract is signed, which
  is also the statutory latest day for everyone (Reg art. 57, ``deposit_refund_after_contract``);
  payments that do not count as a deposit go back within 2 working days of being recorded
  (``deposit_refund_target``); every refund carries interest at the configured current-deposit
  rate for the days held (``openbid.deposits.interest``).

Secrecy before the opening (Law art. 22): who pays a deposit on which tender must not be known
before the opening any more than who obtained the documents, so events about one bidder's
sub-account or money carry no acting organisation, no subjects and no payload, only a salted
digest; statement events carry counts only.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation, User
from openbid.accounts.permissions import Actor, has_role, memberships, require_role, signed_in
from openbid.accounts.roles import Role
from openbid.core import clock, rules, workdays
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, salted_digest, service
from openbid.core.money import yuan
from openbid.core.validation import clean_text
from openbid.credit import effects
from openbid.deposits import interest, numbers
from openbid.deposits.models import (
    BasicAccount,
    CreditLine,
    Refund,
    RefundBatch,
    Statement,
    SubAccount,
    WebhookDelivery,
)
from openbid.tendering.lifecycle import State
from openbid.tendering.models import DocumentObtainer, Section, Tender

logger = logging.getLogger(__name__)

RULE_RESULT = "deposit_refund_after_result"
RULE_CONTRACT = "deposit_refund_after_contract"
RULE_NOT_COUNTED = "deposit_refund_target"
RULE_BASIC_ACCOUNT = "deposit_from_basic_account"

MAX_STATEMENT_BYTES = 10 * 1024 * 1024
MAX_STATEMENT_LINES = 20000
CSV_COLUMNS = (
    "bank_reference",
    "booked_at",
    "amount",
    "currency",
    "payee_account",
    "payer_account",
    "payer_name",
    "payer_bank",
    "memo",
)
_ACCOUNT = re.compile(r"\d{6,34}")
_AMOUNT = re.compile(r"\d{1,12}\.\d{2}")
_REFERENCE = re.compile(r"[A-Za-z0-9._:/\-]{1,64}")


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _bidder(actor: Actor, action: Any) -> tuple[User, Organisation]:
    membership = require_role(actor, Role.BIDDER_STAFF, action=action)
    return membership.user, membership.organisation


def is_deposit_staff(user: Any) -> bool:
    return has_role(user, Role.CENTRE_STAFF)


def _staff(actor: Actor, action: Any) -> Organisation:
    return require_role(actor, Role.CENTRE_STAFF, action=action).organisation


def _bank_code() -> str:
    return str(getattr(settings, "OPENBID_DEPOSIT_BANK_CODE", "demo"))


def known_banks() -> set[str]:
    """The bank codes the platform takes statements from: the collecting bank and every bank
    with a webhook secret."""
    return {_bank_code(), *webhook_secrets()}


def webhook_secrets() -> dict[str, str]:
    value = getattr(settings, "OPENBID_BANK_WEBHOOK_SECRETS", {}) or {}
    return {str(k): str(v) for k, v in dict(value).items() if v}


# --- basic accounts ----------------------------------------------------------------------------


def active_basic_account(org: Organisation) -> BasicAccount | None:
    return BasicAccount.objects.filter(organisation=org, active=True).first()


@service
def register_basic_account(
    actor: Actor,
    *,
    bank_name: str,
    account_name: str,
    account_number: str,
    sme: bool = False,
) -> BasicAccount:
    """A bidder registers its basic bank account (基本存款账户) and declares whether it is an SME.

    Cash deposits must come from this account (Reg art. 26). A new registration replaces the
    previous one. Payments recorded while no account was registered are matched again.
    """
    user, org = _bidder(actor, _("Registering the basic bank account"))
    bank_name = clean_text(bank_name, "bank_name", 120)
    account_name = clean_text(account_name, "account_name", 200)
    number = numbers.normalise_account(account_number)
    if not _ACCOUNT.fullmatch(number):
        raise InvalidInput(
            _("A bank account number is 6 to 34 digits (spaces and dashes are ignored)."),
            field="account_number",
            rule="account_number_format",
        )
    if account_name != org.name:
        raise InvalidInput(
            _(
                "The basic account must be in the organisation's own name (“%(org)s”), not "
                "“%(name)s”."
            )
            % {"org": org.name, "name": account_name},
            field="account_name",
            rule=RULE_BASIC_ACCOUNT,
            article=rules.rule(RULE_BASIC_ACCOUNT).article,
        )
    now = clock.now()
    previous = list(BasicAccount.objects.select_for_update().filter(organisation=org, active=True))
    for old in previous:
        old.active = False
        old.replaced_at = now
        old.save(update_fields=["active", "replaced_at"])
    account = BasicAccount.objects.create(
        organisation=org,
        bank_name=bank_name,
        account_name=account_name,
        account_number=number,
        sme=bool(sme),
        registered_by=user,
        registered_at=now,
    )
    rematched = 0
    for line in CreditLine.objects.select_for_update().filter(
        sub_account__organisation=org, match=CreditLine.Match.NO_BASIC_ACCOUNT
    ):
        assert line.sub_account is not None
        line.match, line.detail = _match(line, line.sub_account)
        line.save(update_fields=["match", "detail"])
        _refund_not_counted(line, now)
        rematched += 1
    digest, _salt = salted_digest(f"basic-account:{org.credit_code}:{number}".encode())
    record_event(
        "deposits.basic_account.registered",
        actor=user,
        actor_org=org,
        subjects=[("organisation", org.pk)],
        payload={"sme": account.sme, "replaces": len(previous), "rematched": rematched},
        private_digest=digest,
    )
    return account


# --- required amount and sub-accounts -----------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    base_amount: Decimal
    amount_due: Decimal
    reduction_percent: Decimal
    grade: str
    reason: str  # waived | sme_exempt | grade_exempt | grade_reduction | no_reduction
    region: str
    basis: str
    sme: bool


def required_deposit(section: Section, org: Organisation, on: dt.date | None = None) -> Requirement:
    """What ``org`` must put up for ``section``: the section's deposit reduced by the credit
    effects of its grade (and SME declaration) under the policy of the project's region."""
    tender = section.tender
    if tender.deposit_form == Tender.DepositForm.WAIVED:
        zero = Decimal("0.00")
        return Requirement(
            section.deposit, zero, Decimal(100), "", "waived", "", "Tender.deposit_form", False
        )
    basic = active_basic_account(org)
    sme = bool(basic and basic.sme)
    decision = effects.deposit_for(
        org,
        Decimal(section.deposit),
        region_code=tender.project.region_code,
        sme=sme,
        on=on or clock.today(),
    )
    return Requirement(
        base_amount=decision.base_amount,
        amount_due=decision.amount_due,
        reduction_percent=decision.reduction_percent,
        grade=decision.grade,
        reason=decision.reason,
        region=decision.region,
        basis=decision.basis,
        sme=sme,
    )


def _apply_requirement(sub: SubAccount, req: Requirement, on: dt.date) -> None:
    sub.base_amount = req.base_amount
    sub.amount_due = req.amount_due
    sub.reduction_percent = req.reduction_percent
    sub.credit_grade = req.grade
    sub.reduction_reason = req.reason
    sub.policy_region = req.region
    sub.policy_basis = req.basis
    sub.sme = req.sme
    sub.assessed_on = on


def _open(section: Section, org: Organisation, via: str, actor: Actor) -> SubAccount:
    existing = SubAccount.objects.filter(section=section, organisation=org).first()
    if existing is not None:
        return existing
    today = clock.today()
    req = required_deposit(section, org, today)
    for _attempt in range(5):
        number = numbers.new_number(section.pk)
        if SubAccount.objects.filter(number=number).exists():
            continue
        digest, salt = salted_digest(f"{section.pk}:{org.credit_code}:{number}".encode())
        sub = SubAccount(
            section=section,
            organisation=org,
            number=number,
            via=via,
            opened_at=clock.now(),
            digest_salt=salt,
        )
        _apply_requirement(sub, req, today)
        try:
            with transaction.atomic():
                sub.save()
        except IntegrityError:
            existing = SubAccount.objects.filter(section=section, organisation=org).first()
            if existing is not None:
                return existing
            continue
        record_event("deposits.sub_account.opened", actor=actor, payload={}, private_digest=digest)
        return sub
    raise Conflict(_("No free sub-account number was found; try again."), rule="sub_account")


@service
def open_sub_account(actor: Actor, section: Section) -> SubAccount:
    """A bidder that obtained the documents opens (or looks up) its virtual sub-account for a
    section, to pay a cash deposit into. Before any money arrives and before the deadline, the
    requirement is assessed again (the grade or the SME declaration may have changed)."""
    _user, org = _bidder(actor, _("Opening a deposit sub-account"))
    section = Section.objects.select_related("tender__project").get(pk=section.pk)
    tender = section.tender
    if tender.status != State.PUBLISHED or clock.now() >= tender.bid_deadline:
        raise Conflict(
            _("Deposits are paid while the tender accepts bids, until %(deadline)s.")
            % {"deadline": _local(tender.bid_deadline)},
            field="section",
            rule="bid_deadline",
            at=tender.bid_deadline,
        )
    if tender.deposit_form != Tender.DepositForm.CASH_OR_GUARANTEE:
        raise Conflict(
            _("This tender takes no cash deposit (%(form)s).")
            % {"form": tender.get_deposit_form_display()},
            field="section",
            rule="deposit_form",
        )
    if not DocumentObtainer.objects.filter(tender=tender, organisation=org).exists():
        raise Conflict(
            _("Obtain the tender documents first; the sub-account is opened with them."),
            field="section",
            rule="documents_obtained",
        )
    existing = SubAccount.objects.select_for_update().filter(section=section, organisation=org)
    sub = existing.first()
    if sub is None:
        return _open(section, org, SubAccount.Via.ON_DEMAND, actor)
    if not sub.lines.exists():
        today = clock.today()
        req = required_deposit(section, org, today)
        if req.amount_due != sub.amount_due or req.reason != sub.reduction_reason:
            _apply_requirement(sub, req, today)
            sub.save()
            digest = hashlib.sha256(
                bytes(sub.digest_salt) + f"{sub.pk}:reassessed:{req.amount_due}".encode()
            ).hexdigest()
            record_event(
                "deposits.sub_account.reassessed", actor=actor, payload={}, private_digest=digest
            )
    return sub


def open_on_obtaining(obtainer: DocumentObtainer) -> None:
    """Open a sub-account in every section when a bidder obtains the documents of a tender that
    takes cash deposits. Never stops the bidder from obtaining the documents (no preconditions,
    E-Bidding arts. 20–21): a failure here is logged and the bidder opens it from its page."""
    tender = obtainer.tender
    if tender.deposit_form != Tender.DepositForm.CASH_OR_GUARANTEE:
        return
    try:
        with transaction.atomic():
            for section in tender.sections.select_related("tender__project"):
                _open(section, obtainer.organisation, SubAccount.Via.OBTAINED, obtainer.obtained_by)
    except Exception:
        logger.exception("opening deposit sub-accounts for tender %s failed", tender.pk)


def sub_account_for(section: Section, org: Organisation) -> SubAccount | None:
    return SubAccount.objects.filter(section=section, organisation=org).first()


def received(sub: SubAccount) -> Decimal:
    """The money that counts as the deposit: accepted lines."""
    total = sub.lines.filter(match=CreditLine.Match.ACCEPTED).aggregate(s=Sum("amount"))["s"]
    return Decimal(total or 0).quantize(Decimal("0.01"))


# --- bank credits: parsing ----------------------------------------------------------------------


@dataclass(frozen=True)
class CreditIn:
    bank_reference: str
    booked_at: dt.datetime
    amount: Decimal
    payee_account: str
    payer_account: str
    payer_name: str
    payer_bank: str = ""
    memo: str = ""


def _line_error(line_no: int, column: str, message: Any) -> InvalidInput:
    return InvalidInput(
        _("Line %(line)d, %(column)s: %(message)s")
        % {"line": line_no, "column": column, "message": message},
        field=column,
        rule="statement_format",
    )


def _credit(row: dict[str, Any], line_no: int) -> CreditIn:
    def text(name: str, limit: int, required: bool = True) -> str:
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            raise _line_error(line_no, name, _("must be text."))
        value = (value or "").strip()
        if required and not value:
            raise _line_error(line_no, name, _("is missing."))
        if len(value) > limit:
            raise _line_error(
                line_no, name, _("is longer than %(max)d characters.") % {"max": limit}
            )
        return value

    reference = text("bank_reference", 64)
    if not _REFERENCE.fullmatch(reference):
        raise _line_error(
            line_no, "bank_reference", _("may hold letters, digits and . _ : / - only.")
        )
    raw_time = text("booked_at", 40)
    try:
        booked = dt.datetime.fromisoformat(raw_time)
    except ValueError:
        raise _line_error(
            line_no, "booked_at", _("is not an ISO 8601 time: %(value)s") % {"value": raw_time}
        ) from None
    if booked.tzinfo is None:
        raise _line_error(
            line_no,
            "booked_at",
            _("has no time zone; write it as 2026-03-20T10:15:00+08:00."),
        )
    raw_amount = text("amount", 20)
    if not _AMOUNT.fullmatch(raw_amount):
        raise _line_error(
            line_no,
            "amount",
            _("must be yuan with exactly two decimals, like 200000.00, not %(value)s.")
            % {"value": raw_amount},
        )
    amount = yuan(raw_amount, field="amount")
    if amount <= 0:
        raise _line_error(line_no, "amount", _("must be more than zero."))
    currency = (row.get("currency") or "CNY").strip() if "currency" in row else "CNY"
    if currency != "CNY":
        raise _line_error(
            line_no, "currency", _("must be CNY, not %(value)s.") % {"value": currency}
        )
    payee = numbers.normalise_account(text("payee_account", 40))
    payer = numbers.normalise_account(text("payer_account", 40))
    for name, value in (("payee_account", payee), ("payer_account", payer)):
        if not _ACCOUNT.fullmatch(value):
            raise _line_error(line_no, name, _("must be 6 to 34 digits."))
    return CreditIn(
        bank_reference=reference,
        booked_at=booked,
        amount=amount,
        payee_account=payee,
        payer_account=payer,
        payer_name=text("payer_name", 200),
        payer_bank=text("payer_bank", 120, required=False),
        memo=text("memo", 200, required=False),
    )


def parse_statement_csv(data: bytes) -> list[CreditIn]:
    """The credit lines of a statement CSV (docs/operators/deposits.md); refuses the whole file
    naming the first bad line and column."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise InvalidInput(
            _("The statement is larger than %(max)d bytes.") % {"max": MAX_STATEMENT_BYTES},
            field="file",
            rule="max_length",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            _("The statement must be encoded in UTF-8 (with or without a byte-order mark)."),
            field="file",
            rule="statement_format",
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            _("The statement's header lacks the columns: %(columns)s.")
            % {"columns": ", ".join(missing)},
            field="file",
            rule="statement_format",
        )
    reader.fieldnames = header
    credits: list[CreditIn] = []
    seen: set[str] = set()
    for i, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        credit = _credit(row, i)
        if credit.bank_reference in seen:
            raise _line_error(
                i, "bank_reference", _("appears twice in the file: bank references are unique.")
            )
        seen.add(credit.bank_reference)
        credits.append(credit)
        if len(credits) > MAX_STATEMENT_LINES:
            raise InvalidInput(
                _("A statement has at most %(max)d lines.") % {"max": MAX_STATEMENT_LINES},
                field="file",
                rule="max_length",
            )
    return credits


def parse_webhook_body(body: bytes) -> list[CreditIn]:
    """The credit lines of a webhook body ``{"credits": [ {...}, ... ]}`` (same fields as the
    CSV; amounts as strings, never JSON numbers)."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(
            _("The body is not JSON in UTF-8."), field="body", rule="webhook_format"
        ) from None
    items = doc.get("credits") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidInput(
            _("The body must be an object with a non-empty list “credits”."),
            field="credits",
            rule="webhook_format",
        )
    if len(items) > MAX_STATEMENT_LINES:
        raise InvalidInput(
            _("A statement has at most %(max)d lines.") % {"max": MAX_STATEMENT_LINES},
            field="credits",
            rule="max_length",
        )
    credits = []
    seen: set[str] = set()
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _line_error(i, "credits", _("must be an object."))
        if not isinstance(item.get("amount"), str):
            raise _line_error(
                i, "amount", _('must be a string like "200000.00", not a JSON number.')
            )
        credit = _credit(item, i)
        if credit.bank_reference in seen:
            raise _line_error(
                i, "bank_reference", _("appears twice in the body: bank references are unique.")
            )
        seen.add(credit.bank_reference)
        credits.append(credit)
    return credits


# --- bank credits: matching ---------------------------------------------------------------------


def _match(line: CreditLine, sub: SubAccount) -> tuple[str, dict[str, Any]]:
    """Whether a credit to ``sub`` counts as the deposit, and why not."""
    tender = sub.section.tender
    detail: dict[str, Any] = {
        "deadline": tender.bid_deadline.isoformat(),
        "booked_at": line.booked_at.isoformat(),
    }
    if tender.deposit_form != Tender.DepositForm.CASH_OR_GUARANTEE:
        return CreditLine.Match.NOT_ACCEPTED, {**detail, "form": tender.deposit_form}
    if line.booked_at >= tender.bid_deadline:
        return CreditLine.Match.LATE, detail
    basic = active_basic_account(sub.organisation)
    if basic is None:
        return CreditLine.Match.NO_BASIC_ACCOUNT, detail
    detail["basic_account"] = basic.account_number
    if basic.account_number != line.payer_account:
        return CreditLine.Match.WRONG_PAYER, detail
    return CreditLine.Match.ACCEPTED, detail


def line_message(line: CreditLine) -> str:
    """Why a credit line counts or not, in the user's language, with the times it compares."""
    d = line.detail or {}

    def when(key: str) -> str:
        value = d.get(key)
        return _local(dt.datetime.fromisoformat(value)) if value else ""

    if line.match == CreditLine.Match.ACCEPTED:
        return _(
            "Counts as the deposit: booked %(booked)s, before the deadline %(deadline)s, from "
            "the bidder's basic account."
        ) % {
            "booked": when("booked_at"),
            "deadline": when("deadline"),
        }
    if line.match == CreditLine.Match.LATE:
        return _(
            "Late: booked at %(booked)s, at or after the bid deadline %(deadline)s. It does not "
            "count as the deposit and is refunded."
        ) % {"booked": when("booked_at"), "deadline": when("deadline")}
    if line.match == CreditLine.Match.WRONG_PAYER:
        return _(
            "Not from the bidder's basic account: paid from %(payer)s, but the registered basic "
            "account is %(basic)s (Reg art. 26). It does not count as the deposit and is refunded "
            "to the account it came from."
        ) % {"payer": line.payer_account, "basic": d.get("basic_account", "")}
    if line.match == CreditLine.Match.NO_BASIC_ACCOUNT:
        return _(
            "The bidder has not registered its basic account, so whether the payment came from "
            "it cannot be checked; it counts once the account from which it was paid is "
            "registered as the basic account."
        )
    if line.match == CreditLine.Match.NOT_ACCEPTED:
        return _("The tender takes no cash deposit; the payment is refunded.")
    return _(
        "No sub-account has the number %(number)s: centre staff must find the payer and return "
        "the money."
    ) % {"number": line.payee_account}


def _refund_not_counted(line: CreditLine, now: dt.datetime) -> Refund | None:
    """Money that does not count as a deposit goes back within the 2-working-day target."""
    if line.match not in (
        CreditLine.Match.LATE,
        CreditLine.Match.WRONG_PAYER,
        CreditLine.Match.NOT_ACCEPTED,
    ):
        return None
    if Refund.objects.filter(line=line).exists():
        return None
    today = timezone.localdate(now)
    days = rules.rule(RULE_NOT_COUNTED, on=today).int_value
    try:
        due = workdays.add_working_days(today, days)
    except workdays.CalendarNotCovered:
        # A bank's credit is never refused for want of next year's holiday schedule: the due
        # date falls back to calendar days, which is never later than the working-day date.
        due = today + dt.timedelta(days=days)
    return Refund.objects.create(
        line=line,
        reason=Refund.Reason.NOT_COUNTED,
        rule=RULE_NOT_COUNTED,
        due_on=due,
        created_at=now,
    )


@dataclass
class LineResult:
    bank_reference: str
    outcome: str  # recorded | duplicate | conflict
    match: str = ""
    message: str = ""
    line: CreditLine | None = None


@dataclass
class IntakeResult:
    statement: Statement | None
    results: list[LineResult] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(1 for r in self.results if r.outcome == "recorded")

    @property
    def duplicates(self) -> int:
        return sum(1 for r in self.results if r.outcome != "recorded")


def _same(line: CreditLine, credit: CreditIn) -> bool:
    return (
        line.amount == credit.amount
        and line.booked_at == credit.booked_at
        and line.payee_account == credit.payee_account
        and line.payer_account == credit.payer_account
    )


def _record_credits(
    *,
    bank: str,
    source: str,
    credits: Sequence[CreditIn],
    actor: Actor,
    filename: str,
    sha256: str,
) -> IntakeResult:
    """Record each credit once (unique bank reference per bank) and match it to its
    sub-account. Runs inside the caller's service."""
    now = clock.now()
    statement = Statement.objects.create(
        bank=bank,
        source=source,
        filename=filename[:200],
        sha256=sha256,
        lines_total=len(credits),
        imported_by=actor if isinstance(actor, User) else None,
        imported_at=now,
    )
    result = IntakeResult(statement=statement)
    existing = {
        line.bank_reference: line
        for line in CreditLine.objects.filter(
            bank=bank, bank_reference__in=[c.bank_reference for c in credits]
        )
    }
    subs = {
        sub.number: sub
        for sub in SubAccount.objects.select_related("section__tender", "organisation").filter(
            number__in={c.payee_account for c in credits}
        )
    }
    for credit in credits:
        old = existing.get(credit.bank_reference)
        if old is not None:
            result.results.append(
                LineResult(
                    credit.bank_reference,
                    "duplicate" if _same(old, credit) else "conflict",
                    old.match,
                    _("Already recorded (bank references are unique); not recorded again.")
                    if _same(old, credit)
                    else _(
                        "A different credit with this bank reference was recorded before; "
                        "this one is not recorded. Ask the bank."
                    ),
                    old,
                )
            )
            continue
        sub = subs.get(credit.payee_account)
        line = CreditLine(
            statement=statement,
            bank=bank,
            bank_reference=credit.bank_reference,
            booked_at=credit.booked_at,
            amount=credit.amount,
            payee_account=credit.payee_account,
            payer_account=credit.payer_account,
            payer_name=credit.payer_name,
            payer_bank=credit.payer_bank,
            memo=credit.memo,
            sub_account=sub,
            recorded_at=now,
        )
        if sub is None:
            line.match = CreditLine.Match.UNMATCHED
            line.detail = {
                "booked_at": credit.booked_at.isoformat(),
                "check_digit_valid": numbers.luhn_valid(credit.payee_account),
            }
        else:
            line.match, line.detail = _match(line, sub)
        line.save()
        _refund_not_counted(line, now)
        result.results.append(
            LineResult(credit.bank_reference, "recorded", line.match, line_message(line), line)
        )
    statement.lines_new = result.new
    statement.save(update_fields=["lines_new"])
    record_event(
        "deposits.statement.recorded",
        actor=actor,
        actor_org=_staff_org(actor),
        subjects=[("bank_statement", statement.pk)],
        payload={
            "bank": bank,
            "source": source,
            "sha256": sha256,
            "lines": len(credits),
            "new": result.new,
        },
    )
    return result


def _staff_org(actor: Actor) -> Organisation | None:
    membership = memberships(actor, Role.CENTRE_STAFF).order_by("id").first()
    return membership.organisation if membership is not None else None


def _require_bank(bank: str, field_name: str = "bank") -> str:
    bank = (bank or "").strip()
    if bank not in known_banks():
        raise InvalidInput(
            _("Unknown bank code “%(bank)s”; the platform takes statements from: %(banks)s.")
            % {"bank": bank, "banks": ", ".join(sorted(known_banks()))},
            field=field_name,
            rule="bank_code",
        )
    return bank


@service
def import_statement(actor: Actor, *, bank: str, data: bytes, filename: str = "") -> IntakeResult:
    """Centre staff import a bank statement CSV. Every credit line is recorded once (a line
    already recorded is reported as a duplicate) and matched to its sub-account; a malformed file
    is refused whole, naming the line and column, and nothing is written."""
    _staff(actor, _("Importing a bank statement"))
    bank = _require_bank(bank)
    credits = parse_statement_csv(data)
    if not credits:
        raise InvalidInput(
            _("The statement has no credit lines."), field="file", rule="statement_format"
        )
    return _record_credits(
        bank=bank,
        source=Statement.Source.CSV,
        credits=credits,
        actor=actor,
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
    )


class WebhookRefused(NotAllowed):
    """A webhook call refused before anything is read from it (401)."""

    status = 401
    code = "webhook_refused"


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 with the bank's secret over ``<timestamp>.<raw body>``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _window() -> int:
    return int(getattr(settings, "OPENBID_BANK_WEBHOOK_WINDOW_SECONDS", 300))


@service
def receive_webhook(*, bank: str, body: bytes, timestamp: str, signature: str) -> IntakeResult:
    """A bank pushes credit lines (docs/operators/deposits.md). Refused, writing nothing: an
    unknown bank or one without a secret, a bad signature, a timestamp outside the replay window,
    and a delivery already received (the same signature). Lines already recorded in an earlier
    delivery are reported as duplicates and not recorded again."""
    secret = webhook_secrets().get(bank)
    if not secret:
        raise WebhookRefused(
            _("No webhook secret is configured for bank “%(bank)s”.") % {"bank": bank},
            field="bank",
            rule="webhook_bank",
        )
    given = (signature or "").strip()
    given = given.removeprefix("sha256=")
    expected = webhook_signature(secret, timestamp or "", body)
    if not re.fullmatch(r"[0-9a-f]{64}", given) or not hmac.compare_digest(given, expected):
        raise WebhookRefused(
            _("The signature does not verify (HMAC-SHA256 over the timestamp and the raw body)."),
            field="signature",
            rule="webhook_signature",
        )
    if not re.fullmatch(r"\d{1,12}", timestamp or ""):
        raise WebhookRefused(
            _("The timestamp must be Unix seconds."), field="timestamp", rule="webhook_timestamp"
        )
    sent = int(timestamp)
    now = clock.now()
    skew = abs(int(now.timestamp()) - sent)
    if skew > _window():
        raise WebhookRefused(
            _(
                "The timestamp %(sent)s is %(skew)d seconds away from the platform's clock; "
                "deliveries are accepted within %(window)d seconds."
            )
            % {
                "sent": _local(dt.datetime.fromtimestamp(sent, tz=dt.UTC)),
                "skew": skew,
                "window": _window(),
            },
            field="timestamp",
            rule="webhook_replay_window",
            at=now,
        )
    if WebhookDelivery.objects.filter(signature=given).exists():
        raise Conflict(
            _("This delivery was received before (a replay); nothing was recorded."),
            field="signature",
            rule="webhook_replay",
        )
    credits = parse_webhook_body(body)
    result = _record_credits(
        bank=bank,
        source=Statement.Source.WEBHOOK,
        credits=credits,
        actor=None,
        filename="",
        sha256=hashlib.sha256(body).hexdigest(),
    )
    assert result.statement is not None
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                bank=bank,
                signature=given,
                timestamp=sent,
                received_at=now,
                statement=result.statement,
            )
    except IntegrityError as exc:  # the same delivery arriving twice at once
        raise Conflict(
            _("This delivery was received before (a replay); nothing was recorded."),
            field="signature",
            rule="webhook_replay",
        ) from exc
    return result


# --- the deposit status of a bid (for the opening and the evaluation) ---------------------------


@dataclass(frozen=True)
class DepositStatus:
    status: str  # not_required | exempt | paid | guaranteed | insufficient | missing
    ok: bool
    reasons: tuple[str, ...]
    amount_due: Decimal
    received: Decimal
    guarantee: Any = None


def deposit_status(bid: Any, at: dt.datetime | None = None) -> DepositStatus:
    """Whether the deposit of ``bid`` (a ``bidding.Bid``) was put up in time, with the reasons.

    A finding for the opening and the evaluation: it changes nothing. Cash counts when booked
    before the bid deadline from the bidder's basic account; otherwise a valid e-guarantee
    (``openbid.deposits.guarantees.verify_guarantee`` at ``at``, default the bid deadline)."""
    section = Section.objects.select_related("tender__project").get(pk=bid.section_id)
    org = Organisation.objects.get(pk=bid.organisation_id)
    return status_for(section, org, at)


def status_for(section: Section, org: Organisation, at: dt.datetime | None = None) -> DepositStatus:
    """``deposit_status`` for a section and a bidder."""
    from openbid.deposits import guarantees

    tender = section.tender
    at = at or tender.bid_deadline
    zero = Decimal("0.00")
    if tender.deposit_form == Tender.DepositForm.WAIVED:
        return DepositStatus(
            "not_required", True, (_("The tender requires no deposit."),), zero, zero
        )
    sub = sub_account_for(section, org)
    if sub is not None:
        due, reason = sub.amount_due, sub.reduction_reason
        grade, basis = sub.credit_grade, sub.policy_basis
    else:
        req = required_deposit(section, org, timezone.localdate(tender.bid_deadline))
        due, reason, grade, basis = req.amount_due, req.reason, req.grade, req.basis
    if due == 0:
        return DepositStatus(
            "exempt",
            True,
            (
                _("Exempt from the deposit (%(reason)s, credit grade %(grade)s): %(basis)s")
                % {"reason": reason, "grade": grade or "—", "basis": basis},
            ),
            zero,
            zero,
        )
    reasons: list[str] = []
    got = zero
    if sub is not None and tender.deposit_form == Tender.DepositForm.CASH_OR_GUARANTEE:
        got = received(sub)
        if got >= due:
            return DepositStatus(
                "paid",
                True,
                (
                    _("Deposit of %(due)s yuan paid in time from the basic account (%(got)s yuan).")
                    % {"due": due, "got": got},
                ),
                due,
                got,
            )
        for line in sub.lines.exclude(match=CreditLine.Match.ACCEPTED):
            reasons.append(line_message(line))
        if got > 0:
            reasons.append(
                _("Only %(got)s yuan of the %(due)s yuan required counts as the deposit.")
                % {"got": got, "due": due}
            )
    check = guarantees.verify_guarantee(section, org, at)
    if check.ok:
        return DepositStatus(
            "guaranteed",
            True,
            (
                _("Covered by e-guarantee %(number)s of %(issuer)s.")
                % {"number": check.guarantee.number, "issuer": check.guarantee.issuer.name},
            ),
            due,
            got,
            check.guarantee,
        )
    reasons.extend(check.reasons)
    if not reasons:
        reasons.append(
            _("No deposit of %(due)s yuan was received before the deadline %(deadline)s.")
            % {"due": due, "deadline": _local(tender.bid_deadline)}
        )
    return DepositStatus("insufficient" if got > 0 else "missing", False, tuple(reasons), due, got)


def shared_payer_accounts(tender: Tender) -> dict[str, list[Organisation]]:
    """Payer accounts from which deposits for more than one bidder of ``tender`` were paid (a
    collusion indicator for supervision: 不同投标人的投标保证金从同一单位或者个人的账户转出, Reg
    art. 40). Every credit line counts, whether it was accepted or not."""
    by_payer: dict[str, dict[int, Organisation]] = {}
    for line in CreditLine.objects.filter(sub_account__section__tender=tender).select_related(
        "sub_account__organisation"
    ):
        assert line.sub_account is not None
        org = line.sub_account.organisation
        by_payer.setdefault(line.payer_account, {})[org.pk] = org
    return {
        payer: sorted(orgs.values(), key=lambda o: o.pk)
        for payer, orgs in sorted(by_payer.items())
        if len(orgs) > 1
    }


# --- refunds ------------------------------------------------------------------------------------


def _tender_subjects(tender: Tender) -> list[tuple[str, object]]:
    return [("tender", tender.pk), ("project", tender.project_id)]


@service
def result_published(
    tender: Tender,
    winner_ids: Iterable[int],
    at: dt.datetime,
    *,
    section: Section | None = None,
    actor: Actor = None,
) -> int:
    """The result of ``tender`` (or of one ``section``) is published at ``at``: the deposits of
    unsuccessful bidders are released, due back within 2 working days (the action plans' target,
    ``deposit_refund_after_result``); the winners' (organisation ids ``winner_ids``) stay until
    the contract is signed. Idempotent: a sub-account released before keeps its due date.
    Called by the award context."""
    winners = set(winner_ids)
    day = timezone.localdate(at)
    target = rules.rule(RULE_RESULT, on=day)
    due = workdays.add_working_days(day, target.int_value)
    subs = SubAccount.objects.select_for_update().filter(section__tender=tender)
    if section is not None:
        subs = subs.filter(section=section)
    released = 0
    for sub in subs:
        if sub.released_at is not None or sub.organisation_id in winners:
            continue
        sub.released_at = at
        sub.refund_basis = SubAccount.RefundBasis.RESULT
        sub.refund_due_on = due
        sub.refund_rule = RULE_RESULT
        sub.save(update_fields=["released_at", "refund_basis", "refund_due_on", "refund_rule"])
        released += 1
    created = _create_refunds(tender)
    record_event(
        "deposits.refunds.released_by_result",
        actor=actor,
        subjects=_tender_subjects(tender)
        + ([("section", section.pk)] if section is not None else []),
        payload={
            "result_at": at,
            "due_on": due,
            "rule": RULE_RESULT,
            "sub_accounts": released,
            "refunds": created,
        },
    )
    return released


@service
def contract_signed(
    tender: Tender, bidder: Organisation, at: dt.datetime, *, actor: Actor = None
) -> int:
    """The contract of ``tender`` with ``bidder`` was signed at ``at``: the winner's deposits, and
    any deposit still held in the tender, are due back within 5 days (Reg art. 57,
    ``deposit_refund_after_contract``; a last day on a holiday moves to the next working day,
    民法典 art. 203). Idempotent. Called by the award context."""
    day = timezone.localdate(at)
    limit = rules.rule(RULE_CONTRACT, on=day)
    due = workdays.add_calendar_days_period(day, limit.int_value)
    released = 0
    for sub in SubAccount.objects.select_for_update().filter(section__tender=tender):
        if sub.released_at is not None:
            continue
        sub.released_at = at
        sub.refund_basis = SubAccount.RefundBasis.CONTRACT
        sub.refund_due_on = due
        sub.refund_rule = RULE_CONTRACT
        sub.save(update_fields=["released_at", "refund_basis", "refund_due_on", "refund_rule"])
        released += 1
    created = _create_refunds(tender)
    record_event(
        "deposits.refunds.released_by_contract",
        actor=actor,
        subjects=[*_tender_subjects(tender), ("organisation", bidder.pk)],
        payload={
            "contract_at": at,
            "due_on": due,
            "rule": RULE_CONTRACT,
            "sub_accounts": released,
            "refunds": created,
        },
    )
    return released


def _create_refunds(tender: Tender | None = None) -> int:
    """A refund for every credit line of a released sub-account that has none yet."""
    lines = CreditLine.objects.filter(
        sub_account__released_at__isnull=False, refund__isnull=True
    ).select_related("sub_account")
    if tender is not None:
        lines = lines.filter(sub_account__section__tender=tender)
    now = clock.now()
    created = 0
    for line in lines:
        sub = line.sub_account
        assert sub is not None and sub.refund_due_on is not None
        Refund.objects.create(
            line=line,
            reason=Refund.Reason.CONTRACT
            if sub.refund_basis == SubAccount.RefundBasis.CONTRACT
            else Refund.Reason.RESULT,
            rule=sub.refund_rule,
            due_on=sub.refund_due_on,
            created_at=now,
        )
        created += 1
    return created


@service
def create_due_refunds() -> int:
    """Clock loop: refunds for credit lines of released sub-accounts (e.g. a late payment that
    arrived after the release). Idempotent."""
    created = _create_refunds()
    if created:
        record_event("deposits.refunds.created", payload={"refunds": created})
    return created


def refund_amounts(refund: Refund, value_date: dt.date) -> interest.Interest:
    line = refund.line
    days = interest.days_held(timezone.localdate(line.booked_at), value_date)
    return interest.interest_for(Decimal(line.amount), days)


REFUND_CSV_COLUMNS = (
    "instruction_id",
    "batch",
    "value_date",
    "due_on",
    "from_account",
    "to_account",
    "to_name",
    "to_bank",
    "principal",
    "interest_days",
    "annual_rate_percent",
    "day_basis",
    "interest",
    "amount",
    "original_reference",
    "memo",
)


@service
def export_refunds(actor: Actor) -> RefundBatch:
    """Centre staff export the refund instructions due (and not yet instructed) for the bank,
    as one batch with today as the value date; interest is computed up to that date."""
    _staff(actor, _("Exporting refund instructions"))
    _create_refunds()
    pending = list(
        Refund.objects.select_for_update(of=("self",))
        .filter(status=Refund.Status.PENDING)
        .select_related("line__sub_account")
        .order_by("due_on", "id")
    )
    if not pending:
        raise Conflict(_("No refund is waiting to be instructed."), rule="refunds_pending")
    now = clock.now()
    value_date = clock.today()
    batch = RefundBatch.objects.create(
        exported_by=actor if isinstance(actor, User) else None,
        exported_at=now,
        value_date=value_date,
        csv="",
        sha256="",
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REFUND_CSV_COLUMNS)
    for refund in pending:
        amounts = refund_amounts(refund, value_date)
        refund.status = Refund.Status.EXPORTED
        refund.batch = batch
        refund.value_date = value_date
        refund.interest_days = amounts.days
        refund.interest_rate = amounts.rate_percent
        refund.day_basis = amounts.day_basis
        refund.interest = amounts.interest
        refund.total = amounts.total
        refund.save()
        line = refund.line
        writer.writerow(
            [
                refund.pk,
                batch.pk,
                value_date.isoformat(),
                refund.due_on.isoformat(),
                line.payee_account,
                line.payer_account,
                line.payer_name,
                line.payer_bank,
                f"{amounts.principal:.2f}",
                amounts.days,
                str(amounts.rate_percent),
                amounts.day_basis,
                f"{amounts.interest:.2f}",
                f"{amounts.total:.2f}",
                line.bank_reference,
                f"openbid refund {refund.pk}",
            ]
        )
    batch.csv = out.getvalue()
    batch.sha256 = hashlib.sha256(batch.csv.encode()).hexdigest()
    batch.save(update_fields=["csv", "sha256"])
    record_event(
        "deposits.refunds.exported",
        actor=actor,
        actor_org=_staff_org(actor),
        subjects=[("refund_batch", batch.pk)],
        payload={
            "value_date": value_date,
            "refunds": len(pending),
            "sha256": batch.sha256,
            "total": f"{sum((r.total or Decimal(0)) for r in pending):.2f}",
        },
    )
    return batch


def _confirm(refund: Refund, bank_reference: str, completed_at: dt.datetime) -> Refund:
    if refund.status == Refund.Status.COMPLETED:
        if refund.bank_reference == bank_reference:
            return refund
        raise Conflict(
            _("Refund %(id)s was already confirmed with bank reference %(ref)s.")
            % {"id": refund.pk, "ref": refund.bank_reference},
            field="bank_reference",
            rule="refund_state",
        )
    if refund.status != Refund.Status.EXPORTED:
        raise Conflict(
            _("Refund %(id)s has not been instructed to the bank yet.") % {"id": refund.pk},
            field="instruction_id",
            rule="refund_state",
        )
    if not _REFERENCE.fullmatch(bank_reference or ""):
        raise InvalidInput(
            _("Give the bank's reference of the refund (letters, digits and . _ : / -)."),
            field="bank_reference",
            rule="required",
        )
    if completed_at.tzinfo is None:
        raise InvalidInput(
            _("The completion time needs a time zone."), field="completed_at", rule="time_zone"
        )
    refund.status = Refund.Status.COMPLETED
    refund.bank_reference = bank_reference
    refund.completed_at = completed_at
    refund.save(update_fields=["status", "bank_reference", "completed_at"])
    return refund


@service
def confirm_refund(
    actor: Actor, refund: Refund, *, bank_reference: str, completed_at: dt.datetime
) -> Refund:
    """Centre staff confirm that the bank completed a refund (its reference and time)."""
    _staff(actor, _("Confirming a refund"))
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    _confirm(refund, bank_reference, completed_at)
    record_event(
        "deposits.refund.completed",
        actor=actor,
        actor_org=_staff_org(actor),
        subjects=[("refund", refund.pk)],
        payload={"bank_reference": bank_reference, "completed_at": completed_at},
    )
    return refund


CONFIRMATION_COLUMNS = ("instruction_id", "bank_reference", "completed_at")


@service
def import_refund_confirmations(actor: Actor, data: bytes) -> list[Refund]:
    """Centre staff import the bank's confirmation file (``instruction_id,bank_reference,
    completed_at``); refused whole, writing nothing, if any line is wrong."""
    _staff(actor, _("Importing refund confirmations"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            _("The file must be encoded in UTF-8."), field="file", rule="statement_format"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CONFIRMATION_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            _("The header lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)},
            field="file",
            rule="statement_format",
        )
    reader.fieldnames = header
    done: list[Refund] = []
    for i, row in enumerate(reader, start=2):
        raw_id = (row.get("instruction_id") or "").strip()
        if not raw_id.isdigit():
            raise _line_error(i, "instruction_id", _("must be a refund instruction number."))
        refund = Refund.objects.select_for_update().filter(pk=int(raw_id)).first()
        if refund is None:
            raise _line_error(i, "instruction_id", _("no such refund instruction."))
        try:
            completed = dt.datetime.fromisoformat((row.get("completed_at") or "").strip())
        except ValueError:
            raise _line_error(i, "completed_at", _("is not an ISO 8601 time.")) from None
        if completed.tzinfo is None:
            raise _line_error(i, "completed_at", _("has no time zone."))
        try:
            done.append(_confirm(refund, (row.get("bank_reference") or "").strip(), completed))
        except (Conflict, InvalidInput) as exc:
            raise _line_error(i, exc.field or "instruction_id", exc.message) from exc
    if not done:
        raise InvalidInput(_("The file has no lines."), field="file", rule="statement_format")
    record_event(
        "deposits.refunds.confirmed",
        actor=actor,
        actor_org=_staff_org(actor),
        subjects=[("refund", r.pk) for r in done],
        payload={"refunds": len(done), "sha256": hashlib.sha256(data).hexdigest()},
    )
    return done


@service
def warn_overdue_refunds() -> int:
    """Clock loop: a refund not completed by its due date raises one warning event (and shows
    on the staff page). Idempotent: each refund is warned about once."""
    today = clock.today()
    now = clock.now()
    warned = 0
    for refund in (
        Refund.objects.select_for_update(of=("self",))
        .filter(due_on__lt=today, overdue_warned_at__isnull=True)
        .exclude(status=Refund.Status.COMPLETED)
        .select_related("line__sub_account__section")
    ):
        refund.overdue_warned_at = now
        refund.save(update_fields=["overdue_warned_at"])
        sub = refund.line.sub_account
        subjects: list[tuple[str, object]] = [("refund", refund.pk)]
        if sub is not None:
            subjects.append(("tender", sub.section.tender_id))
        record_event(
            "deposits.refund.overdue",
            subjects=subjects,
            payload={"due_on": refund.due_on, "rule": refund.rule, "status": refund.status},
        )
        warned += 1
    return warned


def overdue_refunds() -> Any:
    return (
        Refund.objects.filter(due_on__lt=clock.today())
        .exclude(status=Refund.Status.COMPLETED)
        .select_related("line__sub_account__section__tender", "line__sub_account__organisation")
    )


# --- the opening's finding ----------------------------------------------------------------------


@service
def record_opening_findings(actor: Actor, tender: Tender) -> list[Any]:
    """Record the deposit status of every valid bid of ``tender`` as found at the bid deadline
    (for the opening record and the evaluation). Centre staff or the tender's manager, after the
    deadline. Idempotent: a bid's finding is recorded once."""
    from openbid.bidding.models import Bid
    from openbid.deposits.models import DepositFinding
    from openbid.tendering.services import require_manager

    if not has_role(actor, Role.CENTRE_STAFF):
        require_manager(actor, tender.project, _("Recording the deposit findings"))
    tender = Tender.objects.select_related("project").get(pk=tender.pk)
    if clock.now() < tender.bid_deadline:
        raise Conflict(
            _("Deposits are checked at the bid deadline, %(deadline)s.")
            % {"deadline": _local(tender.bid_deadline)},
            rule="bid_deadline",
            at=tender.bid_deadline,
        )
    found = []
    for bid in Bid.objects.filter(section__tender=tender, status=Bid.Status.VALID):
        existing = DepositFinding.objects.filter(bid=bid).first()
        if existing is not None:
            found.append(existing)
            continue
        status = deposit_status(bid)
        found.append(
            DepositFinding.objects.create(
                bid=bid,
                status=status.status,
                reasons=list(status.reasons),
                checked_at=clock.now(),
            )
        )
    record_event(
        "deposits.findings.recorded",
        actor=actor,
        subjects=_tender_subjects(tender),
        payload={"bids": len(found), "not_ok": sum(1 for f in found if f.status in _NOT_OK)},
    )
    return found


_NOT_OK = frozenset({"missing", "insufficient"})


def visible_sub_accounts(actor: Actor) -> Any:
    user = signed_in(actor)
    orgs = [m.organisation_id for m in memberships(user, Role.BIDDER_STAFF)]
    return (
        SubAccount.objects.filter(organisation_id__in=orgs)
        .select_related("section__tender", "organisation")
        .order_by("-opened_at")
    )


def require_sub_account(actor: Actor, pk: int) -> SubAccount:
    sub = visible_sub_accounts(actor).filter(pk=pk).first()
    if sub is None and not is_deposit_staff(actor):
        raise NotFound(_("No such sub-account of your organisation."), rule="exists")
    return sub or SubAccount.objects.get(pk=pk)


__all__ = [
    "CreditIn",
    "DepositStatus",
    "IntakeResult",
    "Requirement",
    "deposit_status",
    "shared_payer_accounts",
]
