"""Company rules: members see and edit their company; the owner invites people by e-mail, and
only the invited person makes themselves a member, by accepting.

An invitation answers the same for every address (202 `invited`), whether or not it has an
account, so the form reveals nobody's account (OWASP authentication cheat sheet: account
enumeration); what differs is only the mail, which reaches the address's owner alone. The invited
person accepts or declines signed in with that very address, verified: on their "Mein Bereich"
page or by the signed link in the mail, which leads there. Someone without an account registers
with the address first; verifying it makes nobody a member. Invitations are throttled per inviting
account and per invited address (each one is a mail) and end after `INVITATION_DAYS`.
Non-members get 404 for a company, so its existence is not revealed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Final

import asyncpg
from redis.asyncio import Redis

from competition import ratelimit
from competition.accounts import queries as account_queries
from competition.accounts import security
from competition.audit import service as audit
from competition.auth import Principal
from competition.companies import queries, schemas
from competition.companies.queries import CompanyRow, InvitationRow
from competition.competitions.districts import name as district_name
from competition.config import Settings
from competition.errors import AppError, Conflict, Forbidden, NotFound, PreconditionFailed
from competition.events import service as events
from competition.events.queries import EventRow
from competition.localization import BERLIN
from competition.notifications.service import queue_email
from competition.services import Services

INVITATION_DAYS: Final = 30
_LINK_PURPOSE: Final = "company-invitation"


class InvalidInvitationLink(AppError):
    status_code = 400
    code = "invalid_token"


async def require_member(
    conn: asyncpg.Connection, principal: Principal, company_id: uuid.UUID, *, owner: bool = False
) -> str:
    role = await queries.member_role(conn, company_id=company_id, account_id=principal.account_id)
    if role is None:
        raise NotFound("company.not_found")
    if owner and role != "owner":
        raise Forbidden("company.owner_only")
    return role


async def create(
    conn: asyncpg.Connection, principal: Principal, data: schemas.CompanyCreate
) -> CompanyRow:
    values: dict[str, Any] = {f: getattr(data, f) for f in data.__struct_fields__}
    values["name"] = data.name.strip()
    company = await queries.insert_company(conn, values=values)
    await queries.add_member(
        conn, company_id=company.id, account_id=principal.account_id, role="owner"
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="company.created",
        subject_type="company",
        subject_id=company.id,
        data={"name": company.name},
    )
    return company


async def update(
    conn: asyncpg.Connection,
    principal: Principal,
    company_id: uuid.UUID,
    data: schemas.CompanyUpdate,
    *,
    if_match: int | None,
) -> CompanyRow:
    await require_member(conn, principal, company_id)
    current = await queries.get_company(conn, company_id=company_id, for_update=True)
    if current is None:
        raise NotFound("company.not_found")
    if if_match is not None and if_match != current.version:
        raise PreconditionFailed("company.changed_meanwhile", code="version_conflict")
    changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not None}
    company = await queries.update_company(conn, company_id=company_id, changes=changes)
    if company is None:
        raise NotFound("company.not_found")
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="company.updated",
        subject_type="company",
        subject_id=company_id,
        data={"fields": sorted(changes)},
    )
    return company


async def add_member(
    conn: asyncpg.Connection,
    principal: Principal,
    company_id: uuid.UUID,
    *,
    email: str,
    redis: Redis,
    settings: Settings,
) -> schemas.MemberAdded:
    """Invite an address (owner only). The answer never says whether it has an account."""
    await require_member(conn, principal, company_id, owner=True)
    email = email.strip().lower()
    for action, identifier, limit in (
        ("invite-account", str(principal.account_id), settings.invite_rate_limit),
        ("invite-address", email, settings.invite_address_limit),
    ):
        await ratelimit.hit(
            redis,
            action=action,
            identifier=identifier,
            limit=limit,
            window=settings.rate_limit_window_seconds,
        )
    if not await queries.is_member_address(conn, company_id=company_id, email=email):
        invitation = await queries.invite(
            conn,
            company_id=company_id,
            email=email,
            invited_by=principal.account_id,
            valid_days=INVITATION_DAYS,
        )
        if invitation is not None:
            await events.record(
                conn,
                "company.member_invited",
                aggregate_id=company_id,
                payload={"by": str(principal.account_id), "invitation_id": str(invitation.id)},
            )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="company.member_invited",
        subject_type="company",
        subject_id=company_id,
    )
    return schemas.MemberAdded(email=email, status="invited")


def _addressed_to(principal: Principal, invitation: InvitationRow | None) -> InvitationRow:
    """The invitation, if it is addressed to the caller's own, verified address; anybody else
    learns nothing about it (404)."""
    if (
        invitation is None
        or not principal.email_verified
        or invitation.email != principal.email.lower()
    ):
        raise NotFound("company.invitation_not_found")
    return invitation


def _expired(invitation: InvitationRow, now: datetime) -> bool:
    return invitation.created_at + timedelta(days=INVITATION_DAYS) <= now


async def my_invitations(
    conn: asyncpg.Connection, principal: Principal
) -> list[schemas.CompanyInvitation]:
    """The open invitations to the caller's verified address."""
    if not principal.email_verified:
        return []
    return [
        schemas.CompanyInvitation(
            id=row.id,
            company_id=row.company_id,
            company_name=row.company_name,
            invited_by=row.inviter_name,
            invited_at=row.created_at.astimezone(BERLIN),
            expires_at=(row.created_at + timedelta(days=INVITATION_DAYS)).astimezone(BERLIN),
        )
        for row in await queries.invitations_to(
            conn, email=principal.email.lower(), valid_days=INVITATION_DAYS
        )
    ]


async def answer_invitation(
    conn: asyncpg.Connection, principal: Principal, invitation_id: uuid.UUID, *, accept: bool
) -> CompanyRow:
    """Accept (become a member) or decline. Accepting twice is harmless; an invitation that was
    declined, has expired or was accepted by nobody now a member is 409."""
    invitation = _addressed_to(
        principal, await queries.get_invitation(conn, invitation_id=invitation_id, for_update=True)
    )
    company = await queries.get_company(conn, company_id=invitation.company_id)
    if company is None:
        raise NotFound("company.invitation_not_found")
    role = await queries.member_role(conn, company_id=company.id, account_id=principal.account_id)
    if accept and invitation.accepted_at is not None and role is not None:
        return company  # a second click on the same button
    now: datetime = await conn.fetchval("SELECT now()")
    if (
        invitation.accepted_at is not None
        or invitation.declined_at is not None
        or _expired(invitation, now)
    ):
        raise Conflict("company.invitation_closed", code="invitation_closed")
    await queries.close_invitation(conn, invitation_id=invitation.id, accepted=accept)
    if accept and role is None:
        await queries.add_member(
            conn, company_id=company.id, account_id=principal.account_id, role="member"
        )
        await events.record(
            conn,
            "company.member_added",
            aggregate_id=company.id,
            payload={
                "account_id": str(principal.account_id),
                "by": str(invitation.invited_by) if invitation.invited_by else None,
            },
        )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="company.invitation_accepted" if accept else "company.invitation_declined",
        subject_type="company",
        subject_id=company.id,
    )
    return company


def invitation_token(settings: Settings, invitation: InvitationRow) -> str:
    """The link's token: this invitation as issued at this moment (a renewed one gets a new
    token; the old link stops working)."""
    return security.sign(
        settings,
        _LINK_PURPOSE,
        {"i": str(invitation.id), "t": security.fingerprint(invitation.created_at)},
    )


async def invitation_from_link(
    conn: asyncpg.Connection, settings: Settings, principal: Principal, token: str
) -> schemas.CompanyInvitation:
    """The open invitation a mail's link names, for the signed-in person it is addressed to."""
    payload = security.unsign(settings, _LINK_PURPOSE, token, max_age=INVITATION_DAYS * 24 * 3600)
    invalid = InvalidInvitationLink("company.invitation_link_invalid")
    try:
        invitation_id = uuid.UUID(str((payload or {}).get("i")))
    except ValueError:
        raise invalid from None
    invitation = await queries.get_invitation(conn, invitation_id=invitation_id)
    if invitation is None or (payload or {}).get("t") != security.fingerprint(
        invitation.created_at
    ):
        raise invalid
    if invitation.email != principal.email.lower() or not principal.email_verified:
        raise Forbidden("company.invitation_for_other_address", code="invitation_for_other_address")
    for item in await my_invitations(conn, principal):
        if item.id == invitation.id:
            return item
    raise invalid


async def to_response(conn: asyncpg.Connection, company: CompanyRow) -> schemas.Company:
    members = await queries.list_members(conn, company_id=company.id)
    return schemas.Company(
        id=company.id,
        name=company.name,
        street=company.street,
        postal_code=company.postal_code,
        city=company.city,
        district=company.district,
        district_name=district_name(company.district),
        employees=company.employees,
        website=company.website,
        version=company.version,
        members=[
            schemas.Member(
                account_id=m.account_id,
                email=m.email,
                name=m.name,
                role="owner" if m.role == "owner" else "member",
            )
            for m in members
        ],
        invitations=[
            schemas.Invitation(email=e)
            for e in await queries.open_invitations(
                conn, company_id=company.id, valid_days=INVITATION_DAYS
            )
        ],
    )


# Event handlers.


async def on_member_added(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    settings = services.settings
    company = await queries.get_company(conn, company_id=event.subject)
    account = await account_queries.get_account(
        conn, account_id=uuid.UUID(str(event.payload["account_id"]))
    )
    if company is None or account is None:
        return
    await queue_email(
        conn,
        settings,
        event_id=event.id,
        template="company_member_added",
        competition_id=None,
        recipient=account.email,
        locale=account.locale,
        account_id=account.id,
        context={
            "name": account.name,
            "company": company.name,
            "action_url": f"{settings.public_url.rstrip('/')}/",
        },
    )


async def on_member_invited(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    """The invitation mail: with the link to accept it, for an address with an account, or with
    the request to register with this address first. Only the invited address reads it."""
    settings = services.settings
    if event.aggregate_id is None or "invitation_id" not in event.payload:
        return  # invited before invitations needed consent: shown on "Mein Bereich" instead
    invitation = await queries.get_invitation(
        conn, invitation_id=uuid.UUID(str(event.payload["invitation_id"]))
    )
    company = await queries.get_company(conn, company_id=event.aggregate_id)
    if invitation is None or company is None or invitation.accepted_at or invitation.declined_at:
        return
    inviter = (
        await account_queries.get_account(conn, account_id=invitation.invited_by)
        if invitation.invited_by
        else None
    )
    account = await account_queries.get_account_by_email(conn, email=invitation.email)
    locale = account.locale if account else inviter.locale if inviter else "de"
    link = f"{settings.public_url.rstrip('/')}/unternehmen/einladung"
    await queue_email(
        conn,
        settings,
        event_id=event.id,
        template="company_invitation",
        competition_id=None,
        recipient=invitation.email,
        locale=locale,
        account_id=account.id if account else None,
        context={
            "company": company.name,
            "inviter": inviter.name if inviter else company.name,
            "has_account": account is not None and account.email_verified_at is not None,
            "days": INVITATION_DAYS,
            "action_url": f"{link}?token={invitation_token(settings, invitation)}",
        },
    )


async def get(
    conn: asyncpg.Connection, principal: Principal, company_id: uuid.UUID
) -> tuple[schemas.Company, str]:
    """The company for its members, with the caller's role in it; others get 404."""
    role = await require_member(conn, principal, company_id)
    row = await queries.get_company(conn, company_id=company_id)
    if row is None:
        raise NotFound("company.not_found")
    return await to_response(conn, row), role


async def mine(conn: asyncpg.Connection, principal: Principal) -> list[schemas.Company]:
    """The companies the caller belongs to, by name."""
    rows = await queries.list_companies_of(conn, account_id=principal.account_id)
    return [await to_response(conn, row) for row in rows]
