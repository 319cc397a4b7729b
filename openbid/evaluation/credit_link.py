"""The one link from evaluation to the credit context: who is on the serious-dishonesty list.

The credit context (``openbid.credit``) owns credit records and their effects (失信惩戒). A committee
draw leaves out experts on the serious-dishonesty list (严重失信主体名单) before drawing. When the
credit app is installed, ``seriously_dishonest_expert_ids`` asks ``openbid.credit.effects``; when it
is not, it returns the empty set, so the evaluation context works on its own and nobody is
recused for this reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.apps import apps


def seriously_dishonest_expert_ids(expert_ids: Iterable[int], on: dt.date) -> set[int]:
    """The experts among ``expert_ids`` who are on the serious-dishonesty list on day ``on``.

    Returns the empty set when the credit context (``openbid.credit``) is not installed; with it,
    the answer is ``openbid.credit.effects``'s.
    """
    ids = set(expert_ids)
    if not ids or not apps.is_installed("openbid.credit"):
        return set()
    from openbid.credit import effects  # type: ignore[import-not-found,unused-ignore]

    return set(effects.seriously_dishonest_expert_ids(ids, on)) & ids
