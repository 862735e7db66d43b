"""Per-group figures of the sheet totals: counts, means, spreads, medians, z-scores, deviations.

Pure NumPy over the columnar `ScoreTable`, no I/O and no Python loop over sheets. Sums use
``np.bincount``, which adds in array order, so every figure is reproducible to the bit.

Per entry
    n (number of sheets), ``raw_mean``, ``median`` (mean of the two middle totals when n is even)
    and ``stdev``, the *sample* standard deviation (ddof = 1) of its sheet totals. With n < 2 the
    sample standard deviation is undefined; it is reported as 0.0 (no observed disagreement).
    Variances are computed in two passes (mean first, then squared deviations), avoiding the
    cancellation of ``Σx² − n·x̄²`` (Chan, Golub & LeVeque, "Algorithms for computing the sample
    variance", 1983).

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

Deviations
    Each sheet is compared with the mean of the *other* sheets of its entry (leave-one-out), on
    entries with at least two sheets. Per entry: does some sheet differ by more than
    ``outlier_sheet_points``? Per juror: ``mean_deviation`` (signed: lenient > 0, harsh < 0),
    ``mean_abs_deviation`` and whether the latter exceeds ``outlier_juror_points``. "More than a
    threshold" means by more than `FLAG_EPSILON`, so that rounding noise in the last bit never
    decides a flag.
"""

from __future__ import annotations

import math
from typing import Final

import msgspec
import numpy as np

from competition.results.table import BoolArray, FloatArray, IntArray, ScoreTable

FLAG_EPSILON: Final = 1e-9
ZERO_SPREAD: Final = 1e-9


class GroupStats(msgspec.Struct, frozen=True, kw_only=True, eq=False):
    count: IntArray
    total: FloatArray
    mean: FloatArray  # NaN where count == 0
    sum_sq: FloatArray  # sum of squared deviations from the group mean
    stdev: FloatArray  # sample stdev, 0.0 where count < 2


def sum_by(groups: IntArray, values: FloatArray, size: int) -> FloatArray:
    # bincount adds in array order, so the sums are reproducible (unlike a threaded BLAS).
    return np.bincount(groups, weights=values, minlength=size).astype(np.float64, copy=False)


def group_stats(groups: IntArray, values: FloatArray, size: int) -> GroupStats:
    count = np.bincount(groups, minlength=size).astype(np.int64)
    total = sum_by(groups, values, size)
    mean = np.full(size, np.nan)
    np.divide(total, count, out=mean, where=count > 0)
    # Two passes (mean first, then squared deviations) to avoid the cancellation of Σx² − n·x̄².
    deviation = values - mean[groups]
    sum_sq = sum_by(groups, deviation * deviation, size)
    variance = np.zeros(size)
    np.divide(sum_sq, count - 1, out=variance, where=count > 1)
    return GroupStats(count=count, total=total, mean=mean, sum_sq=sum_sq, stdev=np.sqrt(variance))


def entry_medians(sheet_entry: IntArray, totals: FloatArray, count: IntArray) -> FloatArray:
    """Median total per entry (mean of the two middle totals when n is even), NaN without sheets."""
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


def pooled(totals: FloatArray) -> tuple[float, float]:
    """Mean and sample standard deviation of all sheet totals of the competition."""
    n = totals.shape[0]
    if n == 0:
        return 0.0, 0.0
    mean = float(totals.mean())
    if n == 1:
        return mean, 0.0
    deviation = totals - mean
    return mean, math.sqrt(float(np.sum(deviation * deviation)) / (n - 1))


def zscore_scores(
    *,
    table: ScoreTable,
    totals: FloatArray,
    entries: GroupStats,
    jurors: GroupStats,
    own_scale: BoolArray,
) -> FloatArray:
    """Entry scores of method "zscore"; `own_scale` marks the jurors standardised on their own."""
    mu_all, sd_all = pooled(totals)
    sheet_juror = table.sheet_juror
    own = own_scale[sheet_juror]
    centre = np.where(own, jurors.mean[sheet_juror], mu_all)
    spread = np.where(own, jurors.stdev[sheet_juror], sd_all)
    z = np.zeros(totals.shape[0])
    np.divide(totals - centre, spread, out=z, where=spread > ZERO_SPREAD)
    n_entries = len(table.entry_ids)
    mean_z = np.full(n_entries, np.nan)
    z_sum = sum_by(table.sheet_entry, z, n_entries)
    np.divide(z_sum, entries.count, out=mean_z, where=entries.count > 0)
    score: FloatArray = mu_all + sd_all * mean_z
    return score


class Deviations(msgspec.Struct, frozen=True, kw_only=True, eq=False):
    outlier_entry: BoolArray
    juror_compared: IntArray
    juror_mean: FloatArray
    juror_mean_abs: FloatArray
    juror_outlier: BoolArray


def deviations(
    *,
    table: ScoreTable,
    totals: FloatArray,
    entries: GroupStats,
    outlier_sheet_points: float,
    outlier_juror_points: float,
) -> Deviations:
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
    outlier_sheet = compared & (magnitude > outlier_sheet_points + FLAG_EPSILON)
    juror_compared = np.bincount(sheet_juror[compared], minlength=n_jurors).astype(np.int64)
    has = juror_compared > 0
    juror_mean = np.full(n_jurors, np.nan)
    juror_mean_abs = np.full(n_jurors, np.nan)
    dev_sum = sum_by(sheet_juror, deviation, n_jurors)
    abs_sum = sum_by(sheet_juror, magnitude, n_jurors)
    np.divide(dev_sum, juror_compared, out=juror_mean, where=has)
    np.divide(abs_sum, juror_compared, out=juror_mean_abs, where=has)
    return Deviations(
        outlier_entry=np.bincount(sheet_entry[outlier_sheet], minlength=n_entries) > 0,
        juror_compared=juror_compared,
        juror_mean=juror_mean,
        juror_mean_abs=juror_mean_abs,
        juror_outlier=has & (juror_mean_abs > outlier_juror_points + FLAG_EPSILON),
    )
