"""Phases of a competition: the transitions an organiser may make, drafts seen only by their
organisers, every change evented and audited, and the clock closing submissions at the deadline
on the database's time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.helpers import Session, account, competition_body, login, open_competition, poll


class Opened:
    organiser: Session
    entrant: Session
    competition: dict[str, Any]


@pytest.fixture
async def opened(
    client: httpx.AsyncClient, new_client: Callable[[], httpx.AsyncClient], pool: asyncpg.Pool
) -> Opened:
    """An open competition, its organiser and an entrant, each signed in."""
    w = Opened()
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    await account(pool, "anna@firma-a.example", "Anna")
    w.organiser = await login(new_client(), "orga@wettbewerb.test")
    w.competition = await open_competition(w.organiser)
    w.entrant = await login(client, "anna@firma-a.example")
    return w


async def test_phase_rules(opened: Opened, pool: asyncpg.Pool) -> None:
    w = opened
    cid = w.competition["id"]
    r = await w.organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    assert (r.status_code, r.json()["error"]) == (409, "illegal_transition")
    r = await w.organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "published"})
    assert (r.status_code, r.json()["error"]) == (409, "use_publish")
    r = await w.organiser.patch(
        f"/api/v1/competitions/{cid}",
        json={"categories": [{"slug": "neu", "name": {"de": "Neu", "en": "New"}}]},
    )
    assert (r.status_code, r.json()["error"]) == (409, "structure_frozen")
    r = await w.entrant.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    assert r.status_code == 403
    r = await w.organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    assert (r.status_code, r.json()["phase"]) == (200, "closed")

    # A draft is invisible to everyone but its organisers, including other organisers.
    r = await w.organiser.post("/api/v1/competitions", json=competition_body("geheim-2027"))
    draft = r.json()
    await account(pool, "andere@orga.test", "Andere", organiser=True)
    async with httpx.AsyncClient(
        transport=w.entrant.client._transport, base_url="http://testserver"
    ) as c:
        other = await login(c, "andere@orga.test")
        assert (await other.get(f"/api/v1/competitions/{draft['id']}")).status_code == 404
        r = await other.patch(f"/api/v1/competitions/{draft['id']}", json={"auto_open": True})
        assert r.status_code == 404
    assert (await w.entrant.get("/api/v1/competitions/geheim-2027")).status_code == 404
    slugs = [c["slug"] for c in (await w.entrant.get("/api/v1/competitions")).json()]
    assert slugs == ["ind-2026"]
    slugs = sorted(c["slug"] for c in (await w.organiser.get("/api/v1/competitions")).json())
    assert slugs == ["geheim-2027", "ind-2026"]

    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT kind, payload FROM event WHERE kind = 'competition.phase_changed'
               ORDER BY created_at"""
        )
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'competition.phase_changed'"
        )
    assert [(r["payload"]["from"], r["payload"]["to"]) for r in rows] == [
        ("draft", "open"),
        ("open", "closed"),
    ]
    assert audited == 2


@pytest.mark.usefixtures("worker")
async def test_clock_closes_submissions_at_the_deadline(opened: Opened, pool: asyncpg.Pool) -> None:
    w = opened
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    await w.organiser.patch(
        f"/api/v1/competitions/{w.competition['id']}", json={"submission_closes_at": soon}
    )

    async def closed() -> bool:
        r = await w.entrant.get(f"/api/v1/competitions/{w.competition['id']}")
        return bool(r.json()["phase"] == "closed")

    await poll(closed, timeout=15)
    async with pool.acquire() as conn:
        payload = await conn.fetchval(
            "SELECT payload FROM event WHERE kind = 'competition.phase_changed' "
            "AND payload->>'to' = 'closed'"
        )
    assert payload == {"from": "open", "to": "closed", "by": "clock"}
