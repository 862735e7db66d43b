"""Data protection (DSGVO): the privacy notice, each account's data export, account deletion by
anonymisation, and retention.

Deletion replaces personal data (name, e-mail, password, memberships, tokens, mail contents) and
keeps the competition record consistent: entries belong to companies, not to people; score
sheets stay with a juror record that no longer names anyone. The audit log only ever holds
account ids, which point at the anonymised account afterwards.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from redis.asyncio import Redis

from competition.accounts import queries as account_queries
from competition.accounts import security, sessions
from competition.audit import service as audit
from competition.auth import Principal
from competition.config import Settings
from competition.errors import Unauthorized
from competition.privacy import queries


async def export(conn: asyncpg.Connection, principal: Principal) -> dict[str, Any]:
    data = await queries.export(conn, account_id=principal.account_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="account.exported",
        subject_type="account",
        subject_id=principal.account_id,
    )
    return data


async def delete_account(
    conn: asyncpg.Connection, redis: Redis, principal: Principal, *, password: str
) -> None:
    account = await account_queries.get_account(conn, account_id=principal.account_id)
    if account is None or not await security.verify_password(account.password_hash, password):
        raise Unauthorized("privacy.password_wrong", code="invalid_credentials")
    await queries.anonymise(conn, account_id=account.id)
    await sessions.delete_all(redis, account_id=account.id)
    await audit.record(
        conn,
        actor_id=account.id,
        action="account.deleted",
        subject_type="account",
        subject_id=account.id,
    )


async def apply_retention(conn: asyncpg.Connection, settings: Settings) -> int:
    """The periodic duty: forget what is no longer needed."""
    blanked = await queries.blank_old_mail_bodies(conn, days=settings.retention_mail_days)
    deleted = await queries.delete_stale_unverified(conn, days=settings.retention_unverified_days)
    return blanked + deleted
