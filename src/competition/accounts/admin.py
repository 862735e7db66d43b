"""Operator actions on accounts, used by the `competition` command."""

from __future__ import annotations

import uuid

import asyncpg

from competition.accounts import queries, security
from competition.accounts.service import normalise_email
from competition.config import Settings
from competition.db import create_pool, transaction


async def ensure_account(
    conn: asyncpg.Connection,
    *,
    email: str,
    name: str,
    password: str,
    organiser: bool = False,
    admin: bool = False,
    locale: str = "de",
) -> tuple[uuid.UUID, bool]:
    """Create a verified account, or find the existing one; returns (id, created).

    An existing account nobody ever verified gets this password and name: otherwise whoever
    registered the address first would log in to the account the operator meant for someone
    else (its sessions cannot exist, unverified accounts cannot log in; tokens are revoked)."""
    email = normalise_email(email)
    account = await queries.insert_account(
        conn,
        email=email,
        name=name,
        password_hash=await security.hash_password(password),
        locale=locale,
        verified=True,
        is_organiser=organiser,
    )
    created = account is not None
    if account is None:
        account = await queries.get_account_by_email(conn, email=email)
        if account is None:
            raise RuntimeError(f"{email}: the account vanished while it was being created")
        if account.email_verified_at is None:
            await queries.set_password(
                conn,
                account_id=account.id,
                password_hash=await security.hash_password(password),
                name=name,
            )
            await queries.revoke_all_tokens(conn, account_id=account.id)
    if organiser and not account.is_organiser:
        await queries.make_organiser(conn, account_id=account.id)
    if admin:
        await queries.set_admin(conn, account_id=account.id, admin=True)
    return account.id, created


async def create_organiser(
    settings: Settings, *, email: str, name: str, password: str, admin: bool = False
) -> tuple[uuid.UUID, bool]:
    """An organiser account (may create competitions); `admin` also makes it a platform
    administrator, who sees the mail outbox of the whole platform."""
    if len(password) < 10:
        raise SystemExit("Das Passwort muss mindestens 10 Zeichen lang sein.")
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with transaction(pool) as conn:
            return await ensure_account(
                conn, email=email, name=name, password=password, organiser=True, admin=admin
            )
    finally:
        await pool.close()
