"""SQL of accounts and API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.structs import Row


class AccountRow(Row, frozen=True):
    id: uuid.UUID
    email: str
    name: str
    password_hash: str | None
    locale: str
    email_verified_at: datetime | None
    is_organiser: bool
    password_changed_at: datetime
    created_at: datetime


class TokenRow(Row, frozen=True):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None


_ACCOUNT = (
    "id, email, name, password_hash, locale, email_verified_at, is_organiser, "
    "password_changed_at, created_at"
)
_TOKEN = "id, account_id, name, scopes, created_at, last_used_at"  # noqa: S105 - columns


def _account(record: asyncpg.Record | None) -> AccountRow | None:
    return AccountRow(**dict(record)) if record else None


async def insert_account(
    conn: asyncpg.Connection,
    *,
    email: str,
    name: str,
    password_hash: str | None,
    locale: str,
    verified: bool = False,
    is_organiser: bool = False,
    privacy_version: str | None = None,
) -> AccountRow | None:
    """Insert a new account; None when the address is taken."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO account (email, name, password_hash, locale, email_verified_at, is_organiser,
                             privacy_version, privacy_accepted_at)
        VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END, $6, $7,
                CASE WHEN $7::text IS NOT NULL THEN now() END)
        ON CONFLICT (email) DO NOTHING
        RETURNING {_ACCOUNT}
        """,
        email,
        name,
        password_hash,
        locale,
        verified,
        is_organiser,
        privacy_version,
    )
    return _account(record)


async def holds_jury_seat(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> bool:
    """An active seat on any jury: a read of the jury's table, for the account's roles."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM juror WHERE account_id = $1 AND status = 'active')",
        account_id,
    )
    return found


async def get_account(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> AccountRow | None:
    return _account(
        await conn.fetchrow(f"SELECT {_ACCOUNT} FROM account WHERE id = $1", account_id)
    )


async def get_account_by_email(conn: asyncpg.Connection, *, email: str) -> AccountRow | None:
    return _account(await conn.fetchrow(f"SELECT {_ACCOUNT} FROM account WHERE email = $1", email))


async def mark_verified(conn: asyncpg.Connection, *, account_id: uuid.UUID, email: str) -> bool:
    result: str = await conn.execute(
        """UPDATE account SET email_verified_at = coalesce(email_verified_at, now())
           WHERE id = $1 AND email = $2""",
        account_id,
        email,
    )
    return result.endswith(" 1")


async def record_privacy_consent(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, version: str, again: bool = False
) -> None:
    """The account's person accepted the privacy notice `version` now. An acceptance of the
    same version keeps its first moment, unless `again` (a new person took the account over)."""
    await conn.execute(
        """UPDATE account SET privacy_version = $2, privacy_accepted_at = now()
           WHERE id = $1 AND ($3 OR privacy_version IS DISTINCT FROM $2)""",
        account_id,
        version,
        again,
    )


async def set_password(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, password_hash: str, name: str | None = None
) -> None:
    """New password (the address counts as verified: only its owner could get here), and
    optionally a new name."""
    await conn.execute(
        """UPDATE account SET password_hash = $2, password_changed_at = clock_timestamp(),
                  email_verified_at = coalesce(email_verified_at, now()),
                  name = coalesce($3, name)
           WHERE id = $1""",
        account_id,
        password_hash,
        name,
    )


async def update_profile(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, name: str | None, locale: str | None
) -> AccountRow | None:
    return _account(
        await conn.fetchrow(
            f"""UPDATE account SET name = coalesce($2, name), locale = coalesce($3, locale)
                WHERE id = $1 RETURNING {_ACCOUNT}""",
            account_id,
            name,
            locale,
        )
    )


async def make_organiser(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> None:
    await conn.execute("UPDATE account SET is_organiser = true WHERE id = $1", account_id)


async def set_admin(conn: asyncpg.Connection, *, account_id: uuid.UUID, admin: bool) -> None:
    await conn.execute("UPDATE account SET is_admin = $2 WHERE id = $1", account_id, admin)


async def is_admin(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> bool:
    """A platform administrator (set by the operator's command only)."""
    found: bool | None = await conn.fetchval(
        "SELECT is_admin FROM account WHERE id = $1", account_id
    )
    return bool(found)


async def insert_token(
    conn: asyncpg.Connection,
    *,
    account_id: uuid.UUID,
    name: str,
    token_hash: bytes,
    scopes: list[str],
    password_changed_at: datetime | None = None,
) -> TokenRow | None:
    """A new token, only while the password is still the one the caller was authenticated
    with (`password_changed_at`; None: the operator's own tools, no caller); None otherwise.
    The share lock waits for a password change in flight, so a token can never be minted
    beside a reset and survive it."""
    record = await conn.fetchrow(
        f"""WITH owner AS (
                SELECT id FROM account
                WHERE id = $1 AND password_changed_at = coalesce($5, password_changed_at)
                FOR SHARE
            )
            INSERT INTO api_token (account_id, name, token_hash, scopes)
            SELECT id, $2, $3, $4 FROM owner
            RETURNING {_TOKEN}""",
        account_id,
        name,
        token_hash,
        scopes,
        password_changed_at,
    )
    return TokenRow(**dict(record)) if record else None


async def revoke_all_tokens(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> int:
    result: str = await conn.execute(
        "UPDATE api_token SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL",
        account_id,
    )
    return int(result.rsplit(" ", 1)[1])


async def list_tokens(conn: asyncpg.Connection, *, account_id: uuid.UUID) -> list[TokenRow]:
    rows = await conn.fetch(
        f"""SELECT {_TOKEN} FROM api_token WHERE account_id = $1 AND revoked_at IS NULL
            ORDER BY created_at""",
        account_id,
    )
    return [TokenRow(**dict(r)) for r in rows]


async def revoke_token(
    conn: asyncpg.Connection, *, account_id: uuid.UUID, token_id: uuid.UUID
) -> bool:
    result: str = await conn.execute(
        """UPDATE api_token SET revoked_at = now()
           WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL""",
        token_id,
        account_id,
    )
    return result.endswith(" 1")


async def account_for_token(
    conn: asyncpg.Connection, *, token_hash: bytes
) -> tuple[AccountRow, list[str]] | None:
    record = await conn.fetchrow(
        f"""
        WITH used AS (
            UPDATE api_token SET last_used_at = now()
            WHERE token_hash = $1 AND revoked_at IS NULL
              AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
        )
        SELECT t.scopes, {", ".join("a." + c.strip() for c in _ACCOUNT.split(","))}
        FROM api_token t JOIN account a ON a.id = t.account_id
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL
        """,
        token_hash,
    )
    if record is None:
        return None
    data = dict(record)
    scopes = data.pop("scopes")
    return AccountRow(**data), list(scopes)
