"""The set-up a new competition starts from, defined once: the organiser's set-up form fills it
in, the demo data uses it, and the API applies the tie-break chain when a competition names none.

The categories and criteria are the Masterplan Südwestsachsen's: four fields of the region's
transformation, five criteria weighted as its jury weighs them (weights are relative)."""

from __future__ import annotations

from typing import Final, NamedTuple

from competition.competitions.rules import DEFAULT_TIE_BREAK


class Category(NamedTuple):
    slug: str
    de: str
    en: str


class Criterion(NamedTuple):
    key: str
    de: str
    en: str
    weight: int
    min: int = 0
    max: int = 10


CATEGORIES: Final = (
    Category("mobilitaet", "Mobilität", "Mobility"),
    Category("digitalisierung", "Digitalisierung", "Digitalisation"),
    Category("energie", "Energie", "Energy"),
    Category("kreislaufwirtschaft", "Kreislaufwirtschaft", "Circular economy"),
)

CRITERIA: Final = (
    Criterion("innovation", "Innovationsgrad", "Degree of innovation", 30),
    Criterion(
        "transformation",
        "Beitrag zur Transformation der Region",
        "Contribution to the region's transformation",
        25,
    ),
    Criterion("wirtschaftlichkeit", "Wirtschaftliches Potenzial", "Economic potential", 20),
    Criterion("umsetzbarkeit", "Umsetzbarkeit", "Feasibility", 15),
    Criterion("nachhaltigkeit", "Nachhaltigkeit", "Sustainability", 10),
)

REVIEWS_PER_ENTRY: Final = 3
TIE_BREAK: Final = DEFAULT_TIE_BREAK
