"""SQL of companies, their members and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from competition.db import one_row
from competition.structs import Row
from competition.vocabulary import CompanyRole


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
    role: CompanyRole


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


class InvitationRow(Row, frozen=True):
    id: uuid.UUID
    company_id: uuid.UUID
    email: str
    invited_by: uuid.UUID | None
    created_at: datetime
    accepted_at: datetime | None
    declined_at: datetime | None


class AddressedInvitationRow(Row, frozen=True):
    """An open invitation as its addressee sees it."""

    id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    inviter_name: str | None
    created_at: datetime


_INVITATION = "id, company_id, email, invited_by, created_at, accepted_at, declined_at"
# Open: neither accepted nor declined, and younger than the validity ($n days).
_OPEN = """i.accepted_at IS NULL AND i.declined_at IS NULL
           AND i.created_at > now() - make_interval(days => {days})"""


async def is_member_address(conn: asyncpg.Connection, *, company_id: uuid.UUID, email: str) -> bool:
    found: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM company_member m JOIN account a ON a.id = m.account_id
                          WHERE m.company_id = $1 AND a.email = $2)""",
        company_id,
        email,
    )
    return found


async def invite(
    conn: asyncpg.Connection,
    *,
    company_id: uuid.UUID,
    email: str,
    invited_by: uuid.UUID,
    valid_days: int,
) -> InvitationRow | None:
    """A new invitation, or a fresh start for one that was declined, expired or accepted by
    someone who has left since; None while one is open (nothing new to send)."""
    record = await conn.fetchrow(
        f"""INSERT INTO company_invitation AS i (company_id, email, invited_by)
            VALUES ($1, $2, $3)
            ON CONFLICT (company_id, email) DO UPDATE
                SET created_at = now(), accepted_at = NULL, declined_at = NULL,
                    invited_by = EXCLUDED.invited_by
                WHERE NOT ({_OPEN.format(days="$4")})
            RETURNING {_INVITATION}""",
        company_id,
        email,
        invited_by,
        valid_days,
    )
    return InvitationRow(**dict(record)) if record else None


async def get_invitation(
    conn: asyncpg.Connection, *, invitation_id: uuid.UUID, for_update: bool = False
) -> InvitationRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(
        f"SELECT {_INVITATION} FROM company_invitation WHERE id = $1{lock}", invitation_id
    )
    return InvitationRow(**dict(record)) if record else None


async def open_invitations(
    conn: asyncpg.Connection, *, company_id: uuid.UUID, valid_days: int
) -> list[str]:
    rows = await conn.fetch(
        f"""SELECT i.email FROM company_invitation i
            WHERE i.company_id = $1 AND {_OPEN.format(days="$2")}
            ORDER BY i.created_at""",
        company_id,
        valid_days,
    )
    return [r["email"] for r in rows]


async def invitations_to(
    conn: asyncpg.Connection, *, email: str, valid_days: int
) -> list[AddressedInvitationRow]:
    rows = await conn.fetch(
        f"""SELECT i.id, i.company_id, c.name AS company_name, a.name AS inviter_name,
                   i.created_at
            FROM company_invitation i
            JOIN company c ON c.id = i.company_id
            LEFT JOIN account a ON a.id = i.invited_by
            WHERE i.email = $1 AND {_OPEN.format(days="$2")}
            ORDER BY i.created_at, i.id""",
        email,
        valid_days,
    )
    return [AddressedInvitationRow(**dict(r)) for r in rows]


async def close_invitation(
    conn: asyncpg.Connection, *, invitation_id: uuid.UUID, accepted: bool
) -> bool:
    """Accept or decline an open invitation; False when it was no longer open."""
    column = "accepted_at" if accepted else "declined_at"
    result: str = await conn.execute(
        f"""UPDATE company_invitation SET {column} = now()
            WHERE id = $1 AND accepted_at IS NULL AND declined_at IS NULL""",
        invitation_id,
    )
    return result.endswith(" 1")
