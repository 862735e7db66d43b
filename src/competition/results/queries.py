"""SQL of result runs, winners and publication."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from competition.results.snapshot import HashScheme
from competition.structs import Row
from competition.vocabulary import EntryStatus, Method, ResultRunStatus


class ResultRunRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    status: ResultRunStatus
    method: Method
    parameters: dict[str, Any] | None
    result: dict[str, Any] | None
    snapshot_hash: str | None
    # The scheme that made snapshot_hash (1 or 2, see results/snapshot.py); None without a hash.
    hash_scheme: HashScheme | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    frozen_at: datetime | None


class SheetInput(Row, frozen=True):
    entry_id: uuid.UUID
    juror_id: uuid.UUID
    scores: dict[str, float]
    # Why the juror must not judge the entry's company (juror_company_conflict), now; empty
    # when nothing stands in the way.
    conflicts: list[str]


class WinnerRow(Row, frozen=True):
    category: str
    place: int
    entry_id: uuid.UUID
    title: str
    summary: str
    company_name: str
    city: str
    rank: int | None
    justification: str | None
    result_run_id: uuid.UUID


_RUN = (
    "id, competition_id, status, method, parameters, result, snapshot_hash, hash_scheme, error, "
    "created_at, finished_at, frozen_at"
)


async def insert_run(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, method: Method, created_by: uuid.UUID
) -> uuid.UUID:
    run_id: uuid.UUID = await conn.fetchval(
        """INSERT INTO result_run (competition_id, method, created_by) VALUES ($1, $2, $3)
           RETURNING id""",
        competition_id,
        method,
        created_by,
    )
    return run_id


async def get_run(
    conn: asyncpg.Connection, *, run_id: uuid.UUID, for_update: bool = False
) -> ResultRunRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(f"SELECT {_RUN} FROM result_run WHERE id = $1{lock}", run_id)
    return ResultRunRow(**dict(record)) if record else None


async def finish_run(
    conn: asyncpg.Connection,
    *,
    run_id: uuid.UUID,
    status: str,
    parameters: dict[str, Any] | None,
    result: dict[str, Any] | None,
    snapshot_hash: str | None,
    hash_scheme: HashScheme | None,
    error: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE result_run SET status = $2, parameters = $3, result = $4, snapshot_hash = $5,
                  hash_scheme = $6, error = $7, finished_at = now()
           WHERE id = $1""",
        run_id,
        status,
        parameters,
        result,
        snapshot_hash,
        hash_scheme,
        error,
    )


async def freeze(conn: asyncpg.Connection, *, run_id: uuid.UUID) -> None:
    await conn.execute("UPDATE result_run SET frozen_at = now() WHERE id = $1", run_id)


async def inputs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> tuple[list[asyncpg.Record], list[SheetInput]]:
    """Submitted, eligible entries (id, title, category) and their final score sheets, each
    with the reasons its juror conflicts with the entry's company as of now."""
    entries = await conn.fetch(
        """SELECT e.id, e.title, cat.slug AS category
           FROM entry e JOIN category cat ON cat.id = e.category_id
           WHERE e.competition_id = $1 AND e.status = 'submitted' AND e.eligible
           ORDER BY e.id""",
        competition_id,
    )
    sheets = await conn.fetch(
        """SELECT a.entry_id, a.juror_id, s.scores,
                  ARRAY(SELECT DISTINCT t.reason FROM (
                            SELECT x.reason FROM juror_company_conflict x
                            WHERE x.juror_id = a.juror_id AND x.company_id = e.company_id
                            UNION ALL  -- the juror recused from this very entry
                            SELECT 'recused' WHERE a.recused_at IS NOT NULL) t
                        ORDER BY t.reason) AS conflicts
           FROM score_sheet s JOIN assignment a ON a.id = s.assignment_id
           JOIN entry e ON e.id = a.entry_id
           WHERE a.competition_id = $1 AND s.status = 'final'
             AND e.status = 'submitted' AND e.eligible
           ORDER BY a.entry_id, a.juror_id""",
        competition_id,
    )
    return list(entries), [SheetInput(**dict(r)) for r in sheets]


async def replace_winners(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    run_id: uuid.UUID,
    winners: list[tuple[uuid.UUID, int, uuid.UUID, int | None, str | None]],
    chosen_by: uuid.UUID,
) -> None:
    """(category id, place, entry id, rank, justification) per winner."""
    await conn.execute("DELETE FROM winner WHERE competition_id = $1", competition_id)
    await conn.executemany(
        """INSERT INTO winner (competition_id, category_id, place, entry_id, result_run_id, rank,
                               justification, chosen_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [(competition_id, c, p, e, run_id, r, j, chosen_by) for c, p, e, r, j in winners],
    )


async def list_winners(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> list[WinnerRow]:
    rows = await conn.fetch(
        """SELECT cat.slug AS category, w.place, w.entry_id, e.title, e.summary,
                  co.name AS company_name, co.city, w.rank, w.justification, w.result_run_id
           FROM winner w
           JOIN category cat ON cat.id = w.category_id
           JOIN entry e ON e.id = w.entry_id
           JOIN company co ON co.id = e.company_id
           WHERE w.competition_id = $1
           ORDER BY cat.position, w.place""",
        competition_id,
    )
    return [WinnerRow(**dict(r)) for r in rows]


class EntryStanding(Row, frozen=True):
    status: EntryStatus
    eligible: bool


async def entry_standings(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, EntryStanding]:
    """Status and eligibility of the competition's entries among `entry_ids`, as they are now."""
    rows = await conn.fetch(
        """SELECT id, status, eligible FROM entry
           WHERE competition_id = $1 AND id = ANY($2::uuid[])""",
        competition_id,
        entry_ids,
    )
    return {r["id"]: EntryStanding(status=r["status"], eligible=r["eligible"]) for r in rows}


async def entrant_accounts(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[asyncpg.Record]:
    """Every account that is a member of a company with a submitted entry, with its entries."""
    return await conn.fetch(
        """
        SELECT a.id AS account_id, a.email, a.name, a.locale,
               array_agg(e.title ORDER BY e.title) AS titles,
               bool_or(w.entry_id IS NOT NULL) AS winner,
               array_remove(array_agg(CASE WHEN w.entry_id IS NOT NULL
                                           THEN e.title END ORDER BY e.title), NULL) AS won
        FROM entry e
        JOIN company_member m ON m.company_id = e.company_id
        JOIN account a ON a.id = m.account_id
        LEFT JOIN winner w ON w.entry_id = e.id
        WHERE e.competition_id = $1 AND e.status = 'submitted'
        GROUP BY a.id, a.email, a.name, a.locale
        """,
        competition_id,
    )


async def juror_accounts(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT a.id AS account_id, a.email, a.name, a.locale
           FROM juror j JOIN account a ON a.id = j.account_id
           WHERE j.competition_id = $1 AND j.status = 'active'""",
        competition_id,
    )


async def export_rows(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT e.id, cat.slug AS category, e.title, e.status, e.eligible, co.name AS company,
                  co.city, co.district, w.place
           FROM entry e JOIN category cat ON cat.id = e.category_id
           JOIN company co ON co.id = e.company_id
           LEFT JOIN winner w ON w.entry_id = e.id
           WHERE e.competition_id = $1
           ORDER BY cat.position, e.title""",
        competition_id,
    )


async def published_at(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> datetime | None:
    """When the competition's winners were published; None while they are not public."""
    moment: datetime | None = await conn.fetchval(
        """SELECT published_at FROM competition
           WHERE id = $1 AND phase IN ('published', 'archived')""",
        competition_id,
    )
    return moment


async def reported_run(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> uuid.UUID | None:
    """The published run, or else the latest finished one."""
    run_id: uuid.UUID | None = await conn.fetchval(
        """SELECT coalesce(c.published_run_id, (SELECT id FROM result_run r
                   WHERE r.competition_id = c.id AND r.status = 'done'
                   ORDER BY r.created_at DESC LIMIT 1))
           FROM competition c WHERE c.id = $1""",
        competition_id,
    )
    return run_id


class RunListItem(Row, frozen=True):
    id: uuid.UUID
    status: ResultRunStatus
    method: Method
    created_at: datetime
    finished_at: datetime | None


async def list_runs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, limit: int
) -> list[RunListItem]:
    """The competition's latest result runs, newest first."""
    rows = await conn.fetch(
        """SELECT id, status, method, created_at, finished_at
           FROM result_run WHERE competition_id = $1
           ORDER BY created_at DESC LIMIT $2""",
        competition_id,
        limit,
    )
    return [RunListItem(**dict(r)) for r in rows]
