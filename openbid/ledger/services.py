"""State changes of the ledger: checkpoints, and which witnesses we trust or serve.

Appending happens in ``store.append_event``, inside the transaction of every other service.
Checkpoints are not domain events themselves (a checkpoint recorded in the log would change the
tree it signs); they are kept forever in their own table and published at ``/ledger/checkpoint``.
"""

from __future__ import annotations

import base64

from django.db import transaction
from django.utils.translation import gettext as _

from openbid.accounts.permissions import Actor, require_role
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import Conflict, InvalidInput
from openbid.core.events import record_event, service
from openbid.ledger import keys, store
from openbid.ledger.checkpoint import Checkpoint as CheckpointBody
from openbid.ledger.checkpoint import (
    format_checkpoint,
    parse_witness_verifier_key,
    sign_checkpoint,
)
from openbid.ledger.models import Checkpoint, Witness, WitnessedLog
from openbid.ledger.note import KeyFormatError, NoteError, parse_verifier_key


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def issue_checkpoint() -> Checkpoint:
    """Sign a checkpoint for the current tree if it grew since the last one (idempotent).

    Runs from the clock loop and on demand; two concurrent calls yield one checkpoint per size.
    """
    with transaction.atomic():
        state = store._locked_state()  # a consistent size: appends wait for this transaction
        latest = latest_checkpoint()
        if latest is not None and latest.size == state.size:
            return latest
        root = store.TreeReader().root(state.size)
        body = CheckpointBody(origin=keys.origin(), size=state.size, root_hash=root)
        note = sign_checkpoint(body, keys.log_signer()).decode()
        return Checkpoint.objects.create(
            size=state.size,
            root_hash=root,
            body=format_checkpoint(body),
            note=note,
            issued_at=clock.now(),
        )


def root_b64(checkpoint: Checkpoint) -> str:
    return base64.b64encode(bytes(checkpoint.root_hash)).decode()


@service
def add_witness(actor: Actor, *, name: str, url: str, verifier_key: str) -> Witness:
    """Trust a witness to cosign our checkpoints (centre staff; the key is a tlog-cosignature key)."""
    require_role(actor, Role.CENTRE_STAFF, action=_("Configuring witnesses"))
    try:
        verifier = parse_witness_verifier_key(verifier_key.strip())
    except (KeyFormatError, NoteError, ValueError) as exc:
        raise InvalidInput(
            _("The witness key is not a valid cosignature/v1 verifier key: %(error)s")
            % {"error": exc},
            field="verifier_key",
            rule="tlog_cosignature_key",
        ) from exc
    if verifier.name != name:
        raise InvalidInput(
            _("The key belongs to %(key)s, not to %(name)s.")
            % {"key": verifier.name, "name": name},
            field="verifier_key",
            rule="tlog_cosignature_key",
        )
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(_("The witness URL must be http(s)."), field="url", rule="url")
    if Witness.objects.filter(name=name).exists():
        raise Conflict(_("This witness is already configured."), field="name", rule="unique")
    witness = Witness.objects.create(name=name, url=url.rstrip("/"), verifier_key=verifier_key)
    record_event(
        "ledger.witness.added",
        actor=actor,
        subjects=[("witness", witness.pk)],
        payload={"name": name, "url": witness.url, "verifier_key": verifier_key},
    )
    return witness


@service
def witness_log(actor: Actor, *, origin: str, verifier_keys: list[str]) -> WitnessedLog:
    """Start witnessing another log: cosign its checkpoints once they prove consistent."""
    require_role(actor, Role.CENTRE_STAFF, action=_("Configuring witnessed logs"))
    if not origin or "\n" in origin:
        raise InvalidInput(_("The origin is one non-empty line."), field="origin", rule="origin")
    for key in verifier_keys:
        try:
            verifier = parse_verifier_key(key.strip())
        except (KeyFormatError, NoteError, ValueError) as exc:
            raise InvalidInput(
                _("Not a valid note verifier key: %(error)s") % {"error": exc},
                field="verifier_keys",
                rule="signed_note_key",
            ) from exc
        if verifier.name != origin:
            raise InvalidInput(
                _("The key %(key)s is not named after the origin.") % {"key": verifier.name},
                field="verifier_keys",
                rule="signed_note_key",
            )
    if not verifier_keys:
        raise InvalidInput(_("At least one key is needed."), field="verifier_keys", rule="required")
    if WitnessedLog.objects.filter(origin=origin).exists():
        raise Conflict(_("This log is already witnessed."), field="origin", rule="unique")
    log = WitnessedLog.objects.create(
        origin=origin, verifier_keys="\n".join(k.strip() for k in verifier_keys)
    )
    record_event(
        "ledger.witnessed_log.added",
        actor=actor,
        subjects=[("witnessed_log", log.pk)],
        payload={"origin": origin, "verifier_keys": verifier_keys},
    )
    return log
