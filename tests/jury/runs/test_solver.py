"""Tests of the reviewer assignment: hand-built cases, and random instances against references.

The references below share nothing with the module but the problem statement: they work on the
id strings, and optimise with HiGHS (scipy) instead of a network flow. `reference_optimum` states
the objective as one mixed-integer program over every allowed pair, with the balance written as a
convex piecewise-linear cost per juror and no bound on loads beyond max_load, so it also checks
the module's two-pass reasoning. `reference_band` and `reference_balanced_mismatches` state the
balanced case as a linear program (the benchmark in bench/ reuses them as its baseline).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pytest
import scipy.sparse as sp  # type: ignore[import-untyped]
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, linprog, milp  # type: ignore[import-untyped]

from competition.jury.runs import wording
from competition.jury.runs.solver import (
    CapacityShort,
    Entry,
    EntryOvercovered,
    EntryShort,
    FeasibilityReport,
    InfeasibleError,
    Juror,
    JurorOverMaxLoad,
    KeptConflict,
    Problem,
    ShortEntry,
    Solution,
    Strategy,
    Unassignable,
    check_feasibility,
    solve,
)

CATEGORIES = ("mobilitaet", "digitalisierung", "energie", "kreislaufwirtschaft")
STRATEGIES: tuple[Strategy, ...] = ("full", "sparse")


# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def kept_loads(problem: Problem) -> Counter[str]:
    return Counter(juror_id for juror_id, _ in problem.existing)


def kept_cover(problem: Problem) -> Counter[str]:
    return Counter(entry_id for _, entry_id in problem.existing)


def allowed_matrix(problem: Problem) -> np.ndarray:
    """[entry, juror] in input order: entry still short of k, pair neither conflicted nor kept."""
    entry_index = {entry.id: i for i, entry in enumerate(problem.entries)}
    juror_index = {juror.id: j for j, juror in enumerate(problem.jurors)}
    cover = kept_cover(problem)
    allowed = np.zeros((len(entry_index), len(juror_index)), dtype=bool)
    short = [cover[entry.id] < problem.reviews_per_entry for entry in problem.entries]
    allowed[np.array(short, dtype=bool), :] = True
    for juror_id, entry_id in problem.conflicts | problem.existing:
        if juror_id in juror_index and entry_id in entry_index:
            allowed[entry_index[entry_id], juror_index[juror_id]] = False
    return allowed


def open_pairs(problem: Problem) -> list[tuple[str, str]]:
    """(juror, entry) pairs that may still be assigned, juror's max_load aside."""
    rows, cols = np.nonzero(allowed_matrix(problem))
    return [
        (problem.jurors[j].id, problem.entries[e].id)
        for e, j in zip(rows.tolist(), cols.tolist(), strict=True)
    ]


def juror_limits(problem: Problem) -> dict[str, int]:
    """Most reviews a juror can end with: max_load, and kept plus what it may still get."""
    kept = kept_loads(problem)
    reachable = allowed_matrix(problem).sum(axis=0).tolist()
    limits = {}
    for juror, more in zip(problem.jurors, reachable, strict=True):
        most = kept[juror.id] + more
        limits[juror.id] = most if juror.max_load is None else min(most, juror.max_load)
    return limits


def mismatch(problem: Problem, juror_id: str, entry_id: str) -> int:
    category = {entry.id: entry.category for entry in problem.entries}[entry_id]
    expertise = {juror.id: juror.expertise for juror in problem.jurors}[juror_id]
    return 0 if category in expertise else 1


def reference_optimum(problem: Problem) -> tuple[int, int] | None:
    """(min sum of squared loads, then min new mismatches) by MILP, or None if infeasible.

    Loads are built from unit variables u[j, i] ("juror j has at least i reviews") costing i each,
    so the balance term is sum_j load_j (load_j + 1) / 2 up to a constant; it is weighted above any
    mismatch total. Units run up to max_load or the number of entries, never a tighter bound.
    """
    k = problem.reviews_per_entry
    kept = kept_loads(problem)
    cover = kept_cover(problem)
    pairs = open_pairs(problem)
    missing = sum(k - cover[entry.id] for entry in problem.entries)
    weight = missing + 1
    units = [
        (juror.id, i)
        for juror in problem.jurors
        for i in range(
            kept[juror.id] + 1,
            (len(problem.entries) if juror.max_load is None else juror.max_load) + 1,
        )
    ]
    n_vars = len(pairs) + len(units)
    cost = np.array(
        [mismatch(problem, j, e) for j, e in pairs] + [weight * i for _, i in units], dtype=float
    )
    rows: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []
    for entry in problem.entries:
        row = np.zeros(n_vars)
        for v, (_, e) in enumerate(pairs):
            row[v] = 1.0 if e == entry.id else 0.0
        rows.append(row)
        lower.append(k - cover[entry.id])
        upper.append(k - cover[entry.id])
    for juror in problem.jurors:
        row = np.zeros(n_vars)
        for v, (j, _) in enumerate(pairs):
            row[v] = 1.0 if j == juror.id else 0.0
        for u, (j, _) in enumerate(units):
            row[len(pairs) + u] = -1.0 if j == juror.id else 0.0
        rows.append(row)
        lower.append(0.0)
        upper.append(0.0)
    if not pairs and missing == 0:
        return sum(load * load for load in kept.values()), 0
    if not rows or n_vars == 0:
        return None
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        bounds=Bounds(0, 1),
        integrality=np.ones(n_vars),
    )
    if result.status == 2:
        return None
    assert result.status == 0
    x = np.rint(result.x).astype(int)
    loads = Counter(kept)
    mismatches = 0
    for v, (j, e) in enumerate(pairs):
        if x[v]:
            loads[j] += 1
            mismatches += mismatch(problem, j, e)
    return sum(load * load for load in loads.values()), mismatches


def reference_assignable(problem: Problem) -> int:
    """Kept reviews plus the most new ones that fit under k, max_load and conflicts (MILP)."""
    k = problem.reviews_per_entry
    kept = kept_loads(problem)
    cover = kept_cover(problem)
    pairs = open_pairs(problem)
    if not pairs:
        return len(problem.existing)
    entry_row = {entry.id: r for r, entry in enumerate(problem.entries)}
    juror_row = {juror.id: len(entry_row) + r for r, juror in enumerate(problem.jurors)}
    matrix = np.zeros((len(entry_row) + len(juror_row), len(pairs)))
    for v, (j, e) in enumerate(pairs):
        matrix[entry_row[e], v] = 1.0
        matrix[juror_row[j], v] = 1.0
    upper = [float(max(k - cover[entry.id], 0)) for entry in problem.entries] + [
        float(np.inf if juror.max_load is None else max(juror.max_load - kept[juror.id], 0))
        for juror in problem.jurors
    ]
    result = milp(
        -np.ones(len(pairs)),
        constraints=LinearConstraint(matrix, -np.inf, upper),
        bounds=Bounds(0, 1),
        integrality=np.ones(len(pairs)),
    )
    assert result.status == 0
    return len(problem.existing) + round(float(-result.fun))


def reference_band(problem: Problem) -> dict[str, tuple[int, int]]:
    """Each juror's balanced load range: the water level found by scanning upwards."""
    kept = kept_loads(problem)
    limits = juror_limits(problem)
    demand = len(problem.entries) * problem.reviews_per_entry

    def clip(level: int, juror_id: str) -> int:
        return max(kept[juror_id], min(level, limits[juror_id]))

    top = max(limits.values(), default=0)
    level = 0
    while level < top and sum(clip(level + 1, j.id) for j in problem.jurors) <= demand:
        level += 1
    return {j.id: (clip(level, j.id), clip(level + 1, j.id)) for j in problem.jurors}


def reference_balanced_mismatches(problem: Problem, *, method: str = "highs") -> int | None:
    """Fewest new mismatches with every load inside `reference_band`, by LP; None if impossible.

    The constraint matrix is a bipartite incidence matrix (totally unimodular), so the LP optimum
    is integral and equals the integer one.
    """
    k = problem.reviews_per_entry
    kept = kept_loads(problem)
    cover = kept_cover(problem)
    band = reference_band(problem)
    pair_entry, pair_juror = np.nonzero(allowed_matrix(problem))
    categories = sorted({entry.category for entry in problem.entries})
    entry_category = np.array(
        [categories.index(entry.category) for entry in problem.entries], dtype=np.int64
    )
    expert = np.array(
        [[c in juror.expertise for juror in problem.jurors] for c in categories], dtype=bool
    ).reshape(len(categories), len(problem.jurors))
    return lp_balanced_mismatches(
        n_entries=len(problem.entries),
        n_jurors=len(problem.jurors),
        pair_entry=pair_entry,
        pair_juror=pair_juror,
        cost=np.where(expert[entry_category[pair_entry], pair_juror], 0.0, 1.0),
        need=np.array([k - cover[entry.id] for entry in problem.entries], dtype=float),
        load_low=np.array([band[j.id][0] - kept[j.id] for j in problem.jurors], dtype=float),
        load_high=np.array([band[j.id][1] - kept[j.id] for j in problem.jurors], dtype=float),
        method=method,
    )


def lp_balanced_mismatches(
    *,
    n_entries: int,
    n_jurors: int,
    pair_entry: np.ndarray,
    pair_juror: np.ndarray,
    cost: np.ndarray,
    need: np.ndarray,
    load_low: np.ndarray,
    load_high: np.ndarray,
    method: str = "highs",
) -> int | None:
    n = pair_entry.size
    if n == 0:
        reachable = not need.any() and bool((load_low <= 0).all() and (load_high >= 0).all())
        return 0 if reachable else None
    columns = np.arange(n)
    by_entry = sp.csr_matrix((np.ones(n), (pair_entry, columns)), shape=(n_entries, n))
    by_juror = sp.csr_matrix((np.ones(n), (pair_juror, columns)), shape=(n_jurors, n))
    result = linprog(
        cost,
        A_ub=sp.vstack([by_juror, -by_juror]).tocsr(),
        b_ub=np.concatenate([load_high, -load_low]),
        A_eq=by_entry,
        b_eq=need,
        bounds=(0, 1),
        method=method,
    )
    if result.status == 2:
        return None
    assert result.status == 0
    return round(float(result.fun))


# ---------------------------------------------------------------------------------------------
# Checks of a solution against the problem, on id strings
# ---------------------------------------------------------------------------------------------


def final_pairs(problem: Problem, solution: Solution) -> list[tuple[str, str]]:
    return sorted(problem.existing) + list(solution.assignments)


def final_loads(problem: Problem, solution: Solution) -> dict[str, int]:
    counts = Counter(juror_id for juror_id, _ in final_pairs(problem, solution))
    return {juror.id: counts[juror.id] for juror in problem.jurors}


def assert_hard_constraints(problem: Problem, solution: Solution) -> None:
    pairs = final_pairs(problem, solution)
    assert list(solution.assignments) == sorted(set(solution.assignments))
    assert set(solution.assignments) & problem.existing == set()
    assert len(pairs) == len(set(pairs))
    assert {pair for pair in pairs if pair in problem.conflicts} == set()
    cover = Counter(entry_id for _, entry_id in pairs)
    assert {entry.id: cover[entry.id] for entry in problem.entries} == {
        entry.id: problem.reviews_per_entry for entry in problem.entries
    }
    loads = final_loads(problem, solution)
    over = {
        juror.id
        for juror in problem.jurors
        if juror.max_load is not None and loads[juror.id] > juror.max_load
    }
    assert over == set()
    assert dict(solution.loads) == loads
    assert solution.stats.conflicts_violated == 0
    assert solution.stats.max_load_violations == 0


def new_mismatches(problem: Problem, solution: Solution) -> int:
    return sum(mismatch(problem, j, e) for j, e in solution.assignments)


def no_balancing_move(problem: Problem, loads: dict[str, int]) -> bool:
    """No juror could hand a review to one with two fewer, ignoring who may review what."""
    kept = kept_loads(problem)
    limits = juror_limits(problem)
    return all(
        loads[a] < loads[b] + 2 or loads[a] == kept[a] or loads[b] == limits[b]
        for a in loads
        for b in loads
    )


# ---------------------------------------------------------------------------------------------
# Hand-built cases
# ---------------------------------------------------------------------------------------------


def make_problem(
    entries: Iterable[tuple[str, str]],
    jurors: Iterable[tuple[str, Iterable[str], int | None]],
    *,
    k: int,
    conflicts: Iterable[tuple[str, str]] = (),
    existing: Iterable[tuple[str, str]] = (),
    seed: int = 0,
) -> Problem:
    return Problem(
        entries=tuple(Entry(entry_id, category) for entry_id, category in entries),
        jurors=tuple(
            Juror(juror_id, frozenset(expertise), max_load)
            for juror_id, expertise, max_load in jurors
        ),
        reviews_per_entry=k,
        conflicts=frozenset(conflicts),
        existing=frozenset(existing),
        seed=seed,
    )


def test_solve_expertise_preferred_matches_categories() -> None:
    problem = make_problem(
        [("eA", "A"), ("eB", "B")], [("jA", ["A"], None), ("jB", ["B"], None)], k=1
    )
    solution = solve(problem)
    assert solution.assignments == (("jA", "eA"), ("jB", "eB"))
    assert solution.loads == (("jA", 1), ("jB", 1))
    assert solution.stats.total_cost == 0
    assert solution.stats.expertise_matches == 2


def test_solve_conflict_forces_mismatch() -> None:
    problem = make_problem(
        [("e1", "A")], [("jA", ["A"], None), ("jB", ["B"], None)], k=1, conflicts=[("jA", "e1")]
    )
    solution = solve(problem)
    assert solution.assignments == (("jB", "e1"),)
    assert solution.stats.total_cost == 1
    assert solution.stats.expertise_mismatches == 1


def test_solve_balance_outranks_expertise() -> None:
    problem = make_problem(
        [(f"e{i}", "A") for i in range(4)], [("j1", ["A"], None), ("j2", ["B"], None)], k=1
    )
    solution = solve(problem)
    assert solution.loads == (("j1", 2), ("j2", 2))
    assert solution.stats.total_cost == 2
    assert solution.stats.level == 2
    assert solution.stats.balanced is True


def test_solve_max_load_caps_juror_and_balances_the_rest() -> None:
    # Demand 6: j1 sits at its max_load 1, the free jurors share 5 as 2 and 3 (level 2).
    problem = make_problem(
        [(f"e{i}", "A") for i in range(6)],
        [("j1", ["A"], 1), ("j2", ["B"], None), ("j3", ["B"], None)],
        k=1,
    )
    solution = solve(problem)
    loads = dict(solution.loads)
    assert loads["j1"] == 1
    assert sorted([loads["j2"], loads["j3"]]) == [2, 3]
    assert solution.stats.total_cost == 5
    assert solution.stats.level == 2
    assert solution.stats.load_spread_free == 1
    assert solution.stats.load_min == 1
    assert solution.stats.load_max == 3


def test_solve_rerun_after_dropout_fills_only_gaps() -> None:
    entries = [("e1", "A"), ("e2", "A"), ("e3", "A")]
    first = solve(
        make_problem(entries, [(j, ["A"], None) for j in ("j1", "j2", "j3")], k=2, seed=3)
    )
    assert first.loads == (("j1", 2), ("j2", 2), ("j3", 2))
    kept = {pair for pair in first.assignments if pair[0] != "j3"}
    rerun = solve(
        make_problem(entries, [(j, ["A"], None) for j in ("j1", "j2")], k=2, existing=kept)
    )
    # With two jurors left, both review everything; only the pairs not kept are new.
    everything = {(j, e) for j in ("j1", "j2") for e, _ in entries}
    assert rerun.assignments == tuple(sorted(everything - kept))
    assert rerun.stats.kept_assignments == 4
    assert rerun.stats.new_assignments == 2
    assert rerun.loads == (("j1", 3), ("j2", 3))


def test_solve_rerun_juror_above_level_gets_nothing_more() -> None:
    # j1 keeps 3 reviews, above the level 0 of the one missing review; j3 is the expert.
    problem = make_problem(
        [("e1", "A"), ("e2", "A"), ("e3", "A"), ("e4", "A")],
        [("j1", ["A"], None), ("j2", ["B"], None), ("j3", ["A"], None)],
        k=1,
        existing=[("j1", "e1"), ("j1", "e2"), ("j1", "e3")],
    )
    solution = solve(problem)
    assert solution.assignments == (("j3", "e4"),)
    assert solution.loads == (("j1", 3), ("j2", 0), ("j3", 1))
    assert solution.stats.level == 0
    assert solution.stats.balanced is True


def test_solve_nothing_missing_returns_no_new_pairs() -> None:
    problem = make_problem(
        [("e1", "A")], [("j1", ["A"], None), ("j2", ["B"], None)], k=1, existing=[("j2", "e1")]
    )
    solution = solve(problem)
    assert solution.assignments == ()
    assert solution.stats.method == "none"
    assert solution.stats.kept_assignments == 1
    assert solution.stats.expertise_mismatches == 1
    assert solution.stats.total_cost == 0


def test_solve_unreachable_band_minimises_square_sum() -> None:
    # j1 and j2 may only review e1, so the band (j3 at 2..3, j1 and j2 at 1) is unreachable;
    # the most balanced achievable loads are 1, 0, 3 (square sum 10), and the expert j1 gets e1.
    problem = make_problem(
        [(f"e{i}", "A") for i in range(1, 5)],
        [("j1", ["A"], None), ("j2", [], None), ("j3", ["A"], None)],
        k=1,
        conflicts=[(j, e) for j in ("j1", "j2") for e in ("e2", "e3", "e4")],
    )
    solution = solve(problem)
    assert solution.assignments == (("j1", "e1"), ("j3", "e2"), ("j3", "e3"), ("j3", "e4"))
    assert solution.stats.balanced is False
    assert solution.stats.level == 2
    assert solution.stats.load_sum_of_squares == 10
    assert solution.stats.total_cost == 0
    assert reference_optimum(problem) == (10, 0)


def test_solve_sparse_falls_back_when_aggregate_bound_is_loose() -> None:
    # Aggregated by category, both A-experts could take an A entry at no cost (bound 0); in fact
    # e1 only fits j3 and e3 only j1, so two mismatches are unavoidable.
    problem = make_problem(
        [("e1", "A"), ("e2", "A"), ("e3", "B")],
        [("j1", ["A"], None), ("j2", ["A"], None), ("j3", ["B"], None)],
        k=1,
        conflicts=[("j1", "e1"), ("j2", "e1"), ("j2", "e3")],
    )
    solution = solve(problem, strategy="sparse")
    assert solution.assignments == (("j1", "e3"), ("j2", "e2"), ("j3", "e1"))
    assert solution.stats.total_cost == 2
    assert solution.stats.method == "full"
    assert solve(problem, strategy="full") == solution


def test_solve_same_seed_same_result_other_seeds_differ() -> None:
    entries = [(f"e{i}", "A") for i in range(6)]
    jurors = [(f"j{i}", ["A"], None) for i in range(6)]
    results = {solve(make_problem(entries, jurors, k=1, seed=seed)) for seed in range(10)}
    assert len(results) == 10  # every seed its own assignment
    again = {solve(make_problem(entries, jurors, k=1, seed=seed)) for seed in range(10)}
    assert again == results


def test_solve_input_order_does_not_matter() -> None:
    entries = [(f"e{i}", CATEGORIES[i % 4]) for i in range(12)]
    jurors = [(f"j{i}", [CATEGORIES[i % 4]], None) for i in range(5)]
    problem = make_problem(entries, jurors, k=2, conflicts=[("j1", "e1"), ("j2", "e7")], seed=5)
    shuffled = make_problem(
        reversed(entries), reversed(jurors), k=2, conflicts=[("j1", "e1"), ("j2", "e7")], seed=5
    )
    assert solve(shuffled) == solve(problem)


def test_check_feasibility_demand_exceeds_capacity() -> None:
    problem = make_problem(
        [(f"e{i}", "A") for i in range(10)], [("j1", ["A"], 5), ("j2", ["A"], 5)], k=2
    )
    report = check_feasibility(problem)
    assert report == FeasibilityReport(
        feasible=False,
        demand=20,
        capacity=10,
        jurors_without_max_load=0,
        kept=0,
        assignable=10,
        entries_short=(),
        kept_conflicts=(),
        entries_overcovered=(),
        jurors_over_max_load=(),
        findings=(CapacityShort(missing=10), Unassignable(assignable=10, needed=20)),
    )
    assert wording.messages(report) == [
        "Bedarf 20 Gutachten, Kapazität 10.",
        "Die Kapazität der Jury reicht nicht: es fehlen 10 Gutachten.",
        "Nur 10 von 20 Gutachten lassen sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ]
    with pytest.raises(InfeasibleError) as raised:
        solve(problem)
    assert raised.value.report == report


def test_check_feasibility_entry_with_too_few_eligible_jurors() -> None:
    problem = make_problem(
        [("e1", "A"), ("e2", "A")],
        [(j, ["A"], None) for j in ("j1", "j2", "j3")],
        k=2,
        conflicts=[("j1", "e1"), ("j2", "e1")],
    )
    report = check_feasibility(problem)
    assert report.feasible is False
    assert report.entries_short == (ShortEntry("e1", 1, 2),)
    assert report.assignable == 3
    assert report.findings == (
        EntryShort(entry_id="e1", eligible_jurors=1, needed=2),
        Unassignable(assignable=3, needed=4),
    )
    assert wording.messages(report) == [
        "Bedarf 4 Gutachten, Kapazität 6; 3 Jurymitglieder ohne Höchstlast.",
        "Einreichung e1: 1 zulässiges Jurymitglied, benötigt 2.",
        "Nur 3 von 4 Gutachten lassen sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ]


def test_check_feasibility_joint_shortage_found_by_flow() -> None:
    # Each entry alone has an eligible juror, but both depend on j1, who can take only one.
    problem = make_problem(
        [("e1", "A"), ("e2", "A")],
        [("j1", ["A"], 1), ("j2", ["A"], None)],
        k=1,
        conflicts=[("j2", "e1"), ("j2", "e2")],
    )
    report = check_feasibility(problem)
    assert report.feasible is False
    assert report.entries_short == ()
    assert report.assignable == 1
    assert report.findings == (Unassignable(assignable=1, needed=2),)
    assert wording.messages(report) == [
        "Bedarf 2 Gutachten, Kapazität 3; 1 Jurymitglied ohne Höchstlast.",
        "Nur 1 von 2 Gutachten lässt sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ]
    with pytest.raises(InfeasibleError) as raised:
        solve(problem, strategy="sparse")
    assert raised.value.report == report


def test_check_feasibility_inconsistent_kept_pairs() -> None:
    problem = make_problem(
        [("e1", "A"), ("e2", "A")],
        [("j1", ["A"], 1), ("j2", ["A"], None), ("j3", ["A"], None)],
        k=1,
        conflicts=[("j2", "e1")],
        existing=[("j1", "e1"), ("j1", "e2"), ("j2", "e1")],
    )
    report = check_feasibility(problem)
    assert report.feasible is False
    assert report.kept_conflicts == (("j2", "e1"),)
    assert report.entries_overcovered == ("e1",)
    assert report.jurors_over_max_load == ("j1",)
    assert report.findings == (
        KeptConflict(juror_id="j2", entry_id="e1"),
        EntryOvercovered(entry_id="e1", reviews=2, needed=1),
        JurorOverMaxLoad(juror_id="j1", assignments=2, max_load=1),
    )
    assert wording.messages(report) == [
        "Bedarf 2 Gutachten, Kapazität 5; 2 Jurymitglieder ohne Höchstlast.",
        "Bestehende Zuordnung j2 → e1 verletzt einen Interessenkonflikt.",
        "Einreichung e1 hat bereits 2 Gutachten, vorgesehen sind 1.",
        "Jurymitglied j1 hat bereits 2 Zuordnungen, Höchstlast 1.",
    ]


def test_check_feasibility_feasible_reports_demand_and_capacity() -> None:
    problem = make_problem(
        [(f"e{i}", "A") for i in range(3)], [("j1", ["A"], 2), ("j2", ["A"], None)], k=1
    )
    report = check_feasibility(problem)
    assert report.feasible is True
    assert report.demand == 3
    assert report.capacity == 5
    assert report.assignable == 3
    assert report.findings == ()
    assert wording.messages(report) == [
        "Bedarf 3 Gutachten, Kapazität 5; 1 Jurymitglied ohne Höchstlast."
    ]


def test_solve_rejects_unknown_kept_juror() -> None:
    problem = make_problem([("e1", "A")], [("j1", ["A"], None)], k=1, existing=[("gone", "e1")])
    with pytest.raises(ValueError, match="unknown juror 'gone'"):
        solve(problem)


def test_solve_rejects_duplicate_entry_ids() -> None:
    problem = make_problem([("e1", "A"), ("e1", "B")], [("j1", ["A"], None)], k=1)
    with pytest.raises(ValueError, match="entry ids must be unique"):
        check_feasibility(problem)


# ---------------------------------------------------------------------------------------------
# Random instances
# ---------------------------------------------------------------------------------------------


@st.composite
def problems(
    draw: st.DrawFn,
    max_entries: int = 7,
    max_jurors: int = 5,
    conflict_share: float = 0.33,
    restricted: bool = False,
) -> Problem:
    categories = ("A", "B", "C")
    n = draw(st.integers(3 if restricted else 0, max_entries))
    m = draw(st.integers(3 if restricted else 0, max_jurors))
    k = draw(st.integers(1, 2 if restricted else 3))
    max_loads = st.none() if restricted else st.none() | st.integers(0, 6)
    entries = tuple(Entry(f"e{i}", draw(st.sampled_from(categories))) for i in range(n))
    jurors = tuple(
        Juror(
            f"j{j}",
            draw(st.frozensets(st.sampled_from(categories), max_size=2)),
            draw(max_loads),
        )
        for j in range(m)
    )
    pairs = [(juror.id, entry.id) for juror in jurors for entry in entries]
    conflicts: frozenset[tuple[str, str]] = frozenset()
    existing: set[tuple[str, str]] = set()
    if pairs:
        conflicts = draw(
            st.frozensets(st.sampled_from(pairs), max_size=int(len(pairs) * conflict_share))
        )
        if restricted:
            # Jurors who may review only the same few entries make balance unreachable at times.
            for juror in jurors:
                if draw(st.booleans()):
                    allowed = draw(st.frozensets(st.sampled_from(entries[:2]), max_size=2))
                    conflicts |= {(juror.id, e.id) for e in entries if e not in allowed}
        wanted = draw(st.lists(st.sampled_from(pairs), max_size=len(pairs) // 2))
        max_load = {juror.id: juror.max_load for juror in jurors}
        for juror_id, entry_id in wanted:
            load = sum(1 for j, _ in existing if j == juror_id)
            cover = sum(1 for _, e in existing if e == entry_id)
            limit = max_load[juror_id]
            if (
                (juror_id, entry_id) not in conflicts
                and cover < k
                and (limit is None or load < limit)
            ):
                existing.add((juror_id, entry_id))
    return Problem(
        entries=entries,
        jurors=jurors,
        reviews_per_entry=k,
        conflicts=conflicts,
        existing=frozenset(existing),
        seed=draw(st.integers(-(2**40), 2**40)),
    )


def check_against_references(problem: Problem) -> None:
    report = check_feasibility(problem)
    optimum = reference_optimum(problem)
    assert report.feasible == (optimum is not None)
    assert report.assignable == reference_assignable(problem)
    if optimum is None:
        event("infeasible")
        for strategy in STRATEGIES:
            with pytest.raises(InfeasibleError) as raised:
                solve(problem, strategy=strategy)
            assert raised.value.report == report
        return
    balanced_reachable = reference_balanced_mismatches(problem) is not None
    event("balanced" if balanced_reachable else "balance unreachable")
    for strategy in STRATEGIES:
        solution = solve(problem, strategy=strategy)
        event(f"{strategy} → {solution.stats.method}")
        assert_hard_constraints(problem, solution)
        loads = final_loads(problem, solution)
        assert (sum(x * x for x in loads.values()), new_mismatches(problem, solution)) == optimum
        assert (solution.stats.load_sum_of_squares, solution.stats.total_cost) == optimum
        assert solution.stats.balanced == balanced_reachable
        if balanced_reachable:
            band = reference_band(problem)
            assert all(band[j][0] <= loads[j] <= band[j][1] for j in loads)
            assert no_balancing_move(problem, loads) is True
            assert solution.stats.load_spread_free <= 1
        assert solve(problem, strategy=strategy) == solution


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_solve_random_instances_are_valid_and_optimal(problem: Problem) -> None:
    check_against_references(problem)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(max_jurors=6, conflict_share=0.1, restricted=True))
def test_solve_random_restricted_jurors_are_valid_and_optimal(problem: Problem) -> None:
    check_against_references(problem)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), data=st.data())
def test_solve_rerun_after_dropout_keeps_all_remaining_pairs(
    problem: Problem, data: st.DataObject
) -> None:
    if not problem.jurors or not check_feasibility(problem).feasible:
        event("nothing to rerun")
        return
    first = solve(problem)
    dropped = data.draw(st.sampled_from([juror.id for juror in problem.jurors]))
    kept = frozenset(pair for pair in final_pairs(problem, first) if pair[0] != dropped)
    rerun = Problem(
        entries=problem.entries,
        jurors=tuple(juror for juror in problem.jurors if juror.id != dropped),
        reviews_per_entry=problem.reviews_per_entry,
        conflicts=problem.conflicts,
        existing=kept,
        seed=problem.seed,
    )
    report = check_feasibility(rerun)
    if not report.feasible:
        event("rerun infeasible")
        assert report.assignable < len(problem.entries) * problem.reviews_per_entry
        return
    event("rerun solved")
    solution = solve(rerun)
    assert_hard_constraints(rerun, solution)
    lost = sum(1 for pair in final_pairs(problem, first) if pair[0] == dropped)
    assert solution.stats.new_assignments == lost
    assert (solution.stats.load_sum_of_squares, solution.stats.total_cost) == reference_optimum(
        rerun
    )


def random_problem(
    *,
    n_entries: int,
    n_jurors: int,
    k: int,
    conflict_share: float,
    seed: int,
    limited_share: float = 0.0,
) -> Problem:
    """A fixed-seed instance like the benchmark's: skewed categories, 1–2 expertise each."""
    rng = random.Random(seed)
    entries = tuple(
        Entry(f"entry-{i:05d}", rng.choices(CATEGORIES, weights=(4, 3, 2, 1))[0])
        for i in range(n_entries)
    )
    level = n_entries * k // max(n_jurors, 1)
    jurors = tuple(
        Juror(
            f"juror-{j:04d}",
            frozenset(rng.sample(CATEGORIES, rng.randint(1, 2))),
            level - 5 if rng.random() < limited_share else None,
        )
        for j in range(n_jurors)
    )
    n_conflicts = round(conflict_share * n_entries * n_jurors)
    codes = rng.sample(range(n_entries * n_jurors), n_conflicts)
    conflicts = frozenset(
        (jurors[code % n_jurors].id, entries[code // n_jurors].id) for code in codes
    )
    return Problem(
        entries=entries, jurors=jurors, reviews_per_entry=k, conflicts=conflicts, seed=seed
    )


def test_solve_medium_instance_sparse_certificate_matches_lp() -> None:
    problem = random_problem(
        n_entries=600, n_jurors=60, k=3, conflict_share=0.02, seed=11, limited_share=0.1
    )
    expected = reference_balanced_mismatches(problem)
    sparse = solve(problem, strategy="sparse")
    full = solve(problem, strategy="full")
    assert_hard_constraints(problem, sparse)
    assert sparse.stats.method == "sparse"
    assert full.stats.method == "full"
    assert sparse.stats.total_cost == expected
    assert full.stats.total_cost == expected
    assert sparse.stats.balanced is True
    loads = final_loads(problem, sparse)
    band = reference_band(problem)
    assert {j: band[j][0] <= loads[j] <= band[j][1] for j in loads} == dict.fromkeys(loads, True)
    # Below the size where the sparse graph pays off, "auto" is the full graph.
    assert solve(problem) == full
