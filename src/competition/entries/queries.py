"""SQL of entries."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row
from competition.vocabulary import AttachmentStatus, EntryStatus


class EntryRow(Row, frozen=True):
    id: uuid.UUID
    competition_id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    company_district: str
    category: str
    title: str
    summary: str
    description: str
    status: EntryStatus
    version: int
    eligible: bool
    eligibility_reason: str
    submitted_at: datetime | None
    withdrawn_at: datetime | None
    created_at: datetime
    updated_at: datetime
    phase: str
    submission_closes_at: datetime
    submissions_open: bool


# `submissions_open` comes from the database's statement clock (`clock_timestamp()`, not the
# transaction's `now()`): it decides every deadline question at the moment it is asked.
_ENTRY = """
    e.id, e.competition_id, e.company_id, co.name AS company_name, co.district AS company_district,
    cat.slug AS category, e.title, e.summary, e.description, e.status, e.version, e.eligible,
    e.eligibility_reason, e.submitted_at, e.withdrawn_at, e.created_at, e.updated_at, c.phase,
    c.submission_closes_at,
    (c.phase = 'open' AND clock_timestamp() < c.submission_closes_at) AS submissions_open
"""
_FROM = """
    FROM entry e
    JOIN competition c ON c.id = e.competition_id
    JOIN company co ON co.id = e.company_id
    JOIN category cat ON cat.id = e.category_id
"""


def _entry(record: asyncpg.Record | None) -> EntryRow | None:
    return EntryRow(**dict(record)) if record else None


async def insert_entry(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    company_id: uuid.UUID,
    category_id: uuid.UUID,
    title: str,
    summary: str,
    description: str,
    eligible: bool,
    eligibility_reason: str,
    created_by: uuid.UUID,
) -> uuid.UUID:
    entry_id: uuid.UUID = await conn.fetchval(
        """INSERT INTO entry (competition_id, company_id, category_id, title, summary, description,
                              eligible, eligibility_reason, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
        competition_id,
        company_id,
        category_id,
        title,
        summary,
        description,
        eligible,
        eligibility_reason,
        created_by,
    )
    return entry_id


async def get_entry(
    conn: asyncpg.Connection, *, entry_id: uuid.UUID, for_update: bool = False
) -> EntryRow | None:
    lock = " FOR UPDATE OF e" if for_update else ""
    return _entry(await conn.fetchrow(f"SELECT {_ENTRY} {_FROM} WHERE e.id = $1{lock}", entry_id))


async def category_id(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, slug: str
) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM category WHERE competition_id = $1 AND slug = $2", competition_id, slug
    )
    return found


async def update_content(
    conn: asyncpg.Connection,
    *,
    entry_id: uuid.UUID,
    category_id: uuid.UUID | None,
    title: str | None,
    summary: str | None,
    description: str | None,
) -> None:
    await conn.execute(
        """UPDATE entry SET category_id = coalesce($2, category_id), title = coalesce($3, title),
                  summary = coalesce($4, summary), description = coalesce($5, description),
                  version = version + 1, updated_at = now()
           WHERE id = $1""",
        entry_id,
        category_id,
        title,
        summary,
        description,
    )


async def set_submitted(
    conn: asyncpg.Connection, *, entry_id: uuid.UUID, eligible: bool, reason: str
) -> datetime | None:
    """Submit, if the deadline has not passed at this statement's moment; the time it was
    submitted, or None when it came too late."""
    submitted_at: datetime | None = await conn.fetchval(
        """UPDATE entry SET status = 'submitted', submitted_at = clock_timestamp(),
                  withdrawn_at = NULL, eligible = $2, eligibility_reason = $3,
                  version = entry.version + 1, updated_at = now()
           FROM competition c
           WHERE entry.id = $1 AND c.id = entry.competition_id
             AND c.phase = 'open' AND clock_timestamp() < c.submission_closes_at
           RETURNING entry.submitted_at""",
        entry_id,
        eligible,
        reason,
    )
    return submitted_at


async def set_eligibility(
    conn: asyncpg.Connection, *, entry_id: uuid.UUID, eligible: bool, reason: str
) -> None:
    await conn.execute(
        "UPDATE entry SET eligible = $2, eligibility_reason = $3 WHERE id = $1",
        entry_id,
        eligible,
        reason,
    )


async def lock_competition(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> tuple[str, bool] | None:
    """The competition's phase and whether submissions are open now, under a share lock: a
    publication (which holds the row exclusively) is either committed before or waits until
    the caller's transaction ends, so the phase read here is the one that holds."""
    record = await conn.fetchrow(
        """SELECT phase, (phase = 'open' AND clock_timestamp() < submission_closes_at) AS open
           FROM competition WHERE id = $1 FOR SHARE""",
        competition_id,
    )
    return (record["phase"], record["open"]) if record else None


async def set_withdrawn(conn: asyncpg.Connection, *, entry_id: uuid.UUID) -> None:
    await conn.execute(
        """UPDATE entry SET status = 'withdrawn', withdrawn_at = now(), version = version + 1,
                  updated_at = now()
           WHERE id = $1""",
        entry_id,
    )


async def list_for_account(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> list[EntryRow]:
    rows = await conn.fetch(
        f"""SELECT {_ENTRY} {_FROM}
            JOIN company_member m ON m.company_id = e.company_id AND m.account_id = $1
            ORDER BY e.updated_at DESC""",
        account_id,
    )
    return [EntryRow(**dict(r)) for r in rows]


async def list_for_competition(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    category: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[EntryRow]:
    rows = await conn.fetch(
        f"""SELECT {_ENTRY} {_FROM}
            WHERE e.competition_id = $1 AND ($2::text IS NULL OR cat.slug = $2)
              AND ($3::text IS NULL OR e.status = $3)
            ORDER BY cat.position, e.created_at
            LIMIT $4 OFFSET $5""",
        competition_id,
        category,
        status,
        limit,
        offset,
    )
    return [EntryRow(**dict(r)) for r in rows]


class ReminderRow(Row, frozen=True):
    entry_id: uuid.UUID
    entry_title: str
    competition_id: uuid.UUID
    competition_title: dict[str, str]
    closes_at: datetime
    window: str
    account_id: uuid.UUID
    email: str
    name: str
    locale: str


async def drafts_due_for_reminder(conn: asyncpg.Connection) -> list[ReminderRow]:
    """Members of companies with drafts in competitions closing within 72 h; `window` says
    which reminder is due now (the 24 h one replaces the 72 h one once it is that late)."""
    rows = await conn.fetch(
        """
        SELECT e.id AS entry_id, e.title AS entry_title, c.id AS competition_id,
               c.title AS competition_title,
               c.submission_closes_at AS closes_at,
               CASE WHEN c.submission_closes_at - now() <= interval '24 hours'
                    THEN '24h' ELSE '72h' END AS window,
               a.id AS account_id, a.email, a.name, a.locale
        FROM entry e
        JOIN competition c ON c.id = e.competition_id
        JOIN company_member m ON m.company_id = e.company_id
        JOIN account a ON a.id = m.account_id
        WHERE e.status = 'draft' AND c.phase = 'open'
          AND c.submission_closes_at > now()
          AND c.submission_closes_at - now() <= interval '72 hours'
        """
    )
    return [ReminderRow(**dict(r)) for r in rows]


class AttachmentBriefRow(Row, frozen=True):
    """What an entry shows of each of its files (the attachments domain owns the table)."""

    id: uuid.UUID
    filename: str
    declared_type: str
    size_bytes: int
    status: AttachmentStatus
    reject_reason: str | None
    object_removed_at: datetime | None


async def list_attachments(
    conn: asyncpg.Connection, *, entry_id: uuid.UUID
) -> list[AttachmentBriefRow]:
    """The entry's files still in play; deleted and expired uploads are gone from its view."""
    rows = await conn.fetch(
        """SELECT id, filename, declared_type, size_bytes, status, reject_reason,
                  object_removed_at
           FROM attachment
           WHERE entry_id = $1 AND status NOT IN ('deleted', 'expired')
           ORDER BY created_at""",
        entry_id,
    )
    return [AttachmentBriefRow(**dict(r)) for r in rows]


async def count_unfinished_attachments(conn: asyncpg.Connection, *, entry_id: uuid.UUID) -> int:
    """Uploads not yet verified; expired pending uploads no longer count."""
    n: int = await conn.fetchval(
        """SELECT count(*) FROM attachment WHERE entry_id = $1
           AND (status = 'uploaded' OR (status = 'pending' AND upload_expires_at > now()))""",
        entry_id,
    )
    return n
