"""`competition seed-demo`: the demo competition, built through the domain services, idempotent."""

from __future__ import annotations

import asyncpg
import pytest

from competition.config import Settings
from competition.demo import seed
from tests.conftest import Outbox


@pytest.mark.usefixtures("worker")
async def test_seed_demo_builds_the_competition_once(
    pool: asyncpg.Pool, settings: Settings, outbox: Outbox
) -> None:
    first = await seed(settings)
    second = await seed(settings)
    assert first.splitlines()[0] == "Demo-Wettbewerb „Industrie. Neu. Denken. 2026“ angelegt."
    assert second.splitlines()[0] == "Demo-Wettbewerb „Industrie. Neu. Denken. 2026“ vorhanden."
    assert "organisation@demo.industrie-neu-denken.de" in second

    async with pool.acquire() as conn:
        competition = await conn.fetchrow(
            "SELECT id, phase, title FROM competition WHERE slug = 'industrie-neu-denken-2026'"
        )
        assert competition is not None
        categories = await conn.fetch(
            "SELECT name->>'de' AS de FROM category WHERE competition_id = $1 ORDER BY position",
            competition["id"],
        )
        weights = await conn.fetch(
            "SELECT key, weight FROM criterion WHERE competition_id = $1 ORDER BY position",
            competition["id"],
        )
        entries = await conn.fetchval("SELECT count(*) FROM entry")
    assert competition["phase"] == "open"
    assert competition["title"]["de"] == "Industrie. Neu. Denken. 2026"
    assert [c["de"] for c in categories] == [
        "Mobilität",
        "Digitalisierung",
        "Energie",
        "Kreislaufwirtschaft",
    ]
    assert [(w["key"], w["weight"]) for w in weights] == [
        ("innovation", 30.0),
        ("transformation", 25.0),
        ("wirtschaftlichkeit", 20.0),
        ("umsetzbarkeit", 15.0),
        ("nachhaltigkeit", 10.0),
    ]
    assert entries == 4
    drained = await outbox.drained()  # the worker has verified the uploaded demo PDFs
    assert drained.failed_events == []
    async with pool.acquire() as conn:
        statuses = [r["status"] for r in await conn.fetch("SELECT status FROM attachment")]
    assert statuses == ["verified"] * 4
