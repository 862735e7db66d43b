"""Request and response bodies of invitations and the jury roster."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from competition.jury.conflicts.schemas import ConflictOut, SuggestedConflict
from competition.jury.schemas import Key
from competition.structs import Request, Response
from competition.text import Email, Line
from competition.vocabulary import JurorStatus


class JurorInvite(Request):
    email: Email
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
    expertise: Annotated[list[Key], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    max_load: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None


class Juror(Response):
    id: uuid.UUID
    email: str
    name: str
    expertise: list[str]
    max_load: int | None
    status: JurorStatus
    account_id: uuid.UUID | None
    invited_at: datetime
    accepted_at: datetime | None
    conflicts_confirmed: bool
    load: int
    final_sheets: int
    conflicts: list[ConflictOut]
    suggested_conflicts: list[SuggestedConflict]


# new: no account for the address; existing: a verified account; unclaimed: an account nobody
# verified (its registrant's password is replaced); signed_in: the caller's own account.
InvitationAccountState = Literal["new", "existing", "unclaimed", "signed_in"]


class AcceptInvitation(Request):
    token: Annotated[Line, msgspec.Meta(min_length=1, max_length=2000)]
    password: (
        Annotated[
            Line,
            msgspec.Meta(
                min_length=10,
                max_length=256,
                description=(
                    "Neues Konto: das gewählte Passwort. Bestehendes Konto: dessen Passwort, "
                    "oder mit replace_password ein neues. Ein nie bestätigtes Konto erhält immer "
                    "dieses Passwort."
                ),
            ),
        ]
        | None
    ) = None
    replace_password: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Für ein bestehendes Konto ein neues Passwort setzen; beendet alle Sitzungen und "
                "API-Tokens des Kontos."
            )
        ),
    ] = False
    accept_confidentiality: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Verpflichtung zur Vertraulichkeit (GET /api/v1/jury/confidentiality). Wer die "
                "Einladung annimmt, stimmt ihr zu; false wird abgelehnt."
            )
        ),
    ] = True
    accept_privacy: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Zustimmung zur Datenschutzerklärung (GET /api/v1/privacy), wie bei der "
                "Registrierung. Wer die Einladung annimmt, stimmt ihr zu; false wird abgelehnt."
            )
        ),
    ] = True


class Accepted(Response):
    juror_id: uuid.UUID
    competition_id: uuid.UUID
    account_id: uuid.UUID
    account_created: bool
    password_set: bool


class Confidentiality(Response):
    version: str
    text: dict[str, str]
