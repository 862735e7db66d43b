"""Whether an assignment exists, and every reason it does not, as typed findings.

Pure and I/O-free, and free of wording: a finding names its kind (msgspec's tag ``kind`` in the
stored and sent report) and carries the ids and numbers; the sentences organisers read are made
where the report is shown (`jury/runs/wording.py`). Screening by counting (capacity, kept pairs,
eligible jurors per entry) finds most reasons; a maximum flow then decides exactly how many
reviews can be placed (Ford & Fulkerson: an assignment exists iff the maximum flow from the
entries' missing reviews to the jurors' remaining capacity saturates the entries).
"""

from __future__ import annotations

import msgspec
import numpy as np

from competition.jury.runs.solver.network import (
    Tiebreak,
    all_pairs,
    band_tiers,
    max_new_reviews,
)
from competition.jury.runs.solver.problem import Instance, Problem, codes_to_pairs, prepare
from competition.jury.runs.solver.sparse import SPARSE_ROUNDS, relaxation, sampled_pairs


class ShortEntry(msgspec.Struct, frozen=True):
    entry_id: str
    eligible_jurors: int
    needed: int


class _Finding(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """One reason the problem has no solution; its `kind` is the struct's tag."""


class CapacityShort(_Finding, frozen=True, kw_only=True, tag="capacity_short"):
    """The jurors' capacity together is `missing` reviews short of the demand."""

    missing: int


class KeptConflict(_Finding, frozen=True, kw_only=True, tag="kept_conflict"):
    """A pair kept from an earlier run that a conflict now forbids."""

    juror_id: str
    entry_id: str


class EntryOvercovered(_Finding, frozen=True, kw_only=True, tag="entry_overcovered"):
    """An entry whose kept pairs already give it more reviews than it needs."""

    entry_id: str
    reviews: int
    needed: int


class JurorOverMaxLoad(_Finding, frozen=True, kw_only=True, tag="juror_over_max_load"):
    """A juror whose kept pairs already exceed their maximum load."""

    juror_id: str
    assignments: int
    max_load: int


class EntryShort(_Finding, frozen=True, kw_only=True, tag="entry_short"):
    """An entry with fewer eligible jurors (no conflict, not on it yet, room left) than the
    reviews it still needs."""

    entry_id: str
    eligible_jurors: int
    needed: int


class Unassignable(_Finding, frozen=True, kw_only=True, tag="unassignable"):
    """Only `assignable` of the `needed` reviews (kept ones included) can be placed under the
    conflicts and maximum loads (found by the maximum flow when no other finding explains it)."""

    assignable: int
    needed: int


Finding = (
    CapacityShort | KeptConflict | EntryOvercovered | JurorOverMaxLoad | EntryShort | Unassignable
)


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
    # Every reason there is no solution, grouped by kind in the order above; empty iff feasible.
    findings: tuple[Finding, ...]


def report(inst: Instance, *, with_flow: bool, tiebreak: Tiebreak) -> FeasibilityReport:
    """The report; without `with_flow` only the screening by counting (cheap, for `solve`)."""
    n, m, k = inst.n_entries, inst.n_jurors, inst.k
    demand = n * k
    capacity = int(inst.max_load.sum())
    kept = int(inst.kept_e.size)
    unlimited = int(np.count_nonzero(~inst.limited))
    findings: list[Finding] = []
    if demand > capacity:
        findings.append(CapacityShort(missing=demand - capacity))

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
    findings.extend(KeptConflict(juror_id=j, entry_id=e) for j, e in kept_conflicts)

    over = np.flatnonzero(inst.kept_cover > k)
    overcovered = tuple(inst.entry_ids[e] for e in over.tolist())
    findings.extend(
        EntryOvercovered(entry_id=inst.entry_ids[e], reviews=int(inst.kept_cover[e]), needed=k)
        for e in over.tolist()
    )

    overloaded = np.flatnonzero(inst.limited & (inst.kept_load > inst.max_load))
    over_max_load = tuple(inst.juror_ids[j] for j in overloaded.tolist())
    findings.extend(
        JurorOverMaxLoad(
            juror_id=inst.juror_ids[j],
            assignments=int(inst.kept_load[j]),
            max_load=int(inst.max_load[j]),
        )
        for j in overloaded.tolist()
    )

    # Eligible = may review the entry (no conflict, not already on it) and has room left.
    has_room = inst.kept_load < inst.max_load
    forbidden_e, forbidden_j = codes_to_pairs(inst.forbidden_codes, max(m, 1))
    blocked = np.bincount(forbidden_e[has_room[forbidden_j]], minlength=n)
    eligible = int(np.count_nonzero(has_room)) - blocked
    short = np.flatnonzero(eligible < inst.need)
    entries_short = tuple(
        ShortEntry(inst.entry_ids[e], int(eligible[e]), int(inst.need[e])) for e in short.tolist()
    )
    findings.extend(
        EntryShort(entry_id=item.entry_id, eligible_jurors=item.eligible_jurors, needed=item.needed)
        for item in entries_short
    )

    flow = inst.missing
    if with_flow and inst.missing > 0:
        flow = -1
        if not findings:
            relaxed = relaxation(inst, band_tiers(inst))
            if relaxed is not None:
                pair_e, pair_j = sampled_pairs(inst, relaxed[1], SPARSE_ROUNDS[0], tiebreak)
                flow = max_new_reviews(inst, pair_e, pair_j)
        if flow < inst.missing:
            flow = max_new_reviews(inst, *all_pairs(inst, tiebreak))
    assignable = kept + flow
    if assignable < kept + inst.missing:
        findings.append(Unassignable(assignable=assignable, needed=kept + inst.missing))
    return FeasibilityReport(
        feasible=not findings,
        demand=demand,
        capacity=capacity,
        jurors_without_max_load=unlimited,
        kept=kept,
        assignable=assignable,
        entries_short=entries_short,
        kept_conflicts=kept_conflicts,
        entries_overcovered=overcovered,
        jurors_over_max_load=over_max_load,
        findings=tuple(findings),
    )


def check_feasibility(problem: Problem) -> FeasibilityReport:
    """Whether `solve` will succeed, with demand, capacity and every reason it would not.

    Exact: a maximum flow decides whether all missing reviews can be placed.
    """
    inst = prepare(problem)
    return report(inst, with_flow=True, tiebreak=Tiebreak(inst, problem.seed))
