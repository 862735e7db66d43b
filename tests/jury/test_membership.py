"""Company membership is a conflict of interest everywhere: a juror who owns or joins an entrant
company is never assigned its entries."""

from __future__ import annotations

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

JUTTA = "jutta@uni.example"
KARL = "karl@uni.example"


class World:
    organiser: Session
    cid: str
    owner: Session
    company: dict[str, Any]
    entry: dict[str, Any]
    jurors: dict[str, str]
    sessions: dict[str, Session]


async def world(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    *,
    blind: bool = False,
    jutta_company: bool = False,
) -> World:
    """One company ("Offen GmbH") with one submitted entry in energy (with a PDF), and two
    jurors with confirmed declarations: Jutta, an energy expert (the solver prefers her), and
    Karl, without expertise. With `jutta_company`, Jutta owns a second entrant company."""
    w = World()
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    w.organiser = await login(client, "orga@wettbewerb.test")
    w.cid = (await open_competition(w.organiser, reviews_per_entry=1, blind_judging=blind))["id"]
    await account(pool, "chefin@offen.example", "Chefin Offen")
    w.owner = await login(new_client(), "chefin@offen.example")
    w.company = (await w.owner.post("/api/v1/companies", json=company_body("Offen GmbH"))).json()
    w.entry = await submitted_entry(w.owner, w.cid, w.company, title="Wärmepumpe", files=1)
    await account(pool, JUTTA, "Jutta Juror")
    jutta = await login(new_client(), JUTTA)
    if jutta_company:
        own = (
            await jutta.post("/api/v1/companies", json=company_body("Jutta Technik GmbH"))
        ).json()
        await submitted_entry(jutta, w.cid, own, title="Speicher")
    await smtp_server.wait_for(2 if jutta_company else 1, timeout=20)
    await w.organiser.post(f"/api/v1/competitions/{w.cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    w.jurors = {}
    for email, name, expertise in ((JUTTA, "Jutta Juror", ["energie"]), (KARL, "Karl Kurz", [])):
        r = await w.organiser.post(
            f"/api/v1/competitions/{w.cid}/jurors",
            json={"email": email, "name": name, "expertise": expertise},
        )
        assert r.status_code == 201, r.text
        w.jurors[email] = r.json()["id"]
    w.sessions = {}
    for mail in await smtp_server.wait_for(2, timeout=20):
        c = new_client()
        r = await c.post(
            "/api/v1/jury/invitations/accept",
            json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
        session = await login(c, mail.message["To"])
        r = await session.put(
            f"/api/v1/competitions/{w.cid}/conflicts/me",
            json={"conflicts": [], "confirmed_complete": True},
        )
        assert r.status_code == 200, r.text
        w.sessions[mail.message["To"]] = session
    smtp_server.clear()
    return w


async def join(w: World, email: str) -> None:
    """The company's owner adds the juror's account as a member: membership starts now."""
    r = await w.owner.post(f"/api/v1/companies/{w.company['id']}/members", json={"email": email})
    assert (r.status_code, r.json()["status"]) == (201, "added"), r.text


async def run(w: World, **body: Any) -> dict[str, Any]:
    created = (
        await w.organiser.post(f"/api/v1/competitions/{w.cid}/assignment-runs", json=body)
    ).json()

    async def finished() -> dict[str, Any] | None:
        r = await w.organiser.get(f"/api/v1/competitions/{w.cid}/assignment-runs/{created['id']}")
        found: dict[str, Any] = r.json()
        return found if found["status"] in ("done", "infeasible", "failed") else None

    result: dict[str, Any] = await poll(finished)
    return result


async def deploy(w: World, run_id: str) -> httpx.Response:
    return await w.organiser.post(f"/api/v1/competitions/{w.cid}/assignment-runs/{run_id}/deploy")


def pairs(found: dict[str, Any]) -> set[tuple[str, str]]:
    return {(a["juror_id"], a["entry_id"]) for a in found["assignments"]}


async def test_member_or_owner_of_an_entrant_company_is_never_assigned_its_entries(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    w = await world(client, new_client, pool, smtp_server, jutta_company=True)
    await join(w, JUTTA)  # Jutta owns "Jutta Technik GmbH" and is a member of "Offen GmbH"
    async with pool.acquire() as conn:
        entries = {
            r["title"]: str(r["id"]) for r in await conn.fetch("SELECT id, title FROM entry")
        }
    found = await run(w, seed=1)
    # The energy expert would get one of the two entries; both belong to her companies.
    assert pairs(found) == {
        (w.jurors[KARL], entries["Wärmepumpe"]),
        (w.jurors[KARL], entries["Speicher"]),
    }
    assert (found["stats"]["conflicts_violated"], found["stats"]["new_assignments"]) == (0, 2)
    assert found["report"]["conflicts"] == {"declared": 0, "member": 2}
    # Two reviews each: Karl is the only juror who may review either entry.
    short = await run(w, reviews_per_entry=2, seed=1)
    assert (short["status"], short["feasible"]) == ("infeasible", False)
    assert sorted(
        (e["entry_id"], e["eligible_jurors"], e["needed"]) for e in short["report"]["entries_short"]
    ) == sorted((entry_id, 1, 2) for entry_id in entries.values())

    jurors = {
        j["email"]: j
        for j in (await w.organiser.get(f"/api/v1/competitions/{w.cid}/jurors")).json()
    }
    assert jurors[JUTTA]["conflicts"] == [
        {
            "company_id": company_id,
            "company_name": name,
            "type": "member",
            "note": None,
            "source": "membership",
        }
        for name, company_id in sorted(
            (c["name"], c["id"])
            for c in (await w.sessions[JUTTA].get("/api/v1/me/companies")).json()
        )
    ]
    assert [c["company_name"] for c in jurors[JUTTA]["conflicts"]] == [
        "Jutta Technik GmbH",
        "Offen GmbH",
    ]
    assert jurors[KARL]["conflicts"] == []
    page = await w.organiser.get(f"/organisation/{w.cid}/jury")
    assert page.text.count("Mitglied des Unternehmens") == 2


async def test_deploy_refuses_a_proposal_the_juror_joined_the_company_since(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    w = await world(client, new_client, pool, smtp_server)
    found = await run(w, seed=1)
    assert pairs(found) == {(w.jurors[JUTTA], w.entry["id"])}
    await join(w, JUTTA)
    r = await deploy(w, found["id"])
    assert (r.status_code, r.json()["error"]) == (409, "stale_run")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM assignment") == 0
    again = await run(w, seed=1)
    assert pairs(again) == {(w.jurors[KARL], w.entry["id"])}
    assert (await deploy(w, again["id"])).json()["created"] == 1
