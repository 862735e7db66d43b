"""SQL of the event outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from competition.structs import Row


class EventRow(Row, frozen=True):
    id: uuid.UUID
    kind: str
    aggregate_id: uuid.UUID | None
    payload: dict[str, Any]
    created_at: datetime
    dispatched_at: datetime | None
    processed_at: datetime | None
    attempts: int
    last_error: str | None
    failed_at: datetime | None

    @property
    def subject(self) -> uuid.UUID:
        """The aggregate the event is about, for handlers of kinds always recorded with one."""
        if self.aggregate_id is None:
            raise EventWithoutSubject(f"{self.kind} event {self.id} names no aggregate")
        return self.aggregate_id


class EventWithoutSubject(Exception):
    """A handler got an event it cannot act on: a defect where the event was recorded. The job
    fails and the outbox keeps the event with its error, visible to operators."""


_COLUMNS = (
    "id, kind, aggregate_id, payload, created_at, dispatched_at, processed_at, attempts, "
    "last_error, failed_at"
)


def _row(record: asyncpg.Record) -> EventRow:
    return EventRow(**dict(record))


async def insert_event(
    conn: asyncpg.Connection, *, kind: str, aggregate_id: uuid.UUID | None, payload: dict[str, Any]
) -> uuid.UUID:
    event_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO event (kind, aggregate_id, payload) VALUES ($1, $2, $3) RETURNING id",
        kind,
        aggregate_id,
        payload,
    )
    # Delivered at commit only, so the relay never wakes for a rolled-back event.
    await conn.execute("SELECT pg_notify('outbox', '')")
    return event_id


async def lock_event(conn: asyncpg.Connection, *, event_id: uuid.UUID) -> EventRow | None:
    """Lock the event for processing; a concurrent delivery waits and then sees processed_at."""
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM event WHERE id = $1 FOR UPDATE", event_id)
    return _row(record) if record else None


async def claim_undispatched(
    conn: asyncpg.Connection, *, limit: int, redispatch_after_seconds: int
) -> list[uuid.UUID]:
    """Events never dispatched, plus dispatched ones whose job seems lost (e.g. Redis restarted
    without persistence). SKIP LOCKED lets several relays share the work."""
    rows = await conn.fetch(
        """
        SELECT id FROM event
        WHERE dispatched_at IS NULL
           OR (processed_at IS NULL AND failed_at IS NULL
               AND dispatched_at < now() - make_interval(secs => $2))
        ORDER BY created_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """,
        limit,
        float(redispatch_after_seconds),
    )
    return [r["id"] for r in rows]


async def mark_dispatched(conn: asyncpg.Connection, *, event_ids: list[uuid.UUID]) -> None:
    await conn.execute(
        "UPDATE event SET dispatched_at = now() WHERE id = ANY($1::uuid[])", event_ids
    )


async def mark_processed(conn: asyncpg.Connection, *, event_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE event SET processed_at = now(), last_error = NULL WHERE id = $1", event_id
    )


async def record_failure(
    conn: asyncpg.Connection, *, event_id: uuid.UUID, error: str, max_attempts: int
) -> tuple[int, bool]:
    """Count a failed attempt; after `max_attempts` the event is parked as failed.
    Returns (attempts, gave_up)."""
    record = await conn.fetchrow(
        """
        UPDATE event SET attempts = attempts + 1, last_error = $2,
               failed_at = CASE WHEN attempts + 1 >= $3 THEN now() END
        WHERE id = $1 RETURNING attempts, failed_at IS NOT NULL AS gave_up
        """,
        event_id,
        error[:4000],
        max_attempts,
    )
    return (record["attempts"], record["gave_up"]) if record else (0, True)


async def list_failed(conn: asyncpg.Connection, *, limit: int = 100) -> list[EventRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM event WHERE failed_at IS NOT NULL ORDER BY failed_at DESC "
        "LIMIT $1",
        limit,
    )
    return [_row(r) for r in rows]


async def requeue_failed(conn: asyncpg.Connection, *, event_id: uuid.UUID | None = None) -> int:
    result: str = await conn.execute(
        """
        UPDATE event SET failed_at = NULL, attempts = 0, dispatched_at = NULL
        WHERE failed_at IS NOT NULL AND ($1::uuid IS NULL OR id = $1)
        """,
        event_id,
    )
    return int(result.rsplit(maxsplit=1)[-1])
