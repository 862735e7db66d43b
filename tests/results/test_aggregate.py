"""Tests of the score aggregation: hand-computed cases, and random data against a reference.

`reference_aggregate` below is deliberately written unlike the module: plain Python loops over
records, `math.fsum`, recursive tie-breaking, and Krippendorff's pairwise (coincidence) definition
of alpha instead of the sum-of-squares shortcut. The benchmark in bench/ reuses it as its baseline.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import pytest

from competition.results.aggregate import (
    AggregateParameters,
    AggregateResult,
    AggregationInputError,
    Criterion,
    EntryRecord,
    Method,
    RankedEntry,
    Reliability,
    ScoreTable,
    SheetRecord,
    aggregate,
    result_outputs,
    run_snapshot_hash,
    table_from_records,
    weighted_total,
)
from competition.results.snapshot import canonical_json

TOL = 1e-9

# One criterion on 0–100 with weight 1: a sheet total equals its score (up to rounding).
POINTS = (Criterion(key="p", weight=1.0, min=0.0, max=100.0),)


def approx(value: float) -> Any:
    return pytest.approx(value, abs=TOL, rel=0)


# ---------------------------------------------------------------------------------------------
# Independent reference


def reference_aggregate(
    *,
    criteria: Sequence[Criterion],
    categories: Sequence[str],
    entries: Sequence[EntryRecord],
    sheets: Sequence[SheetRecord],
    method: str,
    params: AggregateParameters,
) -> dict[str, Any]:
    """Straightforward re-implementation of the documented definitions (see module docstring)."""
    weight_sum = math.fsum(c.weight for c in criteria)

    def total(scores: Mapping[str, float]) -> float:
        parts = (c.weight * (scores[c.key] - c.min) / (c.max - c.min) for c in criteria)
        return 100.0 * math.fsum(parts) / weight_sum

    def mean(xs: Sequence[float]) -> float:
        return math.fsum(xs) / len(xs)

    def sample_sd(xs: Sequence[float]) -> float:
        if len(xs) < 2:
            return 0.0
        m = mean(xs)
        return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1))

    def median(xs: Sequence[float]) -> float:
        ys = sorted(xs)
        k = len(ys)
        return (ys[(k - 1) // 2] + ys[k // 2]) / 2

    sheet_total = [total(s.scores) for s in sheets]
    by_entry: dict[str, list[int]] = {e.entry_id: [] for e in entries}
    by_juror: dict[str, list[int]] = {}
    for i, s in enumerate(sheets):
        by_entry[s.entry_id].append(i)
        by_juror.setdefault(s.juror_id, []).append(i)

    all_mean = mean(sheet_total) if sheet_total else 0.0
    all_sd = sample_sd(sheet_total)

    juror: dict[str, dict[str, Any]] = {}
    for j, idx in by_juror.items():
        ts = [sheet_total[i] for i in idx]
        sd = sample_sd(ts)
        own = len(ts) >= params.min_juror_sheets and sd > 1e-9
        deviations = []
        for i in idx:
            others = [sheet_total[k] for k in by_entry[sheets[i].entry_id] if k != i]
            if others:
                deviations.append(sheet_total[i] - mean(others))
        juror[j] = {
            "n_sheets": len(ts),
            "mean": mean(ts),
            "stdev": sd,
            "own": own,
            "normalisation": ("juror" if own else "pooled") if method == "zscore" else "none",
            "n_compared": len(deviations),
            "mean_deviation": mean(deviations) if deviations else None,
            "mean_abs_deviation": mean([abs(d) for d in deviations]) if deviations else None,
            "outlier": bool(deviations)
            and mean([abs(d) for d in deviations]) - params.outlier_juror_points > 1e-9,
        }

    def z_of(i: int) -> float:
        info = juror[sheets[i].juror_id]
        if info["own"]:
            return float((sheet_total[i] - info["mean"]) / info["stdev"])
        if all_sd > 1e-9:
            return (sheet_total[i] - all_mean) / all_sd
        return 0.0

    highest = criteria[0]
    for c in criteria[1:]:
        if c.weight > highest.weight:
            highest = c

    entry: dict[str, dict[str, Any]] = {}
    for e in entries:
        idx = by_entry[e.entry_id]
        ts = [sheet_total[i] for i in idx]
        info: dict[str, Any] = {"n": len(ts), "category": e.category}
        entry[e.entry_id] = info
        if not ts:
            info.update(score=None, raw_mean=None, median=None, stdev=None, outlier=False)
            continue
        info["raw_mean"] = mean(ts)
        info["median"] = median(ts)
        info["stdev"] = sample_sd(ts)
        info["score"] = (
            all_mean + all_sd * mean([z_of(i) for i in idx])
            if method == "zscore"
            else info["raw_mean"]
        )
        info["outlier"] = any(
            abs(sheet_total[i] - mean([sheet_total[k] for k in idx if k != i]))
            - params.outlier_sheet_points
            > 1e-9
            for i in idx
            if len(idx) > 1
        )
        for c in criteria:
            info["criterion:" + c.key] = mean([sheets[i].scores[c.key] for i in idx])
        info["highest_weight_criterion"] = info["criterion:" + highest.key]
        info["top_marks"] = float(
            sum(1 for i in idx for c in criteria if sheets[i].scores[c.key] == c.max)
        )
        info["n_reviews"] = float(len(idx))

    tie_by: dict[str, str] = {}

    def split(group: list[str], key: str) -> list[list[str]]:
        ordered = sorted(group, key=lambda eid: (-entry[eid][key], eid))
        parts = [[ordered[0]]]
        for prev, cur in itertools.pairwise(ordered):
            if entry[prev][key] - entry[cur][key] > 1e-9:
                parts.append([cur])
            else:
                parts[-1].append(cur)
        return parts

    def resolve(group: list[str], depth: int) -> list[list[str]]:
        if len(group) == 1 or depth == len(params.tie_break):
            return [group]
        rule = params.tie_break[depth]
        resolved: list[list[str]] = []
        for part in split(group, rule):
            if len(part) == 1:
                tie_by[part[0]] = rule
                resolved.append(part)
            else:
                resolved.extend(resolve(part, depth + 1))
        return resolved

    rank: dict[str, int | None] = {}
    unbroken: set[str] = set()
    order: dict[str, list[str]] = {}
    for category in categories:
        members = [e.entry_id for e in entries if e.category == category]
        scored = [eid for eid in members if entry[eid]["n"] > 0]
        position = 0
        order[category] = []
        for group in split(scored, "score") if scored else []:
            for final in resolve(group, 0):
                for eid in final:
                    rank[eid] = position + 1
                    order[category].append(eid)
                    if len(final) > 1:
                        unbroken.add(eid)
                position += len(final)
        for eid in sorted(eid for eid in members if entry[eid]["n"] == 0):
            rank[eid] = None
            order[category].append(eid)

    for eid, info in entry.items():
        info["rank"] = rank[eid]
        info["tie_broken_by"] = tie_by.get(eid)
        flags = []
        if info["n"] == 0:
            flags.append("no_reviews")
        if info["n"] < params.reviews_per_entry:
            flags.append("few_reviews")
        if info["n"] and info["stdev"] - params.high_disagreement_points > 1e-9:
            flags.append("high_disagreement")
        if info["outlier"]:
            flags.append("outlier_juror")
        if eid in unbroken:
            flags.append("tie_unbroken")
        info["flags"] = tuple(flags)

    # Krippendorff's alpha, interval metric, by the pairwise definition: D_o from the pairs of
    # values within each unit (weighted 1/(m_u − 1)), D_e from the coincidence marginals n_c.
    units = [[sheet_total[i] for i in idx] for idx in by_entry.values() if len(idx) >= 2]
    n = sum(len(u) for u in units)
    alpha: float | None = None
    if units:
        d_o = (
            math.fsum(
                (a - b) ** 2 / (len(u) - 1)
                for u in units
                for i, a in enumerate(u)
                for k, b in enumerate(u)
                if i != k
            )
            / n
        )
        marginals = Counter(v for u in units for v in u)
        # Σ_c Σ_k n_c·n_k·(c − k)² = 2·(n·Σ n_c·c² − (Σ n_c·c)²), exact sums via fsum.
        s1 = math.fsum(cnt * v for v, cnt in marginals.items())
        s2 = math.fsum(cnt * v * v for v, cnt in marginals.items())
        d_e = 2.0 * (n * s2 - s1 * s1) / (n * (n - 1))
        if d_e > 2e-18:
            alpha = 1.0 - d_o / d_e
    return {
        "entries": entry,
        "jurors": juror,
        "order": order,
        "alpha": alpha,
        "n_units": len(units),
        "n_values": n,
    }


# ---------------------------------------------------------------------------------------------
# Helpers for small cases


def _table(
    sheets: Sequence[tuple[str, str, float | Mapping[str, float]]],
    *,
    criteria: Sequence[Criterion] = POINTS,
    entries: Sequence[tuple[str, str]] | None = None,
    categories: Sequence[str] = ("mobilitaet",),
) -> ScoreTable:
    """Sheets as (entry, juror, score or {criterion: score}); entries as (id, category)."""
    if entries is None:
        seen = dict.fromkeys(e for e, _, _ in sheets)
        entries = [(e, categories[0]) for e in seen]
    return table_from_records(
        criteria=criteria,
        categories=categories,
        entries=[EntryRecord(entry_id=e, title=f"Titel {e}", category=c) for e, c in entries],
        sheets=[
            SheetRecord(
                entry_id=e,
                juror_id=j,
                scores=dict(s) if isinstance(s, Mapping) else {criteria[0].key: s},
            )
            for e, j, s in sheets
        ],
    )


def _rows(result: AggregateResult, category: int = 0) -> list[RankedEntry]:
    return list(result.categories[category].ranking)


def _by_id(result: AggregateResult) -> dict[str, RankedEntry]:
    return {row.entry_id: row for c in result.categories for row in c.ranking}


# ---------------------------------------------------------------------------------------------
# Sheet totals


def test_weighted_total_hand_computed() -> None:
    criteria = [
        Criterion(key="a", weight=2.0, min=0.0, max=10.0),
        Criterion(key="b", weight=1.0, min=1.0, max=5.0),
    ]
    # a: 2·(7 − 0)/10 = 1.4; b: 1·(4 − 1)/4 = 0.75; 100·2.15/3 = 215/3
    assert weighted_total(scores={"a": 7, "b": 4}, criteria=criteria) == approx(215 / 3)


def test_weighted_total_scale_ends_give_0_and_100() -> None:
    criteria = [
        Criterion(key="a", weight=3.0, min=1.0, max=5.0),
        Criterion(key="b", weight=1.0, min=0.0, max=10.0),
    ]
    assert weighted_total(scores={"a": 1, "b": 0}, criteria=criteria) == 0.0
    assert weighted_total(scores={"a": 5, "b": 10}, criteria=criteria) == 100.0


def test_weighted_total_missing_criterion_raises() -> None:
    criteria = [*POINTS, Criterion(key="q", weight=1.0, min=0.0, max=5.0)]
    with pytest.raises(AggregationInputError, match="missing scores for criteria: q"):
        weighted_total(scores={"p": 50}, criteria=criteria)


def test_weighted_total_unknown_criterion_raises() -> None:
    with pytest.raises(AggregationInputError, match="unknown criteria: z"):
        weighted_total(scores={"p": 50, "z": 1}, criteria=POINTS)


def test_weighted_total_out_of_scale_raises() -> None:
    with pytest.raises(AggregationInputError, match="outside its scale"):
        weighted_total(scores={"p": 100.5}, criteria=POINTS)


def test_weighted_total_equals_aggregate_total_bit_for_bit() -> None:
    criteria = [
        Criterion(key="a", weight=0.7, min=0.0, max=7.0),
        Criterion(key="b", weight=1.3, min=1.0, max=10.0),
        Criterion(key="c", weight=2.9, min=-3.0, max=3.0),
    ]
    rng = random.Random(7)
    sheets = [
        (f"e{i}", "j", {"a": rng.uniform(0, 7), "b": rng.uniform(1, 10), "c": rng.uniform(-3, 3)})
        for i in range(50)
    ]
    result = aggregate(table=_table(sheets, criteria=criteria), method="raw")
    rows = _by_id(result)
    for entry_id, _, scores in sheets:
        assert isinstance(scores, dict)
        assert rows[entry_id].raw_mean == weighted_total(scores=scores, criteria=criteria)


# ---------------------------------------------------------------------------------------------
# Hand-computed aggregations


def test_aggregate_raw_hand_computed() -> None:
    table = _table(
        [
            ("E1", "J1", 80),
            ("E1", "J2", 60),
            ("E1", "J3", 70),
            ("E2", "J1", 90),
            ("E2", "J2", 40),
            ("E3", "J3", 55),
        ]
    )
    result = aggregate(table=table, method="raw")
    assert result.method == "raw"
    rows = _rows(result)
    assert [r.entry_id for r in rows] == ["E1", "E2", "E3"]
    assert [r.rank for r in rows] == [1, 2, 3]
    assert [r.n_reviews for r in rows] == [3, 2, 1]
    # E1: mean 210/3 = 70, median 70, stdev √((100 + 100 + 0)/2) = 10
    assert (rows[0].score, rows[0].raw_mean, rows[0].median, rows[0].stdev) == (
        approx(70),
        approx(70),
        approx(70),
        approx(10),
    )
    # E2: mean 65, median (40 + 90)/2 = 65, stdev √((25² + 25²)/1) = √1250
    assert (rows[1].score, rows[1].median, rows[1].stdev) == (
        approx(65),
        approx(65),
        approx(math.sqrt(1250)),
    )
    # E3: a single sheet, stdev reported as 0
    assert (rows[2].score, rows[2].median, rows[2].stdev) == (approx(55), approx(55), 0.0)
    # E2: stdev 35.4 > 20; 90 vs the other sheet 40 differs by 50 > 30; n = 2 < 3
    assert [r.flags for r in rows] == [
        (),
        ("few_reviews", "high_disagreement", "outlier_juror"),
        ("few_reviews",),
    ]
    assert [r.tie_broken_by for r in rows] == [None, None, None]
    # J1: E1 80 − (60+70)/2 = 15, E2 90 − 40 = 50 → mean 32.5 > 20
    # J2: E1 60 − 75 = −15, E2 40 − 90 = −50 → mean −32.5, absolute 32.5 > 20
    # J3: E1 70 − (80+60)/2 = 0; E3 has no other sheet
    jurors = [
        (
            j.juror_id,
            j.n_sheets,
            j.mean,
            j.stdev,
            j.normalisation,
            j.n_compared,
            j.mean_deviation,
            j.mean_abs_deviation,
            j.outlier,
        )
        for j in result.jurors
    ]
    assert jurors == [
        ("J1", 2, approx(85), approx(math.sqrt(50)), "none", 2, approx(32.5), approx(32.5), True),
        ("J2", 2, approx(50), approx(math.sqrt(200)), "none", 2, approx(-32.5), approx(32.5), True),
        ("J3", 2, approx(62.5), approx(math.sqrt(112.5)), "none", 1, approx(0), approx(0), False),
    ]
    # Alpha: pairable units E1 (m 3, SS 200) and E2 (m 2, SS 1250), n = 5 values
    # 80, 60, 70, 90, 40 with mean 68 → SS_total = 144 + 64 + 4 + 484 + 784 = 1480.
    # Σ m/(m−1)·SS = 1.5·200 + 2·1250 = 2800; α = 1 − (4/5)·2800/1480 = 1 − 56/37 = −19/37.
    assert result.reliability.alpha == approx(-19 / 37)
    assert (result.reliability.n_units, result.reliability.n_values) == (2, 5)


def test_aggregate_zscore_hand_computed() -> None:
    table = _table(
        [
            ("E1", "J1", 80),
            ("E2", "J1", 70),
            ("E3", "J1", 60),
            ("E1", "J2", 50),
            ("E2", "J2", 45),
            ("E3", "J2", 40),
            ("E1", "J3", 89),
        ]
    )
    result = aggregate(table=table)
    assert result.method == "zscore"
    # Pooled: 80 + 70 + 60 + 50 + 45 + 40 + 89 = 434, μ_all = 62; deviations 18, 8, −2, −12,
    # −17, −22, 27 → SS = 2038, σ_all = √(2038/6) = √(1019/3).
    sigma = math.sqrt(1019 / 3)
    # J1: μ 70, σ 10 → z = 1, 0, −1. J2: μ 45, σ 5 → z = 1, 0, −1.
    # J3 has one sheet → pooled: z = (89 − 62)/σ_all.
    # E1: mean z = (2 + 27/σ)/3 → score = 62 + σ·mean z = 71 + 2σ/3; E2: 62; E3: 62 − σ.
    rows = _rows(result)
    assert [(r.entry_id, r.rank) for r in rows] == [("E1", 1), ("E2", 2), ("E3", 3)]
    assert [r.score for r in rows] == [approx(71 + 2 * sigma / 3), approx(62), approx(62 - sigma)]
    # E1 (80, 50, 89): mean 73, median 80, SS 49 + 529 + 256 = 834 → stdev √417 = 20.4 > 20;
    # 50 vs (80+89)/2 = 84.5 differs by 34.5 > 30.
    assert (rows[0].raw_mean, rows[0].median, rows[0].stdev) == (
        approx(73),
        approx(80),
        approx(math.sqrt(417)),
    )
    assert rows[0].flags == ("high_disagreement", "outlier_juror")
    # E2 (70, 45): stdev 25/√2; E3 (60, 40): stdev 20/√2; both below 3 reviews.
    assert (rows[1].raw_mean, rows[1].stdev, rows[1].flags) == (
        approx(57.5),
        approx(25 / math.sqrt(2)),
        ("few_reviews",),
    )
    assert (rows[2].raw_mean, rows[2].stdev, rows[2].flags) == (
        approx(50),
        approx(20 / math.sqrt(2)),
        ("few_reviews",),
    )
    # Deviations from the other sheets: J1 10.5, 25, 20 → 18.5; J2 −34.5, −25, −20 → −26.5;
    # J3 89 − 65 = 24.
    jurors = [
        (j.juror_id, j.normalisation, j.mean_deviation, j.mean_abs_deviation, j.outlier)
        for j in result.jurors
    ]
    assert jurors == [
        ("J1", "juror", approx(18.5), approx(18.5), False),
        ("J2", "juror", approx(-26.5), approx(26.5), True),
        ("J3", "pooled", approx(24), approx(24), True),
    ]
    # Alpha: SS per unit 834 (m 3), 312.5 (m 2), 200 (m 2); Σ m/(m−1)·SS = 1251 + 625 + 400 =
    # 2276; α = 1 − (6/7)·2276/2038 = 1 − 6828/7133 = 305/7133.
    assert result.reliability.alpha == approx(305 / 7133)


def test_aggregate_zscore_zero_variance_juror_uses_pooled_scale() -> None:
    table = _table(
        [
            ("E1", "J1", 60),
            ("E2", "J1", 60),
            ("E3", "J1", 60),
            ("E1", "J2", 20),
            ("E2", "J2", 50),
            ("E3", "J2", 80),
        ]
    )
    result = aggregate(table=table)
    # μ_all = 330/6 = 55; SS = 3·25 + 1225 + 25 + 625 = 1950; σ_all = √390.
    # J1 has no spread → pooled: z = 5/σ_all for each sheet. J2: μ 50, σ 30 → z −1, 0, 1.
    # E1: 55 + σ·(5/σ − 1)/2 = 55 + (5 − σ)/2; E2: 57.5; E3: 55 + (5 + σ)/2.
    sigma = math.sqrt(390)
    rows = _by_id(result)
    assert [rows[e].score for e in ("E1", "E2", "E3")] == [
        approx(55 + (5 - sigma) / 2),
        approx(57.5),
        approx(55 + (5 + sigma) / 2),
    ]
    assert [rows[e].rank for e in ("E1", "E2", "E3")] == [3, 2, 1]
    assert [(j.juror_id, j.normalisation) for j in result.jurors] == [
        ("J1", "pooled"),
        ("J2", "juror"),
    ]


def test_aggregate_zscore_small_panel_maps_totals_back_to_raw_mean() -> None:
    # Every juror has fewer than 3 sheets → pooled z for all, and μ + σ·(t − μ)/σ = t.
    sheets = [("E1", "J1", 81.0), ("E1", "J2", 42.0), ("E2", "J1", 66.0), ("E2", "J3", 13.0)]
    result = aggregate(table=_table(sheets))
    rows = _by_id(result)
    assert (rows["E1"].score, rows["E2"].score) == (approx(61.5), approx(39.5))
    assert (rows["E1"].raw_mean, rows["E2"].raw_mean) == (approx(61.5), approx(39.5))
    assert [j.normalisation for j in result.jurors] == ["pooled", "pooled", "pooled"]


def test_aggregate_all_totals_equal_ties_everyone_and_alpha_undefined() -> None:
    table = _table([(e, j, 50) for e in ("E1", "E2", "E3") for j in ("J1", "J2", "J3")])
    result = aggregate(table=table)
    rows = _rows(result)
    # σ_all = 0 → z = 0 everywhere → score = μ_all = 50 for all; no rule separates them.
    assert [(r.entry_id, r.rank, r.score, r.tie_broken_by, r.flags) for r in rows] == [
        ("E1", 1, approx(50), None, ("tie_unbroken",)),
        ("E2", 1, approx(50), None, ("tie_unbroken",)),
        ("E3", 1, approx(50), None, ("tie_unbroken",)),
    ]
    assert result.reliability.alpha is None
    assert (result.reliability.n_units, result.reliability.n_values) == (3, 9)


def test_aggregate_min_juror_sheets_parameter_switches_normalisation() -> None:
    sheets = [("E1", "J1", 80), ("E2", "J1", 40), ("E1", "J2", 70), ("E2", "J2", 50)]
    default = aggregate(table=_table(sheets))
    two = aggregate(table=_table(sheets), parameters=AggregateParameters(min_juror_sheets=2))
    assert [j.normalisation for j in default.jurors] == ["pooled", "pooled"]
    assert [j.normalisation for j in two.jurors] == ["juror", "juror"]
    # Own scales: J1 (80, 40): μ 60, σ 20√2, z = ±1/√2; J2 (70, 50): μ 60, σ 10√2, z = ±1/√2
    # → E1 mean z = 1/√2, E2 mean z = −1/√2.
    # Pooled: μ 60, SS 400 + 400 + 100 + 100 = 1000, σ = √(1000/3).
    sigma = math.sqrt(1000 / 3)
    rows = _by_id(two)
    assert rows["E1"].score == approx(60 + sigma / math.sqrt(2))
    assert rows["E2"].score == approx(60 - sigma / math.sqrt(2))


# ---------------------------------------------------------------------------------------------
# Ranking and tie-breaking


def test_tie_break_median_higher_wins() -> None:
    # E1 (60, 62, 88) and E2 (52, 79, 79): both mean 70; medians 62 and 79.
    table = _table(
        [
            ("E1", "J1", 60),
            ("E1", "J2", 62),
            ("E1", "J3", 88),
            ("E2", "J1", 52),
            ("E2", "J2", 79),
            ("E2", "J3", 79),
        ]
    )
    result = aggregate(
        table=table, method="raw", parameters=AggregateParameters(tie_break=("median",))
    )
    assert [(r.entry_id, r.rank, r.tie_broken_by, r.flags) for r in _rows(result)] == [
        ("E2", 1, "median", ()),
        ("E1", 2, "median", ()),
    ]


def test_tie_break_raw_mean_separates_equal_zscores() -> None:
    # J1 (E1 80, E3 60, E4 70) and J2 (E2 50, E5 30, E6 40) both have σ 10 → z = 1, −1, 0.
    # Pairs with equal z: (E1, E2), (E4, E6), (E3, E5); the raw means decide.
    table = _table(
        [
            ("E1", "J1", 80),
            ("E3", "J1", 60),
            ("E4", "J1", 70),
            ("E2", "J2", 50),
            ("E5", "J2", 30),
            ("E6", "J2", 40),
        ]
    )
    result = aggregate(table=table, parameters=AggregateParameters(tie_break=("raw_mean",)))
    # μ_all = 330/6 = 55; SS = 625 + 25 + 225 + 25 + 625 + 225 = 1750; σ_all = √350.
    sigma = math.sqrt(350)
    rows = _rows(result)
    assert [(r.entry_id, r.rank, r.tie_broken_by) for r in rows] == [
        ("E1", 1, "raw_mean"),
        ("E2", 2, "raw_mean"),
        ("E4", 3, "raw_mean"),
        ("E6", 4, "raw_mean"),
        ("E3", 5, "raw_mean"),
        ("E5", 6, "raw_mean"),
    ]
    assert [r.score for r in rows] == [
        approx(55 + sigma),
        approx(55 + sigma),
        approx(55),
        approx(55),
        approx(55 - sigma),
        approx(55 - sigma),
    ]


WEIGHTED = (
    Criterion(key="a", weight=3.0, min=0.0, max=10.0),
    Criterion(key="b", weight=1.0, min=0.0, max=10.0),
)


def test_tie_break_criterion_key_higher_mean_wins() -> None:
    # E1: 100·(3·1 + 0)/4 = 75; E2: 100·(3·0.7 + 0.9)/4 = 75; b decides: 9 > 0.
    table = _table(
        [("E1", "J1", {"a": 10, "b": 0}), ("E2", "J2", {"a": 7, "b": 9})], criteria=WEIGHTED
    )
    result = aggregate(
        table=table, method="raw", parameters=AggregateParameters(tie_break=("criterion:b",))
    )
    assert [(r.entry_id, r.rank, r.score, r.tie_broken_by) for r in _rows(result)] == [
        ("E2", 1, approx(75), "criterion:b"),
        ("E1", 2, approx(75), "criterion:b"),
    ]


def test_tie_break_highest_weight_criterion_uses_heaviest() -> None:
    # Same totals as above; the heaviest criterion is a: 10 > 7.
    table = _table(
        [("E1", "J1", {"a": 10, "b": 0}), ("E2", "J2", {"a": 7, "b": 9})], criteria=WEIGHTED
    )
    result = aggregate(
        table=table,
        method="raw",
        parameters=AggregateParameters(tie_break=("highest_weight_criterion",)),
    )
    assert [(r.entry_id, r.rank, r.tie_broken_by) for r in _rows(result)] == [
        ("E1", 1, "highest_weight_criterion"),
        ("E2", 2, "highest_weight_criterion"),
    ]


@pytest.mark.parametrize(("first", "winner"), [("a", "E1"), ("b", "E2")])
def test_tie_break_highest_weight_criterion_equal_weights_first_declared(
    first: str, winner: str
) -> None:
    # Equal weights: E1 (a 10, b 0) and E2 (a 0, b 10) both total 50; the first declared decides.
    keys = ["a", "b"] if first == "a" else ["b", "a"]
    criteria = [Criterion(key=k, weight=1.0, min=0.0, max=10.0) for k in keys]
    table = _table(
        [("E1", "J1", {"a": 10, "b": 0}), ("E2", "J2", {"a": 0, "b": 10})], criteria=criteria
    )
    result = aggregate(
        table=table,
        method="raw",
        parameters=AggregateParameters(tie_break=("highest_weight_criterion",)),
    )
    assert [r.entry_id for r in _rows(result)] == [winner, "E2" if winner == "E1" else "E1"]
    assert [r.rank for r in _rows(result)] == [1, 2]


def test_tie_break_top_marks_counts_scale_maxima() -> None:
    # E1 sheets (10, 0), (10, 0): 2 top marks; E2 sheets (5, 5), (10, 0): 1; all totals 50.
    criteria = [Criterion(key=k, weight=1.0, min=0.0, max=10.0) for k in ("a", "b")]
    table = _table(
        [
            ("E1", "J1", {"a": 10, "b": 0}),
            ("E1", "J2", {"a": 10, "b": 0}),
            ("E2", "J1", {"a": 5, "b": 5}),
            ("E2", "J2", {"a": 10, "b": 0}),
        ],
        criteria=criteria,
    )
    result = aggregate(
        table=table, method="raw", parameters=AggregateParameters(tie_break=("top_marks",))
    )
    assert [(r.entry_id, r.rank, r.tie_broken_by) for r in _rows(result)] == [
        ("E1", 1, "top_marks"),
        ("E2", 2, "top_marks"),
    ]


def test_tie_break_n_reviews_more_wins() -> None:
    table = _table([("E2", "J3", 50), ("E1", "J1", 50), ("E1", "J2", 50)])
    result = aggregate(
        table=table, method="raw", parameters=AggregateParameters(tie_break=("n_reviews",))
    )
    assert [(r.entry_id, r.rank, r.tie_broken_by) for r in _rows(result)] == [
        ("E1", 1, "n_reviews"),
        ("E2", 2, "n_reviews"),
    ]


def test_tie_break_chain_records_the_deciding_rule_per_entry() -> None:
    # A (40, 100, 70), B (60, 60, 90), C (100, 50, 60): all mean 70; D (30, 30, 30) below.
    # median: A 70 > B 60 = C 60 → A decided by median; top marks: C 1 > B 0.
    table = _table(
        [
            ("A", "J1", 40),
            ("A", "J2", 100),
            ("A", "J3", 70),
            ("B", "J1", 60),
            ("B", "J2", 60),
            ("B", "J3", 90),
            ("C", "J1", 100),
            ("C", "J2", 50),
            ("C", "J3", 60),
            ("D", "J1", 30),
            ("D", "J2", 30),
            ("D", "J3", 30),
        ]
    )
    result = aggregate(
        table=table,
        method="raw",
        parameters=AggregateParameters(tie_break=("median", "top_marks")),
    )
    assert [(r.entry_id, r.rank, r.tie_broken_by) for r in _rows(result)] == [
        ("A", 1, "median"),
        ("C", 2, "top_marks"),
        ("B", 3, "top_marks"),
        ("D", 4, None),
    ]


def test_tie_unbroken_shares_rank_and_is_flagged() -> None:
    # z2 and y3 have identical sheets; the chain cannot separate them → ranks 1, 2, 2, 4, ordered
    # by entry id.
    table = _table(
        [
            ("x1", "J1", 90),
            ("z2", "J1", 70),
            ("y3", "J2", 70),
            ("w4", "J2", 50),
        ]
    )
    result = aggregate(table=table, method="raw")
    assert [(r.entry_id, r.rank, r.tie_broken_by, r.flags) for r in _rows(result)] == [
        ("x1", 1, None, ("few_reviews",)),
        ("y3", 2, None, ("few_reviews", "tie_unbroken")),
        ("z2", 2, None, ("few_reviews", "tie_unbroken")),
        ("w4", 4, None, ("few_reviews",)),
    ]


def test_tie_break_empty_chain_leaves_ties_unbroken() -> None:
    table = _table([("E1", "J1", 60), ("E1", "J2", 60), ("E2", "J1", 30), ("E2", "J2", 90)])
    result = aggregate(table=table, method="raw", parameters=AggregateParameters(tie_break=()))
    assert [(r.entry_id, r.rank, r.flags) for r in _rows(result)] == [
        ("E1", 1, ("few_reviews", "tie_unbroken")),
        ("E2", 1, ("few_reviews", "high_disagreement", "outlier_juror", "tie_unbroken")),
    ]


def test_ranking_is_per_category_with_unscored_entries_last() -> None:
    table = _table(
        [("M1", "J1", 40), ("M2", "J1", 60), ("D1", "J2", 90), ("D2", "J2", 10)],
        entries=[
            ("M1", "mobilitaet"),
            ("M0", "mobilitaet"),
            ("M2", "mobilitaet"),
            ("D1", "digitalisierung"),
            ("D2", "digitalisierung"),
            ("E1", "energie"),
        ],
        categories=("mobilitaet", "digitalisierung", "energie"),
    )
    result = aggregate(table=table, method="raw")
    summary = [
        (c.category, [(r.entry_id, r.rank, r.score, r.n_reviews) for r in c.ranking])
        for c in result.categories
    ]
    assert summary == [
        ("mobilitaet", [("M2", 1, approx(60), 1), ("M1", 2, approx(40), 1), ("M0", None, None, 0)]),
        ("digitalisierung", [("D1", 1, approx(90), 1), ("D2", 2, approx(10), 1)]),
        ("energie", [("E1", None, None, 0)]),
    ]
    unscored = _by_id(result)["M0"]
    assert (unscored.raw_mean, unscored.median, unscored.stdev, unscored.flags) == (
        None,
        None,
        None,
        ("no_reviews", "few_reviews"),
    )
    assert result.categories[0].ranking[0].title == "Titel M2"


# ---------------------------------------------------------------------------------------------
# Flags and thresholds


def test_flags_follow_threshold_parameters() -> None:
    # E1 (50, 50, 85): mean 185/3, SS = 2·(35/3)² + (70/3)² = 7350/9, stdev √(1225/3) = 20.21;
    # 85 differs from the mean of the other two (50) by 35.
    sheets = [("E1", "J1", 50), ("E1", "J2", 50), ("E1", "J3", 85)]
    loose = AggregateParameters(
        reviews_per_entry=4, high_disagreement_points=20.5, outlier_sheet_points=35.5
    )
    strict = AggregateParameters(
        reviews_per_entry=3, high_disagreement_points=20.0, outlier_sheet_points=34.5
    )
    assert _rows(aggregate(table=_table(sheets), parameters=loose))[0].flags == ("few_reviews",)
    assert _rows(aggregate(table=_table(sheets), parameters=strict))[0].flags == (
        "high_disagreement",
        "outlier_juror",
    )
    assert _rows(aggregate(table=_table(sheets)))[0].stdev == approx(math.sqrt(1225 / 3))


def test_flags_exactly_at_threshold_not_raised() -> None:
    # E1 (50, 50, 80): 80 − 50 = 30, exactly the default sheet threshold (the total of 80 carries
    # rounding noise, 100·0.8 = 80.00000000000001); stdev √300 = 17.3.
    # E2 (40, 60, 80): stdev √((400 + 0 + 400)/2) = 20, exactly the disagreement threshold, and
    # 80 − (40 + 60)/2 = 30 (40 − 70 = −30 too), exactly the sheet threshold.
    sheets = [
        ("E1", "J1", 50),
        ("E1", "J2", 50),
        ("E1", "J3", 80),
        ("E2", "J1", 40),
        ("E2", "J2", 60),
        ("E2", "J3", 80),
    ]
    exact = aggregate(table=_table(sheets), method="raw")
    assert [(r.entry_id, r.flags) for r in _rows(exact)] == [("E2", ()), ("E1", ())]
    below = aggregate(
        table=_table(sheets),
        method="raw",
        parameters=AggregateParameters(high_disagreement_points=19.99, outlier_sheet_points=29.99),
    )
    assert [(r.entry_id, r.flags) for r in _rows(below)] == [
        ("E2", ("high_disagreement", "outlier_juror")),
        ("E1", ("outlier_juror",)),
    ]


def test_juror_outlier_threshold_parameter() -> None:
    # J3 deviates by 85 − 50 = 35 on E1; J1, J2 by 50 − 67.5 = −17.5.
    sheets = [("E1", "J1", 50), ("E1", "J2", 50), ("E1", "J3", 85)]
    low = aggregate(table=_table(sheets), parameters=AggregateParameters(outlier_juror_points=17))
    high = aggregate(table=_table(sheets), parameters=AggregateParameters(outlier_juror_points=36))
    assert [(j.juror_id, j.mean_deviation, j.outlier) for j in low.jurors] == [
        ("J1", approx(-17.5), True),
        ("J2", approx(-17.5), True),
        ("J3", approx(35), True),
    ]
    assert [j.outlier for j in high.jurors] == [False, False, False]
    assert high.parameters.outlier_juror_points == 36


def test_parameters_are_stored_with_the_run() -> None:
    params = AggregateParameters(
        tie_break=("n_reviews", "criterion:p"),
        reviews_per_entry=5,
        min_juror_sheets=4,
        high_disagreement_points=12.5,
        outlier_sheet_points=25.0,
        outlier_juror_points=10.0,
    )
    result = aggregate(table=_table([("E1", "J1", 10)]), method="raw", parameters=params)
    assert result_outputs(result)["parameters"] == {
        "tie_break": ("n_reviews", "criterion:p"),
        "reviews_per_entry": 5,
        "min_juror_sheets": 4,
        "high_disagreement_points": 12.5,
        "outlier_sheet_points": 25.0,
        "outlier_juror_points": 10.0,
    }
    assert result_outputs(result)["method"] == "raw"


# ---------------------------------------------------------------------------------------------
# Krippendorff's alpha


def test_alpha_krippendorff_textbook_interval_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 observers × 12 units,
    # values 1–5 with missing data; published interval alpha 0.849. Scale 1–5 maps to totals
    # 0, 25, …, 100, and alpha is invariant under that affine map.
    rows = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    criteria = [Criterion(key="v", weight=1.0, min=1.0, max=5.0)]
    sheets = [
        (f"u{u + 1:02d}", coder, {"v": float(value)})
        for coder, values in rows.items()
        for u, value in enumerate(values)
        if value is not None
    ]
    result = aggregate(table=_table(sheets, criteria=criteria))
    # Unit 12 has one value → 11 pairable units with n = 40 values. Within-unit SS (1–5 scale):
    # u2 (2,2,3,2) 3/4, u6 (1,2,3,4) 5, u8 (1,1,2,1) 3/4, others 0 → Σ m/(m−1)·SS = 4/3·6.5 = 26/3.
    # SS_total = 56. α = 1 − (39/40)·(26/3)/56 = 1 − 169/1120 = 951/1120 = 0.84911.
    assert result.reliability.alpha == approx(951 / 1120)
    assert round(result.reliability.alpha or 0.0, 3) == 0.849
    assert (result.reliability.n_units, result.reliability.n_values) == (11, 40)


def test_alpha_none_without_pairable_units() -> None:
    result = aggregate(table=_table([("E1", "J1", 10), ("E2", "J2", 90)]))
    assert (result.reliability.alpha, result.reliability.n_units) == (None, 0)
    assert result.reliability.n_values == 0


def test_aggregate_empty_table() -> None:
    table = _table([], entries=[("E1", "mobilitaet")])
    result = aggregate(table=table)
    assert result.reliability == Reliability(alpha=None, n_units=0, n_values=0)
    assert [(r.entry_id, r.rank, r.flags) for r in _rows(result)] == [
        ("E1", None, ("no_reviews", "few_reviews"))
    ]
    assert result.jurors == ()


# ---------------------------------------------------------------------------------------------
# Snapshot hash of a result (the encoding itself: tests/results/test_snapshot.py)


HASH_SHEETS = [
    ("E1", "J1", 80),
    ("E1", "J2", 60),
    ("E2", "J1", 70),
    ("E2", "J3", 75),
    ("E3", "J2", 55),
    ("E3", "J3", 65),
]


def test_aggregate_hash_covers_inputs_and_outputs() -> None:
    table = _table(HASH_SHEETS)
    result = aggregate(table=table)
    manual = hashlib.sha256(
        canonical_json({"inputs": table.canonical_inputs(), "outputs": result_outputs(result)})
    ).hexdigest()
    assert result.snapshot_hash == manual
    assert len(result.snapshot_hash) == 64
    assert aggregate(table=table).snapshot_hash == result.snapshot_hash


def test_aggregate_hash_changes_when_one_score_changes() -> None:
    changed = [*HASH_SHEETS[:-1], ("E3", "J3", 66)]
    first = aggregate(table=_table(HASH_SHEETS))
    second = aggregate(table=_table(changed))
    assert first.snapshot_hash != second.snapshot_hash


def test_aggregate_hash_changes_with_method_and_parameters() -> None:
    table = _table(HASH_SHEETS)
    hashes = {
        aggregate(table=table).snapshot_hash,
        aggregate(table=table, method="raw").snapshot_hash,
        aggregate(
            table=table, parameters=AggregateParameters(outlier_juror_points=19)
        ).snapshot_hash,
    }
    assert len(hashes) == 3


def test_aggregate_hash_independent_of_load_order() -> None:
    reordered = [HASH_SHEETS[i] for i in (5, 2, 0, 4, 1, 3)]
    entries = [("E3", "mobilitaet"), ("E1", "mobilitaet"), ("E2", "mobilitaet")]
    first = aggregate(table=_table(HASH_SHEETS))
    second = aggregate(table=_table(reordered, entries=entries))
    assert second.snapshot_hash == first.snapshot_hash
    assert (
        [r.entry_id for r in _rows(second)]
        == [r.entry_id for r in _rows(first)]
        == [
            "E2",
            "E1",
            "E3",
        ]
    )


# Hashes of the HASH_SHEETS table as the code before hash schemes computed them (scheme 1). With
# weight 3e-05, which scheme 1 writes as 3e-05 and RFC 8785 as 0.00003, the schemes differ.
SCHEME_1_HASHES = {
    (1.0, "zscore"): "9e846e6b686877a23b76de66d7b0638394c9cb5546f5e0fd6611718102f5e7d2",
    (1.0, "raw"): "9034ef22d26b5f3bf8951a3fa067d05fc49a16e43446c9726341122f3bd47af9",
    (3e-5, "zscore"): "1091f7b817b80f308bac5cbad235d50340530e08174d4d92f0007268443eff49",
    (3e-5, "raw"): "1ea8481f169027a9222b416310c7d5adf7825059de333abdaae11f7387638757",
}


@pytest.mark.parametrize(("weight", "method"), list(SCHEME_1_HASHES))
def test_aggregate_hash_scheme_1_reproduces_the_old_hashes(weight: float, method: Method) -> None:
    criteria = (Criterion(key="p", weight=weight, min=0.0, max=100.0),)
    result = aggregate(table=_table(HASH_SHEETS, criteria=criteria), method=method, hash_scheme=1)
    assert (result.snapshot_hash, result.hash_scheme) == (SCHEME_1_HASHES[weight, method], 1)


def test_aggregate_hash_scheme_2_is_the_default() -> None:
    tiny = (Criterion(key="p", weight=3e-5, min=0.0, max=100.0),)
    result = aggregate(table=_table(HASH_SHEETS, criteria=tiny))
    assert (result.snapshot_hash, result.hash_scheme) == (
        "8bde4b7da9c0a7fa38b7ad9e6312344df1702b98d273e938213457082d316b14",
        2,
    )
    # Where both schemes write every number alike, they give the same hash.
    assert aggregate(table=_table(HASH_SHEETS)).snapshot_hash == SCHEME_1_HASHES[1.0, "zscore"]


def test_run_snapshot_hash_uses_the_scheme_the_result_names() -> None:
    tiny = (Criterion(key="p", weight=3e-5, min=0.0, max=100.0),)
    table = _table(HASH_SHEETS, criteria=tiny)
    old = aggregate(table=table, hash_scheme=1)
    stored = msgspec.json.decode(msgspec.json.encode(old), type=AggregateResult)
    assert run_snapshot_hash(table=table, result=stored) == SCHEME_1_HASHES[3e-5, "zscore"]
    assert (
        run_snapshot_hash(table=table, result=msgspec.structs.replace(stored, hash_scheme=2))
        == aggregate(table=table).snapshot_hash
    )
    assert aggregate(table=table).snapshot_hash != SCHEME_1_HASHES[3e-5, "zscore"]
    # One score changed since: the old run no longer matches (hash as the old code computes it).
    changed = _table([*HASH_SHEETS[:-1], ("E3", "J3", 66)], criteria=tiny)
    assert run_snapshot_hash(table=changed, result=stored) == (
        "e736881df4ba53d36bf985e4c821603c90ac7f0b972285bcac2f3556f8f06590"
    )


def test_run_snapshot_hash_verifies_a_stored_run() -> None:
    table = _table(HASH_SHEETS)
    result = aggregate(table=table)
    stored = msgspec.json.decode(msgspec.json.encode(result), type=AggregateResult)
    assert run_snapshot_hash(table=table, result=stored) == result.snapshot_hash
    tampered = msgspec.structs.replace(stored, method="raw")
    assert run_snapshot_hash(table=table, result=tampered) != result.snapshot_hash


# ---------------------------------------------------------------------------------------------
# Validation


def test_table_rejects_two_sheets_of_one_juror_for_one_entry() -> None:
    with pytest.raises(AggregationInputError, match="more than one sheet"):
        _table([("E1", "J1", 10), ("E1", "J1", 20)])


def test_table_rejects_score_outside_scale() -> None:
    with pytest.raises(AggregationInputError, match="outside its criterion's scale"):
        ScoreTable(
            criteria=POINTS,
            categories=("c",),
            entry_ids=("E1",),
            entry_titles=("t",),
            entry_category=np.array([0]),
            juror_ids=("J1",),
            sheet_entry=np.array([0]),
            sheet_juror=np.array([0]),
            scores=np.array([[101.0]]),
        )


def test_table_rejects_sheet_index_out_of_range() -> None:
    with pytest.raises(AggregationInputError, match="sheet juror index out of range"):
        ScoreTable(
            criteria=POINTS,
            categories=("c",),
            entry_ids=("E1",),
            entry_titles=("t",),
            entry_category=np.array([0]),
            juror_ids=("J1",),
            sheet_entry=np.array([0]),
            sheet_juror=np.array([1]),
            scores=np.array([[10.0]]),
        )


def test_records_reject_missing_criterion() -> None:
    criteria = [*POINTS, Criterion(key="q", weight=1.0, min=0.0, max=5.0)]
    with pytest.raises(AggregationInputError, match="must score exactly every criterion"):
        _table([("E1", "J1", {"p": 10})], criteria=criteria)


@pytest.mark.parametrize("rule", ["mean", "criterion:zz", "criterion:"])
def test_aggregate_rejects_unknown_tie_rule(rule: str) -> None:
    with pytest.raises(AggregationInputError, match="unknown tie-break rule"):
        aggregate(
            table=_table([("E1", "J1", 10)]), parameters=AggregateParameters(tie_break=(rule,))
        )


def test_aggregate_rejects_unknown_method() -> None:
    with pytest.raises(AggregationInputError, match="unknown method 'median'"):
        aggregate(table=_table([("E1", "J1", 10)]), method="median")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Random data against the reference


def random_instance(
    seed: int,
) -> tuple[list[Criterion], list[str], list[EntryRecord], list[SheetRecord]]:
    """A small competition with ties, small panels, a constant juror and unscored entries."""
    rng = random.Random(seed)
    criteria = [
        Criterion(
            key=f"k{i}",
            weight=float(rng.choice([1, 2, 3])),
            min=float(rng.choice([0, 1])),
            max=float(rng.choice([4, 5, 10])),
        )
        for i in range(rng.randint(1, 4))
    ]
    categories = ["mobilitaet", "digitalisierung", "energie"]
    n_entries = rng.randint(15, 45)
    jurors = [f"j{i:02d}" for i in range(rng.randint(4, 12))]
    entries = [
        EntryRecord(entry_id=f"e{i:03d}", title=f"Idee {i}", category=rng.choice(categories))
        for i in rng.sample(range(1000), n_entries)
    ]
    constant = {c.key: c.max for c in criteria}
    sheets: list[SheetRecord] = []
    for e in entries:
        for j in rng.sample(jurors, rng.randint(0, min(5, len(jurors)))):
            if j == jurors[0]:
                scores = dict(constant)  # a juror without any spread
            else:
                scores = {c.key: float(rng.randint(int(c.min), int(c.max))) for c in criteria}
            sheets.append(SheetRecord(entry_id=e.entry_id, juror_id=j, scores=scores))
    # Twins: copies of two entries with identical sheets, a tie that no rule can break.
    for original in rng.sample(entries, 2):
        twin = EntryRecord(
            entry_id=original.entry_id + "-twin", title="Zwilling", category=original.category
        )
        entries.append(twin)
        sheets.extend(
            SheetRecord(entry_id=twin.entry_id, juror_id=s.juror_id, scores=s.scores)
            for s in list(sheets)
            if s.entry_id == original.entry_id
        )
    rng.shuffle(sheets)
    return criteria, categories, entries, sheets


def compare_with_reference(
    result: AggregateResult, expected: dict[str, Any], *, tol: float = TOL
) -> dict[str, float]:
    """Assert every figure equal to the reference; return the largest absolute difference."""
    worst = {"figures": 0.0}

    def same(actual: float | None, wanted: float | None) -> None:
        if wanted is None:
            assert actual is None
            return
        assert actual is not None
        diff = abs(actual - wanted)
        worst["figures"] = max(worst["figures"], diff)
        assert diff <= tol

    for category in result.categories:
        assert [r.entry_id for r in category.ranking] == expected["order"][category.category]
        for row in category.ranking:
            ref = expected["entries"][row.entry_id]
            assert (row.rank, row.n_reviews, row.tie_broken_by, row.flags) == (
                ref["rank"],
                ref["n"],
                ref["tie_broken_by"],
                ref["flags"],
            )
            for name in ("score", "raw_mean", "median", "stdev"):
                same(getattr(row, name), ref[name])
    assert [j.juror_id for j in result.jurors] == sorted(expected["jurors"])
    for j in result.jurors:
        ref = expected["jurors"][j.juror_id]
        assert (j.n_sheets, j.normalisation, j.n_compared, j.outlier) == (
            ref["n_sheets"],
            ref["normalisation"],
            ref["n_compared"],
            ref["outlier"],
        )
        for name in ("mean", "stdev", "mean_deviation", "mean_abs_deviation"):
            same(getattr(j, name), ref[name])
    same(result.reliability.alpha, expected["alpha"])
    assert (result.reliability.n_units, result.reliability.n_values) == (
        expected["n_units"],
        expected["n_values"],
    )
    return worst


CHAIN = ("median", "highest_weight_criterion", "top_marks", "criterion:k0", "n_reviews")


@pytest.mark.parametrize("method", ["zscore", "raw"])
def test_aggregate_random_data_equals_reference(method: Method) -> None:
    decided_by: Counter[str | None] = Counter()
    unbroken = 0
    pooled = 0
    for seed in range(40):
        criteria, categories, entries, sheets = random_instance(seed)
        params = AggregateParameters(
            tie_break=(CHAIN[seed % 5 :] + CHAIN[: seed % 5])[: 1 + (seed // 5) % 5],
            reviews_per_entry=3,
            min_juror_sheets=2 + seed % 3,
            high_disagreement_points=15.0,
            outlier_sheet_points=25.0,
            outlier_juror_points=12.0,
        )
        table = table_from_records(
            criteria=criteria, categories=categories, entries=entries, sheets=sheets
        )
        result = aggregate(table=table, method=method, parameters=params)
        expected = reference_aggregate(
            criteria=criteria,
            categories=categories,
            entries=entries,
            sheets=sheets,
            method=method,
            params=params,
        )
        compare_with_reference(result, expected)
        rows = [r for c in result.categories for r in c.ranking]
        decided_by.update(r.tie_broken_by for r in rows)
        unbroken += sum("tie_unbroken" in r.flags for r in rows)
        pooled += sum(j.normalisation == "pooled" for j in result.jurors)
    # The instances exercise unbroken ties (twins), the fallback to pooled statistics (z-scores
    # only) and, where integer scores tie raw means, every rule of the chain.
    assert (dict(decided_by), unbroken, pooled) == EXERCISED[method]


# What the 40 seeded instances of `test_aggregate_random_data_equals_reference` exercise:
# entries by the rule that decided their tie (None: no tie), unbroken ties, pooled jurors.
EXERCISED: dict[str, tuple[dict[str | None, int], int, int]] = {
    "zscore": ({None: 1253}, 130, 51),
    "raw": (
        {
            None: 1190,
            "median": 14,
            "highest_weight_criterion": 9,
            "top_marks": 14,
            "criterion:k0": 11,
            "n_reviews": 15,
        },
        181,
        0,
    ),
}


def test_aggregate_random_continuous_scores_equal_reference() -> None:
    rng = np.random.default_rng(2026)
    criteria = [
        Criterion(key="a", weight=2.5, min=0.0, max=1.0),
        Criterion(key="b", weight=0.5, min=-5.0, max=5.0),
    ]
    entries = [
        EntryRecord(entry_id=f"e{i}", title=f"t{i}", category="c" if i % 2 else "d")
        for i in range(80)
    ]
    sheets = [
        SheetRecord(
            entry_id=e.entry_id,
            juror_id=f"j{int(j)}",
            scores={"a": float(rng.uniform(0, 1)), "b": float(rng.uniform(-5, 5))},
        )
        for e in entries
        for j in rng.choice(15, size=int(rng.integers(1, 6)), replace=False)
    ]
    table = table_from_records(
        criteria=criteria, categories=["c", "d"], entries=entries, sheets=sheets
    )
    for method in ("zscore", "raw"):
        params = AggregateParameters()
        result = aggregate(table=table, method=method, parameters=params)
        expected = reference_aggregate(
            criteria=criteria,
            categories=["c", "d"],
            entries=entries,
            sheets=sheets,
            method=method,
            params=params,
        )
        compare_with_reference(result, expected)
