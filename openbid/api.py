"""The JSON API root (``/api/v1/``): authentication, error format, and each context's router.

Errors always have one shape: ``{"error": {"code", "message", "field", "rule", "article", "at"}}``
with ``message`` in the caller's language, so a client can show it and a program can act on it.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from openbid.core.api_auth import SessionAuth, TokenAuth
from openbid.core.errors import DomainError

api = NinjaAPI(
    title="openbid API",
    version="1",
    description=(
        "Electronic tendering and bidding platform (电子招标投标交易平台). Authenticate with a "
        "bearer token (created on the API tokens page) or the browser session."
    ),
    docs_url="/docs",
    auth=[TokenAuth(), SessionAuth()],
)


def _error(request: HttpRequest, status: int, **error: Any) -> HttpResponse:
    body = {
        "code": "error",
        "message": "",
        "field": None,
        "rule": None,
        "article": None,
        "at": None,
    }
    body.update(error)
    return api.create_response(request, {"error": body}, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, {"error": exc.as_dict()}, status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = ("body", "payload", "query", "path", "file", "form", "header", "cookie")
    loc = [str(p) for p in first.get("loc", []) if p not in where]
    field = ".".join(loc) or None
    return _error(
        request,
        422,
        code="invalid",
        message=_("%(field)s: %(problem)s")
        % {"field": field or _("request"), "problem": first.get("msg", "")},
        field=field,
        rule="schema",
        details=[
            {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))}
            for e in exc.errors
        ],
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        401,
        code="unauthenticated",
        message=_("Sign in or send a valid API token."),
        rule="authentication",
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, code="not_found", message=_("Not found."), rule="exists")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, message=str(exc))


from openbid.accounts.api import router as accounts_router  # noqa: E402
from openbid.award.api import router as award_router  # noqa: E402
from openbid.bidding.api import router as bidding_router  # noqa: E402
from openbid.core.api import router as core_router  # noqa: E402
from openbid.credit.api import router as credit_router  # noqa: E402
from openbid.crypto.api import router as certificates_router  # noqa: E402
from openbid.deposits.api import router as deposits_router  # noqa: E402
from openbid.disputes.api import router as disputes_router  # noqa: E402
from openbid.draws.api import router as draws_router  # noqa: E402
from openbid.evaluation.api import router as evaluation_router  # noqa: E402
from openbid.ledger.api import router as ledger_router  # noqa: E402
from openbid.opening.api import router as opening_router  # noqa: E402
from openbid.tendering.api import router as tendering_router  # noqa: E402

api.add_router("/", core_router)
api.add_router("/", accounts_router)
api.add_router("/", certificates_router)
api.add_router("/ledger", ledger_router)
api.add_router("/", tendering_router)
api.add_router("/", opening_router)
api.add_router("/", bidding_router)
api.add_router("/credit", credit_router)
api.add_router("/", draws_router)
api.add_router("/", evaluation_router)
api.add_router("/disputes", disputes_router)
api.add_router("/", deposits_router)
api.add_router("/", award_router)
