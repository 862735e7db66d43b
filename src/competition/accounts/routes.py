"""Account endpoints: /auth/* and /me."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from competition import ratelimit
from competition.accounts import queries, schemas, security, service, sessions
from competition.auth import ORGANISE, Conn, PrincipalDep, ServicesDep, User
from competition.errors import Forbidden, Invalid, NotFound, Unauthorized, problem


def _cookies(services: ServicesDep, session_id: str, csrf: str) -> list[Cookie]:
    settings = services.settings
    common: dict[str, Any] = {
        "path": "/",
        "secure": settings.cookie_secure,
        "samesite": "lax",
        "max_age": settings.session_ttl_seconds,
    }
    return [
        Cookie(key=sessions.SESSION_COOKIE, value=session_id, httponly=True, **common),
        Cookie(key=sessions.CSRF_COOKIE, value=csrf, httponly=False, **common),
    ]


class AuthController(Controller):
    path = "/auth"
    tags = ["Konten"]

    @post("/register", status_code=201)
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: schemas.RegisterBody,
        services: ServicesDep,
        conn: Conn,
    ) -> schemas.Registered:
        """Register an account; a verification mail follows."""
        await service.limit_registration(
            services.redis,
            services.settings,
            email=data.email,
            client=ratelimit.request_client(request, services.settings),
        )
        if not data.accept_privacy:
            raise Invalid(
                "account.privacy_not_accepted",
                fields=[problem("accept_privacy", "account.accept_privacy")],
            )
        account_id, email = await service.register(
            conn, email=data.email, password=data.password, name=data.name, locale=data.locale
        )
        return schemas.Registered(id=account_id, email=email, email_verified=False)

    @post("/verify", status_code=200)
    async def verify(
        self, data: schemas.TokenBody, services: ServicesDep, conn: Conn
    ) -> schemas.Verified:
        """Confirm the e-mail address with the token from the verification mail."""
        account = await service.verify_email(conn, services.settings, token=data.token)
        return schemas.Verified(id=account.id, email=account.email, email_verified=True)

    @post("/login", status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: schemas.LoginBody,
        services: ServicesDep,
        conn: Conn,
    ) -> Response[schemas.LoggedIn]:
        """Log in; sets the session cookie and returns the CSRF token for later writes."""
        account = await service.log_in(
            conn,
            services.redis,
            services.settings,
            email=data.email,
            password=data.password,
            client=ratelimit.request_client(request, services.settings),
        )
        session_id, session = await service.open_session(
            conn,
            services.redis,
            services.settings,
            account_id=account.id,
            replacing=request.cookies.get(sessions.SESSION_COOKIE),
        )
        body = schemas.LoggedIn(
            id=account.id,
            email=account.email,
            name=account.name,
            roles=await service.roles_of(conn, account),
            csrf_token=session.csrf_token,
        )
        return Response(body, cookies=_cookies(services, session_id, session.csrf_token))

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        response_cookies=sessions.expired_cookies(),
    )
    async def logout(self, principal: PrincipalDep, services: ServicesDep) -> None:
        """End the current session."""
        if principal is not None and principal.session_id:
            await sessions.delete(services.redis, principal.session_id)

    @post("/password-reset", status_code=HTTP_202_ACCEPTED)
    async def password_reset(
        self,
        request: Request[Any, Any, Any],
        data: schemas.ResetRequestBody,
        services: ServicesDep,
        conn: Conn,
    ) -> schemas.Accepted:
        """Request a password-reset mail; the answer is the same whether the address exists."""
        await service.limit_reset_request(
            services.redis,
            services.settings,
            email=data.email,
            client=ratelimit.request_client(request, services.settings),
        )
        await service.request_password_reset(conn, email=data.email)
        return schemas.Accepted(
            detail="Wenn die Adresse registriert ist, erhalten Sie in Kürze eine E-Mail."
        )

    @post("/password-reset/confirm", status_code=200)
    async def password_reset_confirm(
        self, data: schemas.ResetConfirmBody, services: ServicesDep, conn: Conn
    ) -> schemas.Verified:
        """Set a new password with the token from the reset mail; ends all sessions and API
        tokens of the account."""
        account = await service.confirm_password_reset(
            conn, services.redis, services.settings, token=data.token, password=data.password
        )
        return schemas.Verified(id=account.id, email=account.email, email_verified=True)


class MeController(Controller):
    path = "/me"
    tags = ["Konten"]

    @post("/password", status_code=200)
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        data: schemas.PasswordChange,
        user: User,
        services: ServicesDep,
        conn: Conn,
    ) -> Response[schemas.PasswordChanged]:
        """Change the password; every session and API token of the account ends, the calling
        browser gets a new session."""
        account = await service.change_password(
            conn,
            services.redis,
            services.settings,
            account_id=user.account_id,
            current_password=data.current_password,
            new_password=data.new_password,
            client=ratelimit.request_client(request, services.settings),
        )
        if user.via != "session":
            return Response(schemas.PasswordChanged(csrf_token=None))
        session_id, session = await service.open_session(
            conn, services.redis, services.settings, account_id=account.id, replacing=None
        )
        return Response(
            schemas.PasswordChanged(csrf_token=session.csrf_token),
            cookies=_cookies(services, session_id, session.csrf_token),
        )

    @get("/")
    async def me(self, user: User, conn: Conn) -> schemas.Me:
        """The signed-in account with its roles."""
        account = await queries.get_account(conn, account_id=user.account_id)
        if account is None:
            raise NotFound("account.not_found")
        return schemas.Me(
            id=account.id,
            email=account.email,
            name=account.name,
            locale=account.locale,
            roles=await service.roles_of(conn, account),
            email_verified=account.email_verified_at is not None,
        )

    @patch("/")
    async def update_me(self, data: schemas.MeUpdate, user: User, conn: Conn) -> schemas.Me:
        """Change name or language."""
        account = await queries.update_profile(
            conn, account_id=user.account_id, name=data.name, locale=data.locale
        )
        if account is None:
            raise NotFound("account.not_found")
        return schemas.Me(
            id=account.id,
            email=account.email,
            name=account.name,
            locale=account.locale,
            roles=await service.roles_of(conn, account),
            email_verified=account.email_verified_at is not None,
        )

    @post("/tokens", status_code=201)
    async def create_token(
        self, data: schemas.TokenCreate, user: User, conn: Conn
    ) -> schemas.TokenCreated:
        """Create an API token; it is shown once and stored only as a hash. A token creates
        tokens with at most its own scopes; `organise` is for organisers only."""
        scopes = set(data.scopes)
        if not scopes <= user.scopes:
            raise Forbidden(
                "account.token_scopes_exceeded",
                code="insufficient_scope",
                scopes=", ".join(sorted(scopes - user.scopes)),
            )
        if ORGANISE in scopes and not user.is_organiser:
            raise Invalid(
                "account.organise_scope_organisers_only",
                fields=[problem("scopes", "account.organise_scope_reserved")],
            )
        token, token_hash = security.new_api_token()
        row = await queries.insert_token(
            conn,
            account_id=user.account_id,
            name=data.name,
            token_hash=token_hash,
            scopes=sorted(scopes),
            password_changed_at=user.password_changed_at,
        )
        if row is None:
            raise Unauthorized("account.stale_login", code="stale_login")
        return schemas.TokenCreated(
            id=row.id, name=row.name, scopes=row.scopes, token=token, created_at=row.created_at
        )

    @get("/tokens")
    async def list_tokens(self, user: User, conn: Conn) -> list[schemas.TokenInfo]:
        """The caller's active API tokens (without their secret)."""
        rows = await queries.list_tokens(conn, account_id=user.account_id)
        return [
            schemas.TokenInfo(
                id=r.id,
                name=r.name,
                scopes=r.scopes,
                created_at=r.created_at,
                last_used_at=r.last_used_at,
            )
            for r in rows
        ]

    @delete("/tokens/{token_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def revoke_token(self, token_id: uuid.UUID, user: User, conn: Conn) -> None:
        """Revoke one of the caller's API tokens."""
        if not await queries.revoke_token(conn, account_id=user.account_id, token_id=token_id):
            raise NotFound("account.token_not_found")
