"""The certified sparse strategy for large instances: solve on a few sampled pairs, and prove the
result optimal for the full graph.

Pure and I/O-free. The costs depend only on (category, juror), so the *aggregated* problem "how
many entries of category c does juror j review" (capacity = entries of c that j may review) is a
relaxation whose optimum is a lower bound. The sparse graph overlays a few random
disaggregations of that aggregated optimum; if its optimum equals the bound, it is optimal for the
full graph (a 10,000 × 500 instance then needs a few arcs per review instead of every pair).
Otherwise the caller solves a denser sample, then the full graph, so the answer is always exact.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from ortools.graph.python import min_cost_flow

from competition.jury.runs.solver.network import Flow, Tiebreak, Tiers, solve_pairs, solved
from competition.jury.runs.solver.problem import Instance, IntArray, codes_to_pairs

# Rounds of random disaggregation overlaid in the sparse graph; each round gives every juror about
# as many candidate entries as the aggregated optimum wants it to review.
SPARSE_ROUNDS: Final = (4, 16)


def relaxation(inst: Instance, tiers: Tiers) -> tuple[int, IntArray] | None:
    """Optimum of the category-aggregated problem and its flow [category, juror]."""
    n_cat, m = inst.expert.shape
    open_entry = inst.need > 0
    demand = np.bincount(inst.entry_cat, weights=inst.need, minlength=n_cat).astype(np.int64)
    open_count = np.bincount(inst.entry_cat[open_entry], minlength=n_cat).astype(np.int64)
    forbidden_e, forbidden_j = codes_to_pairs(inst.forbidden_codes, max(m, 1))
    live = open_entry[forbidden_e]
    blocked = np.bincount(
        inst.entry_cat[forbidden_e[live]] * m + forbidden_j[live], minlength=n_cat * m
    ).reshape(n_cat, m)
    allowed = open_count[:, None] - blocked

    solver = min_cost_flow.SimpleMinCostFlow()
    sink = n_cat + m
    cat_idx = np.repeat(np.arange(n_cat, dtype=np.int64), m)
    jur_idx = np.tile(np.arange(m, dtype=np.int64), n_cat)
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        cat_idx, n_cat + jur_idx, allowed.ravel(), (~inst.expert).ravel().astype(np.int64)
    )
    solver.add_arcs_with_capacity_and_unit_cost(
        n_cat + tiers.juror, np.full(tiers.juror.size, sink), tiers.capacity, tiers.cost
    )
    supplies = np.concatenate([demand, np.zeros(m, dtype=np.int64), [-inst.missing]])
    solver.set_nodes_supplies(np.arange(sink + 1), supplies)
    if not solved(solver):
        return None
    flows = np.asarray(solver.flows(arcs), dtype=np.int64).reshape(n_cat, m)
    return int(solver.optimal_cost()), flows


def sampled_pairs(
    inst: Instance, aggregated: IntArray, rounds: int, tiebreak: Tiebreak
) -> tuple[IntArray, IntArray]:
    """A few random disaggregations of the aggregated flow, overlaid, sorted by node label."""
    m = inst.n_jurors
    chunks: list[IntArray] = []
    for category in range(aggregated.shape[0]):
        entries = np.flatnonzero((inst.entry_cat == category) & (inst.need > 0))
        entry_slots = tiebreak.entry_node[np.repeat(entries, inst.need[entries])]
        juror_slots = tiebreak.juror_node[
            np.repeat(np.arange(m, dtype=np.int64), aggregated[category])
        ]
        chunks.extend(
            entry_slots * m + tiebreak.rng.permutation(juror_slots) for _ in range(rounds)
        )
    labels = np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)
    pair_e = tiebreak.entry_order[labels // max(m, 1)]
    pair_j = tiebreak.juror_order[labels % max(m, 1)]
    allowed = ~np.isin(pair_e * m + pair_j, inst.forbidden_codes)
    return pair_e[allowed], pair_j[allowed]


def certified_flow(
    inst: Instance, tiers: Tiers, tiebreak: Tiebreak, relaxed: tuple[int, IntArray]
) -> Flow | None:
    """The optimum on a sampled sparse graph whose cost meets the relaxation's bound, from
    `relaxation(inst, tiers)`; None when no sample reaches it (then only the full graph can)."""
    lower_bound, aggregated = relaxed
    for rounds in SPARSE_ROUNDS:
        pair_e, pair_j = sampled_pairs(inst, aggregated, rounds, tiebreak)
        flow = solve_pairs(inst, pair_e, pair_j, tiers=tiers, tiebreak=tiebreak, method="sparse")
        if flow is not None and flow.cost == lower_bound:
            return flow
    return None
