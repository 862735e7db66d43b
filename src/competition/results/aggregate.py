"""Score aggregation and ranking of a competition: the pure maths behind a result run.

No I/O happens here; the results service loads the final score sheets, builds a `ScoreTable`,
calls `aggregate`, and stores what it returns. This module is the public face of the maths (the
entry point and the types callers use); the steps live in focused modules, each with the
definitions and the method it follows:

- `competition.results.table`: the input (criteria, the columnar score table, sheet totals);
- `competition.results.stats`: per-entry and per-juror figures, the "zscore" and "raw" methods,
  leave-one-out deviations;
- `competition.results.ranking`: ranking per category with the tie-break chain;
- `competition.results.reliability`: Krippendorff's alpha;
- `competition.results.snapshot`: the canonical JSON and the snapshot hash.

All figures are points on a 0–100 scale unless said otherwise. Entries without any sheet get
``None`` for every figure and ``rank`` and are listed after the ranked entries of their category,
ordered by entry id.

Flags (thresholds are parameters, stored with the run)
    ``no_reviews`` (n = 0); ``few_reviews`` (n < ``reviews_per_entry``); ``high_disagreement``
    (stdev > ``high_disagreement_points``, default 20); ``outlier_juror`` (some sheet of the entry
    differs from the mean of the *other* sheets of that entry by more than
    ``outlier_sheet_points``, default 30); ``tie_unbroken``; ``sheets_excluded`` (a final sheet
    of the entry is left out, see below). "More than a threshold" means by more than 1e-9
    points: with integer marks, totals often land exactly on a threshold, and rounding noise in
    the last bit must not decide a flag.

Excluded sheets
    The caller leaves out final sheets that must not count — a juror found to conflict with the
    entry's company after finalising it — and names each one with its reasons in
    ``excluded_sheets``, a parameter. Nothing here decides what is excluded; the list is checked
    (each excluded sheet belongs to an entry of the table and is not also among its sheets),
    flags the entries concerned, and, being a parameter, is stored with the run and covered by
    its snapshot hash.

Jurors (competition level)
    For each juror: number of sheets, mean, stdev, the normalisation used, and — over their sheets
    on entries with at least one other sheet — the deviation ``t − mean(other sheets of the entry)``
    as ``mean_deviation`` (signed: lenient > 0, harsh < 0) and ``mean_abs_deviation``. The juror is
    an ``outlier`` when ``mean_abs_deviation > outlier_juror_points`` (default 20, same 1e-9
    margin). The absolute deviation is used because it catches both a systematic offset and
    erratic scoring, which a signed mean would let cancel out. ``normalisation`` is ``"juror"`` or
    ``"pooled"`` under "zscore" and ``"none"`` under "raw" or for a juror without sheets. Jurors
    are listed by id.

Snapshot
    Every result carries the snapshot hash of its inputs and outputs and the scheme that made it
    (see `competition.results.snapshot`), so that a stored run can be recomputed and compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final, Literal

import msgspec
import numpy as np
from msgspec import UNSET, UnsetType

# The tie-break vocabulary is declared with the competition; one definition for both.
from competition.competitions.rules import DEFAULT_TIE_BREAK, tie_break_problems
from competition.results import ranking, reliability, snapshot, stats
from competition.results.snapshot import CURRENT_HASH_SCHEME, HashScheme
from competition.results.table import (
    AggregationInputError,
    BoolArray,
    Criterion,
    EntryRecord,
    FloatArray,
    IntArray,
    ScoreTable,
    SheetRecord,
    sheet_totals,
    table_from_records,
    weighted_total,
)
from competition.vocabulary import Method

# The input types are part of this public face: callers build and check their input from here.
__all__ = [
    "AggregateParameters",
    "AggregateResult",
    "AggregationInputError",
    "CategoryRanking",
    "Criterion",
    "EntryRecord",
    "ExcludedSheet",
    "HashScheme",
    "JurorStats",
    "Method",
    "RankedEntry",
    "Reliability",
    "ScoreTable",
    "SheetRecord",
    "aggregate",
    "result_outputs",
    "run_snapshot_hash",
    "table_from_records",
    "weighted_total",
]

Normalisation = Literal["juror", "pooled", "none"]

METHODS: Final = ("zscore", "raw")

FLAG_NO_REVIEWS: Final = "no_reviews"
FLAG_FEW_REVIEWS: Final = "few_reviews"
FLAG_HIGH_DISAGREEMENT: Final = "high_disagreement"
FLAG_OUTLIER_JUROR: Final = "outlier_juror"
FLAG_TIE_UNBROKEN: Final = "tie_unbroken"
FLAG_SHEETS_EXCLUDED: Final = "sheets_excluded"


class ExcludedSheet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A final sheet left out of the aggregation, and why (e.g. the juror's conflict types with
    the entry's company)."""

    entry_id: str
    juror_id: str
    reasons: tuple[str, ...]


class AggregateParameters(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    tie_break: tuple[str, ...] = DEFAULT_TIE_BREAK
    reviews_per_entry: int = 3
    min_juror_sheets: int = 3
    high_disagreement_points: float = 20.0
    outlier_sheet_points: float = 30.0
    outlier_juror_points: float = 20.0
    # Unset when nothing is excluded, so that such runs store (and hash) the same parameters as
    # runs made before sheets could be excluded: their snapshot hashes stay verifiable.
    excluded_sheets: tuple[ExcludedSheet, ...] | UnsetType = UNSET


class RankedEntry(msgspec.Struct, frozen=True, kw_only=True):
    entry_id: str
    title: str
    rank: int | None
    score: float | None
    raw_mean: float | None
    median: float | None
    stdev: float | None
    n_reviews: int
    tie_broken_by: str | None
    flags: tuple[str, ...]


class CategoryRanking(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    ranking: tuple[RankedEntry, ...]


class Reliability(msgspec.Struct, frozen=True, kw_only=True):
    alpha: float | None
    n_units: int
    n_values: int


class JurorStats(msgspec.Struct, frozen=True, kw_only=True):
    juror_id: str
    n_sheets: int
    mean: float | None
    stdev: float | None
    normalisation: Normalisation
    n_compared: int
    mean_deviation: float | None
    mean_abs_deviation: float | None
    outlier: bool


class AggregateResult(msgspec.Struct, frozen=True, kw_only=True):
    method: Method
    parameters: AggregateParameters
    reliability: Reliability
    categories: tuple[CategoryRanking, ...]
    jurors: tuple[JurorStats, ...]
    snapshot_hash: str
    hash_scheme: HashScheme  # the canonical encoding the hash was made with (see snapshot.py)


# ---------------------------------------------------------------------------------------------
# Checks of the parameters


def _validate_parameters(params: AggregateParameters, criteria: Sequence[Criterion]) -> None:
    for problem in tie_break_problems(params.tie_break, {c.key for c in criteria}):
        if problem.kind == "repeated":
            raise AggregationInputError("tie-break rules must not repeat")
        raise AggregationInputError(f"unknown tie-break rule {problem.rule!r}")
    if params.reviews_per_entry < 0:
        raise AggregationInputError("reviews_per_entry must not be negative")
    if params.min_juror_sheets < 2:
        # A spread needs two sheets; fewer would standardise with an undefined deviation.
        raise AggregationInputError("min_juror_sheets must be at least 2")
    for name in ("high_disagreement_points", "outlier_sheet_points", "outlier_juror_points"):
        value = getattr(params, name)
        if not (math.isfinite(value) and value >= 0):
            raise AggregationInputError(f"{name} must be a non-negative number")


def _excluded_entries(table: ScoreTable, excluded: Sequence[ExcludedSheet]) -> BoolArray:
    """Entries with an excluded sheet (by entry index), after checking the list: every entry is
    one of the table's, no (entry, juror) twice, none also counted as a sheet of the table."""
    flagged = np.zeros(len(table.entry_ids), dtype=np.bool_)
    if not excluded:
        return flagged
    entry_index = {e: i for i, e in enumerate(table.entry_ids)}
    juror_index = {j: i for i, j in enumerate(table.juror_ids)}
    counted = set(zip(table.sheet_entry.tolist(), table.sheet_juror.tolist(), strict=True))
    seen: set[tuple[str, str]] = set()
    for sheet in excluded:
        pair = (sheet.entry_id, sheet.juror_id)
        if not sheet.reasons:
            raise AggregationInputError(f"excluded sheet {pair!r} needs a reason")
        if sheet.entry_id not in entry_index:
            raise AggregationInputError(f"excluded sheet of unknown entry {sheet.entry_id!r}")
        if pair in seen:
            raise AggregationInputError(f"sheet {pair!r} is excluded twice")
        if (entry_index[sheet.entry_id], juror_index.get(sheet.juror_id, -1)) in counted:
            raise AggregationInputError(f"sheet {pair!r} is both excluded and counted")
        seen.add(pair)
        flagged[entry_index[sheet.entry_id]] = True
    return flagged


# ---------------------------------------------------------------------------------------------
# Aggregation and the result


def _maybe(values: list[float], present: list[bool]) -> list[float | None]:
    return [v if p else None for v, p in zip(values, present, strict=True)]


def aggregate(
    *,
    table: ScoreTable,
    method: Method = "zscore",
    parameters: AggregateParameters | None = None,
    hash_scheme: HashScheme = CURRENT_HASH_SCHEME,
) -> AggregateResult:
    """Aggregate all final sheets of a competition into per-category rankings (see module doc)."""
    if method not in METHODS:
        raise AggregationInputError(f"unknown method {method!r}")
    params = parameters if parameters is not None else AggregateParameters()
    _validate_parameters(params, table.criteria)
    excluded_entry = _excluded_entries(table, params.excluded_sheets or ())

    totals = sheet_totals(table.scores, table.criteria)
    entries = stats.group_stats(table.sheet_entry, totals, len(table.entry_ids))
    jurors = stats.group_stats(table.sheet_juror, totals, len(table.juror_ids))
    median = stats.entry_medians(table.sheet_entry, totals, entries.count)
    own_scale = (jurors.count >= params.min_juror_sheets) & (jurors.stdev > stats.ZERO_SPREAD)
    if method == "zscore":
        score = stats.zscore_scores(
            table=table, totals=totals, entries=entries, jurors=jurors, own_scale=own_scale
        )
    else:
        score = entries.mean
    deviations = stats.deviations(
        table=table,
        totals=totals,
        entries=entries,
        outlier_sheet_points=params.outlier_sheet_points,
        outlier_juror_points=params.outlier_juror_points,
    )

    rule_values = [
        ranking.tie_values(rule, table=table, entries=entries, median=median)
        for rule in params.tie_break
    ]
    perm, ranks, broken_by, unbroken = ranking.rank(
        table=table, score=score, scored=entries.count > 0, rule_values=rule_values
    )
    alpha, n_units, n_values = reliability.krippendorff_alpha(entries, table.sheet_entry, totals)

    provisional = AggregateResult(
        method=method,
        parameters=params,
        reliability=Reliability(alpha=alpha, n_units=n_units, n_values=n_values),
        categories=_build_categories(
            table=table,
            params=params,
            perm=perm,
            ranks=ranks,
            broken_by=broken_by,
            unbroken=unbroken,
            score=score,
            entries=entries,
            median=median,
            outlier_entry=deviations.outlier_entry,
            excluded_entry=excluded_entry,
        ),
        jurors=_build_jurors(
            table=table,
            method=method,
            jurors=jurors,
            own_scale=own_scale,
            deviations=deviations,
        ),
        snapshot_hash="",
        hash_scheme=hash_scheme,
    )
    return msgspec.structs.replace(
        provisional, snapshot_hash=run_snapshot_hash(table=table, result=provisional)
    )


def _build_jurors(
    *,
    table: ScoreTable,
    method: Method,
    jurors: stats.GroupStats,
    own_scale: BoolArray,
    deviations: stats.Deviations,
) -> tuple[JurorStats, ...]:
    present = (jurors.count > 0).tolist()
    compared = (deviations.juror_compared > 0).tolist()
    normalisation: list[Normalisation] = [
        ("juror" if own else "pooled") if p and method == "zscore" else "none"
        for own, p in zip(own_scale.tolist(), present, strict=True)
    ]
    rows = [
        JurorStats(
            juror_id=juror_id,
            n_sheets=n_sheets,
            mean=mean,
            stdev=stdev,
            normalisation=norm,
            n_compared=n_compared,
            mean_deviation=mean_deviation,
            mean_abs_deviation=mean_abs_deviation,
            outlier=outlier,
        )
        for (
            juror_id,
            n_sheets,
            mean,
            stdev,
            norm,
            n_compared,
            mean_deviation,
            mean_abs_deviation,
            outlier,
        ) in zip(
            table.juror_ids,
            jurors.count.tolist(),
            _maybe(jurors.mean.tolist(), present),
            _maybe(jurors.stdev.tolist(), present),
            normalisation,
            deviations.juror_compared.tolist(),
            _maybe(deviations.juror_mean.tolist(), compared),
            _maybe(deviations.juror_mean_abs.tolist(), compared),
            deviations.juror_outlier.tolist(),
            strict=True,
        )
    ]
    rows.sort(key=lambda row: row.juror_id)
    return tuple(rows)


def _build_categories(
    *,
    table: ScoreTable,
    params: AggregateParameters,
    perm: IntArray,
    ranks: IntArray,
    broken_by: IntArray,
    unbroken: BoolArray,
    score: FloatArray,
    entries: stats.GroupStats,
    median: FloatArray,
    outlier_entry: BoolArray,
    excluded_entry: BoolArray,
) -> tuple[CategoryRanking, ...]:
    count = entries.count
    flag_columns: list[tuple[str, list[bool]]] = [
        (FLAG_NO_REVIEWS, (count == 0).tolist()),
        (FLAG_FEW_REVIEWS, (count < params.reviews_per_entry).tolist()),
        (
            FLAG_HIGH_DISAGREEMENT,
            (entries.stdev > params.high_disagreement_points + stats.FLAG_EPSILON).tolist(),
        ),
        (FLAG_OUTLIER_JUROR, outlier_entry.tolist()),
        (FLAG_TIE_UNBROKEN, unbroken.tolist()),
        (FLAG_SHEETS_EXCLUDED, excluded_entry.tolist()),
    ]
    present = (count > 0).tolist()
    score_l = _maybe(score.tolist(), present)
    mean_l = _maybe(entries.mean.tolist(), present)
    median_l = _maybe(median.tolist(), present)
    stdev_l = _maybe(entries.stdev.tolist(), present)
    count_l = count.tolist()
    broken_l = broken_by.tolist()
    rank_of: list[int | None] = [None] * len(table.entry_ids)
    for entry, rank in zip(perm.tolist(), ranks.tolist(), strict=True):
        rank_of[entry] = rank

    def row(i: int) -> RankedEntry:
        return RankedEntry(
            entry_id=table.entry_ids[i],
            title=table.entry_titles[i],
            rank=rank_of[i],
            score=score_l[i],
            raw_mean=mean_l[i],
            median=median_l[i],
            stdev=stdev_l[i],
            n_reviews=count_l[i],
            tie_broken_by=params.tie_break[broken_l[i]] if broken_l[i] >= 0 else None,
            flags=tuple(name for name, column in flag_columns if column[i]),
        )

    by_category: list[list[int]] = [[] for _ in table.categories]
    category_l = table.entry_category.tolist()
    for entry in perm.tolist():
        by_category[category_l[entry]].append(entry)
    unscored = sorted(
        (i for i in range(len(table.entry_ids)) if not present[i]),
        key=table.entry_ids.__getitem__,
    )
    for entry in unscored:
        by_category[category_l[entry]].append(entry)
    return tuple(
        CategoryRanking(category=name, ranking=tuple(row(i) for i in members))
        for name, members in zip(table.categories, by_category, strict=True)
    )


# ---------------------------------------------------------------------------------------------
# Snapshot


def result_outputs(result: AggregateResult) -> dict[str, Any]:
    """The part of a result covered by its snapshot hash (everything except the hash itself and
    the name of its scheme)."""
    outputs: dict[str, Any] = msgspec.to_builtins(result)
    del outputs["snapshot_hash"], outputs["hash_scheme"]
    return outputs


def run_snapshot_hash(*, table: ScoreTable, result: AggregateResult) -> str:
    """Recompute the hash of a stored run, to prove that inputs and ranking are unchanged; with
    the scheme the result names, which is the one its stored hash was made with."""
    return snapshot.snapshot_hash(
        inputs=table.canonical_inputs(), outputs=result_outputs(result), scheme=result.hash_scheme
    )
