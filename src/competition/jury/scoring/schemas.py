"""Request and response bodies of assignments and score sheets as jurors see them, and of
reminders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from competition.jury.schemas import Key
from competition.structs import Request, Response
from competition.text import Text


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
