"""The asyncpg pool and the forward-only migration runner.

Migrations are plain SQL files `NNNN_name.sql` applied in order, each in its own transaction, under
a PostgreSQL advisory lock so that replicas starting at the same moment apply every file once.
A changed file that was already applied is an error: migrations are forward-only.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import asyncpg

logger = logging.getLogger(__name__)

Pool = asyncpg.Pool
Connection = asyncpg.Connection

# The repository keeps migrations at the top level; a built wheel carries them inside the package.
_HERE = Path(__file__).resolve().parent
MIGRATIONS_DIR = next(
    (d for d in (_HERE.parents[1] / "migrations", _HERE / "migrations") if d.is_dir()),
    _HERE / "migrations",
)
# A fixed application-wide key for pg_advisory_lock; any constant unique to this app will do.
_MIGRATION_LOCK_KEY = 0x1D_2026_0001


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL).

    Pooled connections carry no session state here: transactions end before release (asyncpg
    rolls back one left open, without this hook), advisory locks are transaction-scoped
    (`pg_advisory_xact_lock`), cursors live inside transactions, settings are passed at connect
    or with SET LOCAL, and LISTEN and the migration lock use connections of their own. Skipping
    the reset saves a round trip on every request and job (a tenth of the database work per
    score save in the jury-burst benchmark, two per mail sent). Code that needs session state
    takes a connection of its own, as the relay does.
    """


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=60,
        server_settings={"timezone": "UTC", "application_name": "competition"},
    )
    assert pool is not None
    return pool


async def one_row(conn: asyncpg.Connection, query: str, *args: Any) -> asyncpg.Record:
    """The row of a statement that always yields exactly one: `INSERT … RETURNING` without
    `ON CONFLICT`, an aggregate without `GROUP BY`. asyncpg types every `fetchrow` as possibly
    empty; this says once, and checks, that these are not."""
    record = await conn.fetchrow(query, *args)
    if record is None:
        raise RuntimeError("a statement that always returns a row returned none")
    return record


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One unit of work: commits when the block ends, rolls back when it raises."""
    async with pool.acquire() as conn, conn.transaction():
        yield cast(asyncpg.Connection, conn)  # the pool's proxy forwards every method


@asynccontextmanager
async def connection(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection without a transaction block: every statement commits on its own.
    For units of work that are one statement, it saves the BEGIN and COMMIT round trips."""
    async with pool.acquire() as conn:
        yield cast(asyncpg.Connection, conn)


def migration_files(directory: Path | None = None) -> list[Path]:
    directory = directory or MIGRATIONS_DIR
    return sorted(p for p in directory.glob("*.sql") if p.name[:4].isdigit())


class MigrationError(RuntimeError):
    pass


async def migrate(dsn: str, *, directory: Path | None = None) -> list[str]:
    """Apply pending migrations; returns the names applied by this call."""
    applied_now: list[str] = []
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migration (
                       name text PRIMARY KEY,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {
                r["name"]: r["checksum"]
                for r in await conn.fetch("SELECT name, checksum FROM schema_migration")
            }
            for path in migration_files(directory):
                sql = path.read_text(encoding="utf-8")
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if path.name in done:
                    if done[path.name] != checksum:
                        raise MigrationError(f"{path.name} changed after it was applied")
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migration (name, checksum) VALUES ($1, $2)",
                        path.name,
                        checksum,
                    )
                logger.info("migration applied", extra={"migration": path.name})
                applied_now.append(path.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_KEY)
    finally:
        await conn.close()
    return applied_now
