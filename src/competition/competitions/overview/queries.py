"""SQL of the overview reads: competitions with their entry counts, the names in the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row
from competition.vocabulary import Phase


class OrganisedCompetition(Row, frozen=True):
    id: uuid.UUID
    slug: str
    title: dict[str, str]
    phase: Phase
    submission_closes_at: datetime
    entries: int
    submitted: int


async def organised_competitions(
    conn: asyncpg.Connection, *, account_id: uuid.UUID
) -> list[OrganisedCompetition]:
    rows = await conn.fetch(
        """
        SELECT c.id, c.slug, c.title, c.phase, c.submission_closes_at,
               count(e.id)::int AS entries,
               count(e.id) FILTER (WHERE e.status = 'submitted')::int AS submitted
        FROM competition c
        JOIN competition_organiser o ON o.competition_id = c.id AND o.account_id = $1
        LEFT JOIN entry e ON e.competition_id = c.id
        GROUP BY c.id
        ORDER BY c.submission_closes_at DESC, c.slug
        """,
        account_id,
    )
    return [OrganisedCompetition(**dict(r)) for r in rows]


async def account_names(
    conn: asyncpg.Connection, *, account_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of the given accounts (of those that exist)."""
    rows = await conn.fetch("SELECT id, name FROM account WHERE id = ANY($1::uuid[])", account_ids)
    return {r["id"]: r["name"] for r in rows}
