"""Results endpoints: runs, winners, publication, export and the public winners page."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.params import Parameter

from competition.auth import Conn, User
from competition.results import schemas, service


class ResultsController(Controller):
    path = "/competitions/{competition_id:uuid}"
    tags = ["Ergebnisse"]

    @post("/result-runs", status_code=202)
    async def create_run(
        self, competition_id: uuid.UUID, data: schemas.RunCreate, user: User, conn: Conn
    ) -> schemas.RunCreated:
        """Compute a ranking in the worker ("zscore" or "raw"); poll the run for it."""
        run_id = await service.create_run(conn, user, competition_id, data.method)
        return schemas.RunCreated(id=run_id, status="queued")

    @get("/result-runs/{run_id:uuid}")
    async def run(
        self, competition_id: uuid.UUID, run_id: uuid.UUID, user: User, conn: Conn
    ) -> schemas.Run:
        """Rankings per category with figures, flags, reliability and the snapshot hash."""
        return await service.get_run(conn, user, competition_id, run_id)

    @put("/winners")
    async def set_winners(
        self, competition_id: uuid.UUID, data: schemas.WinnersIn, user: User, conn: Conn
    ) -> schemas.Winners:
        """Choose the winners; a pick against the ranking needs a written justification."""
        return await service.set_winners(conn, user, competition_id, data)

    @get("/winners")
    async def winners(self, competition_id: uuid.UUID, user: User, conn: Conn) -> schemas.Winners:
        """The chosen winners (organisers)."""
        return await service.winners(conn, user, competition_id)

    @post("/publish", status_code=202)
    async def publish(
        self, competition_id: uuid.UUID, user: User, conn: Conn
    ) -> schemas.Publishing:
        """Freeze the run, publish the winners, send the announcements."""
        return await service.publish(conn, user, competition_id)

    @get("/export.csv", media_type="text/csv")
    async def export(
        self,
        competition_id: uuid.UUID,
        user: User,
        conn: Conn,
        sep: Annotated[
            str, Parameter(pattern=r"^[;,]$", description="; (German Excel) or ,")
        ] = ";",
    ) -> Response[bytes]:
        """Entries with results as CSV for Excel (UTF-8 with BOM, formulas neutralised)."""
        body = await service.export_csv(conn, user, competition_id, separator=sep)
        return Response(
            body,
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="ergebnisse.csv"'},
        )


@get("/public/competitions/{slug:str}/winners", tags=["Öffentlich"])
async def public_winners(slug: str, conn: Conn) -> schemas.PublicWinners:
    """The published winners by category; nothing before publication."""
    return await service.public_winners(conn, slug=slug)
