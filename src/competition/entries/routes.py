"""Entry endpoints: company members write, organisers of the competition read."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import Parameter

from competition.auth import Conn, User
from competition.competitions import service as competitions
from competition.concurrency import IfMatch, parse_if_match
from competition.entries import queries, schemas, service
from competition.errors import Conflict
from competition.localization import berlin


class EntryController(Controller):
    path = "/entries"
    tags = ["Beiträge"]

    @get("/{entry_id:uuid}")
    async def read(self, entry_id: uuid.UUID, user: User, conn: Conn) -> schemas.Entry:
        """An entry with its attachments (company members and the competition's organisers)."""
        entry, _ = await service.access(conn, user, entry_id)
        return await service.to_response(conn, entry)

    @patch("/{entry_id:uuid}")
    async def update(
        self,
        entry_id: uuid.UUID,
        data: schemas.EntryUpdate,
        user: User,
        conn: Conn,
        if_match: IfMatch = None,
    ) -> schemas.Entry:
        """Edit a draft or submitted entry before the deadline; `If-Match` with the version."""
        await service.update(conn, user, entry_id, data, if_match=parse_if_match(if_match))
        entry, _ = await service.access(conn, user, entry_id)
        return await service.to_response(conn, entry)

    @post("/{entry_id:uuid}/submit", status_code=200)
    async def submit(self, entry_id: uuid.UUID, user: User, conn: Conn) -> schemas.Submitted:
        """Submit; 409 after the deadline or when the company is not eligible. Every member
        receives a confirmation mail."""
        await service.submit(conn, user, entry_id)
        entry, _ = await service.access(conn, user, entry_id)
        if entry.submitted_at is None:  # submit() has set it under the entry's lock
            raise Conflict("entry.not_submitted", code="not_submitted")
        return schemas.Submitted(
            id=entry.id,
            status=entry.status,
            submitted_at=berlin(entry.submitted_at),
            version=entry.version,
        )

    @post("/{entry_id:uuid}/withdraw", status_code=200)
    async def withdraw(
        self,
        entry_id: uuid.UUID,
        user: User,
        conn: Conn,
        data: schemas.Withdrawal | None = None,
    ) -> schemas.Withdrawn:
        """Withdraw the entry; after the submission deadline with a `reason`, which goes into
        the competition's audit log."""
        await service.withdraw(conn, user, entry_id, reason=data.reason if data else None)
        entry, _ = await service.access(conn, user, entry_id)
        return schemas.Withdrawn(id=entry.id, status=entry.status, version=entry.version)


@post("/competitions/{competition_id:uuid}/entries", status_code=201, tags=["Beiträge"])
async def create_entry(
    competition_id: uuid.UUID, data: schemas.EntryCreate, user: User, conn: Conn
) -> schemas.Entry:
    """Draft an entry for one of the caller's companies while submissions are open."""
    entry_id = await service.create(conn, user, competition_id, data)
    entry, _ = await service.access(conn, user, entry_id)
    return await service.to_response(conn, entry)


@get("/me/entries", tags=["Beiträge"])
async def my_entries(user: User, conn: Conn) -> list[schemas.EntrySummary]:
    """The entries of the caller's companies."""
    return [
        service.summary(e) for e in await queries.list_for_account(conn, account_id=user.account_id)
    ]


@get("/competitions/{competition_id:uuid}/entries", tags=["Beiträge"])
async def competition_entries(
    competition_id: uuid.UUID,
    user: User,
    conn: Conn,
    category: str | None = None,
    status: Annotated[
        str | None, Parameter(pattern=r"^(draft|submitted|withdrawn|disqualified)$")
    ] = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
) -> list[schemas.EntrySummary]:
    """All entries of a competition (organisers), filtered by category and status."""
    await competitions.require_organiser(conn, user, competition_id)
    rows = await queries.list_for_competition(
        conn,
        competition_id=competition_id,
        category=category,
        status=status,
        limit=limit,
        offset=offset,
    )
    return [service.summary(e) for e in rows]
