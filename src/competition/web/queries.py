"""Read-only listings the pages need and the domains do not offer as functions (yet): a person's
jury memberships and organised competitions, the runs of a competition, the mail outbox (scoped
to the competitions a person organises, or everything for platform administrators).

Only SELECTs: every write goes through the domain services. Candidates to move into the
domains' `queries.py` when an API endpoint needs the same listing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row


class JuryMembership(Row, frozen=True):
    competition_id: uuid.UUID
    slug: str
    title: dict[str, str]
    phase: str
    status: str
    conflicts_confirmed: bool
    assigned: int
    final: int


class OrganisedCompetition(Row, frozen=True):
    id: uuid.UUID
    slug: str
    title: dict[str, str]
    phase: str
    submission_closes_at: datetime
    entries: int
    submitted: int


class RunItem(Row, frozen=True):
    id: uuid.UUID
    status: str
    detail: str
    created_at: datetime
    finished_at: datetime | None


class MailItem(Row, frozen=True):
    id: uuid.UUID
    competition_title: dict[str, str] | None
    recipient: str
    template: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


async def jury_memberships(
    conn: asyncpg.Connection, *, account_id: uuid.UUID
) -> list[JuryMembership]:
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


async def organised_competitions(
    conn: asyncpg.Connection, *, account_id: uuid.UUID
) -> list[OrganisedCompetition]:
    rows = await conn.fetch(
        """
        SELECT c.id, c.slug, c.title, c.phase, c.submission_closes_at,
               count(e.id)::int AS entries,
               count(e.id) FILTER (WHERE e.status = 'submitted')::int AS submitted
        FROM competition c
        JOIN competition_organiser o ON o.competition_id = c.id AND o.account_id = $1
        LEFT JOIN entry e ON e.competition_id = c.id
        GROUP BY c.id
        ORDER BY c.submission_closes_at DESC, c.slug
        """,
        account_id,
    )
    return [OrganisedCompetition(**dict(r)) for r in rows]


async def assignment_runs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, limit: int = 20
) -> list[RunItem]:
    rows = await conn.fetch(
        """SELECT id, status, reviews_per_entry::text AS detail, created_at, finished_at
           FROM assignment_run WHERE competition_id = $1
           ORDER BY created_at DESC LIMIT $2""",
        competition_id,
        limit,
    )
    return [RunItem(**dict(r)) for r in rows]


async def result_runs(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, limit: int = 20
) -> list[RunItem]:
    rows = await conn.fetch(
        """SELECT id, status, method AS detail, created_at, finished_at
           FROM result_run WHERE competition_id = $1
           ORDER BY created_at DESC LIMIT $2""",
        competition_id,
        limit,
    )
    return [RunItem(**dict(r)) for r in rows]


# The mails a person may see in the outbox: every mail for a platform administrator ($1), else
# those of the competitions the account ($2) organises (mails about accounts and companies
# belong to no competition and stay with the administrators).
_VISIBLE_MAIL = """($1 OR m.competition_id IN (SELECT o.competition_id FROM competition_organiser o
                                               WHERE o.account_id = $2))"""


async def outbox(
    conn: asyncpg.Connection,
    *,
    account_id: uuid.UUID,
    everything: bool,
    status: str | None,
    limit: int,
    offset: int,
) -> list[MailItem]:
    rows = await conn.fetch(
        f"""SELECT m.id, c.title AS competition_title, m.recipient, m.template, m.subject,
                   m.status, m.attempts, m.last_error, m.created_at, m.sent_at
            FROM email m LEFT JOIN competition c ON c.id = m.competition_id
            WHERE {_VISIBLE_MAIL} AND ($3::text IS NULL OR m.status = $3)
            ORDER BY m.created_at DESC, m.id LIMIT $4 OFFSET $5""",
        everything,
        account_id,
        status,
        limit,
        offset,
    )
    return [MailItem(**dict(r)) for r in rows]


async def outbox_counts(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, everything: bool
) -> dict[str, int]:
    rows = await conn.fetch(
        f"""SELECT m.status, count(*)::int AS n FROM email m WHERE {_VISIBLE_MAIL}
            GROUP BY m.status""",
        everything,
        account_id,
    )
    counts = dict.fromkeys(("queued", "sending", "sent", "failed"), 0)
    counts.update({r["status"]: r["n"] for r in rows})
    return counts
