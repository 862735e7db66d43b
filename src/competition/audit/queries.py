"""SQL of the audit log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg

from competition.structs import Row


class AuditRow(Row, frozen=True):
    id: int
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    competition_id: uuid.UUID | None
    subject_type: str
    subject_id: str
    data: dict[str, Any]
    seq: int | None
    prev_hash: str | None
    hash: str | None


_COLUMNS = (
    "id, at, actor_id, action, competition_id, subject_type, subject_id, data, seq, prev_hash, hash"
)


async def insert(
    conn: asyncpg.Connection,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    competition_id: uuid.UUID | None,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any],
) -> None:
    await conn.execute(
        """INSERT INTO audit_log (actor_id, action, competition_id, subject_type, subject_id, data)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        actor_id,
        action,
        competition_id,
        subject_type,
        subject_id,
        data,
    )


async def chain_head(conn: asyncpg.Connection) -> tuple[int, str] | None:
    record = await conn.fetchrow(
        "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
    )
    return (record["seq"], record["hash"]) if record else None


async def unsealed(conn: asyncpg.Connection, *, limit: int) -> list[AuditRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT $1", limit
    )
    return [AuditRow(**dict(r)) for r in rows]


async def set_links(conn: asyncpg.Connection, *, links: list[tuple[int, int, str, str]]) -> None:
    """(id, seq, prev_hash, hash) per row."""
    await conn.executemany(
        "UPDATE audit_log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1", links
    )


async def sealed_in_order(conn: asyncpg.Connection) -> AsyncIterator[AuditRow]:
    """Every sealed row by seq; call inside a transaction (a server-side cursor)."""
    async for record in conn.cursor(
        f"SELECT {_COLUMNS} FROM audit_log WHERE seq IS NOT NULL ORDER BY seq", prefetch=2000
    ):
        yield AuditRow(**dict(record))


async def count_unsealed(conn: asyncpg.Connection) -> int:
    n: int = await conn.fetchval("SELECT count(*) FROM audit_log WHERE seq IS NULL")
    return n


async def list_for_competition(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, limit: int, offset: int
) -> list[AuditRow]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM audit_log WHERE competition_id = $1
            ORDER BY id DESC LIMIT $2 OFFSET $3""",
        competition_id,
        limit,
        offset,
    )
    return [AuditRow(**dict(r)) for r in rows]
