"""Withdrawing an entry: free while submissions are open; after the deadline only with a reason,
which goes into the competition's audit log (API and page alike)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.helpers import Session, account, company_body, login, open_competition, submitted_entry


class World:
    organiser: Session
    anna: Session
    bernd: Session
    competition: dict[str, Any]
    entry: dict[str, Any]


@pytest.fixture
async def world(
    client: httpx.AsyncClient, new_client: Callable[[], httpx.AsyncClient], pool: asyncpg.Pool
) -> World:
    w = World()
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    await account(pool, "anna@firma-a.example", "Anna")
    await account(pool, "bernd@firma-b.example", "Bernd")
    w.organiser = await login(new_client(), "orga@wettbewerb.test")
    w.competition = await open_competition(w.organiser)
    w.anna = await login(client, "anna@firma-a.example")
    w.bernd = await login(new_client(), "bernd@firma-b.example")
    company = (await w.anna.post("/api/v1/companies", json=company_body("A GmbH"))).json()
    w.entry = await submitted_entry(w.anna, w.competition["id"], company, title="Idee A")
    return w


async def audit(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT data FROM audit_log WHERE action = 'entry.withdrawn' ORDER BY id"
        )
    return [dict(r["data"]) for r in rows]


async def status(w: World) -> tuple[str, int]:
    body = (await w.anna.get(f"/api/v1/entries/{w.entry['id']}")).json()
    return body["status"], body["version"]


async def close_submissions(w: World) -> None:
    """The deadline passes; the phase stays `open` until the clock closes it, and no worker runs
    its clock here, so these tests see that window every time, not only when a tick is late."""
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await w.organiser.patch(
        f"/api/v1/competitions/{w.competition['id']}", json={"submission_closes_at": past}
    )
    assert (r.status_code, r.json()["submissions_open"]) == (200, False)


async def test_before_the_deadline_a_withdrawal_needs_no_reason(
    world: World, pool: asyncpg.Pool
) -> None:
    w = world
    r = await w.anna.post(f"/api/v1/entries/{w.entry['id']}/withdraw")
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn")
    assert await audit(pool) == [
        {"status_before": "submitted", "phase": "open", "after_deadline": False, "reason": None}
    ]
    page = await w.anna.get(f"/entries/{w.entry['id']}/zurueckziehen")
    assert 'name="reason"' not in page.text
    r = await w.anna.post(f"/api/v1/entries/{w.entry['id']}/submit")
    assert (r.status_code, r.json()["status"]) == (200, "submitted")


async def test_after_the_deadline_the_api_asks_for_a_reason_and_audits_it(
    world: World, pool: asyncpg.Pool
) -> None:
    w = world
    await close_submissions(w)
    path = f"/api/v1/entries/{w.entry['id']}/withdraw"
    r = await w.anna.post(path)
    assert (r.status_code, r.json()) == (
        422,
        {
            "error": "reason_required",
            "detail": "Nach dem Einsendeschluss braucht ein Rückzug eine Begründung.",
            "fields": [{"field": "reason", "message": "Bitte begründen Sie den Rückzug."}],
        },
    )
    # Odd input: nothing but blanks and bidi controls, NUL, too long, another company's entry.
    for body, code in (
        ({"reason": " \u202e "}, "reason_required"),
        ({"reason": "a\x00b"}, "validation_error"),
        ({"reason": "x" * 2001}, "validation_error"),
        ({"reason": 42}, "validation_error"),
    ):
        r = await w.anna.post(path, json=body)
        assert (r.status_code, r.json()["error"]) == (422, code)
    r = await w.bernd.post(path, json={"reason": "Nicht meiner."})
    assert r.status_code == 404
    assert await status(w) == ("submitted", 2)
    assert await audit(pool) == []

    r = await w.anna.post(path, json={"reason": "Zeile 1\nZeile 2"})
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn")
    r = await w.anna.post(path, json={"reason": "Noch einmal."})
    assert r.status_code == 200
    r = await w.anna.post(f"/api/v1/entries/{w.entry['id']}/submit")
    assert (r.status_code, r.json()["error"]) == (409, "submissions_closed")
    assert await status(w) == ("withdrawn", 3)
    assert await audit(pool) == [
        {
            "status_before": "submitted",
            "phase": "open",
            "after_deadline": True,
            "reason": "Zeile 1\nZeile 2",
        }
    ]


async def test_after_the_deadline_the_page_asks_for_a_reason(
    world: World, pool: asyncpg.Pool
) -> None:
    w = world
    await close_submissions(w)
    r = await w.organiser.post(
        f"/api/v1/competitions/{w.competition['id']}/phase", json={"to": "closed"}
    )
    assert r.status_code == 200
    path = f"/entries/{w.entry['id']}/zurueckziehen"
    page = await w.anna.get(path)
    assert page.status_code == 200
    assert '<textarea id="f-reason" name="reason"' in page.text
    assert "Der Einsendeschluss ist vorbei." in page.text

    r = await w.anna.client.post(path, data={"csrf_token": w.anna.csrf, "reason": "  "})
    assert r.status_code == 422
    assert '<span class="error" id="f-reason-error">Bitte begründen Sie den Rückzug.</span>' in (
        r.text
    )
    r = await w.anna.client.post(path, data={"csrf_token": w.anna.csrf, "reason": "a\x00b"})
    assert r.status_code == 422
    assert await status(w) == ("submitted", 2)

    w.anna.client.cookies.set("ind_lang", "en")
    english = await w.anna.client.post(path, data={"csrf_token": w.anna.csrf, "reason": ""})
    w.anna.client.cookies.delete("ind_lang")
    assert english.status_code == 422
    assert "A withdrawal after the deadline needs a reason." in english.text

    r = await w.anna.client.post(
        path, data={"csrf_token": w.anna.csrf, "reason": "Wir haben den Standort verkauft."}
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/entries/{w.entry['id']}")
    assert await status(w) == ("withdrawn", 3)
    assert await audit(pool) == [
        {
            "status_before": "submitted",
            "phase": "closed",
            "after_deadline": True,
            "reason": "Wir haben den Standort verkauft.",
        }
    ]
