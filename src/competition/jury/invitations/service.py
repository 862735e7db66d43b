"""Invitations and the jury roster: organisers invite jurors by e-mail; the invited person
accepts with the signed link (the account behind it proven or created by accounts) and the
confidentiality agreement; organisers see each juror's status, load and conflicts, and remove
jurors who drop out (open assignments go, final sheets stay)."""

from __future__ import annotations

import uuid

import asyncpg
from redis.asyncio import Redis

from competition.accounts import queries as account_queries
from competition.accounts import security
from competition.accounts import service as accounts
from competition.audit import service as audit
from competition.auth import Principal
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.config import Settings
from competition.errors import AppError, Conflict, Invalid, NotFound, problem
from competition.events import service as events
from competition.events.queries import EventRow
from competition.jury import confidentiality
from competition.jury import queries as jury_queries
from competition.jury.conflicts import queries as conflict_queries
from competition.jury.conflicts import schemas as conflict_schemas
from competition.jury.conflicts import service as conflicts
from competition.jury.invitations import queries, schemas
from competition.jury.queries import JurorRow
from competition.localization import berlin
from competition.notifications.service import queue_email
from competition.services import Services

INVITATION_MAX_AGE = 21 * 24 * 3600


class InvalidToken(AppError):
    status_code = 400
    code = "invalid_token"


async def invite(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.JurorInvite,
) -> JurorRow:
    await competitions.require_organiser(conn, principal, competition_id)
    slugs = {
        c.slug
        for c in await competition_queries.list_categories(conn, competition_id=competition_id)
    }
    unknown = sorted(set(data.expertise) - slugs)
    if unknown:
        raise Invalid(
            "jury.unknown_categories",
            fields=[problem("expertise", "jury.unknown_expertise", categories=", ".join(unknown))],
        )
    juror = await queries.insert_juror(
        conn,
        competition_id=competition_id,
        email=data.email.strip().lower(),
        name=data.name.strip(),
        expertise=sorted(set(data.expertise)),
        max_load=data.max_load,
        invited_by=principal.account_id,
    )
    if juror is None:
        raise Conflict("jury.already_invited", code="already_invited")
    await events.record(conn, "juror.invited", aggregate_id=juror.id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="juror.invited",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=juror.id,
    )
    return juror


def _invitation_token(settings: Settings, juror: JurorRow) -> str:
    return security.sign(settings, "jury-invitation", {"j": str(juror.id), "e": juror.email})


async def invitation_account_state(
    conn: asyncpg.Connection,
    settings: Settings,
    *,
    token: str,
    signed_in_as: uuid.UUID | None,
) -> schemas.InvitationAccountState:
    """Which form the invitation page shows: a new password, the existing account's password
    (or a new one), or nothing when the invited account is the one signed in. Only the holder of
    the link learns whether the invited address has an account; a bad link shows the plain
    form and fails when sent."""
    payload = security.unsign(settings, "jury-invitation", token, max_age=INVITATION_MAX_AGE)
    if payload is None:
        return "new"
    juror = await jury_queries.get_juror(conn, juror_id=uuid.UUID(str(payload["j"])))
    if juror is None or juror.email != payload.get("e"):
        return "new"
    account = await account_queries.get_account_by_email(conn, email=juror.email)
    if account is None:
        return "new"
    if account.id == signed_in_as and account.email_verified_at is not None:
        return "signed_in"
    return "existing" if account.email_verified_at is not None else "unclaimed"


async def accept(
    conn: asyncpg.Connection,
    redis: Redis,
    settings: Settings,
    *,
    token: str,
    password: str | None,
    replace_password: bool = False,
    signed_in_as: uuid.UUID | None = None,
    accept_confidentiality: bool = True,
    accept_privacy: bool = True,
) -> schemas.Accepted:
    """Accept an invitation. The link proves the address; the account behind it is proven or
    created by accounts (`account_for_invitation`), never linked on the link alone, and gets
    the privacy consent recorded as registration does."""
    if not accept_confidentiality:
        raise Invalid(
            "jury.confidentiality_not_accepted",
            fields=[problem("accept_confidentiality", "jury.accept_confidentiality")],
        )
    if not accept_privacy:
        raise Invalid(
            "jury.privacy_not_accepted",
            fields=[problem("accept_privacy", "account.accept_privacy")],
        )
    payload = security.unsign(settings, "jury-invitation", token, max_age=INVITATION_MAX_AGE)
    invalid = InvalidToken("jury.invitation_link_invalid")
    if payload is None:
        raise invalid
    juror = await jury_queries.get_juror(
        conn, juror_id=uuid.UUID(str(payload["j"])), for_update=True
    )
    if juror is None or juror.email != payload.get("e") or juror.status in ("declined", "removed"):
        raise invalid
    claimed = await accounts.account_for_invitation(
        conn,
        redis,
        email=juror.email,
        name=juror.name,
        password=password,
        set_new_password=replace_password,
        signed_in_as=signed_in_as,
    )
    account = claimed.account
    if juror.status == "invited":
        await queries.activate(
            conn,
            juror_id=juror.id,
            account_id=account.id,
            confidentiality_version=confidentiality.VERSION,
        )
        await audit.record(
            conn,
            actor_id=account.id,
            action="juror.accepted",
            competition_id=juror.competition_id,
            subject_type="juror",
            subject_id=juror.id,
        )
    elif juror.account_id != account.id:
        raise invalid
    return schemas.Accepted(
        juror_id=juror.id,
        competition_id=juror.competition_id,
        account_id=account.id,
        account_created=claimed.created,
        password_set=claimed.password_set,
    )


async def list_jurors(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    *,
    locale: str = "de",
) -> list[schemas.Juror]:
    """The roster, with the reasons of suggested conflicts in `locale` (the API's: German)."""
    await competitions.require_organiser(conn, principal, competition_id)
    loads = await queries.loads(conn, competition_id=competition_id)
    standing = await conflict_queries.list_conflicts(conn, competition_id=competition_id)
    standing += await conflict_queries.membership_conflicts(conn, competition_id=competition_id)
    companies = await conflicts.participating(conn, competition_id)
    result = []
    for juror in await jury_queries.list_jurors(conn, competition_id=competition_id):
        mine = [c for c in standing if c.juror_id == juror.id]
        declared = {c.company_id for c in mine}
        load, final = loads.get(juror.id, (0, 0))
        result.append(
            schemas.Juror(
                id=juror.id,
                email=juror.email,
                name=juror.name,
                expertise=juror.expertise,
                max_load=juror.max_load,
                status=juror.status,
                account_id=juror.account_id,
                invited_at=berlin(juror.invited_at),
                accepted_at=berlin(juror.accepted_at) if juror.accepted_at else None,
                conflicts_confirmed=juror.conflicts_confirmed_at is not None,
                load=load,
                final_sheets=final,
                conflicts=[_conflict_out(c, blind=False) for c in mine],
                suggested_conflicts=[
                    s
                    for s in conflicts.suggested(juror.email, companies, locale)
                    if s.company_id not in declared
                ],
            )
        )
    return result


def _conflict_out(c: conflict_queries.ConflictRow, *, blind: bool) -> conflict_schemas.ConflictOut:
    return conflict_schemas.ConflictOut(
        id=c.id,
        company_id=None if blind else c.company_id,
        company_name=c.declared_as if blind else c.company_name,
        type=c.type,
        note=c.note,
        source=c.source,
    )


async def remove_juror(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, juror_id: uuid.UUID
) -> int:
    """The juror drops out: open assignments go (final sheets stay); a rerun fills the gaps."""
    await competitions.require_organiser(conn, principal, competition_id)
    juror = await jury_queries.get_juror(conn, juror_id=juror_id, for_update=True)
    if juror is None or juror.competition_id != competition_id:
        raise NotFound("jury.juror_not_found")
    await queries.set_status(conn, juror_id=juror_id, status="removed")
    removed = await queries.delete_open_assignments(conn, juror_id=juror_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="juror.removed",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=juror_id,
        data={"assignments_removed": removed},
    )
    return removed


async def on_invited(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    settings = services.settings
    juror = await jury_queries.get_juror(conn, juror_id=event.subject)
    if juror is None or juror.status != "invited":
        return
    competition = await competition_queries.get_competition(
        conn, competition_id=juror.competition_id
    )
    if competition is None:
        return
    account = await account_queries.get_account_by_email(conn, email=juror.email)
    locale = account.locale if account else "de"
    token = _invitation_token(settings, juror)
    await queue_email(
        conn,
        settings,
        event_id=event.id,
        template="jury_invitation",
        competition_id=competition.id,
        recipient=juror.email,
        locale=locale,
        context={
            "name": juror.name,
            "competition": competition.title.get(locale, competition.title["de"]),
            "action_url": f"{settings.public_url.rstrip('/')}/jury/accept?token={token}",
            "has_account": account is not None,
        },
    )
