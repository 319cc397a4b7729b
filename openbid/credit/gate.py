"""The serious-dishonesty list (严重失信主体名单) at the doors of tendering and bidding.

``refuse_if_listed`` is called by the services that let an organisation obtain tender documents
and submit a bid. An organisation is listed on a day when a public or non-public record in effect
about it puts it on the list: status in effect (not repaired, revoked or superseded) and the day
within the record's validity period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from openbid.core import clock, rules
from openbid.core.errors import NotAllowed
from openbid.credit.models import CreditRecord


def listing(organisation: Any, on: dt.date | None = None) -> CreditRecord | None:
    """The record that lists ``organisation`` on ``on`` (today), the one ending last if several."""
    day = on or clock.today()
    return (
        CreditRecord.objects.filter(
            subject__organisation=organisation,
            serious_list=True,
            status=CreditRecord.Status.ACTIVE,
            valid_from__lte=day,
            valid_until__gte=day,
        )
        .order_by("-valid_until", "-id")
        .first()
    )


def refuse_if_listed(
    organisation: Any, *, action: str, field: str, on: dt.date | None = None
) -> None:
    """Refuse ``action`` while ``organisation`` is on the serious-dishonesty list, naming the
    record and the last day of the listing."""
    record = listing(organisation, on)
    if record is None:
        return
    rule = rules.rule("credit_serious_list_bidding_ban")
    raise NotAllowed(
        _(
            "%(action)s is refused: %(org)s is on the serious-dishonesty list (严重失信主体名单) "
            "under credit record %(record)s (%(title)s, %(body)s) until %(until)s."
        )
        % {
            "action": action,
            "org": organisation.name,
            "record": record.number,
            "title": record.title,
            "body": record.issuing_body,
            "until": record.valid_until.isoformat(),
        },
        field=field,
        rule=rule.key,
        article=rule.article,
        at=record.valid_until + dt.timedelta(days=1),
    )


def listed_persons(
    digests: Iterable[str] = (), user_ids: Iterable[int] = (), on: dt.date | None = None
) -> tuple[set[str], set[int]]:
    """Which of these people (by identity-number digest, ``openbid.accounts.identity``, or by
    account) are on the serious-dishonesty list on ``on`` (today): the digests and the user ids
    found listed. For the expert draw's recusal, among others."""
    day = on or clock.today()
    wanted_digests, wanted_users = set(digests), set(user_ids)
    if not wanted_digests and not wanted_users:
        return set(), set()
    listed = CreditRecord.objects.filter(
        serious_list=True,
        status=CreditRecord.Status.ACTIVE,
        valid_from__lte=day,
        valid_until__gte=day,
    ).filter(Q(subject__person_digest__in=wanted_digests) | Q(subject__user_id__in=wanted_users))
    rows = listed.values_list("subject__person_digest", "subject__user_id")
    found_digests = {d for d, _u in rows if d in wanted_digests}
    found_users = {u for _d, u in rows if u in wanted_users}
    return found_digests, found_users
