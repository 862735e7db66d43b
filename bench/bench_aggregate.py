"""Benchmark of the score aggregation: 1,000,000 criterion scores against the reference.

Builds a fixed-seed competition (20,000 entries in 4 categories, 500 jurors with individual
leniency, 10 sheets per entry, 5 weighted criteria on 0–10), times `aggregate` for both methods,
and in the same run computes the straightforward reference from the tests as the baseline,
reporting the largest absolute difference over every figure. Run with
``uv run python -m bench.bench_aggregate``; the last line is JSON.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from typing import Any

import numpy as np

from competition.results.aggregate import (
    AggregateParameters,
    AggregateResult,
    Criterion,
    EntryRecord,
    Method,
    ScoreTable,
    SheetRecord,
    aggregate,
    run_snapshot_hash,
)
from tests.results.test_aggregate import compare_with_reference, reference_aggregate

SEED = 20260
N_ENTRIES = 20_000
N_JURORS = 500
SHEETS_PER_ENTRY = 10
CATEGORIES = ("mobilitaet", "digitalisierung", "energie", "kreislaufwirtschaft")
CRITERIA = tuple(
    Criterion(key=key, weight=weight, min=0.0, max=10.0)
    for key, weight in (
        ("innovation", 3.0),
        ("wirkung", 2.0),
        ("umsetzbarkeit", 2.0),
        ("region", 1.0),
        ("nachhaltigkeit", 1.0),
    )
)
REPEATS = 3
RUN_METHODS: tuple[Method, ...] = ("zscore", "raw")
BUDGET_SECONDS = 5.0


def build_table(seed: int = SEED) -> ScoreTable:
    rng = np.random.default_rng(seed)
    # Distinct jurors per entry without a 20,000 × 500 matrix: an arithmetic progression with a
    # step coprime to the number of jurors never repeats within 10 steps.
    coprime = np.array([s for s in range(1, N_JURORS) if np.gcd(s, N_JURORS) == 1])
    base = rng.integers(0, N_JURORS, N_ENTRIES)
    step = rng.choice(coprime, N_ENTRIES)
    jurors = (base[:, None] + step[:, None] * np.arange(SHEETS_PER_ENTRY)) % N_JURORS
    sheet_entry = np.repeat(np.arange(N_ENTRIES), SHEETS_PER_ENTRY)
    sheet_juror = jurors.ravel().astype(np.int64)
    quality = rng.normal(0.0, 1.0, N_ENTRIES)
    leniency = rng.normal(0.0, 1.0, N_JURORS)
    spread = rng.uniform(0.6, 1.6, N_JURORS)
    noise = rng.normal(0.0, 1.2, (sheet_entry.shape[0], len(CRITERIA)))
    raw = 5.0 + spread[sheet_juror, None] * (1.5 * quality[sheet_entry, None]) + noise
    scores = np.clip(np.rint(raw + leniency[sheet_juror, None]), 0.0, 10.0)
    return ScoreTable(
        criteria=CRITERIA,
        categories=CATEGORIES,
        entry_ids=tuple(f"entry-{i:06d}" for i in range(N_ENTRIES)),
        entry_titles=tuple(f"Projekt {i}" for i in range(N_ENTRIES)),
        entry_category=rng.integers(0, len(CATEGORIES), N_ENTRIES),
        juror_ids=tuple(f"juror-{i:04d}" for i in range(N_JURORS)),
        sheet_entry=sheet_entry,
        sheet_juror=sheet_juror,
        scores=scores,
    )


def to_records(table: ScoreTable) -> tuple[list[EntryRecord], list[SheetRecord]]:
    entries = [
        EntryRecord(entry_id=entry_id, title=title, category=table.categories[category])
        for entry_id, title, category in zip(
            table.entry_ids, table.entry_titles, table.entry_category.tolist(), strict=True
        )
    ]
    keys = [c.key for c in table.criteria]
    sheets = [
        SheetRecord(
            entry_id=table.entry_ids[e],
            juror_id=table.juror_ids[j],
            scores=dict(zip(keys, row, strict=True)),
        )
        for e, j, row in zip(
            table.sheet_entry.tolist(),
            table.sheet_juror.tolist(),
            table.scores.tolist(),
            strict=True,
        )
    ]
    return entries, sheets


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> None:
    params = AggregateParameters()
    started = time.perf_counter()
    table = build_table()
    build_seconds = time.perf_counter() - started
    n_scores = int(table.scores.size)
    rss_before = peak_rss_mib()

    timings: dict[Method, list[float]] = {"zscore": [], "raw": []}
    results: dict[Method, AggregateResult] = {}
    for _ in range(REPEATS):
        for method in RUN_METHODS:
            started = time.perf_counter()
            results[method] = aggregate(table=table, method=method, parameters=params)
            timings[method].append(time.perf_counter() - started)
    rss_after_aggregate = peak_rss_mib()
    started = time.perf_counter()
    run_snapshot_hash(table=table, result=results["zscore"])
    hash_seconds = time.perf_counter() - started

    started = time.perf_counter()
    entries, sheets = to_records(table)
    records_seconds = time.perf_counter() - started
    reference_seconds: dict[Method, float] = {}
    max_diff: dict[Method, float] = {}
    for method in RUN_METHODS:
        started = time.perf_counter()
        expected = reference_aggregate(
            criteria=table.criteria,
            categories=table.categories,
            entries=entries,
            sheets=sheets,
            method=method,
            params=params,
        )
        reference_seconds[method] = time.perf_counter() - started
        # Raises if any rank, flag, tie rule or figure disagrees beyond 1e-9.
        max_diff[method] = compare_with_reference(results[method], expected)["figures"]
    rss_end = peak_rss_mib()

    summary: dict[str, Any] = {
        "benchmark": "aggregate",
        "criterion_scores": n_scores,
        "sheets": int(table.sheet_entry.shape[0]),
        "entries": N_ENTRIES,
        "jurors": N_JURORS,
        "table_build_s": round(build_seconds, 3),
        "hash_only_s": round(hash_seconds, 3),
        "reference_records_s": round(records_seconds, 3),
        "peak_rss_before_mib": round(rss_before, 1),
        "peak_rss_after_aggregate_mib": round(rss_after_aggregate, 1),
        "peak_rss_end_mib": round(rss_end, 1),
        "budget_s": BUDGET_SECONDS,
    }
    print(f"{n_scores:,} criterion scores, {summary['sheets']:,} sheets, repeats={REPEATS}")
    print(
        f"{'method':<8} {'aggregate s (median/max)':>26} {'reference s':>12} {'ratio':>7} "
        f"{'max |diff|':>11} {'alpha':>8}"
    )
    within_budget = True
    for method in RUN_METHODS:
        median = statistics.median(timings[method])
        worst = max(timings[method])
        ratio = reference_seconds[method] / median
        alpha = results[method].reliability.alpha
        within_budget = within_budget and worst < BUDGET_SECONDS
        print(
            f"{method:<8} {median:>17.3f} / {worst:<6.3f} {reference_seconds[method]:>12.2f} "
            f"{ratio:>6.1f}x {max_diff[method]:>11.2e} {alpha if alpha is not None else 'n/a':>8.4}"
        )
        summary[method] = {
            "aggregate_median_s": round(median, 3),
            "aggregate_max_s": round(worst, 3),
            "reference_s": round(reference_seconds[method], 3),
            "speedup": round(ratio, 1),
            "max_abs_diff": max_diff[method],
            "alpha": alpha,
        }
    print(
        f"table build {build_seconds:.3f} s, hashing alone {hash_seconds:.3f} s, peak RSS "
        f"{rss_before:.0f} MiB before / {rss_after_aggregate:.0f} MiB after aggregate / "
        f"{rss_end:.0f} MiB with the reference"
    )
    summary["within_budget"] = within_budget
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
