"""Reviewer assignment as an exact min-cost flow: pure, I/O-free, and free of wording.

`assignment` states the objective and solves; `problem`, `network`, `sparse` and `feasibility`
hold its parts (see each module). The names a caller needs are handed on here.
"""

from competition.jury.runs.solver.assignment import (
    InfeasibleError,
    Solution,
    Stats,
    Strategy,
    solve,
)
from competition.jury.runs.solver.feasibility import (
    CapacityShort,
    EntryOvercovered,
    EntryShort,
    FeasibilityReport,
    Finding,
    JurorOverMaxLoad,
    KeptConflict,
    ShortEntry,
    Unassignable,
    check_feasibility,
)
from competition.jury.runs.solver.problem import Entry, Juror, Problem

__all__ = [
    "CapacityShort",
    "Entry",
    "EntryOvercovered",
    "EntryShort",
    "FeasibilityReport",
    "Finding",
    "InfeasibleError",
    "Juror",
    "JurorOverMaxLoad",
    "KeptConflict",
    "Problem",
    "ShortEntry",
    "Solution",
    "Stats",
    "Strategy",
    "Unassignable",
    "check_feasibility",
    "solve",
]
