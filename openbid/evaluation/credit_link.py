"""The one link from evaluation to the credit context: who is on the serious-dishonesty list.

The credit context (``openbid.credit``) owns credit records and their effects (失信惩戒). A committee
draw leaves out experts on the serious-dishonesty list (严重失信主体名单) before drawing. When the
credit app is installed, ``seriously_dishonest_expert_ids`` asks ``openbid.credit.gate``; when it
is not, it returns the empty set, so the evaluation context works on its own and nobody is
recused for this reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.apps import apps


def seriously_dishonest_expert_ids(expert_ids: Iterable[int], on: dt.date) -> set[int]:
    """The experts among ``expert_ids`` who are on the serious-dishonesty list on day ``on``:
    the credit context's records about the same person, found by the platform's identity-number
    digest (``openbid.accounts.identity``) or by the expert's account. Empty when the credit
    context (``openbid.credit``) is not installed."""
    ids = set(expert_ids)
    if not ids or not apps.is_installed("openbid.credit"):
        return set()
    from openbid.credit.gate import listed_persons
    from openbid.evaluation.models import Expert

    experts = list(Expert.objects.filter(pk__in=ids).values_list("pk", "id_digest", "user_id"))
    digests, users = listed_persons(
        [d for _pk, d, _u in experts if d], [u for _pk, _d, u in experts if u], on
    )
    return {pk for pk, digest, user in experts if digest in digests or user in users}
