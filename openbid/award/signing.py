"""People's certificate signatures on the award's documents (``openbid.crypto.document_signatures``).

* ``award-notice`` (document id: the award notice's): the tenderer's staff sign the award notice
  (中标通知书); the signature issues it, with every result notice of the section, and publishes
  the result (``services.issue_notices``).
* ``contract`` (document id: the contract's): the tenderer's staff and the winner's staff each sign
  the SHA-256 of the contract's current version; when both organisations have signed the same
  SHA-256 the version is signed and published (``services.contract_signed_by_one``). A change is
  a new version with a new SHA-256, signed again.

Refusals (nothing recorded): someone who is not a party; a party whose organisation has signed
this version already; the award suspended; a first version past its statutory period without a
recorded reason (``contract_within``, Law art. 46). ``document_signatures.sign`` itself refuses a
SHA-256 other than the current version's and a key that is not the signer's certificate's.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from openbid.accounts.permissions import Actor, signed_in
from openbid.award import services
from openbid.award.models import AwardNotice, Contract
from openbid.core import clock
from openbid.core.errors import Conflict, NotAllowed, NotFound
from openbid.crypto import document_signatures
from openbid.crypto.models import DocumentSignature

NOTICE_KIND = "award-notice"
CONTRACT_KIND = "contract"


def notice_signable(actor: Actor, notice_id: int) -> document_signatures.Signable:
    notice = (
        AwardNotice.objects.select_related("decision__publicity__tender__project__tenderer")
        .filter(pk=notice_id, kind=AwardNotice.Kind.AWARD)
        .first()
    )
    if notice is None:
        raise NotFound(_("No such award notice."), field="notice", rule="exists")
    tender = notice.decision.publicity.tender
    org = services._require_tenderer(actor, tender, _("Signing the award notice"))
    if notice.issued_at is not None:
        raise Conflict(
            _("The award notice was signed and issued already."),
            field="notice",
            rule="signed_once",
        )
    services._require_not_blocked(tender, _("Signing the award notice"))

    def on_signed(row: DocumentSignature) -> None:
        services.issue_notices(AwardNotice.objects.get(pk=notice.pk))

    return document_signatures.Signable(
        kind=NOTICE_KIND,
        document_id=notice.pk,
        sha256=notice.sha256,
        organisation=org,
        title=str(_("Award notice to %(bidder)s") % {"bidder": notice.recipient.name}),
        subjects=(("tender", tender.pk), ("project", tender.project_id)),
        on_signed=on_signed,
    )


def contract_signable(actor: Actor, contract_id: int) -> document_signatures.Signable:
    contract = (
        Contract.objects.select_related("decision__publicity__tender", "tenderer", "winner")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise NotFound(_("No such contract."), field="contract", rule="exists")
    user = signed_in(actor)
    party = services.party_of(user, contract)
    if party is None:
        raise NotAllowed(
            _("A contract is signed by its parties only: %(a)s and %(b)s.")
            % {"a": contract.tenderer.name, "b": contract.winner.name},
            rule="contract_party",
        )
    tender = contract.decision.publicity.tender
    version = services.current_version(contract)
    if party.pk in services.signing_parties(version):
        raise Conflict(
            _("%(org)s has signed this version already.") % {"org": party.name},
            field="signature",
            rule="signed_once",
        )
    services._require_not_blocked(tender, _("Signing the contract"), "sign_contract")
    if contract.signed_at is None and clock.now() >= contract.due_at and not contract.late_reason:
        rule = services._rule("contract_within", tender)
        raise Conflict(
            _(
                "The statutory period to sign the contract ended on %(due)s; the tenderer first "
                "records why it is late."
            )
            % {"due": services.documents.when(contract.due_at)},
            field="contract",
            rule=rule.key,
            article=rule.article,
            at=contract.due_at,
        )

    def on_signed(row: DocumentSignature) -> None:
        services.contract_signed_by_one(version)

    return document_signatures.Signable(
        kind=CONTRACT_KIND,
        document_id=contract.pk,
        sha256=version.sha256,
        organisation=party,
        title=str(
            _("Contract %(number)s, version %(version)d")
            % {"number": contract.number, "version": version.number}
        ),
        subjects=(("tender", tender.pk), ("contract", contract.pk)),
        on_signed=on_signed,
    )


def signatures_of(kind: str, document_id: int, sha256: str | None = None) -> list[Any]:
    rows = document_signatures.signatures(kind, document_id)
    return [r for r in rows if sha256 is None or r.sha256 == sha256]
