"""Recomputing a draw: ``openbid draw verify <id>`` and ``openbid draw verify --file draw.json``.

``verify_export`` needs nothing but the exported document (and the log's verifier key, to pin):
it checks that

1. the inputs hash to the digest the export names, and the commitment leaf — a ledger entry of
   type ``draws.draw.committed`` at the stated index — carries that same digest for this draw;
2. the checkpoint is signed by the platform's log key, is larger than the commitment's index, and
   contains the commitment leaf (an RFC 9162 inclusion proof against its root);
3. the seed is that checkpoint's root hash;
4. the snapshot is the one the inputs commit to, and recomputing the draw
   (``openbid.draws.algorithm.select``) from seed, inputs and snapshot gives the stored result,
   whose salted digest is the one recorded.

``verify_stored`` runs the same checks on a draw of this platform and adds what only the platform
can check: the commitment leaf still matches the event record, the seed checkpoint is the *first*
one after the commitment, and the ``draws.draw.performed`` event records the same seed and result
digest. Each check prints a line; any mismatch fails.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from openbid.draws import algorithm
from openbid.ledger import merkle
from openbid.ledger.checkpoint import open_checkpoint
from openbid.ledger.note import NoteError, parse_verifier_key
from openbid.ledger.verify import Print, Report


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def verify_export(doc: dict[str, Any], out: Print, *, key: str | None = None) -> Report:
    """Verify an exported draw offline; ``key`` pins the log's verifier key."""
    report = Report(out)
    if doc.get("format") != "openbid-draw-export/v1":
        report.fail("not an openbid draw export (format openbid-draw-export/v1)")
        return report
    inputs: Any = doc.get("inputs")
    try:
        inputs_digest = algorithm.digest(inputs)
    except (TypeError, ValueError) as exc:
        report.fail(f"the inputs are not JSON that RFC 8785 can canonicalise: {exc}")
        return report
    if inputs_digest.hex() != doc.get("inputs_sha256"):
        report.fail("the inputs do not hash to the inputs digest of the export: they were changed")
    else:
        report.ok(f"inputs hash to {inputs_digest.hex()}")
    if not isinstance(inputs, dict) or (
        inputs.get("purpose") != doc.get("purpose") or inputs.get("subject") != doc.get("subject")
    ):
        report.fail("the purpose or subject of the export differs from the inputs'")

    # 1. The commitment in the ledger.
    commitment = doc.get("commitment")
    if not commitment:
        report.fail("the export has no ledger commitment")
        return report
    try:
        leaf = _b64(commitment["leaf"])
        leaf_doc = json.loads(leaf)
        index = int(commitment["index"])
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        report.fail(f"the commitment leaf is unreadable: {exc}")
        return report
    payload = leaf_doc.get("payload") or {}
    if leaf_doc.get("type") != "draws.draw.committed" or leaf_doc.get("seq") != index:
        report.fail(f"ledger entry {index} is not a draw commitment at that index")
    elif payload.get("draw") != doc.get("draw"):
        report.fail(f"ledger entry {index} commits to draw {payload.get('draw')}, not this one")
    elif payload.get("inputs_sha256") != inputs_digest.hex():
        report.fail(
            f"the inputs differ from those committed in ledger entry {index} "
            f"(committed {payload.get('inputs_sha256')}, recomputed {inputs_digest.hex()})"
        )
    else:
        report.ok(f"ledger entry {index} commits to these inputs")

    # 2–3. The seed and its checkpoint.
    checkpoint = doc.get("checkpoint")
    if not checkpoint or not doc.get("seed"):
        report.fail("the draw has not been performed: no seed checkpoint")
        return report
    verifier_key = key or doc.get("log_verifier_key") or ""
    if key is None:
        out(f"note  using the log key in the export: {verifier_key} (pass --key to pin it)")
    try:
        verified = open_checkpoint(checkpoint["note"], [parse_verifier_key(verifier_key)])
    except (NoteError, ValueError, KeyError) as exc:
        report.fail(f"the seed checkpoint's signature does not verify: {exc}")
        return report
    signed = verified.checkpoint
    report.ok(f"checkpoint {signed.origin} size {signed.size} is signed by the log key")
    if signed.size != checkpoint.get("size") or base64.b64encode(signed.root_hash).decode() != (
        checkpoint.get("root_hash")
    ):
        report.fail("the checkpoint fields differ from the signed note")
    if signed.size <= index:
        report.fail(
            f"the checkpoint (size {signed.size}) does not come after the commitment "
            f"(index {index}): its root could have been known before the inputs were fixed"
        )
    else:
        report.ok(f"the checkpoint's size {signed.size} is greater than the commitment's index")
    try:
        proof = [_b64(h) for h in doc.get("inclusion_proof") or []]
    except (ValueError, binascii.Error):
        proof = []
    if merkle.verify_inclusion(merkle.leaf_hash(leaf), index, signed.size, proof, signed.root_hash):
        report.ok(f"the commitment is included in the checkpoint's tree (proof of {len(proof)})")
    else:
        report.fail("the commitment leaf is not proved to be in the checkpoint's tree")
    seed_hex = str(doc.get("seed"))
    if seed_hex != signed.root_hash.hex():
        report.fail(
            f"the seed {seed_hex} is not the checkpoint's root {signed.root_hash.hex()}: "
            "it was changed"
        )
        return report
    report.ok(f"the seed is the checkpoint's root {seed_hex}")

    # 4. The result.
    snapshot, result = doc.get("snapshot"), doc.get("result")
    if snapshot is None or result is None:
        out(
            "note  candidates and result are secret until published: only the commitment and "
            "the seed were checked"
        )
        return report
    if not isinstance(snapshot, dict) or not algorithm.snapshot_matches(inputs, snapshot):
        report.fail("the candidate snapshot is not the one the inputs commit to: it was changed")
        return report
    report.ok(f"the snapshot of {len(snapshot['candidates'])} candidates matches the inputs")
    try:
        recomputed = algorithm.select(signed.root_hash, inputs, snapshot)
    except algorithm.DrawInputError as exc:
        report.fail(f"the draw cannot be recomputed: {exc}")
        return report
    if recomputed != result:
        report.fail("recomputing the draw gives a different result than the one stored")
    else:
        chosen = sum(len(g["members"]) for g in recomputed["groups"])
        report.ok(f"recomputed the draw: the same result ({chosen} chosen)")
    if algorithm.result_digest(snapshot["salt"], result) != doc.get("result_sha256"):
        report.fail("the result does not match the result digest recorded")
    else:
        report.ok("the result matches its recorded digest")
    return report


def verify_stored(draw_id: int, out: Print) -> Report:
    """Verify a draw of this platform: the export's checks plus the platform's own records."""
    from openbid.core.models import DomainEvent
    from openbid.draws.models import Draw
    from openbid.draws.services import export_draw, seed_checkpoint
    from openbid.ledger import keys, leaves
    from openbid.ledger.models import Entry

    draw = Draw.objects.select_related("checkpoint").get(pk=draw_id)
    doc = export_draw(draw, full=True)
    report = verify_export(doc, out, key=keys.log_verifier_key())
    if draw.commitment_index is not None:
        entry = Entry.objects.select_related("event").get(index=draw.commitment_index)
        if bytes(entry.leaf) != leaves.leaf_bytes(entry.event, entry.index):
            report.fail(f"ledger entry {entry.index} no longer matches its event record")
    first = seed_checkpoint(draw)
    if draw.checkpoint_id is not None:
        if first is None or first.pk != draw.checkpoint_id:
            report.fail(
                f"the seed checkpoint (size {draw.checkpoint.size if draw.checkpoint else '?'}) "
                f"is not the first after the commitment (size {first.size if first else '?'})"
            )
        else:
            report.ok("the seed checkpoint is the first issued after the commitment")
    performed = (
        DomainEvent.objects.filter(
            type="draws.draw.performed", subjects__kind="draw", subjects__ref=str(draw.pk)
        )
        .order_by("pk")
        .first()
    )
    if draw.status == Draw.Status.PERFORMED:
        if performed is None:
            report.fail("no draws.draw.performed event records this draw's result")
        elif (
            performed.payload.get("seed") != draw.seed
            or performed.payload.get("result_sha256") != draw.result_sha256
        ):
            report.fail("the stored seed or result differs from the one recorded in the ledger")
        else:
            report.ok("the ledger's record of the draw has the same seed and result digest")
    return report
