"""Types shared by the jury's parts: keys of categories and criteria, voided assignments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from competition.structs import Response
from competition.text import Line
from competition.vocabulary import VoidReason

# A category slug or criterion key; the service checks that it exists in the competition.
Key = Annotated[Line, msgspec.Meta(max_length=63)]


class VoidedAssignment(Response):
    assignment_id: uuid.UUID
    juror_id: uuid.UUID
    juror_name: str
    entry_id: uuid.UUID
    entry_title: str
    reason: VoidReason
    voided_at: datetime
