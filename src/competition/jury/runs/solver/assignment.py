"""Reviewer assignment: which jurors review which entries, as an exact min-cost flow.

Pure and I/O-free; the worker job loads a `Problem`, calls `check_feasibility` / `solve` and
stores the `Solution`. The pieces: `problem` (input, index arrays, the balanced band), `network`
(the flow network and the full strategy), `sparse` (the certified sparse strategy),
`feasibility` (the report and its findings); this module states the objective and solves.

Objective (lexicographic)
-------------------------
Hard constraints: every entry ends with exactly ``k = reviews_per_entry`` distinct jurors (kept
pairs from earlier runs count towards ``k``), no juror reviews an entry they conflict with, no juror
exceeds ``max_load``, kept pairs are never removed.

1. **Balance.** Let ``e_j`` be juror j's kept load and ``c_j`` its capacity: ``max_load`` (no limit
   if ``None``) capped at ``e_j`` plus the number of entries it may still be given (conflicts and
   kept pairs excluded). The *water level* is the largest integer ``t`` with
   ``sum_j clip(t, e_j, c_j) <= D`` (``D`` = all reviews incl. kept ones). The balanced band of
   juror j is ``[clip(t, e_j, c_j), clip(t + 1, e_j, c_j)]``: jurors whose capacity is below the
   level sit at their capacity, jurors whose kept load is above it get nothing more, every other
   ("free") juror gets ``t`` or ``t + 1``, so max − min <= 1 among free jurors. Band vectors are
   exactly the minimisers of ``sum_j load_j**2`` over the box ``e <= load <= c`` with fixed sum.
   When conflicts make the band unreachable (a Hall-type obstruction involving several jurors),
   the solver minimises ``sum_j load_j**2`` over the assignments that do exist. The set of
   achievable load vectors is an integral base polyhedron (the juror-side boundary of a flow), and
   on such sets the square-sum minimisers are exactly the decreasingly-minimal vectors: the
   largest load is as small as possible, then the second largest, ... (Frank & Murota, "Discrete
   decreasing minimization, Part I", Math. Oper. Res. 47(1), 2022).
2. **Expertise.** Among those, minimise the number of new pairs whose juror lacks the entry's
   category (``Stats.total_cost``).
3. **Ties** are broken by ``seed``: it shuffles the solver's node numbering and drives the
   sampling of the sparse graph below, so the same seed gives the same output and other seeds may
   pick other optimal assignments. The objective values never depend on it, and nothing else (not
   even the order of the input tuples, which are sorted by id first) influences the result.

Method
------
The assignment is the transportation/min-cost-flow model of Taylor ("On the optimal assignment of
conference papers to reviewers", 2008): source → entry (supply = missing reviews) → juror (capacity
1, cost = mismatch) → sink. Balance is a separable convex cost on the juror → sink arcs, written as
parallel arcs of increasing cost (Ahuja, Magnanti & Orlin, *Network Flows*, 1993, §14.3). Balance
dominates expertise through the weight ``P = (missing reviews) + 1``. Two passes keep it small:

* Pass 1 uses three juror → sink tiers: ``-P`` up to the band's lower end, ``0`` inside the band,
  ``+P`` above. Its optimum has no deviation from the band iff a balanced assignment exists, and
  then it is optimal for the full objective (every band vector has the same square sum).
* Only if pass 1 leaves a deviation, pass 2 prices every unit separately (unit i costs ``P * i``,
  i.e. ``P * load(load + 1) / 2``), for units up to pass 1's maximum load: no square-sum minimiser
  has a larger maximum (decreasing minimality).

Each pass is solved with OR-Tools' cost-scaling `SimpleMinCostFlow` (Goldberg, "An efficient
implementation of a scaling minimum-cost flow algorithm", J. Algorithms 22, 1997). On large
instances the full graph (10,000 × 500 pairs) is replaced by a certified sparse one: the costs
depend only on (category, juror), so the *aggregated* problem "how many entries of category c does
juror j review" (capacity = entries of c that j may review) is a relaxation whose optimum is a
lower bound. The sparse graph overlays a few random disaggregations of that aggregated optimum; if
its optimum equals the bound, it is optimal for the full graph. Otherwise a denser sample, then the
full graph is solved, so the answer is always exact.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec
import numpy as np

from competition.jury.runs.solver.feasibility import FeasibilityReport, report
from competition.jury.runs.solver.network import (
    Flow,
    Method,
    Tiebreak,
    Tiers,
    all_pairs,
    band_tiers,
    deviation,
    solve_pairs,
    unit_tiers,
)
from competition.jury.runs.solver.problem import Instance, IntArray, Problem, prepare
from competition.jury.runs.solver.sparse import certified_flow, relaxation

Strategy = Literal["auto", "sparse", "full"]

# Below this many entry–juror pairs the whole graph solves faster than relaxation + certificate.
_AUTO_FULL_MAX_PAIRS: Final = 50_000


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    # Mismatched new pairs: the minimised expertise objective.
    total_cost: int
    # Over all pairs, kept and new.
    expertise_matches: int
    expertise_mismatches: int
    new_assignments: int
    kept_assignments: int
    load_min: int
    load_max: int
    # max − min over free jurors (see module docstring); <= 1 whenever `balanced`.
    load_spread_free: int
    load_sum_of_squares: int
    level: int
    balanced: bool
    conflicts_violated: int
    max_load_violations: int
    coverage_min: int
    coverage_max: int
    method: Method
    candidate_arcs: int


class Solution(msgspec.Struct, frozen=True, kw_only=True):
    # New (juror_id, entry_id) pairs only, sorted.
    assignments: tuple[tuple[str, str], ...]
    # (juror_id, final load incl. kept pairs), sorted by juror id.
    loads: tuple[tuple[str, int], ...]
    stats: Stats


class InfeasibleError(Exception):
    """The problem has no assignment satisfying the hard constraints; `report` says why."""

    def __init__(self, report: FeasibilityReport) -> None:
        kinds = sorted({type(finding).__name__ for finding in report.findings})
        super().__init__(f"no assignment satisfies the hard constraints: {', '.join(kinds)}")
        self.report = report


def _optimise(inst: Instance, tiers: Tiers, tiebreak: Tiebreak, strategy: Strategy) -> Flow | None:
    """Exact optimum for the given balance tiers, or None if no assignment exists."""
    if strategy == "auto":
        open_pairs = int(np.count_nonzero(inst.need)) * int(
            np.count_nonzero(inst.cap > inst.kept_load)
        )
        strategy = "full" if open_pairs <= _AUTO_FULL_MAX_PAIRS else "sparse"
    if strategy == "sparse":
        relaxed = relaxation(inst, tiers)
        if relaxed is None:
            return None  # the relaxation admits every real assignment
        flow = certified_flow(inst, tiers, tiebreak, relaxed)
        if flow is not None:
            return flow
    pair_e, pair_j = all_pairs(inst, tiebreak)
    return solve_pairs(inst, pair_e, pair_j, tiers=tiers, tiebreak=tiebreak, method="full")


def _stats(inst: Instance, flow: Flow | None) -> tuple[Stats, IntArray]:
    n, m, k = inst.n_entries, inst.n_jurors, inst.k
    new_e = flow.pair_e if flow is not None else np.zeros(0, dtype=np.int64)
    new_j = flow.pair_j if flow is not None else np.zeros(0, dtype=np.int64)
    all_e = np.concatenate([inst.kept_e, new_e])
    all_j = np.concatenate([inst.kept_j, new_j])
    cover = np.bincount(all_e, minlength=n)
    loads = np.bincount(all_j, minlength=m).astype(np.int64)
    codes = all_e * m + all_j
    duplicates = codes.size - np.unique(codes).size
    conflicts_violated = int(np.count_nonzero(np.isin(codes, inst.conflict_codes)))
    max_load_violations = int(np.count_nonzero(inst.limited & (loads > inst.max_load)))
    if (
        duplicates
        or conflicts_violated
        or max_load_violations
        or (n and (cover.min() != k or cover.max() != k))
    ):
        raise RuntimeError("assignment violates a hard constraint")  # a bug, never user input
    mismatched = ~inst.expert[inst.entry_cat[all_e], all_j] if all_e.size else np.zeros(0, bool)
    free = inst.band_lo == inst.level
    free_loads = loads[free]
    stats = Stats(
        total_cost=int(np.count_nonzero(mismatched[inst.kept_e.size :])),
        expertise_matches=int(mismatched.size - np.count_nonzero(mismatched)),
        expertise_mismatches=int(np.count_nonzero(mismatched)),
        new_assignments=int(new_e.size),
        kept_assignments=int(inst.kept_e.size),
        load_min=int(loads.min()) if m else 0,
        load_max=int(loads.max()) if m else 0,
        load_spread_free=int(free_loads.max() - free_loads.min()) if free_loads.size else 0,
        load_sum_of_squares=int((loads * loads).sum()),
        level=inst.level,
        balanced=deviation(inst, loads) == 0,
        conflicts_violated=conflicts_violated,
        max_load_violations=max_load_violations,
        coverage_min=int(cover.min()) if n else 0,
        coverage_max=int(cover.max()) if n else 0,
        method=flow.method if flow is not None else "none",
        candidate_arcs=flow.arcs if flow is not None else 0,
    )
    return stats, loads


def solve(problem: Problem, *, strategy: Strategy = "auto") -> Solution:
    """The optimal assignment (see the module docstring); raises `InfeasibleError` if none exists.

    `strategy` only changes how the optimum is found ("sparse": certified sparse graph with
    fallback, "full": every pair, "auto": by size), never its objective values.
    """
    inst = prepare(problem)
    tiebreak = Tiebreak(inst, problem.seed)
    screening = report(inst, with_flow=False, tiebreak=tiebreak)
    if not screening.feasible:
        raise InfeasibleError(report(inst, with_flow=True, tiebreak=tiebreak))
    flow: Flow | None = None
    if inst.missing > 0:
        flow = _optimise(inst, band_tiers(inst), tiebreak, strategy)
        if flow is None:
            raise InfeasibleError(report(inst, with_flow=True, tiebreak=tiebreak))
        loads = inst.kept_load + np.bincount(flow.pair_j, minlength=inst.n_jurors)
        if deviation(inst, loads) > 0:
            balanced = _optimise(inst, unit_tiers(inst, int(loads.max())), tiebreak, strategy)
            if balanced is None:
                raise RuntimeError("second pass lost feasibility")  # pass 1 is feasible for it
            flow = balanced
    stats, loads = _stats(inst, flow)
    pairs: list[tuple[str, str]] = []
    if flow is not None:
        pairs = [
            (inst.juror_ids[j], inst.entry_ids[e])
            for e, j in zip(flow.pair_e.tolist(), flow.pair_j.tolist(), strict=True)
        ]
    return Solution(
        assignments=tuple(sorted(pairs)),
        loads=tuple(zip(inst.juror_ids, (int(x) for x in loads.tolist()), strict=True)),
        stats=stats,
    )
