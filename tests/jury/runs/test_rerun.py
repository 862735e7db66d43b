"""A juror drops out after deployment: a rerun keeps every existing assignment and fills only
the gaps; a juror with a final sheet keeps it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import token_from
from tests.helpers import (
    PASSWORD,
    Session,
    account,
    company_body,
    login,
    open_competition,
    poll,
    submitted_entry,
    text,
)

pytestmark = pytest.mark.usefixtures("worker")


async def run_and_deploy(organiser: Session, cid: str, seed: int) -> dict[str, Any]:
    run = (
        await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={"seed": seed})
    ).json()

    async def done() -> dict[str, Any] | None:
        body = (
            await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
        ).json()
        return body if body["status"] in ("done", "infeasible") else None

    finished: dict[str, Any] = await poll(done)
    r = await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}/deploy")
    finished["deployed"] = r.json()
    return finished


async def test_rerun_after_a_dropout_keeps_assignments_and_fills_gaps(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    cid = (await open_competition(organiser, reviews_per_entry=2))["id"]
    for i in range(4):
        await account(pool, f"o{i}@firma{i}.example", f"O{i}")
        owner = await login(new_client(), f"o{i}@firma{i}.example")
        company = (await owner.post("/api/v1/companies", json=company_body(f"Firma {i}"))).json()
        await submitted_entry(owner, cid, company, title=f"Idee {i}")
    await smtp_server.wait_for(4, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    jurors: dict[str, str] = {}
    for name in ("anna", "bert", "cora", "dirk"):
        r = await organiser.post(
            f"/api/v1/competitions/{cid}/jurors",
            json={"email": f"{name}@jury.example", "name": name.title()},
        )
        jurors[name] = r.json()["id"]
    sessions = {}
    for mail in await smtp_server.wait_for(4, timeout=20):
        c = new_client()
        await c.post(
            "/api/v1/jury/invitations/accept",
            json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
        )
        session = await login(c, mail.message["To"])
        await session.put(
            f"/api/v1/competitions/{cid}/conflicts/me",
            json={"conflicts": [], "confirmed_complete": True},
        )
        sessions[mail.message["To"].split("@")[0]] = session

    first = await run_and_deploy(organiser, cid, seed=11)
    before = {(a["juror_id"], a["entry_id"]) for a in first["assignments"]}
    assert (len(before), first["deployed"]["created"]) == (8, 8)
    assert Counter(j for j, _ in before) == dict.fromkeys(jurors.values(), 2)

    # Bert finalises one sheet, then drops out.
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    items = (await sessions["bert"].get(f"/api/v1/me/assignments?competition_id={cid}")).json()
    kept_final = items[0]["entry"]["id"]
    r = await sessions["bert"].put(
        f"/api/v1/assignments/{items[0]['id']}/score",
        json={"scores": {"innovation": 5, "impact": 5}, "final": True},
    )
    assert r.status_code == 200
    r = await organiser.post(f"/api/v1/competitions/{cid}/jurors/{jurors['bert']}/remove")
    assert r.json() == {"assignments_removed": 1}

    second = await run_and_deploy(organiser, cid, seed=12)
    new = {(a["juror_id"], a["entry_id"]) for a in second["assignments"]}
    lost = {(j, e) for j, e in before if j == jurors["bert"] and e != kept_final}
    assert len(lost) == 1
    # Exactly the one gap is filled, by someone else, and nothing else moves.
    assert len(new) == 1
    ((juror, entry),) = new
    assert entry == next(iter(lost))[1]
    assert juror != jurors["bert"]
    assert second["deployed"]["created"] == 1
    async with pool.acquire() as conn:
        rows = {
            (str(r["juror_id"]), str(r["entry_id"]))
            for r in await conn.fetch("SELECT juror_id, entry_id FROM assignment")
        }
    assert rows == (before - lost) | new
