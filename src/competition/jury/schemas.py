"""Request and response bodies of the jury endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from competition.structs import Request, Response
from competition.text import Email, Line, Text

ConflictType = Literal[
    "employee",
    "former_employee",
    "customer",
    "supplier",
    "competitor",
    "shareholder",
    "advisor",
    "family",
    "other",
]
# Why an assignment was voided: its juror became a member of the entrant company.
VoidReason = Literal["member"]
Note = Annotated[Text, msgspec.Meta(max_length=1000)]
# A category slug or criterion key; the service checks that it exists in the competition.
Key = Annotated[Line, msgspec.Meta(max_length=63)]


class JurorInvite(Request):
    email: Email
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
    expertise: Annotated[list[Key], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    max_load: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None


class SuggestedConflict(Response):
    company_id: uuid.UUID
    company_name: str
    reason: str


class ConflictOut(Response):
    # The conflict's id for organisers (to remove one they recorded); None for jurors.
    id: uuid.UUID | None
    company_id: uuid.UUID | None
    # Jurors see what they typed; in blind competitions nothing an organiser recorded.
    company_name: str | None
    # A ConflictType, or "member" for membership of the company (source "membership").
    type: str
    note: str | None
    source: str  # "juror", "organiser" or "membership"
    # Declared after the assignment was deployed: an organiser decides about it.
    pending_review: bool = False


class CandidateOut(Response):
    company_id: uuid.UUID
    name: str
    score: float


DeclarationStatus = Literal["matched", "unmatched", "pending", "resolved", "dismissed"]


class DeclarationOut(Response):
    """A juror's declaration as typed, for organisers: what it matched, and for open ones
    (unmatched, or made after deployment) the companies it may mean."""

    id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    declared_as: str | None
    company_id: uuid.UUID | None
    company_name: str | None
    type: str
    note: str | None
    status: DeclarationStatus
    matched: list[CompanyChoice]
    candidates: list[CandidateOut]
    created_at: datetime


class DeclarationDecision(Request):
    """The companies an open declaration means (the conflicts then stand), or none: it names
    no one taking part."""

    company_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)]


class Recusal(Request):
    reason: Annotated[Text, msgspec.Meta(min_length=3, max_length=1000)]


class Recused(Response):
    id: uuid.UUID
    status: Literal["recused"]
    recused_at: datetime


class Juror(Response):
    id: uuid.UUID
    email: str
    name: str
    expertise: list[str]
    max_load: int | None
    status: str
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


class ConflictIn(Request):
    """A conflict with a company, named by its id or, in blind competitions, by its name or
    web/e-mail domain (matched on the server; the answer does not reveal whether it matched)."""

    type: ConflictType
    company_id: uuid.UUID | None = None
    company: Annotated[Line, msgspec.Meta(min_length=2, max_length=200)] | None = None
    note: Note | None = None


class MyConflicts(Request):
    conflicts: Annotated[list[ConflictIn], msgspec.Meta(max_length=500)]
    confirmed_complete: bool


class CompanyChoice(Response):
    id: uuid.UUID
    name: str


class MyConflictsOut(Response):
    conflicts: list[ConflictOut]
    confirmed_complete: bool
    # Offered only in competitions that are not judged blind.
    companies: list[CompanyChoice] | None
    suggested: list[SuggestedConflict] | None


class OrganiserConflict(Request):
    juror_id: uuid.UUID
    company_id: uuid.UUID
    type: ConflictType
    note: Note | None = None


class RunCreate(Request):
    reviews_per_entry: Annotated[int, msgspec.Meta(ge=1, le=20)] | None = None
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**62)] | None = None


class RunCreated(Response):
    id: uuid.UUID
    status: str


class ProposedAssignment(Response):
    juror_id: uuid.UUID
    juror_name: str
    entry_id: uuid.UUID
    entry_title: str


class VoidedAssignment(Response):
    assignment_id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    entry_id: uuid.UUID
    entry_title: str
    reason: VoidReason
    voided_at: datetime


class Run(Response):
    id: uuid.UUID
    status: str
    reviews_per_entry: int
    seed: int
    feasible: bool | None
    report: dict[str, Any] | None
    stats: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    deployed_at: datetime | None
    assignments: list[ProposedAssignment] | None
    # Assignments of the competition voided so far (their entries need a rerun).
    voided: list[VoidedAssignment]


class Deployed(Response):
    id: uuid.UUID
    status: str
    created: int


class EntryForJuror(Response):
    id: uuid.UUID
    title: str
    summary: str
    category: str
    # Present only when the competition is not judged blind.
    company_name: str | None = None


class CriterionOut(Response):
    key: str
    name: dict[str, str]
    weight: float
    min: float
    max: float


class Sheet(Response):
    status: str
    version: int
    scores: dict[str, float]
    comment: str
    weighted_total: float | None
    updated_at: datetime | None


class AssignmentItem(Response):
    id: uuid.UUID
    competition_id: uuid.UUID
    entry: EntryForJuror
    sheet_status: str  # "open", "draft" or "final"
    weighted_total: float | None


class AttachmentForJuror(Response):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int


class CompanyForJuror(Response):
    name: str
    city: str
    website: str | None


class AssignmentDetail(Response):
    id: uuid.UUID
    competition_id: uuid.UUID
    blind: bool
    entry_id: uuid.UUID
    title: str
    summary: str
    description: str
    category: str
    attachments: list[AttachmentForJuror]
    criteria: list[CriterionOut]
    sheet: Sheet
    company: CompanyForJuror | None = None


class ScoreBody(Request):
    scores: Annotated[dict[Key, float], msgspec.Meta(max_length=50)]
    final: bool
    comment: Annotated[Text, msgspec.Meta(max_length=20_000)] | None = None


class RemindersQueued(Response):
    queued: int
