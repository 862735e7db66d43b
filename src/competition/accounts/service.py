"""Account rules: registration with e-mail verification, login, password reset, API tokens.

No answer reveals whether an address is registered: registering a taken address answers like a
new registration and mails the owner instead; a reset request always answers 202.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
from redis.asyncio import Redis

from competition.accounts import queries, security
from competition.accounts.queries import AccountRow
from competition.auth import Services
from competition.companies import queries as company_queries
from competition.config import Settings
from competition.errors import AppError, Forbidden, Unauthorized
from competition.events import service as events
from competition.events.queries import EventRow
from competition.jury import queries as jury_queries
from competition.localization import format_datetime
from competition.notifications.service import queue_email
from competition.privacy import notice as privacy_notice


class InvalidToken(AppError):
    status_code = 400
    code = "invalid_token"


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def roles_of(conn: asyncpg.Connection, account: AccountRow) -> list[str]:
    roles = ["entrant"]
    if await jury_queries.is_active_juror_anywhere(conn, account_id=account.id):
        roles.append("juror")
    if account.is_organiser:
        roles.append("organiser")
    return roles


async def register(
    conn: asyncpg.Connection, *, email: str, password: str, name: str, locale: str
) -> tuple[uuid.UUID, str]:
    """Returns (id, email). A taken address yields a fresh, unused id and a mail to its owner."""
    email = normalise_email(email)
    account = await queries.insert_account(
        conn,
        email=email,
        name=name.strip(),
        password_hash=await security.hash_password(password),
        locale=locale,
        privacy_version=privacy_notice.VERSION,
    )
    if account is None:
        existing = await queries.get_account_by_email(conn, email=email)
        if existing is not None:  # else removed since (retention): nobody to tell
            await events.record(conn, "account.registration_repeated", aggregate_id=existing.id)
        return uuid.uuid4(), email
    await events.record(conn, "account.registered", aggregate_id=account.id)
    return account.id, email


async def verify_email(conn: asyncpg.Connection, settings: Settings, *, token: str) -> AccountRow:
    payload = security.unsign(settings, "verify-email", token, max_age=security.VERIFY_MAX_AGE)
    if payload is None:
        raise InvalidToken("Der Bestätigungslink ist ungültig oder abgelaufen.")
    account_id = uuid.UUID(str(payload.get("a")))
    if not await queries.mark_verified(conn, account_id=account_id, email=str(payload.get("e"))):
        raise InvalidToken("Der Bestätigungslink ist ungültig oder abgelaufen.")
    account = await queries.get_account(conn, account_id=account_id)
    if account is None:
        raise InvalidToken("Der Bestätigungslink ist ungültig oder abgelaufen.")
    # Companies that invited this address by mail get their new member now.
    await company_queries.redeem_invitations(conn, account_id=account.id, email=account.email)
    return account


async def authenticate(conn: asyncpg.Connection, *, email: str, password: str) -> AccountRow:
    account = await queries.get_account_by_email(conn, email=normalise_email(email))
    ok = await security.verify_password(account.password_hash if account else None, password)
    if account is None or not ok:
        raise Unauthorized("E-Mail-Adresse oder Passwort ist falsch.", code="invalid_credentials")
    if account.email_verified_at is None:
        raise Forbidden(
            "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse über den Link in unserer E-Mail.",
            code="email_not_verified",
        )
    return account


async def request_password_reset(conn: asyncpg.Connection, *, email: str) -> None:
    account = await queries.get_account_by_email(conn, email=normalise_email(email))
    if account is not None:
        await events.record(conn, "account.password_reset_requested", aggregate_id=account.id)


async def confirm_password_reset(
    conn: asyncpg.Connection, redis: Redis, settings: Settings, *, token: str, password: str
) -> AccountRow:
    from competition.accounts import sessions

    payload = security.unsign(settings, "password-reset", token, max_age=security.RESET_MAX_AGE)
    invalid = InvalidToken("Der Link zum Zurücksetzen ist ungültig, abgelaufen oder verbraucht.")
    if payload is None:
        raise invalid
    account = await queries.get_account(conn, account_id=uuid.UUID(str(payload.get("a"))))
    if account is None or payload.get("p") != security.fingerprint(account.password_changed_at):
        raise invalid
    await queries.set_password(
        conn, account_id=account.id, password_hash=await security.hash_password(password)
    )
    await sessions.delete_all(redis, account_id=account.id)
    return account


# Event handlers (run by the worker, inside the transaction that marks the event processed).


def _link(settings: Settings, path: str, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}{path}?token={token}"


def _expiry(created: datetime, seconds: int, locale: str) -> str:
    return format_datetime(created + timedelta(seconds=seconds), locale)


async def _mail_owner(
    conn: asyncpg.Connection,
    services: Services,
    event: EventRow,
    *,
    template: str,
    context: Callable[[AccountRow], dict[str, str]],
    unless: Callable[[AccountRow], bool] = lambda _: False,
) -> None:
    """Queue one mail to the account the event is about (once per event, by the outbox key)."""
    assert event.aggregate_id is not None
    account = await queries.get_account(conn, account_id=event.aggregate_id)
    if account is None or unless(account):
        return
    await queue_email(
        conn,
        services.settings,
        event_id=event.id,
        template=template,
        recipient=account.email,
        locale=account.locale,
        account_id=account.id,
        context={"name": account.name, **context(account)},
    )


async def on_registered(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    settings = services.settings

    def context(account: AccountRow) -> dict[str, str]:
        token = security.sign(settings, "verify-email", {"a": str(account.id), "e": account.email})
        return {
            "action_url": _link(settings, "/verify", token),
            "expires": _expiry(event.created_at, security.VERIFY_MAX_AGE, account.locale),
        }

    await _mail_owner(
        conn,
        services,
        event,
        template="verify_email",
        context=context,
        unless=lambda account: account.email_verified_at is not None,
    )


async def on_password_reset_requested(
    conn: asyncpg.Connection, services: Services, event: EventRow
) -> None:
    settings = services.settings

    def context(account: AccountRow) -> dict[str, str]:
        token = security.sign(
            settings,
            "password-reset",
            {"a": str(account.id), "p": security.fingerprint(account.password_changed_at)},
        )
        return {
            "action_url": _link(settings, "/password-reset", token),
            "expires": _expiry(event.created_at, security.RESET_MAX_AGE, account.locale),
        }

    await _mail_owner(conn, services, event, template="password_reset", context=context)


async def on_registration_repeated(
    conn: asyncpg.Connection, services: Services, event: EventRow
) -> None:
    reset_page = f"{services.settings.public_url.rstrip('/')}/password-reset"
    await _mail_owner(
        conn,
        services,
        event,
        template="account_exists",
        context=lambda _: {"action_url": reset_page},
    )
