"""Jury endpoints of assignment runs: start one, read its report and proposal, deploy it."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post

from competition.auth import Conn, User
from competition.jury.runs import schemas, service


class RunController(Controller):
    path = "/competitions/{competition_id:uuid}"
    tags = ["Jury"]

    @post("/assignment-runs", status_code=202)
    async def create_run(
        self, competition_id: uuid.UUID, data: schemas.RunCreate, user: User, conn: Conn
    ) -> schemas.RunCreated:
        """Start an assignment run in the worker; poll it for the report and the proposal."""
        run_id = await service.create_run(conn, user, competition_id, data)
        return schemas.RunCreated(id=run_id, status="queued")

    @get("/assignment-runs/{run_id:uuid}")
    async def run(
        self, competition_id: uuid.UUID, run_id: uuid.UUID, user: User, conn: Conn
    ) -> schemas.Run:
        """Status, feasibility report, statistics and the proposed assignments."""
        return await service.get_run(conn, user, competition_id, run_id)

    @post("/assignment-runs/{run_id:uuid}/deploy", status_code=200)
    async def deploy(
        self, competition_id: uuid.UUID, run_id: uuid.UUID, user: User, conn: Conn
    ) -> schemas.Deployed:
        """Create the proposed assignments; each juror with new ones gets one mail."""
        return await service.deploy(conn, user, competition_id, run_id)
