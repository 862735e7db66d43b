"""The assignment problem as the solver sees it: the input types, and the same problem as index
arrays (`Instance`) with the balanced band every juror's load should fall in.

Pure and I/O-free. The band follows from the *water level* (see `assignment`'s docstring): the
largest integer ``t`` with ``sum_j clip(t, e_j, c_j) <= D``, where ``e_j`` is juror j's kept load,
``c_j`` its capacity and ``D`` all reviews incl. kept ones.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


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


class Instance(msgspec.Struct, frozen=True, kw_only=True):
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


def codes_to_pairs(codes: IntArray, n_jurors: int) -> tuple[IntArray, IntArray]:
    """(entry, juror) index arrays of pair codes ``e * n_jurors + j``."""
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


def prepare(problem: Problem) -> Instance:
    """The problem as index arrays with capacities and the band; ValueError for input no
    assignment can be made of (duplicate ids, kept pairs of unknown jurors or entries)."""
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
    forbidden_e, forbidden_j = codes_to_pairs(forbidden_codes, max(m, 1))
    open_forbidden = need[forbidden_e] > 0
    blocked = np.bincount(forbidden_j[open_forbidden], minlength=m)
    open_slots = int(np.count_nonzero(need)) - blocked
    remaining = np.maximum(max_load - kept_load, 0)
    cap = kept_load + np.minimum(remaining, open_slots)

    total = int(kept_load.sum()) + int(need.sum())
    level = _water_level(kept_load, cap, total)
    return Instance(
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
