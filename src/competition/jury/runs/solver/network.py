"""The flow network the assignment is solved on, and the full strategy (every allowed pair).

Pure and I/O-free. Taylor's transportation model ("On the optimal assignment of conference papers
to reviewers", 2008): source → entry (supply = missing reviews) → juror (capacity 1, cost =
expertise mismatch) → sink, with the balance as a separable convex cost on the juror → sink arcs,
written as parallel arcs of increasing cost (Ahuja, Magnanti & Orlin, *Network Flows*, 1993,
§14.3). Solved with OR-Tools' cost-scaling `SimpleMinCostFlow` (Goldberg, J. Algorithms 22, 1997);
`max_new_reviews` is the maximum flow the feasibility report needs.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from competition.jury.runs.solver.problem import Instance, IntArray, codes_to_pairs

Method = Literal["none", "sparse", "full"]


class Tiers(msgspec.Struct, frozen=True):
    """Parallel juror → sink arcs encoding the balance cost."""

    juror: IntArray
    capacity: IntArray
    cost: IntArray


class Flow(msgspec.Struct, frozen=True):
    pair_e: IntArray
    pair_j: IntArray
    cost: int
    method: Method
    arcs: int


def pair_cost(inst: Instance, pair_e: IntArray, pair_j: IntArray) -> IntArray:
    return (~inst.expert[inst.entry_cat[pair_e], pair_j]).astype(np.int64)


def _weight(inst: Instance) -> int:
    # Exceeds any possible mismatch total, so one unit of balance outweighs all expertise.
    return inst.missing + 1


def band_tiers(inst: Instance) -> Tiers:
    """Pass 1: ``-P`` per unit up to the band's lower end, ``0`` inside the band, ``+P`` above."""
    weight = _weight(inst)
    m = inst.n_jurors
    jurors = np.arange(m, dtype=np.int64)
    juror = np.concatenate([jurors, jurors, jurors])
    capacity = np.concatenate(
        [inst.band_lo - inst.kept_load, inst.band_hi - inst.band_lo, inst.cap - inst.band_hi]
    )
    cost = np.repeat(np.array([-weight, 0, weight], dtype=np.int64), m)
    used = capacity > 0
    return Tiers(juror[used], capacity[used], cost[used])


def unit_tiers(inst: Instance, top: int) -> Tiers:
    """Pass 2: unit i of a juror's load costs ``P * i``, for loads up to `top`."""
    units = np.maximum(np.minimum(inst.cap, top) - inst.kept_load, 0)
    juror = np.repeat(np.arange(inst.n_jurors, dtype=np.int64), units)
    starts = np.cumsum(units) - units
    load_after = inst.kept_load[juror] + 1 + (np.arange(juror.size) - starts[juror])
    return Tiers(juror, np.ones(juror.size, dtype=np.int64), _weight(inst) * load_after)


def deviation(inst: Instance, loads: IntArray) -> int:
    """How far the loads lie outside the balanced band, summed over jurors."""
    below = np.maximum(inst.band_lo - loads, 0)
    above = np.maximum(loads - inst.band_hi, 0)
    return int(below.sum() + above.sum())


def solved(solver: min_cost_flow.SimpleMinCostFlow) -> bool:
    """True if optimal, False if the supplies cannot all be routed; anything else is a bug."""
    status = solver.solve()
    if status == solver.INFEASIBLE:
        return False
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    return True


class Tiebreak:
    """Seeded randomness: node labels for the solver and the sampling of the sparse graph.

    Arcs reach the solver sorted by node label (labels, not arc order, carry the randomness,
    because a shuffled arc list costs the solver its memory locality).
    """

    def __init__(self, inst: Instance, seed: int) -> None:
        self.rng = np.random.default_rng(seed % (1 << 64))
        self.entry_order = self.rng.permutation(inst.n_entries).astype(np.int64)
        self.juror_order = self.rng.permutation(inst.n_jurors).astype(np.int64)
        self.entry_node = np.argsort(self.entry_order).astype(np.int64)
        self.juror_node = np.argsort(self.juror_order).astype(np.int64)


def all_pairs(inst: Instance, tiebreak: Tiebreak) -> tuple[IntArray, IntArray]:
    """Every pair that may still be assigned, sorted by node label."""
    m = inst.n_jurors
    allowed = np.zeros((inst.n_entries, m), dtype=np.bool_)
    allowed[np.ix_(inst.need > 0, inst.cap > inst.kept_load)] = True
    forbidden_e, forbidden_j = codes_to_pairs(inst.forbidden_codes, max(m, 1))
    allowed[forbidden_e, forbidden_j] = False
    rows, cols = np.nonzero(allowed[tiebreak.entry_order][:, tiebreak.juror_order])
    return tiebreak.entry_order[rows], tiebreak.juror_order[cols]


def solve_pairs(
    inst: Instance,
    pair_e: IntArray,
    pair_j: IntArray,
    *,
    tiers: Tiers,
    tiebreak: Tiebreak,
    method: Method,
) -> Flow | None:
    """The min-cost flow over the given entry–juror pairs; None if they cannot place every
    missing review."""
    n, m = inst.n_entries, inst.n_jurors
    solver = min_cost_flow.SimpleMinCostFlow()
    sink = n + m
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        tiebreak.entry_node[pair_e],
        n + tiebreak.juror_node[pair_j],
        np.ones(pair_e.size, dtype=np.int64),
        pair_cost(inst, pair_e, pair_j),
    )
    solver.add_arcs_with_capacity_and_unit_cost(
        n + tiebreak.juror_node[tiers.juror],
        np.full(tiers.juror.size, sink),
        tiers.capacity,
        tiers.cost,
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[tiebreak.entry_node] = inst.need
    supplies[sink] = -inst.missing
    solver.set_nodes_supplies(np.arange(sink + 1), supplies)
    if not solved(solver):
        return None
    chosen = np.asarray(solver.flows(arcs)) > 0
    return Flow(
        pair_e[chosen], pair_j[chosen], int(solver.optimal_cost()), method, int(pair_e.size)
    )


def max_new_reviews(inst: Instance, pair_e: IntArray, pair_j: IntArray) -> int:
    """The most missing reviews the given pairs can place (a maximum flow)."""
    n, m = inst.n_entries, inst.n_jurors
    source, sink = n + m, n + m + 1
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(np.full(n, source), np.arange(n), inst.need)
    solver.add_arcs_with_capacity(pair_e, n + pair_j, np.ones(pair_e.size, dtype=np.int64))
    solver.add_arcs_with_capacity(np.arange(n, n + m), np.full(m, sink), inst.cap - inst.kept_load)
    if solver.solve(source, sink) != solver.OPTIMAL:
        raise RuntimeError("maximum flow failed")
    return int(solver.optimal_flow())
