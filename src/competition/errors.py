"""Domain errors and the one place that renders every error as `{"error", "detail", "fields"?}`.

Expected failures carry their HTTP status and a machine code; anything else is logged and answered
with a 500 that reveals nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from competition import catalog, text
from competition.catalog import Param

logger = logging.getLogger(__name__)


class FieldError(msgspec.Struct, frozen=True):
    """A field's problem as the API answers it."""

    field: str
    message: str


class Problem(msgspec.Struct, frozen=True):
    """A field's problem as a service finds it: a catalog key and its parameters (worded at the
    edge, `competition.catalog`)."""

    field: str
    key: str
    params: dict[str, Param] = {}

    def worded(self, locale: str) -> FieldError:
        return FieldError(self.field, catalog.text(self.key, self.params, locale))


def problem(field: str, key: str, /, **params: Param) -> Problem:
    return Problem(field, key, params)


class ErrorBody(msgspec.Struct, frozen=True, omit_defaults=True):
    error: str
    detail: str
    fields: list[FieldError] | None = None


class AppError(Exception):
    """An expected failure: its HTTP status, a machine code (the API's `error`), and what to say
    as a catalog key with parameters. The key defaults to the code: `Conflict(code="sheet_final")`;
    several refusals can share a code and differ in their words: `NotFound("entry.not_found")`."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        code: str | None = None,
        status_code: int | None = None,
        fields: Sequence[Problem | FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **params: Param,
    ) -> None:
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.key = key or self.code
        self.params = params
        super().__init__(self.key)
        self.fields = list(fields or [])
        self.headers = headers or {}

    def worded(self, locale: str) -> str:
        return catalog.text(self.key, self.params, locale)

    @property
    def detail(self) -> str:
        """The German text, as the API answers it."""
        return self.worded("de")

    def worded_fields(self, locale: str) -> list[FieldError]:
        return [f.worded(locale) if isinstance(f, Problem) else f for f in self.fields]


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


def _worded(code: str, status: int, fields: list[FieldError] | None = None) -> Response[Any]:
    return _json(ErrorBody(code, catalog.text(code, {}, "de"), fields), status)


def app_error_handler(_: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    body = ErrorBody(exc.code, exc.detail, exc.worded_fields("de") or None)
    return _json(body, exc.status_code, exc.headers)


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
            message = catalog.text("body_missing", {}, "de")
        elif text.is_control_message(message):
            message = catalog.text("control_characters", {}, "de")
        fields.append(FieldError(field=str(key), message=message))
    return fields


def validation_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    fields = _fields_from(exc.extra)
    if any(m in f.message for f in fields for m in _MALFORMED):
        return _worded("malformed_json", 400)
    return _worded("validation_error", 422, fields=fields or None)


# msgspec's messages for bodies that are not JSON at all.
_MALFORMED = ("JSON is malformed", "Input data was truncated", "Invalid UTF-8")


def http_exception_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = _STATUS_CODES.get(status, "error" if status < 500 else "internal_error")
    if status == 400 and any(m in str(exc.detail) for m in _MALFORMED):
        return _worded("malformed_json", 400)
    # Litestar's own refusals (routing, methods, media types) in our words; 5xx reveal nothing.
    key = code if code in catalog.texts("de") else None
    detail = catalog.text(key, {}, "de") if key else str(exc.detail)
    return _json(ErrorBody(code, detail), status, dict(exc.headers or {}))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return _worded("internal_error", HTTP_500_INTERNAL_SERVER_ERROR)
