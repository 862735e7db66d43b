"""SQL of jurors, conflicts, assignment runs, assignments and score sheets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from competition.db import one_row
from competition.structs import Row


class JurorRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    account_id: uuid.UUID | None
    email: str
    name: str
    expertise: list[str]
    max_load: int | None
    status: str
    invited_at: datetime
    accepted_at: datetime | None
    conflicts_confirmed_at: datetime | None
    confidentiality_accepted_at: datetime | None


class ConflictRow(Row, frozen=True):
    juror_id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    type: str
    note: str | None
    declared_as: str | None
    source: str


class RunRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    status: str
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


class AssignmentRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    juror_id: uuid.UUID
    entry_id: uuid.UUID
    account_id: uuid.UUID | None
    juror_status: str
    conflicts_confirmed_at: datetime | None
    confidentiality_accepted_at: datetime | None
    company_id: uuid.UUID
    entry_status: str
    conflicted: bool
    sheet_status: str | None
    sheet_version: int | None
    scores: dict[str, float] | None
    comment: str | None
    weighted_total: float | None
    sheet_updated_at: datetime | None


_JUROR = (
    "id, competition_id, account_id, email, name, expertise, max_load, status, invited_at, "
    "accepted_at, conflicts_confirmed_at, confidentiality_accepted_at"
)
_RUN = (
    "id, competition_id, status, reviews_per_entry, seed, feasible, report, stats, proposal, "
    "error, created_at, finished_at, deployed_at"
)
# An assignment with everything its access rules need, incl. a conflict recorded after it was made.
_ASSIGNMENT = """
    a.id, a.competition_id, a.juror_id, a.entry_id, j.account_id, j.status AS juror_status,
    j.conflicts_confirmed_at, j.confidentiality_accepted_at, e.company_id,
    e.status AS entry_status,
    EXISTS (SELECT 1 FROM juror_company_conflict x WHERE x.juror_id = a.juror_id
            AND x.company_id = e.company_id) AS conflicted,
    s.status AS sheet_status, s.version AS sheet_version, s.scores, s.comment, s.weighted_total,
    s.updated_at AS sheet_updated_at
    FROM assignment a
    JOIN juror j ON j.id = a.juror_id
    JOIN entry e ON e.id = a.entry_id
    LEFT JOIN score_sheet s ON s.assignment_id = a.id
"""


def _juror(record: asyncpg.Record | None) -> JurorRow | None:
    return JurorRow(**dict(record)) if record else None


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
    return _juror(
        await conn.fetchrow(
            f"""INSERT INTO juror (competition_id, email, name, expertise, max_load, invited_by)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (competition_id, email) DO NOTHING
                RETURNING {_JUROR}""",
            competition_id,
            email,
            name,
            expertise,
            max_load,
            invited_by,
        )
    )


async def get_juror(
    conn: asyncpg.Connection, *, juror_id: uuid.UUID, for_update: bool = False
) -> JurorRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return _juror(await conn.fetchrow(f"SELECT {_JUROR} FROM juror WHERE id = $1{lock}", juror_id))


async def juror_of(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, account_id: uuid.UUID
) -> JurorRow | None:
    return _juror(
        await conn.fetchrow(
            f"""SELECT {_JUROR} FROM juror
                WHERE competition_id = $1 AND account_id = $2 AND status = 'active'""",
            competition_id,
            account_id,
        )
    )


async def list_jurors(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> list[JurorRow]:
    rows = await conn.fetch(
        f"SELECT {_JUROR} FROM juror WHERE competition_id = $1 ORDER BY invited_at, email",
        competition_id,
    )
    return [JurorRow(**dict(r)) for r in rows]


async def is_active_juror_anywhere(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM juror WHERE account_id = $1 AND status = 'active')",
        account_id,
    )
    return found


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


async def set_conflicts_confirmed(
    conn: asyncpg.Connection, *, juror_id: uuid.UUID, confirmed: bool
) -> None:
    await conn.execute(
        """UPDATE juror SET conflicts_confirmed_at = CASE WHEN $2 THEN now() END
           WHERE id = $1""",
        juror_id,
        confirmed,
    )


async def loads(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> dict[uuid.UUID, tuple[int, int]]:
    """juror id → (assignments, final sheets)."""
    rows = await conn.fetch(
        """SELECT a.juror_id, count(*) AS n, count(*) FILTER (WHERE s.status = 'final') AS final
           FROM assignment a LEFT JOIN score_sheet s ON s.assignment_id = a.id
           WHERE a.competition_id = $1 GROUP BY a.juror_id""",
        competition_id,
    )
    return {r["juror_id"]: (r["n"], r["final"]) for r in rows}


# Conflicts.


async def list_conflicts(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[ConflictRow]:
    rows = await conn.fetch(
        """SELECT x.juror_id, x.company_id, c.name AS company_name, x.type, x.note,
                  x.declared_as, x.source
           FROM conflict x JOIN juror j ON j.id = x.juror_id JOIN company c ON c.id = x.company_id
           WHERE j.competition_id = $1 ORDER BY x.created_at""",
        competition_id,
    )
    return [ConflictRow(**dict(r)) for r in rows]


async def upsert_conflict(
    conn: asyncpg.Connection,
    *,
    juror_id: uuid.UUID,
    company_id: uuid.UUID,
    type: str,
    note: str | None,
    declared_as: str | None,
    source: str,
    created_by: uuid.UUID,
) -> None:
    await conn.execute(
        """INSERT INTO conflict (juror_id, company_id, type, note, declared_as, source, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (juror_id, company_id)
           DO UPDATE SET type = EXCLUDED.type, note = EXCLUDED.note,
                         declared_as = coalesce(EXCLUDED.declared_as, conflict.declared_as)""",
        juror_id,
        company_id,
        type,
        note,
        declared_as,
        source,
        created_by,
    )


async def delete_juror_declared_conflicts(conn: asyncpg.Connection, *, juror_id: uuid.UUID) -> None:
    """A new declaration replaces the juror's own; conflicts organisers recorded stay."""
    await conn.execute("DELETE FROM conflict WHERE juror_id = $1 AND source = 'juror'", juror_id)


async def participating_companies(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, str, str | None, list[str]]]:
    """(id, name, website, member e-mail domains) of companies with entries in the competition."""
    rows = await conn.fetch(
        """
        SELECT c.id, c.name, c.website,
               coalesce(array_agg(DISTINCT split_part(a.email, '@', 2))
                        FILTER (WHERE a.email IS NOT NULL), '{}') AS domains
        FROM company c
        JOIN entry e ON e.company_id = c.id AND e.competition_id = $1
             AND e.status IN ('draft', 'submitted')
        LEFT JOIN company_member m ON m.company_id = c.id
        LEFT JOIN account a ON a.id = m.account_id
        GROUP BY c.id, c.name, c.website
        ORDER BY c.name
        """,
        competition_id,
    )
    return [(r["id"], r["name"], r["website"], list(r["domains"])) for r in rows]


# Assignment runs.


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


async def existing_pairs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(juror, entry) of the assignments that stand: those of active jurors, and finished ones
    (final sheet) of jurors who left since — a finished review is no gap to fill."""
    rows = await conn.fetch(
        """SELECT a.juror_id, a.entry_id FROM assignment a JOIN juror j ON j.id = a.juror_id
           WHERE a.competition_id = $1
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
           ON CONFLICT (juror_id, entry_id) DO NOTHING
           RETURNING id""",
        competition_id,
        run_id,
        [j for j, _ in pairs],
        [e for _, e in pairs],
    )
    return len(rows)


async def delete_open_assignments(conn: asyncpg.Connection, *, juror_id: uuid.UUID) -> int:
    """Assignments of a juror who dropped out, except those already scored for good."""
    result: str = await conn.execute(
        """DELETE FROM assignment a WHERE a.juror_id = $1 AND NOT EXISTS (
               SELECT 1 FROM score_sheet s WHERE s.assignment_id = a.id AND s.status = 'final')""",
        juror_id,
    )
    return int(result.rsplit(maxsplit=1)[-1])


async def new_assignments_by_juror(
    conn: asyncpg.Connection, *, run_id: uuid.UUID
) -> list[tuple[uuid.UUID, int]]:
    rows = await conn.fetch(
        "SELECT juror_id, count(*) AS n FROM assignment WHERE run_id = $1 GROUP BY juror_id",
        run_id,
    )
    return [(r["juror_id"], r["n"]) for r in rows]


# Assignments and score sheets.


async def get_assignment(
    conn: asyncpg.Connection, *, assignment_id: uuid.UUID
) -> AssignmentRow | None:
    record = await conn.fetchrow(f"SELECT {_ASSIGNMENT} WHERE a.id = $1", assignment_id)
    return AssignmentRow(**dict(record)) if record else None


async def assignments_of(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, competition_id: uuid.UUID | None
) -> list[AssignmentRow]:
    rows = await conn.fetch(
        f"""SELECT {_ASSIGNMENT}
            WHERE j.account_id = $1 AND j.status = 'active'
              AND j.conflicts_confirmed_at IS NOT NULL
              AND j.confidentiality_accepted_at IS NOT NULL
              AND ($2::uuid IS NULL OR a.competition_id = $2)
            ORDER BY a.created_at, a.id""",
        account_id,
        competition_id,
    )
    return [AssignmentRow(**dict(r)) for r in rows if not r["conflicted"]]


async def juror_assigned_to_entry(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, entry_id: uuid.UUID
) -> AssignmentRow | None:
    record = await conn.fetchrow(
        f"SELECT {_ASSIGNMENT} WHERE j.account_id = $1 AND a.entry_id = $2", account_id, entry_id
    )
    return AssignmentRow(**dict(record)) if record else None


async def lock_sheet(
    conn: asyncpg.Connection, *, assignment_id: uuid.UUID
) -> asyncpg.Record | None:
    """The sheet of an assignment, created empty on first use, locked for the update; None when
    the assignment was withdrawn meanwhile (its sheet goes with it)."""
    # Look first: every save after the first finds the sheet, so it costs one round trip, not two.
    lock = "SELECT status, version FROM score_sheet WHERE assignment_id = $1 FOR UPDATE"
    record = await conn.fetchrow(lock, assignment_id)
    if record is None:
        try:
            await conn.execute(
                "INSERT INTO score_sheet (assignment_id, version) VALUES ($1, 0) "
                "ON CONFLICT DO NOTHING",
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
        """
        SELECT j.id AS juror_id, j.name, j.status, count(a.id) AS assigned,
               count(s.id) FILTER (WHERE s.status = 'final') AS final,
               count(s.id) FILTER (WHERE s.status = 'draft' AND s.version > 0) AS draft
        FROM juror j
        -- Entries that left the competition are no work any more (entries.LEFT_COMPETITION).
        LEFT JOIN (assignment a JOIN entry e ON e.id = a.entry_id
                   AND e.status NOT IN ('withdrawn', 'disqualified')) ON a.juror_id = j.id
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
        """
        SELECT e.id AS entry_id, e.title, cat.slug AS category, count(a.id) AS assigned,
               count(s.id) FILTER (WHERE s.status = 'final') AS final
        FROM entry e
        JOIN category cat ON cat.id = e.category_id
        LEFT JOIN assignment a ON a.entry_id = e.id
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
        """
        SELECT j.id, j.name, a2.email, a2.locale, a2.id AS account_id,
               count(a.id) FILTER (WHERE s.status IS DISTINCT FROM 'final') AS open
        FROM juror j
        JOIN account a2 ON a2.id = j.account_id
        JOIN assignment a ON a.juror_id = j.id
        JOIN entry e ON e.id = a.entry_id AND e.status NOT IN ('withdrawn', 'disqualified')
        LEFT JOIN score_sheet s ON s.assignment_id = a.id
        WHERE j.competition_id = $1 AND j.status = 'active'
        GROUP BY j.id, j.name, a2.email, a2.locale, a2.id
        HAVING count(a.id) FILTER (WHERE s.status IS DISTINCT FROM 'final') > 0
        """,
        competition_id,
    )
