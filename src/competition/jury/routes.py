"""Jury endpoints: invitations, conflicts, assignment runs, assignments and score sheets."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.params import Parameter

from competition.auth import Conn, ServicesDep, User
from competition.concurrency import IfMatch, parse_if_match
from competition.jury import confidentiality, conflicts, schemas, service


class CompetitionJuryController(Controller):
    path = "/competitions/{competition_id:uuid}"
    tags = ["Jury"]

    @post("/jurors", status_code=201)
    async def invite(
        self, competition_id: uuid.UUID, data: schemas.JurorInvite, user: User, conn: Conn
    ) -> schemas.Juror:
        """Invite a juror by e-mail (organisers); the mail carries an expiring link."""
        juror = await service.invite(conn, user, competition_id, data)
        jurors = await service.list_jurors(conn, user, competition_id)
        return next(j for j in jurors if j.id == juror.id)

    @get("/jurors")
    async def jurors(
        self, competition_id: uuid.UUID, user: User, conn: Conn
    ) -> list[schemas.Juror]:
        """Jurors with status, load, conflicts and suggested conflicts (organisers)."""
        return await service.list_jurors(conn, user, competition_id)

    @post("/jurors/{juror_id:uuid}/remove", status_code=200)
    async def remove(
        self, competition_id: uuid.UUID, juror_id: uuid.UUID, user: User, conn: Conn
    ) -> dict[str, int]:
        """A juror drops out: open assignments are released for a rerun (organisers)."""
        return {
            "assignments_removed": await service.remove_juror(conn, user, competition_id, juror_id)
        }

    @get("/conflicts/me")
    async def my_conflicts(
        self, competition_id: uuid.UUID, user: User, conn: Conn
    ) -> schemas.MyConflictsOut:
        """The juror's declared conflicts of interest."""
        return await conflicts.my_conflicts(conn, user, competition_id)

    @put("/conflicts/me")
    async def put_my_conflicts(
        self, competition_id: uuid.UUID, data: schemas.MyConflicts, user: User, conn: Conn
    ) -> schemas.MyConflictsOut:
        """Declare conflicts and confirm the declaration complete (needed before any entry).
        Names are kept as typed; after deployment new ones wait for the organisers."""
        return await conflicts.put_my_conflicts(conn, user, competition_id, data)

    @post("/conflicts", status_code=201)
    async def record_conflict(
        self, competition_id: uuid.UUID, data: schemas.OrganiserConflict, user: User, conn: Conn
    ) -> Response[None]:
        """Record a conflict for a juror (organisers)."""
        await conflicts.record_conflict(conn, user, competition_id, data)
        return Response(None, status_code=201)

    @delete("/conflicts/{conflict_id:uuid}", status_code=204)
    async def remove_conflict(
        self, competition_id: uuid.UUID, conflict_id: uuid.UUID, user: User, conn: Conn
    ) -> None:
        """Remove a conflict an organiser recorded (audited); jurors' own declarations change
        only when they declare again (organisers)."""
        await conflicts.remove_conflict(conn, user, competition_id, conflict_id)

    @get("/conflict-declarations")
    async def declarations(
        self,
        competition_id: uuid.UUID,
        user: User,
        conn: Conn,
        status: Annotated[list[schemas.DeclarationStatus] | None, Parameter(query="status")] = None,
    ) -> list[schemas.DeclarationOut]:
        """Jurors' declarations as typed, with matches and, for open ones, candidate companies
        (organisers). Open ones block deploying an assignment."""
        return await conflicts.declarations(
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
        await conflicts.decide(conn, user, competition_id, declaration_id, data)
        return {"status": "resolved" if data.company_ids else "dismissed"}

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

    @post("/jury-reminders", status_code=200)
    async def remind(
        self, competition_id: uuid.UUID, user: User, conn: Conn, services: ServicesDep
    ) -> schemas.RemindersQueued:
        """Remind jurors with open sheets; at most one mail per juror and day."""
        queued = await service.remind_jurors(conn, user, competition_id, services.settings)
        return schemas.RemindersQueued(queued=queued)


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

    @post("/{assignment_id:uuid}/recuse", status_code=200)
    async def recuse(
        self, assignment_id: uuid.UUID, data: schemas.Recusal, user: User, conn: Conn
    ) -> schemas.Recused:
        """Recuse from this entry, with a reason: the assignment is withdrawn and the
        organisers are told, to reassign it by an incremental run."""
        return await conflicts.recuse(conn, user, assignment_id, data)


@post("/jury/invitations/accept", status_code=200, tags=["Jury"])
async def accept_invitation(
    data: schemas.AcceptInvitation, conn: Conn, services: ServicesDep
) -> schemas.Accepted:
    """Accept a jury invitation with the token from the mail; creates the account, or links an
    existing one once its password is given (or replaced, which ends its sessions and tokens)."""
    return await service.accept(
        conn,
        services.redis,
        services.settings,
        token=data.token,
        password=data.password,
        replace_password=data.replace_password,
        accept_confidentiality=data.accept_confidentiality,
        accept_privacy=data.accept_privacy,
    )


@get("/jury/confidentiality", tags=["Jury"])
async def confidentiality_agreement() -> schemas.Confidentiality:
    """The confidentiality agreement jurors accept with their invitation."""
    return schemas.Confidentiality(version=confidentiality.VERSION, text=dict(confidentiality.TEXT))


@get("/me/assignments", tags=["Jury"])
async def my_assignments(
    user: User,
    conn: Conn,
    competition_id: Annotated[uuid.UUID | None, Parameter(query="competition_id")] = None,
) -> list[schemas.AssignmentItem]:
    """The juror's assignments with the state of each score sheet."""
    return await service.my_assignments(conn, user, competition_id)
