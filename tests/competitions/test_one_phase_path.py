"""Phases change only in the competitions domain: one guarded, evented and audited path."""

from __future__ import annotations

import re
from pathlib import Path

import competition

SOURCE = Path(competition.__file__).parent
UPDATE_COMPETITION = re.compile(r"UPDATE\s+competition\s+SET\s+(.*?)\s+WHERE", re.S | re.I)


def test_only_the_competitions_queries_write_a_phase() -> None:
    writers = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        for assignments in UPDATE_COMPETITION.findall(path.read_text(encoding="utf-8"))
        if re.search(r"\bphase\s*=", assignments)
    )
    assert writers == ["competitions/queries.py", "competitions/queries.py"]
