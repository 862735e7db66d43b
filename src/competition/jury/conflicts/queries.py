"""SQL of conflicts of interest: recorded conflicts, jurors' declarations, recusal, and whom to
tell about them."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row
from competition.vocabulary import ConflictSource, ConflictType, DeclarationStatus


class ConflictRow(Row, frozen=True):
    id: uuid.UUID | None  # None for a membership, which is no row of its own
    juror_id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    type: ConflictType
    note: str | None
    declared_as: str | None
    source: ConflictSource


class DeclarationRow(Row, frozen=True):
    id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    position: int
    company_id: uuid.UUID | None
    company_name: str | None
    declared_as: str | None
    type: ConflictType
    note: str | None
    status: DeclarationStatus
    matched_company_ids: list[uuid.UUID]
    created_at: datetime


class OrganiserContact(Row, frozen=True):
    id: uuid.UUID
    email: str
    name: str
    locale: str


async def set_conflicts_confirmed(
    conn: asyncpg.Connection, *, juror_id: uuid.UUID, confirmed: bool
) -> None:
    await conn.execute(
        """UPDATE juror SET conflicts_confirmed_at = CASE WHEN $2 THEN now() END
           WHERE id = $1""",
        juror_id,
        confirmed,
    )


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
