"""Excluded sheets in the pure aggregation: named in the parameters, flagged, hashed, checked."""

from __future__ import annotations

import msgspec
import pytest

from competition.results.aggregate import (
    AggregateParameters,
    AggregationInputError,
    Criterion,
    EntryRecord,
    ExcludedSheet,
    ScoreTable,
    SheetRecord,
    aggregate,
    result_outputs,
    table_from_records,
)

POINTS = [Criterion(key="q", weight=1, min=0, max=100)]


def table(sheets: list[tuple[str, str, float]]) -> ScoreTable:
    return table_from_records(
        criteria=POINTS,
        categories=["energie"],
        entries=[EntryRecord(entry_id=e, title=e, category="energie") for e in ("E1", "E2")],
        sheets=[SheetRecord(entry_id=e, juror_id=j, scores={"q": s}) for e, j, s in sheets],
        juror_ids=["J1", "J2", "J3"],
    )


def test_excluded_sheets_are_flagged_named_and_covered_by_the_hash() -> None:
    counted = table([("E1", "J2", 20), ("E2", "J1", 60), ("E2", "J2", 60), ("E2", "J3", 60)])
    excluded = (
        ExcludedSheet(entry_id="E1", juror_id="J1", reasons=("customer",)),
        ExcludedSheet(entry_id="E1", juror_id="J3", reasons=("member",)),
    )
    with_list = aggregate(
        table=counted,
        method="raw",
        parameters=AggregateParameters(reviews_per_entry=3, excluded_sheets=excluded),
    )
    without = aggregate(
        table=counted,
        method="raw",
        parameters=AggregateParameters(reviews_per_entry=3),
    )
    rows = {
        r.entry_id: (r.rank, r.score, r.n_reviews, r.flags) for r in with_list.categories[0].ranking
    }
    assert rows == {
        "E2": (1, 60.0, 3, ()),
        "E1": (2, 20.0, 1, ("few_reviews", "sheets_excluded")),
    }
    assert result_outputs(with_list)["parameters"]["excluded_sheets"] == (
        {"entry_id": "E1", "juror_id": "J1", "reasons": ("customer",)},
        {"entry_id": "E1", "juror_id": "J3", "reasons": ("member",)},
    )
    # Nothing excluded: the parameters (and hashes) are those of runs from before exclusions.
    assert "excluded_sheets" not in result_outputs(without)["parameters"]
    assert with_list.snapshot_hash != without.snapshot_hash
    stored = msgspec.convert(msgspec.to_builtins(with_list.parameters), AggregateParameters)
    assert aggregate(table=counted, method="raw", parameters=stored).snapshot_hash == (
        with_list.snapshot_hash
    )


@pytest.mark.parametrize(
    ("excluded", "message"),
    [
        ([("E9", "J1", ("customer",))], "excluded sheet of unknown entry 'E9'"),
        ([("E1", "J1", ("customer",)), ("E1", "J1", ("member",))], "is excluded twice"),
        ([("E1", "J2", ("customer",))], "is both excluded and counted"),
        ([("E1", "J1", ())], "needs a reason"),
    ],
)
def test_an_exclusion_list_that_contradicts_the_table_is_refused(
    excluded: list[tuple[str, str, tuple[str, ...]]], message: str
) -> None:
    with pytest.raises(AggregationInputError, match=message):
        aggregate(
            table=table([("E1", "J2", 20)]),
            parameters=AggregateParameters(
                excluded_sheets=tuple(
                    ExcludedSheet(entry_id=e, juror_id=j, reasons=r) for e, j, r in excluded
                )
            ),
        )
