"""Ranking per category with a declared tie-break chain, vectorised over all categories at once.

Pure NumPy, no I/O: the order is a function of the figures `competition.results.aggregate`
passes in (scores and one value per tie-break rule), nothing else.

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
    Unbroken ties share the rank (standard competition ranking, "1224": 1, 2, 2, 4), are ordered
    by entry id and are flagged ``tie_unbroken``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

# The tie-break vocabulary is declared with the competition; one definition for both.
from competition.competitions.rules import (
    RULE_CRITERION_PREFIX,
    RULE_HIGHEST_WEIGHT,
    RULE_MEDIAN,
    RULE_N_REVIEWS,
    RULE_RAW_MEAN,
    RULE_TOP_MARKS,
)
from competition.results.stats import GroupStats, sum_by
from competition.results.table import BoolArray, FloatArray, IntArray, ScoreTable

TIE_EPSILON: Final = 1e-9


def tie_values(
    rule: str,
    *,
    table: ScoreTable,
    entries: GroupStats,
    median: FloatArray,
) -> FloatArray:
    """The value one tie-break rule orders a tie group by (higher wins), per entry index."""
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
        return sum_by(table.sheet_entry, per_sheet, n_entries)
    if rule == RULE_HIGHEST_WEIGHT:
        # np.argmax returns the first maximum, i.e. the first declared among equal weights.
        column = int(np.argmax([c.weight for c in table.criteria]))
    else:
        key = rule[len(RULE_CRITERION_PREFIX) :]
        column = [c.key for c in table.criteria].index(key)
    sums = sum_by(table.sheet_entry, table.scores[:, column], n_entries)
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


def rank(
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
