"""The outbox relay: moves committed events and queued mails from PostgreSQL into the job queue.

Claims rows with FOR UPDATE SKIP LOCKED (several workers can relay at once), enqueues one job per
row with the row id as job id, and marks the rows dispatched in the same transaction. A crash or a
Redis outage between enqueue and commit leads to a second enqueue, which arq ignores (same job id)
or the idempotent job absorbs. LISTEN/NOTIFY wakes the relay right after a commit; polling is the
fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from arq.connections import ArqRedis

from competition import queue
from competition.config import Settings
from competition.db import transaction
from competition.events import queries as event_queries
from competition.notifications import queries as mail_queries

logger = logging.getLogger("competition.relay")


def event_job_id(event_id: object) -> str:
    return f"event:{event_id}"


def email_job_id(email_id: object) -> str:
    return f"email:{email_id}"


async def relay_once(pool: asyncpg.Pool, arq: ArqRedis, settings: Settings) -> int:
    """Dispatch one batch of events and one of mails; returns how many rows were dispatched."""
    count = 0
    async with transaction(pool) as conn:
        event_ids = await event_queries.claim_undispatched(
            conn,
            limit=settings.relay_batch,
            redispatch_after_seconds=settings.redispatch_after_seconds,
        )
        for event_id in event_ids:
            await queue.enqueue(arq, "handle_event", str(event_id), job_id=event_job_id(event_id))
        if event_ids:
            await event_queries.mark_dispatched(conn, event_ids=event_ids)
        count += len(event_ids)
    async with transaction(pool) as conn:
        email_ids = await mail_queries.claim_undispatched(
            conn,
            limit=settings.relay_batch,
            redispatch_after_seconds=settings.redispatch_after_seconds,
        )
        for email_id in email_ids:
            await queue.enqueue(arq, "send_email", str(email_id), job_id=email_job_id(email_id))
        if email_ids:
            await mail_queries.mark_dispatched(conn, email_ids=email_ids)
        count += len(email_ids)
    return count


async def run_relay(pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event) -> None:
    """Relay until `stop` is set, surviving outages of Redis and PostgreSQL."""
    wake = asyncio.Event()
    listener: asyncpg.Connection | None = None
    arq: ArqRedis | None = None
    failures = 0

    def notified(*_: object) -> None:
        wake.set()

    while not stop.is_set():
        try:
            if listener is None or listener.is_closed():
                listener = await asyncpg.connect(settings.database_url)
                await listener.add_listener("outbox", notified)
            if arq is None:
                arq = await queue.connect(settings.redis_url)
            while await relay_once(pool, arq, settings) >= settings.relay_batch:
                pass  # a full batch: more is waiting
            if failures:
                logger.info("relay recovered", extra={"after_failures": failures})
            failures = 0
        except Exception as exc:  # any outage: log, back off, reconnect
            failures += 1
            logger.warning(
                "relay cannot dispatch yet",
                extra={"error": f"{type(exc).__name__}: {exc}", "failures": failures},
            )
            if arq is not None:
                await arq.aclose()
                arq = None
            if listener is not None and not listener.is_closed():
                await listener.close()
            listener = None
        wake.clear()
        delay = settings.relay_poll_seconds * min(2**failures, 10) if failures else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), delay or settings.relay_poll_seconds)
    if listener is not None and not listener.is_closed():
        await listener.close()
    if arq is not None:
        await arq.aclose()
