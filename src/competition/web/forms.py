"""HTML forms into the domain's request Structs, and every failure into messages on the form.

The rules stay where they are: constraints live on the request Structs (`schemas.py` of each
domain) and in the services. This module only converts form strings field by field (so a form
shows all its problems at once, not just the first), words msgspec's findings for people, and
spreads a service's `AppError` over the form's fields; `answer` is the one way a form handler
calls its service and turns the outcome into a page.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from babel.numbers import NumberFormatError, parse_decimal
from litestar import Response
from litestar.datastructures import FormMultiDict

from competition.errors import AppError, PreconditionFailed
from competition.text import is_control_message
from competition.web.i18n import N_, gettext, number

T = TypeVar("T", bound=msgspec.Struct)
R = TypeVar("R")

_MIN_LENGTH = re.compile(r"of length >= (\d+)")
_MAX_LENGTH = re.compile(r"of length <= (\d+)")
_BOUND = re.compile(r"`(?:int|float)` (>=|>|<=|<) (-?[0-9.e+]+)")
_AT = re.compile(r" - at `\$([^`]*)`$")
_LOCAL_MINUTES = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
# What `<input type="number">` sends, whatever the page's language: an HTML floating-point number.
_HTML_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)

# What a pattern means, by field name: "the format is wrong" alone does not help anyone.
FORMAT_HINTS: dict[str, str] = {
    "email": N_("Bitte eine gültige E-Mail-Adresse angeben."),
    "postal_code": N_("Bitte die fünfstellige Postleitzahl angeben."),
    "website": N_("Bitte die vollständige Adresse mit https:// angeben."),
    "slug": N_("Nur Kleinbuchstaben, Ziffern und Bindestriche (mindestens 2 Zeichen)."),
    "key": N_("Kleinbuchstaben, Ziffern und Unterstriche; beginnt mit einem Buchstaben."),
    "district": N_("Bitte einen Landkreis wählen."),
}


class Problems(msgspec.Struct, kw_only=True):
    """What the form shows: one general message and messages by field."""

    message: str = ""
    fields: dict[str, str] = msgspec.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.message or self.fields)


def values(form: FormMultiDict) -> dict[str, str]:
    """The form's single values as typed (never trimmed: the user's text stays as it was)."""
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


def version(values: dict[str, str]) -> int | None:
    """The version a form was loaded at (its hidden `version` field), None when it is no number:
    the service then saves without the check, as the API does without If-Match."""
    try:
        return int(values.get("version", ""))
    except ValueError:
        return None


def decimal(value: str, locale: str) -> Decimal | None:
    """A number typed into a form, or None when it is none.

    Browsers send a number field's value as an HTML floating-point number (a point, never a
    comma, on German pages too), so that form is read as such first. Anything else is read as
    written in the page's language (Babel: de "7,5" and "1.000,5", en "7.5" and "1,000.5"),
    strictly: "7,5" on an English page is no number rather than a number ten times too large.
    NaN, infinities and Python's digit separators ("7_5") are no number either."""
    text = value.strip()
    if _HTML_NUMBER.fullmatch(text):
        number = Decimal(text)
    elif "_" in text:
        return None
    else:
        try:
            number = parse_decimal(text, locale=locale, strict=True)
        except NumberFormatError:
            return None
    return number if number.is_finite() else None


def local_datetime(value: str) -> str:
    """`<input type="datetime-local">` sends minutes only; the Structs want RFC 3339."""
    return value + ":00" if _LOCAL_MINUTES.match(value) else value


def explain(message: str, locale: str, field: str = "") -> str:
    """msgspec's technical finding, worded for people."""
    at = _AT.search(message)
    name = (at.group(1) if at and at.group(1) else field).rsplit(".", 1)[-1].split("[", 1)[0]
    message = _AT.sub("", message)
    if "missing required field" in message:
        return gettext(locale, "Bitte ausfüllen.")
    if found := _MIN_LENGTH.search(message):
        n = int(found.group(1))
        if n <= 1:
            return gettext(locale, "Bitte ausfüllen.")
        return gettext(locale, "Mindestens %(n)s Zeichen.") % {"n": n}
    if found := _MAX_LENGTH.search(message):
        return gettext(locale, "Höchstens %(n)s Zeichen.") % {"n": found.group(1)}
    if is_control_message(message):
        return gettext(locale, "Enthält unzulässige Steuerzeichen.")
    if "matching regex" in message:
        return gettext(locale, FORMAT_HINTS.get(name, N_("Das Format stimmt nicht.")))
    if found := _BOUND.search(message):
        op, bound = found.groups()
        value = number(float(bound), locale, digits=0 if float(bound).is_integer() else 2)
        text = {
            ">=": N_("Mindestens %(n)s."),
            ">": N_("Bitte mehr als %(n)s."),
            "<=": N_("Höchstens %(n)s."),
            "<": N_("Bitte weniger als %(n)s."),
        }[op]
        return gettext(locale, text) % {"n": value}
    if "Expected `int`" in message:
        return gettext(locale, "Bitte eine ganze Zahl eingeben.")
    if "Expected `float`" in message:
        return gettext(locale, "Bitte eine Zahl eingeben.")
    if "datetime" in message:
        return gettext(locale, "Bitte Datum und Uhrzeit angeben.")
    return gettext(locale, "Ungültige Eingabe.")


def convert(
    struct: type[T], data: dict[str, Any], locale: str, *, prefix: str = ""
) -> tuple[T | None, dict[str, str]]:
    """Check each field on its own against the Struct's types, then build the Struct.

    Returns the Struct, or None with the problems by field name (`prefix` + name, nested
    positions as `name[0].key`, the same keys the services use in their field errors)."""
    problems: dict[str, str] = {}
    for field in msgspec.structs.fields(struct):
        key = prefix + field.encode_name
        if field.encode_name not in data:
            if field.required:
                problems[key] = gettext(locale, "Bitte ausfüllen.")
            continue
        try:
            msgspec.convert(data[field.encode_name], field.type, strict=False)
        except msgspec.ValidationError as exc:
            at = _AT.search(str(exc))
            problems[key + (at.group(1) if at else "")] = explain(
                str(exc), locale, field.encode_name
            )
    if problems:
        return None, problems
    try:
        return msgspec.convert(data, struct, strict=False), {}
    except msgspec.ValidationError as exc:
        at = _AT.search(str(exc))
        return None, {prefix + (at.group(1).lstrip(".") if at else ""): explain(str(exc), locale)}


def from_error(exc: AppError, locale: str) -> Problems:
    """A service's refusal as form messages in the page's language, worded by the error catalog
    as the API words it in German: the refusal on top, field problems at their fields."""
    fields = {f.field: f.message for f in exc.worded_fields(locale)}
    return Problems(message=exc.worded(locale), fields=fields)


async def answer(
    locale: str,
    call: Awaitable[R] | None,
    *,
    done: Callable[[R], Response[Any] | Awaitable[Response[Any]]],
    again: Callable[[Problems, int], Awaitable[Response[Any]]],
    fields: dict[str, str] | None = None,
    stale: Callable[[Problems], Awaitable[Response[Any]]] | None = None,
) -> Response[Any]:
    """A form's answer: await the service `call`, then `done` with its result (mostly a redirect
    with a notice); or the page `again` with the messages and the status of what went wrong.

    `call` is None when the form's own values failed their check: the service is not asked and
    the page comes again with those `fields`, status 422. A refusal of the service (`AppError`)
    comes with its messages spread over the fields and its own status. A stale version (412)
    goes to `stale`, where a page shows the stored version next to the person's own."""
    if call is None:
        return await again(Problems(fields=fields or {}), 422)
    try:
        result = await call
    except AppError as exc:
        problems = from_error(exc, locale)
        if stale is not None and isinstance(exc, PreconditionFailed):
            return await stale(problems)
        return await again(problems, exc.status_code)
    response = done(result)
    return await response if inspect.isawaitable(response) else response
