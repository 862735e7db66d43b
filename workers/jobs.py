"""Job entry points. Thin: load by id, call domain code, translate failures into retries.

Events are processed in one transaction together with their effects and the `processed_at` mark,
so a second delivery of the same event finds it processed and does nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from arq import Retry

from competition.accounts import service as accounts
from competition.attachments import service as attachments
from competition.companies import service as companies
from competition.db import transaction
from competition.entries import service as entries
from competition.events import queries as event_queries
from competition.events.queries import EventRow
from competition.jury.conflicts import service as jury_conflicts
from competition.jury.invitations import service as jury_invitations
from competition.jury.runs import service as jury_runs
from competition.notifications import sender
from competition.results import service as results
from competition.services import Services

logger = logging.getLogger("competition.jobs")

Handler = Callable[[asyncpg.Connection, Services, EventRow], Awaitable[None]]

# What reacts to which event. Kinds without handlers (e.g. competition.phase_changed) are recorded
# and marked processed; they are the competition's history and hooks for later reactions.
HANDLERS: dict[str, tuple[Handler, ...]] = {
    "account.registered": (accounts.on_registered,),
    "account.registration_repeated": (accounts.on_registration_repeated,),
    "account.password_reset_requested": (accounts.on_password_reset_requested,),
    "company.member_added": (companies.on_member_added,),
    "company.member_invited": (companies.on_member_invited,),
    "entry.submitted": (entries.on_submitted,),
    "attachment.uploaded": (attachments.on_uploaded,),
    "juror.invited": (jury_invitations.on_invited,),
    "assignment_run.requested": (jury_runs.on_run_requested,),
    "assignments.deployed": (jury_runs.on_deployed,),
    "conflict.declared_late": (jury_conflicts.on_declared_late,),
    "assignment.recused": (jury_conflicts.on_recused,),
    "result_run.requested": (results.on_run_requested,),
    "competition.published": (results.on_published,),
}


def backoff(attempt: int) -> int:
    """Seconds before retry number `attempt` (1-based): 2, 4, 8 … capped at 5 minutes."""
    return int(min(2 ** max(attempt, 1), 300))


async def handle_event(ctx: dict[str, Any], job_arg: str) -> str:
    event_id = uuid.UUID(job_arg)
    services: Services = ctx["services"]
    pool, settings = services.pool, services.settings
    try:
        async with transaction(pool) as conn:
            event = await event_queries.lock_event(conn, event_id=event_id)
            if event is None or event.processed_at is not None or event.failed_at is not None:
                return "skipped"
            for handler in HANDLERS.get(event.kind, ()):
                await handler(conn, services, event)
            await event_queries.mark_processed(conn, event_id=event_id)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        async with transaction(pool) as conn:
            attempts, gave_up = await event_queries.record_failure(
                conn, event_id=event_id, error=error, max_attempts=settings.job_max_attempts
            )
        if gave_up:
            logger.error("event failed for good", extra={"event_id": str(event_id), "error": error})
            return "failed"
        logger.warning(
            "event failed, will retry", extra={"event_id": str(event_id), "error": error}
        )
        raise Retry(defer=backoff(attempts)) from exc
    return "processed"


async def send_email(ctx: dict[str, Any], email_id: str) -> str:
    services: Services = ctx["services"]
    settings = services.settings
    outcome = await sender.send_email(services.pool, settings, email_id=uuid.UUID(email_id))
    if outcome is sender.Outcome.RETRY:
        raise Retry(defer=backoff(ctx.get("job_try", 1)))
    if outcome is sender.Outcome.IN_FLIGHT:
        # Another sender holds the lease; look again once it would have expired.
        raise Retry(defer=settings.job_timeout_seconds)
    return str(outcome.value)
