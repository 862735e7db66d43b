"""Domain errors and the one place that renders every error as `{"error", "detail", "fields"?}`.

Expected failures carry their HTTP status and a machine code; anything else is logged and answered
with a 500 that reveals nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from competition import text

logger = logging.getLogger(__name__)


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class ErrorBody(msgspec.Struct, frozen=True, omit_defaults=True):
    error: str
    detail: str
    fields: list[FieldError] | None = None


class AppError(Exception):
    """An expected failure with its status, machine code and a human-readable detail."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        fields: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields
        self.headers = headers or {}


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"


class Invalid(AppError):
    status_code = 422
    code = "validation_error"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}

# msgspec reports the location as "at `$.criteria[0].weight`" (a dict's key: "at `key` in
# `$.scores`"); turn it into "criteria[0].weight" or "scores".
_LOCATION = re.compile(r"\s*-?\s*at (?:`key` in )?`\$\.?([^`]*)`")


def _json(body: ErrorBody, status: int, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        content=body, status_code=status, headers=headers, media_type="application/json"
    )


def app_error_handler(_: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    return _json(ErrorBody(exc.code, exc.detail, exc.fields), exc.status_code, exc.headers)


def _fields_from(extra: Any) -> list[FieldError]:
    fields: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        key = item.get("key")
        match = _LOCATION.search(message)
        if match:
            key = match.group(1) or key
            message = _LOCATION.sub("", message)
        if key in (None, "data"):
            key = "body"
        if message == "'data'":
            message = "Der Request-Body fehlt."
        elif text.is_control_message(message):
            message = text.CONTROL_MESSAGE
        fields.append(FieldError(field=str(key), message=message))
    return fields


def validation_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    fields = _fields_from(exc.extra)
    if any(m in f.message for f in fields for m in _MALFORMED):
        return _json(ErrorBody("malformed_json", "Der Request-Body ist kein gültiges JSON."), 400)
    return _json(
        ErrorBody("validation_error", "Die Eingaben sind ungültig.", fields or None),
        422,
    )


_DETAILS = {
    400: "Die Anfrage ist fehlerhaft.",
    401: "Bitte melden Sie sich an.",
    403: "Keine Berechtigung.",
    404: "Nicht gefunden.",
    405: "Diese Methode ist hier nicht erlaubt.",
    413: "Der Request-Body ist zu groß.",
    415: "Dieses Format wird nicht unterstützt.",
}


# msgspec's messages for bodies that are not JSON at all.
_MALFORMED = ("JSON is malformed", "Input data was truncated", "Invalid UTF-8")


def http_exception_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = _STATUS_CODES.get(status, "error" if status < 500 else "internal_error")
    if status == 400 and any(m in str(exc.detail) for m in _MALFORMED):
        return _json(ErrorBody("malformed_json", "Der Request-Body ist kein gültiges JSON."), 400)
    detail = _DETAILS.get(status, "Interner Fehler." if status >= 500 else str(exc.detail))
    headers = dict(exc.headers or {})
    return _json(ErrorBody(code, str(detail)), status, headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return _json(
        ErrorBody("internal_error", "Interner Fehler. Bitte später erneut versuchen."),
        HTTP_500_INTERNAL_SERVER_ERROR,
    )
