"""Who is calling: the principal behind a session cookie or a Bearer API token.

Cookie-authenticated writes must carry the CSRF token of their session in the `X-CSRF-Token`
header (the token is returned at login and readable in the `ind_csrf` cookie); HTML forms, which
cannot send headers, carry it in the hidden field `csrf_token`. Bearer requests need none: a
browser never attaches them by itself. API tokens are scoped: `read` for safe methods,
`write` for everything else.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, cast

import asyncpg
import msgspec
from litestar import Request
from litestar.di import NamedDependency
from redis.asyncio import Redis

from competition.accounts import queries as account_queries
from competition.accounts import security, sessions
from competition.config import Settings
from competition.errors import Forbidden, ServiceUnavailable, Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Services(msgspec.Struct, kw_only=True):
    """Process-wide handles, created once at start-up and kept in `app.state.services`."""

    settings: Settings
    pool: asyncpg.Pool
    redis: Redis
    storage: Any  # competition.storage.s3.Storage; Any keeps boto3 out of import cycles


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    account_id: uuid.UUID
    email: str
    name: str
    locale: str
    is_organiser: bool
    email_verified: bool
    via: str  # "session" or "token"
    scopes: frozenset[str]
    # When the account's password was last set: tokens are minted only while it is unchanged.
    password_changed_at: datetime
    session_id: str | None = None


# Handler parameters name their dependency explicitly (Litestar deprecates inferring it).
ServicesDep = NamedDependency[Services]
Conn = NamedDependency[asyncpg.Connection]
PrincipalDep = NamedDependency[Principal | None]
User = NamedDependency[Principal]
Organiser = NamedDependency[Principal]


def provide_services(request: Request[Any, Any, Any]) -> Services:
    services: Services = request.app.state.services
    return services


async def provide_conn(services: ServicesDep) -> AsyncGenerator[asyncpg.Connection, None]:
    """One transaction per request: committed before the response is sent, rolled back on error.

    Waiting for a free connection is bounded: a full pool answers 503 with Retry-After instead
    of letting requests pile up behind it."""
    try:
        acquired = await services.pool.acquire(timeout=services.settings.db_acquire_timeout_seconds)
    except TimeoutError as exc:
        raise ServiceUnavailable(
            "Der Dienst ist gerade stark ausgelastet. Bitte versuchen Sie es gleich erneut.",
            headers={"Retry-After": "2"},
        ) from exc
    try:
        async with acquired.transaction():
            yield cast(asyncpg.Connection, acquired)  # the pool's proxy forwards every method
    finally:
        await services.pool.release(acquired)


def principal_of(account: account_queries.AccountRow, **kwargs: Any) -> Principal:
    """The principal of an account; `via`, `scopes` (and `session_id`) say how it called."""
    return Principal(
        account_id=account.id,
        email=account.email,
        name=account.name,
        locale=account.locale,
        is_organiser=account.is_organiser,
        email_verified=account.email_verified_at is not None,
        password_changed_at=account.password_changed_at,
        **kwargs,
    )


async def provide_principal(
    request: Request[Any, Any, Any], services: ServicesDep, conn: Conn
) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.startswith(security.API_TOKEN_PREFIX):
            raise Unauthorized("Ungültiger Authorization-Header.", code="invalid_token")
        found = await account_queries.account_for_token(
            conn, token_hash=security.hash_token(token.strip())
        )
        if found is None:
            raise Unauthorized("Das API-Token ist ungültig oder widerrufen.", code="invalid_token")
        account, scopes = found
        needed = "read" if request.method in SAFE_METHODS else "write"
        if needed not in scopes:
            raise Forbidden(
                f"Dem API-Token fehlt der Geltungsbereich „{needed}“.", code="insufficient_scope"
            )
        return principal_of(account, via="token", scopes=frozenset(scopes))

    session_id = request.cookies.get(sessions.SESSION_COOKIE)
    if not session_id:
        return None
    session = await sessions.load(services.redis, session_id)
    if session is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(sessions.CSRF_HEADER, "")
        if not sent and request.content_type[0] in _FORM_TYPES:
            # Parsed once: Litestar keeps the form on the connection for the handler.
            sent = str((await request.form()).get(CSRF_FIELD, ""))
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise Forbidden(
                "CSRF-Token fehlt oder ist ungültig (Header X-CSRF-Token).", code="csrf_failed"
            )
    session_account = await account_queries.get_account(conn, account_id=session.account_id)
    if session_account is None or not sessions.opened_by_current_password(
        session, session_account.password_changed_at
    ):
        return None
    return principal_of(
        session_account, via="session", scopes=frozenset({"read", "write"}), session_id=session_id
    )


async def provide_user(principal: PrincipalDep) -> Principal:
    if principal is None:
        raise Unauthorized("Bitte melden Sie sich an.")
    return principal


async def provide_organiser(user: User) -> Principal:
    if not user.is_organiser:
        raise Forbidden("Nur für Organisatoren.")
    return user
