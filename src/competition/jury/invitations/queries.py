"""SQL of invitations and the jury roster: juror records as they are invited, accepted and
removed, and each juror's load."""

from __future__ import annotations

import uuid

import asyncpg

from competition.jury.queries import JUROR_COLUMNS, STANDING, JurorRow, juror_row


async def insert_juror(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    email: str,
    name: str,
    expertise: list[str],
    max_load: int | None,
    invited_by: uuid.UUID,
) -> JurorRow | None:
    """None when the address is already on this competition's jury."""
    return juror_row(
        await conn.fetchrow(
            f"""INSERT INTO juror (competition_id, email, name, expertise, max_load, invited_by)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (competition_id, email) DO NOTHING
                RETURNING {JUROR_COLUMNS}""",
            competition_id,
            email,
            name,
            expertise,
            max_load,
            invited_by,
        )
    )


async def activate(
    conn: asyncpg.Connection,
    *,
    juror_id: uuid.UUID,
    account_id: uuid.UUID,
    confidentiality_version: str,
) -> None:
    await conn.execute(
        """UPDATE juror SET account_id = $2, status = 'active', accepted_at = now(),
                  confidentiality_version = $3, confidentiality_accepted_at = now()
           WHERE id = $1""",
        juror_id,
        account_id,
        confidentiality_version,
    )


async def set_status(conn: asyncpg.Connection, *, juror_id: uuid.UUID, status: str) -> None:
    await conn.execute("UPDATE juror SET status = $2 WHERE id = $1", juror_id, status)


async def loads(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> dict[uuid.UUID, tuple[int, int]]:
    """juror id → (assignments, final sheets)."""
    rows = await conn.fetch(
        f"""SELECT a.juror_id, count(*) AS n, count(*) FILTER (WHERE s.status = 'final') AS final
            FROM assignment a LEFT JOIN score_sheet s ON s.assignment_id = a.id
            WHERE a.competition_id = $1 AND {STANDING} GROUP BY a.juror_id""",
        competition_id,
    )
    return {r["juror_id"]: (r["n"], r["final"]) for r in rows}


async def delete_open_assignments(conn: asyncpg.Connection, *, juror_id: uuid.UUID) -> int:
    """Assignments of a juror who dropped out, except those already scored for good (and voided
    ones, which stay on record)."""
    result: str = await conn.execute(
        """DELETE FROM assignment a WHERE a.juror_id = $1 AND a.voided_at IS NULL AND NOT EXISTS (
               SELECT 1 FROM score_sheet s WHERE s.assignment_id = a.id AND s.status = 'final')""",
        juror_id,
    )
    return int(result.rsplit(maxsplit=1)[-1])
