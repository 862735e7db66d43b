"""The checks every request passes before its handler and dependencies run.

JSON bodies are checked field by field against the request Structs (`competition.text`); what
no Struct describes is checked here, in one place, so that no handler has to remember it:

- no control characters in the path (slugs, ids), the query, our own cookies (`ind_*`), any
  header (HTTP allows tab only) or any form field (forms keep tab, line feed and carriage return,
  which text areas send). PostgreSQL refuses NUL in text, and no person types the others.
- no JSON nested deeper than `MAX_JSON_DEPTH`. Litestar decodes a body into Python objects
  before it converts them into the handler's Struct, and that decoder recurses once per level:
  ten thousand `[` used to end in a RecursionError, a 500. No body of this API is deeper than 4.

Refusals are 422 in the usual error shape, naming the part of the request (`path`,
`query.<name>`, `cookie.<name>`, `header.<name>`, `form.<name>`, `body`); pages show them as an
error page in the visitor's language.
"""

from __future__ import annotations

import re
from typing import Any, Final

from litestar import Request

from competition.errors import Invalid, Problem, problem

CONTROL: Final = "control_characters"

MAX_JSON_DEPTH: Final = 32
OUR_COOKIES: Final = "ind_"

_ONE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_FORM_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# A JSON string with its escapes; what is left outside strings is structure and scalars.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` levels deep.

    Brackets inside strings do not count. Text that is not JSON may be judged either way; the
    decoder refuses it afterwards."""
    depth = 0
    for byte in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _control_characters(request: Request[Any, Any, Any]) -> list[Problem]:
    found: list[Problem] = []
    if _ONE_LINE_CONTROL.search(request.scope["path"]):
        found.append(problem("path", CONTROL))
    for name, value in request.query_params.multi_items():
        if _ONE_LINE_CONTROL.search(name + value):
            found.append(problem(f"query.{_printable(name)}", CONTROL))
    for name, value in request.cookies.items():
        if name.startswith(OUR_COOKIES) and _ONE_LINE_CONTROL.search(value):
            found.append(problem(f"cookie.{_printable(name)}", CONTROL))
    for raw_name, raw_value in request.scope["headers"]:
        if _HEADER_CONTROL.search(raw_value):
            found.append(problem(f"header.{_printable(raw_name.decode('latin-1'))}", CONTROL))
    return found


def _printable(name: str) -> str:
    """A name to report: the control characters it may itself hold made visible."""
    return _ONE_LINE_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)[:100]


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Litestar's `before_request` hook: refuse what no handler may see."""
    problems = _control_characters(request)
    if not problems and request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.content_type[0] in _FORM_TYPES:
            form = await request.form()
            problems = [
                problem(f"form.{_printable(name)}", CONTROL)
                for name, value in form.multi_items()
                if isinstance(value, str) and _FORM_CONTROL.search(name + value)
            ]
        elif "data" in request.route_handler.parsed_fn_signature.parameters and json_too_deep(
            await request.body()
        ):
            raise Invalid(
                "request.too_deep",
                fields=[problem("body", "request.max_depth", depth=MAX_JSON_DEPTH)],
            )
    if problems:
        raise Invalid(
            "request.control_characters",
            code="control_characters",
            fields=problems,
        )
