"""The audit log: append-only by trigger, hash-chained, and `competition audit verify` names the
first row that was edited or deleted."""

from __future__ import annotations

import asyncpg
import pytest

from competition.audit import service as audit
from competition.config import Settings
from competition.db import transaction
from tests.conftest import run_cli


async def write(pool: asyncpg.Pool, n: int) -> None:
    async with transaction(pool) as conn:
        for i in range(n):
            await audit.record(
                conn,
                actor_id=None,
                action="test.action",
                subject_type="thing",
                subject_id=i,
                data={"i": i, "text": "Größe"},
            )


async def test_seal_chains_rows_and_verify_accepts_them(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    await write(pool, 3)
    async with transaction(pool) as conn:
        assert await audit.seal(conn) == 3
        assert await audit.seal(conn) == 0
    await write(pool, 2)
    async with transaction(pool) as conn:
        assert await audit.seal(conn) == 2
        report = await audit.verify(conn)
    assert (report.ok, report.rows_checked, report.unsealed) == (True, 5, 0)
    code, out = run_cli(settings, "audit", "verify")
    assert (code, out.strip()) == (0, "Audit-Log in Ordnung: 5 Einträge geprüft.")


async def test_trigger_refuses_edits_and_deletes(pool: asyncpg.Pool) -> None:
    await write(pool, 1)
    async with transaction(pool) as conn:
        await audit.seal(conn)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="audit_log rows cannot be changed"):
            await conn.execute("UPDATE audit_log SET action = 'x'")
        with pytest.raises(asyncpg.RaiseError, match="audit_log is append-only"):
            await conn.execute("DELETE FROM audit_log")


async def test_verify_names_an_edited_row(pool: asyncpg.Pool, settings: Settings) -> None:
    await write(pool, 4)
    async with transaction(pool) as conn:
        await audit.seal(conn)
        target = await conn.fetchval("SELECT id FROM audit_log WHERE seq = 3")
        # Someone with database rights switches the guard off and edits a row.
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("UPDATE audit_log SET data = '{\"i\": 99}'::jsonb WHERE id = $1", target)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    code, out = run_cli(settings, "audit", "verify")
    assert code == 1
    assert out.strip() == (
        f"Audit-Log BESCHÄDIGT bei Eintrag id={target}: Inhalt passt nicht zum Hash "
        "(verändert?) (3 Einträge bis dahin geprüft)."
    )


async def test_verify_names_the_row_after_a_deleted_one(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    await write(pool, 4)
    async with transaction(pool) as conn:
        await audit.seal(conn)
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("DELETE FROM audit_log WHERE seq = 2")
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        after = await conn.fetchval("SELECT id FROM audit_log WHERE seq = 3")
    code, out = run_cli(settings, "audit", "verify")
    assert code == 1
    assert out.strip() == (
        f"Audit-Log BESCHÄDIGT bei Eintrag id={after}: Eintrag Nr. 2 der Kette fehlt (gelöscht?) "
        "(2 Einträge bis dahin geprüft)."
    )
