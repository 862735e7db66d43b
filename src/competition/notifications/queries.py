"""SQL of the e-mail outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row
from competition.vocabulary import MailStatus


class EmailRow(Row, frozen=True):
    id: uuid.UUID
    idempotency_key: str
    event_id: uuid.UUID | None
    account_id: uuid.UUID | None
    recipient: str
    template: str
    locale: str
    subject: str
    body_text: str
    body_html: str | None
    message_id: str
    status: MailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


_COLUMNS = (
    "id, idempotency_key, event_id, account_id, recipient, template, locale, subject, body_text, "
    "body_html, message_id, status, attempts, last_error, created_at, sent_at"
)


def _row(record: asyncpg.Record) -> EmailRow:
    return EmailRow(**dict(record))


async def insert_email(
    conn: asyncpg.Connection,
    *,
    idempotency_key: str,
    event_id: uuid.UUID | None,
    account_id: uuid.UUID | None,
    recipient: str,
    template: str,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str | None,
    message_id: str,
    competition_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """Insert once per idempotency key; returns None when the mail already exists. The relay is
    nudged (delivered at commit) by the same statement: one round trip per mail, not two, which
    is a third of the time publishing takes to queue 10,000 announcements."""
    email_id: uuid.UUID | None = await conn.fetchval(
        """
        WITH inserted AS (
            INSERT INTO email (idempotency_key, event_id, account_id, recipient, template, locale,
                               subject, body_text, body_html, message_id, competition_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
        )
        SELECT id, pg_notify('outbox', '') FROM inserted
        """,
        idempotency_key,
        event_id,
        account_id,
        recipient,
        template,
        locale,
        subject,
        body_text,
        body_html,
        message_id,
        competition_id,
    )
    return email_id


async def get_email(conn: asyncpg.Connection, *, email_id: uuid.UUID) -> EmailRow | None:
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM email WHERE id = $1", email_id)
    return _row(record) if record else None


async def claim_for_sending(
    conn: asyncpg.Connection, *, email_id: uuid.UUID, lease_seconds: int
) -> EmailRow | None:
    """Take the mail for sending: queued ones, or ones whose sender vanished (lease expired)."""
    record = await conn.fetchrow(
        f"""
        UPDATE email SET status = 'sending', claimed_at = now(), attempts = attempts + 1
        WHERE id = $1
          AND (status = 'queued'
               OR (status = 'sending' AND claimed_at < now() - make_interval(secs => $2)))
        RETURNING {_COLUMNS}
        """,
        email_id,
        float(lease_seconds),
    )
    return _row(record) if record else None


async def mark_sent(conn: asyncpg.Connection, *, email_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE email SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1",
        email_id,
    )


async def mark_unsent(
    conn: asyncpg.Connection, *, email_id: uuid.UUID, error: str, permanent: bool
) -> None:
    await conn.execute(
        "UPDATE email SET status = $2, last_error = $3, claimed_at = NULL WHERE id = $1",
        email_id,
        "failed" if permanent else "queued",
        error[:4000],
    )


async def claim_undispatched(
    conn: asyncpg.Connection, *, limit: int, redispatch_after_seconds: int
) -> list[uuid.UUID]:
    rows = await conn.fetch(
        """
        SELECT id FROM email
        WHERE dispatched_at IS NULL
           OR (status IN ('queued', 'sending')
               AND dispatched_at < now() - make_interval(secs => $2))
        ORDER BY created_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """,
        limit,
        float(redispatch_after_seconds),
    )
    return [r["id"] for r in rows]


async def mark_dispatched(conn: asyncpg.Connection, *, email_ids: list[uuid.UUID]) -> None:
    await conn.execute(
        "UPDATE email SET dispatched_at = now() WHERE id = ANY($1::uuid[])", email_ids
    )


async def list_failed(conn: asyncpg.Connection, *, limit: int = 100) -> list[EmailRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM email WHERE status = 'failed' ORDER BY created_at DESC LIMIT $1",
        limit,
    )
    return [_row(r) for r in rows]


async def requeue_failed(conn: asyncpg.Connection, *, email_id: uuid.UUID | None = None) -> int:
    result: str = await conn.execute(
        """
        UPDATE email SET status = 'queued', attempts = 0, dispatched_at = NULL
        WHERE status = 'failed' AND ($1::uuid IS NULL OR id = $1)
        """,
        email_id,
    )
    return int(result.rsplit(maxsplit=1)[-1])


# The outbox as people read it ----------------------------------------------------------------


class MailItem(Row, frozen=True):
    id: uuid.UUID
    competition_title: dict[str, str] | None
    recipient: str
    template: str
    subject: str
    status: MailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class OutboxReader(Row, frozen=True):
    is_admin: bool
    organises: bool


async def outbox_reader(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> OutboxReader:
    """Whether the account administers the platform, and whether it organises any competition
    (read here from the account's own tables, so the outbox depends on no other domain)."""
    record = await conn.fetchrow(
        """SELECT a.is_admin, EXISTS (SELECT 1 FROM competition_organiser o
                                      WHERE o.account_id = a.id) AS organises
           FROM account a WHERE a.id = $1""",
        account_id,
    )
    return OutboxReader(**dict(record)) if record else OutboxReader(is_admin=False, organises=False)


# The mails a person may see in the outbox: every mail for a platform administrator ($1), else
# those of the competitions the account ($2) organises (mails about accounts and companies
# belong to no competition and stay with the administrators).
_VISIBLE_MAIL = """($1 OR m.competition_id IN (SELECT o.competition_id FROM competition_organiser o
                                               WHERE o.account_id = $2))"""


async def list_outbox(
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


async def count_outbox(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, everything: bool
) -> dict[str, int]:
    """Mails by status (every status named, zero when none)."""
    rows = await conn.fetch(
        f"""SELECT m.status, count(*)::int AS n FROM email m WHERE {_VISIBLE_MAIL}
            GROUP BY m.status""",
        everything,
        account_id,
    )
    counts = dict.fromkeys(("queued", "sending", "sent", "failed"), 0)
    counts.update({r["status"]: r["n"] for r in rows})
    return counts
