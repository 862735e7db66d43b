"""SQL shared by the jury's parts: juror records, an assignment as its access rules see it, the
assignments that stand, voided assignments, and the companies taking part."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row
from competition.vocabulary import EntryStatus, JurorStatus, SheetStatus


class JurorRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    account_id: uuid.UUID | None
    email: str
    name: str
    expertise: list[str]
    max_load: int | None
    status: JurorStatus
    invited_at: datetime
    accepted_at: datetime | None
    conflicts_confirmed_at: datetime | None
    confidentiality_accepted_at: datetime | None


class AssignmentRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    juror_id: uuid.UUID
    entry_id: uuid.UUID
    account_id: uuid.UUID | None
    juror_status: JurorStatus
    conflicts_confirmed_at: datetime | None
    confidentiality_accepted_at: datetime | None
    company_id: uuid.UUID
    entry_status: EntryStatus
    conflicted: bool
    voided_at: datetime | None
    sheet_status: SheetStatus | None
    sheet_version: int | None
    scores: dict[str, float] | None
    comment: str | None
    weighted_total: float | None
    sheet_updated_at: datetime | None


class VoidedRow(Row, frozen=True):
    assignment_id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    entry_id: uuid.UUID
    entry_title: str
    reason: str
    voided_at: datetime


JUROR_COLUMNS = (
    "id, competition_id, account_id, email, name, expertise, max_load, status, invited_at, "
    "accepted_at, conflicts_confirmed_at, confidentiality_accepted_at"
)


# An assignment with everything its access rules need, incl. a conflict recorded after it was made
# and whether it was voided (migrations/0011: the juror joined the entrant company).
ASSIGNMENT = """
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
STANDING = """a.voided_at IS NULL AND a.recused_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM juror_company_conflict x JOIN entry ce ON ce.company_id = x.company_id
    WHERE x.juror_id = a.juror_id AND ce.id = a.entry_id)"""


def juror_row(record: asyncpg.Record | None) -> JurorRow | None:
    return JurorRow(**dict(record)) if record else None


async def get_juror(
    conn: asyncpg.Connection, *, juror_id: uuid.UUID, for_update: bool = False
) -> JurorRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return juror_row(
        await conn.fetchrow(f"SELECT {JUROR_COLUMNS} FROM juror WHERE id = $1{lock}", juror_id)
    )


async def juror_of(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, account_id: uuid.UUID
) -> JurorRow | None:
    return juror_row(
        await conn.fetchrow(
            f"""SELECT {JUROR_COLUMNS} FROM juror
                WHERE competition_id = $1 AND account_id = $2 AND status = 'active'""",
            competition_id,
            account_id,
        )
    )


async def list_jurors(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> list[JurorRow]:
    rows = await conn.fetch(
        f"SELECT {JUROR_COLUMNS} FROM juror WHERE competition_id = $1 ORDER BY invited_at, email",
        competition_id,
    )
    return [JurorRow(**dict(r)) for r in rows]


async def get_assignment(
    conn: asyncpg.Connection, *, assignment_id: uuid.UUID
) -> AssignmentRow | None:
    record = await conn.fetchrow(f"SELECT {ASSIGNMENT} WHERE a.id = $1", assignment_id)
    return AssignmentRow(**dict(record)) if record else None


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
