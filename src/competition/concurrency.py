"""Optimistic concurrency for every editable resource (competitions, companies, entries, score
sheets): clients send the version they last saw as `If-Match`, and a save over a newer version is
refused instead of silently overwriting someone else's work."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

from competition.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description="The version last seen"),
]


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: 3` or `If-Match: "3"`; anything else is a 412, never a silent overwrite."""
    if value is None:
        return None
    try:
        return int(value.strip().strip('"').removeprefix("W/").strip('"'))
    except ValueError:
        raise PreconditionFailed("if_match_not_a_version") from None
