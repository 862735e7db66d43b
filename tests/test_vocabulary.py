"""Every vocabulary of competition.vocabulary is exactly what the database's CHECK constraint of
each column that stores it allows: a value added on one side only fails here."""

from __future__ import annotations

import re

import asyncpg
import pytest

from competition import vocabulary as v
from competition.competitions.phases import PHASE_NAMES
from competition.web.labels import LABELS

COLUMNS: list[tuple[object, str, str]] = [
    (v.Locale, "account", "locale"),
    (v.Locale, "email", "locale"),
    (v.Phase, "competition", "phase"),
    (v.CompanyRole, "company_member", "role"),
    (v.EntryStatus, "entry", "status"),
    (v.AttachmentStatus, "attachment", "status"),
    (v.MailStatus, "email", "status"),
    (v.JurorStatus, "juror", "status"),
    (v.ConflictType, "conflict", "type"),
    (v.ConflictType, "conflict_declaration", "type"),
    (v.ConflictSource, "conflict", "source"),
    (v.DeclarationStatus, "conflict_declaration", "status"),
    (v.VoidReason, "assignment", "void_reason"),
    (v.AssignmentRunStatus, "assignment_run", "status"),
    (v.ResultRunStatus, "result_run", "status"),
    (v.SheetStatus, "score_sheet", "status"),
    (v.Method, "result_run", "method"),
]

_ALLOWED = re.compile(r"'([^']*)'::text")


async def allowed_values(pool: asyncpg.Pool, table: str, column: str) -> set[str]:
    """The values the column's one-column CHECK constraint lists (`col IN (…)`)."""
    definitions = await pool.fetch(
        """SELECT pg_get_constraintdef(c.oid) AS definition
           FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
           WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND a.attname = $2
             AND cardinality(c.conkey) = 1""",
        table,
        column,
    )
    assert len(definitions) == 1, (table, column, definitions)
    return set(_ALLOWED.findall(definitions[0]["definition"]))


@pytest.mark.parametrize(
    ("vocabulary", "table", "column"), COLUMNS, ids=[f"{t}.{c}" for _, t, c in COLUMNS]
)
async def test_vocabulary_matches_check_constraint(
    pool: asyncpg.Pool, vocabulary: object, table: str, column: str
) -> None:
    assert await allowed_values(pool, table, column) == set(v.values(vocabulary))


LABELLED: list[tuple[str, object]] = [
    ("entry", v.EntryStatus),
    ("attachment", v.AttachmentStatus),
    ("sheet", v.SheetState),
    ("juror", v.JurorStatus),
    ("run", v.AssignmentRunStatus),
    ("mail", v.MailStatus),
    ("conflict", v.ConflictType),
    ("void", v.VoidReason),
    ("method", v.Method),
    ("role", v.CompanyRole),
]


@pytest.mark.parametrize(("kind", "vocabulary"), LABELLED, ids=[k for k, _ in LABELLED])
def test_every_word_has_exactly_one_label(kind: str, vocabulary: object) -> None:
    assert set(LABELS[kind]) == set(v.values(vocabulary))


def test_every_phase_has_its_names() -> None:
    assert set(PHASE_NAMES) == set(v.values(v.Phase))
    assert all(set(names) == set(v.values(v.Locale)) for names in PHASE_NAMES.values())
