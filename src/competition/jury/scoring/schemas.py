"""Request and response bodies of assignments and score sheets as jurors see them, and of the
progress and reminders organisers follow them by."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from competition.jury.schemas import Key, VoidedAssignment
from competition.structs import Request, Response
from competition.text import Text
from competition.vocabulary import JurorStatus, Phase, SheetState


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
    status: SheetState
    version: int
    scores: dict[str, float]
    comment: str
    weighted_total: float | None
    updated_at: datetime | None


class AssignmentItem(Response):
    id: uuid.UUID
    competition_id: uuid.UUID
    entry: EntryForJuror
    sheet_status: SheetState
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


class CategoryProgress(Response):
    category: str
    draft: int
    submitted: int
    withdrawn: int
    disqualified: int


class JurorProgress(Response):
    juror_id: uuid.UUID
    name: str
    status: JurorStatus
    assigned: int
    final: int
    draft: int
    open: int


class EntryProgress(Response):
    entry_id: uuid.UUID
    title: str
    category: str
    # Standing assignments: not voided, juror not conflicted with the company.
    assigned: int
    final: int
    # Reviews still to assign (reviews_per_entry − assigned): an incremental run fills them.
    missing: int


class Progress(Response):
    phase: Phase
    submissions_open: bool
    entries: dict[str, int]
    by_category: list[CategoryProgress]
    jurors: list[JurorProgress]
    reviews: list[EntryProgress]
    sheets_final: int
    sheets_assigned: int
    # Assignments voided because the juror joined the entrant company, oldest first.
    voided: list[VoidedAssignment]
