"""The opening (开标): the session starts by itself at the bid deadline, bidders release their keys,
the platform decrypts, checks and reads out each bid (唱标), objections are answered on the spot,
and the tenderer or agency signs the opening record, which is published.

* ``start_due_openings`` — for tenders whose bid deadline has passed: close bidding, then, unless
  a hold suspends the opening (``openbid.core.holds``, step ``open``: it waits), either
  take the failed path (a section with fewer than ``min_bidders`` valid bids: Law art. 28, Reg
  art. 44) or start the session and move the tender to ``opened``. Idempotent; run by the clock
  loop and lazily whenever an opening is looked at.
* ``release_key`` — a bidder releases the data key of its bid while the decryption window is open
  (checked at write time). The platform re-hashes the stored ciphertext against the signed
  receipt, checks the key against the envelope's key commitment, decrypts with the aad of
  ``openbid.opening.aad``, checks the plaintext against the signed commitment and reads the
  package. Any failure rejects the bid with its reason; following E-Bidding art. 31, a failure
  through the bidder's fault is treated as revoked (撤销), any other as withdrawn (撤回).
* ``close_decryption`` — after the window, bids still awaiting a key are rejected, except where
  the tender has a key escrow and the bid is sealed to it: those wait for the custodians
  (``openbid.opening.escrow``) for one more window of the same length, and are rejected only if
  ``threshold`` custodians have not given their shares by then.
* ``raise_objection`` / ``reply_objection`` — objections at the opening (Reg art. 44).
* ``sign_opening_record`` — the record, signed as a C2SP signed note with the platform key and
  published.

The decryption window is the tender's (``Tender.decryption_window_minutes``), fixed at
publication.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import Actor, memberships, require_role, signed_in
from openbid.accounts.roles import Role
from openbid.bidding import package
from openbid.bidding.models import Bid
from openbid.bidding.services import commitment_message
from openbid.core import clock, holds, rules
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, service
from openbid.core.validation import clean_text
from openbid.crypto import document_signatures
from openbid.crypto.errors import CryptoError
from openbid.crypto.suites import SUITES, get_suite
from openbid.ledger import keys
from openbid.ledger.note import sign_note, verify_note
from openbid.opening.aad import bid_aad
from openbid.opening.models import (
    EscrowShareSubmission,
    OpenedBid,
    OpeningObjection,
    OpeningSession,
)
from openbid.tendering import lifecycle
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Section, Tender
from openbid.tendering.services import close_bidding_due, require_manager

__all__ = [
    "REASONS",
    "bid_aad",
    "close_decryption",
    "decryption_window",
    "opened_package",
    "parse_data_key",
    "raise_objection",
    "record_text",
    "refresh",
    "release_key",
    "reply_objection",
    "sign_opening_record",
    "start_due_openings",
]

DATA_KEY_BYTES = 32
# The read-out of one bid's declared items goes into the signed record; a form larger than this is
# not a bid form but something else.
MAX_FORM_BYTES = 16 * 1024
MAX_PRICE = Decimal("1e16")
DECRYPT_FAILURE = "decrypt_failure"  # rules table key (E-Bidding art. 31)

Fault = OpenedBid.Fault

# Why a bid is rejected at the opening, and whose fault it is (E-Bidding art. 31). The message is
# translated when shown; the code and the details (hashes, what the package reader found) are kept.
REASONS: dict[str, tuple[Promise, str]] = {
    "ciphertext_missing": (
        gettext_lazy("The stored ciphertext cannot be read."),
        Fault.NOT_BIDDER,
    ),
    "tampered_ciphertext": (
        gettext_lazy(
            "Tampered ciphertext: the stored ciphertext does not match the receipt issued when it "
            "was received."
        ),
        Fault.NOT_BIDDER,
    ),
    "receipt_invalid": (
        gettext_lazy(
            "The bid's receipt does not verify with the platform key, or names another ciphertext "
            "or commitment than the stored bid."
        ),
        Fault.NOT_BIDDER,
    ),
    "signature_invalid": (
        gettext_lazy("The bidder's signature over the commitment does not verify any more."),
        Fault.NOT_BIDDER,
    ),
    "invalid_envelope": (
        gettext_lazy("The sealed file is not an envelope of the bid's crypto suite."),
        Fault.BIDDER,
    ),
    "wrong_key": (
        gettext_lazy("Wrong key: the released key is not the key the bid was sealed with."),
        Fault.BIDDER,
    ),
    "undecryptable": (
        gettext_lazy(
            "The key is the bid's key but the content does not decrypt: the bid was not sealed "
            "for this section, or was damaged before it was uploaded."
        ),
        Fault.BIDDER,
    ),
    "commitment_mismatch": (
        gettext_lazy(
            "The decrypted plaintext does not match the commitment the bidder signed at submission."
        ),
        Fault.BIDDER,
    ),
    "bad_package": (
        gettext_lazy("The decrypted bid is not a valid bid package."),
        Fault.BIDDER,
    ),
    "no_key": (
        gettext_lazy("No key was released in time."),
        Fault.BIDDER,
    ),
    "escrow_unwrap_failed": (
        gettext_lazy("The copy of the data key sealed to the escrow key does not unwrap."),
        Fault.BIDDER,
    ),
}

TREATMENT = {
    Fault.BIDDER: gettext_lazy("treated as revoked (撤销)"),
    Fault.NOT_BIDDER: gettext_lazy("treated as withdrawn (撤回)"),
}


def decryption_window(tender: Tender) -> dt.timedelta:
    """How long bidders have to release their keys once the tender's opening starts."""
    return dt.timedelta(minutes=tender.decryption_window_minutes)


def reason_message(code: str) -> str:
    """The reason a bid was rejected, in the active language."""
    message, _fault = REASONS.get(code, (gettext_lazy("Rejected."), Fault.BIDDER))
    return str(message)


def treatment(fault: str) -> str:
    return str(TREATMENT[Fault(fault)]) if fault else ""


def _subjects(tender: Tender) -> list[tuple[str, object]]:
    return [("tender", tender.pk), ("project", tender.project_id)]


def _local(moment: dt.datetime | None) -> str:
    if moment is None:
        return "-"
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- starting the opening -----------------------------------------------------------------------


def start_due_openings(now: dt.datetime | None = None, *, tender_id: int | None = None) -> int:
    """Start the opening of every tender whose bid deadline has passed (idempotent).

    Bidding is closed first (the tendering service). Then, per tender: if a section has fewer
    valid bids than ``min_bidders``, there is no opening and the tender fails (Law art. 28; Reg
    art. 44); otherwise the session starts, with every valid bid awaiting its key, and the tender
    is ``opened``. A session that starts late (the clock loop was down) gets its full decryption
    window from the moment it starts. Returns how many tenders changed.
    """
    now = now or clock.now()
    changed = close_bidding_due(now)
    due = Tender.objects.filter(
        status=State.BIDDING_CLOSED, bid_deadline__lte=now, opening__isnull=True
    )
    if tender_id is not None:
        due = due.filter(pk=tender_id)
    for pk in list(due.values_list("pk", flat=True)):
        changed += _start_opening(pk, now)
    return changed


@service
def _start_opening(tender_id: int, now: dt.datetime) -> int:
    tender = Tender.objects.select_for_update().get(pk=tender_id)
    if (
        tender.status != State.BIDDING_CLOSED
        or tender.bid_deadline > now
        or OpeningSession.objects.filter(tender=tender).exists()
    ):
        return 0
    if holds.active_holds(tender, "open"):
        # Suspended (a pending objection to the documents, a regulator's order: Reg arts. 22,
        # 62): the opening waits, and starts on the first tick after the hold is released, with
        # its full decryption window from then. Nothing is written meanwhile.
        return 0
    minimum = rules.rule("min_bidders", on=tender.rules_date or timezone.localdate(now))
    sections = list(tender.sections.order_by("number"))
    bids = list(
        Bid.objects.filter(section__tender=tender, status=Bid.Status.VALID)
        .select_related("organisation", "section")
        .order_by("section__number", "committed_at", "pk")
    )
    counts = {s.pk: sum(1 for b in bids if b.section_id == s.pk) for s in sections}
    short = [s for s in sections if counts[s.pk] < minimum.int_value]
    if short:
        _fail_for_too_few_bids(tender, minimum, sections, counts, short)
        return 1
    lifecycle.check("open", tender.status)
    session = OpeningSession.objects.create(
        tender=tender,
        scheduled_at=tender.bid_deadline,
        started_at=now,
        decryption_deadline=now + decryption_window(tender),
    )
    OpenedBid.objects.bulk_create(
        OpenedBid(session=session, bid=bid, order=n) for n, bid in enumerate(bids, start=1)
    )
    tender.status = State.OPENED
    tender.save(update_fields=["status"])
    record_event(
        "opening.session.started",
        subjects=[
            *_subjects(tender),
            ("opening", session.pk),
            *[("bid", b.pk) for b in bids],
            *[("organisation", b.organisation_id) for b in bids],
        ],
        payload={
            "scheduled_at": tender.bid_deadline,
            "started_at": now,
            "decryption_deadline": session.decryption_deadline,
            # From now on who bid is public: the salts let anyone check the ledger's digests of
            # the receipts ("bidding.bid.received") against these bids.
            "bids": [
                {
                    "bid": b.pk,
                    "order": n,
                    "section": b.section.number,
                    "bidder": b.organisation.credit_code,
                    "bidder_name": b.organisation.name,
                    "version": b.version,
                    "suite": b.suite,
                    "ciphertext_sha256": b.ciphertext_sha256,
                    "commitment": b.commitment,
                    "ledger_index": b.ledger_index,
                    "digest_salt": bytes(b.digest_salt).hex(),
                }
                for n, b in enumerate(bids, start=1)
            ],
        },
    )
    return 1


def _fail_for_too_few_bids(
    tender: Tender,
    minimum: rules.Rule,
    sections: list[Section],
    counts: dict[int, int],
    short: list[Section],
) -> None:
    """The platform's own path to 流标 (no actor): fewer than ``min_bidders`` bids, no opening."""
    lifecycle.check("fail", tender.status)
    with translation.override(settings.LANGUAGE_CODE):
        reason = _(
            "Fewer than %(minimum)d bids were received for section %(sections)s: there is no "
            "opening and the tender is to be repeated (%(article)s)."
        ) % {
            "minimum": minimum.int_value,
            "sections": ", ".join(
                _("%(number)d (%(count)d bids)") % {"number": s.number, "count": counts[s.pk]}
                for s in short
            ),
            "article": minimum.article,
        }
    tender.status = State.FAILED
    tender.status_reason = reason
    tender.save(update_fields=["status", "status_reason"])
    record_event(
        "tendering.tender.failed",
        subjects=_subjects(tender),
        payload={
            "reason": reason,
            "rule": minimum.key,
            "article": minimum.article,
            "minimum": minimum.int_value,
            "sections": [{"number": s.number, "bids": counts[s.pk]} for s in sections],
            "by": "opening",
        },
    )


# --- closing the decryption window ----------------------------------------------------------------


def close_decryption(now: dt.datetime | None = None, *, tender_id: int | None = None) -> int:
    """Close every decryption window that has passed (idempotent): bids still awaiting a key are
    rejected — no key released in time, the bidder's fault (E-Bidding art. 31) — or, where the
    tender has a key escrow and the bid is sealed to it, wait for the custodians. An escrow period
    that has passed is closed the same way. Returns how many sessions changed."""
    now = now or clock.now()
    due = OpeningSession.objects.filter(
        status=OpeningSession.Status.OPEN, decryption_deadline__lte=now
    )
    escrow_due = OpeningSession.objects.filter(
        status=OpeningSession.Status.ESCROW, escrow_deadline__lte=now
    )
    if tender_id is not None:
        due = due.filter(tender_id=tender_id)
        escrow_due = escrow_due.filter(tender_id=tender_id)
    changed = 0
    for pk in list(due.values_list("pk", flat=True)):
        changed += _close_session(pk, now)
    for pk in list(escrow_due.values_list("pk", flat=True)):
        changed += _close_escrow(pk, now)
    return changed


def _escrow_key_id(session: OpeningSession) -> str:
    escrow = getattr(session.tender, "escrow", None)
    return escrow.key_id if escrow is not None else ""


@service
def _close_session(session_id: int, now: dt.datetime) -> int:
    session = (
        OpeningSession.objects.select_for_update(of=("self",))
        .select_related("tender")
        .get(pk=session_id)
    )
    if session.status != OpeningSession.Status.OPEN or session.decryption_deadline > now:
        return 0
    waiting = list(
        OpenedBid.objects.select_for_update(of=("self",))
        .filter(session=session, status=OpenedBid.Status.AWAITING_KEY)
        .select_related("bid__organisation", "bid__section")
    )
    escrow_key = _escrow_key_id(session)
    to_escrow = [o for o in waiting if escrow_key and o.bid.escrow_key_id == escrow_key]
    for opened in waiting:
        if opened not in to_escrow:
            _decide(opened, Outcome.rejected("no_key"), now)
    if not to_escrow:
        _close(session, now)
        return 1
    for opened in to_escrow:
        opened.status = OpenedBid.Status.AWAITING_ESCROW
        opened.save(update_fields=["status"])
    session.status = OpeningSession.Status.ESCROW
    session.escrow_deadline = now + decryption_window(session.tender)
    session.save(update_fields=["status", "escrow_deadline"])
    record_event(
        "opening.escrow.started",
        subjects=[*_subjects(session.tender), ("opening", session.pk)],
        payload={
            "escrow_key_id": escrow_key,
            "bids": [o.bid_id for o in to_escrow],
            "escrow_deadline": session.escrow_deadline,
        },
    )
    return 1


@service
def _close_escrow(session_id: int, now: dt.datetime) -> int:
    session = (
        OpeningSession.objects.select_for_update(of=("self",))
        .select_related("tender")
        .get(pk=session_id)
    )
    if (
        session.status != OpeningSession.Status.ESCROW
        or session.escrow_deadline is None
        or session.escrow_deadline > now
    ):
        return 0
    waiting = (
        OpenedBid.objects.select_for_update(of=("self",))
        .filter(session=session, status=OpenedBid.Status.AWAITING_ESCROW)
        .select_related("bid__organisation", "bid__section")
    )
    for opened in waiting:
        _decide(
            opened,
            Outcome.rejected("no_key", "the escrow custodians did not recombine the key in time"),
            now,
        )
    clear_escrow_shares(session, now)
    _close(session, now)
    return 1


def clear_escrow_shares(session: OpeningSession, now: dt.datetime) -> None:
    """Erase the custodians' shares given at this opening: they are needed no more."""
    EscrowShareSubmission.objects.filter(
        escrow__tender_id=session.tender_id, cleared_at__isnull=True
    ).update(mnemonic="", cleared_at=now)


def _close(session: OpeningSession, now: dt.datetime) -> None:
    session.status = OpeningSession.Status.CLOSED
    session.closed_at = now
    session.save(update_fields=["status", "closed_at"])
    counts = {
        status: session.bids.filter(status=status).count() for status in OpenedBid.Status.values
    }
    record_event(
        "opening.decryption.closed",
        subjects=[*_subjects(session.tender), ("opening", session.pk)],
        payload={"closed_at": now, "opened": counts["opened"], "rejected": counts["rejected"]},
    )


def refresh(tender: Tender, now: dt.datetime | None = None) -> None:
    """What the clock loop does, for one tender, applied lazily when its opening is looked at."""
    now = now or clock.now()
    if tender.status in (State.PUBLISHED, State.BIDDING_CLOSED) and tender.bid_deadline <= now:
        start_due_openings(now, tender_id=tender.pk)
    close_decryption(now, tender_id=tender.pk)


# --- releasing a key ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What examining a released key found."""

    status: str
    reason_code: str = ""
    detail: str = ""
    price: Decimal | None = None
    duration_days: int | None = None
    form: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def rejected(cls, code: str, detail: str = "") -> Outcome:
        return cls(OpenedBid.Status.REJECTED, code, detail)

    @property
    def fault(self) -> str:
        return REASONS[self.reason_code][1] if self.reason_code else ""


def parse_data_key(value: bytes | str, *, bid_id: int | None = None) -> bytes:
    """A released data key from what a person pastes or uploads: the raw 32 bytes, base64 (also
    URL-safe), 64 hexadecimal digits, or a JSON key file ``{"data_key": "<base64>", ...}``.

    A value that is not a 32-byte key, or a key file naming another bid than ``bid_id``, is refused
    as input; it does not reject the bid.
    """
    if isinstance(value, bytes) and len(value) == DATA_KEY_BYTES:
        return value
    try:
        text = value.decode("utf-8") if isinstance(value, bytes) else value
    except UnicodeDecodeError:
        text = ""
    text = text.strip().lstrip("\ufeff")
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict) and isinstance(loaded.get("data_key"), str):
            named = loaded.get("bid")
            if bid_id is not None and named is not None and str(named) != str(bid_id):
                raise InvalidInput(
                    _("This key file is for bid %(other)s, not bid %(bid)s.")
                    % {"other": named, "bid": bid_id},
                    field="data_key",
                    rule="data_key_bid",
                )
            text = loaded["data_key"].strip()
    compact = re.sub(r"\s+", "", text)
    candidates: list[bytes] = []
    if re.fullmatch(r"[0-9a-fA-F]{64}", compact):
        candidates.append(bytes.fromhex(compact))
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        with contextlib.suppress(binascii.Error, ValueError):
            candidates.append(decode(compact + "=" * (-len(compact) % 4)))
    for candidate in candidates:
        if len(candidate) == DATA_KEY_BYTES:
            return candidate
    raise InvalidInput(
        _(
            "A data key is 32 bytes, given as base64 or as the key file written by the bidder "
            "client."
        ),
        field="data_key",
        rule="data_key_format",
    )


def _receipt_fields(bid: Bid) -> dict[str, str] | None:
    """The fields of the bid's receipt, if it verifies with the platform key."""
    try:
        verified = verify_note(bid.receipt, [keys.log_signer().verifier()])
    except ValueError:
        return None
    found: dict[str, str] = {}
    for line in verified.text.splitlines():
        name, _sep, value = line.partition(" ")
        found.setdefault(name, value)
    return found


def _key_matches(suite_name: str, envelope: bytes, data_key: bytes) -> bool:
    suite = get_suite(suite_name)
    try:
        # The key commitment alone (as ``open_with_data_key`` checks it first): tells a wrong key
        # from a right key whose content does not authenticate.
        suite._check_commitment(suite.parse(envelope), data_key)
    except CryptoError:
        return False
    return True


def examine(bid: Bid, data_key: bytes) -> Outcome:
    """Check a released key against the stored bid and read the bid, in this order:

    1. the stored ciphertext against the SHA-256 in the bid row and in the signed receipt
       (tampering in storage is not the bidder's fault);
    2. the bidder's signature over the commitment, and the receipt's commitment;
    3. the envelope's layout and the key against its key commitment (``wrong_key``);
    4. decryption with the section's aad (``undecryptable``);
    5. the suite's hash of the plaintext against the signed commitment (``commitment_mismatch``);
    6. the bid package and its form (``bad_package``).
    """
    section = bid.section
    try:
        with bid.ciphertext.open("rb") as handle:
            envelope = handle.read()
    except (OSError, ValueError) as exc:
        return Outcome.rejected("ciphertext_missing", type(exc).__name__)
    actual = hashlib.sha256(envelope).hexdigest()
    receipt = _receipt_fields(bid)
    if receipt is None or receipt.get("bid") != str(bid.pk):
        return Outcome.rejected("receipt_invalid", "the receipt does not verify")
    if actual != bid.ciphertext_sha256 or actual != receipt.get("ciphertext-sha256"):
        return Outcome.rejected(
            "tampered_ciphertext",
            f"stored ciphertext SHA-256 {actual}; receipt {receipt.get('ciphertext-sha256')}",
        )
    if receipt.get("commitment") != bid.commitment or bid.suite not in SUITES:
        return Outcome.rejected("receipt_invalid", "the receipt names another commitment")
    suite = get_suite(bid.suite)
    message = commitment_message(section, bid.organisation, actual, bid.commitment)
    try:
        signature_ok = suite.verify(
            base64.b64decode(bid.signer_public_key),
            message,
            base64.b64decode(bid.signature),
        )
    except (CryptoError, binascii.Error, ValueError):
        signature_ok = False
    if not signature_ok:
        return Outcome.rejected("signature_invalid")
    try:
        suite.parse(envelope)
    except CryptoError as exc:
        return Outcome.rejected("invalid_envelope", str(exc))
    if not _key_matches(bid.suite, envelope, data_key):
        return Outcome.rejected("wrong_key")
    try:
        plaintext = suite.open_with_data_key(data_key, envelope, bid_aad(section))
    except CryptoError as exc:
        return Outcome.rejected("undecryptable", str(exc))
    if suite.hash(plaintext).hex() != bid.commitment:
        return Outcome.rejected(
            "commitment_mismatch",
            f"plaintext {suite.name} hash {suite.hash(plaintext).hex()}; committed {bid.commitment}",
        )
    try:
        parsed = package.read(plaintext)
        price = parsed.price.quantize(Decimal("0.01"))
    except (package.PackageError, ArithmeticError, KeyError, TypeError) as exc:
        return Outcome.rejected("bad_package", str(exc))
    form = parsed.form
    if len(json.dumps(form, ensure_ascii=False).encode()) > MAX_FORM_BYTES:
        return Outcome.rejected(
            "bad_package", f"the bid form is larger than {MAX_FORM_BYTES} bytes"
        )
    if price >= MAX_PRICE:
        return Outcome.rejected("bad_package", "the price is out of range")
    form["price"] = f"{price:.2f}"
    return Outcome(
        OpenedBid.Status.OPENED,
        price=price,
        duration_days=_duration(form.get("duration_days")),
        form=form,
    )


def _duration(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value < 2**31:
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        return int(value.strip())
    return None


def _check_window(session: OpeningSession, now: dt.datetime) -> None:
    if session.status != OpeningSession.Status.OPEN or now >= session.decryption_deadline:
        raise Conflict(
            _("Keys were released until %(deadline)s; the server time is %(now)s.")
            % {
                "deadline": timezone.localtime(session.decryption_deadline).strftime(
                    "%Y-%m-%d %H:%M:%S"
                ),
                "now": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
            },
            field="data_key",
            rule="decryption_window",
            at=session.decryption_deadline,
        )


def _opened_bid_for(actor: Actor, bid: Bid, action: str) -> OpenedBid:
    """The bid's place in its opening, for staff of the bidder that submitted it."""
    bid = Bid.objects.select_related("organisation", "section__tender").get(pk=bid.pk)
    require_role(actor, Role.BIDDER_STAFF, organisation=bid.organisation, action=action)
    tender = bid.section.tender
    refresh(tender)
    opened = OpenedBid.objects.select_related("session").filter(bid=bid).first()
    if opened is None:
        raise Conflict(
            _(
                "This bid is not in an opening: the opening starts at the bid deadline (%(time)s), "
                "and only the valid bid of each bidder is opened."
            )
            % {"time": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M")},
            field="bid",
            rule="opening_started",
            at=tender.bid_deadline,
        )
    return opened


def release_key(actor: Actor, bid: Bid, data_key: bytes) -> OpenedBid:
    """The bidder releases its bid's data key; the platform opens and reads out the bid, or
    rejects it with the reason. Returns the bid's place in the opening, decided.

    Refused (nothing recorded): another organisation's bid; no opening yet; the window closed;
    the key already released; a value that is not a 32-byte key. The window is checked again
    when the result is written. Decryption happens outside the write transaction, so a large bid
    does not hold the database while it is decrypted.
    """
    user = signed_in(actor)
    opened = _opened_bid_for(actor, bid, _("Releasing the key of a bid"))
    _check_window(opened.session, clock.now())
    _check_awaiting(opened)
    if not isinstance(data_key, bytes) or len(data_key) != DATA_KEY_BYTES:
        raise InvalidInput(_("A data key is 32 bytes."), field="data_key", rule="data_key_format")
    outcome = examine(opened.bid, data_key)
    return _record_release(user, opened.pk, data_key, outcome)


def _check_awaiting(opened: OpenedBid) -> None:
    if opened.status != OpenedBid.Status.AWAITING_KEY:
        raise Conflict(
            _("The key of this bid has been released already; the bid is %(status)s.")
            % {"status": opened.get_status_display()},
            field="bid",
            rule="key_released",
        )


@service
def _record_release(user: Any, opened_id: int, data_key: bytes, outcome: Outcome) -> OpenedBid:
    opened = (
        OpenedBid.objects.select_for_update(of=("self",))
        .select_related("bid__organisation", "bid__section")
        .get(pk=opened_id)
    )
    session = OpeningSession.objects.select_for_update().get(pk=opened.session_id)
    now = clock.now()
    _check_window(session, now)
    _check_awaiting(opened)
    opened.released_by = user
    opened.released_at = now
    opened.data_key = data_key
    opened.data_key_sha256 = hashlib.sha256(data_key).hexdigest()
    _decide(opened, outcome, now, actor=user)
    if not session.bids.filter(status=OpenedBid.Status.AWAITING_KEY).exists():
        _close(session, now)  # every bid decided: the opening need not wait for the window
    return opened


def _decide(opened: OpenedBid, outcome: Outcome, now: dt.datetime, actor: Any = None) -> None:
    bid = opened.bid
    opened.status = outcome.status
    opened.reason_code = outcome.reason_code
    opened.reason_detail = outcome.detail
    opened.fault = outcome.fault
    opened.price = outcome.price
    opened.duration_days = outcome.duration_days
    opened.form = outcome.form
    opened.decided_at = now
    opened.save()
    subjects = [
        ("tender", bid.section.tender_id),
        ("opening", opened.session_id),
        ("bid", bid.pk),
        ("organisation", bid.organisation_id),
    ]
    common = {
        "bid": bid.pk,
        "order": opened.order,
        "section": bid.section.number,
        "bidder": bid.organisation.credit_code,
        "bidder_name": bid.organisation.name,
        "data_key_sha256": opened.data_key_sha256 or None,
        "via_escrow": opened.via_escrow,
    }
    if outcome.status == OpenedBid.Status.OPENED:
        # The read-out (唱标) is public: price, duration and the other declared items.
        record_event(
            "opening.bid.opened",
            actor=actor,
            actor_org=bid.organisation if actor else None,
            subjects=subjects,
            payload={**common, "price": f"{outcome.price:.2f}", "form": outcome.form},
        )
        return
    rule = rules.rule(DECRYPT_FAILURE, on=timezone.localdate(now))
    with translation.override(settings.LANGUAGE_CODE):
        message = reason_message(outcome.reason_code)
        treated = treatment(outcome.fault)
    record_event(
        "opening.bid.rejected",
        actor=actor,
        actor_org=bid.organisation if actor else None,
        subjects=subjects,
        payload={
            **common,
            "reason": outcome.reason_code,
            "message": message,
            "detail": outcome.detail,
            "fault": outcome.fault,
            "treatment": treated,
            "rule": rule.key,
            "article": rule.article,
        },
    )


def opened_package(opened: OpenedBid) -> package.Package:
    """The plaintext package of an opened bid, decrypted again with the released key.

    For the evaluation context: the caller checks that the reader may see the whole bid.
    """
    if opened.status != OpenedBid.Status.OPENED or opened.data_key is None:
        raise Conflict(_("Only an opened bid can be read."), field="bid", rule="bid_opened")
    bid = opened.bid
    with bid.ciphertext.open("rb") as handle:
        envelope = handle.read()
    plaintext = get_suite(bid.suite).open_with_data_key(
        bytes(opened.data_key), envelope, bid_aad(bid.section_id)
    )
    return package.read(plaintext)


# --- objections -----------------------------------------------------------------------------------


def _objection_rule() -> rules.Rule:
    return rules.rule("objection_opening")


def _check_unsigned(session: OpeningSession) -> None:
    if session.published_at is not None:
        rule = _objection_rule()
        raise Conflict(
            _(
                "The opening is over: its record was signed and published at %(time)s. Objections "
                "to the opening are raised at the opening (%(article)s)."
            )
            % {
                "time": timezone.localtime(session.published_at).strftime("%Y-%m-%d %H:%M"),
                "article": rule.article,
            },
            field="session",
            rule=rule.key,
            article=rule.article,
            at=session.published_at,
        )


@service
def raise_objection(actor: Actor, session: OpeningSession, *, text: str) -> OpeningObjection:
    """A bidder at the opening raises an objection to it (Reg art. 44), before the record is
    signed; the tenderer or agency answers it on the spot."""
    user = signed_in(actor)
    session = OpeningSession.objects.select_for_update().get(pk=session.pk)
    _check_unsigned(session)
    present = set(
        OpenedBid.objects.filter(session=session).values_list("bid__organisation", flat=True)
    )
    orgs = [
        m.organisation
        for m in memberships(user, Role.BIDDER_STAFF).order_by("id")
        if m.organisation_id in present
    ]
    if not orgs:
        raise NotAllowed(
            _("Objections at the opening are raised by the bidders whose bids are opened."),
            field="session",
            rule="opening_bidder",
        )
    org = orgs[0]
    text = clean_text(text, "text", 5000)
    number = (session.objections.aggregate(n=Max("number"))["n"] or 0) + 1
    objection = OpeningObjection.objects.create(
        session=session,
        number=number,
        raised_by=org,
        raised_by_user=user,
        text=text,
        raised_at=clock.now(),
    )
    record_event(
        "opening.objection.raised",
        actor=user,
        actor_org=org,
        subjects=[
            *_subjects(session.tender),
            ("opening", session.pk),
            ("organisation", org.pk),
        ],
        payload={
            "number": number,
            "by": org.credit_code,
            "by_name": org.name,
            "text": text,
            "rule": "objection_opening",
            "article": _objection_rule().article,
        },
    )
    return objection


@service
def reply_objection(actor: Actor, objection: OpeningObjection, *, reply: str) -> OpeningObjection:
    """The tenderer or agency answers an objection at the opening, on the spot (Reg art. 44)."""
    objection = OpeningObjection.objects.select_for_update(of=("self",)).get(pk=objection.pk)
    session = OpeningSession.objects.select_related("tender__project").get(pk=objection.session_id)
    org = require_manager(actor, session.tender.project, _("Answering an objection"))
    _check_unsigned(session)
    if objection.replied_at is not None:
        raise Conflict(
            _("This objection has been answered."), field="reply", rule="objection_answered"
        )
    objection.reply = clean_text(reply, "reply", 5000)
    objection.replied_by = signed_in(actor)
    objection.replied_by_org = org
    objection.replied_at = clock.now()
    objection.save(update_fields=["reply", "replied_by", "replied_by_org", "replied_at"])
    record_event(
        "opening.objection.answered",
        actor=actor,
        actor_org=org,
        subjects=[*_subjects(session.tender), ("opening", session.pk)],
        payload={"number": objection.number, "reply": objection.reply, "by": org.credit_code},
    )
    return objection


# --- the opening record ---------------------------------------------------------------------------

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _quote(value: Any) -> str:
    """A value on one line of the record: JSON (Chinese kept readable), no control characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def record_text(session: OpeningSession, *, signer: Organisation, signed_at: dt.datetime) -> str:
    """The opening record (开标记录) as signed: one fact per line, machine-readable and legible.

    Free texts (names, objections, declared items) are JSON strings, so a line break in them cannot
    forge a line of the record.
    """
    tender = session.tender
    project = tender.project
    lines = [
        "openbid opening record v1",
        f"platform {_quote(settings.OPENBID_PLATFORM_NAME)}",
        f"log {keys.origin()}",
        f"tender {tender.pk} {_quote(tender.title)}",
        f"project {project.code} {_quote(project.name)}",
        f"tenderer {project.tenderer.credit_code} {_quote(project.tenderer.name)}",
    ]
    if project.agency is not None:
        lines.append(f"agency {project.agency.credit_code} {_quote(project.agency.name)}")
    lines += [
        f"bid-deadline {_local(session.scheduled_at)}",
        f"opening-started {_local(session.started_at)}",
        f"decryption-deadline {_local(session.decryption_deadline)}",
        f"decryption-closed {_local(session.closed_at)}",
    ]
    escrow = getattr(tender, "escrow", None)
    if escrow is not None:
        lines.append(
            f"escrow {escrow.key_id} threshold {escrow.threshold} of {escrow.count} "
            f"used {_local(escrow.used_at)} shares-until {_local(session.escrow_deadline)}"
        )
    opened_bids = list(
        session.bids.select_related("bid__organisation", "bid__section").order_by("order")
    )
    for section in tender.sections.order_by("number"):
        in_section = [o for o in opened_bids if o.bid.section_id == section.pk]
        lines.append(
            f"section {section.number} {_quote(section.name)} bids {len(in_section)}"
            + (f" ceiling-price {section.ceiling_price:.2f}" if section.ceiling_price else "")
        )
        for o in in_section:
            bid = o.bid
            head = (
                f"bid {o.order} id {bid.pk} bidder {bid.organisation.credit_code} "
                f"{_quote(bid.organisation.name)} status {o.status}"
            )
            if o.status == OpenedBid.Status.OPENED:
                others = {k: v for k, v in o.form.items() if k not in ("price", "duration_days")}
                lines.append(
                    f"{head} price {o.price:.2f} duration-days "
                    f"{o.duration_days if o.duration_days is not None else '-'} "
                    f"form {_quote(others)}"
                )
            else:
                lines.append(
                    f"{head} reason {o.reason_code} fault {o.fault} "
                    f"{_quote(reason_message(o.reason_code) + ' ' + treatment(o.fault))}"
                )
            lines.append(
                f"  ciphertext-sha256 {bid.ciphertext_sha256} commitment {bid.commitment} "
                f"receipt-ledger-index {bid.ledger_index} "
                f"data-key-sha256 {o.data_key_sha256 or '-'}"
                + (" via-escrow" if o.via_escrow else "")
            )
    for objection in session.objections.select_related("raised_by", "replied_by_org"):
        lines.append(
            f"objection {objection.number} by {objection.raised_by.credit_code} "
            f"at {_local(objection.raised_at)} {_quote(objection.text)}"
        )
        replier = objection.replied_by_org.credit_code if objection.replied_by_org else "-"
        lines.append(
            f"reply {objection.number} by {replier} at {_local(objection.replied_at)} "
            f"{_quote(objection.reply)}"
        )
    lines.append(f"signed-by {signer.credit_code} {_quote(signer.name)} at {_local(signed_at)}")
    return "\n".join(lines) + "\n"


@service
def sign_opening_record(actor: Actor, session: OpeningSession) -> OpeningSession:
    """The tenderer or agency signs the opening record; it is signed as a C2SP signed note with the
    platform's log key, published at once, and its SHA-256 goes to the ledger.

    Refused while keys may still be released, while an objection is unanswered (Reg art. 44), and
    once signed.
    """
    session = OpeningSession.objects.select_related("tender__project").get(pk=session.pk)
    org = require_manager(actor, session.tender.project, _("Signing the opening record"))
    user = signed_in(actor)
    now = clock.now()
    close_decryption(now, tender_id=session.tender_id)
    session = OpeningSession.objects.select_for_update().get(pk=session.pk)
    if session.published_at is not None:
        raise Conflict(
            _("The opening record has been signed and published."),
            field="session",
            rule="record_signed",
        )
    if session.status != OpeningSession.Status.CLOSED:
        raise Conflict(
            _("Bidders may release their keys until %(time)s; sign the record after that.")
            % {"time": timezone.localtime(session.decryption_deadline).strftime("%Y-%m-%d %H:%M")},
            field="session",
            rule="decryption_window",
            at=session.decryption_deadline,
        )
    unanswered = session.objections.filter(replied_at__isnull=True).order_by("number").first()
    if unanswered is not None:
        rule = _objection_rule()
        raise Conflict(
            _(
                "Objection no. %(number)d is not answered yet; objections at the opening are "
                "answered on the spot (%(article)s)."
            )
            % {"number": unanswered.number, "article": rule.article},
            field="session",
            rule=rule.key,
            article=rule.article,
        )
    with translation.override(settings.LANGUAGE_CODE):
        text = record_text(session, signer=org, signed_at=now)
    note = sign_note(text, keys.log_signer())
    session.record_text = text
    session.record_note = note.decode()
    session.record_sha256 = hashlib.sha256(note).hexdigest()
    session.signed_by = user
    session.signed_by_org = org
    session.published_at = now
    session.save(
        update_fields=[
            "record_text",
            "record_note",
            "record_sha256",
            "signed_by",
            "signed_by_org",
            "published_at",
        ]
    )
    record_event(
        "opening.record.signed",
        actor=user,
        actor_org=org,
        subjects=[*_subjects(session.tender), ("opening", session.pk)],
        payload={
            "sha256": session.record_sha256,
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "published_at": now,
            "signer": org.credit_code,
        },
    )
    return session


# --- reading --------------------------------------------------------------------------------------


def session_of(tender: Tender) -> OpeningSession | None:
    """The tender's opening, started lazily if it is due."""
    refresh(tender)
    return OpeningSession.objects.select_related("tender__project").filter(tender=tender).first()


def objection_of(objection_id: int) -> OpeningObjection:
    found = OpeningObjection.objects.filter(pk=objection_id).first()
    if found is None:
        raise NotFound(_("No such objection."), field="objection", rule="exists")
    return found


# --- people's certificate signatures on the record --------------------------------------------------

RECORD_KIND = "opening-record"


def record_signable(actor: Actor, tender_id: int) -> document_signatures.Signable:
    """The published opening record of tender ``tender_id`` as its tenderer's or agency's staff
    sign it with their certificates (the document id is the tender's). The platform's signature
    publishes the record; these add the signatures of the people responsible for it."""
    session = (
        OpeningSession.objects.select_related("tender__project")
        .filter(tender_id=tender_id, published_at__isnull=False)
        .first()
    )
    if session is None:
        raise NotFound(
            _("No opening record has been published for this tender."),
            field="tender",
            rule="exists",
        )
    org = require_manager(actor, session.tender.project, _("Signing the opening record"))
    return document_signatures.Signable(
        kind=RECORD_KIND,
        document_id=session.tender_id,
        sha256=session.record_sha256,
        organisation=org,
        title=str(_("Opening record of %(title)s") % {"title": session.tender.title}),
        subjects=(*_subjects(session.tender), ("opening", session.pk)),
    )
