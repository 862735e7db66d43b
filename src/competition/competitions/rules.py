"""The ranking rules a competition declares, as data: the tie-break vocabulary and its checks.

One definition for the competition's schema (the pattern of a rule), its service (which checks a
chain when it is declared, on create and PATCH, from the API and the organiser's form) and the
aggregation that applies the chain (`results.aggregate`), so that a chain accepted at declaration
is a chain a result run can apply. Pure: no I/O.

A chain is a list of rules applied in order to entries whose scores tie:
``median``, ``raw_mean``, ``highest_weight_criterion``, ``top_marks``, ``n_reviews`` or
``criterion:<key>`` for a criterion of the competition. A rule may appear once: applying it a
second time cannot separate anything it did not separate the first time, so a repeat is a
mistake in the declaration, not a rule.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final, Literal

import msgspec

RULE_MEDIAN: Final = "median"
RULE_RAW_MEAN: Final = "raw_mean"
RULE_HIGHEST_WEIGHT: Final = "highest_weight_criterion"
RULE_TOP_MARKS: Final = "top_marks"
RULE_N_REVIEWS: Final = "n_reviews"
RULE_CRITERION_PREFIX: Final = "criterion:"
PLAIN_RULES: Final = (
    RULE_MEDIAN,
    RULE_RAW_MEAN,
    RULE_HIGHEST_WEIGHT,
    RULE_TOP_MARKS,
    RULE_N_REVIEWS,
)
DEFAULT_TIE_BREAK: Final = (RULE_MEDIAN, RULE_HIGHEST_WEIGHT, RULE_TOP_MARKS)
MAX_RULES: Final = 10

CRITERION_KEY_PATTERN: Final = r"[a-z][a-z0-9_]{0,62}"
RULE_PATTERN: Final = (
    "^(" + "|".join(PLAIN_RULES) + "|" + RULE_CRITERION_PREFIX + CRITERION_KEY_PATTERN + ")"
)

ProblemKind = Literal["unknown_rule", "unknown_criterion", "repeated"]


class TieBreakProblem(msgspec.Struct, frozen=True, kw_only=True):
    """What is wrong with the rule at `index` of a chain."""

    index: int
    rule: str
    kind: ProblemKind


def tie_break_problems(
    rules: Sequence[str], criterion_keys: Collection[str]
) -> list[TieBreakProblem]:
    """Every problem of a chain for a competition with these criteria, in chain order; empty
    when the aggregation can apply it."""
    problems: list[TieBreakProblem] = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        kind: ProblemKind | None = None
        if rule in seen:
            kind = "repeated"
        elif rule.startswith(RULE_CRITERION_PREFIX):
            if rule[len(RULE_CRITERION_PREFIX) :] not in criterion_keys:
                kind = "unknown_criterion"
        elif rule not in PLAIN_RULES:
            kind = "unknown_rule"
        seen.add(rule)
        if kind is not None:
            problems.append(TieBreakProblem(index=index, rule=rule, kind=kind))
    return problems
