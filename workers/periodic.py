"""Work the clock triggers, run by every worker every `tick_seconds`. Each duty is safe to run in
several workers at once (row locks with SKIP LOCKED, advisory locks, unique keys), and each runs
in its own transaction so one failing duty does not hold back the others.

- phase transitions due by time (scheduled openings, deadlines), on the database clock;
- deadline reminders for drafts, 72 h and 24 h before the deadline, each once;
- removal of objects of rejected and deleted attachments and of uploads never completed, once
  their upload URL has expired, and of upload objects of verified attachments (their copy stays);
- copying attachments verified before verified bytes had a key of their own;
- sealing the audit log into its hash chain;
- retention: blanking old mail contents, deleting accounts never confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from competition.attachments import service as attachments
from competition.audit import service as audit
from competition.competitions import service as competitions
from competition.db import transaction
from competition.entries import service as entries
from competition.privacy import service as privacy
from competition.services import Services

logger = logging.getLogger("competition.periodic")

Duty = Callable[[asyncpg.Connection, Services], Awaitable[int]]


async def _transitions(conn: asyncpg.Connection, _: Services) -> int:
    return await competitions.apply_due_transitions(conn)


async def _reminders(conn: asyncpg.Connection, services: Services) -> int:
    return await entries.queue_deadline_reminders(conn, services.settings)


async def _attachments(conn: asyncpg.Connection, services: Services) -> int:
    return await attachments.clean_up(conn, services.storage)


async def _attachment_copies(conn: asyncpg.Connection, services: Services) -> int:
    return await attachments.copy_verified_before_copies(conn, services.storage)


async def _audit(conn: asyncpg.Connection, _: Services) -> int:
    return await audit.seal(conn)


async def _retention(conn: asyncpg.Connection, services: Services) -> int:
    return await privacy.apply_retention(conn, services.settings)


DUTIES: dict[str, Duty] = {
    "phase_transitions": _transitions,
    "deadline_reminders": _reminders,
    "attachment_cleanup": _attachments,
    "attachment_copies": _attachment_copies,
    "audit_seal": _audit,
    "retention": _retention,
}


async def tick(services: Services) -> dict[str, int]:
    done: dict[str, int] = {}
    for name, duty in DUTIES.items():
        try:
            async with transaction(services.pool) as conn:
                done[name] = await duty(conn, services)
        except Exception as exc:  # one duty's outage must not stop the others
            logger.warning("periodic duty failed", extra={"duty": name, "error": repr(exc)})
            done[name] = -1
    return done


async def run_periodic(services: Services, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await tick(services)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), services.settings.tick_seconds)
