"""The sentences of a feasibility report, written from the solver's findings where the report is
shown, so the run in the API and the organiser's run page say the same: German in the API, as
the report has always been, and the page's language on the page.

Each kind of finding is a key of the error catalog (`run.finding.<kind>`, singular apart where
the count is 1) with the finding's fields as its parameters, worded by `competition.catalog`.
"""

from __future__ import annotations

from itertools import groupby
from typing import Final, assert_never

from competition import catalog
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

# Keeps the report readable; the structured fields carry every case.
MAX_PER_KIND: Final = 20


def summary(report: FeasibilityReport, locale: str = "de") -> str:
    """Demand and capacity, and how many jurors without a limit the capacity counts with every
    entry."""
    demand, capacity = report.demand, report.capacity
    unlimited = report.jurors_without_max_load
    if not unlimited:
        return catalog.text("run.summary", {"demand": demand, "capacity": capacity}, locale)
    if unlimited == 1:
        return catalog.text(
            "run.summary_one_unlimited", {"demand": demand, "capacity": capacity}, locale
        )
    return catalog.text(
        "run.summary_unlimited",
        {"demand": demand, "capacity": capacity, "count": unlimited},
        locale,
    )


def sentence(finding: Finding, locale: str = "de") -> str:
    """One finding in words."""
    match finding:
        case CapacityShort():
            return catalog.text("run.finding.capacity_short", {"missing": finding.missing}, locale)
        case KeptConflict():
            return catalog.text(
                "run.finding.kept_conflict",
                {"juror_id": finding.juror_id, "entry_id": finding.entry_id},
                locale,
            )
        case EntryOvercovered():
            return catalog.text(
                "run.finding.entry_overcovered",
                {
                    "entry_id": finding.entry_id,
                    "reviews": finding.reviews,
                    "needed": finding.needed,
                },
                locale,
            )
        case JurorOverMaxLoad():
            return catalog.text(
                "run.finding.juror_over_max_load",
                {
                    "juror_id": finding.juror_id,
                    "assignments": finding.assignments,
                    "max_load": finding.max_load,
                },
                locale,
            )
        case EntryShort() if finding.eligible_jurors == 1:
            return catalog.text(
                "run.finding.entry_short_one",
                {"entry_id": finding.entry_id, "needed": finding.needed},
                locale,
            )
        case EntryShort():
            return catalog.text(
                "run.finding.entry_short",
                {
                    "entry_id": finding.entry_id,
                    "eligible_jurors": finding.eligible_jurors,
                    "needed": finding.needed,
                },
                locale,
            )
        case Unassignable() if finding.assignable == 1:
            return catalog.text("run.finding.unassignable_one", {"needed": finding.needed}, locale)
        case Unassignable():
            return catalog.text(
                "run.finding.unassignable",
                {"assignable": finding.assignable, "needed": finding.needed},
                locale,
            )
        case _:
            assert_never(finding)


def messages(report: FeasibilityReport, locale: str = "de") -> list[str]:
    """The summary, then each finding, at most `MAX_PER_KIND` of a kind."""
    lines = [summary(report, locale)]
    for _, group in groupby(report.findings, key=type):
        findings = list(group)
        lines += [sentence(f, locale) for f in findings[:MAX_PER_KIND]]
        if len(findings) > MAX_PER_KIND:
            more = len(findings) - MAX_PER_KIND
            lines.append(catalog.text("run.finding.more", {"count": more}, locale))
    return lines
