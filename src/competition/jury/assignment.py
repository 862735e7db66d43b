"""Reviewer assignment: which jurors review which entries, as an exact min-cost flow.

Pure and I/O-free; the worker job loads a `Problem`, calls `check_feasibility` / `solve` and
stores the `Solution`.

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

from typing import Annotated, Final, Literal

import msgspec
import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import max_flow, min_cost_flow

__all__ = [
    "Entry",
    "FeasibilityReport",
    "InfeasibleError",
    "Juror",
    "Problem",
    "ShortEntry",
    "Solution",
    "Stats",
    "Strategy",
    "check_feasibility",
    "solve",
]

Strategy = Literal["auto", "sparse", "full"]
Method = Literal["none", "sparse", "full"]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Rounds of random disaggregation overlaid in the sparse graph; each round gives every juror about
# as many candidate entries as the aggregated optimum wants it to review.
_SPARSE_ROUNDS: Final = (4, 16)
# Below this many entry–juror pairs the whole graph solves faster than relaxation + certificate.
_AUTO_FULL_MAX_PAIRS: Final = 50_000
# Keeps infeasibility reports readable; the structured fields carry every case.
_MAX_MESSAGES_PER_KIND: Final = 20


class Entry(msgspec.Struct, frozen=True):
    id: str
    category: str


class Juror(msgspec.Struct, frozen=True):
    id: str
    expertise: frozenset[str]
    max_load: Annotated[int, msgspec.Meta(ge=0)] | None = None


class Problem(msgspec.Struct, frozen=True):
    entries: tuple[Entry, ...]
    jurors: tuple[Juror, ...]
    reviews_per_entry: Annotated[int, msgspec.Meta(ge=1)]
    # (juror_id, entry_id) pairs that must never be assigned; ids not in this problem are ignored.
    conflicts: frozenset[tuple[str, str]]
    # (juror_id, entry_id) pairs deployed by earlier runs: kept, and counted towards k and loads.
    existing: frozenset[tuple[str, str]] = frozenset()
    seed: int = 0


class ShortEntry(msgspec.Struct, frozen=True):
    entry_id: str
    eligible_jurors: int
    needed: int


class FeasibilityReport(msgspec.Struct, frozen=True, kw_only=True):
    feasible: bool
    # All reviews incl. kept ones: len(entries) * reviews_per_entry.
    demand: int
    # Sum over jurors of max_load, each capped at len(entries) (and len(entries) if unlimited).
    capacity: int
    jurors_without_max_load: int
    kept: int
    # Reviews that can be placed at most (kept + a maximum flow of new ones).
    assignable: int
    entries_short: tuple[ShortEntry, ...]
    kept_conflicts: tuple[tuple[str, str], ...]
    entries_overcovered: tuple[str, ...]
    jurors_over_max_load: tuple[str, ...]
    messages: tuple[str, ...]


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
        super().__init__(" ".join(report.messages))
        self.report = report


class _Instance(msgspec.Struct, frozen=True, kw_only=True):
    """The problem as index arrays; entries and jurors sorted by id."""

    entry_ids: tuple[str, ...]
    juror_ids: tuple[str, ...]
    entry_cat: IntArray
    expert: BoolArray  # [category, juror]
    k: int
    max_load: IntArray  # min(max_load, #entries); #entries when unlimited
    limited: BoolArray  # juror has a max_load
    kept_e: IntArray
    kept_j: IntArray
    kept_load: IntArray
    kept_cover: IntArray
    need: IntArray  # missing reviews per entry
    conflict_codes: IntArray  # sorted e * M + j
    forbidden_codes: IntArray  # sorted e * M + j: conflicts and kept pairs
    cap: IntArray  # effective capacity c_j incl. kept load
    level: int
    band_lo: IntArray
    band_hi: IntArray

    @property
    def n_entries(self) -> int:
        return len(self.entry_ids)

    @property
    def n_jurors(self) -> int:
        return len(self.juror_ids)

    @property
    def missing(self) -> int:
        return int(self.need.sum())


class _Tiers(msgspec.Struct, frozen=True):
    """Parallel juror → sink arcs encoding the balance cost."""

    juror: IntArray
    capacity: IntArray
    cost: IntArray


class _Flow(msgspec.Struct, frozen=True):
    pair_e: IntArray
    pair_j: IntArray
    cost: int
    method: Method
    arcs: int


def _codes_to_pairs(codes: IntArray, n_jurors: int) -> tuple[IntArray, IntArray]:
    return codes // n_jurors, codes % n_jurors


def _water_level(floor: IntArray, cap: IntArray, total: int) -> int:
    """Largest t >= 0 with sum(clip(t, floor, cap)) <= total (0 if there are no jurors)."""

    def filled(t: int) -> int:
        return int(np.clip(t, floor, cap).sum())

    top = int(cap.max()) if cap.size else 0
    if filled(top) <= total:
        return top
    low = 0  # filled(0) == sum(floor) <= total, as kept reviews are part of the total
    while top - low > 1:
        mid = (low + top) // 2
        if filled(mid) <= total:
            low = mid
        else:
            top = mid
    return low


def _prepare(problem: Problem) -> _Instance:
    k = problem.reviews_per_entry
    if k < 1:
        raise ValueError("reviews_per_entry must be at least 1")
    entries = sorted(problem.entries, key=lambda entry: entry.id)
    jurors = sorted(problem.jurors, key=lambda juror: juror.id)
    entry_ids = tuple(entry.id for entry in entries)
    juror_ids = tuple(juror.id for juror in jurors)
    if len(set(entry_ids)) != len(entry_ids):
        raise ValueError("entry ids must be unique")
    if len(set(juror_ids)) != len(juror_ids):
        raise ValueError("juror ids must be unique")
    if any(juror.max_load is not None and juror.max_load < 0 for juror in jurors):
        raise ValueError("max_load must not be negative")
    n, m = len(entries), len(jurors)
    entry_index = {entry_id: i for i, entry_id in enumerate(entry_ids)}
    juror_index = {juror_id: j for j, juror_id in enumerate(juror_ids)}

    categories = sorted({entry.category for entry in entries})
    category_index = {category: c for c, category in enumerate(categories)}
    entry_cat = np.fromiter(
        (category_index[entry.category] for entry in entries), dtype=np.int64, count=n
    )
    expert = np.array(
        [[category in juror.expertise for juror in jurors] for category in categories],
        dtype=np.bool_,
    ).reshape(len(categories), m)
    limited = np.array([juror.max_load is not None for juror in jurors], dtype=np.bool_)
    max_load = np.array(
        [n if juror.max_load is None else min(juror.max_load, n) for juror in jurors],
        dtype=np.int64,
    )

    kept_pairs: list[tuple[int, int]] = []
    for juror_id, entry_id in sorted(problem.existing):
        if juror_id not in juror_index:
            raise ValueError(f"kept pair refers to unknown juror {juror_id!r}")
        if entry_id not in entry_index:
            raise ValueError(f"kept pair refers to unknown entry {entry_id!r}")
        kept_pairs.append((entry_index[entry_id], juror_index[juror_id]))
    kept = np.array(kept_pairs, dtype=np.int64).reshape(-1, 2)
    kept_e, kept_j = kept[:, 0].copy(), kept[:, 1].copy()

    conflict_list = [
        entry_index[entry_id] * m + juror_index[juror_id]
        for juror_id, entry_id in problem.conflicts
        if juror_id in juror_index and entry_id in entry_index
    ]
    conflict_codes = np.unique(np.array(conflict_list, dtype=np.int64))
    forbidden_codes = np.union1d(conflict_codes, kept_e * m + kept_j)

    kept_load = np.bincount(kept_j, minlength=m).astype(np.int64)
    kept_cover = np.bincount(kept_e, minlength=n).astype(np.int64)
    need = np.maximum(k - kept_cover, 0)

    # A juror can newly take at most the entries still missing reviews that it may review.
    forbidden_e, forbidden_j = _codes_to_pairs(forbidden_codes, max(m, 1))
    open_forbidden = need[forbidden_e] > 0
    blocked = np.bincount(forbidden_j[open_forbidden], minlength=m)
    open_slots = int(np.count_nonzero(need)) - blocked
    remaining = np.maximum(max_load - kept_load, 0)
    cap = kept_load + np.minimum(remaining, open_slots)

    total = int(kept_load.sum()) + int(need.sum())
    level = _water_level(kept_load, cap, total)
    return _Instance(
        entry_ids=entry_ids,
        juror_ids=juror_ids,
        entry_cat=entry_cat,
        expert=expert,
        k=k,
        max_load=max_load,
        limited=limited,
        kept_e=kept_e,
        kept_j=kept_j,
        kept_load=kept_load,
        kept_cover=kept_cover,
        need=need,
        conflict_codes=conflict_codes,
        forbidden_codes=forbidden_codes,
        cap=cap,
        level=level,
        band_lo=np.clip(level, kept_load, cap),
        band_hi=np.clip(level + 1, kept_load, cap),
    )


def _pair_cost(inst: _Instance, pair_e: IntArray, pair_j: IntArray) -> IntArray:
    return (~inst.expert[inst.entry_cat[pair_e], pair_j]).astype(np.int64)


def _weight(inst: _Instance) -> int:
    # Exceeds any possible mismatch total, so one unit of balance outweighs all expertise.
    return inst.missing + 1


def _band_tiers(inst: _Instance) -> _Tiers:
    weight = _weight(inst)
    m = inst.n_jurors
    jurors = np.arange(m, dtype=np.int64)
    juror = np.concatenate([jurors, jurors, jurors])
    capacity = np.concatenate(
        [inst.band_lo - inst.kept_load, inst.band_hi - inst.band_lo, inst.cap - inst.band_hi]
    )
    cost = np.repeat(np.array([-weight, 0, weight], dtype=np.int64), m)
    used = capacity > 0
    return _Tiers(juror[used], capacity[used], cost[used])


def _unit_tiers(inst: _Instance, top: int) -> _Tiers:
    units = np.maximum(np.minimum(inst.cap, top) - inst.kept_load, 0)
    juror = np.repeat(np.arange(inst.n_jurors, dtype=np.int64), units)
    starts = np.cumsum(units) - units
    load_after = inst.kept_load[juror] + 1 + (np.arange(juror.size) - starts[juror])
    return _Tiers(juror, np.ones(juror.size, dtype=np.int64), _weight(inst) * load_after)


def _deviation(inst: _Instance, loads: IntArray) -> int:
    below = np.maximum(inst.band_lo - loads, 0)
    above = np.maximum(loads - inst.band_hi, 0)
    return int(below.sum() + above.sum())


def _solved(solver: min_cost_flow.SimpleMinCostFlow) -> bool:
    """True if optimal, False if the supplies cannot all be routed; anything else is a bug."""
    status = solver.solve()
    if status == solver.INFEASIBLE:
        return False
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    return True


def _relaxation(inst: _Instance, tiers: _Tiers) -> tuple[int, IntArray] | None:
    """Optimum of the category-aggregated problem and its flow [category, juror]."""
    n_cat, m = inst.expert.shape
    open_entry = inst.need > 0
    demand = np.bincount(inst.entry_cat, weights=inst.need, minlength=n_cat).astype(np.int64)
    open_count = np.bincount(inst.entry_cat[open_entry], minlength=n_cat).astype(np.int64)
    forbidden_e, forbidden_j = _codes_to_pairs(inst.forbidden_codes, max(m, 1))
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
    if not _solved(solver):
        return None
    flows = np.asarray(solver.flows(arcs), dtype=np.int64).reshape(n_cat, m)
    return int(solver.optimal_cost()), flows


class _Tiebreak:
    """Seeded randomness: node labels for the solver and the sampling of the sparse graph.

    Arcs reach the solver sorted by node label (labels, not arc order, carry the randomness,
    because a shuffled arc list costs the solver its memory locality).
    """

    def __init__(self, inst: _Instance, seed: int) -> None:
        self.rng = np.random.default_rng(seed % (1 << 64))
        self.entry_order = self.rng.permutation(inst.n_entries).astype(np.int64)
        self.juror_order = self.rng.permutation(inst.n_jurors).astype(np.int64)
        self.entry_node = np.argsort(self.entry_order).astype(np.int64)
        self.juror_node = np.argsort(self.juror_order).astype(np.int64)


def _sampled_pairs(
    inst: _Instance, aggregated: IntArray, rounds: int, tiebreak: _Tiebreak
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


def _all_pairs(inst: _Instance, tiebreak: _Tiebreak) -> tuple[IntArray, IntArray]:
    """Every pair that may still be assigned, sorted by node label."""
    m = inst.n_jurors
    allowed = np.zeros((inst.n_entries, m), dtype=np.bool_)
    allowed[np.ix_(inst.need > 0, inst.cap > inst.kept_load)] = True
    forbidden_e, forbidden_j = _codes_to_pairs(inst.forbidden_codes, max(m, 1))
    allowed[forbidden_e, forbidden_j] = False
    rows, cols = np.nonzero(allowed[tiebreak.entry_order][:, tiebreak.juror_order])
    return tiebreak.entry_order[rows], tiebreak.juror_order[cols]


def _solve_pairs(
    inst: _Instance,
    pair_e: IntArray,
    pair_j: IntArray,
    *,
    tiers: _Tiers,
    tiebreak: _Tiebreak,
    method: Method,
) -> _Flow | None:
    n, m = inst.n_entries, inst.n_jurors
    solver = min_cost_flow.SimpleMinCostFlow()
    sink = n + m
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        tiebreak.entry_node[pair_e],
        n + tiebreak.juror_node[pair_j],
        np.ones(pair_e.size, dtype=np.int64),
        _pair_cost(inst, pair_e, pair_j),
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
    if not _solved(solver):
        return None
    chosen = np.asarray(solver.flows(arcs)) > 0
    return _Flow(
        pair_e[chosen], pair_j[chosen], int(solver.optimal_cost()), method, int(pair_e.size)
    )


def _optimise(
    inst: _Instance, tiers: _Tiers, tiebreak: _Tiebreak, strategy: Strategy
) -> _Flow | None:
    """Exact optimum for the given balance tiers, or None if no assignment exists."""
    if strategy == "auto":
        open_pairs = int(np.count_nonzero(inst.need)) * int(
            np.count_nonzero(inst.cap > inst.kept_load)
        )
        strategy = "full" if open_pairs <= _AUTO_FULL_MAX_PAIRS else "sparse"
    if strategy == "sparse":
        relaxed = _relaxation(inst, tiers)
        if relaxed is None:
            return None  # the relaxation admits every real assignment
        lower_bound, aggregated = relaxed
        for rounds in _SPARSE_ROUNDS:
            pair_e, pair_j = _sampled_pairs(inst, aggregated, rounds, tiebreak)
            flow = _solve_pairs(
                inst, pair_e, pair_j, tiers=tiers, tiebreak=tiebreak, method="sparse"
            )
            if flow is not None and flow.cost == lower_bound:
                return flow
    pair_e, pair_j = _all_pairs(inst, tiebreak)
    return _solve_pairs(inst, pair_e, pair_j, tiers=tiers, tiebreak=tiebreak, method="full")


def _max_new_reviews(inst: _Instance, pair_e: IntArray, pair_j: IntArray) -> int:
    n, m = inst.n_entries, inst.n_jurors
    source, sink = n + m, n + m + 1
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(np.full(n, source), np.arange(n), inst.need)
    solver.add_arcs_with_capacity(pair_e, n + pair_j, np.ones(pair_e.size, dtype=np.int64))
    solver.add_arcs_with_capacity(np.arange(n, n + m), np.full(m, sink), inst.cap - inst.kept_load)
    if solver.solve(source, sink) != solver.OPTIMAL:
        raise RuntimeError("maximum flow failed")
    return int(solver.optimal_flow())


def _members(count: int, adjective: str = "") -> str:
    """German count phrase: "1 zulässiges Jurymitglied", "2 zulässige Jurymitglieder"."""
    if count == 1:
        return f"1 {adjective}es Jurymitglied" if adjective else "1 Jurymitglied"
    return f"{count} {adjective}e Jurymitglieder" if adjective else f"{count} Jurymitglieder"


def _limited_list(lines: list[str], total: int) -> list[str]:
    if total > len(lines):
        return [*lines, f"… und {total - len(lines)} weitere."]
    return lines


def _report(inst: _Instance, *, with_flow: bool, tiebreak: _Tiebreak) -> FeasibilityReport:
    n, m, k = inst.n_entries, inst.n_jurors, inst.k
    demand = n * k
    capacity = int(inst.max_load.sum())
    kept = int(inst.kept_e.size)
    unlimited = int(np.count_nonzero(~inst.limited))
    summary = f"Bedarf {demand} Gutachten, Kapazität {capacity}"
    if unlimited:
        # Explains a capacity that counts every entry for each juror without a limit.
        summary += f"; {_members(unlimited)} ohne Höchstlast"
    messages = [f"{summary}."]
    if demand > capacity:
        messages.append(
            f"Die Kapazität der Jury reicht nicht: es fehlen {demand - capacity} Gutachten."
        )

    kept_codes = inst.kept_e * m + inst.kept_j
    bad_kept = np.isin(kept_codes, inst.conflict_codes)
    kept_conflicts = tuple(
        sorted(
            (inst.juror_ids[j], inst.entry_ids[e])
            for e, j in zip(
                inst.kept_e[bad_kept].tolist(), inst.kept_j[bad_kept].tolist(), strict=True
            )
        )
    )
    messages.extend(
        _limited_list(
            [
                f"Bestehende Zuordnung {juror} → {entry} verletzt einen Interessenkonflikt."
                for juror, entry in kept_conflicts[:_MAX_MESSAGES_PER_KIND]
            ],
            len(kept_conflicts),
        )
    )

    over = np.flatnonzero(inst.kept_cover > k)
    overcovered = tuple(inst.entry_ids[e] for e in over.tolist())
    messages.extend(
        _limited_list(
            [
                f"Einreichung {inst.entry_ids[e]} hat bereits {inst.kept_cover[e]} Gutachten, "
                f"vorgesehen sind {k}."
                for e in over[:_MAX_MESSAGES_PER_KIND].tolist()
            ],
            len(overcovered),
        )
    )

    overloaded = np.flatnonzero(inst.limited & (inst.kept_load > inst.max_load))
    over_max_load = tuple(inst.juror_ids[j] for j in overloaded.tolist())
    messages.extend(
        _limited_list(
            [
                f"Jurymitglied {inst.juror_ids[j]} hat bereits {inst.kept_load[j]} Zuordnungen, "
                f"Höchstlast {inst.max_load[j]}."
                for j in overloaded[:_MAX_MESSAGES_PER_KIND].tolist()
            ],
            len(over_max_load),
        )
    )

    # Eligible = may review the entry (no conflict, not already on it) and has room left.
    has_room = inst.kept_load < inst.max_load
    forbidden_e, forbidden_j = _codes_to_pairs(inst.forbidden_codes, max(m, 1))
    blocked = np.bincount(forbidden_e[has_room[forbidden_j]], minlength=n)
    eligible = int(np.count_nonzero(has_room)) - blocked
    short = np.flatnonzero(eligible < inst.need)
    entries_short = tuple(
        ShortEntry(inst.entry_ids[e], int(eligible[e]), int(inst.need[e])) for e in short.tolist()
    )
    messages.extend(
        _limited_list(
            [
                f"Einreichung {item.entry_id}: {_members(item.eligible_jurors, 'zulässig')}, "
                f"benötigt {item.needed}."
                for item in entries_short[:_MAX_MESSAGES_PER_KIND]
            ],
            len(entries_short),
        )
    )

    flow = inst.missing
    if with_flow and inst.missing > 0:
        flow = -1
        if len(messages) == 1:
            relaxed = _relaxation(inst, _band_tiers(inst))
            if relaxed is not None:
                pair_e, pair_j = _sampled_pairs(inst, relaxed[1], _SPARSE_ROUNDS[0], tiebreak)
                flow = _max_new_reviews(inst, pair_e, pair_j)
        if flow < inst.missing:
            flow = _max_new_reviews(inst, *_all_pairs(inst, tiebreak))
    assignable = kept + flow
    if assignable < kept + inst.missing:
        messages.append(
            f"Nur {assignable} von {kept + inst.missing} Gutachten "
            f"{'lässt' if assignable == 1 else 'lassen'} sich unter Interessenkonflikten und "
            "Höchstlasten zuordnen."
        )
    return FeasibilityReport(
        feasible=len(messages) == 1,
        demand=demand,
        capacity=capacity,
        jurors_without_max_load=unlimited,
        kept=kept,
        assignable=assignable,
        entries_short=entries_short,
        kept_conflicts=kept_conflicts,
        entries_overcovered=overcovered,
        jurors_over_max_load=over_max_load,
        messages=tuple(messages),
    )


def check_feasibility(problem: Problem) -> FeasibilityReport:
    """Whether `solve` will succeed, with demand, capacity and every reason it would not.

    Exact: a maximum flow decides whether all missing reviews can be placed.
    """
    inst = _prepare(problem)
    return _report(inst, with_flow=True, tiebreak=_Tiebreak(inst, problem.seed))


def _stats(inst: _Instance, flow: _Flow | None) -> tuple[Stats, IntArray]:
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
        balanced=_deviation(inst, loads) == 0,
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
    inst = _prepare(problem)
    tiebreak = _Tiebreak(inst, problem.seed)
    screening = _report(inst, with_flow=False, tiebreak=tiebreak)
    if not screening.feasible:
        raise InfeasibleError(_report(inst, with_flow=True, tiebreak=tiebreak))
    flow: _Flow | None = None
    if inst.missing > 0:
        flow = _optimise(inst, _band_tiers(inst), tiebreak, strategy)
        if flow is None:
            raise InfeasibleError(_report(inst, with_flow=True, tiebreak=tiebreak))
        loads = inst.kept_load + np.bincount(flow.pair_j, minlength=inst.n_jurors)
        if _deviation(inst, loads) > 0:
            balanced = _optimise(inst, _unit_tiers(inst, int(loads.max())), tiebreak, strategy)
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
