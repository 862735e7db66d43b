"""Account pages: register, verify the address, log in and out, reset the password.

The same service and session code as the API's /auth routes (`competition.accounts`), with the
same rate limits; only the answers are pages and redirects instead of JSON.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Template

from competition import ratelimit
from competition.accounts import routes as account_routes
from competition.accounts import schemas, service, sessions
from competition.auth import ServicesDep
from competition.web import forms
from competition.web.rendering import UI, Notice, UIDep, safe_next


def client_of(request: Request[Any, Any, Any], services: ServicesDep) -> str:
    return ratelimit.request_client(request, services.settings)


async def start_session(
    ui: UI,
    services: ServicesDep,
    account_id: uuid.UUID,
    target: str,
    *,
    notice: Notice | None = None,
) -> Response[Any]:
    """A fresh session id on every login (a planted cookie never becomes a session)."""
    session_id, session = await service.open_session(
        ui.conn,
        services.redis,
        services.settings,
        account_id=account_id,
        replacing=ui.request.cookies.get(sessions.SESSION_COOKIE),
    )
    response = ui.redirect(target, notice=notice)
    # The API's own cookie settings: both ways of logging in yield the same session.
    response.cookies.extend(account_routes._cookies(services, session_id, session.csrf_token))
    return response


class AccountPages(Controller):
    include_in_schema = False

    @get("/register")
    async def register_form(self, ui: UIDep) -> Template:
        """Registration form."""
        return await ui.render("accounts/register.html", values={"locale": ui.locale})

    @post("/register")
    async def register(self, ui: UIDep, services: ServicesDep) -> Response[Any]:
        """Register; the verification mail follows."""
        values = forms.values(await ui.request.form())
        body, errors = forms.convert(schemas.RegisterBody, _register_data(values), ui.locale)
        if values.get("password") != values.get("password_repeat"):
            errors["password_repeat"] = ui._("Die beiden Passwörter stimmen nicht überein.")
        if values.get("accept_privacy") != "1":
            errors["accept_privacy"] = ui._("Bitte stimmen Sie den Datenschutzhinweisen zu.")

        async def register_account(body: schemas.RegisterBody) -> None:
            await service.limit_registration(
                services.redis,
                services.settings,
                email=body.email,
                client=client_of(ui.request, services),
            )
            await service.register(
                ui.conn,
                email=body.email,
                password=body.password,
                name=body.name,
                locale=body.locale,
            )

        return await forms.answer(
            ui.locale,
            register_account(body) if body is not None and not errors else None,
            fields=errors,
            done=lambda _: ui.redirect("/login", notice="registered"),
            again=lambda problems, status: ui.render(
                "accounts/register.html",
                status_code=status,
                values=values,
                message=problems.message,
                errors=problems.fields,
            ),
        )

    @get("/verify")
    async def verify(
        self, ui: UIDep, services: ServicesDep, token: FromQuery[str] = ""
    ) -> Response[Any]:
        """The link from the verification mail: confirms the address (repeating it is harmless)."""
        return await forms.answer(
            ui.locale,
            service.verify_email(ui.conn, services.settings, token=token),
            done=lambda _: ui.redirect("/login", notice="verified"),
            again=lambda problems, _: ui.render(
                "accounts/link_invalid.html", status_code=400, message=problems.message
            ),
        )

    @get("/login")
    async def login_form(self, ui: UIDep, next: FromQuery[str] = "") -> Template:
        """Login form."""
        return await ui.render("accounts/login.html", next=safe_next(next) or "")

    @post("/login")
    async def login(self, ui: UIDep, services: ServicesDep) -> Response[Any]:
        """Log in and continue where the person wanted to go."""
        values = forms.values(await ui.request.form())
        target = safe_next(values.get("next")) or "/mein-bereich"
        email, password = values.get("email", ""), values.get("password", "")
        return await forms.answer(
            ui.locale,
            service.log_in(
                ui.conn,
                services.redis,
                services.settings,
                email=email,
                password=password,
                client=client_of(ui.request, services),
            ),
            done=lambda account: start_session(ui, services, account.id, target),
            again=lambda problems, status: ui.render(
                "accounts/login.html",
                status_code=status,
                values={"email": email},
                next=safe_next(values.get("next")) or "",
                message=problems.message,
            ),
        )

    @post("/logout")
    async def logout(self, ui: UIDep, services: ServicesDep) -> Response[Any]:
        """End the session."""
        if ui.principal is not None and ui.principal.session_id:
            await sessions.delete(services.redis, ui.principal.session_id)
        return _signed_out(ui.redirect("/", notice="logged_out"))

    @get("/password-reset")
    async def reset_form(self, ui: UIDep, token: FromQuery[str] = "") -> Template:
        """Ask for a reset mail, or (with the token from that mail) choose a new password."""
        if token:
            return await ui.render("accounts/reset_confirm.html", token=token)
        return await ui.render("accounts/reset_request.html")

    @post("/password-reset")
    async def reset_request(self, ui: UIDep, services: ServicesDep) -> Response[Any]:
        """Send a reset mail; the answer is the same whether the address exists."""
        email = forms.values(await ui.request.form()).get("email", "")

        async def request_reset() -> None:
            await service.limit_reset_request(
                services.redis,
                services.settings,
                email=email,
                client=client_of(ui.request, services),
            )
            await service.request_password_reset(ui.conn, email=email)

        return await forms.answer(
            ui.locale,
            request_reset(),
            done=lambda _: ui.redirect("/login", notice="reset_requested"),
            again=lambda problems, status: ui.render(
                "accounts/reset_request.html",
                status_code=status,
                values={"email": email},
                message=problems.message,
            ),
        )

    @post("/password-reset/neu")
    async def reset_confirm(self, ui: UIDep, services: ServicesDep) -> Response[Any]:
        """Set the new password; every session of the account ends."""
        values = forms.values(await ui.request.form())
        token = values.get("token", "")
        body, errors = forms.convert(
            schemas.ResetConfirmBody,
            {"token": token, "password": values.get("password", "")},
            ui.locale,
        )
        if values.get("password") != values.get("password_repeat"):
            errors["password_repeat"] = ui._("Die beiden Passwörter stimmen nicht überein.")
        if body is None or errors:
            return await ui.render(
                "accounts/reset_confirm.html", status_code=422, token=token, errors=errors
            )
        return await forms.answer(
            ui.locale,
            service.confirm_password_reset(
                ui.conn,
                services.redis,
                services.settings,
                token=body.token,
                password=body.password,
            ),
            done=lambda _: _signed_out(ui.redirect("/login", notice="password_changed")),
            again=lambda problems, status: ui.render(
                "accounts/link_invalid.html", status_code=status, message=problems.message
            ),
        )


def _signed_out(response: Response[Any]) -> Response[Any]:
    """The answer, with the cookies of the session expired."""
    response.cookies.extend(sessions.expired_cookies())
    return response


def _register_data(values: dict[str, str]) -> dict[str, Any]:
    return {
        "email": values.get("email", "").strip(),
        "name": values.get("name", "").strip(),
        "password": values.get("password", ""),
        "locale": values.get("locale") or "de",
    }
