"""How API callers authenticate: bearer tokens for machines, the session (with CSRF) for browsers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer


class TokenAuth(HttpBearer):
    """``Authorization: Bearer obt_…`` — a token issued to a person for a machine client."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from openbid.accounts.services import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session (CSRF-checked for unsafe methods)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


class AnonymousAllowed:
    """Lets a public endpoint through while still identifying a signed-in caller."""

    def __call__(self, request: HttpRequest) -> Any:
        return True


# For endpoints anyone may call: identifies a signed-in caller but lets everyone through.
PUBLIC = [TokenAuth(), SessionAuth(), AnonymousAllowed()]
