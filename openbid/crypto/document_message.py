"""The message a person signs for a document of the platform (no Django: the bidder client uses
it too). See :mod:`openbid.crypto.document_signatures`."""

from __future__ import annotations


def signing_message(kind: str, document_id: int, sha256: str) -> bytes:
    """The exact bytes a person signs for a document."""
    return f"openbid document signature v1\n{kind} {document_id}\nsha256 {sha256}\n".encode()
