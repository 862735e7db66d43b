"""Reads behind the overview pages: the competitions a person may see, those they organise with
their entry counts, and a competition's audit log for its organisers.

Each read checks who asks before it loads anything. They live apart from `competitions.service`,
whose business is setting competitions up and moving them through their phases.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from competition.audit import queries as audit_queries
from competition.audit.queries import AuditRow
from competition.auth import Principal
from competition.competitions import queries as competition_queries
from competition.competitions import schemas, service
from competition.competitions.overview import queries
from competition.competitions.overview.queries import OrganisedCompetition


async def visible(
    conn: asyncpg.Connection, principal: Principal | None
) -> list[schemas.CompetitionSummary]:
    """Every competition past its draft, and the drafts the caller organises; newest deadline
    first."""
    account_id = principal.account_id if principal else None
    rows = await competition_queries.list_visible(conn, account_id=account_id)
    return [service.summary(r) for r in rows]


async def organised(conn: asyncpg.Connection, principal: Principal) -> list[OrganisedCompetition]:
    """The competitions the caller's account organises (none for everyone else)."""
    return await queries.organised_competitions(conn, account_id=principal.account_id)


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[AuditRow]
    actors: dict[uuid.UUID, str]  # who acted, by account; an unknown account by its id


async def audit_log(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
) -> AuditPage:
    """The competition's audit log, newest first, for its organisers."""
    await service.require_organiser(conn, principal, competition_id)
    rows = await audit_queries.list_for_competition(
        conn, competition_id=competition_id, limit=limit, offset=offset
    )
    ids = sorted({r.actor_id for r in rows if r.actor_id is not None})
    names = await queries.account_names(conn, account_ids=ids)
    return AuditPage(rows=rows, actors={i: names.get(i, str(i)) for i in ids})
