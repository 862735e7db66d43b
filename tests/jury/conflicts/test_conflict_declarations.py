"""Conflict declarations are never lost, organisers' records survive, and a late conflict reveals
no blind identity (declarations by name, organiser records, recusal)."""

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

EES = "Erzgebirgische Energiesysteme GmbH"
VOGTLAND = "Vogtland Textil AG"


class Jury:
    def __init__(self, organiser: Session, cid: str, entries: dict[str, str]) -> None:
        self.organiser, self.cid, self.entries = organiser, cid, entries
        self.jurors: dict[str, Session] = {}
        self.ids: dict[str, str] = {}

    async def declare(self, who: str, *names: str, confirmed: bool = True) -> httpx.Response:
        return await self.jurors[who].put(
            f"/api/v1/competitions/{self.cid}/conflicts/me",
            json={
                "conflicts": [{"company": n, "type": "employee"} for n in names],
                "confirmed_complete": confirmed,
            },
        )

    async def run(self) -> dict[str, Any]:
        r = await self.organiser.post(
            f"/api/v1/competitions/{self.cid}/assignment-runs", json={"seed": 7}
        )
        run_id = r.json()["id"]

        async def done() -> dict[str, Any] | None:
            body: dict[str, Any] = (
                await self.organiser.get(
                    f"/api/v1/competitions/{self.cid}/assignment-runs/{run_id}"
                )
            ).json()
            return body if body["status"] in ("done", "failed") else None

        found: dict[str, Any] = await poll(done)
        return found

    def pairs(self, run: dict[str, Any]) -> set[tuple[str, str]]:
        names = {v: k for k, v in self.ids.items()}
        titles = {v: k for k, v in self.entries.items()}
        return {(names[a["juror_id"]], titles[a["entry_id"]]) for a in run["assignments"]}

    async def deploy(self, run: dict[str, Any]) -> httpx.Response:
        return await self.organiser.post(
            f"/api/v1/competitions/{self.cid}/assignment-runs/{run['id']}/deploy"
        )

    async def declarations(self, *status: str) -> list[dict[str, Any]]:
        r = await self.organiser.get(
            f"/api/v1/competitions/{self.cid}/conflict-declarations",
            params=[("status", s) for s in status],
        )
        assert r.status_code == 200, r.text
        found: list[dict[str, Any]] = r.json()
        return found


async def blind_jury(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    jurors: tuple[str, ...] = ("anna", "ben"),
) -> Jury:
    """A blind competition, closed, with one entry each of EES and Vogtland Textil and two
    jurors who accepted (declarations not yet made)."""
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    cid = (await open_competition(organiser, reviews_per_entry=1, blind_judging=True))["id"]
    entries = {}
    for i, (name, title) in enumerate(((EES, "Speicher"), (VOGTLAND, "Faser"))):
        await account(pool, f"owner{i}@firma{i}.example", f"Owner {i}")
        owner = await login(new_client(), f"owner{i}@firma{i}.example")
        company = (await owner.post("/api/v1/companies", json=company_body(name))).json()
        entries[title] = (await submitted_entry(owner, cid, company, title=title))["id"]
    await smtp_server.wait_for(2, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    jury = Jury(organiser, cid, entries)
    for name in jurors:
        r = await organiser.post(
            f"/api/v1/competitions/{cid}/jurors",
            json={"email": f"{name}@jury.example", "name": name.title()},
        )
        jury.ids[name] = r.json()["id"]
    for mail in await smtp_server.wait_for(len(jurors), timeout=20):
        c = new_client()
        r = await c.post(
            "/api/v1/jury/invitations/accept",
            json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
        jury.jurors[mail.message["To"].split("@")[0]] = await login(c, mail.message["To"])
    smtp_server.clear()
    return jury


async def test_a_name_without_its_legal_form_is_matched_and_shown_as_typed(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await blind_jury(client, new_client, pool, smtp_server)
    r = await jury.declare("anna", "Erzgebirgische Energiesysteme")
    assert r.status_code == 200, r.text
    await jury.declare("ben")
    mine = (await jury.jurors["anna"].get(f"/api/v1/competitions/{jury.cid}/conflicts/me")).json()
    assert mine["conflicts"] == [
        {
            "id": None,
            "company_id": None,
            "company_name": "Erzgebirgische Energiesysteme",
            "type": "employee",
            "note": None,
            "source": "juror",
            "pending_review": False,
        }
    ]
    run = await jury.run()
    assert jury.pairs(run) == {("anna", "Faser"), ("ben", "Speicher")}
    assert run["stats"]["conflicts_violated"] == 0
    assert [d["status"] for d in await jury.declarations()] == ["matched"]


async def test_an_unmatched_name_waits_for_an_organiser_and_blocks_deployment(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await blind_jury(client, new_client, pool, smtp_server)
    await jury.declare("anna", "Erzgebirgische Energie-Systeme", "Sächsische Werkzeugbau")
    await jury.declare("ben")
    # The juror's answer looks the same whether a name matched or not.
    mine = (await jury.jurors["anna"].get(f"/api/v1/competitions/{jury.cid}/conflicts/me")).json()
    assert [
        (c["company_name"], c["company_id"], c["pending_review"]) for c in mine["conflicts"]
    ] == [
        ("Erzgebirgische Energie-Systeme", None, False),
        ("Sächsische Werkzeugbau", None, False),
    ]
    open_ = await jury.declarations("unmatched")
    assert [(d["declared_as"], d["juror_name"], d["candidates"]) for d in open_] == [
        (
            "Erzgebirgische Energie-Systeme",
            "Anna",
            [{"company_id": open_[0]["candidates"][0]["company_id"], "name": EES, "score": 0.983}],
        ),
        ("Sächsische Werkzeugbau", "Anna", []),
    ]
    run = await jury.run()
    r = await jury.deploy(run)
    assert (r.status_code, r.json()["error"]) == (409, "open_declarations")

    decide = f"/api/v1/competitions/{jury.cid}/conflict-declarations"
    ees_id = open_[0]["candidates"][0]["company_id"]
    r = await jury.organiser.post(
        f"{decide}/{open_[0]['id']}/decision", json={"company_ids": [ees_id]}
    )
    assert r.json() == {"status": "resolved"}
    r = await jury.organiser.post(f"{decide}/{open_[1]['id']}/decision", json={"company_ids": []})
    assert r.json() == {"status": "dismissed"}
    r = await jury.organiser.post(f"{decide}/{open_[1]['id']}/decision", json={"company_ids": []})
    assert (r.status_code, r.json()["error"]) == (409, "already_decided")
    assert await jury.declarations("unmatched", "pending") == []

    run = await jury.run()
    assert jury.pairs(run) == {("anna", "Faser"), ("ben", "Speicher")}
    assert (await jury.deploy(run)).status_code == 200
    # Declaring the same names again does not reopen what the organiser decided.
    await jury.declare("anna", "Erzgebirgische Energie-Systeme", "Sächsische Werkzeugbau")
    assert [d["status"] for d in await jury.declarations()] == ["resolved", "dismissed"]


async def test_a_juror_cannot_erase_what_an_organiser_recorded(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await blind_jury(client, new_client, pool, smtp_server, jurors=("anna",))
    async with pool.acquire() as conn:
        companies = {
            r["name"]: str(r["id"]) for r in await conn.fetch("SELECT id, name FROM company")
        }
    r = await jury.organiser.post(
        f"/api/v1/competitions/{jury.cid}/conflicts",
        json={"juror_id": jury.ids["anna"], "company_id": companies[EES], "type": "customer"},
    )
    assert r.status_code == 201
    # The juror names the same company, then declares again without it.
    await jury.declare("anna", "Erzgebirgische Energiesysteme")
    await jury.declare("anna")

    async def recorded() -> list[tuple[str, str]]:
        jurors = (await jury.organiser.get(f"/api/v1/competitions/{jury.cid}/jurors")).json()
        return [(c["company_name"], c["source"]) for c in jurors[0]["conflicts"]]

    assert await recorded() == [(EES, "organiser")]
    # In a blind competition the juror sees that a record exists, not whose it is.
    mine = (await jury.jurors["anna"].get(f"/api/v1/competitions/{jury.cid}/conflicts/me")).json()
    assert [(c["company_name"], c["source"]) for c in mine["conflicts"]] == [(None, "organiser")]

    jurors = (await jury.organiser.get(f"/api/v1/competitions/{jury.cid}/jurors")).json()
    conflict_id = jurors[0]["conflicts"][0]["id"]
    path = f"/api/v1/competitions/{jury.cid}/conflicts/{conflict_id}"
    assert (await jury.jurors["anna"].delete(path)).status_code == 403
    assert (await jury.organiser.delete(path)).status_code == 204
    assert (await jury.organiser.delete(path)).status_code == 404
    assert await recorded() == []
    async with pool.acquire() as conn:
        actions = await conn.fetch(
            "SELECT action FROM audit_log WHERE action LIKE 'conflict.%' ORDER BY id"
        )
    assert [a["action"] for a in actions] == ["conflict.recorded", "conflict.removed"]


async def test_a_late_declaration_changes_nothing_the_juror_sees(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await blind_jury(client, new_client, pool, smtp_server)
    await jury.declare("anna")
    await jury.declare("ben")
    run = await jury.run()
    assert (await jury.deploy(run)).status_code == 200
    await smtp_server.wait_for(2, timeout=20)  # the assignment mails
    smtp_server.clear()
    mine = jury.pairs(run)
    anna_entry = next(title for who, title in mine if who == "anna")
    company = EES if anna_entry == "Speicher" else VOGTLAND

    async def assigned() -> list[str]:
        items = (await jury.jurors["anna"].get("/api/v1/me/assignments")).json()
        return [i["entry"]["id"] for i in items]

    before = await assigned()
    r = await jury.declare("anna", company)
    assert r.status_code == 200
    assert [c["pending_review"] for c in r.json()["conflicts"]] == [True]
    assert await assigned() == before == [jury.entries[anna_entry]]
    mails = await smtp_server.wait_for(1, timeout=20)
    assert [(m.message["To"], m.message["Subject"]) for m in mails] == [
        ("orga@wettbewerb.test", "Interessenkonflikt gemeldet: Industrie. Neu. Denken. 2026")
    ]
    (pending,) = await jury.declarations("pending")
    assert pending["declared_as"] == company
    # A new run cannot be deployed while it waits; the organiser's decision withdraws it.
    r = await jury.organiser.post(
        f"/api/v1/competitions/{jury.cid}/conflict-declarations/{pending['id']}/decision",
        json={"company_ids": [m["id"] for m in pending["matched"]]},
    )
    assert r.status_code == 200
    assert await assigned() == []


async def test_recusal_withdraws_one_assignment_and_tells_the_organisers(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await blind_jury(client, new_client, pool, smtp_server)
    await jury.declare("anna")
    await jury.declare("ben")
    run = await jury.run()
    await jury.deploy(run)
    await smtp_server.wait_for(2, timeout=20)
    smtp_server.clear()
    anna, ben = jury.jurors["anna"], jury.jurors["ben"]
    (item,) = (await anna.get("/api/v1/me/assignments")).json()
    (other,) = (await ben.get("/api/v1/me/assignments")).json()
    path = f"/api/v1/assignments/{item['id']}/recuse"

    assert (await anna.post(path, json={"reason": "x"})).status_code == 422
    assert (await ben.post(path, json={"reason": "Kenne die Firma"})).status_code == 404
    r = await anna.post(path, json={"reason": "Ich berate das Unternehmen."})
    assert (r.status_code, r.json()["status"]) == (200, "recused")
    assert (await anna.post(path, json={"reason": "nochmal"})).status_code == 404
    assert (await anna.get(f"/api/v1/assignments/{item['id']}")).status_code == 404
    assert (await anna.get("/api/v1/me/assignments")).json() == []
    assert [i["id"] for i in (await ben.get("/api/v1/me/assignments")).json()] == [other["id"]]
    mails = await smtp_server.wait_for(1, timeout=20)
    assert [m.message["To"] for m in mails] == ["orga@wettbewerb.test"]
    assert "für befangen erklärt" in text(mails[0])

    # The incremental run gives the entry to Ben and never back to Anna.
    recused = next(t for t, i in jury.entries.items() if i == item["entry"]["id"])
    rerun = await jury.run()
    assert jury.pairs(rerun) == {("ben", recused)}
    async with pool.acquire() as conn:
        kept = await conn.fetchval(
            "SELECT recusal_reason FROM assignment WHERE id = $1", item["id"]
        )
    assert kept == "Ich berate das Unternehmen."


async def test_pages_decide_a_declaration_and_recuse(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await blind_jury(client, new_client, pool, smtp_server)
    await jury.declare("anna", "Erzgebirgische Energie-Systeme")
    await jury.declare("ben")
    page = await client.get(f"/organisation/{jury.cid}/jury")
    assert "Angaben zu Interessenkonflikten, die auf Ihre Entscheidung warten" in page.text
    assert "Anna: „Erzgebirgische Energie-Systeme“" in page.text
    (open_,) = await jury.declarations("unmatched")
    ees_id = open_["candidates"][0]["company_id"]
    form = {"csrf_token": jury.organiser.csrf, "action": "link"}
    action = f"/organisation/{jury.cid}/jury/angaben/{open_['id']}"
    r = await client.post(action, data=form)
    assert r.status_code == 422  # nothing chosen
    r = await client.post(action, data={**form, "company_id": ees_id})
    assert (r.status_code, r.headers["location"]) == (303, f"/organisation/{jury.cid}/jury")
    assert [d["status"] for d in await jury.declarations()] == ["resolved"]

    run = await jury.run()
    assert (await jury.deploy(run)).status_code == 200
    anna = jury.jurors["anna"]
    (item,) = (await anna.get("/api/v1/me/assignments")).json()
    sheet = await anna.get(f"/jury/bewertung/{item['id']}")
    assert "Für befangen erklären" in sheet.text
    r = await anna.post(
        f"/jury/bewertung/{item['id']}/befangen",
        data={"csrf_token": anna.csrf, "reason": "Ich kenne die Geschäftsführung."},
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/jury/{jury.cid}")
    assert (await anna.get("/api/v1/me/assignments")).json() == []
