"""The feasibility report's sentences, written from the solver's findings: the same German text
the report has always carried, at most 20 of a kind, and the same after a round trip through the
stored form (JSON in `assignment_run.report`)."""

from __future__ import annotations

import msgspec

from competition.jury.runs import wording
from competition.jury.runs.solver import (
    Entry,
    EntryShort,
    FeasibilityReport,
    Juror,
    Problem,
    ShortEntry,
    Unassignable,
    check_feasibility,
)


def test_more_than_twenty_of_a_kind_are_counted_not_listed() -> None:
    # 22 entries, one juror who conflicts with all of them: none can be reviewed.
    entries = tuple(Entry(id=f"e{i:02d}", category="A") for i in range(22))
    problem = Problem(
        entries=entries,
        jurors=(Juror(id="j1", expertise=frozenset({"A"}), max_load=30),),
        reviews_per_entry=1,
        conflicts=frozenset(("j1", e.id) for e in entries),
    )
    report = check_feasibility(problem)
    assert report.findings == (
        *(EntryShort(entry_id=e.id, eligible_jurors=0, needed=1) for e in entries),
        Unassignable(assignable=0, needed=22),
    )
    assert wording.messages(report) == [
        "Bedarf 22 Gutachten, Kapazität 22.",
        *(f"Einreichung e{i:02d}: 0 zulässige Jurymitglieder, benötigt 1." for i in range(20)),
        "… und 2 weitere.",
        "Nur 0 von 22 Gutachten lassen sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ]


def test_stored_report_gives_the_same_sentences() -> None:
    report = FeasibilityReport(
        feasible=False,
        demand=4,
        capacity=3,
        jurors_without_max_load=0,
        kept=0,
        assignable=3,
        entries_short=(ShortEntry("e1", 1, 2),),
        kept_conflicts=(),
        entries_overcovered=(),
        jurors_over_max_load=(),
        findings=(
            EntryShort(entry_id="e1", eligible_jurors=1, needed=2),
            Unassignable(assignable=3, needed=4),
        ),
    )
    stored = msgspec.json.decode(msgspec.json.encode(report))
    assert stored["findings"] == [
        {"kind": "entry_short", "entry_id": "e1", "eligible_jurors": 1, "needed": 2},
        {"kind": "unassignable", "assignable": 3, "needed": 4},
    ]
    assert msgspec.convert(stored, FeasibilityReport) == report
    assert wording.messages(msgspec.convert(stored, FeasibilityReport)) == [
        "Bedarf 4 Gutachten, Kapazität 3.",
        "Einreichung e1: 1 zulässiges Jurymitglied, benötigt 2.",
        "Nur 3 von 4 Gutachten lassen sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ]
