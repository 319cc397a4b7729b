"""Language choice: Chinese unless the person chose English.

Order: ``?lang=`` in the URL (then remembered in a cookie), the language cookie, then zh-hans.
The browser's Accept-Language is deliberately not used: the platform's working language is Chinese,
and English is something a person switches to.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def _chosen(request: HttpRequest) -> tuple[str, bool]:
    asked = request.GET.get("lang", "").lower()
    if asked in SUPPORTED:
        return asked, True
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "").lower()
    if cookie in SUPPORTED:
        return cookie, False
    return settings.LANGUAGE_CODE, False


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language, from_query = _chosen(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        response.headers["Vary"] = ", ".join(
            v for v in [response.headers.get("Vary"), "Cookie"] if v
        )
        if from_query:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        translation.deactivate()
        return response
