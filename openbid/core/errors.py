"""Refusals.

Every refusal a service makes is a ``DomainError`` that names the field it is about, the rule that
refuses it (a key of the statutory rules table or a named platform rule), the article the rule comes
from, and for deadlines the time at which the action becomes possible or stopped being possible.
Views and the API turn these into messages in the user's language; nothing is written when one is
raised, because services run in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.encoding import force_str


def _local_iso(moment: dt.datetime | dt.date | None) -> str | None:
    """Times in refusals are shown in the platform's time zone, like every other time."""
    if moment is None:
        return None
    if isinstance(moment, dt.datetime) and timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.isoformat()


class DomainError(Exception):
    """An action refused by a rule. ``status`` is the HTTP status the API answers with."""

    status = 422
    code = "refused"

    def __init__(
        self,
        message: Any,
        *,
        field: str | None = None,
        rule: str | None = None,
        article: str | None = None,
        at: dt.datetime | dt.date | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(force_str(message))
        self.message = message
        self.field = field
        self.rule = rule
        self.article = article
        self.at = at
        if code:
            self.code = code

    def as_dict(self) -> dict[str, Any]:
        """The refusal as the API reports it (``message`` in the active language)."""
        return {
            "code": self.code,
            "message": force_str(self.message),
            "field": self.field,
            "rule": self.rule,
            "article": self.article,
            "at": _local_iso(self.at),
        }

    def __str__(self) -> str:
        return force_str(self.message)


class InvalidInput(DomainError):
    """A value that cannot be accepted as given (format, check character, unknown code)."""

    status = 422
    code = "invalid"


class Conflict(DomainError):
    """The action would duplicate something that exists, or the subject is in the wrong state."""

    status = 409
    code = "conflict"


class NotAllowed(DomainError):
    """The actor's role or organisation does not allow this action."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"
