"""The sentences of a feasibility report, written from the solver's findings where the report is
shown (the run in the API, the organiser's run page), so both say the same.

German only, as the report has always been. The templates take the finding's fields by name
(gettext's ``%(name)s`` form), singular and plural apart, ready for a catalog.
"""

from __future__ import annotations

from itertools import groupby
from typing import Final, assert_never

import msgspec

from competition.jury.runs.solver import (
    CapacityShort,
    EntryOvercovered,
    EntryShort,
    FeasibilityReport,
    Finding,
    JurorOverMaxLoad,
    KeptConflict,
    Unassignable,
)

SUMMARY: Final = "Bedarf %(demand)d Gutachten, Kapazität %(capacity)d"
# Explains a capacity that counts every entry for each juror without a limit.
UNLIMITED: Final = ("1 Jurymitglied ohne Höchstlast", "%(count)d Jurymitglieder ohne Höchstlast")
CAPACITY_SHORT: Final = "Die Kapazität der Jury reicht nicht: es fehlen %(missing)d Gutachten."
KEPT_CONFLICT: Final = (
    "Bestehende Zuordnung %(juror_id)s → %(entry_id)s verletzt einen Interessenkonflikt."
)
ENTRY_OVERCOVERED: Final = (
    "Einreichung %(entry_id)s hat bereits %(reviews)d Gutachten, vorgesehen sind %(needed)d."
)
JUROR_OVER_MAX_LOAD: Final = (
    "Jurymitglied %(juror_id)s hat bereits %(assignments)d Zuordnungen, Höchstlast %(max_load)d."
)
ENTRY_SHORT: Final = (
    "Einreichung %(entry_id)s: 1 zulässiges Jurymitglied, benötigt %(needed)d.",
    "Einreichung %(entry_id)s: %(eligible_jurors)d zulässige Jurymitglieder, benötigt %(needed)d.",
)
UNASSIGNABLE: Final = (
    "Nur %(assignable)d von %(needed)d Gutachten lässt sich unter Interessenkonflikten und "
    "Höchstlasten zuordnen.",
    "Nur %(assignable)d von %(needed)d Gutachten lassen sich unter Interessenkonflikten und "
    "Höchstlasten zuordnen.",
)
MORE: Final = "… und %(count)d weitere."
# Keeps the report readable; the structured fields carry every case.
MAX_PER_KIND: Final = 20


def _plural(forms: tuple[str, str], count: int) -> str:
    return forms[0] if count == 1 else forms[1]


def sentence(finding: Finding) -> str:
    fields = msgspec.structs.asdict(finding)
    match finding:
        case CapacityShort():
            return CAPACITY_SHORT % fields
        case KeptConflict():
            return KEPT_CONFLICT % fields
        case EntryOvercovered():
            return ENTRY_OVERCOVERED % fields
        case JurorOverMaxLoad():
            return JUROR_OVER_MAX_LOAD % fields
        case EntryShort():
            return _plural(ENTRY_SHORT, finding.eligible_jurors) % fields
        case Unassignable():
            return _plural(UNASSIGNABLE, finding.assignable) % fields
        case _:
            assert_never(finding)


def messages(report: FeasibilityReport) -> list[str]:
    """The summary, then each finding, at most `MAX_PER_KIND` of a kind."""
    summary = SUMMARY % {"demand": report.demand, "capacity": report.capacity}
    if report.jurors_without_max_load:
        unlimited = report.jurors_without_max_load
        summary += "; " + _plural(UNLIMITED, unlimited) % {"count": unlimited}
    lines = [f"{summary}."]
    for _, group in groupby(report.findings, key=type):
        findings = list(group)
        lines += [sentence(f) for f in findings[:MAX_PER_KIND]]
        if len(findings) > MAX_PER_KIND:
            lines.append(MORE % {"count": len(findings) - MAX_PER_KIND})
    return lines
