"""Operator actions on accounts, used by the `competition` command."""

from __future__ import annotations

import uuid

from competition.accounts.service import ensure_account
from competition.config import Settings
from competition.db import create_pool, transaction


async def create_organiser(
    settings: Settings, *, email: str, name: str, password: str, admin: bool = False
) -> tuple[uuid.UUID, bool]:
    """An organiser account (may create competitions); `admin` also makes it a platform
    administrator, who sees the mail outbox of the whole platform."""
    if len(password) < 10:
        raise SystemExit("Das Passwort muss mindestens 10 Zeichen lang sein.")
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with transaction(pool) as conn:
            return await ensure_account(
                conn, email=email, name=name, password=password, organiser=True, admin=admin
            )
    finally:
        await pool.close()
