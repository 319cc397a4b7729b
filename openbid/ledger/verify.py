"""End-to-end verification of the log: ``openbid ledger verify``.

Locally it recomputes every leaf from the event record, every stored tree hash from the leaves,
the root of every checkpoint, each checkpoint's signatures and the consistency of consecutive
checkpoints. Against a remote platform it checks that the platform's current checkpoint is signed
and consistent with one saved earlier. Each check prints a line; the first mismatch names the
entry (or checkpoint) at fault and the result is a failure.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from openbid.core.models import DomainEvent
from openbid.ledger import keys, leaves, merkle
from openbid.ledger.checkpoint import open_checkpoint, parse_witness_verifier_key
from openbid.ledger.models import Checkpoint, Entry, LedgerState, Node, Witness
from openbid.ledger.note import NoteError, Verifier, parse_verifier_key
from openbid.ledger.store import TILE_HEIGHT, TILE_WIDTH

Print = Callable[[str], None]


@dataclass
class Report:
    out: Print
    problems: list[str] = field(default_factory=list)

    def ok(self, line: str) -> None:
        self.out(f"ok    {line}")

    def fail(self, line: str) -> None:
        self.problems.append(line)
        self.out(f"FAIL  {line}")

    @property
    def passed(self) -> bool:
        return not self.problems


def _describe(entry_index: int, event: DomainEvent | None) -> str:
    if event is None:
        return f"entry {entry_index}"
    return f"entry {entry_index} (event #{event.pk}, {event.type})"


def verify_local(out: Print, *, batch: int = 2000) -> Report:
    """Verify the stored log end to end against the event record and the checkpoints."""
    report = Report(out)
    state = LedgerState.objects.filter(pk=1).first()
    size = state.size if state else 0
    accumulator = merkle.MerkleAccumulator()
    leaf_hashes: list[bytes] = []
    first_bad: str | None = None
    expected = 0
    missing = 0
    entries = (
        Entry.objects.select_related("event", "event__actor_org")
        .prefetch_related("event__subjects")
        .order_by("index")
    )
    for entry in entries.iterator(chunk_size=batch):
        if entry.index != expected:
            report.fail(f"entry {expected} is missing (the log jumps to entry {entry.index})")
            first_bad = first_bad or f"entry {expected}"
            missing += entry.index - expected
            expected = entry.index
        stored_leaf = bytes(entry.leaf)
        recomputed = leaves.leaf_bytes(entry.event, entry.index)
        if stored_leaf != recomputed and first_bad is None:
            first_bad = _describe(entry.index, entry.event)
            report.fail(f"{first_bad}: the stored leaf does not match the event record")
        if merkle.leaf_hash(stored_leaf) != bytes(entry.leaf_hash) and first_bad is None:
            first_bad = _describe(entry.index, entry.event)
            report.fail(f"{first_bad}: the stored leaf hash does not match the leaf")
        # The tree is rebuilt from the event record, so any rewrite shows up against checkpoints.
        h = merkle.leaf_hash(recomputed)
        leaf_hashes.append(h)
        accumulator.append(h)
        expected += 1
    if expected != size:
        report.fail(f"the log has {expected - missing} entries but its recorded size is {size}")
    elif not missing:
        report.ok(f"{expected} entries are contiguous and match the recorded size")
    if first_bad is None and expected:
        report.ok(f"every leaf matches its event record ({expected} leaves recomputed)")

    in_log = Entry.objects.values_list("event_id", flat=True)
    orphan = DomainEvent.objects.exclude(pk__in=in_log).order_by("pk").first()
    if orphan is not None:
        report.fail(f"event #{orphan.pk} ({orphan.type}) is not in the log")
    else:
        report.ok("every recorded event is in the log")

    tree = merkle.MemoryTree(leaf_hashes)
    _verify_nodes(report, tree)
    _verify_checkpoints(report, tree, first_bad)
    return report


def _verify_nodes(report: Report, tree: merkle.MemoryTree) -> None:
    checked = 0
    for node in Node.objects.order_by("level", "index").iterator():
        end = (node.index + 1) << node.level
        if end > tree.size:
            report.fail(f"tree node {node.level}/{node.index} lies beyond the log's end")
            return
        if tree.perfect_hash(node.level, node.index) != bytes(node.hash):
            first = node.index << node.level
            report.fail(
                f"tree node {node.level}/{node.index} (entries {first}–{end - 1}) does not match "
                "the leaves below it"
            )
            return
        checked += 1
    complete = sum(tree.size // (1 << level) for level in range(TILE_HEIGHT, 64, TILE_HEIGHT))
    if checked != complete:
        report.fail(f"{complete - checked} stored tile hashes are missing")
        return
    report.ok(f"{checked} stored tile hashes (every {TILE_WIDTH} leaves) match the leaves")


def _log_verifiers() -> list[Verifier]:
    return [keys.log_signer().verifier()]


def _witness_verifiers() -> list[Verifier]:
    out: list[Verifier] = []
    for witness in Witness.objects.all():
        try:
            out.append(parse_witness_verifier_key(witness.verifier_key))
        except (NoteError, ValueError):
            continue
    return out


def _verify_checkpoints(report: Report, tree: merkle.MemoryTree, first_bad: str | None) -> None:
    previous: Checkpoint | None = None
    count = 0
    for cp in Checkpoint.objects.order_by("size"):
        count += 1
        label = f"checkpoint at size {cp.size}"
        try:
            verified = open_checkpoint(
                cp.note, _log_verifiers(), _witness_verifiers(), origin=keys.origin()
            )
        except (NoteError, ValueError) as exc:
            report.fail(f"{label}: signature does not verify ({exc})")
            return
        if verified.checkpoint.size != cp.size or verified.checkpoint.root_hash != bytes(
            cp.root_hash
        ):
            report.fail(f"{label}: the signed note says something else than the stored row")
            return
        if cp.size > tree.size:
            report.fail(
                f"{label}: the log has only {tree.size} entries; entries {tree.size}–"
                f"{cp.size - 1} are missing (the log was truncated)"
            )
            return
        if tree.root(cp.size) != bytes(cp.root_hash):
            where = first_bad or "an entry whose leaf and event were both rewritten"
            report.fail(f"{label}: root does not match the log; first bad: {where}")
            return
        if previous is not None and previous.size > 0:
            proof = tree.consistency_proof(previous.size, cp.size)
            if not merkle.verify_consistency(
                previous.size, cp.size, proof, bytes(previous.root_hash), bytes(cp.root_hash)
            ):
                report.fail(f"{label}: not consistent with checkpoint at size {previous.size}")
                return
        cosigned = ", ".join(sorted(verified.witnesses)) or "no witness"
        report.ok(f"{label}: signed, root matches, consistent with the previous; {cosigned}")
        previous = cp
    if count == 0:
        report.ok("no checkpoint issued yet")


# --- a remote platform ---------------------------------------------------------------------


def _fetch(url: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - scheme checked
        return bytes(response.read())


def verify_remote(base_url: str, saved: str, out: Print, *, key: str | None = None) -> Report:
    """Check that the platform at ``base_url`` still extends the checkpoint ``saved`` earlier."""
    report = Report(out)
    base = base_url.rstrip("/")
    if key is None:
        key = json.loads(_fetch(f"{base}/api/v1/ledger/key"))["verifier_key"]
        out(f"note  using the key the platform publishes: {key} (pass --key to pin it)")
    try:
        verifier = parse_verifier_key(key)
        old = open_checkpoint(saved, [verifier]).checkpoint
        report.ok(f"saved checkpoint {old.origin} size {old.size} is signed by {verifier.name}")
        current_text = _fetch(f"{base}/ledger/checkpoint").decode()
        new = open_checkpoint(current_text, [verifier], origin=old.origin).checkpoint
        report.ok(f"current checkpoint size {new.size} is signed by {verifier.name}")
    except (NoteError, ValueError, KeyError) as exc:
        report.fail(f"checkpoint signature: {exc}")
        return report
    if new.size < old.size:
        report.fail(f"the platform's log shrank from {old.size} to {new.size} entries")
        return report
    if new.size == old.size:
        if new.root_hash != old.root_hash:
            report.fail(f"same size {new.size} but a different root: the log was forked")
        else:
            report.ok("the log has not grown; the roots are equal")
        return report
    if old.size == 0:
        report.ok("the saved checkpoint is of the empty log; any log extends it")
        return report
    query = urllib.parse.urlencode({"first": old.size, "second": new.size})
    body = json.loads(_fetch(f"{base}/api/v1/ledger/proof/consistency?{query}"))
    proof = [base64.b64decode(h) for h in body["proof"]]
    if merkle.verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash):
        report.ok(f"consistency proof {old.size} → {new.size} verifies: nothing was rewritten")
    else:
        report.fail(f"consistency proof {old.size} → {new.size} does not verify: the log forked")
    return report
