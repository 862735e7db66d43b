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
    id: uuid.UUID | None  # None for a membership, which is no row of its own
    juror_id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    type: str
    note: str | None
    declared_as: str | None
    source: str


class DeclarationRow(Row, frozen=True):
    id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    position: int
    company_id: uuid.UUID | None
    company_name: str | None
    declared_as: str | None
    type: str
    note: str | None
    status: str
    matched_company_ids: list[uuid.UUID]
    created_at: datetime


class VoidedRow(Row, frozen=True):
    assignment_id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    entry_id: uuid.UUID
    entry_title: str
    reason: str
    voided_at: datetime


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
    voided_at: datetime | None
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
# An assignment with everything its access rules need, incl. a conflict recorded after it was made
# and whether it was voided (migrations/0011: the juror joined the entrant company).
_ASSIGNMENT = """
    a.id, a.competition_id, a.juror_id, a.entry_id, j.account_id, j.status AS juror_status,
    j.conflicts_confirmed_at, j.confidentiality_accepted_at, e.company_id,
    e.status AS entry_status,
    (a.recused_at IS NOT NULL
     OR EXISTS (SELECT 1 FROM juror_company_conflict x WHERE x.juror_id = a.juror_id
                AND x.company_id = e.company_id)) AS conflicted,
    a.voided_at,
    s.status AS sheet_status, s.version AS sheet_version, s.scores, s.comment, s.weighted_total,
    s.updated_at AS sheet_updated_at
    FROM assignment a
    JOIN juror j ON j.id = a.juror_id
    JOIN entry e ON e.id = a.entry_id
    LEFT JOIN score_sheet s ON s.assignment_id = a.id
"""


# An assignment that counts (load, coverage, progress): not voided, and its juror not conflicted
# with the entry's company (a final sheet made before a conflict stays on record, and counts not).
_STANDING = """a.voided_at IS NULL AND a.recused_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM juror_company_conflict x JOIN entry ce ON ce.company_id = x.company_id
    WHERE x.juror_id = a.juror_id AND ce.id = a.entry_id)"""


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
        f"""SELECT a.juror_id, count(*) AS n, count(*) FILTER (WHERE s.status = 'final') AS final
            FROM assignment a LEFT JOIN score_sheet s ON s.assignment_id = a.id
            WHERE a.competition_id = $1 AND {_STANDING} GROUP BY a.juror_id""",
        competition_id,
    )
    return {r["juror_id"]: (r["n"], r["final"]) for r in rows}


# Conflicts.


async def list_conflicts(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[ConflictRow]:
    rows = await conn.fetch(
        """SELECT x.id, x.juror_id, x.company_id, c.name AS company_name, x.type, x.note,
                  x.declared_as, x.source
           FROM conflict x JOIN juror j ON j.id = x.juror_id JOIN company c ON c.id = x.company_id
           WHERE j.competition_id = $1 ORDER BY x.created_at""",
        competition_id,
    )
    return [ConflictRow(**dict(r)) for r in rows]


async def conflicted_companies(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(juror, company, reason) for every reason a juror of the competition must not judge a
    company: declared or recorded conflicts (reason = their type) and membership ("member")."""
    rows = await conn.fetch(
        """SELECT x.juror_id, x.company_id, x.reason
           FROM juror_company_conflict x JOIN juror j ON j.id = x.juror_id
           WHERE j.competition_id = $1""",
        competition_id,
    )
    return [(r["juror_id"], r["company_id"], r["reason"]) for r in rows]


async def membership_conflicts(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[ConflictRow]:
    """Jurors who are members (or owners) of a company with an entry in the competition: a
    conflict nobody has to declare."""
    rows = await conn.fetch(
        """SELECT NULL::uuid AS id, x.juror_id, x.company_id, c.name AS company_name,
                  x.reason AS type, NULL::text AS note, NULL::text AS declared_as,
                  'membership' AS source
           FROM juror_company_conflict x
           JOIN juror j ON j.id = x.juror_id
           JOIN company c ON c.id = x.company_id
           WHERE j.competition_id = $1 AND x.reason = 'member'
             AND EXISTS (SELECT 1 FROM entry e
                         WHERE e.company_id = x.company_id AND e.competition_id = $1)
           ORDER BY c.name, c.id""",
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
           ON CONFLICT (juror_id, company_id, source)
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


async def delete_recorded_conflict(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, conflict_id: uuid.UUID
) -> ConflictRow | None:
    """Remove a conflict an organiser recorded; None when there is none by that id."""
    record = await conn.fetchrow(
        """DELETE FROM conflict x USING juror j, company c
           WHERE x.id = $2 AND x.source = 'organiser' AND j.id = x.juror_id
             AND j.competition_id = $1 AND c.id = x.company_id
           RETURNING x.id, x.juror_id, x.company_id, c.name AS company_name, x.type, x.note,
                     x.declared_as, x.source""",
        competition_id,
        conflict_id,
    )
    return ConflictRow(**dict(record)) if record else None


_DECLARATION = """
    d.id, d.juror_id, j.name AS juror_name, d.position, d.company_id, c.name AS company_name,
    d.declared_as, d.type, d.note, d.status, d.matched_company_ids, d.created_at
    FROM conflict_declaration d JOIN juror j ON j.id = d.juror_id
    LEFT JOIN company c ON c.id = d.company_id
"""


async def list_declarations(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    juror_id: uuid.UUID | None = None,
    statuses: list[str] | None = None,
) -> list[DeclarationRow]:
    rows = await conn.fetch(
        f"""SELECT {_DECLARATION}
            WHERE j.competition_id = $1 AND ($2::uuid IS NULL OR d.juror_id = $2)
              AND ($3::text[] IS NULL OR d.status = ANY($3))
            ORDER BY j.name, d.juror_id, d.position""",
        competition_id,
        juror_id,
        statuses,
    )
    return [DeclarationRow(**dict(r)) for r in rows]


async def get_declaration(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, declaration_id: uuid.UUID
) -> DeclarationRow | None:
    record = await conn.fetchrow(
        f"""SELECT {_DECLARATION} WHERE j.competition_id = $1 AND d.id = $2
            FOR UPDATE OF d""",
        competition_id,
        declaration_id,
    )
    return DeclarationRow(**dict(record)) if record else None


async def delete_open_declarations(conn: asyncpg.Connection, *, juror_id: uuid.UUID) -> None:
    """Before deployment a juror's new declaration replaces their previous one; what an
    organiser has already decided (resolved, dismissed) stays."""
    await conn.execute(
        """DELETE FROM conflict_declaration
           WHERE juror_id = $1 AND status IN ('matched', 'unmatched')""",
        juror_id,
    )


async def insert_declaration(
    conn: asyncpg.Connection,
    *,
    juror_id: uuid.UUID,
    position: int,
    company_id: uuid.UUID | None,
    declared_as: str | None,
    type: str,
    note: str | None,
    status: str,
    matched_company_ids: list[uuid.UUID],
) -> None:
    await conn.execute(
        """INSERT INTO conflict_declaration (juror_id, position, company_id, declared_as, type,
                                             note, status, matched_company_ids)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        juror_id,
        position,
        company_id,
        declared_as,
        type,
        note,
        status,
        matched_company_ids,
    )


async def decide_declaration(
    conn: asyncpg.Connection, *, declaration_id: uuid.UUID, status: str, decided_by: uuid.UUID
) -> None:
    await conn.execute(
        """UPDATE conflict_declaration SET status = $2, resolved_by = $3, resolved_at = now()
           WHERE id = $1""",
        declaration_id,
        status,
        decided_by,
    )


async def open_declarations(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> int:
    """Declarations an organiser still has to decide (unmatched, or made after deployment)."""
    found: int = await conn.fetchval(
        """SELECT count(*) FROM conflict_declaration d JOIN juror j ON j.id = d.juror_id
           WHERE j.competition_id = $1 AND j.status = 'active'
             AND d.status IN ('unmatched', 'pending')""",
        competition_id,
    )
    return found


async def deployed(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM assignment_run
                          WHERE competition_id = $1 AND status = 'deployed')""",
        competition_id,
    )
    return found


async def withdraw_assignments(
    conn: asyncpg.Connection, *, juror_id: uuid.UUID, company_id: uuid.UUID
) -> int:
    """A conflict now stands: the juror's assignments to that company's entries are void,
    unless already scored for good (results decide about those)."""
    result: str = await conn.execute(
        """DELETE FROM assignment a USING entry e
           WHERE a.entry_id = e.id AND a.juror_id = $1 AND e.company_id = $2
             AND a.recused_at IS NULL AND a.voided_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM score_sheet s
                             WHERE s.assignment_id = a.id AND s.status = 'final')""",
        juror_id,
        company_id,
    )
    return int(result.rsplit(" ", 1)[1])


async def recuse(
    conn: asyncpg.Connection, *, assignment_id: uuid.UUID, reason: str
) -> datetime | None:
    recused_at: datetime | None = await conn.fetchval(
        """UPDATE assignment SET recused_at = now(), recusal_reason = $2
           WHERE id = $1 AND recused_at IS NULL RETURNING recused_at""",
        assignment_id,
        reason,
    )
    return recused_at


class OrganiserContact(Row, frozen=True):
    id: uuid.UUID
    email: str
    name: str
    locale: str


async def organisers_of(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[OrganiserContact]:
    rows = await conn.fetch(
        """SELECT a.id, a.email, a.name, a.locale
           FROM competition_organiser o JOIN account a ON a.id = o.account_id
           WHERE o.competition_id = $1 AND a.deleted_at IS NULL ORDER BY a.email""",
        competition_id,
    )
    return [OrganiserContact(**dict(r)) for r in rows]


async def assignment_juror(
    conn: asyncpg.Connection, *, assignment_id: uuid.UUID
) -> tuple[uuid.UUID, str] | None:
    """(competition, juror name) of an assignment."""
    record = await conn.fetchrow(
        """SELECT a.competition_id, j.name FROM assignment a JOIN juror j ON j.id = a.juror_id
           WHERE a.id = $1""",
        assignment_id,
    )
    return (record["competition_id"], record["name"]) if record else None


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
            WHERE a.competition_id = $1 AND {_STANDING}
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


async def delete_open_assignments(conn: asyncpg.Connection, *, juror_id: uuid.UUID) -> int:
    """Assignments of a juror who dropped out, except those already scored for good (and voided
    ones, which stay on record)."""
    result: str = await conn.execute(
        """DELETE FROM assignment a WHERE a.juror_id = $1 AND a.voided_at IS NULL AND NOT EXISTS (
               SELECT 1 FROM score_sheet s WHERE s.assignment_id = a.id AND s.status = 'final')""",
        juror_id,
    )
    return int(result.rsplit(maxsplit=1)[-1])


async def voided_assignments(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[VoidedRow]:
    """Assignments voided because their juror joined the entrant company, oldest first."""
    rows = await conn.fetch(
        """SELECT a.id AS assignment_id, a.juror_id, j.name AS juror_name, a.entry_id,
                  e.title AS entry_title, a.void_reason AS reason, a.voided_at
           FROM assignment a JOIN juror j ON j.id = a.juror_id JOIN entry e ON e.id = a.entry_id
           WHERE a.competition_id = $1 AND a.voided_at IS NOT NULL
           ORDER BY a.voided_at, j.name, e.title, a.id""",
        competition_id,
    )
    return [VoidedRow(**dict(r)) for r in rows]


async def new_assignments_by_juror(
    conn: asyncpg.Connection, *, run_id: uuid.UUID
) -> list[tuple[uuid.UUID, int]]:
    rows = await conn.fetch(
        """SELECT juror_id, count(*) AS n FROM assignment WHERE run_id = $1 AND voided_at IS NULL
           GROUP BY juror_id""",
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
               ON a.juror_id = j.id AND {_STANDING}
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
        LEFT JOIN assignment a ON a.entry_id = e.id AND {_STANDING}
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
        JOIN assignment a ON a.juror_id = j.id AND {_STANDING}
        JOIN entry e ON e.id = a.entry_id AND e.status NOT IN ('withdrawn', 'disqualified')
        LEFT JOIN score_sheet s ON s.assignment_id = a.id
        WHERE j.competition_id = $1 AND j.status = 'active'
        GROUP BY j.id, j.name, a2.email, a2.locale, a2.id
        HAVING count(a.id) FILTER (WHERE s.status IS DISTINCT FROM 'final') > 0
        """,
        competition_id,
    )
