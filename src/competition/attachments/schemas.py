"""Request and response bodies of the attachment endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from competition.structs import Request, Response
from competition.text import END, Line
from competition.vocabulary import AttachmentStatus


class AttachmentCreate(Request):
    filename: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
    content_type: Annotated[Line, msgspec.Meta(min_length=3, max_length=120)]
    size_bytes: Annotated[int, msgspec.Meta(ge=1)]
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}" + END)] | None = None


class Upload(Response):
    method: str
    url: str
    headers: dict[str, str]


class AttachmentCreated(Response):
    id: uuid.UUID
    status: AttachmentStatus
    upload: Upload
    expires_at: datetime


class Attachment(Response):
    id: uuid.UUID
    entry_id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    status: AttachmentStatus
    sha256: str | None
    detected_type: str | None
    reject_reason: str | None
    created_at: datetime
    verified_at: datetime | None


class Completed(Response):
    id: uuid.UUID
    status: AttachmentStatus


class Download(Response):
    url: str
    expires_at: datetime
