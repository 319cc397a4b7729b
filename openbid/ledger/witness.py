"""The C2SP tlog-witness protocol, in both directions.

https://c2sp.org/tlog-witness: a log ``POST``s ``<submission prefix>/add-checkpoint`` with a body
of an ``old <size>`` line, at most 63 lines of base64 consistency-proof hashes, an empty line and
the signed checkpoint note; the witness answers with cosignature lines (c2sp.org/tlog-cosignature).

**Witness side** (:func:`process_add_checkpoint`, served by :func:`add_checkpoint_view` at
``/ledger/witness/add-checkpoint``). The checks run in the order the specification states them:

* malformed request, checkpoint or note: ``400``;
* origin not among the ``WitnessedLog`` rows: ``404``;
* no valid signature by a configured key of that log (unknown signatures are ignored; a signature
  that names a configured key but does not verify fails the whole note): ``403``;
* old size larger than the checkpoint size: ``400``;
* old size not the size of the latest checkpoint cosigned for the origin (0 if none): ``409`` with
  ``Content-Type: text/x.tlog.size`` and body ``<size>\\n``;
* a consistency proof that does not verify from the stored root, a non-empty proof when the old
  size is 0 or equals the new size, or a size-0 checkpoint whose root is not the empty tree's:
  ``422``;
* old size equal to the checkpoint size but a different root hash: ``409`` — the specification's
  own wording for this case ("the witness MUST respond with a 409 Conflict"), sent as
  ``text/plain`` so that no client mistakes it for a size hint;
* otherwise the new checkpoint is stored and ``200`` carries one cosignature line per witness key.

Checking the old size and storing the new checkpoint are one atomic step: the ``WitnessedLog``
row is locked (``SELECT … FOR UPDATE``; on SQLite the transaction is ``IMMEDIATE`` so writers
queue), and the write is a conditional ``UPDATE … WHERE size = <old size>`` that answers ``409``
when it matches nothing, so two requests from the same old size cannot both be cosigned.

**Log side** (:func:`request_cosignatures`, and the task :data:`collect_cosignatures`). Every
active ``Witness`` receives our checkpoint with a consistency proof from ``Witness.last_size``;
a ``409`` size hint is followed (after sanity checks) at most twice; a returned cosignature is
verified with the witness's configured key before it is stored as a ``Cosignature`` row and
appended to ``Checkpoint.note``, so the note published at ``/ledger/checkpoint`` carries it.
Failures are recorded in ``Witness.last_error``. The HTTP transport can be replaced (a function
``(url, body) -> (status, headers, body)``) to run two instances in one process.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tasks import task

from openbid.core import clock
from openbid.ledger import keys, store
from openbid.ledger.checkpoint import (
    MAX_TREE_SIZE,
    CosignatureV1Verifier,
    parse_checkpoint,
    parse_witness_verifier_key,
)
from openbid.ledger.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from openbid.ledger.models import Checkpoint, Cosignature, Witness, WitnessedLog
from openbid.ledger.note import (
    Note,
    NoteError,
    NoteSignature,
    Verifier,
    b64decode_strict,
    parse_note,
    parse_verifier_key,
    verify_note,
)

__all__ = [
    "ADD_CHECKPOINT",
    "MAX_BODY_BYTES",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "CosignOutcome",
    "Transport",
    "add_checkpoint_view",
    "collect_cosignatures",
    "format_add_checkpoint",
    "http_transport",
    "parse_add_checkpoint",
    "process_add_checkpoint",
    "request_cosignatures",
]

logger = logging.getLogger("openbid.ledger.witness")

ADD_CHECKPOINT = "/add-checkpoint"
"""The path under a witness's submission prefix."""

MAX_BODY_BYTES = 64 * 1024
"""Largest add-checkpoint request accepted (63 proof lines and a note with many cosignatures)."""

MAX_RESPONSE_BYTES = 64 * 1024
"""Largest witness response read by the log side."""

MAX_PROOF_LINES = 63
"""tlog-witness: the client MUST NOT send more than 63 consistency proof lines."""

SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""The content type of a 409 answer that carries the witness's latest cosigned size."""

TEXT = "text/plain; charset=utf-8"

TIMEOUT_SECONDS = 15.0
"""Connect and read timeout of one add-checkpoint request."""

ATTEMPTS = 3
"""One request, then at most two more after ``409`` size hints."""

_DECIMAL = re.compile(rb"0|[1-9][0-9]*")
_SIZE_BODY = re.compile(rb"(0|[1-9][0-9]{0,19})\n")

Response = tuple[int, str, bytes]
"""``(status, content type, body)`` of a witness answer."""


# --------------------------------------------------------------------------------------------
# The request body (tlog-witness §add-checkpoint)
# --------------------------------------------------------------------------------------------


class MalformedRequestError(ValueError):
    """The add-checkpoint body does not follow tlog-witness."""


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    """The signed checkpoint note, as sent."""


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Split an add-checkpoint body into the old size, the proof hashes and the signed note.

    The old size is ASCII decimal without leading zeroes; every proof line is canonical base64 of
    a 32-byte hash, at most 63 of them; the first empty line ends the proof and the rest is the
    note (which has an empty line of its own before its signatures).
    """
    first, sep, rest = body.partition(b"\n")
    if not sep or not first.startswith(b"old "):
        raise MalformedRequestError("the body must start with an old size line")
    digits = first[4:]
    if not _DECIMAL.fullmatch(digits) or int(digits) > MAX_TREE_SIZE:
        raise MalformedRequestError("the old size must be ASCII decimal without leading zeroes")
    proof: list[bytes] = []
    while True:
        line, sep, rest = rest.partition(b"\n")
        if not sep:
            raise MalformedRequestError("no empty line before the checkpoint")
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise MalformedRequestError("more than 63 consistency proof lines")
        try:
            value = b64decode_strict(line.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedRequestError("a proof line is not canonical base64") from exc
        if len(value) != HASH_SIZE:
            raise MalformedRequestError("a proof line is not a 32-byte hash")
        proof.append(value)
    if not rest:
        raise MalformedRequestError("no checkpoint after the empty line")
    return AddCheckpointRequest(int(digits), tuple(proof), rest)


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: bytes | str) -> bytes:
    """The add-checkpoint request body."""
    lines = [f"old {old_size}\n".encode("ascii")]
    lines += [base64.b64encode(bytes(h)) + b"\n" for h in proof]
    lines.append(b"\n")
    lines.append(note.encode("utf-8") if isinstance(note, str) else bytes(note))
    return b"".join(lines)


# --------------------------------------------------------------------------------------------
# Witness side
# --------------------------------------------------------------------------------------------


class _Refusal(Exception):
    def __init__(self, status: int, message: str, *, content_type: str = TEXT) -> None:
        super().__init__(message)
        self.status = status
        self.content_type = content_type
        self.body = message.encode("utf-8") if message.endswith("\n") else (message + "\n").encode()


def _size_conflict(size: int) -> _Refusal:
    return _Refusal(409, f"{size}\n", content_type=SIZE_CONTENT_TYPE)


def _log_verifiers(log: WitnessedLog) -> list[Verifier]:
    verifiers: dict[tuple[str, int], Verifier] = {}
    for line in log.verifier_keys.splitlines():
        if not line.strip():
            continue
        try:
            verifier = parse_verifier_key(line.strip())
        except NoteError:
            logger.error("witnessed log %s has an unusable verifier key %r", log.origin, line)
            continue
        verifiers.setdefault((verifier.name, verifier.key_id), verifier)
    return list(verifiers.values())


def _cosign(text: str) -> bytes:
    signer = keys.witness_signer()
    signature = NoteSignature(signer.name, signer.key_id, signer.sign(text.encode("utf-8")))
    return signature.line.encode("utf-8")


def process_add_checkpoint(body: bytes) -> Response:
    """Answer one add-checkpoint request: ``(status, content type, body)``."""
    try:
        return _process(body)
    except _Refusal as refusal:
        return refusal.status, refusal.content_type, refusal.body


def _process(body: bytes) -> Response:
    try:
        request = parse_add_checkpoint(body)
        note = parse_note(request.checkpoint)
        checkpoint = parse_checkpoint(note.text)
    except ValueError as exc:  # MalformedRequestError and every NoteError
        raise _Refusal(
            400, _("Malformed add-checkpoint request: %(error)s") % {"error": exc}
        ) from exc

    log = WitnessedLog.objects.filter(origin=checkpoint.origin).first()
    if log is None:
        raise _Refusal(
            404,
            _("This witness does not witness the log %(origin)s.") % {"origin": checkpoint.origin},
        )
    try:
        verify_note(note, _log_verifiers(log))
    except NoteError as exc:
        raise _Refusal(
            403, _("No valid signature by a known key of %(origin)s.") % {"origin": log.origin}
        ) from exc

    old, size, root = request.old_size, checkpoint.size, checkpoint.root_hash
    if old > size:
        raise _Refusal(400, _("The old size is larger than the checkpoint size."))

    with transaction.atomic():
        row = WitnessedLog.objects.select_for_update().get(pk=log.pk)
        if old != row.size:
            raise _size_conflict(row.size)
        stored_root = bytes(row.root_hash)
        if old == 0:
            if request.proof:
                raise _Refusal(422, _("The proof must be empty when the old size is zero."))
            if size == 0 and root != EMPTY_ROOT:
                raise _Refusal(
                    422, _("A checkpoint of size zero must carry the empty tree's root.")
                )
        elif old == size:
            if request.proof:
                raise _Refusal(422, _("The proof must be empty when the sizes are equal."))
            if root != stored_root:
                _report_misbehaviour(log.origin, old, request, "same size, different root")
                raise _Refusal(
                    409,
                    _("A checkpoint of size %(size)d with another root hash was cosigned before.")
                    % {"size": size},
                )
        elif not verify_consistency(old, size, request.proof, stored_root, root):
            _report_misbehaviour(log.origin, old, request, "consistency proof does not verify")
            raise _Refusal(
                422,
                _("The consistency proof from size %(old)d to %(new)d does not verify.")
                % {"old": old, "new": size},
            )
        # The compare-and-set: a writer that got past the lock (or a database that does not lock)
        # cannot make two checkpoints from the same old size both succeed.
        persisted = WitnessedLog.objects.filter(pk=row.pk, size=old).update(
            size=size,
            root_hash=root,
            checkpoint=note.to_text(),
            updated_at=clock.now(),
        )
        if persisted != 1:
            current = WitnessedLog.objects.filter(pk=row.pk).values_list("size", flat=True).get()
            raise _size_conflict(int(current))
        cosignature = _cosign(note.text)
    return 200, TEXT, cosignature


def _report_misbehaviour(origin: str, old: int, request: AddCheckpointRequest, why: str) -> None:
    # tlog-witness: the witness MAY log an authentic but inconsistent request; it may prove a fork.
    logger.warning(
        "possible misbehaviour of log %s (%s): old size %d, request %s",
        origin,
        why,
        old,
        format_add_checkpoint(old, request.proof, request.checkpoint).decode("utf-8", "replace"),
    )


def _response(status: int, content_type: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@csrf_exempt  # machine to machine: authenticated by the log's signature on the checkpoint
@never_cache
@require_POST
def add_checkpoint_view(request: HttpRequest) -> HttpResponse:
    """``POST /ledger/witness/add-checkpoint`` (tlog-witness)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _response(400, TEXT, _("Invalid Content-Length.").encode() + b"\n")
    too_large = (
        _("The request is larger than %(limit)d bytes.") % {"limit": MAX_BODY_BYTES}
    ) + "\n"
    if declared > MAX_BODY_BYTES:
        return _response(413, TEXT, too_large.encode())
    try:
        body = request.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _response(413, TEXT, too_large.encode())
        status, content_type, payload = process_add_checkpoint(body)
    except Exception:
        logger.exception("add-checkpoint failed")
        status, content_type = 500, TEXT
        payload = (_("The witness could not process the request.") + "\n").encode()
    return _response(status, content_type, payload)


# --------------------------------------------------------------------------------------------
# Log side
# --------------------------------------------------------------------------------------------

Transport = Callable[[str, bytes], tuple[int, Mapping[str, str], bytes]]
"""``(url, body) -> (status, headers with lower-case names, body)``; raises ``OSError``."""


def http_transport(url: str, body: bytes) -> tuple[int, Mapping[str, str], bytes]:
    """POST ``body`` to ``url`` with http.client (no redirects followed, bounded read)."""
    parts = urllib.parse.urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise OSError(f"invalid URL {url!r}: {exc}") from exc
    if not host or parts.scheme not in ("http", "https"):
        raise OSError(f"not an http(s) URL: {url!r}")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=TIMEOUT_SECONDS)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": "openbid"},
        )
        response = connection.getresponse()
        data = response.read(MAX_RESPONSE_BYTES + 1)
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, data
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from exc
    finally:
        connection.close()


@dataclass(frozen=True)
class CosignOutcome:
    """What happened with one witness: ``ok`` and a message for people; the stored line if any."""

    ok: bool
    message: str
    line: str = ""


class _WitnessFailure(Exception):
    pass


def _excerpt(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _proof(old: int, size: int) -> list[bytes]:
    if old == 0 or old == size:
        return []
    return store.TreeReader().consistency_proof(old, size)


def _media_type(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""


def _ask(witness: Witness, checkpoint: Checkpoint, transport: Transport) -> list[NoteSignature]:
    """Run add-checkpoint against one witness until it cosigns; return its verified lines."""
    url = witness.url.rstrip("/") + ADD_CHECKPOINT
    size = checkpoint.size
    old = witness.last_size
    if old > size:
        raise _WitnessFailure(
            _("The witness already cosigned size %(old)d, larger than this checkpoint (%(size)d).")
            % {"old": old, "size": size}
        )
    for _attempt in range(ATTEMPTS):
        body = format_add_checkpoint(old, _proof(old, size), checkpoint.note)
        try:
            status, headers, answer = transport(url, body)
        except OSError as exc:
            raise _WitnessFailure(
                _("The witness could not be reached: %(error)s") % {"error": exc}
            ) from exc
        if status == 200:
            return _cosignature_lines(witness, checkpoint, answer)
        if status == 409 and _media_type(headers) == SIZE_CONTENT_TYPE:
            hint = _SIZE_BODY.fullmatch(answer)
            if hint is None:
                raise _WitnessFailure(_("The witness sent a malformed size in its 409 answer."))
            known = int(hint.group(1))
            if known > size and Checkpoint.objects.filter(size=known).exists():
                raise _WitnessFailure(
                    _("The witness already cosigned a newer checkpoint of ours (size %(known)d).")
                    % {"known": known}
                )
            if known > size:
                raise _WitnessFailure(
                    _(
                        "The witness has cosigned size %(known)d of this log, larger than ours "
                        "(%(size)d): a fork, or another log signing with our origin and key."
                    )
                    % {"known": known, "size": size}
                )
            if known < witness.last_size:
                raise _WitnessFailure(
                    _(
                        "The witness reports size %(known)d, smaller than the %(last)d it cosigned "
                        "before: it has lost or rolled back its state."
                    )
                    % {"known": known, "last": witness.last_size}
                )
            if known == old:
                raise _WitnessFailure(_("The witness refused our old size while reporting it."))
            old = known
            continue
        if status == 409:
            raise _WitnessFailure(
                _(
                    "The witness refused: it cosigned another tree of size %(size)d (a fork?). "
                    "%(detail)s"
                )
                % {"size": size, "detail": _excerpt(answer)}
            )
        if status == 422:
            raise _WitnessFailure(
                _(
                    "The witness refused the consistency proof from size %(old)d to %(size)d "
                    "(a fork?). %(detail)s"
                )
                % {"old": old, "size": size, "detail": _excerpt(answer)}
            )
        raise _WitnessFailure(
            _("The witness answered HTTP %(status)d: %(detail)s")
            % {"status": status, "detail": _excerpt(answer)}
        )
    raise _WitnessFailure(_("The witness kept changing its size; giving up for now."))


def _cosignature_lines(
    witness: Witness, checkpoint: Checkpoint, answer: bytes
) -> list[NoteSignature]:
    """The witness's verified cosignatures in a 200 answer (unknown keys' lines are ignored)."""
    try:
        text = answer.decode("utf-8")
        if not text or not text.endswith("\n"):
            raise NoteError("the answer is not newline-terminated signature lines")
        lines = [NoteSignature.from_line(line) for line in text[:-1].split("\n")]
        verifier = parse_witness_verifier_key(witness.verifier_key)
        ours = parse_note(checkpoint.note)
        verified = verify_note(Note(ours.text, tuple(lines)), [verifier])
    except (UnicodeDecodeError, NoteError, ValueError) as exc:
        raise _WitnessFailure(
            _("The witness's answer holds no valid cosignature by its configured key: %(error)s")
            % {"error": exc}
        ) from exc
    return list(verified.verified)


def _store(witness: Witness, checkpoint: Checkpoint, signatures: list[NoteSignature]) -> str:
    """Store the cosignatures and append them to the checkpoint's note; return the lines added."""
    with transaction.atomic():
        locked = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
        note = parse_note(locked.note)
        present = {(s.name, s.key_id) for s in note.signatures}
        added: list[NoteSignature] = []
        for signature in signatures:
            Cosignature.objects.get_or_create(
                checkpoint=locked,
                witness_name=signature.name,
                key_id=signature.key_id,
                defaults={
                    "timestamp": CosignatureV1Verifier.timestamp_of(signature.signature),
                    "line": signature.line.removesuffix("\n"),
                    "received_at": clock.now(),
                },
            )
            if (signature.name, signature.key_id) not in present:
                present.add((signature.name, signature.key_id))
                added.append(signature)
        if added:
            locked.note = Note(note.text, (*note.signatures, *added)).to_text()
            locked.save(update_fields=["note"])
        Witness.objects.filter(pk=witness.pk, last_size__lte=locked.size).update(
            last_size=locked.size, last_error=""
        )
    checkpoint.note = locked.note
    return "".join(s.line for s in signatures)


def _already_cosigned(witness: Witness, checkpoint: Checkpoint) -> bool:
    try:
        key_id = parse_witness_verifier_key(witness.verifier_key).key_id
    except (NoteError, ValueError):
        return False
    return Cosignature.objects.filter(
        checkpoint=checkpoint, witness_name=witness.name, key_id=key_id
    ).exists()


def request_cosignatures(
    checkpoint: Checkpoint | None = None, *, transport: Transport | None = None
) -> dict[str, CosignOutcome]:
    """Ask every active witness to cosign ``checkpoint`` (default: the latest one).

    Network calls run outside any transaction of ours; each witness's result is stored on its own.
    """
    from openbid.ledger.services import latest_checkpoint

    send = transport or http_transport
    checkpoint = checkpoint or latest_checkpoint()
    if checkpoint is None:
        return {}
    results: dict[str, CosignOutcome] = {}
    for witness in Witness.objects.filter(active=True).order_by("name"):
        if _already_cosigned(witness, checkpoint):
            results[witness.name] = CosignOutcome(True, _("Already cosigned."))
            continue
        try:
            signatures = _ask(witness, checkpoint, send)
            line = _store(witness, checkpoint, signatures)
        except _WitnessFailure as failure:
            message = str(failure)
            logger.warning("witness %s: %s", witness.name, message)
            Witness.objects.filter(pk=witness.pk).update(last_error=message)
            results[witness.name] = CosignOutcome(False, message)
            continue
        results[witness.name] = CosignOutcome(
            True, _("Cosigned size %(size)d.") % {"size": checkpoint.size}, line
        )
    return results


@task()
def collect_cosignatures() -> dict[str, Any]:
    """Background task: ask the witnesses to cosign the latest checkpoint."""
    return {
        name: {"ok": outcome.ok, "message": outcome.message}
        for name, outcome in request_cosignatures().items()
    }
