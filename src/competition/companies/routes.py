"""Company endpoints: members only."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from competition.auth import Conn, ServicesDep, User
from competition.companies import queries, schemas, service
from competition.concurrency import IfMatch, parse_if_match
from competition.errors import NotFound


class CompanyController(Controller):
    path = "/companies"
    tags = ["Unternehmen"]

    @post("/", status_code=201)
    async def create(self, data: schemas.CompanyCreate, user: User, conn: Conn) -> schemas.Company:
        """Create a company profile; the caller becomes its owner."""
        company = await service.create(conn, user, data)
        return await service.to_response(conn, company)

    @get("/{company_id:uuid}")
    async def read(self, company_id: uuid.UUID, user: User, conn: Conn) -> schemas.Company:
        """The company with its members (members only)."""
        await service.require_member(conn, user, company_id)
        company = await queries.get_company(conn, company_id=company_id)
        if company is None:
            raise NotFound("company.not_found")
        return await service.to_response(conn, company)

    @patch("/{company_id:uuid}")
    async def update(
        self,
        company_id: uuid.UUID,
        data: schemas.CompanyUpdate,
        user: User,
        conn: Conn,
        if_match: IfMatch = None,
    ) -> schemas.Company:
        """Change the company profile (members; `If-Match` with the version)."""
        company = await service.update(
            conn, user, company_id, data, if_match=parse_if_match(if_match)
        )
        return await service.to_response(conn, company)

    @post("/{company_id:uuid}/members", status_code=202)
    async def add_member(
        self,
        company_id: uuid.UUID,
        data: schemas.MemberAdd,
        user: User,
        conn: Conn,
        services: ServicesDep,
    ) -> schemas.MemberAdded:
        """Invite an address by mail (owner only): the same 202 for every address; the person
        becomes a member only by accepting."""
        return await service.add_member(
            conn,
            user,
            company_id,
            email=data.email,
            redis=services.redis,
            settings=services.settings,
        )


@get("/me/companies", tags=["Unternehmen"])
async def my_companies(user: User, conn: Conn) -> list[schemas.Company]:
    """The companies the caller is a member of."""
    return [
        await service.to_response(conn, c)
        for c in await queries.list_companies_of(conn, account_id=user.account_id)
    ]


@get("/me/company-invitations", tags=["Unternehmen"])
async def my_company_invitations(user: User, conn: Conn) -> list[schemas.CompanyInvitation]:
    """Open invitations to the caller's verified address."""
    return await service.my_invitations(conn, user)


@post("/me/company-invitations/{invitation_id:uuid}/accept", status_code=200, tags=["Unternehmen"])
async def accept_company_invitation(
    invitation_id: uuid.UUID, user: User, conn: Conn
) -> schemas.Company:
    """Accept an invitation to the caller's address: the caller becomes a member."""
    company = await service.answer_invitation(conn, user, invitation_id, accept=True)
    return await service.to_response(conn, company)


@post(
    "/me/company-invitations/{invitation_id:uuid}/decline",
    status_code=HTTP_204_NO_CONTENT,
    tags=["Unternehmen"],
)
async def decline_company_invitation(invitation_id: uuid.UUID, user: User, conn: Conn) -> None:
    """Decline an invitation to the caller's address."""
    await service.answer_invitation(conn, user, invitation_id, accept=False)
