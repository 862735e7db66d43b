"""Base classes for request and response bodies.

Requests reject unknown fields (a typo must not be silently ignored); responses are frozen.
"""

from __future__ import annotations

import msgspec

from competition.text import Line


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are a client error."""


class Response(msgspec.Struct, kw_only=True):
    """Base of every response body."""


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """Base of database rows converted from asyncpg records."""


class Localized(msgspec.Struct, forbid_unknown_fields=True):
    de: Line
    en: Line
