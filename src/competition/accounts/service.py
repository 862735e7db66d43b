"""Account rules: registration with e-mail verification, login, password reset, API tokens.

No answer reveals whether an address is registered: registering a taken address answers like a
new registration and mails the owner instead; a reset request always answers 202.

Setting a password (reset, change, an invitation taking over an account) ends everything the old
one opened: every session and every API token (OWASP session management cheat sheet). An
existing account is never verified or handed to someone by an invitation alone: whoever accepts
proves control of it (its password, or being signed in to it) or sets a new password, which
locks out whoever knew the old one (the "pre-hijacking" attack on unverified accounts).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
import msgspec
from redis.asyncio import Redis

from competition import ratelimit
from competition.accounts import privacy_notice, queries, security, sessions
from competition.accounts.queries import AccountRow
from competition.config import Settings
from competition.errors import AppError, Forbidden, Invalid, Unauthorized, problem
from competition.events import service as events
from competition.events.queries import EventRow
from competition.localization import format_datetime
from competition.notifications.service import queue_email
from competition.services import Services


class InvalidToken(AppError):
    status_code = 400
    code = "invalid_token"


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def roles_of(conn: asyncpg.Connection, account: AccountRow) -> list[str]:
    roles = ["entrant"]
    if await queries.holds_jury_seat(conn, account_id=account.id):
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
        raise InvalidToken("account.verify_link_invalid")
    account_id = uuid.UUID(str(payload.get("a")))
    if not await queries.mark_verified(conn, account_id=account_id, email=str(payload.get("e"))):
        raise InvalidToken("account.verify_link_invalid")
    account = await queries.get_account(conn, account_id=account_id)
    if account is None:
        raise InvalidToken("account.verify_link_invalid")
    # Companies that invited this address wait for its answer ("Mein Bereich"): verifying an
    # address is no consent to join anything.
    return account


async def limit_registration(redis: Redis, settings: Settings, *, email: str, client: str) -> None:
    """Registrations per client and per address (each one mails the address)."""
    for action, identifier, limit in (
        ("register-client", client, settings.register_rate_limit),
        ("register-address", normalise_email(email), settings.register_address_limit),
    ):
        await ratelimit.hit(
            redis,
            action=action,
            identifier=identifier,
            limit=limit,
            window=settings.rate_limit_window_seconds,
        )


async def limit_reset_request(redis: Redis, settings: Settings, *, email: str, client: str) -> None:
    """Reset mails per client and per address."""
    for action, identifier, limit in (
        ("reset-client", client, settings.reset_rate_limit),
        ("reset-address", normalise_email(email), settings.reset_address_limit),
    ):
        await ratelimit.hit(
            redis,
            action=action,
            identifier=identifier,
            limit=limit,
            window=settings.rate_limit_window_seconds,
        )


async def log_in(
    conn: asyncpg.Connection,
    redis: Redis,
    settings: Settings,
    *,
    email: str,
    password: str,
    client: str,
) -> AccountRow:
    """`authenticate`, throttled by failures (ratelimit.LoginThrottle): a right password is
    never counted, so a jury room of jurors signing in from one address is never stopped."""
    throttle = ratelimit.LoginThrottle(redis, settings, email=normalise_email(email), client=client)
    await throttle.check()
    try:
        account = await authenticate(conn, email=email, password=password)
    except Unauthorized:
        await throttle.failed()
        raise
    except Forbidden:
        raise  # the password was right; the address is not yet confirmed
    await throttle.succeeded()
    return account


async def authenticate(conn: asyncpg.Connection, *, email: str, password: str) -> AccountRow:
    account = await queries.get_account_by_email(conn, email=normalise_email(email))
    ok = await security.verify_password(account.password_hash if account else None, password)
    if account is None or not ok:
        raise Unauthorized("account.login_failed", code="invalid_credentials")
    if account.email_verified_at is None:
        raise Forbidden("account.email_not_verified", code="email_not_verified")
    return account


async def open_session(
    conn: asyncpg.Connection,
    redis: Redis,
    settings: Settings,
    *,
    account_id: uuid.UUID,
    replacing: str | None,
) -> tuple[str, sessions.Session]:
    """A fresh session for an authenticated account, bound to its current password. The id is
    new at every login (a planted cookie never becomes a session); `replacing` ends the old one."""
    if replacing:
        await sessions.delete(redis, replacing)
    account = await queries.get_account(conn, account_id=account_id)
    if account is None:
        raise Unauthorized()
    return await sessions.create(
        redis,
        account_id=account.id,
        password_changed_at=account.password_changed_at,
        ttl=settings.session_ttl_seconds,
    )


async def request_password_reset(conn: asyncpg.Connection, *, email: str) -> None:
    account = await queries.get_account_by_email(conn, email=normalise_email(email))
    if account is not None:
        await events.record(conn, "account.password_reset_requested", aggregate_id=account.id)


async def replace_password(
    conn: asyncpg.Connection,
    redis: Redis,
    *,
    account_id: uuid.UUID,
    password: str,
    name: str | None = None,
) -> None:
    """Set a new password and end every session and API token of the account.

    Sessions are bound to the password they were opened with (sessions.py), so one created by a
    login racing this change dies with the rest; deleting them from Redis frees the memory."""
    await queries.set_password(
        conn, account_id=account_id, password_hash=await security.hash_password(password), name=name
    )
    await queries.revoke_all_tokens(conn, account_id=account_id)
    await sessions.delete_all(redis, account_id=account_id)


async def change_password(
    conn: asyncpg.Connection,
    redis: Redis,
    settings: Settings,
    *,
    account_id: uuid.UUID,
    current_password: str,
    new_password: str,
    client: str,
) -> AccountRow:
    """The signed-in person changes their password; returns the account as it is now. The
    current password is throttled like a login: a stolen session is no guessing machine."""
    account = await queries.get_account(conn, account_id=account_id)
    if account is None:
        raise Unauthorized()
    throttle = ratelimit.LoginThrottle(redis, settings, email=account.email, client=client)
    await throttle.check()
    if not await security.verify_password(account.password_hash, current_password):
        await throttle.failed()
        raise Invalid(
            "account.current_password_wrong",
            code="invalid_credentials",
            fields=[problem("current_password", "account.current_password_wrong")],
        )
    await replace_password(conn, redis, account_id=account_id, password=new_password)
    changed = await queries.get_account(conn, account_id=account_id)
    if changed is None:  # deleted in the meantime
        raise Unauthorized()
    return changed


class InvitationAccount(msgspec.Struct, frozen=True, kw_only=True):
    account: AccountRow
    created: bool
    password_set: bool
    # An account nobody had verified, now the invited person's (their password and name).
    taken_over: bool = False


async def account_for_invitation(
    conn: asyncpg.Connection,
    redis: Redis,
    *,
    email: str,
    name: str,
    password: str | None,
    set_new_password: bool,
    signed_in_as: uuid.UUID | None,
) -> InvitationAccount:
    """The account an accepted invitation belongs to. The invitation link proves the address;
    an existing account must also be proven (signed in to it, or its password), or the caller
    sets a new password for it. An account nobody ever verified belongs to nobody yet: a
    password typed here replaces whatever its registrant chose, with the invited name.

    Whoever accepts has accepted the current privacy notice with the invitation, and it is
    recorded as at registration: on a new account, on an account taken over (the registrant's
    consent was not theirs), and on an existing one that had not accepted this version."""
    claimed = await _claim_for_invitation(
        conn,
        redis,
        email=email,
        name=name,
        password=password,
        set_new_password=set_new_password,
        signed_in_as=signed_in_as,
    )
    if not claimed.created:
        await queries.record_privacy_consent(
            conn,
            account_id=claimed.account.id,
            version=privacy_notice.VERSION,
            again=claimed.taken_over,
        )
    return claimed


async def _claim_for_invitation(
    conn: asyncpg.Connection,
    redis: Redis,
    *,
    email: str,
    name: str,
    password: str | None,
    set_new_password: bool,
    signed_in_as: uuid.UUID | None,
) -> InvitationAccount:
    email = normalise_email(email)
    account = await queries.get_account_by_email(conn, email=email)
    if account is None:
        if password is None:
            raise Invalid(
                "account.password_needed",
                fields=[problem("password", "account.password_required_new")],
            )
        created = await queries.insert_account(
            conn,
            email=email,
            name=name,
            password_hash=await security.hash_password(password),
            locale="de",
            verified=True,
            privacy_version=privacy_notice.VERSION,
        )
        if created is None:  # registered in this very moment: treat it as existing next time
            raise Invalid(
                "account.created_meanwhile",
                code="account_exists",
                fields=[problem("password", "account.send_again")],
            )
        return InvitationAccount(account=created, created=True, password_set=True)
    if signed_in_as == account.id and account.email_verified_at is not None:
        return InvitationAccount(account=account, created=False, password_set=False)
    if password is None:
        raise Invalid(
            "account.exists",
            code="account_exists",
            fields=[problem("password", "account.existing_or_new_password")],
        )
    unverified = account.email_verified_at is None
    if not unverified and not set_new_password:
        if not await security.verify_password(account.password_hash, password):
            raise Invalid(
                "account.existing_password_wrong",
                code="invalid_credentials",
                fields=[problem("password", "account.existing_or_new_password")],
            )
        return InvitationAccount(account=account, created=False, password_set=False)
    await replace_password(
        conn, redis, account_id=account.id, password=password, name=name if unverified else None
    )
    now = await queries.get_account(conn, account_id=account.id)
    if now is None:
        raise Unauthorized()
    return InvitationAccount(account=now, created=False, password_set=True, taken_over=unverified)


async def confirm_password_reset(
    conn: asyncpg.Connection, redis: Redis, settings: Settings, *, token: str, password: str
) -> AccountRow:
    payload = security.unsign(settings, "password-reset", token, max_age=security.RESET_MAX_AGE)
    invalid = InvalidToken("account.reset_link_invalid")
    if payload is None:
        raise invalid
    account = await queries.get_account(conn, account_id=uuid.UUID(str(payload.get("a"))))
    if account is None or payload.get("p") != security.fingerprint(account.password_changed_at):
        raise invalid
    await replace_password(conn, redis, account_id=account.id, password=password)
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
    account = await queries.get_account(conn, account_id=event.subject)
    if account is None or unless(account):
        return
    await queue_email(
        conn,
        services.settings,
        event_id=event.id,
        template=template,
        competition_id=None,
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
    """Create a verified account (the operator's command, the demo data), or find the existing
    one; returns (id, created).

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
