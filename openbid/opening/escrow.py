"""Key escrow at the opening (k-of-n custodians): registering a tender's escrow, custodians giving
their shares, and opening through the escrow the bids whose keys were not released.

The cryptography is :mod:`openbid.crypto.escrow` (SLIP-0039 shares of an escrow key pair of the
tender's suite). This module is the tender's side of it:

* ``register_escrow`` — while the tender is a draft, its managers register the escrow's public
  record, made off the platform with ``openbid escrow create`` (which hands each custodian its
  share). Custodians are organisations on the platform, named by credit code: typically the
  trading centre, the regulator and a notary. Registering it announces the escrow with the tender:
  bidders may seal their bids to the escrow public key as well as to their own.
* ``give_share`` — after the decryption window has closed with bids sealed to the escrow still
  awaiting their keys, staff of each custodian give its share, each under their own name. When
  ``threshold`` shares are in, the escrow key is recombined in memory, each waiting bid's data key
  is unwrapped with it and the bid is examined exactly as a released key would be; the shares are
  then erased. Who took part and which bids were opened this way is in the ledger.

Nothing the platform stores before the opening decrypts a bid: the record holds the escrow
**public** key and fingerprints of the shares, and shares are accepted only once the opening is
in its escrow period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import Actor, has_role, memberships, signed_in
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from openbid.core.events import record_event, service
from openbid.crypto import escrow as crypto_escrow
from openbid.crypto.errors import CryptoError
from openbid.crypto.suites import KeyUse, get_suite
from openbid.opening.models import (
    Escrow,
    EscrowShareSubmission,
    OpenedBid,
    OpeningSession,
)
from openbid.opening.services import (
    Outcome,
    _close,
    _decide,
    _subjects,
    clear_escrow_shares,
    examine,
    refresh,
)
from openbid.tendering.lifecycle import State
from openbid.tendering.models import Tender
from openbid.tendering.services import require_manager


def escrow_of(tender: Tender) -> Escrow | None:
    return Escrow.objects.filter(tender=tender).first()


def public_record(escrow: Escrow) -> crypto_escrow.EscrowPublic:
    return crypto_escrow.EscrowPublic.from_dict(escrow.record)


def public_key_pem(escrow: Escrow) -> bytes:
    """The escrow public key as PEM, for ``openbid-bidder seal --to``."""
    record = public_record(escrow)
    return get_suite(record.suite).public_key_to_pem(record.public_key, KeyUse.ENCRYPTION)


def _draft(tender: Tender) -> Tender:
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    if tender.status != State.DRAFT:
        raise Conflict(
            _(
                "The key escrow is fixed when the tender is published: bidders seal their bids "
                "to it."
            ),
            field="escrow",
            rule="escrow_before_publication",
        )
    return tender


@service
def register_escrow(actor: Actor, tender: Tender, record: dict[str, Any]) -> Escrow:
    """Register (or replace) the key escrow of a draft tender from its public record.

    Refused: not a manager of the tender; the tender is published; a record that is not an
    escrow record or is of another suite than the tender's; a custodian that is not an
    organisation on the platform or is suspended. Replacing an escrow is recorded as such.
    """
    org = require_manager(actor, tender.project, _("Registering a key escrow"))
    tender = _draft(tender)
    try:
        public = crypto_escrow.EscrowPublic.from_dict(record if isinstance(record, dict) else {})
    except (ValueError, KeyError) as exc:
        raise InvalidInput(
            _("This is not an escrow record written by “openbid escrow create”: %(problem)s.")
            % {"problem": exc},
            field="escrow",
            rule="escrow_record",
        ) from None
    if public.suite != tender.crypto_suite:
        raise InvalidInput(
            _("The escrow key is of the suite %(escrow)s, the tender's bids of %(tender)s.")
            % {"escrow": public.suite, "tender": tender.crypto_suite},
            field="escrow",
            rule="escrow_suite",
        )
    custodians = {
        o.credit_code: o
        for o in Organisation.objects.filter(credit_code__in=list(public.custodians))
    }
    for code in public.custodians:
        found = custodians.get(code)
        if found is None or found.status == Organisation.Status.SUSPENDED:
            raise InvalidInput(
                _(
                    "Custodian %(code)s is not an organisation on the platform in good standing: "
                    "name custodians by their unified social credit codes."
                )
                % {"code": code},
                field="escrow",
                rule="escrow_custodian",
            )
    previous = Escrow.objects.filter(tender=tender).first()
    if previous is not None:
        previous.delete()
    escrow = Escrow.objects.create(
        tender=tender,
        record=public.to_dict(),
        suite=public.suite,
        key_id=public.key_id.hex(),
        threshold=public.threshold,
        count=public.count,
        registered_by=signed_in(actor),
        registered_by_org=org,
        registered_at=clock.now(),
    )
    record_event(
        "opening.escrow.registered",
        actor=actor,
        actor_org=org,
        subjects=[("tender", tender.pk), ("project", tender.project_id)],
        payload={
            "suite": public.suite,
            "escrow_key_id": escrow.key_id,
            "public_key": public.public_key.hex(),
            "threshold": public.threshold,
            "count": public.count,
            "custodians": sorted(public.custodians),
            "replaces": previous.key_id if previous is not None else None,
        },
    )
    return escrow


@service
def remove_escrow(actor: Actor, tender: Tender) -> None:
    """Remove the key escrow of a draft tender (bids will be sealed to their bidders only)."""
    org = require_manager(actor, tender.project, _("Removing a key escrow"))
    tender = _draft(tender)
    escrow = Escrow.objects.filter(tender=tender).first()
    if escrow is None:
        raise NotFound(_("This tender has no key escrow."), field="escrow", rule="exists")
    key_id = escrow.key_id
    escrow.delete()
    record_event(
        "opening.escrow.removed",
        actor=actor,
        actor_org=org,
        subjects=[("tender", tender.pk), ("project", tender.project_id)],
        payload={"escrow_key_id": key_id},
    )


def _check_escrow_period(session: OpeningSession, now: dt.datetime) -> None:
    if session.status != OpeningSession.Status.ESCROW or (
        session.escrow_deadline is not None and now >= session.escrow_deadline
    ):
        when = session.escrow_deadline or session.decryption_deadline
        raise Conflict(
            _(
                "Escrow shares are given only after the decryption window, while bids sealed to "
                "the escrow await their keys (until %(deadline)s); the server time is %(now)s."
            )
            % {
                "deadline": timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S"),
                "now": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
            },
            field="share",
            rule="escrow_window",
            at=when,
        )


def custodian_organisations(actor: Actor, escrow: Escrow) -> list[Organisation]:
    """The custodian organisations of ``escrow`` the actor acts for."""
    codes = set(public_record(escrow).custodians)
    return [m.organisation for m in memberships(actor) if m.organisation.credit_code in codes]


@service
def _record_share(actor: Actor, session_id: int, mnemonic: str) -> EscrowShareSubmission:
    user = signed_in(actor)
    session = (
        OpeningSession.objects.select_for_update(of=("self",))
        .select_related("tender")
        .get(pk=session_id)
    )
    now = clock.now()
    _check_escrow_period(session, now)
    escrow = Escrow.objects.select_for_update().get(tender=session.tender)
    try:
        share = crypto_escrow.check_share(public_record(escrow), mnemonic)
    except crypto_escrow.EscrowError as exc:
        raise InvalidInput(
            _("This is not a share of this tender's escrow (%(reason)s).")
            % {"reason": exc.reason.value.replace("_", " ")},
            field="share",
            rule=f"escrow_{exc.reason.value}",
        ) from None
    custodian = Organisation.objects.filter(credit_code=share.custodian).first()
    if custodian is None or not any(m.organisation_id == custodian.pk for m in memberships(user)):
        raise NotAllowed(
            _("This share is held by custodian %(code)s: its own staff give it.")
            % {"code": share.custodian},
            field="share",
            rule="escrow_custodian",
        )
    if EscrowShareSubmission.objects.filter(escrow=escrow, index=share.index).exists():
        raise Conflict(
            _("Custodian %(code)s has given its share already.") % {"code": share.custodian},
            field="share",
            rule="escrow_share_given",
        )
    given = EscrowShareSubmission.objects.create(
        escrow=escrow,
        custodian=share.custodian,
        index=share.index,
        mnemonic=mnemonic.strip(),
        submitted_by=user,
        submitted_at=now,
    )
    record_event(
        "opening.escrow.share_given",
        actor=actor,
        actor_org=custodian,
        subjects=[*_subjects(session.tender), ("opening", session.pk)],
        payload={
            "custodian": share.custodian,
            "index": share.index,
            "given": EscrowShareSubmission.objects.filter(escrow=escrow).count(),
            "threshold": escrow.threshold,
        },
    )
    return given


def give_share(actor: Actor, tender: Tender, mnemonic: str) -> OpeningSession:
    """A custodian's staff gives its escrow share at the tender's opening; the ``threshold``-th
    share opens every bid awaiting the escrow. Returns the session as it now stands.

    Refused (nothing recorded): not in the escrow period (after the decryption window, before the
    escrow deadline: checked at write time); a value that is not a share of this escrow (checksum,
    foreign share); a share held by another custodian than the actor's organisation; a share given
    already. Recombining and decrypting happen outside the write transaction.
    """
    signed_in(actor)
    refresh(tender)
    session = OpeningSession.objects.filter(tender=tender).first()
    if session is None:
        raise Conflict(_("The opening has not started."), field="share", rule="opening_started")
    if not isinstance(mnemonic, str) or not mnemonic.strip():
        raise InvalidInput(_("Paste the share's words."), field="share", rule="required")
    _record_share(actor, session.pk, mnemonic)
    open_through_escrow(session)
    return OpeningSession.objects.get(pk=session.pk)


def open_through_escrow(session: OpeningSession) -> int:
    """If ``threshold`` shares are in, recombine the escrow key and open every bid awaiting it.
    Idempotent; returns how many bids were decided."""
    escrow = Escrow.objects.get(tender_id=session.tender_id)
    given = list(
        EscrowShareSubmission.objects.filter(escrow=escrow, cleared_at__isnull=True).exclude(
            mnemonic=""
        )
    )
    if len(given) < escrow.threshold:
        return 0
    record = public_record(escrow)
    try:
        private_key = crypto_escrow.recover_private_key(record, [g.mnemonic for g in given])
    except crypto_escrow.EscrowError as exc:
        raise Conflict(
            _("The custodians' shares do not recombine to the escrow key (%(reason)s).")
            % {"reason": exc.reason.value.replace("_", " ")},
            field="share",
            rule=f"escrow_{exc.reason.value}",
        ) from None
    suite = get_suite(record.suite)
    results: dict[int, tuple[bytes | None, Outcome]] = {}
    try:
        waiting = OpenedBid.objects.filter(
            session=session, status=OpenedBid.Status.AWAITING_ESCROW
        ).select_related("bid__organisation", "bid__section")
        for opened in waiting:
            try:
                with opened.bid.ciphertext.open("rb") as handle:
                    envelope = handle.read()
                data_key = suite.unwrap(private_key, envelope)
            except (OSError, ValueError, CryptoError) as exc:
                results[opened.pk] = (None, Outcome.rejected("escrow_unwrap_failed", str(exc)))
                continue
            results[opened.pk] = (data_key, examine(opened.bid, data_key))
    finally:
        del private_key
    return _record_escrow_opening(session.pk, results, [g.custodian for g in given])


@service
def _record_escrow_opening(
    session_id: int, results: dict[int, tuple[bytes | None, Outcome]], custodians: list[str]
) -> int:
    session = (
        OpeningSession.objects.select_for_update(of=("self",))
        .select_related("tender")
        .get(pk=session_id)
    )
    if session.status != OpeningSession.Status.ESCROW:
        return 0  # another custodian's request got there first
    now = clock.now()
    decided: list[int] = []
    waiting = (
        OpenedBid.objects.select_for_update(of=("self",))
        .filter(session=session, status=OpenedBid.Status.AWAITING_ESCROW, pk__in=list(results))
        .select_related("bid__organisation", "bid__section")
    )
    for opened in waiting:
        data_key, outcome = results[opened.pk]
        opened.via_escrow = True
        if data_key is not None:
            opened.data_key = data_key
            opened.data_key_sha256 = hashlib.sha256(data_key).hexdigest()
        _decide(opened, outcome, now)
        decided.append(opened.bid_id)
    escrow = Escrow.objects.select_for_update().get(tender=session.tender)
    escrow.used_at = now
    escrow.save(update_fields=["used_at"])
    record_event(
        "opening.escrow.used",
        subjects=[*_subjects(session.tender), ("opening", session.pk)],
        payload={
            "escrow_key_id": escrow.key_id,
            "custodians": sorted(custodians),
            "bids": sorted(decided),
        },
    )
    clear_escrow_shares(session, now)
    if not session.bids.filter(
        status__in=[OpenedBid.Status.AWAITING_KEY, OpenedBid.Status.AWAITING_ESCROW]
    ).exists():
        _close(session, now)
    return len(decided)


def may_give_share(actor: Actor, session: OpeningSession) -> bool:
    """Whether to offer the actor the share form: a custodian's staff in the escrow period."""
    if session.status != OpeningSession.Status.ESCROW or not has_role(actor):
        return False
    escrow = escrow_of(session.tender)
    return escrow is not None and bool(custodian_organisations(actor, escrow))
