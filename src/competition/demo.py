"""Demo data for a local installation: accounts to log in with, printed to the console."""

from __future__ import annotations

from competition.accounts.admin import ensure_account
from competition.config import Settings
from competition.db import create_pool, transaction

DEMO_PASSWORD = "demo-passwort-2026"  # noqa: S105 - demo logins of a local installation only

DEMO_ACCOUNTS = (
    ("organisation@demo.industrie-neu-denken.de", "Olivia Organisatorin", True),
    ("entrant@demo.industrie-neu-denken.de", "Erik Einreicher", False),
    ("jury1@demo.industrie-neu-denken.de", "Jana Jurorin", False),
    ("jury2@demo.industrie-neu-denken.de", "Jonas Juror", False),
)


async def seed(settings: Settings) -> str:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with transaction(pool) as conn:
            for email, name, organiser in DEMO_ACCOUNTS:
                await ensure_account(
                    conn, email=email, name=name, password=DEMO_PASSWORD, organiser=organiser
                )
    finally:
        await pool.close()
    lines = ["Demo-Zugänge (Passwort für alle: " + DEMO_PASSWORD + "):"]
    lines += [
        f"  {email:45} {name}{' (Organisation)' if organiser else ''}"
        for email, name, organiser in DEMO_ACCOUNTS
    ]
    return "\n".join(lines)
