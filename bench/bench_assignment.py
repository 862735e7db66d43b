"""Benchmark of the reviewer assignment: 10,000 entries × 500 jurors × 3 reviews, 2 % conflicts.

Builds a fixed-seed instance with the tests' generator (4 categories weighted 4:3:2:1, each juror
1–2 expertise categories, 2 % random juror–entry conflicts, and a tenth of the jurors with a
max_load five below the level, so the water-filling has work to do). It then times, in one run:

* `check_feasibility` and `solve` (strategy "auto", i.e. the certified sparse graph), verifying
  every hard constraint on the id strings with the tests' checker;
* a rerun after five jurors drop out (their pairs removed, everything else kept);
* the speed baseline: the same solver on the full entry × juror graph (strategy "full");
* the quality baseline: HiGHS (scipy `linprog`, interior point with crossover) on the same full
  instance, as the LP "fewest mismatches with every load inside the balanced band" (the tests'
  `reference_balanced_mismatches`, band from their independent water-level scan). Its matrix is
  totally unimodular, so the LP optimum is the integer optimum. It takes minutes and ~5 GB;
  ``--lp reduced`` runs it (and `solve`) on a 2,000 × 100 instance instead, ``--lp skip`` not at
  all.

Run with ``uv run python -m bench.bench_assignment``; the last line is JSON. Peak RSS is the
process's high-water mark after each step, so later (bigger) steps include earlier ones.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from typing import Any

import msgspec

from competition.jury.runs.solver import (
    Problem,
    Solution,
    Strategy,
    check_feasibility,
    solve,
)
from tests.jury.runs.test_solver import (
    assert_hard_constraints,
    final_loads,
    final_pairs,
    random_problem,
    reference_balanced_mismatches,
    reference_band,
)

SEED = 20260
N_ENTRIES = 10_000
N_JURORS = 500
REVIEWS = 3
CONFLICT_SHARE = 0.02
LIMITED_SHARE = 0.1
DROPOUTS = 5
REPEATS = 3
BUDGET_SECONDS = 10.0
REDUCED = (2_000, 100)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def build(n_entries: int, n_jurors: int) -> Problem:
    return random_problem(
        n_entries=n_entries,
        n_jurors=n_jurors,
        k=REVIEWS,
        conflict_share=CONFLICT_SHARE,
        seed=SEED,
        limited_share=LIMITED_SHARE,
    )


def timed_solve(problem: Problem, strategy: Strategy) -> tuple[Solution, float]:
    started = time.perf_counter()
    solution = solve(problem, strategy=strategy)
    return solution, time.perf_counter() - started


def verify(problem: Problem, solution: Solution) -> int:
    """Raises unless every hard constraint holds; returns the load spread over free jurors."""
    assert_hard_constraints(problem, solution)
    loads = final_loads(problem, solution)
    band = reference_band(problem)
    free = [loads[j] for j, (low, high) in band.items() if high == low + 1]
    if not solution.stats.balanced or any(
        not band[j][0] <= x <= band[j][1] for j, x in loads.items()
    ):
        raise AssertionError("loads outside the balanced band")
    return max(free) - min(free) if free else 0


class Row(msgspec.Struct, kw_only=True):
    case: str
    seconds: float
    objective: int | None
    baseline_objective: int | None = None
    spread_free: int | None = None
    conflicts_violated: int | None = None
    peak_rss_mib: float = 0.0


def solution_row(case: str, seconds: float, solution: Solution, spread: int) -> Row:
    return Row(
        case=f"{case} ({solution.stats.method})",
        seconds=round(seconds, 3),
        objective=solution.stats.total_cost,
        spread_free=spread,
        conflicts_violated=solution.stats.conflicts_violated,
        peak_rss_mib=round(peak_rss_mib(), 1),
    )


def run_solve(problem: Problem) -> tuple[Solution, list[float], Row]:
    timings: list[float] = []
    solutions: list[Solution] = []
    for _ in range(REPEATS):
        solution, seconds = timed_solve(problem, "auto")
        timings.append(seconds)
        solutions.append(solution)
    if any(other != solutions[0] for other in solutions):
        raise AssertionError("same seed, different result")
    spread = verify(problem, solutions[0])
    row = solution_row("solve auto", statistics.median(timings), solutions[0], spread)
    return solutions[0], timings, row


def run_rerun(problem: Problem, solution: Solution) -> tuple[Solution, Row]:
    """Drops every (N_JURORS / DROPOUTS)-th juror and keeps all other pairs."""
    dropped = {juror.id for juror in problem.jurors[:: N_JURORS // DROPOUTS]}
    kept = frozenset(pair for pair in final_pairs(problem, solution) if pair[0] not in dropped)
    rerun = Problem(
        entries=problem.entries,
        jurors=tuple(juror for juror in problem.jurors if juror.id not in dropped),
        reviews_per_entry=problem.reviews_per_entry,
        conflicts=problem.conflicts,
        existing=kept,
        seed=problem.seed,
    )
    rerun_solution, seconds = timed_solve(rerun, "auto")
    assert_hard_constraints(rerun, rerun_solution)
    lost = len(problem.existing) + len(solution.assignments) - len(kept)
    if rerun_solution.stats.new_assignments != lost:
        raise AssertionError("rerun changed more than the gaps")
    row = solution_row(
        f"rerun, {DROPOUTS} dropouts",
        seconds,
        rerun_solution,
        rerun_solution.stats.load_spread_free,
    )
    return rerun_solution, row


def run_lp(problem: Problem, solution: Solution, mode: str) -> tuple[Row | None, int | None]:
    """HiGHS on the full instance, or solve and HiGHS on the reduced one; (row, our objective)."""
    if mode == "skip":
        return None, None
    ours = solution.stats.total_cost
    if mode == "reduced":
        problem = build(*REDUCED)
        ours = solve(problem).stats.total_cost
    started = time.perf_counter()
    value = reference_balanced_mismatches(problem, method="highs-ipm")
    row = Row(
        case=f"baseline: HiGHS LP {len(problem.entries)}×{len(problem.jurors)}",
        seconds=round(time.perf_counter() - started, 3),
        objective=ours,
        baseline_objective=value,
        peak_rss_mib=round(peak_rss_mib(), 1),
    )
    return row, ours


def print_table(rows: list[Row]) -> None:
    print(
        f"{'case':<34} {'wall s':>8} {'objective':>10} {'baseline':>9} {'spread':>7} "
        f"{'conflicts':>10} {'peak RSS MiB':>13}"
    )
    for row in rows:
        print(
            f"{row.case:<34} {row.seconds:>8.3f} {row.objective!s:>10} "
            f"{row.baseline_objective!s:>9} {row.spread_free!s:>7} "
            f"{row.conflicts_violated!s:>10} {row.peak_rss_mib:>13.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lp", choices=("full", "reduced", "skip"), default="full")
    args = parser.parse_args()

    started = time.perf_counter()
    problem = build(N_ENTRIES, N_JURORS)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report = check_feasibility(problem)
    feasibility_seconds = time.perf_counter() - started
    if not report.feasible:
        raise AssertionError(report.findings)

    solution, timings, solve_row = run_solve(problem)
    rerun_solution, rerun_row = run_rerun(problem, solution)
    full, full_seconds = timed_solve(problem, "full")
    full_row = solution_row("baseline: full graph", full_seconds, full, verify(problem, full))
    full_row.baseline_objective = solution.stats.total_cost
    lp_row, lp_compared = run_lp(problem, solution, args.lp)
    if lp_row is not None and args.lp == "full":
        solve_row.baseline_objective = lp_row.baseline_objective
    rows = [solve_row, rerun_row, full_row, *([lp_row] if lp_row is not None else [])]

    limited = sum(juror.max_load is not None for juror in problem.jurors)
    print(
        f"{N_ENTRIES:,} entries × {N_JURORS} jurors × {REVIEWS} reviews, "
        f"{len(problem.conflicts):,} conflicts, {limited} jurors with max_load; build "
        f"{build_seconds:.2f} s, check_feasibility {feasibility_seconds:.3f} s, solve runs "
        f"{', '.join(f'{t:.3f}' for t in timings)} s"
    )
    print_table(rows)
    lp_value = lp_row.baseline_objective if lp_row is not None else None
    summary: dict[str, Any] = {
        "benchmark": "assignment",
        "entries": N_ENTRIES,
        "jurors": N_JURORS,
        "reviews_per_entry": REVIEWS,
        "conflicts": len(problem.conflicts),
        "jurors_with_max_load": limited,
        "build_s": round(build_seconds, 3),
        "check_feasibility_s": round(feasibility_seconds, 3),
        "solve_s": [round(t, 3) for t in timings],
        "solve_median_s": round(statistics.median(timings), 3),
        "method": solution.stats.method,
        "candidate_arcs": solution.stats.candidate_arcs,
        "objective": solution.stats.total_cost,
        "level": solution.stats.level,
        "load_min": solution.stats.load_min,
        "load_max": solution.stats.load_max,
        "rerun_s": rerun_row.seconds,
        "rerun_new_assignments": rerun_solution.stats.new_assignments,
        "full_graph_s": round(full_seconds, 3),
        "full_graph_objective": full.stats.total_cost,
        "lp": args.lp,
        "lp_objective": lp_value,
        "lp_compared_objective": lp_compared,
        "rows": msgspec.to_builtins(rows),
        "budget_s": BUDGET_SECONDS,
        "within_budget": max(timings) + feasibility_seconds < BUDGET_SECONDS,
        "optimal": full.stats.total_cost == solution.stats.total_cost
        and (lp_value is None or lp_value == lp_compared),
    }
    print(json.dumps(summary, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    main()
