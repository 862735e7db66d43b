"""SQL of assignments and score sheets as jurors work on them, and of the progress and reminders
organisers follow them by."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.db import one_row
from competition.jury.queries import ASSIGNMENT, STANDING, AssignmentRow


async def assignments_of(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, competition_id: uuid.UUID | None
) -> list[AssignmentRow]:
    rows = await conn.fetch(
        f"""SELECT {ASSIGNMENT}
            WHERE j.account_id = $1 AND j.status = 'active'
              AND j.conflicts_confirmed_at IS NOT NULL
              AND j.confidentiality_accepted_at IS NOT NULL
              AND ($2::uuid IS NULL OR a.competition_id = $2)
              AND a.voided_at IS NULL
            ORDER BY a.created_at, a.id""",
        account_id,
        competition_id,
    )
    return [AssignmentRow(**dict(r)) for r in rows if not r["conflicted"]]


async def lock_sheet(
    conn: asyncpg.Connection, *, assignment_id: uuid.UUID
) -> asyncpg.Record | None:
    """The sheet of an assignment, created empty on first use, locked for the update; None when
    the assignment was withdrawn (its sheet goes with it) or voided meanwhile.

    The assignment itself is held (FOR KEY SHARE, the weakest lock) until the transaction ends:
    voiding it (a juror joining the entrant company, migrations/0011) waits for this save and
    then sees a sheet it made final, which stays; or this save waits for the voiding and finds
    nothing."""
    # Look first: every save after the first finds the sheet, so it costs one round trip, not two.
    lock = """SELECT s.status, s.version
              FROM assignment a JOIN score_sheet s ON s.assignment_id = a.id
              WHERE a.id = $1 AND a.voided_at IS NULL
              FOR KEY SHARE OF a FOR UPDATE OF s"""
    record = await conn.fetchrow(lock, assignment_id)
    if record is None:
        try:
            await conn.execute(
                """INSERT INTO score_sheet (assignment_id, version)
                   SELECT id, 0 FROM assignment WHERE id = $1 AND voided_at IS NULL FOR KEY SHARE
                   ON CONFLICT DO NOTHING""",
                assignment_id,
            )
        except asyncpg.exceptions.ForeignKeyViolationError:
            return None  # the transaction is lost anyway: the caller answers 404
        record = await conn.fetchrow(lock, assignment_id)
    return record


async def save_sheet(
    conn: asyncpg.Connection,
    *,
    assignment_id: uuid.UUID,
    scores: dict[str, float],
    comment: str,
    final: bool,
    weighted_total: float | None,
) -> tuple[int, datetime]:
    record = await one_row(
        conn,
        """UPDATE score_sheet SET scores = $2, comment = $3,
                  status = CASE WHEN $4 THEN 'final' ELSE 'draft' END,
                  finalised_at = CASE WHEN $4 THEN now() END,
                  weighted_total = $5, version = version + 1, updated_at = now()
           WHERE assignment_id = $1 RETURNING version, updated_at""",
        assignment_id,
        scores,
        comment,
        final,
        weighted_total,
    )
    return record["version"], record["updated_at"]


async def juror_progress(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT j.id AS juror_id, j.name, j.status, count(a.id) AS assigned,
               count(s.id) FILTER (WHERE s.status = 'final') AS final,
               count(s.id) FILTER (WHERE s.status = 'draft' AND s.version > 0) AS draft
        FROM juror j
        -- Entries that left the competition are no work any more (entries.LEFT_COMPETITION).
        LEFT JOIN (assignment a JOIN entry e ON e.id = a.entry_id
                   AND e.status NOT IN ('withdrawn', 'disqualified'))
               ON a.juror_id = j.id AND {STANDING}
        LEFT JOIN score_sheet s ON s.assignment_id = a.id
        WHERE j.competition_id = $1
        GROUP BY j.id, j.name, j.status, j.invited_at
        ORDER BY j.invited_at, j.name
        """,
        competition_id,
    )


async def entry_progress(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT e.id AS entry_id, e.title, cat.slug AS category, count(a.id) AS assigned,
               count(s.id) FILTER (WHERE s.status = 'final') AS final
        FROM entry e
        JOIN category cat ON cat.id = e.category_id
        LEFT JOIN assignment a ON a.entry_id = e.id AND {STANDING}
        LEFT JOIN score_sheet s ON s.assignment_id = a.id
        WHERE e.competition_id = $1 AND e.status = 'submitted'
        GROUP BY e.id, e.title, cat.slug, cat.position, e.submitted_at
        ORDER BY cat.position, e.submitted_at
        """,
        competition_id,
    )


async def jurors_with_open_sheets(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT j.id, j.name, a2.email, a2.locale, a2.id AS account_id,
               count(a.id) FILTER (WHERE s.status IS DISTINCT FROM 'final') AS open
        FROM juror j
        JOIN account a2 ON a2.id = j.account_id
        JOIN assignment a ON a.juror_id = j.id AND {STANDING}
        JOIN entry e ON e.id = a.entry_id AND e.status NOT IN ('withdrawn', 'disqualified')
        LEFT JOIN score_sheet s ON s.assignment_id = a.id
        WHERE j.competition_id = $1 AND j.status = 'active'
        GROUP BY j.id, j.name, a2.email, a2.locale, a2.id
        HAVING count(a.id) FILTER (WHERE s.status IS DISTINCT FROM 'final') > 0
        """,
        competition_id,
    )
