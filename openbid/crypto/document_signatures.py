"""People sign the platform's documents with their certificates (电子签章/签名).

An opening record, an evaluation report or a contract is signed by people, not only by the
platform: each signs the document's SHA-256 with the key of their registered signing certificate
(from any trusted CA, CA 互认), in their own client, and the platform verifies and keeps the
signature. The signed message is fixed and self-describing::

    openbid document signature v1
    <kind> <id>
    sha256 <hex digest of the document>

signed with the certificate's suite (Ed25519 for ``intl-2026``; SM2 with SM3 and the default user
id for ``sm-2026``), exactly as bids' commitments are signed. ``openbid-bidder sign KIND ID`` does
it for anyone holding a certified key.

Which documents can be signed, by whom, is for the owning context to say: it registers a
*resolver* for its kind (:func:`register`) that, given the actor and the document id, returns the
document's digest and the organisation the actor signs for, or refuses. :func:`sign` then checks
the signature against the actor's registered certificate at the server's time and records it with
a ledger event; the resolver's ``on_signed`` callback (optional) runs in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from openbid.accounts.models import Organisation
from openbid.accounts.permissions import Actor, signed_in
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput, NotFound
from openbid.core.events import record_event, service
from openbid.crypto.document_message import signing_message
from openbid.crypto.errors import CryptoError
from openbid.crypto.models import DocumentSignature
from openbid.crypto.services import require_signing_key
from openbid.crypto.suites import get_suite


@dataclass(frozen=True)
class Signable:
    """A document as its owning context presents it for signing by one actor."""

    kind: str
    document_id: int
    sha256: str
    organisation: Organisation
    title: str
    subjects: tuple[tuple[str, object], ...] = ()
    on_signed: Callable[[DocumentSignature], None] | None = None


Resolver = Callable[[Actor, int], Signable]
_RESOLVERS: dict[str, Resolver] = {}


def register(kind: str, resolver: Resolver) -> None:
    """Make documents of ``kind`` signable; ``resolver`` checks who may sign (raising a
    DomainError) and returns the document's digest. Called from the owning app's ``ready``."""
    _RESOLVERS[kind] = resolver


def kinds() -> list[str]:
    return sorted(_RESOLVERS)


def signable(actor: Actor, kind: str, document_id: int) -> Signable:
    """The document ``kind``/``document_id`` as the actor may sign it, or a refusal."""
    resolver = _RESOLVERS.get(kind)
    if resolver is None:
        raise NotFound(
            _("Documents of kind %(kind)s are not signed on this platform.") % {"kind": kind},
            field="kind",
            rule="exists",
        )
    return resolver(actor, document_id)


def signatures(kind: str, document_id: int) -> list[DocumentSignature]:
    return list(
        DocumentSignature.objects.filter(kind=kind, document_id=document_id)
        .select_related("signer", "organisation", "certificate")
        .order_by("signed_at", "pk")
    )


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode((value or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("Not valid base64."), field=field, rule="base64") from None


@service
def sign(
    actor: Actor,
    kind: str,
    document_id: int,
    *,
    sha256: str,
    signature: str,
    public_key: str,
) -> DocumentSignature:
    """Record the actor's certificate signature over a document.

    Refused (nothing recorded): a kind nobody registered; a document the actor may not sign (the
    resolver's refusal); ``sha256`` other than the document's current digest (the person signed
    another version); a key that is not that of the actor's registered, valid signing certificate
    for the organisation they sign for (checked at the server's time, CRLs included); a signature
    that does not verify; a second signature by the same person over the same version.
    """
    user = signed_in(actor)
    document = signable(actor, kind, document_id)
    given = (sha256 or "").strip().lower()
    if given != document.sha256:
        raise Conflict(
            _(
                "You signed another version of this document (SHA-256 %(given)s); its SHA-256 is "
                "now %(current)s."
            )
            % {"given": given or "-", "current": document.sha256},
            field="sha256",
            rule="document_version",
        )
    key = _b64(public_key, "public_key")
    now = clock.now()
    certificate = require_signing_key(user, document.organisation, key, now)
    suite = get_suite(certificate.suite)
    try:
        valid = suite.verify(
            key,
            signing_message(kind, document_id, document.sha256),
            _b64(signature, "signature"),
        )
    except (CryptoError, ValueError):
        valid = False
    if not valid:
        raise InvalidInput(
            _("The signature does not verify with your certificate's key over this document."),
            field="signature",
            rule="document_signature",
        )
    if DocumentSignature.objects.filter(
        kind=kind, document_id=document_id, sha256=document.sha256, signer=user
    ).exists():
        raise Conflict(
            _("You have signed this document already."), field="signature", rule="signed_once"
        )
    row = DocumentSignature.objects.create(
        kind=kind,
        document_id=document_id,
        sha256=document.sha256,
        signer=user,
        organisation=document.organisation,
        certificate=certificate,
        suite=certificate.suite,
        public_key=base64.b64encode(key).decode(),
        signature=signature.strip(),
        signed_at=now,
    )
    record_event(
        "crypto.document.signed",
        actor=actor,
        actor_org=document.organisation,
        subjects=[*document.subjects, ("organisation", document.organisation.pk)],
        payload={
            "kind": kind,
            "document": document_id,
            "sha256": document.sha256,
            "certificate": certificate.fingerprint,
            "suite": certificate.suite,
            "signature": row.signature,
            "public_key": row.public_key,
        },
    )
    if document.on_signed is not None:
        document.on_signed(row)
    return row


def verifies(row: DocumentSignature) -> bool:
    """Whether a stored signature still verifies over its message (for pages and audits)."""
    try:
        return get_suite(row.suite).verify(
            base64.b64decode(row.public_key),
            signing_message(row.kind, row.document_id, row.sha256),
            base64.b64decode(row.signature),
        )
    except (CryptoError, ValueError):
        return False
