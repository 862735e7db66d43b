"""`competition results verify RUN_ID`."""

from __future__ import annotations

import uuid

from competition.config import Settings
from competition.db import create_pool, transaction
from competition.errors import NotFound
from competition.results import service


async def verify(settings: Settings, *, run_id: str) -> tuple[bool, str]:
    try:
        run = uuid.UUID(run_id)
    except ValueError:
        return False, f"Keine gültige Id: {run_id}"
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with transaction(pool) as conn:
            result = await service.verify_run(conn, run_id=run)
    except NotFound as exc:
        return False, exc.detail
    finally:
        await pool.close()
    if result.matches:
        return True, f"Ergebnislauf {run} stimmt überein (SHA-256 {result.recomputed_hash})."
    return False, (
        f"Ergebnislauf {run} stimmt NICHT mehr überein: gespeichert {result.stored_hash}, "
        f"neu berechnet {result.recomputed_hash}."
    )
