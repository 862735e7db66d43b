"""Request and response bodies of the account endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from competition.structs import Request, Response
from competition.text import Email, Line
from competition.vocabulary import Locale

Password = Annotated[Line, msgspec.Meta(min_length=10, max_length=256)]
Name = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
Scope = Literal["read", "write", "organise"]


class RegisterBody(Request):
    email: Email
    password: Password
    name: Name
    locale: Locale = "de"
    accept_privacy: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Zustimmung zur Datenschutzerklärung (GET /api/v1/privacy). Registrieren heißt "
                "zustimmen; false wird abgelehnt."
            )
        ),
    ] = True


class Registered(Response):
    id: uuid.UUID
    email: str
    email_verified: bool


class TokenBody(Request):
    token: Annotated[Line, msgspec.Meta(min_length=1, max_length=2000)]


class Verified(Response):
    id: uuid.UUID
    email: str
    email_verified: bool


class LoginBody(Request):
    email: Annotated[Line, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[Line, msgspec.Meta(min_length=1, max_length=256)]


class LoggedIn(Response):
    id: uuid.UUID
    email: str
    name: str
    roles: list[str]
    csrf_token: str


class ResetRequestBody(Request):
    email: Annotated[Line, msgspec.Meta(min_length=1, max_length=254)]


class ResetConfirmBody(Request):
    token: Annotated[Line, msgspec.Meta(min_length=1, max_length=2000)]
    password: Password


class Accepted(Response):
    detail: str


class PasswordChange(Request):
    current_password: Annotated[Line, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Password


class PasswordChanged(Response):
    """Every session and API token of the account has ended; a session caller gets a new
    session (cookies and this CSRF token), a token caller logs in again."""

    csrf_token: str | None


class Me(Response):
    id: uuid.UUID
    email: str
    name: str
    locale: str
    roles: list[str]
    email_verified: bool


class MeUpdate(Request):
    name: Name | None = None
    locale: Locale | None = None


class TokenCreate(Request):
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[
        list[Scope],
        msgspec.Meta(
            min_length=1,
            max_length=3,
            description=(
                "read: lesen; write: schreiben; organise: dazu Schreibrechte einer Organisatorin "
                "(Phasen, Zuteilung, Ergebnisse, Veröffentlichung) – nur für Organisatoren. "
                "Ein Token kann nur Tokens mit seinen eigenen Geltungsbereichen erzeugen."
            ),
        ),
    ] = msgspec.field(default_factory=lambda: ["read", "write"])


class TokenCreated(Response):
    id: uuid.UUID
    name: str
    scopes: list[str]
    token: str
    created_at: datetime


class TokenInfo(Response):
    id: uuid.UUID
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
