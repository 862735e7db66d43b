"""Inter-rater reliability of a jury: Krippendorff's alpha with the interval metric.

Pure NumPy, no I/O. Follows Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011):
units = entries, coders = jurors, values = sheet totals. Units with fewer than two values are not
pairable and are dropped. With n pairable values, unit sizes m_u and within-unit sums of squared
deviations SS_u, the coincidence-matrix formulas reduce to ``D_o = (2/n) Σ_u m_u·SS_u/(m_u − 1)``
and ``D_e = 2·SS_total/(n − 1)``, so ``alpha = 1 − D_o/D_e``. For the interval metric only the
values per unit matter, not which coder gave them. Alpha is ``None`` when it is undefined: no
pairable unit, or no expected disagreement (sample standard deviation of the pairable values
≤ 1e-9). The tests check this shortcut against the pairwise definition and the paper's example.
"""

from __future__ import annotations

import numpy as np

from competition.results.stats import ZERO_SPREAD, GroupStats
from competition.results.table import FloatArray, IntArray


def krippendorff_alpha(
    entries: GroupStats, sheet_entry: IntArray, totals: FloatArray
) -> tuple[float | None, int, int]:
    """(alpha, pairable units, pairable values); alpha is None where it is undefined."""
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
