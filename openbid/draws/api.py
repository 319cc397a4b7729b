"""API of the draws (``/api/v1/draws/{id}``): a draw's export, for anyone to verify.

Public: the inputs, their ledger commitment, the seed checkpoint and, once the draw is public
(or for centre staff, regulators and auditors), the candidates and the result. Save the answer
as ``draw.json`` and run ``openbid draw verify --file draw.json``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from openbid.core.api_auth import PUBLIC
from openbid.draws import services

router = Router(tags=["draws"])


@router.get(
    "/draws/{draw_id}",
    response=dict[str, Any],
    auth=PUBLIC,
    summary="A verifiable draw's export (inputs, ledger commitment, seed checkpoint, result)",
)
def get_draw(request: HttpRequest, draw_id: int) -> dict[str, Any]:
    draw = services.get_draw(draw_id)
    return services.export_draw(draw, full=services.may_see_secrets(request.user))
