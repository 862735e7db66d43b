"""Jury endpoints of invitations: invite, the roster, removal, acceptance, the agreement."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post

from competition.auth import Conn, ServicesDep, User
from competition.jury import confidentiality
from competition.jury.invitations import schemas, service


class InvitationController(Controller):
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
