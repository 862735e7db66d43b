"""Recording domain events into the outbox.

Call `record` inside the transaction of the state change: the event exists exactly when the change
does. The worker's relay delivers it to the job queue; handlers are idempotent.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from competition.events import queries


async def record(
    conn: asyncpg.Connection,
    kind: str,
    *,
    aggregate_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
) -> uuid.UUID:
    return await queries.insert_event(
        conn, kind=kind, aggregate_id=aggregate_id, payload=payload or {}
    )
