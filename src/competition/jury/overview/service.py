"""Jury reads behind overview pages: whether a person sits on any jury and where, with their
progress; for organisers, a competition's assignment runs and the companies with entries in it
(to record conflicts against).

Each read checks who asks before it loads anything: a person reads only their own memberships,
a competition's runs and companies only its organisers.
"""

from __future__ import annotations

import uuid

import asyncpg

from competition.accounts import queries as account_queries
from competition.auth import Principal
from competition.competitions import service as competitions
from competition.jury import queries as jury_queries
from competition.jury.overview import queries
from competition.jury.overview.queries import JuryMembership, RunListItem


async def is_juror(conn: asyncpg.Connection, principal: Principal) -> bool:
    """Whether the caller sits on any jury now (the layout offers the jury pages then)."""
    return await account_queries.holds_jury_seat(conn, account_id=principal.account_id)


async def memberships(conn: asyncpg.Connection, principal: Principal) -> list[JuryMembership]:
    """The caller's own active jury memberships with their progress."""
    return await queries.memberships(conn, account_id=principal.account_id)


async def list_runs(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, *, limit: int = 20
) -> list[RunListItem]:
    """The competition's latest assignment runs, for its organisers."""
    await competitions.require_organiser(conn, principal, competition_id)
    return await queries.list_runs(conn, competition_id=competition_id, limit=limit)


async def participating_companies(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of the companies with entries in the competition, for its organisers."""
    await competitions.require_organiser(conn, principal, competition_id)
    companies = await jury_queries.participating_companies(conn, competition_id=competition_id)
    return [(company_id, name) for company_id, name, _, _ in companies]
