"""Jury endpoints of conflicts of interest: declarations, recorded conflicts, recusal."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.params import Parameter

from competition.auth import Conn, User
from competition.jury.conflicts import schemas, service
from competition.vocabulary import DeclarationStatus


class ConflictController(Controller):
    path = "/competitions/{competition_id:uuid}"
    tags = ["Jury"]

    @get("/conflicts/me")
    async def my_conflicts(
        self, competition_id: uuid.UUID, user: User, conn: Conn
    ) -> schemas.MyConflictsOut:
        """The juror's declared conflicts of interest."""
        return await service.my_conflicts(conn, user, competition_id)

    @put("/conflicts/me")
    async def put_my_conflicts(
        self, competition_id: uuid.UUID, data: schemas.MyConflicts, user: User, conn: Conn
    ) -> schemas.MyConflictsOut:
        """Declare conflicts and confirm the declaration complete (needed before any entry).
        Names are kept as typed; after deployment new ones wait for the organisers."""
        return await service.put_my_conflicts(conn, user, competition_id, data)

    @post("/conflicts", status_code=201)
    async def record_conflict(
        self, competition_id: uuid.UUID, data: schemas.OrganiserConflict, user: User, conn: Conn
    ) -> Response[None]:
        """Record a conflict for a juror (organisers)."""
        await service.record_conflict(conn, user, competition_id, data)
        return Response(None, status_code=201)

    @delete("/conflicts/{conflict_id:uuid}", status_code=204)
    async def remove_conflict(
        self, competition_id: uuid.UUID, conflict_id: uuid.UUID, user: User, conn: Conn
    ) -> None:
        """Remove a conflict an organiser recorded (audited); jurors' own declarations change
        only when they declare again (organisers)."""
        await service.remove_conflict(conn, user, competition_id, conflict_id)

    @get("/conflict-declarations")
    async def declarations(
        self,
        competition_id: uuid.UUID,
        user: User,
        conn: Conn,
        status: Annotated[list[DeclarationStatus] | None, Parameter(query="status")] = None,
    ) -> list[schemas.DeclarationOut]:
        """Jurors' declarations as typed, with matches and, for open ones, candidate companies
        (organisers). Open ones block deploying an assignment."""
        return await service.declarations(
            conn, user, competition_id, list(status) if status else None
        )

    @post("/conflict-declarations/{declaration_id:uuid}/decision", status_code=200)
    async def decide(
        self,
        competition_id: uuid.UUID,
        declaration_id: uuid.UUID,
        data: schemas.DeclarationDecision,
        user: User,
        conn: Conn,
    ) -> dict[str, str]:
        """Link an open declaration to the companies it means, or dismiss it (organisers)."""
        await service.decide(conn, user, competition_id, declaration_id, data)
        return {"status": "resolved" if data.company_ids else "dismissed"}


@post("/assignments/{assignment_id:uuid}/recuse", status_code=200, tags=["Jury"])
async def recuse(
    assignment_id: uuid.UUID, data: schemas.Recusal, user: User, conn: Conn
) -> schemas.Recused:
    """Recuse from this entry, with a reason: the assignment is withdrawn and the
    organisers are told, to reassign it by an incremental run."""
    return await service.recuse(conn, user, assignment_id, data)
