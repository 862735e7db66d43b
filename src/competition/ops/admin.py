"""Operator views of the outboxes: what failed for good, and putting it back in the queue."""

from __future__ import annotations

from competition.config import Settings
from competition.db import create_pool, transaction
from competition.events import queries as event_queries
from competition.notifications import queries as mail_queries


async def failed_jobs_report(settings: Settings) -> tuple[str, int]:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with transaction(pool) as conn:
            events = await event_queries.list_failed(conn)
            mails = await mail_queries.list_failed(conn)
    finally:
        await pool.close()
    lines = [f"Fehlgeschlagene Ereignisse: {len(events)}"]
    lines += [
        f"  event {e.id} {e.kind} attempts={e.attempts} failed_at={e.failed_at:%Y-%m-%d %H:%M:%S} "
        f"error={e.last_error}"
        for e in events
        if e.failed_at
    ]
    lines.append(f"Fehlgeschlagene E-Mails: {len(mails)}")
    lines += [
        f"  email {m.id} {m.template} an {m.recipient} attempts={m.attempts} error={m.last_error}"
        for m in mails
    ]
    return "\n".join(lines), len(events) + len(mails)


async def retry_failed(settings: Settings) -> tuple[int, int]:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with transaction(pool) as conn:
            return (
                await event_queries.requeue_failed(conn),
                await mail_queries.requeue_failed(conn),
            )
    finally:
        await pool.close()
