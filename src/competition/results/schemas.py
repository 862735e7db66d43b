"""Request and response bodies of the results endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from competition.structs import Request, Response
from competition.text import Line, Text
from competition.vocabulary import Method, ResultRunStatus


class RunCreate(Request):
    method: Method = "zscore"


class RunCreated(Response):
    id: uuid.UUID
    status: ResultRunStatus


class Ranked(Response):
    entry_id: uuid.UUID
    title: str
    rank: int | None
    score: float | None
    raw_mean: float | None
    median: float | None
    stdev: float | None
    n_reviews: int
    tie_broken_by: str | None
    flags: list[str]


class CategoryResult(Response):
    category: str
    ranking: list[Ranked]


class ExcludedSheet(Response):
    """A final sheet the run left out: its juror conflicts with the entry's company."""

    entry_id: uuid.UUID
    juror_id: uuid.UUID
    reasons: Annotated[
        list[str],
        msgspec.Meta(
            description=(
                "Art des Interessenkonflikts (employee, customer, …) oder member: das Konto des "
                "Jurymitglieds gehört zum Unternehmen."
            )
        ),
    ]


class Run(Response):
    id: uuid.UUID
    status: ResultRunStatus
    method: Method
    parameters: dict[str, Any] | None
    reliability: dict[str, Any] | None
    snapshot_hash: str | None
    hash_scheme: Annotated[
        int | None,
        msgspec.Meta(
            description=(
                "Verfahren, mit dem snapshot_hash berechnet wurde: 2 = RFC 8785 (JCS) nach Rundung "
                "der Zahlen, 1 = das frühere Verfahren (Läufe vor seiner Einführung)."
            )
        ),
    ]
    categories: list[CategoryResult]
    jurors: list[dict[str, Any]]
    excluded_sheets: list[ExcludedSheet]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    frozen: bool


class WinnerIn(Request):
    category: Annotated[Line, msgspec.Meta(min_length=1, max_length=63)]
    entry_id: uuid.UUID
    place: Annotated[int, msgspec.Meta(ge=1, le=10)]
    justification: Annotated[Text, msgspec.Meta(min_length=1, max_length=5000)] | None = None


class WinnersIn(Request):
    result_run_id: uuid.UUID
    winners: Annotated[list[WinnerIn], msgspec.Meta(max_length=200)]


class WinnerOut(Response):
    category: str
    entry_id: uuid.UUID
    title: str
    place: int
    rank: int | None
    justification: str | None


class Winners(Response):
    result_run_id: uuid.UUID | None
    winners: list[WinnerOut]


class Publishing(Response):
    status: str
    published_at: datetime
    result_run_id: uuid.UUID


class PublicWinner(Response):
    place: int
    title: str
    summary: str
    company_name: str
    city: str


class PublicCategory(Response):
    category: str
    name: dict[str, str]
    winners: list[PublicWinner]


class PublicWinners(Response):
    slug: str
    title: dict[str, str]
    published_at: datetime
    categories: list[PublicCategory]
