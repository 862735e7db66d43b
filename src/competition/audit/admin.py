"""`competition audit verify`."""

from __future__ import annotations

from competition.audit import service
from competition.config import Settings
from competition.db import create_pool, transaction


async def verify_chain(settings: Settings) -> tuple[bool, str]:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with transaction(pool) as conn:
            await service.seal(conn)
        async with transaction(pool) as conn:
            report = await service.verify(conn)
    finally:
        await pool.close()
    if report.ok:
        return True, f"Audit-Log in Ordnung: {report.rows_checked} Einträge geprüft."
    return False, (
        f"Audit-Log BESCHÄDIGT bei Eintrag id={report.first_bad_id}: {report.problem} "
        f"({report.rows_checked} Einträge bis dahin geprüft)."
    )
