"""Request and response bodies of assignment runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from competition.jury.schemas import VoidedAssignment
from competition.structs import Request, Response
from competition.vocabulary import AssignmentRunStatus


class RunCreate(Request):
    reviews_per_entry: Annotated[int, msgspec.Meta(ge=1, le=20)] | None = None
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**62)] | None = None


class RunCreated(Response):
    id: uuid.UUID
    status: AssignmentRunStatus


class ProposedAssignment(Response):
    juror_id: uuid.UUID
    juror_name: str
    entry_id: uuid.UUID
    entry_title: str


class Run(Response):
    id: uuid.UUID
    status: AssignmentRunStatus
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
    status: AssignmentRunStatus
    created: int
