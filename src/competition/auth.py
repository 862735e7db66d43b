"""Who is calling: the principal behind a session cookie or a Bearer API token.

Cookie-authenticated writes must carry the CSRF token of their session in the `X-CSRF-Token`
header (the token is returned at login and readable in the `ind_csrf` cookie); HTML forms, which
cannot send headers, carry it in the hidden field `csrf_token`. Bearer requests need none: a
browser never attaches them by itself. API tokens are scoped: `read` for safe methods,
`write` for everything else, and `organise` besides for an organiser's writes, so a token made
to read results cannot deploy an assignment or publish (a session has every scope of its
account). A token never mints a token with a scope it lacks itself.

Login CSRF: a state-changing request from a browser (no Authorization header) whose Origin, or
else Referer, names another site is refused before anything else happens, so a foreign page
cannot sign a visitor in to an attacker's account (OWASP CSRF cheat sheet, "verifying origin
with standard headers"). Modern browsers send Origin with every cross-site POST; a request with
neither header comes from no browser and is left to the CSRF token and cookies' SameSite.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg
import msgspec
from litestar import Request
from litestar.di import NamedDependency

from competition.accounts import queries as account_queries
from competition.accounts import security, sessions
from competition.config import Settings
from competition.errors import Forbidden, ServiceUnavailable, Unauthorized
from competition.services import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ORGANISE = "organise"
SESSION_SCOPES = frozenset({"read", "write", ORGANISE})
CSRF_FIELD = "csrf_token"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    account_id: uuid.UUID
    email: str
    name: str
    locale: str
    is_organiser: bool
    email_verified: bool
    via: str  # "session" or "token"
    scopes: frozenset[str]
    # False for a token without `organise` on a write: it acts as no organiser at all.
    organiser_powers: bool = True
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
            "pool_exhausted",
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
            raise Unauthorized("authorization_header_invalid", code="invalid_token")
        found = await account_queries.account_for_token(
            conn, token_hash=security.hash_token(token.strip())
        )
        if found is None:
            raise Unauthorized("api_token_invalid", code="invalid_token")
        account, scopes = found
        safe = request.method in SAFE_METHODS
        needed = "read" if safe else "write"
        if needed not in scopes:
            raise Forbidden(code="insufficient_scope", scope=needed)
        return principal_of(
            account,
            via="token",
            scopes=frozenset(scopes),
            organiser_powers=safe or ORGANISE in scopes,
        )

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
            raise Forbidden(code="csrf_failed")
    session_account = await account_queries.get_account(conn, account_id=session.account_id)
    if session_account is None or not sessions.opened_by_current_password(
        session, session_account.password_changed_at
    ):
        return None
    return principal_of(
        session_account, via="session", scopes=SESSION_SCOPES, session_id=session_id
    )


async def provide_user(principal: PrincipalDep) -> Principal:
    if principal is None:
        raise Unauthorized()
    return principal


async def provide_organiser(user: User) -> Principal:
    if not user.is_organiser:
        raise Forbidden("organisers_only")
    if not user.organiser_powers:
        raise missing_organise_scope()
    return user


def missing_organise_scope() -> Forbidden:
    return Forbidden(code="insufficient_scope", scope=ORGANISE)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """A browser's write sent from another site: its Origin (or, without one, its Referer) is
    neither our public address nor the address the request was sent to."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent:
        return False
    origin = _origin(sent)
    if origin is None:
        return True  # "null" (sandboxed frames, privacy redirects) or garbage
    ours = {_origin(settings.public_url)}
    host = request.headers.get("host")
    if host:
        ours.add(f"{request.url.scheme}://{host}".lower())
    return origin not in ours


async def refuse_cross_site(request: Request[Any, Any, Any]) -> None:
    """Litestar before-request hook: browsers' writes from other sites never reach a route."""
    if request.method in SAFE_METHODS or request.headers.get("authorization"):
        return
    if cross_site(request, request.app.state.services.settings):
        raise Forbidden(code="cross_site_request")
