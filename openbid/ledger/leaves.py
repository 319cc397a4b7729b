"""The leaf of one domain event: its canonical JSON (RFC 8785, JCS).

A leaf carries the log position, the event's id, time (UTC, microseconds), type, the acting
organisation's unified social credit code, the subjects, and the public payload. Confidential data
is never in a payload; an event about it carries only ``private_digest``, a salted SHA-256.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import rfc8785

from openbid.core.models import DomainEvent

LEAF_VERSION = 1
MAX_LEAF_BYTES = 65535  # entry bundles (C2SP tlog-tiles) prefix each entry with a 16-bit length


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_document(event: DomainEvent, index: int) -> dict[str, Any]:
    subjects = sorted(f"{s.kind}:{s.ref}" for s in event.subjects.all())
    doc: dict[str, Any] = {
        "v": LEAF_VERSION,
        "seq": index,
        "event": event.pk,
        "time": format_time(event.occurred_at),
        "type": event.type,
        "actor_org": event.actor_org.credit_code if event.actor_org is not None else None,
        "subjects": subjects,
        "payload": event.payload,
    }
    if event.private_digest:
        doc["private_digest"] = event.private_digest
    return doc


def leaf_bytes(event: DomainEvent, index: int) -> bytes:
    return rfc8785.dumps(leaf_document(event, index))
