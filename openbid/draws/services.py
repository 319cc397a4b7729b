"""The draw primitive's services: commit the inputs, perform once a later checkpoint exists, publish.

Principle 5 (verifiable randomness): every draw on the platform — an evaluation committee
(``evaluation.committee``), an award lottery (``award.lottery``), a random inspection
(``supervision.inspection``) — goes through here. The owning context builds the candidate list and
calls ``commit_draw`` inside its own service; the draw is performed by ``perform_draw`` (on demand,
issuing a checkpoint if none covers the commitment yet) or by the clock loop
(``perform_pending``), whichever comes first; both are idempotent. A context that must act on the
result registers a handler with ``on_performed``; it runs in the transaction that stores the
result. The algorithm is ``openbid.draws.algorithm`` (and ``docs/draws.md``).
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _

from openbid.accounts.models import User
from openbid.accounts.permissions import Actor, has_role
from openbid.accounts.roles import Role
from openbid.core import clock
from openbid.core.errors import InvalidInput, NotFound
from openbid.core.events import record_event, service
from openbid.draws import algorithm
from openbid.draws.models import Draw
from openbid.ledger import keys, merkle, store
from openbid.ledger import services as ledger
from openbid.ledger.models import Checkpoint, Entry

EXPORT_FORMAT = "openbid-draw-export/v1"
_PURPOSE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")

Handler = Callable[[Draw], object]
_performed_handlers: dict[str, Handler] = {}


def on_performed(purpose: str) -> Callable[[Handler], Handler]:
    """Register what to do, in the performing transaction, when a draw of ``purpose`` is done."""

    def register(handler: Handler) -> Handler:
        _performed_handlers[purpose] = handler
        return handler

    return register


def _subjects(draw: Draw) -> list[tuple[str, object]]:
    return [("draw", draw.pk), (draw.subject_kind, draw.subject_id)]


@service
def commit_draw(
    actor: Actor,
    *,
    purpose: str,
    subject: tuple[str, object],
    groups: list[dict[str, Any]],
    candidates: Iterable[dict[str, Any]],
    criteria: dict[str, Any] | None = None,
    secret: bool = False,
    previous: Draw | None = None,
    actor_org: Any = None,
) -> Draw:
    """Fix a draw's inputs and commit their digest to the ledger (``draws.draw.committed``).

    ``groups`` are ``{"name", "tag", "count", "reserves"}``; ``candidates`` are ``{"ref", "tags"}``
    (sorted here by ``ref``). The owning context checks who may draw; this checks the form. A
    secret draw publishes only digests until ``publish_draw``.
    """
    if not _PURPOSE.fullmatch(purpose):
        raise InvalidInput(_("A draw's purpose is a dotted name."), field="purpose", rule="draw")
    listed: list[dict[str, Any]] = sorted(
        ({"ref": str(c["ref"]), "tags": sorted(set(c.get("tags") or []))} for c in candidates),
        key=lambda c: str(c["ref"]),
    )
    if not listed:
        raise InvalidInput(
            _("There is nobody to draw from: no candidate is eligible."),
            field="candidates",
            rule="draw_candidates",
        )
    clean_groups: list[dict[str, Any]] = [
        {
            "name": str(g["name"]),
            "tag": None if g.get("tag") is None else str(g["tag"]),
            "count": int(g["count"]),
            "reserves": int(g.get("reserves", 0)),
        }
        for g in groups
    ]
    if not clean_groups or any(g["count"] < 0 or g["reserves"] < 0 for g in clean_groups):
        raise InvalidInput(_("A draw needs at least one group."), field="groups", rule="draw")
    if sum(g["count"] for g in clean_groups) < 1:
        raise InvalidInput(_("A draw chooses at least one."), field="groups", rule="draw")
    snapshot = {"salt": secrets.token_hex(16), "candidates": listed}
    kind, ref = subject
    inputs = {
        "version": algorithm.VERSION,
        "purpose": purpose,
        "subject": {"kind": kind, "id": str(ref)},
        "previous": previous.pk if previous is not None else None,
        "criteria": criteria or {},
        "groups": clean_groups,
        "candidates": {"count": len(listed), "sha256": algorithm.digest(snapshot).hex()},
    }
    try:
        inputs_sha256 = algorithm.digest(inputs).hex()
        algorithm._check(inputs, snapshot)
    except (algorithm.DrawInputError, TypeError, ValueError) as exc:
        raise InvalidInput(str(exc), field="inputs", rule="draw") from exc
    draw = Draw.objects.create(
        purpose=purpose,
        subject_kind=kind,
        subject_id=str(ref),
        previous=previous,
        secret=secret,
        inputs=inputs,
        inputs_sha256=inputs_sha256,
        snapshot=snapshot,
        created_by=actor if isinstance(actor, User) and actor.pk else None,
        created_at=clock.now(),
    )
    payload: dict[str, Any] = {
        "draw": draw.pk,
        "purpose": purpose,
        "subject": inputs["subject"],
        "previous": inputs["previous"],
        "algorithm": algorithm.VERSION,
        "inputs_sha256": inputs_sha256,
    }
    if not secret:
        payload["inputs"] = inputs
    event = record_event(
        "draws.draw.committed",
        actor=actor,
        actor_org=actor_org,
        subjects=_subjects(draw),
        payload=payload,
    )
    draw.commitment_event = event
    draw.commitment_index = event.ledger_entry.index
    draw.save(update_fields=["commitment_event", "commitment_index"])
    return draw


def seed_checkpoint(draw: Draw) -> Checkpoint | None:
    """The first checkpoint whose tree contains the commitment: its root is the seed."""
    if draw.commitment_index is None:
        return None
    return Checkpoint.objects.filter(size__gt=draw.commitment_index).order_by("size").first()


@service
def perform_draw(draw_id: int, *, issue: bool = False) -> Draw:
    """Perform a committed draw once its seed exists (idempotent).

    With ``issue`` a checkpoint is issued now if none covers the commitment yet; otherwise the
    draw waits for the clock loop's next checkpoint. Records ``draws.draw.performed`` with the
    seed and the result's salted digest (the result itself too when the draw is not secret).
    """
    draw = Draw.objects.select_for_update().filter(pk=draw_id).first()
    if draw is None:
        raise NotFound(_("No such draw."), field="draw", rule="exists")
    if draw.status == Draw.Status.PERFORMED:
        return draw
    checkpoint = seed_checkpoint(draw)
    if checkpoint is None and issue:
        ledger.issue_checkpoint()
        checkpoint = seed_checkpoint(draw)
    if checkpoint is None:
        return draw
    seed = bytes(checkpoint.root_hash)
    result = algorithm.select(seed, draw.inputs, draw.snapshot)
    draw.checkpoint = checkpoint
    draw.seed = seed.hex()
    draw.result = result
    draw.result_sha256 = algorithm.result_digest(draw.snapshot["salt"], result)
    draw.status = Draw.Status.PERFORMED
    draw.performed_at = clock.now()
    draw.save(
        update_fields=[
            "checkpoint",
            "seed",
            "result",
            "result_sha256",
            "status",
            "performed_at",
        ]
    )
    payload: dict[str, Any] = {
        "draw": draw.pk,
        "purpose": draw.purpose,
        "commitment_index": draw.commitment_index,
        "checkpoint_size": checkpoint.size,
        "seed": draw.seed,
        "result_sha256": draw.result_sha256,
    }
    if not draw.secret:
        payload["result"] = result
        payload["salt"] = draw.snapshot["salt"]
    record_event("draws.draw.performed", subjects=_subjects(draw), payload=payload)
    handler = _performed_handlers.get(draw.purpose)
    if handler is not None:
        handler(draw)
    return draw


def perform_pending() -> int:
    """Perform every committed draw whose seed checkpoint now exists (the clock loop's part)."""
    done = 0
    pending = Draw.objects.filter(status=Draw.Status.COMMITTED, commitment_index__isnull=False)
    for draw_id, index in pending.values_list("pk", "commitment_index"):
        if Checkpoint.objects.filter(size__gt=index).exists():
            perform_draw(draw_id)
            done += 1
    return done


def draw_now(draw: Draw) -> Draw:
    """Perform ``draw`` at once, issuing the checkpoint that fixes its seed if needed."""
    return perform_draw(draw.pk, issue=True)


@service
def publish_draw(draw: Draw) -> Draw:
    """Make a secret draw's candidates and result public (idempotent; the owning context decides
    when: an evaluation committee when the evaluation result is published)."""
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    if draw.published_at is not None or not draw.secret:
        return draw
    draw.published_at = clock.now()
    draw.save(update_fields=["published_at"])
    record_event(
        "draws.draw.published",
        subjects=_subjects(draw),
        payload={
            "draw": draw.pk,
            "result": draw.result,
            "salt": draw.snapshot["salt"],
            "result_sha256": draw.result_sha256,
        },
    )
    return draw


# --- export -----------------------------------------------------------------------------------


def may_see_secrets(user: Any) -> bool:
    """Centre staff, regulators and auditors see a secret draw's candidates before publication."""
    return has_role(user, Role.CENTRE_STAFF, Role.REGULATOR, Role.AUDITOR)


def export_draw(draw: Draw, *, full: bool) -> dict[str, Any]:
    """Everything needed to verify the draw offline (``openbid draw verify --file``).

    Without ``full``, a secret draw that is not yet published leaves out the snapshot and the
    result (``redacted``): the commitment, the seed and its checkpoint can still be checked.
    """
    show = full or draw.is_public
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "draw": draw.pk,
        "purpose": draw.purpose,
        "subject": {"kind": draw.subject_kind, "id": draw.subject_id},
        "previous": draw.previous_id,
        "status": draw.status,
        "secret": draw.secret,
        "published": draw.published_at is not None,
        "redacted": not show,
        "algorithm": algorithm.VERSION,
        "inputs": draw.inputs,
        "inputs_sha256": draw.inputs_sha256,
        "snapshot": draw.snapshot if show else None,
        "seed": draw.seed or None,
        "result": draw.result if show else None,
        "result_sha256": draw.result_sha256 or None,
        "commitment": None,
        "checkpoint": None,
        "inclusion_proof": [],
        "log_verifier_key": keys.log_verifier_key(),
    }
    if draw.commitment_index is not None:
        entry = Entry.objects.get(index=draw.commitment_index)
        doc["commitment"] = {
            "index": entry.index,
            "event": entry.event_id,
            "leaf": base64.b64encode(bytes(entry.leaf)).decode(),
            "leaf_hash": merkle.leaf_hash(bytes(entry.leaf)).hex(),
        }
    if draw.checkpoint is not None:
        cp = draw.checkpoint
        doc["checkpoint"] = {
            "size": cp.size,
            "root_hash": base64.b64encode(bytes(cp.root_hash)).decode(),
            "note": cp.note,
        }
        if draw.commitment_index is not None:
            proof = store.TreeReader().inclusion_proof(draw.commitment_index, cp.size)
            doc["inclusion_proof"] = [base64.b64encode(h).decode() for h in proof]
    return doc


def get_draw(draw_id: int) -> Draw:
    draw = Draw.objects.select_related("checkpoint").filter(pk=draw_id).first()
    if draw is None:
        raise NotFound(_("No such draw."), field="draw", rule="exists")
    return draw


def draws_of(kind: str, ref: object) -> Any:
    return Draw.objects.filter(subject_kind=kind, subject_id=str(ref)).order_by("pk")


__all__ = [
    "commit_draw",
    "draw_now",
    "export_draw",
    "on_performed",
    "perform_draw",
    "perform_pending",
    "publish_draw",
    "seed_checkpoint",
]
