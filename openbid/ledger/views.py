"""Public ledger pages: the C2SP tlog-tiles resources and the ledger explorer (区块链浏览).

The tlog-tiles resources are what any standard tiled-log client reads (``checkpoint``,
``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``); the explorer lets a person look up the
events about a subject (``tender:12``) or at a sequence number and see each one's inclusion proof
against the latest checkpoint, verified by the server and again by their own browser.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from openbid.ledger import keys, merkle, store, tiles
from openbid.ledger.checkpoint import parse_witness_verifier_key
from openbid.ledger.models import Checkpoint, Entry, Witness
from openbid.ledger.note import NoteError, Verifier, parse_note, parse_verifier_key

# Hash tiles and entry bundles never change once they exist (a partial tile of width W is the
# first W hashes of its full tile, fixed as soon as they are logged); the checkpoint moves.
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_CHECKPOINT = "public, max-age=5, must-revalidate"
CACHE_MISSING = "no-cache"

EXPLORER_PAGE = 50
RECENT = 20
_SUBJECT = re.compile(r"([a-z][a-z0-9_.-]{0,39}):(\S{1,64})", re.ASCII)
_SEQ = re.compile(r"[0-9]{1,19}", re.ASCII)


def _public(response: HttpResponse, cache: str) -> HttpResponse:
    response["Cache-Control"] = cache
    # Public data: any origin's scripts (another platform's verifier) may read it.
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _not_found(message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=404, content_type="text/plain; charset=utf-8")
    return _public(response, CACHE_MISSING)


def _octets(data: bytes) -> HttpResponse:
    return _public(HttpResponse(data, content_type="application/octet-stream"), CACHE_IMMUTABLE)


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    """``<prefix>/checkpoint``: the latest signed checkpoint, with its witness cosignatures."""
    text = tiles.checkpoint_text(tiles.current_checkpoint())
    response = HttpResponse(text.encode("utf-8"), content_type="text/plain; charset=utf-8")
    return _public(response, CACHE_CHECKPOINT)


@require_safe
def tile(request: HttpRequest, level: str, path: str) -> HttpResponse:
    """``<prefix>/tile/<L>/<N>[.p/<W>]``: a hash tile, once all its hashes are logged."""
    try:
        ref = tiles.hash_tile_ref(level, path)
    except tiles.TilePathError as exc:
        return _not_found(str(exc))
    data = tiles.tile_bytes(ref)
    if data is None:
        return _not_found(f"tile {ref.path()} does not exist yet")
    return _octets(data)


@require_safe
@gzip_page
def entry_bundle(request: HttpRequest, path: str) -> HttpResponse:
    """``<prefix>/tile/entries/<N>[.p/<W>]``: an entry bundle, once all its entries are logged."""
    try:
        ref = tiles.entry_bundle_ref(path)
    except tiles.TilePathError as exc:
        return _not_found(str(exc))
    data = tiles.bundle_bytes(ref)
    if data is None:
        return _not_found(f"entry bundle {ref.path()} does not exist yet")
    return _octets(data)


# --------------------------------------------------------------------------------------------
# The explorer (区块链浏览)
# --------------------------------------------------------------------------------------------


@dataclass
class SignatureRow:
    name: str
    key_id: str
    role: str  # "log", "witness" or "unknown"
    timestamp: int | None
    verified: bool | None  # None: no key known for it


@dataclass
class EntryRow:
    index: int
    leaf_text: str
    leaf_hash: str
    document: dict[str, Any]
    proof: list[str] = field(default_factory=list)
    in_checkpoint: bool = False
    verified: bool | None = None


def _signatures(text: str) -> list[SignatureRow]:
    """Every signature on the served checkpoint, checked against the keys this platform knows."""
    log_key = parse_verifier_key(keys.log_verifier_key())
    known: dict[tuple[str, int], tuple[str, Verifier]] = {
        (log_key.name, log_key.key_id): ("log", log_key)
    }
    for witness in Witness.objects.order_by("name"):
        try:
            cosigner = parse_witness_verifier_key(witness.verifier_key)
        except (NoteError, ValueError):
            continue
        known.setdefault((cosigner.name, cosigner.key_id), ("witness", cosigner))
    note = parse_note(text)
    message = note.text.encode("utf-8")
    rows = []
    for sig in note.signatures:
        role, verifier = known.get((sig.name, sig.key_id), ("unknown", None))
        timestamp = None
        if role == "witness" and len(sig.signature) == 72:
            timestamp = int.from_bytes(sig.signature[:8], "big")
        rows.append(
            SignatureRow(
                name=sig.name,
                key_id=f"{sig.key_id:08x}",
                role=role,
                timestamp=timestamp,
                verified=None if verifier is None else verifier.verify(message, sig.signature),
            )
        )
    return rows


def _rows(entries: QuerySet[Entry] | list[Entry], checkpoint: Checkpoint) -> list[EntryRow]:
    """Entries with their inclusion proofs against ``checkpoint``, verified here."""
    reader = store.TreeReader()
    root = bytes(checkpoint.root_hash)
    rows = []
    for entry in entries:
        leaf = bytes(entry.leaf)
        try:
            document = json.loads(leaf)
        except ValueError:  # not what the log writes: shown as is, and its check fails
            document = {}
        row = EntryRow(
            index=entry.index,
            leaf_text=leaf.decode("utf-8", errors="replace"),
            leaf_hash=bytes(entry.leaf_hash).hex(),
            document=document if isinstance(document, dict) else {},
        )
        if entry.index < checkpoint.size:
            proof = reader.inclusion_proof(entry.index, checkpoint.size)
            row.in_checkpoint = True
            row.proof = [base64.b64encode(p).decode() for p in proof]
            recomputed = merkle.leaf_hash(leaf)
            row.verified = recomputed == bytes(entry.leaf_hash) and merkle.verify_inclusion(
                recomputed, entry.index, checkpoint.size, proof, root
            )
        rows.append(row)
    return rows


def _int(value: str | None, default: int) -> int:
    return int(value) if value and _SEQ.fullmatch(value) else default


@require_safe
def explorer(request: HttpRequest) -> HttpResponse:
    """The ledger explorer; ``?q=tender:12`` or ``?q=42`` (also ``?subject=`` and ``?seq=``)."""
    current = tiles.current_checkpoint()
    text = tiles.checkpoint_text(current)
    query = (
        request.GET.get("q") or request.GET.get("subject") or request.GET.get("seq") or ""
    ).strip()
    after = _int(request.GET.get("after"), -1)
    entries: list[Entry] = []
    error = subject = seq = None
    more = False
    if not query:
        entries = list(Entry.objects.order_by("-index")[:RECENT])
    elif _SEQ.fullmatch(query):
        seq = int(query)
        entries = list(Entry.objects.filter(index=seq))
        if not entries:
            message = _("There is no event at sequence number %(seq)d yet (the log has %(size)d).")
            error = message % {"seq": seq, "size": store.size()}
    elif match := _SUBJECT.fullmatch(query):
        subject = (match[1], match[2])
        entries = list(
            Entry.objects.filter(
                event__subjects__kind=subject[0], event__subjects__ref=subject[1], index__gt=after
            ).order_by("index")[: EXPLORER_PAGE + 1]
        )
        more = len(entries) > EXPLORER_PAGE
        entries = entries[:EXPLORER_PAGE]
    else:
        error = _(
            "Search for a subject as kind:id (for example organisation:3 or tender:12) "
            "or for a sequence number (for example 42)."
        )
    context = {
        "checkpoint": current,
        "checkpoint_text": text,
        "root_b64": base64.b64encode(bytes(current.root_hash)).decode(),
        "signatures": _signatures(text),
        "cosignatures": current.cosignatures.order_by("id"),
        "verifier_key": keys.log_verifier_key(),
        "origin": keys.origin(),
        "log_size": store.size(),
        "query": query,
        "subject": f"{subject[0]}:{subject[1]}" if subject else None,
        "seq": seq,
        "error": error,
        "rows": _rows(entries, current),
        "next_after": entries[-1].index if more and entries else None,
    }
    return render(request, "ledger/explorer.html", context)
