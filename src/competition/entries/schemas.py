"""Request and response bodies of the entry endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Final

import msgspec

from competition.structs import Request, Response
from competition.text import Line, Text
from competition.vocabulary import AttachmentStatus, EntryStatus

Title = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
Summary = Annotated[Text, msgspec.Meta(min_length=1, max_length=2000)]
Description = Annotated[Text, msgspec.Meta(max_length=50_000)]
CategorySlug = Annotated[Line, msgspec.Meta(min_length=1, max_length=63)]
# An entry that left the competition is not judged, ranked or awarded any more.
LEFT_COMPETITION: Final[frozenset[EntryStatus]] = frozenset({"withdrawn", "disqualified"})


class EntryCreate(Request):
    company_id: uuid.UUID
    category: CategorySlug
    title: Title
    summary: Summary
    description: Description = ""


class EntryUpdate(Request):
    category: CategorySlug | None = None
    title: Title | None = None
    summary: Summary | None = None
    description: Description | None = None


class AttachmentBrief(Response):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    status: AttachmentStatus
    reject_reason: str | None
    # When a rejected file was removed from the store; until then it counts against the quota.
    removed_at: datetime | None = None


class Entry(Response):
    id: uuid.UUID
    competition_id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    category: str
    title: str
    summary: str
    description: str
    status: EntryStatus
    version: int
    eligible: bool
    eligibility_reason: str
    editable: bool
    submitted_at: datetime | None
    withdrawn_at: datetime | None
    created_at: datetime
    updated_at: datetime
    attachments: list[AttachmentBrief]


class EntrySummary(Response):
    id: uuid.UUID
    competition_id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    category: str
    title: str
    status: EntryStatus
    version: int
    eligible: bool
    submitted_at: datetime | None
    updated_at: datetime


class Submitted(Response):
    id: uuid.UUID
    status: EntryStatus
    submitted_at: datetime
    version: int


class Withdrawal(Request):
    reason: (
        Annotated[
            Text,
            msgspec.Meta(
                min_length=1,
                max_length=2000,
                description=(
                    "Warum der Beitrag zurückgezogen wird; nach dem Einsendeschluss Pflicht "
                    "(steht im Protokoll des Wettbewerbs)."
                ),
            ),
        ]
        | None
    ) = None


class Withdrawn(Response):
    id: uuid.UUID
    status: EntryStatus
    version: int
