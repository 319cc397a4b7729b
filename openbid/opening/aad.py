"""The associated data a sealed bid is bound to: defined once, used by the bidder client to seal
and by the platform to open.

A bid for section ``S`` is sealed with ``aad = b"openbid-bid section S"`` (``S`` the section's id,
ASCII decimal). The envelope's AEAD covers its header and this aad, so an envelope sealed for one
section does not open as a bid for another. Who the bidder is, and which ciphertext, are bound by
the bidder's signature over ``bidding.services.commitment_message``; the aad needs only the
section.

Pure Python (no Django import), so the ``openbid-bidder`` client can import it.
"""

from __future__ import annotations

from typing import Any, Protocol


class _HasPk(Protocol):
    @property
    def pk(self) -> Any: ...


def bid_aad(section: int | _HasPk) -> bytes:
    """The aad of a bid sealed for ``section`` (a Section or its id)."""
    section_id = section if isinstance(section, int) else section.pk
    if isinstance(section_id, bool) or not isinstance(section_id, int) or section_id <= 0:
        raise ValueError("a section id is a positive integer")
    return f"openbid-bid section {section_id}".encode("ascii")
