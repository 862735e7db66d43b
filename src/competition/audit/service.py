"""The append-only, hash-chained audit log.

Writers insert rows unchained inside their own transaction (no lock, so concurrent writers never
queue behind each other). A sealer (the worker's periodic duty, and `competition audit verify`
before it checks) then chains committed rows in the order it sees them:
`hash = SHA-256(prev_hash || canonical JSON of the row)`, numbered by `seq`. A database trigger
refuses to change a sealed row or to delete any row; `verify` recomputes the whole chain and names
the first row whose content, hash or position does not match, so an edit by someone able to switch
the trigger off, or a deleted row, shows up as a broken link.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import asyncpg
import msgspec

from competition.audit import queries
from competition.audit.queries import AuditRow

GENESIS = "0" * 64
_SEAL_LOCK = 0x1D_2026_0002
_encoder = msgspec.json.Encoder(order="sorted")


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    rows_checked: int
    unsealed: int
    first_bad_id: int | None = None
    problem: str | None = None


def canonical(row: AuditRow) -> bytes:
    return _encoder.encode(
        {
            "id": row.id,
            "at": row.at.isoformat(),
            "actor_id": str(row.actor_id) if row.actor_id else None,
            "action": row.action,
            "competition_id": str(row.competition_id) if row.competition_id else None,
            "subject_type": row.subject_type,
            "subject_id": row.subject_id,
            "data": row.data,
        }
    )


def link_hash(prev_hash: str, row: AuditRow) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(row)).hexdigest()


async def record(
    conn: asyncpg.Connection,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: object,
    competition_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry, inside the transaction of the action it records."""
    await queries.insert(
        conn,
        actor_id=actor_id,
        action=action,
        competition_id=competition_id,
        subject_type=subject_type,
        subject_id=str(subject_id),
        # Through JSON once, so what is hashed later equals what PostgreSQL returns.
        data=msgspec.json.decode(msgspec.json.encode(data or {})),
    )


async def seal(conn: asyncpg.Connection, *, batch: int = 5000) -> int:
    """Chain the committed, unsealed rows; returns how many were sealed. Call in a transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _SEAL_LOCK)
    head = await queries.chain_head(conn)
    seq, prev = head if head else (0, GENESIS)
    links = []
    for row in await queries.unsealed(conn, limit=batch):
        seq += 1
        digest = link_hash(prev, row)
        links.append((row.id, seq, prev, digest))
        prev = digest
    if links:
        await queries.set_links(conn, links=links)
    return len(links)


async def verify(conn: asyncpg.Connection) -> VerifyReport:
    """Recompute the chain over one consistent snapshot."""
    if conn.is_in_transaction():
        return await _verify(conn)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _verify(conn)


async def _verify(conn: asyncpg.Connection) -> VerifyReport:
    prev = GENESIS
    checked = 0
    async for row in queries.sealed_in_order(conn):
        checked += 1
        problem = None
        if row.seq != checked:
            problem = f"Eintrag Nr. {checked} der Kette fehlt (gelöscht?)"
        elif row.prev_hash != prev:
            problem = "prev_hash verweist nicht auf den vorigen Eintrag"
        elif row.hash != link_hash(prev, row):
            problem = "Inhalt passt nicht zum Hash (verändert?)"
        if problem or row.hash is None:
            return VerifyReport(
                ok=False,
                rows_checked=checked,
                unsealed=0,
                first_bad_id=row.id,
                problem=problem or "Hash fehlt",
            )
        prev = row.hash
    unsealed = await queries.count_unsealed(conn)
    return VerifyReport(ok=True, rows_checked=checked, unsealed=unsealed)
