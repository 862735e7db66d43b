"""SQL of companies, their members and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from competition.db import one_row
from competition.structs import Row


class CompanyRow(Row, frozen=True):
    id: uuid.UUID
    name: str
    street: str
    postal_code: str
    city: str
    district: str
    employees: int
    website: str | None
    version: int
    created_at: datetime


class MemberRow(Row, frozen=True):
    account_id: uuid.UUID
    email: str
    name: str
    locale: str
    role: str


_COMPANY = "id, name, street, postal_code, city, district, employees, website, version, created_at"
_FIELDS = ("name", "street", "postal_code", "city", "district", "employees", "website")


async def insert_company(conn: asyncpg.Connection, *, values: dict[str, Any]) -> CompanyRow:
    record = await one_row(
        conn,
        f"""INSERT INTO company (name, street, postal_code, city, district, employees, website)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COMPANY}""",
        *(values[f] for f in _FIELDS),
    )
    return CompanyRow(**dict(record))


async def update_company(
    conn: asyncpg.Connection, *, company_id: uuid.UUID, changes: dict[str, Any]
) -> CompanyRow | None:
    columns = [c for c in _FIELDS if c in changes]
    # Column names come from the fixed tuple above, values are bound parameters.
    assignments = "".join(f", {c} = ${i}" for i, c in enumerate(columns, start=2))
    record = await conn.fetchrow(
        f"""UPDATE company SET version = version + 1, updated_at = now(){assignments}
            WHERE id = $1 RETURNING {_COMPANY}""",
        company_id,
        *(changes[c] for c in columns),
    )
    return CompanyRow(**dict(record)) if record else None


async def get_company(
    conn: asyncpg.Connection, *, company_id: uuid.UUID, for_update: bool = False
) -> CompanyRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(f"SELECT {_COMPANY} FROM company WHERE id = $1{lock}", company_id)
    return CompanyRow(**dict(record)) if record else None


async def member_role(
    conn: asyncpg.Connection, *, company_id: uuid.UUID, account_id: uuid.UUID
) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM company_member WHERE company_id = $1 AND account_id = $2",
        company_id,
        account_id,
    )
    return role


async def add_member(
    conn: asyncpg.Connection, *, company_id: uuid.UUID, account_id: uuid.UUID, role: str
) -> bool:
    result: str = await conn.execute(
        """INSERT INTO company_member (company_id, account_id, role) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""",
        company_id,
        account_id,
        role,
    )
    return result.endswith(" 1")


async def list_members(conn: asyncpg.Connection, *, company_id: uuid.UUID) -> list[MemberRow]:
    rows = await conn.fetch(
        """SELECT m.account_id, a.email, a.name, a.locale, m.role
           FROM company_member m JOIN account a ON a.id = m.account_id
           WHERE m.company_id = $1 ORDER BY m.role DESC, m.added_at""",
        company_id,
    )
    return [MemberRow(**dict(r)) for r in rows]


async def list_companies_of(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> list[CompanyRow]:
    rows = await conn.fetch(
        f"""SELECT {", ".join("c." + c.strip() for c in _COMPANY.split(","))}
            FROM company c JOIN company_member m ON m.company_id = c.id
            WHERE m.account_id = $1 ORDER BY c.name""",
        account_id,
    )
    return [CompanyRow(**dict(r)) for r in rows]


async def invite(
    conn: asyncpg.Connection, *, company_id: uuid.UUID, email: str, invited_by: uuid.UUID
) -> uuid.UUID | None:
    invitation_id: uuid.UUID | None = await conn.fetchval(
        """INSERT INTO company_invitation (company_id, email, invited_by) VALUES ($1, $2, $3)
           ON CONFLICT (company_id, email) DO NOTHING RETURNING id""",
        company_id,
        email,
        invited_by,
    )
    return invitation_id


async def open_invitations(conn: asyncpg.Connection, *, company_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        """SELECT email FROM company_invitation WHERE company_id = $1 AND accepted_at IS NULL
           ORDER BY created_at""",
        company_id,
    )
    return [r["email"] for r in rows]


async def redeem_invitations(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, email: str
) -> list[uuid.UUID]:
    """Make a newly verified address a member of every company that invited it."""
    rows = await conn.fetch(
        """
        WITH taken AS (
            UPDATE company_invitation SET accepted_at = now()
            WHERE email = $2 AND accepted_at IS NULL
            RETURNING company_id
        )
        INSERT INTO company_member (company_id, account_id, role)
        SELECT company_id, $1, 'member' FROM taken
        ON CONFLICT DO NOTHING
        RETURNING company_id
        """,
        account_id,
        email,
    )
    return [r["company_id"] for r in rows]
