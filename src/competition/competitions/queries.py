"""SQL of competitions, their categories, criteria and organisers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from competition.structs import Row
from competition.vocabulary import Phase


class CompetitionRow(Row, frozen=True):
    id: uuid.UUID
    slug: str
    title: dict[str, str]
    description: dict[str, str]
    phase: Phase
    submission_opens_at: datetime
    submission_closes_at: datetime
    submissions_open: bool
    auto_open: bool
    reviews_per_entry: int
    blind_judging: bool
    eligible_districts: list[str]
    tie_break: list[str]
    max_file_bytes: int
    max_entry_bytes: int
    max_attachments: int
    version: int
    created_at: datetime
    updated_at: datetime


class CategoryRow(Row, frozen=True):
    id: uuid.UUID
    slug: str
    name: dict[str, str]


class CriterionRow(Row, frozen=True):
    id: uuid.UUID
    key: str
    name: dict[str, str]
    weight: float
    min_score: float
    max_score: float


# `submissions_open` is decided by the database's statement clock, never by an application
# server's clock or the transaction's start.
_COMPETITION = """
    c.id, c.slug, c.title, c.description, c.phase, c.submission_opens_at, c.submission_closes_at,
    (c.phase = 'open' AND clock_timestamp() < c.submission_closes_at) AS submissions_open,
    c.auto_open, c.reviews_per_entry, c.blind_judging, c.eligible_districts, c.tie_break,
    c.max_file_bytes, c.max_entry_bytes, c.max_attachments, c.version, c.created_at, c.updated_at
"""


def _competition(record: asyncpg.Record | None) -> CompetitionRow | None:
    return CompetitionRow(**dict(record)) if record else None


async def insert_competition(
    conn: asyncpg.Connection, *, values: dict[str, Any]
) -> uuid.UUID | None:
    """Insert; None when the slug is taken."""
    competition_id: uuid.UUID | None = await conn.fetchval(
        """
        INSERT INTO competition (slug, title, description, submission_opens_at,
            submission_closes_at, auto_open, reviews_per_entry, blind_judging, eligible_districts,
            tie_break, max_file_bytes, max_entry_bytes, max_attachments, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (slug) DO NOTHING
        RETURNING id
        """,
        values["slug"],
        values["title"],
        values["description"],
        values["submission_opens_at"],
        values["submission_closes_at"],
        values["auto_open"],
        values["reviews_per_entry"],
        values["blind_judging"],
        values["eligible_districts"],
        values["tie_break"],
        values["max_file_bytes"],
        values["max_entry_bytes"],
        values["max_attachments"],
        values["created_by"],
    )
    return competition_id


_UPDATABLE = (
    "title",
    "description",
    "submission_opens_at",
    "submission_closes_at",
    "auto_open",
    "reviews_per_entry",
    "blind_judging",
    "eligible_districts",
    "tie_break",
    "max_file_bytes",
    "max_entry_bytes",
    "max_attachments",
)


async def update_competition(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    columns = [c for c in _UPDATABLE if c in changes]
    if not columns:
        return
    # Column names come from the fixed tuple above, values are bound parameters.
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    await conn.execute(
        f"""UPDATE competition SET {assignments}, version = version + 1, updated_at = now()
            WHERE id = $1""",
        competition_id,
        *(changes[c] for c in columns),
    )


async def bump_version(conn: asyncpg.Connection, *, competition_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE competition SET version = version + 1 WHERE id = $1",
        competition_id,
    )


async def replace_categories(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    categories: list[tuple[str, dict[str, str]]],
) -> None:
    await conn.execute("DELETE FROM category WHERE competition_id = $1", competition_id)
    await conn.executemany(
        "INSERT INTO category (competition_id, slug, name, position) VALUES ($1, $2, $3, $4)",
        [(competition_id, slug, name, i) for i, (slug, name) in enumerate(categories)],
    )


async def replace_criteria(
    conn: asyncpg.Connection,
    *,
    competition_id: uuid.UUID,
    criteria: list[tuple[str, dict[str, str], float, float, float]],
) -> None:
    await conn.execute("DELETE FROM criterion WHERE competition_id = $1", competition_id)
    await conn.executemany(
        """INSERT INTO criterion (competition_id, key, name, weight, min_score, max_score, position)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(competition_id, *c, i) for i, c in enumerate(criteria)],
    )


async def add_organiser(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    await conn.execute(
        """INSERT INTO competition_organiser (competition_id, account_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING""",
        competition_id,
        account_id,
    )


async def is_organiser(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, account_id: uuid.UUID
) -> bool:
    found: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM competition_organiser
                          WHERE competition_id = $1 AND account_id = $2)""",
        competition_id,
        account_id,
    )
    return found


async def get_competition(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, for_update: bool = False
) -> CompetitionRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return _competition(
        await conn.fetchrow(
            f"SELECT {_COMPETITION} FROM competition c WHERE c.id = $1{lock}", competition_id
        )
    )


async def get_competition_with_criteria(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> tuple[CompetitionRow, list[CriterionRow]] | None:
    """The competition and its criteria (in order) in one round trip, for hot paths that need
    both, such as saving a score sheet."""
    record = await conn.fetchrow(
        f"""SELECT {_COMPETITION},
                   (SELECT coalesce(json_agg(json_build_object(
                               'id', k.id, 'key', k.key, 'name', k.name, 'weight', k.weight,
                               'min_score', k.min_score, 'max_score', k.max_score)
                           ORDER BY k.position), '[]')
                    FROM criterion k WHERE k.competition_id = c.id) AS criteria
            FROM competition c WHERE c.id = $1""",
        competition_id,
    )
    if record is None:
        return None
    data = dict(record)
    criteria = msgspec.convert(data.pop("criteria"), list[CriterionRow])
    return CompetitionRow(**data), criteria


async def get_competition_by_slug(conn: asyncpg.Connection, *, slug: str) -> CompetitionRow | None:
    return _competition(
        await conn.fetchrow(f"SELECT {_COMPETITION} FROM competition c WHERE c.slug = $1", slug)
    )


async def list_visible(
    conn: asyncpg.Connection, *, account_id: uuid.UUID | None
) -> list[CompetitionRow]:
    rows = await conn.fetch(
        f"""
        SELECT {_COMPETITION} FROM competition c
        WHERE c.phase <> 'draft'
           OR EXISTS (SELECT 1 FROM competition_organiser o
                      WHERE o.competition_id = c.id AND o.account_id = $1)
        ORDER BY c.submission_closes_at DESC, c.slug
        """,
        account_id,
    )
    return [CompetitionRow(**dict(r)) for r in rows]


async def list_categories(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[CategoryRow]:
    rows = await conn.fetch(
        "SELECT id, slug, name FROM category WHERE competition_id = $1 ORDER BY position",
        competition_id,
    )
    return [CategoryRow(**dict(r)) for r in rows]


async def list_criteria(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[CriterionRow]:
    rows = await conn.fetch(
        """SELECT id, key, name, weight, min_score, max_score FROM criterion
           WHERE competition_id = $1 ORDER BY position""",
        competition_id,
    )
    return [CriterionRow(**dict(r)) for r in rows]


async def set_phase(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, phase: str, from_phase: str
) -> bool:
    """Guarded transition: only from the phase the caller saw."""
    result: str = await conn.execute(
        """UPDATE competition SET phase = $2, version = version + 1, updated_at = now()
           WHERE id = $1 AND phase = $3""",
        competition_id,
        phase,
        from_phase,
    )
    return result.endswith(" 1")


async def set_published(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID, run_id: uuid.UUID, from_phase: str
) -> datetime | None:
    """Guarded like `set_phase`, with the published run; the moment, or None when the phase
    was no longer the one the caller saw."""
    published_at: datetime | None = await conn.fetchval(
        """UPDATE competition SET phase = 'published', published_at = now(),
                  published_run_id = $2, version = version + 1, updated_at = now()
           WHERE id = $1 AND phase = $3
           RETURNING published_at""",
        competition_id,
        run_id,
        from_phase,
    )
    return published_at


async def due_transitions(conn: asyncpg.Connection) -> list[tuple[uuid.UUID, str, str]]:
    """(id, from, to) of transitions the clock has made due: scheduled openings and deadlines."""
    rows = await conn.fetch(
        """
        SELECT id, phase AS from_phase,
               CASE WHEN phase = 'draft' THEN 'open' ELSE 'closed' END AS to_phase
        FROM competition
        WHERE (phase = 'draft' AND auto_open AND submission_opens_at <= now()
               AND submission_closes_at > now())
           OR (phase = 'open' AND submission_closes_at <= now())
        FOR UPDATE SKIP LOCKED
        """
    )
    return [(r["id"], r["from_phase"], r["to_phase"]) for r in rows]


async def entry_counts(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT cat.slug AS category, e.status, count(e.id) AS n
        FROM category cat LEFT JOIN entry e ON e.category_id = cat.id
        WHERE cat.competition_id = $1
        GROUP BY cat.slug, cat.position, e.status
        ORDER BY cat.position
        """,
        competition_id,
    )
