"""The input of an aggregation: criteria, a columnar table of final score sheets, sheet totals.

Pure data and checks, no I/O. The results service loads the final score sheets and builds a
`ScoreTable` (with `table_from_records`); `competition.results.aggregate` ranks it.

Sheet total
    A criterion *c* has a weight w_c > 0 and a scale [min_c, max_c]. The weighted total of a
    sheet is ``100 · Σ_c w_c·(s_c − min_c)/(max_c − min_c) / Σ_c w_c`` — every criterion is
    required and every score must lie on its scale. `weighted_total` computes it for one sheet
    with exactly the same operations, in the same order, as the vectorised `sheet_totals`, so
    both give the same bits.

The table
    One row per final score sheet, columnar (NumPy arrays, no Python object per sheet), so that a
    million criterion scores fit in memory and aggregate within the budget that
    bench/bench_aggregate.py measures. It is validated on construction: unique ids, indices in
    range, finite scores on their criterion's scale, at most one sheet per juror and entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class AggregationInputError(ValueError):
    """The score data or the parameters violate a precondition of the aggregation."""


class Criterion(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    weight: float
    min: float
    max: float


class EntryRecord(msgspec.Struct, frozen=True, kw_only=True):
    entry_id: str
    title: str
    category: str


class SheetRecord(msgspec.Struct, frozen=True, kw_only=True):
    entry_id: str
    juror_id: str
    scores: dict[str, float]


class ScoreTable(msgspec.Struct, frozen=True, kw_only=True, eq=False):
    """Columnar input: one row per final score sheet, criteria in declared order.

    ``entry_category[i]`` indexes ``categories``; ``sheet_entry`` and ``sheet_juror`` index
    ``entry_ids`` and ``juror_ids``; ``scores`` has shape (sheets, criteria). Arrays are coerced to
    int64/float64 and validated on construction.
    """

    criteria: tuple[Criterion, ...]
    categories: tuple[str, ...]
    entry_ids: tuple[str, ...]
    entry_titles: tuple[str, ...]
    entry_category: IntArray
    juror_ids: tuple[str, ...]
    sheet_entry: IntArray
    sheet_juror: IntArray
    scores: FloatArray

    def __post_init__(self) -> None:
        # Coercion has to happen on a frozen struct, which force_setattr exists for.
        for name in ("entry_category", "sheet_entry", "sheet_juror"):
            msgspec.structs.force_setattr(
                self, name, np.ascontiguousarray(getattr(self, name), dtype=np.int64)
            )
        msgspec.structs.force_setattr(
            self, "scores", np.ascontiguousarray(self.scores, dtype=np.float64)
        )
        _validate_table(self)

    def canonical_inputs(self) -> dict[str, Any]:
        """The inputs as written into the snapshot, independent of load order.

        Entries and jurors are listed by id; sheets are sorted by (entry id, juror id) and refer to
        those sorted lists by position; scores are flattened row by row. Criteria and categories
        keep their declared order because that order carries meaning (tie-break, display). The
        three sheet columns stay NumPy arrays; the snapshot encoder writes them like lists.
        """
        entry_order = sorted(range(len(self.entry_ids)), key=self.entry_ids.__getitem__)
        juror_order = sorted(range(len(self.juror_ids)), key=self.juror_ids.__getitem__)
        entry_pos = np.empty(len(entry_order), dtype=np.int64)
        entry_pos[entry_order] = np.arange(len(entry_order), dtype=np.int64)
        juror_pos = np.empty(len(juror_order), dtype=np.int64)
        juror_pos[juror_order] = np.arange(len(juror_order), dtype=np.int64)
        sheet_entry = entry_pos[self.sheet_entry]
        sheet_juror = juror_pos[self.sheet_juror]
        sheet_order = np.lexsort((sheet_juror, sheet_entry))
        categories = self.entry_category.tolist()
        return {
            "criteria": [msgspec.to_builtins(c) for c in self.criteria],
            "categories": list(self.categories),
            "entries": [
                [self.entry_ids[i], self.entry_titles[i], self.categories[categories[i]]]
                for i in entry_order
            ],
            "jurors": [self.juror_ids[i] for i in juror_order],
            "sheet_entry": sheet_entry[sheet_order],
            "sheet_juror": sheet_juror[sheet_order],
            "scores": self.scores[sheet_order].ravel(),
        }


# ---------------------------------------------------------------------------------------------
# Sheet totals


def weighted_total(*, scores: Mapping[str, float], criteria: Sequence[Criterion]) -> float:
    """Weighted total of one sheet on 0–100 points; every criterion must be scored on its scale."""
    _validate_criteria(criteria)
    missing = [c.key for c in criteria if c.key not in scores]
    if missing:
        raise AggregationInputError(f"missing scores for criteria: {', '.join(missing)}")
    known = {c.key for c in criteria}
    unknown = sorted(k for k in scores if k not in known)
    if unknown:
        raise AggregationInputError(f"unknown criteria: {', '.join(unknown)}")
    acc = 0.0
    weight_sum = 0.0
    for c in criteria:
        value = float(scores[c.key])
        if not (math.isfinite(value) and c.min <= value <= c.max):
            raise AggregationInputError(f"score {value!r} for {c.key!r} is outside its scale")
        # Same operation order as sheet_totals so the API shows the bits the ranking uses.
        acc = acc + c.weight * (value - c.min) / (c.max - c.min)
        weight_sum = weight_sum + c.weight
    return 100.0 * acc / weight_sum


def sheet_totals(scores: FloatArray, criteria: Sequence[Criterion]) -> FloatArray:
    acc = np.zeros(scores.shape[0], dtype=np.float64)
    weight_sum = 0.0
    for k, c in enumerate(criteria):
        acc = acc + c.weight * (scores[:, k] - c.min) / (c.max - c.min)
        weight_sum = weight_sum + c.weight
    result: FloatArray = 100.0 * acc / weight_sum
    return result


# ---------------------------------------------------------------------------------------------
# Validation


def _validate_criteria(criteria: Sequence[Criterion]) -> None:
    if not criteria:
        raise AggregationInputError("at least one criterion is required")
    keys = [c.key for c in criteria]
    if len(set(keys)) != len(keys):
        raise AggregationInputError("criterion keys must be unique")
    for c in criteria:
        if not (math.isfinite(c.weight) and c.weight > 0):
            raise AggregationInputError(f"weight of {c.key!r} must be a positive number")
        if not (math.isfinite(c.min) and math.isfinite(c.max) and c.max > c.min):
            raise AggregationInputError(f"scale of {c.key!r} must have max > min")


def _validate_table(table: ScoreTable) -> None:
    _validate_criteria(table.criteria)
    n_entries = len(table.entry_ids)
    n_jurors = len(table.juror_ids)
    if len(set(table.categories)) != len(table.categories):
        raise AggregationInputError("category names must be unique")
    if len(set(table.entry_ids)) != n_entries:
        raise AggregationInputError("entry ids must be unique")
    if len(set(table.juror_ids)) != n_jurors:
        raise AggregationInputError("juror ids must be unique")
    if len(table.entry_titles) != n_entries or table.entry_category.shape != (n_entries,):
        raise AggregationInputError("entry titles and categories must match the entry ids")
    if n_entries and (
        table.entry_category.min() < 0 or table.entry_category.max() >= len(table.categories)
    ):
        raise AggregationInputError("entry category index out of range")
    n_sheets = table.sheet_entry.shape[0]
    if table.sheet_entry.shape != (n_sheets,) or table.sheet_juror.shape != (n_sheets,):
        raise AggregationInputError("sheet_entry and sheet_juror must be 1-d and equally long")
    if table.scores.shape != (n_sheets, len(table.criteria)):
        raise AggregationInputError("scores must have shape (sheets, criteria)")
    if n_sheets == 0:
        return
    if table.sheet_entry.min() < 0 or table.sheet_entry.max() >= n_entries:
        raise AggregationInputError("sheet entry index out of range")
    if table.sheet_juror.min() < 0 or table.sheet_juror.max() >= n_jurors:
        raise AggregationInputError("sheet juror index out of range")
    if not np.isfinite(table.scores).all():
        raise AggregationInputError("scores must be finite numbers")
    lows = np.array([c.min for c in table.criteria], dtype=np.float64)
    highs = np.array([c.max for c in table.criteria], dtype=np.float64)
    if ((table.scores < lows) | (table.scores > highs)).any():
        raise AggregationInputError("a score lies outside its criterion's scale")
    pair = table.sheet_entry * n_jurors + table.sheet_juror
    if np.unique(pair).shape[0] != n_sheets:
        raise AggregationInputError("a juror has more than one sheet for the same entry")


# ---------------------------------------------------------------------------------------------
# Construction from records


def table_from_records(
    *,
    criteria: Sequence[Criterion],
    categories: Sequence[str],
    entries: Sequence[EntryRecord],
    sheets: Sequence[SheetRecord],
    juror_ids: Sequence[str] = (),
) -> ScoreTable:
    """Build a `ScoreTable` from plain records (small cases, tests, imports).

    Jurors are ``juror_ids`` followed by every further juror that appears in a sheet, in order of
    first appearance.
    """
    _validate_criteria(criteria)
    category_index = {name: i for i, name in enumerate(categories)}
    entry_index = {e.entry_id: i for i, e in enumerate(entries)}
    jurors = list(dict.fromkeys([*juror_ids, *(s.juror_id for s in sheets)]))
    juror_index = {j: i for i, j in enumerate(jurors)}
    for e in entries:
        if e.category not in category_index:
            raise AggregationInputError(f"entry {e.entry_id!r} has unknown category {e.category!r}")
    rows: list[list[float]] = []
    for s in sheets:
        if s.entry_id not in entry_index:
            raise AggregationInputError(f"sheet refers to unknown entry {s.entry_id!r}")
        if set(s.scores) != {c.key for c in criteria}:
            raise AggregationInputError(
                f"sheet of {s.juror_id!r} on {s.entry_id!r} must score exactly every criterion"
            )
        rows.append([float(s.scores[c.key]) for c in criteria])
    return ScoreTable(
        criteria=tuple(criteria),
        categories=tuple(categories),
        entry_ids=tuple(e.entry_id for e in entries),
        entry_titles=tuple(e.title for e in entries),
        entry_category=np.array([category_index[e.category] for e in entries], dtype=np.int64),
        juror_ids=tuple(jurors),
        sheet_entry=np.array([entry_index[s.entry_id] for s in sheets], dtype=np.int64),
        sheet_juror=np.array([juror_index[s.juror_id] for s in sheets], dtype=np.int64),
        scores=np.array(rows, dtype=np.float64).reshape(len(sheets), len(criteria)),
    )
