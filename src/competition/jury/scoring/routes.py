"""Jury endpoints of scoring: the juror's assignments and score sheets, reminders."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import Parameter

from competition.auth import Conn, ServicesDep, User
from competition.concurrency import IfMatch, parse_if_match
from competition.jury.scoring import schemas, service


class AssignmentController(Controller):
    path = "/assignments"
    tags = ["Jury"]

    @get("/{assignment_id:uuid}")
    async def read(
        self, assignment_id: uuid.UUID, user: User, conn: Conn
    ) -> schemas.AssignmentDetail:
        """The entry as the juror may see it, with attachment ids, criteria and the sheet."""
        return await service.assignment_detail(conn, user, assignment_id)

    @put("/{assignment_id:uuid}/score")
    async def score(
        self,
        assignment_id: uuid.UUID,
        data: schemas.ScoreBody,
        user: User,
        conn: Conn,
        if_match: IfMatch = None,
    ) -> schemas.Sheet:
        """Save the score sheet as draft or final (`If-Match` with its version; final locks)."""
        return await service.save_score(
            conn, user, assignment_id, data, if_match=parse_if_match(if_match)
        )


class ScoringController(Controller):
    path = "/competitions/{competition_id:uuid}"
    tags = ["Jury"]

    @post("/jury-reminders", status_code=200)
    async def remind(
        self, competition_id: uuid.UUID, user: User, conn: Conn, services: ServicesDep
    ) -> schemas.RemindersQueued:
        """Remind jurors with open sheets; at most one mail per juror and day."""
        queued = await service.remind_jurors(conn, user, competition_id, services.settings)
        return schemas.RemindersQueued(queued=queued)


# Kept where the API has always listed it, with the competition's endpoints.
@get("/competitions/{competition_id:uuid}/progress", tags=["Wettbewerbe"])
async def progress(competition_id: uuid.UUID, user: User, conn: Conn) -> schemas.Progress:
    """Entries by status and category (organisers)."""
    return await service.progress(conn, user, competition_id)


@get("/me/assignments", tags=["Jury"])
async def my_assignments(
    user: User,
    conn: Conn,
    competition_id: Annotated[uuid.UUID | None, Parameter(query="competition_id")] = None,
) -> list[schemas.AssignmentItem]:
    """The juror's assignments with the state of each score sheet."""
    return await service.my_assignments(conn, user, competition_id)
