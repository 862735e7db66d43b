"""SQL of the jury overviews: a person's jury memberships with their progress, the assignment runs
of a competition."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row
from competition.vocabulary import AssignmentRunStatus, JurorStatus, Phase


class JuryMembership(Row, frozen=True):
    competition_id: uuid.UUID
    slug: str
    title: dict[str, str]
    phase: Phase
    status: JurorStatus
    conflicts_confirmed: bool
    assigned: int
    final: int


class RunListItem(Row, frozen=True):
    id: uuid.UUID
    status: AssignmentRunStatus
    reviews_per_entry: int
    created_at: datetime
    finished_at: datetime | None


async def memberships(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> list[JuryMembership]:
    """The account's active jury memberships, newest deadline first, with the sheets it can open
    and how many of them are final."""
    rows = await conn.fetch(
        """
        SELECT c.id AS competition_id, c.slug, c.title, c.phase, j.status,
               j.conflicts_confirmed_at IS NOT NULL AS conflicts_confirmed,
               count(a.id)::int AS assigned,
               count(s.id) FILTER (WHERE s.status = 'final')::int AS final
        FROM juror j
        JOIN competition c ON c.id = j.competition_id
        -- Only assignments the juror can open: not voided, no conflict with the company.
        LEFT JOIN assignment a ON a.juror_id = j.id AND a.voided_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM juror_company_conflict x JOIN entry e
                             ON e.company_id = x.company_id
                             WHERE x.juror_id = j.id AND e.id = a.entry_id)
        LEFT JOIN score_sheet s ON s.assignment_id = a.id
        WHERE j.account_id = $1 AND j.status = 'active'
        GROUP BY c.id, j.id
        ORDER BY c.submission_closes_at DESC
        """,
        account_id,
    )
    return [JuryMembership(**dict(r)) for r in rows]


async def list_runs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, limit: int
) -> list[RunListItem]:
    """The competition's latest assignment runs, newest first."""
    rows = await conn.fetch(
        """SELECT id, status, reviews_per_entry, created_at, finished_at
           FROM assignment_run WHERE competition_id = $1
           ORDER BY created_at DESC LIMIT $2""",
        competition_id,
        limit,
    )
    return [RunListItem(**dict(r)) for r in rows]
