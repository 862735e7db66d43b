"""Score aggregation and ranking of a competition: the pure maths behind a result run.

No I/O happens here; the results service loads the final score sheets, calls `aggregate`, and stores
what it returns. Everything is vectorised with NumPy over a columnar `ScoreTable` (no Python loop
over sheets), so that a million criterion scores aggregate within the budget that
bench/bench_aggregate.py measures; `table_from_records` builds the table from plain records.

Definitions (all figures are points on a 0–100 scale unless said otherwise)
---------------------------------------------------------------------------

Sheet total
    A criterion *c* has a weight w_c > 0 and a scale [min_c, max_c]. The weighted total of a
    sheet is ``100 · Σ_c w_c·(s_c − min_c)/(max_c − min_c) / Σ_c w_c`` — every criterion is
    required and every score must lie on its scale. `weighted_total` computes it for one sheet
    with exactly the same operations, in the same order, as the vectorised path, so both give the
    same bits.

Per entry
    n (number of sheets), ``raw_mean``, ``median`` (mean of the two middle totals when n is even)
    and ``stdev``, the *sample* standard deviation (ddof = 1) of its sheet totals. With n < 2 the
    sample standard deviation is undefined; it is reported as 0.0 (no observed disagreement).
    Entries without any sheet get ``None`` for every figure and ``rank`` and are listed after the
    ranked entries of their category, ordered by entry id.

Method "zscore" (per-juror normalisation)
    A juror *j* with at least ``min_juror_sheets`` (default 3) sheets and a sample standard
    deviation σ_j > 1e-9 has each of their totals standardised as ``z = (t − μ_j)/σ_j``. Every
    other juror (too few sheets for a stable mean/spread, or no spread at all) is standardised with
    the pooled mean μ_all and sample standard deviation σ_all of *all* sheet totals of the
    competition (``normalisation: "pooled"``), which maps their totals back unchanged below; if
    σ_all ≤ 1e-9 as well, z = 0. The score of an entry is the mean z of its sheets mapped back onto
    the points scale, ``score = μ_all + σ_all · mean_z``, so that scores stay readable on 0–100.
    This is the usual per-reviewer standardisation that removes each juror's own offset and spread
    (on reviewer miscalibration see Wang & Shah, "Your 2 is my 1, your 3 is my 9", AAMAS 2019),
    with a declared fallback for small panels.

Method "raw"
    ``score = raw_mean``.

Ranking (per category)
    Entries are ordered by score, descending. Scores within 1e-9 of their neighbour in that order
    are tied (ties chain: a run of neighbours each within 1e-9 forms one tie group). A tie group
    goes through the competition's tie-break chain in declared order; each rule orders the group
    by a value (higher wins) and splits it where neighbouring values differ by more than 1e-9:

    - ``median``, ``raw_mean``, ``n_reviews``: the entry figures of the same name;
    - ``criterion:<key>``: mean of that criterion's raw scores over the entry's sheets;
    - ``highest_weight_criterion``: the same for the criterion with the greatest weight (equal
      weights: the first declared);
    - ``top_marks``: number of scores equal to their criterion's scale maximum over the entry's
      sheets.

    ``tie_broken_by`` names the rule at which an entry became separated from every entry it was
    tied with; it is ``None`` for entries that were never tied and for ties the chain cannot break.
    Unbroken ties share the rank (standard competition ranking: 1, 2, 2, 4), are ordered by entry
    id and are flagged ``tie_unbroken``.

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

Reliability
    Krippendorff's alpha with the interval metric (Krippendorff, "Computing Krippendorff's
    Alpha-Reliability", 2011): units = entries, coders = jurors, values = sheet totals. Units with
    fewer than two values are not pairable and are dropped. With n pairable values, unit sizes m_u
    and within-unit sums of squared deviations SS_u, the coincidence-matrix formulas reduce to
    ``D_o = (2/n) Σ_u m_u·SS_u/(m_u − 1)`` and ``D_e = 2·SS_total/(n − 1)``, so
    ``alpha = 1 − D_o/D_e``. For the interval metric only the values per unit matter, not which
    coder gave them. Alpha is ``None`` when it is undefined: no pairable unit, or no expected
    disagreement (sample standard deviation of the pairable values ≤ 1e-9).

Snapshot
    `canonical_json` writes sorted keys, no whitespace, UTF-8 strings, and every float rounded to 9
    decimal places and then to 12 significant digits (non-finite floats are refused), so that a
    recomputation elsewhere yields the same bytes even if the last bits of a float differ. The
    arithmetic itself uses only element-wise IEEE-754 operations and reductions in a fixed order
    (no BLAS), so it is bit-reproducible in practice as well. `snapshot_hash` is the hex SHA-256 of
    the canonical JSON of ``{"inputs": …, "outputs": …}``; the inputs are written in a form that
    does not depend on the order in which entries, jurors or sheets were loaded.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Final, Literal, cast

import msgspec
import numpy as np
import numpy.typing as npt
from msgspec import UNSET, UnsetType

# The tie-break vocabulary is declared with the competition; one definition for both.
from competition.competitions.rules import (
    DEFAULT_TIE_BREAK,
    RULE_CRITERION_PREFIX,
    RULE_HIGHEST_WEIGHT,
    RULE_MEDIAN,
    RULE_N_REVIEWS,
    RULE_RAW_MEAN,
    RULE_TOP_MARKS,
    tie_break_problems,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Method = Literal["zscore", "raw"]
Normalisation = Literal["juror", "pooled", "none"]

METHODS: Final = ("zscore", "raw")
TIE_EPSILON: Final = 1e-9
FLAG_EPSILON: Final = 1e-9
ZERO_SPREAD: Final = 1e-9
CANONICAL_DECIMALS: Final = 9
CANONICAL_DIGITS: Final = 12

FLAG_NO_REVIEWS: Final = "no_reviews"
FLAG_FEW_REVIEWS: Final = "few_reviews"
FLAG_HIGH_DISAGREEMENT: Final = "high_disagreement"
FLAG_OUTLIER_JUROR: Final = "outlier_juror"
FLAG_TIE_UNBROKEN: Final = "tie_unbroken"
FLAG_SHEETS_EXCLUDED: Final = "sheets_excluded"


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
        three sheet columns stay NumPy arrays; `canonical_json` writes them like lists.
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
        # Same operation order as _sheet_totals so the API shows the bits the ranking uses.
        acc = acc + c.weight * (value - c.min) / (c.max - c.min)
        weight_sum = weight_sum + c.weight
    return 100.0 * acc / weight_sum


def _sheet_totals(scores: FloatArray, criteria: Sequence[Criterion]) -> FloatArray:
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
# Convenience constructor


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


# ---------------------------------------------------------------------------------------------
# Aggregation


class _GroupStats(msgspec.Struct, frozen=True, kw_only=True, eq=False):
    count: IntArray
    total: FloatArray
    mean: FloatArray  # NaN where count == 0
    sum_sq: FloatArray  # sum of squared deviations from the group mean
    stdev: FloatArray  # sample stdev, 0.0 where count < 2


def _sum_by(groups: IntArray, values: FloatArray, size: int) -> FloatArray:
    # bincount adds in array order, so the sums are reproducible (unlike a threaded BLAS).
    return np.bincount(groups, weights=values, minlength=size).astype(np.float64, copy=False)


def _group_stats(groups: IntArray, values: FloatArray, size: int) -> _GroupStats:
    count = np.bincount(groups, minlength=size).astype(np.int64)
    total = _sum_by(groups, values, size)
    mean = np.full(size, np.nan)
    np.divide(total, count, out=mean, where=count > 0)
    # Two passes (mean first, then squared deviations) to avoid the cancellation of Σx² − n·x̄².
    deviation = values - mean[groups]
    sum_sq = _sum_by(groups, deviation * deviation, size)
    variance = np.zeros(size)
    np.divide(sum_sq, count - 1, out=variance, where=count > 1)
    return _GroupStats(count=count, total=total, mean=mean, sum_sq=sum_sq, stdev=np.sqrt(variance))


def _entry_medians(sheet_entry: IntArray, totals: FloatArray, count: IntArray) -> FloatArray:
    order = np.lexsort((totals, sheet_entry))
    ordered = totals[order]
    starts = np.cumsum(count) - count
    has = count > 0
    lo = np.where(has, starts + (count - 1) // 2, 0)
    hi = np.where(has, starts + count // 2, 0)
    median = np.full(count.shape[0], np.nan)
    if ordered.shape[0]:
        median = np.where(has, (ordered[lo] + ordered[hi]) / 2.0, np.nan)
    return median


def _tie_values(
    rule: str,
    *,
    table: ScoreTable,
    entries: _GroupStats,
    median: FloatArray,
) -> FloatArray:
    n_entries = len(table.entry_ids)
    if rule == RULE_MEDIAN:
        return median
    if rule == RULE_RAW_MEAN:
        return entries.mean
    if rule == RULE_N_REVIEWS:
        return entries.count.astype(np.float64)
    if rule == RULE_TOP_MARKS:
        highs = np.array([c.max for c in table.criteria], dtype=np.float64)
        per_sheet = (table.scores == highs).sum(axis=1).astype(np.float64)
        return _sum_by(table.sheet_entry, per_sheet, n_entries)
    if rule == RULE_HIGHEST_WEIGHT:
        # np.argmax returns the first maximum, i.e. the first declared among equal weights.
        column = int(np.argmax([c.weight for c in table.criteria]))
    else:
        key = rule[len(RULE_CRITERION_PREFIX) :]
        column = [c.key for c in table.criteria].index(key)
    sums = _sum_by(table.sheet_entry, table.scores[:, column], n_entries)
    values = np.full(n_entries, np.nan)
    np.divide(sums, entries.count, out=values, where=entries.count > 0)
    return values


def _starts(keys: Sequence[npt.NDArray[Any]], values: FloatArray | None = None) -> BoolArray:
    """Mark positions that open a new group: a key changes or the value drops by more than ε."""
    new = np.ones(keys[0].shape[0], dtype=np.bool_)
    if new.shape[0] < 2:
        return new
    change = np.zeros(new.shape[0] - 1, dtype=np.bool_)
    for key in keys:
        change |= key[1:] != key[:-1]
    if values is not None:
        change |= (values[:-1] - values[1:]) > TIE_EPSILON
    new[1:] = change
    return new


def _rank(
    *,
    table: ScoreTable,
    score: FloatArray,
    scored: BoolArray,
    rule_values: Sequence[FloatArray],
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Order, rank and tie-break the scored entries of every category at once.

    Returns the scored entries in ranking order (category-major), their ranks, the index of the
    rule that separated each entry (per entry id index, -1 for none) and the unbroken-tie mask
    (per entry id index).
    """
    n_entries = len(table.entry_ids)
    id_order = sorted(range(n_entries), key=table.entry_ids.__getitem__)
    id_rank = np.empty(n_entries, dtype=np.int64)
    id_rank[id_order] = np.arange(n_entries, dtype=np.int64)
    category = table.entry_category

    candidates = np.flatnonzero(scored)
    perm = candidates[np.lexsort((id_rank[candidates], -score[candidates], category[candidates]))]
    group = np.cumsum(_starts([category[perm]], score[perm])) - 1
    broken_by = np.full(n_entries, -1, dtype=np.int64)
    for index, values in enumerate(rule_values):
        sizes = np.bincount(group)
        tied = sizes[group] > 1
        if not tied.any():
            break
        v = values[perm]
        order = np.lexsort((id_rank[perm], -v, group))
        perm, group, v, tied = perm[order], group[order], v[order], tied[order]
        group = np.cumsum(_starts([group], v)) - 1
        separated = tied & (np.bincount(group)[group] == 1)
        broken_by[perm[separated]] = index

    unbroken = np.zeros(n_entries, dtype=np.bool_)
    if perm.shape[0] == 0:
        return perm, np.zeros(0, dtype=np.int64), broken_by, unbroken
    unbroken[perm] = np.bincount(group)[group] > 1
    positions = np.arange(perm.shape[0], dtype=np.int64)
    category_first = np.maximum.accumulate(np.where(_starts([category[perm]]), positions, 0))
    group_first = np.maximum.accumulate(np.where(_starts([group]), positions, 0))
    ranks = group_first - category_first + 1
    return perm, ranks, broken_by, unbroken


def _alpha(
    entries: _GroupStats, sheet_entry: IntArray, totals: FloatArray
) -> tuple[float | None, int, int]:
    pairable = entries.count >= 2
    n_units = int(pairable.sum())
    values = totals[pairable[sheet_entry]]
    n = int(values.shape[0])
    if n_units == 0:
        return None, 0, 0
    deviation = values - values.mean()
    ss_total = float(np.sum(deviation * deviation))
    if ss_total / (n - 1) <= ZERO_SPREAD * ZERO_SPREAD:
        return None, n_units, n
    m = entries.count[pairable].astype(np.float64)
    within = float(np.sum(m * entries.sum_sq[pairable] / (m - 1.0)))
    ratio = (n - 1) / n * within / ss_total
    return 1.0 - ratio, n_units, n


def _maybe(values: list[float], present: list[bool]) -> list[float | None]:
    return [v if p else None for v, p in zip(values, present, strict=True)]


def _pooled(totals: FloatArray) -> tuple[float, float]:
    n = totals.shape[0]
    if n == 0:
        return 0.0, 0.0
    mean = float(totals.mean())
    if n == 1:
        return mean, 0.0
    deviation = totals - mean
    return mean, math.sqrt(float(np.sum(deviation * deviation)) / (n - 1))


def _zscore_scores(
    *,
    table: ScoreTable,
    totals: FloatArray,
    entries: _GroupStats,
    jurors: _GroupStats,
    own_scale: BoolArray,
) -> FloatArray:
    mu_all, sd_all = _pooled(totals)
    sheet_juror = table.sheet_juror
    own = own_scale[sheet_juror]
    centre = np.where(own, jurors.mean[sheet_juror], mu_all)
    spread = np.where(own, jurors.stdev[sheet_juror], sd_all)
    z = np.zeros(totals.shape[0])
    np.divide(totals - centre, spread, out=z, where=spread > ZERO_SPREAD)
    n_entries = len(table.entry_ids)
    mean_z = np.full(n_entries, np.nan)
    z_sum = _sum_by(table.sheet_entry, z, n_entries)
    np.divide(z_sum, entries.count, out=mean_z, where=entries.count > 0)
    score: FloatArray = mu_all + sd_all * mean_z
    return score


class _Deviations(msgspec.Struct, frozen=True, kw_only=True, eq=False):
    outlier_entry: BoolArray
    juror_compared: IntArray
    juror_mean: FloatArray
    juror_mean_abs: FloatArray
    juror_outlier: BoolArray


def _deviations(
    *, table: ScoreTable, totals: FloatArray, entries: _GroupStats, params: AggregateParameters
) -> _Deviations:
    """Each sheet against the mean of the other sheets of its entry, per entry and per juror."""
    n_entries = len(table.entry_ids)
    n_jurors = len(table.juror_ids)
    sheet_entry = table.sheet_entry
    sheet_juror = table.sheet_juror
    count_at = entries.count[sheet_entry]
    compared = count_at > 1
    # Leave-one-out mean from the entry sum: exact enough (1e-13) and avoids a per-sheet loop.
    others = np.zeros(totals.shape[0])
    np.divide(entries.total[sheet_entry] - totals, count_at - 1, out=others, where=compared)
    deviation = np.where(compared, totals - others, 0.0)
    magnitude = np.abs(deviation)
    outlier_sheet = compared & (magnitude > params.outlier_sheet_points + FLAG_EPSILON)
    juror_compared = np.bincount(sheet_juror[compared], minlength=n_jurors).astype(np.int64)
    has = juror_compared > 0
    juror_mean = np.full(n_jurors, np.nan)
    juror_mean_abs = np.full(n_jurors, np.nan)
    dev_sum = _sum_by(sheet_juror, deviation, n_jurors)
    abs_sum = _sum_by(sheet_juror, magnitude, n_jurors)
    np.divide(dev_sum, juror_compared, out=juror_mean, where=has)
    np.divide(abs_sum, juror_compared, out=juror_mean_abs, where=has)
    return _Deviations(
        outlier_entry=np.bincount(sheet_entry[outlier_sheet], minlength=n_entries) > 0,
        juror_compared=juror_compared,
        juror_mean=juror_mean,
        juror_mean_abs=juror_mean_abs,
        juror_outlier=has & (juror_mean_abs > params.outlier_juror_points + FLAG_EPSILON),
    )


def aggregate(
    *,
    table: ScoreTable,
    method: Method = "zscore",
    parameters: AggregateParameters | None = None,
) -> AggregateResult:
    """Aggregate all final sheets of a competition into per-category rankings (see module doc)."""
    if method not in METHODS:
        raise AggregationInputError(f"unknown method {method!r}")
    params = parameters if parameters is not None else AggregateParameters()
    _validate_parameters(params, table.criteria)
    excluded_entry = _excluded_entries(table, params.excluded_sheets or ())

    totals = _sheet_totals(table.scores, table.criteria)
    entries = _group_stats(table.sheet_entry, totals, len(table.entry_ids))
    jurors = _group_stats(table.sheet_juror, totals, len(table.juror_ids))
    median = _entry_medians(table.sheet_entry, totals, entries.count)
    own_scale = (jurors.count >= params.min_juror_sheets) & (jurors.stdev > ZERO_SPREAD)
    if method == "zscore":
        score = _zscore_scores(
            table=table, totals=totals, entries=entries, jurors=jurors, own_scale=own_scale
        )
    else:
        score = entries.mean
    deviations = _deviations(table=table, totals=totals, entries=entries, params=params)

    rule_values = [
        _tie_values(rule, table=table, entries=entries, median=median) for rule in params.tie_break
    ]
    perm, ranks, broken_by, unbroken = _rank(
        table=table, score=score, scored=entries.count > 0, rule_values=rule_values
    )
    alpha, n_units, n_values = _alpha(entries, table.sheet_entry, totals)

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
    )
    digest = snapshot_hash(inputs=table.canonical_inputs(), outputs=result_outputs(provisional))
    return msgspec.structs.replace(provisional, snapshot_hash=digest)


def _build_jurors(
    *,
    table: ScoreTable,
    method: Method,
    jurors: _GroupStats,
    own_scale: BoolArray,
    deviations: _Deviations,
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
    entries: _GroupStats,
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
            (entries.stdev > params.high_disagreement_points + FLAG_EPSILON).tolist(),
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
    """The part of a result covered by its snapshot hash (everything except the hash itself)."""
    outputs: dict[str, Any] = msgspec.to_builtins(result)
    del outputs["snapshot_hash"]
    return outputs


def run_snapshot_hash(*, table: ScoreTable, result: AggregateResult) -> str:
    """Recompute the hash of a stored run, to prove that inputs and ranking are unchanged."""
    return snapshot_hash(inputs=table.canonical_inputs(), outputs=result_outputs(result))


def snapshot_hash(*, inputs: object, outputs: object) -> str:
    """Hex SHA-256 over the canonical JSON of ``{"inputs": inputs, "outputs": outputs}``."""
    return hashlib.sha256(canonical_json({"inputs": inputs, "outputs": outputs})).hexdigest()


def canonical_json(obj: object) -> bytes:
    """Deterministic JSON bytes: sorted keys, no whitespace, floats rounded (see module doc)."""
    parts: list[str] = []
    _encode(obj, parts)
    return "".join(parts).encode("utf-8")


_FLOAT_FORMAT: Final = f".{CANONICAL_DIGITS}g"
# Integral floats below this magnitude print the same under ".12g" as their int does.
_INTEGRAL_LIMIT: Final = 10.0**CANONICAL_DIGITS


def _format_float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"canonical JSON cannot represent {value!r}")
    rounded = round(value, CANONICAL_DECIMALS)
    if rounded == 0:
        return "0"  # also folds -0.0, which must not hash differently from 0.0
    return format(rounded, _FLOAT_FORMAT)


def _encode(obj: object, out: list[str]) -> None:
    # Exact-type dispatch first: this runs once per value of a 20,000-entry ranking.
    kind = type(obj)
    if kind is str:
        out.append(encode_basestring(cast("str", obj)))
    elif kind is float:
        out.append(_format_float(cast("float", obj)))
    elif kind is int:
        out.append(str(obj))
    elif kind is dict:
        _encode_mapping(cast("dict[object, object]", obj), out)
    elif kind is list or kind is tuple:
        _encode_sequence(cast("Sequence[object]", obj), out)
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(encode_basestring(str(obj)))
    elif isinstance(obj, int | np.integer):
        out.append(str(int(obj)))
    elif isinstance(obj, float | np.floating):
        out.append(_format_float(float(obj)))
    elif isinstance(obj, Mapping):
        _encode_mapping(obj, out)
    elif isinstance(obj, list | tuple):
        _encode_sequence(obj, out)
    elif isinstance(obj, np.ndarray):
        _encode_array(obj, out)
    else:
        raise TypeError(f"canonical JSON cannot encode {type(obj).__name__}")


def _encode_mapping(obj: Mapping[object, object], out: list[str]) -> None:
    keys = list(obj)
    if not all(type(k) is str for k in keys):
        raise TypeError("canonical JSON object keys must be strings")
    out.append("{")
    for i, key in enumerate(sorted(cast("list[str]", keys))):
        if i:
            out.append(",")
        out.append(encode_basestring(key))
        out.append(":")
        _encode(obj[key], out)
    out.append("}")


def _encode_array(array: npt.NDArray[Any], out: list[str]) -> None:
    if array.ndim != 1:
        _encode_sequence(array.tolist(), out)
        return
    if array.dtype.kind == "f":
        # Whole-number scores are the common case; printing them as ints gives the same text as
        # _format_float and is ten times faster.
        if (
            np.isfinite(array).all()
            and (np.abs(array) < _INTEGRAL_LIMIT).all()
            and (np.trunc(array) == array).all()
        ):
            out.append("[" + ",".join(map(str, array.astype(np.int64).tolist())) + "]")
            return
        out.append("[" + ",".join(map(_format_float, array.tolist())) + "]")
        return
    if array.dtype.kind in "iu":
        out.append("[" + ",".join(map(str, array.tolist())) + "]")
        return
    _encode_sequence(array.tolist(), out)


def _encode_sequence(items: Sequence[object], out: list[str]) -> None:
    if all(type(x) is float for x in items):
        out.append("[" + ",".join(map(_format_float, cast("Sequence[float]", items))) + "]")
        return
    if all(type(x) is int for x in items):
        out.append("[" + ",".join(map(str, items)) + "]")
        return
    out.append("[")
    for i, item in enumerate(items):
        if i:
            out.append(",")
        _encode(item, out)
    out.append("]")
