"""Request and response bodies of the competition endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from competition.competitions import rules
from competition.competitions.districts import KEY_PATTERN
from competition.structs import Localized, Request, Response
from competition.text import END, Line, Text
from competition.vocabulary import Phase

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}" + END, max_length=63)]
CategorySlug = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}" + END, max_length=63)
]
CriterionKey = Annotated[
    str, msgspec.Meta(pattern="^" + rules.CRITERION_KEY_PATTERN + END, max_length=63)
]
District = Annotated[str, msgspec.Meta(pattern=KEY_PATTERN, max_length=63)]
TieBreak = Annotated[
    str,
    msgspec.Meta(
        pattern=rules.RULE_PATTERN + END,
        description=(
            "median, raw_mean, highest_weight_criterion, top_marks, n_reviews or criterion:<key>"
        ),
    ),
]
# Each rule once, and criterion:<key> only for a criterion of the competition: the service
# checks what a pattern cannot (competitions.rules).
TieBreakChain = Annotated[
    list[TieBreak],
    msgspec.Meta(
        max_length=rules.MAX_RULES,
        extra_json_schema={"uniqueItems": True},
        description=(
            "Regeln bei Gleichstand in dieser Reihenfolge, jede höchstens einmal; criterion:<key> "
            "nur für ein Kriterium dieses Wettbewerbs."
        ),
    ),
]
Bytes = Annotated[int, msgspec.Meta(ge=1024, le=5 * 1024**3)]


class LocalizedText(Localized):
    de: Annotated[Text, msgspec.Meta(max_length=20000)]
    en: Annotated[Text, msgspec.Meta(max_length=20000)]


class LocalizedName(Localized):
    de: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
    en: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]


class CategoryIn(Request):
    slug: CategorySlug
    name: LocalizedName


class CriterionIn(Request):
    key: CriterionKey
    name: LocalizedName
    weight: Annotated[float, msgspec.Meta(gt=0, le=1000)]
    min: Annotated[float, msgspec.Meta(ge=-1000, le=1000)]
    max: Annotated[float, msgspec.Meta(ge=-1000, le=1000)]


class CompetitionCreate(Request):
    slug: Slug
    title: LocalizedName
    submission_opens_at: datetime
    submission_closes_at: datetime
    reviews_per_entry: Annotated[int, msgspec.Meta(ge=1, le=20)]
    blind_judging: bool
    eligible_districts: Annotated[list[District], msgspec.Meta(min_length=1, max_length=50)]
    categories: Annotated[list[CategoryIn], msgspec.Meta(min_length=1, max_length=50)]
    criteria: Annotated[list[CriterionIn], msgspec.Meta(min_length=1, max_length=30)]
    description: LocalizedText | None = None
    tie_break: TieBreakChain | None = None
    auto_open: bool = False
    max_file_bytes: Bytes | None = None
    max_entry_bytes: Bytes | None = None
    max_attachments: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None


class CompetitionUpdate(Request):
    """Only the fields sent change. Categories, criteria, districts, reviews per entry, blind
    judging and the tie-break chain are frozen once the competition has opened."""

    title: LocalizedName | None = None
    description: LocalizedText | None = None
    submission_opens_at: datetime | None = None
    submission_closes_at: datetime | None = None
    auto_open: bool | None = None
    reviews_per_entry: Annotated[int, msgspec.Meta(ge=1, le=20)] | None = None
    blind_judging: bool | None = None
    eligible_districts: (
        Annotated[list[District], msgspec.Meta(min_length=1, max_length=50)] | None
    ) = None
    categories: Annotated[list[CategoryIn], msgspec.Meta(min_length=1, max_length=50)] | None = None
    criteria: Annotated[list[CriterionIn], msgspec.Meta(min_length=1, max_length=30)] | None = None
    tie_break: TieBreakChain | None = None
    max_file_bytes: Bytes | None = None
    max_entry_bytes: Bytes | None = None
    max_attachments: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None


class PhaseChange(Request):
    to: Phase


class Category(Response):
    slug: str
    name: dict[str, str]


class Criterion(Response):
    key: str
    name: dict[str, str]
    weight: float
    min: float
    max: float


class Competition(Response):
    id: uuid.UUID
    slug: str
    title: dict[str, str]
    description: dict[str, str]
    phase: Phase
    phase_name: dict[str, str]
    submission_opens_at: datetime
    submission_closes_at: datetime
    submissions_open: bool
    auto_open: bool
    reviews_per_entry: int
    blind_judging: bool
    eligible_districts: list[str]
    categories: list[Category]
    criteria: list[Criterion]
    tie_break: list[str]
    max_file_bytes: int
    max_entry_bytes: int
    max_attachments: int
    version: int
    created_at: datetime
    updated_at: datetime
    is_organiser: bool


class CompetitionSummary(Response):
    id: uuid.UUID
    slug: str
    title: dict[str, str]
    phase: Phase
    phase_name: dict[str, str]
    submission_opens_at: datetime
    submission_closes_at: datetime
    submissions_open: bool
