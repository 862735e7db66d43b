"""Errors on web pages: an HTML page in the visitor's language instead of the API's JSON."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template

from competition import errors as api_errors
from competition.errors import AppError
from competition.web import i18n
from competition.web.forms import explain, from_error
from competition.web.i18n import N_
from competition.web.rendering import LoginRequired, login_path, path_with, request_locale

logger = logging.getLogger("competition.web")

_TITLES: dict[int, str] = {
    400: N_("Die Anfrage ist fehlerhaft."),
    401: N_("Bitte melden Sie sich an."),
    403: N_("Keine Berechtigung."),
    404: N_("Diese Seite gibt es nicht."),
    405: N_("Diese Aktion ist hier nicht möglich."),
    409: N_("Das geht gerade nicht."),
    413: N_("Die Anfrage ist zu groß."),
    422: N_("Die Eingaben sind ungültig."),
    429: N_("Zu viele Versuche."),
    503: N_("Vorübergehend nicht erreichbar."),
}


def error_page(request: Request[Any, Any, Any], status_code: int, message: str) -> Response[Any]:
    locale = request_locale(request)
    title = i18n.gettext(locale, _TITLES.get(status_code, N_("Es ist ein Fehler aufgetreten.")))
    return Template(
        template_name="error.html",
        status_code=status_code,
        context={
            "locale": locale,
            "user": None,
            "is_juror": False,
            "is_organiser": False,
            "csrf_token": "",
            "notice": "",
            "path": request.url.path,
            "lang_links": {code: path_with(request, lang=code) for code in i18n.LOCALES},
            "minimal": True,
            "title": title,
            "message": message if message != title else "",
            "status_code": status_code,
        },
    )


def login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    return Redirect(path=login_path(exc.next_path), status_code=303)


def app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    if exc.status_code == 401:
        return Redirect(path=login_path(request.url.path), status_code=303)
    return error_page(request, exc.status_code, from_error(exc, request_locale(request)).message)


def invalid_parameter(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """A query parameter of a page that is not what the page takes, worded for people."""
    locale = request_locale(request)
    found = exc.extra if isinstance(exc.extra, list) else []
    texts = [explain(str(f.get("message", "")), locale) for f in found if isinstance(f, dict)]
    return error_page(request, 422, " ".join(texts))


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return error_page(request, exc.status_code if exc.status_code < 500 else 500, "")


# Paths that belong to the API and operations: they always answer in JSON.
_MACHINE_PATHS = ("/api/", "/schema", "/health", "/metrics", "/static/")


def page_or_json(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The app-wide answer to unknown paths and methods: a page for browsers (which ask for
    text/html), the API's JSON error for everyone else."""
    path = request.url.path
    if "text/html" in request.headers.get("accept", "") and not path.startswith(_MACHINE_PATHS):
        return http_error(request, exc)
    return api_errors.http_exception_handler(request, exc)


def unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.warning("dependency unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
    locale = request_locale(request)
    response = error_page(
        request,
        503,
        i18n.gettext(locale, "Bitte versuchen Sie es in ein paar Sekunden erneut."),
    )
    response.headers["Retry-After"] = "5"
    return response


def internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on a page", extra={"path": request.url.path})
    return error_page(request, 500, "")
