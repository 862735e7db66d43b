"""Request and response bodies of conflicts of interest, declarations and recusal."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from competition.structs import Request, Response
from competition.text import Line, Text
from competition.vocabulary import ConflictType, DeclarationStatus

Note = Annotated[Text, msgspec.Meta(max_length=1000)]


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
    type: ConflictType
    note: str | None
    source: str  # "juror", "organiser" or "membership"
    # Declared after the assignment was deployed: an organiser decides about it.
    pending_review: bool = False


class CandidateOut(Response):
    company_id: uuid.UUID
    name: str
    score: float


class DeclarationOut(Response):
    """A juror's declaration as typed, for organisers: what it matched, and for open ones
    (unmatched, or made after deployment) the companies it may mean."""

    id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    declared_as: str | None
    company_id: uuid.UUID | None
    company_name: str | None
    type: ConflictType
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
