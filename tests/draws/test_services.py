"""Draws through the services: commit first, seed from the next checkpoint, verify, tamper."""

from __future__ import annotations

import base64
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openbid.core.clockloop import tick
from openbid.core.errors import InvalidInput
from openbid.core.models import DomainEvent
from openbid.draws import algorithm, services
from openbid.draws.models import Draw
from openbid.draws.verify import verify_export
from openbid.ledger import services as ledger
from openbid.ledger.models import Checkpoint

pytestmark = pytest.mark.django_db

CANDIDATES = [{"ref": f"bidder:{n}", "tags": []} for n in range(1, 8)]
GROUPS = [{"name": "winner", "tag": None, "count": 1, "reserves": 2}]


def commit(secret: bool = False, **kw: Any) -> Draw:
    return services.commit_draw(
        None,
        purpose="award.lottery",
        subject=("section", 42),
        groups=GROUPS,
        candidates=CANDIDATES,
        criteria={"rule": "tie at equal scores"},
        secret=secret,
        **kw,
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command("draw", *args, stdout=out)
    return out.getvalue()


def test_commit_records_the_inputs_digest_then_waits_for_a_later_checkpoint(clock: Any) -> None:
    earlier = ledger.issue_checkpoint()  # before the commitment: it cannot be the seed
    draw = commit()
    event = DomainEvent.objects.get(type="draws.draw.committed")
    assert event.payload["inputs_sha256"] == draw.inputs_sha256
    assert draw.inputs_sha256 == algorithm.digest(draw.inputs).hex()
    assert draw.commitment_index is not None and draw.commitment_index >= earlier.size
    assert services.perform_draw(draw.pk).status == Draw.Status.COMMITTED  # no seed yet
    assert services.seed_checkpoint(draw) is None

    performed = services.draw_now(draw)
    assert performed.status == Draw.Status.PERFORMED
    assert performed.checkpoint is not None and performed.checkpoint.size > draw.commitment_index
    assert performed.seed == bytes(performed.checkpoint.root_hash).hex()
    assert performed.result == algorithm.select(
        bytes.fromhex(performed.seed), performed.inputs, performed.snapshot
    )
    winner = performed.result["groups"][0]["members"]
    assert len(winner) == 1 and winner[0] in {c["ref"] for c in CANDIDATES}
    recorded = DomainEvent.objects.get(type="draws.draw.performed")
    assert recorded.payload["result"] == performed.result  # a public draw shows its result
    # Idempotent.
    assert services.draw_now(performed).result == performed.result
    assert DomainEvent.objects.filter(type="draws.draw.performed").count() == 1


def test_clock_loop_performs_pending_draws(clock: Any, settings: Any) -> None:
    settings.OPENBID_LEDGER_CHECKPOINT_SECONDS = 0
    draw = commit()
    results = tick()
    assert results["draws.perform_pending"] == 1
    draw.refresh_from_db()
    assert draw.status == Draw.Status.PERFORMED
    assert tick()["draws.perform_pending"] == 0


def test_secret_draw_publishes_only_digests_until_published(clock: Any) -> None:
    draw = services.draw_now(commit(secret=True))
    committed = DomainEvent.objects.get(type="draws.draw.committed").payload
    performed = DomainEvent.objects.get(type="draws.draw.performed").payload
    assert "inputs" not in committed and "result" not in performed
    assert performed["result_sha256"] == algorithm.result_digest(draw.snapshot["salt"], draw.result)
    public = services.export_draw(draw, full=False)
    assert public["redacted"] and public["snapshot"] is None and public["result"] is None
    lines: list[str] = []
    assert verify_export(public, lines.append).passed
    assert any("secret until published" in line for line in lines)
    services.publish_draw(draw)
    draw.refresh_from_db()
    assert services.export_draw(draw, full=False)["result"] == draw.result


def test_refusals_write_nothing(clock: Any) -> None:
    before = (Draw.objects.count(), DomainEvent.objects.count())
    with pytest.raises(InvalidInput):
        services.commit_draw(
            None, purpose="lottery", subject=("x", 1), groups=GROUPS, candidates=CANDIDATES
        )
    with pytest.raises(InvalidInput):
        services.commit_draw(
            None, purpose="award.lottery", subject=("x", 1), groups=GROUPS, candidates=[]
        )
    assert (Draw.objects.count(), DomainEvent.objects.count()) == before


# --- openbid draw verify ---------------------------------------------------------------------


def test_cli_verifies_a_draw(clock: Any) -> None:
    draw = services.draw_now(commit())
    out = run("verify", str(draw.pk))
    assert "recomputed the draw: the same result" in out
    assert "the seed checkpoint is the first issued after the commitment" in out
    assert out.strip().endswith("verified")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("inputs", "the inputs do not hash"),
        ("inputs_consistent", "the inputs differ from those committed"),
        ("seed", "is not the checkpoint's root"),
        ("result", "recomputing the draw gives a different result"),
        ("snapshot", "not the one the inputs commit to"),
    ],
)
def test_cli_fails_after_a_change(clock: Any, change: str, message: str) -> None:
    draw = services.draw_now(commit())
    if change == "inputs":
        Draw.objects.filter(pk=draw.pk).update(inputs={**draw.inputs, "criteria": {"x": 1}})
    elif change == "inputs_consistent":
        inputs = {**draw.inputs, "criteria": {"x": 1}}
        Draw.objects.filter(pk=draw.pk).update(
            inputs=inputs, inputs_sha256=algorithm.digest(inputs).hex()
        )
    elif change == "seed":
        Draw.objects.filter(pk=draw.pk).update(seed="00" * 32)
    elif change == "result":
        result = json.loads(json.dumps(draw.result))
        others = [c["ref"] for c in CANDIDATES if c["ref"] not in result["groups"][0]["members"]]
        result["groups"][0]["members"] = [others[0]]
        Draw.objects.filter(pk=draw.pk).update(
            result=result, result_sha256=algorithm.result_digest(draw.snapshot["salt"], result)
        )
    else:
        snapshot = {**draw.snapshot, "candidates": draw.snapshot["candidates"][1:]}
        Draw.objects.filter(pk=draw.pk).update(snapshot=snapshot)
    with pytest.raises(CommandError, match="verification failed"):
        out = StringIO()
        try:
            call_command("draw", "verify", str(draw.pk), stdout=out)
        finally:
            assert message in out.getvalue()


def test_cli_fails_for_a_checkpoint_that_is_not_the_first(clock: Any) -> None:
    draw = commit()
    first = ledger.issue_checkpoint()
    commit()  # the log grows, a later checkpoint is issued
    later = ledger.issue_checkpoint()
    assert later.size > first.size
    services.perform_draw(draw.pk)
    draw.refresh_from_db()
    assert draw.checkpoint == first
    Draw.objects.filter(pk=draw.pk).update(
        checkpoint=later,
        seed=bytes(later.root_hash).hex(),
        result=algorithm.select(bytes(later.root_hash), draw.inputs, draw.snapshot),
    )
    with pytest.raises(CommandError):
        out = StringIO()
        try:
            call_command("draw", "verify", str(draw.pk), stdout=out)
        finally:
            assert "is not the first after the commitment" in out.getvalue()


def test_verify_an_exported_file(clock: Any, tmp_path: Path) -> None:
    draw = services.draw_now(commit())
    path = tmp_path / "draw.json"
    path.write_text(run("export", str(draw.pk)))
    assert run("verify", "--file", str(path)).strip().endswith("verified")

    doc = json.loads(path.read_text())
    # A seed from another checkpoint, with a result recomputed from it, is caught by the signature.
    forged = json.loads(json.dumps(doc))
    forged["seed"] = "11" * 32
    forged["checkpoint"]["root_hash"] = base64.b64encode(bytes(32)).decode()
    forged["result"] = algorithm.select(
        bytes.fromhex(forged["seed"]), doc["inputs"], doc["snapshot"]
    )
    path.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="verification failed"):
        run("verify", "--file", str(path))

    # A commitment index beyond the checkpoint: the checkpoint does not come after it.
    late = json.loads(json.dumps(doc))
    late["commitment"]["index"] = Checkpoint.objects.get().size + 5
    lines: list[str] = []
    assert not verify_export(late, lines.append).passed

    # Another key than the log's is refused.
    path.write_text(json.dumps(doc))
    with pytest.raises(CommandError, match="signature"):
        run("verify", "--file", str(path), "--key", "other+01020304+AQ" + "A" * 42)


def test_openbid_cli_dispatches_draw(clock: Any, capsys: Any) -> None:
    from openbid.cli import main

    draw = services.draw_now(commit())
    assert main(["draw", "verify", str(draw.pk)]) == 0
    assert "verified" in capsys.readouterr().out
