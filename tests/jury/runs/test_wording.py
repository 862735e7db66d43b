"""The feasibility report's sentences, written from the solver's findings: the same German text
the report has always carried, at most 20 of a kind, and the same after a round trip through the
stored form (JSON in `assignment_run.report`); in English for English pages."""

from __future__ import annotations

import msgspec

from competition.jury.runs import wording
from competition.jury.runs.solver import (
    CapacityShort,
    Entry,
    EntryOvercovered,
    EntryShort,
    FeasibilityReport,
    Finding,
    Juror,
    JurorOverMaxLoad,
    KeptConflict,
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


def report_of(*findings: Finding, unlimited: int = 0) -> FeasibilityReport:
    return FeasibilityReport(
        feasible=False,
        demand=1200,
        capacity=1100,
        jurors_without_max_load=unlimited,
        kept=0,
        assignable=0,
        entries_short=(),
        kept_conflicts=(),
        entries_overcovered=(),
        jurors_over_max_load=(),
        findings=findings,
    )


EVERY_KIND = (
    CapacityShort(missing=100),
    KeptConflict(juror_id="j2", entry_id="e1"),
    EntryOvercovered(entry_id="e1", reviews=3, needed=2),
    JurorOverMaxLoad(juror_id="j1", assignments=2, max_load=1),
    EntryShort(entry_id="e2", eligible_jurors=1, needed=2),
    EntryShort(entry_id="e3", eligible_jurors=0, needed=2),
    Unassignable(assignable=1, needed=2),
    Unassignable(assignable=3, needed=4),
)


def test_every_kind_of_finding_is_worded_in_german_and_english() -> None:
    report = report_of(*EVERY_KIND, unlimited=2)
    assert wording.messages(report, "de") == [
        "Bedarf 1.200 Gutachten, Kapazität 1.100; 2 Jurymitglieder ohne Höchstlast.",
        "Die Kapazität der Jury reicht nicht: es fehlen 100 Gutachten.",
        "Bestehende Zuordnung j2 → e1 verletzt einen Interessenkonflikt.",
        "Einreichung e1 hat bereits 3 Gutachten, vorgesehen sind 2.",
        "Jurymitglied j1 hat bereits 2 Zuordnungen, Höchstlast 1.",
        "Einreichung e2: 1 zulässiges Jurymitglied, benötigt 2.",
        "Einreichung e3: 0 zulässige Jurymitglieder, benötigt 2.",
        "Nur 1 von 2 Gutachten lässt sich unter Interessenkonflikten und Höchstlasten zuordnen.",
        "Nur 3 von 4 Gutachten lassen sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ]
    assert wording.messages(report, "en") == [
        "1,200 reviews needed, capacity 1,100; 2 jurors without a maximum load.",
        "The jury's capacity is not enough: 100 review(s) short.",
        "The existing assignment j2 → e1 violates a conflict of interest.",
        "Entry e1 already has 3 review(s), more than the 2 planned.",
        "Juror j1 already has 2 assignment(s), above the maximum load of 1.",
        "Entry e2: 1 eligible juror, 2 needed.",
        "Entry e3: 0 eligible jurors, 2 needed.",
        "Only 1 of 2 reviews can be assigned within the conflicts of interest and maximum loads.",
        "Only 3 of 4 reviews can be assigned within the conflicts of interest and maximum loads.",
    ]
    one = report_of(unlimited=1)
    assert (wording.messages(one, "de"), wording.messages(one, "en")) == (
        ["Bedarf 1.200 Gutachten, Kapazität 1.100; 1 Jurymitglied ohne Höchstlast."],
        ["1,200 reviews needed, capacity 1,100; 1 juror without a maximum load."],
    )


def test_more_than_twenty_of_a_kind_are_counted_in_english_too() -> None:
    many = report_of(*(KeptConflict(juror_id="j", entry_id=f"e{i}") for i in range(21)))
    assert wording.messages(many, "en")[-1] == "… and 1 more."
    assert wording.messages(many, "de")[-1] == "… und 1 weitere."
