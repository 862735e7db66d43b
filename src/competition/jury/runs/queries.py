"""SQL of assignment runs: the run rows, what a run's problem is built from, and deployment."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from competition.jury.queries import STANDING
from competition.structs import Row
from competition.vocabulary import AssignmentRunStatus


class RunRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    status: AssignmentRunStatus
    reviews_per_entry: int
    seed: int
    feasible: bool | None
    report: dict[str, Any] | None
    stats: dict[str, Any] | None
    proposal: list[list[str]] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    deployed_at: datetime | None


_RUN = (
    "id, competition_id, status, reviews_per_entry, seed, feasible, report, stats, proposal, "
    "error, created_at, finished_at, deployed_at"
)


async def insert_run(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    reviews_per_entry: int,
    seed: int,
    created_by: uuid.UUID,
) -> uuid.UUID:
    run_id: uuid.UUID = await conn.fetchval(
        """INSERT INTO assignment_run (competition_id, reviews_per_entry, seed, created_by)
           VALUES ($1, $2, $3, $4) RETURNING id""",
        competition_id,
        reviews_per_entry,
        seed,
        created_by,
    )
    return run_id


async def get_run(
    conn: asyncpg.Connection, *, run_id: uuid.UUID, for_update: bool = False
) -> RunRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(f"SELECT {_RUN} FROM assignment_run WHERE id = $1{lock}", run_id)
    return RunRow(**dict(record)) if record else None


async def finish_run(
    conn: asyncpg.Connection,
    *,
    run_id: uuid.UUID,
    status: str,
    feasible: bool | None,
    report: dict[str, Any] | None,
    stats: dict[str, Any] | None,
    proposal: list[list[str]] | None,
    error: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE assignment_run SET status = $2, feasible = $3, report = $4, stats = $5,
                  proposal = $6, error = $7, finished_at = now()
           WHERE id = $1""",
        run_id,
        status,
        feasible,
        report,
        stats,
        proposal,
        error,
    )


async def mark_deployed(conn: asyncpg.Connection, *, run_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE assignment_run SET status = 'deployed', deployed_at = now() WHERE id = $1", run_id
    )


async def assignable_entries(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, str, uuid.UUID]]:
    """(entry id, category slug, company id) of submitted, eligible entries."""
    rows = await conn.fetch(
        """SELECT e.id, cat.slug, e.company_id
           FROM entry e JOIN category cat ON cat.id = e.category_id
           WHERE e.competition_id = $1 AND e.status = 'submitted' AND e.eligible
           ORDER BY e.submitted_at, e.id""",
        competition_id,
    )
    return [(r["id"], r["slug"], r["company_id"]) for r in rows]


async def recused_pairs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(juror, entry) a juror recused from: never to be assigned to them again."""
    rows = await conn.fetch(
        """SELECT juror_id, entry_id FROM assignment
           WHERE competition_id = $1 AND recused_at IS NOT NULL""",
        competition_id,
    )
    return [(r["juror_id"], r["entry_id"]) for r in rows]


async def existing_pairs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(juror, entry) of the assignments that stand: those of active jurors, and finished ones
    (final sheet) of jurors who left since — a finished review is no gap to fill. Voided and
    conflicted ones do not stand: their entry needs someone else."""
    rows = await conn.fetch(
        f"""SELECT a.juror_id, a.entry_id FROM assignment a JOIN juror j ON j.id = a.juror_id
            WHERE a.competition_id = $1 AND {STANDING}
              AND (j.status = 'active' OR EXISTS (
                  SELECT 1 FROM score_sheet s
                  WHERE s.assignment_id = a.id AND s.status = 'final'))""",
        competition_id,
    )
    return [(r["juror_id"], r["entry_id"]) for r in rows]


async def insert_assignments(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    run_id: uuid.UUID,
    pairs: list[tuple[uuid.UUID, uuid.UUID]],
) -> int:
    rows = await conn.fetch(
        """INSERT INTO assignment (competition_id, juror_id, entry_id, run_id)
           SELECT $1, p.juror_id, p.entry_id, $2
           FROM unnest($3::uuid[], $4::uuid[]) AS p (juror_id, entry_id)
           ON CONFLICT (juror_id, entry_id) WHERE voided_at IS NULL DO NOTHING
           RETURNING id""",
        competition_id,
        run_id,
        [j for j, _ in pairs],
        [e for _, e in pairs],
    )
    return len(rows)


async def new_assignments_by_juror(
    conn: asyncpg.Connection, *, run_id: uuid.UUID
) -> list[tuple[uuid.UUID, int]]:
    rows = await conn.fetch(
        """SELECT juror_id, count(*) AS n FROM assignment WHERE run_id = $1 AND voided_at IS NULL
           GROUP BY juror_id""",
        run_id,
    )
    return [(r["juror_id"], r["n"]) for r in rows]


async def entry_titles(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> dict[uuid.UUID, str]:
    """Entry id → title, for the entries of a run's proposal."""
    rows = await conn.fetch("SELECT id, title FROM entry WHERE competition_id = $1", competition_id)
    return {r["id"]: r["title"] for r in rows}
