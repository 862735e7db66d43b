"""Company rules: members see and edit their company; the owner adds members by e-mail.

Someone without an account is invited by mail and becomes a member when they verify that address.
Non-members get 404 for a company, so its existence is not revealed.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from competition.accounts import queries as account_queries
from competition.audit import service as audit
from competition.auth import Principal, Services
from competition.companies import queries, schemas
from competition.companies.queries import CompanyRow
from competition.competitions.districts import name as district_name
from competition.errors import Forbidden, NotFound, PreconditionFailed
from competition.events import service as events
from competition.events.queries import EventRow
from competition.notifications.service import queue_email


async def require_member(
    conn: asyncpg.Connection, principal: Principal, company_id: uuid.UUID, *, owner: bool = False
) -> str:
    role = await queries.member_role(conn, company_id=company_id, account_id=principal.account_id)
    if role is None:
        raise NotFound("Unternehmen nicht gefunden.")
    if owner and role != "owner":
        raise Forbidden("Nur die Inhaberin oder der Inhaber des Unternehmensprofils darf das.")
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
        raise NotFound("Unternehmen nicht gefunden.")
    if if_match is not None and if_match != current.version:
        raise PreconditionFailed(
            "Das Profil wurde inzwischen geändert. Bitte neu laden.", code="version_conflict"
        )
    changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not None}
    company = await queries.update_company(conn, company_id=company_id, changes=changes)
    if company is None:
        raise NotFound("Unternehmen nicht gefunden.")
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
    conn: asyncpg.Connection, principal: Principal, company_id: uuid.UUID, email: str
) -> schemas.MemberAdded:
    await require_member(conn, principal, company_id, owner=True)
    email = email.strip().lower()
    account = await account_queries.get_account_by_email(conn, email=email)
    if account is not None:
        if await queries.add_member(
            conn, company_id=company_id, account_id=account.id, role="member"
        ):
            await events.record(
                conn,
                "company.member_added",
                aggregate_id=company_id,
                payload={"account_id": str(account.id), "by": str(principal.account_id)},
            )
        role = await queries.member_role(conn, company_id=company_id, account_id=account.id)
        member = schemas.Member(
            account_id=account.id,
            email=account.email,
            name=account.name,
            role="owner" if role == "owner" else "member",
        )
        result = schemas.MemberAdded(email=email, status="added", member=member)
    else:
        if await queries.invite(
            conn, company_id=company_id, email=email, invited_by=principal.account_id
        ):
            await events.record(
                conn,
                "company.member_invited",
                aggregate_id=company_id,
                payload={"email": email, "by": str(principal.account_id)},
            )
        result = schemas.MemberAdded(email=email, status="invited")
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="company.member_added",
        subject_type="company",
        subject_id=company_id,
        data={"status": result.status},
    )
    return result


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
            for e in await queries.open_invitations(conn, company_id=company.id)
        ],
    )


# Event handlers.


async def on_member_added(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    settings = services.settings
    assert event.aggregate_id is not None
    company = await queries.get_company(conn, company_id=event.aggregate_id)
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
    settings = services.settings
    assert event.aggregate_id is not None
    company = await queries.get_company(conn, company_id=event.aggregate_id)
    inviter = await account_queries.get_account(
        conn, account_id=uuid.UUID(str(event.payload["by"]))
    )
    if company is None:
        return
    email = str(event.payload["email"])
    await queue_email(
        conn,
        settings,
        event_id=event.id,
        template="company_invitation",
        competition_id=None,
        recipient=email,
        locale=inviter.locale if inviter else "de",
        context={
            "company": company.name,
            "inviter": inviter.name if inviter else company.name,
            "action_url": f"{settings.public_url.rstrip('/')}/register",
        },
    )
