"""Template tags for other contexts' pages: a tender's active holds and the disputes links."""

from __future__ import annotations

from typing import Any

from django import template

from openbid.core import holds

register = template.Library()


@register.inclusion_tag("disputes/_tender_box.html", takes_context=True)
def tender_disputes(context: Any, tender: Any) -> dict[str, Any]:
    """The holds in force on ``tender`` and the links to object or complain."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "tender": tender,
        "holds": holds.active_holds(tender) if tender.status != "draft" else [],
        "signed_in": bool(user is not None and user.is_authenticated),
    }
