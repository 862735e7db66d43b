"""Competition endpoints: organisers write, everyone reads what is public."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post

from competition.auth import Conn, PrincipalDep, User
from competition.competitions import queries, schemas, service
from competition.concurrency import IfMatch, parse_if_match


class CompetitionController(Controller):
    path = "/competitions"
    tags = ["Wettbewerbe"]

    @post("/", status_code=201)
    async def create(
        self, data: schemas.CompetitionCreate, user: User, conn: Conn
    ) -> schemas.Competition:
        """Create a competition (organisers); the creator becomes its organiser."""
        competition_id = await service.create(conn, user, data)
        row, _ = await service.visible(conn, user, competition_id)
        return await service.to_response(conn, row, is_organiser=True)

    @get("/")
    async def list_competitions(
        self, principal: PrincipalDep, conn: Conn
    ) -> list[schemas.CompetitionSummary]:
        """Public competitions; organisers also see their drafts."""
        rows = await queries.list_visible(
            conn, account_id=principal.account_id if principal else None
        )
        return [service.summary(r) for r in rows]

    @get("/{id_or_slug:str}")
    async def read(
        self, id_or_slug: str, principal: PrincipalDep, conn: Conn
    ) -> schemas.Competition:
        """A competition with categories, criteria, phase and deadlines (Europe/Berlin)."""
        row, organiser = await service.visible(conn, principal, id_or_slug)
        return await service.to_response(conn, row, is_organiser=organiser)

    @patch("/{competition_id:uuid}")
    async def update(
        self,
        competition_id: uuid.UUID,
        data: schemas.CompetitionUpdate,
        user: User,
        conn: Conn,
        if_match: IfMatch = None,
    ) -> schemas.Competition:
        """Change a competition (organisers); its structure is frozen once open."""
        await service.update(conn, user, competition_id, data, if_match=parse_if_match(if_match))
        row, _ = await service.visible(conn, user, competition_id)
        return await service.to_response(conn, row, is_organiser=True)

    @post("/{competition_id:uuid}/phase", status_code=200)
    async def change_phase(
        self, competition_id: uuid.UUID, data: schemas.PhaseChange, user: User, conn: Conn
    ) -> schemas.Competition:
        """Move to another phase; illegal transitions answer 409."""
        await service.change_phase(conn, user, competition_id, data.to)
        row, _ = await service.visible(conn, user, competition_id)
        return await service.to_response(conn, row, is_organiser=True)
