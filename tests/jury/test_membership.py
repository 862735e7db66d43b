"""Company membership is a conflict of interest everywhere: a juror who owns or joins an entrant
company is never assigned its entries, and an assignment made before the membership started is
voided at once, shown to organisers, and filled by the next incremental run."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import httpx
import pytest

from competition.auth import Principal
from competition.jury.runs import service as jury_runs
from competition.jury.scoring import queries as scoring_queries
from tests.conftest import token_from
from tests.helpers import (
    PASSWORD,
    Session,
    account,
    blocked_by,
    company_body,
    join_company,
    login,
    open_competition,
    poll,
    submitted_entry,
    text,
)

pytestmark = pytest.mark.usefixtures("worker")

JUTTA = "jutta@uni.example"
KARL = "karl@uni.example"
# Membership as any path starts it, for the races that need a transaction held open.
MEMBER = "INSERT INTO company_member (company_id, account_id, role) VALUES ($1, $2, 'member')"


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
    """The company's owner invites the juror, who accepts: membership starts now."""
    await join_company(w.owner, w.sessions[email], w.company["id"], email)


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


async def deployed_to_jutta(w: World) -> dict[str, Any]:
    """Run, deploy (Jutta gets the entry), open judging; Jutta's assignment."""
    found = await run(w, seed=1)
    assert pairs(found) == {(w.jurors[JUTTA], w.entry["id"])}
    assert (await deploy(w, found["id"])).json()["created"] == 1
    await w.organiser.post(f"/api/v1/competitions/{w.cid}/phase", json={"to": "judging"})
    items = (await w.sessions[JUTTA].get(f"/api/v1/me/assignments?competition_id={w.cid}")).json()
    assert [i["entry"]["id"] for i in items] == [w.entry["id"]]
    assignment: dict[str, Any] = items[0]
    return assignment


async def juror_view(w: World, assignment_id: str, attachment_id: str) -> list[int]:
    jutta = w.sessions[JUTTA]
    return [
        (await jutta.get(f"/api/v1/assignments/{assignment_id}")).status_code,
        (
            await jutta.put(
                f"/api/v1/assignments/{assignment_id}/score",
                json={"scores": {"innovation": 9, "impact": 9}, "final": True},
            )
        ).status_code,
        (await jutta.get(f"/api/v1/attachments/{attachment_id}/download")).status_code,
        len((await jutta.get(f"/api/v1/me/assignments?competition_id={w.cid}")).json()),
    ]


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
            "id": None,
            "company_id": company_id,
            "company_name": name,
            "type": "member",
            "note": None,
            "source": "membership",
            "pending_review": False,
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


async def test_membership_after_deployment_voids_the_assignment_at_once(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    w = await world(client, new_client, pool, smtp_server)
    assignment = await deployed_to_jutta(w)
    detail = (await w.sessions[JUTTA].get(f"/api/v1/assignments/{assignment['id']}")).json()
    attachment_id = detail["attachments"][0]["id"]
    r = await w.sessions[JUTTA].put(
        f"/api/v1/assignments/{assignment['id']}/score",
        json={"scores": {"innovation": 8}, "final": False},
    )
    assert r.status_code == 200

    await join(w, JUTTA)

    # As a member she may read her company's files; as a juror she has nothing left.
    assert await juror_view(w, assignment["id"], attachment_id) == [404, 404, 200, 0]
    progress = (await w.organiser.get(f"/api/v1/competitions/{w.cid}/progress")).json()
    voided = progress["voided"]
    assert [{k: v for k, v in item.items() if k != "voided_at"} for item in voided] == [
        {
            "assignment_id": assignment["id"],
            "juror_id": w.jurors[JUTTA],
            "juror_name": "Jutta Juror",
            "entry_id": w.entry["id"],
            "entry_title": "Wärmepumpe",
            "reason": "member",
        }
    ]
    assert [
        (e["entry_id"], e["assigned"], e["final"], e["missing"]) for e in progress["reviews"]
    ] == [(w.entry["id"], 0, 0, 1)]
    assert {j["name"]: (j["assigned"], j["draft"], j["open"]) for j in progress["jurors"]} == {
        "Jutta Juror": (0, 0, 0),
        "Karl Kurz": (0, 0, 0),
    }
    assert (progress["sheets_assigned"], progress["sheets_final"]) == (0, 0)
    jurors = (await w.organiser.get(f"/api/v1/competitions/{w.cid}/jurors")).json()
    assert {j["name"]: j["load"] for j in jurors} == {"Jutta Juror": 0, "Karl Kurz": 0}
    # Nobody is reminded of a sheet they may no longer open.
    r = await w.organiser.post(f"/api/v1/competitions/{w.cid}/jury-reminders")
    assert r.json() == {"queued": 0}
    overview = await w.organiser.get(f"/organisation/{w.cid}")
    assert [
        overview.text.count(t)
        for t in (
            "Zuteilungen aufgehoben",
            "Mitglied des Unternehmens",
            "1 Beitrag hat zu wenige Gutachten.",
        )
    ] == [1, 1, 1]
    async with pool.acquire() as conn:
        audit = await conn.fetch(
            "SELECT subject_id, data FROM audit_log WHERE action = 'assignment.voided'"
        )
        # The draft she saved stays on record, unreachable.
        sheets = await conn.fetch("SELECT status, scores FROM score_sheet")
    assert [(a["subject_id"], a["data"]["reason"]) for a in audit] == [(assignment["id"], "member")]
    assert [(s["status"], s["scores"]) for s in sheets] == [("draft", {"innovation": 8})]

    # The next incremental run gives the entry to Karl and shows what was voided.
    again = await run(w, seed=1)
    assert pairs(again) == {(w.jurors[KARL], w.entry["id"])}
    assert [(v["juror_name"], v["entry_title"], v["reason"]) for v in again["voided"]] == [
        ("Jutta Juror", "Wärmepumpe", "member")
    ]
    assert (await deploy(w, again["id"])).json()["created"] == 1
    page = await w.organiser.get(f"/organisation/{w.cid}/zuteilung/{again['id']}")
    assert "Zuteilungen aufgehoben" in page.text
    assert "Jutta Juror" in page.text.split("Zuteilungen aufgehoben", 1)[1]

    # A voided assignment stays void when the membership ends: access is not handed back.
    async with pool.acquire() as conn:
        await conn.execute(
            "DELETE FROM company_member WHERE company_id = $1 AND role = 'member'",
            uuid.UUID(w.company["id"]),
        )
    assert await juror_view(w, assignment["id"], attachment_id) == [404, 404, 404, 0]
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT a.juror_id, a.void_reason, s.status FROM assignment a
               LEFT JOIN score_sheet s ON s.assignment_id = a.id ORDER BY a.created_at"""
        )
    assert [(str(r["juror_id"]), r["void_reason"], r["status"]) for r in rows] == [
        (w.jurors[JUTTA], "member", "draft"),
        (w.jurors[KARL], None, None),
    ]


async def test_joining_after_a_final_sheet_keeps_it_on_record_but_the_entry_needs_another_review(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    w = await world(client, new_client, pool, smtp_server)
    assignment = await deployed_to_jutta(w)
    r = await w.sessions[JUTTA].put(
        f"/api/v1/assignments/{assignment['id']}/score",
        json={"scores": {"innovation": 9, "impact": 9}, "final": True},
    )
    assert (r.status_code, r.json()["status"]) == (200, "final")
    await join(w, JUTTA)
    # A final sheet is a record: it is not voided, but conflicted it counts for nothing.
    assert (
        await w.sessions[JUTTA].get(f"/api/v1/assignments/{assignment['id']}")
    ).status_code == 404
    progress = (await w.organiser.get(f"/api/v1/competitions/{w.cid}/progress")).json()
    assert progress["voided"] == []
    assert [(e["assigned"], e["final"], e["missing"]) for e in progress["reviews"]] == [(0, 0, 1)]
    again = await run(w, seed=1)
    assert (again["status"], pairs(again)) == ("done", {(w.jurors[KARL], w.entry["id"])})
    assert (again["report"]["kept"], again["report"]["conflicts"]) == (
        0,
        {"declared": 0, "member": 1},
    )
    assert (await deploy(w, again["id"])).json()["created"] == 1
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT a.juror_id, a.voided_at IS NULL AS standing, s.status FROM assignment a
               LEFT JOIN score_sheet s ON s.assignment_id = a.id ORDER BY a.created_at"""
        )
    assert [(str(r["juror_id"]), r["standing"], r["status"]) for r in rows] == [
        (w.jurors[JUTTA], True, "final"),
        (w.jurors[KARL], True, None),
    ]


async def test_an_invitation_accepted_after_deployment_voids_as_well(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    """Membership voids on whatever path it starts: here an invitation by mail that the juror
    accepts through the link's page (the trigger on company_member sees every path)."""
    w = await world(client, new_client, pool, smtp_server)
    assignment = await deployed_to_jutta(w)
    r = await w.owner.post(f"/api/v1/companies/{w.company['id']}/members", json={"email": JUTTA})
    assert r.status_code == 202
    (invitation,) = (await w.sessions[JUTTA].get("/api/v1/me/company-invitations")).json()
    r = await w.sessions[JUTTA].client.post(
        "/unternehmen/einladungen/" + invitation["id"] + "/annehmen",
        data={"csrf_token": w.sessions[JUTTA].csrf},
    )
    assert r.status_code == 303
    assert (
        await w.sessions[JUTTA].get(f"/api/v1/assignments/{assignment['id']}")
    ).status_code == 404
    progress = (await w.organiser.get(f"/api/v1/competitions/{w.cid}/progress")).json()
    assert [(v["assignment_id"], v["reason"]) for v in progress["voided"]] == [
        (assignment["id"], "member")
    ]


async def test_in_blind_judging_a_voided_assignment_looks_like_one_that_never_was(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    w = await world(client, new_client, pool, smtp_server, blind=True)
    assignment = await deployed_to_jutta(w)
    await join(w, JUTTA)
    jutta = w.sessions[JUTTA]
    unknown = str(uuid.uuid4())
    for method, suffix, body in (
        ("get", "", None),
        ("put", "/score", {"scores": {"innovation": 1, "impact": 1}, "final": False}),
    ):
        voided = await getattr(jutta, method)(
            f"/api/v1/assignments/{assignment['id']}{suffix}", **({"json": body} if body else {})
        )
        never = await getattr(jutta, method)(
            f"/api/v1/assignments/{unknown}{suffix}", **({"json": body} if body else {})
        )
        assert (voided.status_code, voided.json()) == (never.status_code, never.json())
        assert voided.status_code == 404
    assert (await jutta.get(f"/api/v1/me/assignments?competition_id={w.cid}")).json() == []
    home = await jutta.get("/jury")
    assert "Mitglied des Unternehmens" not in home.text
    # The organiser sees who, which entry, and why.
    voided = (await w.organiser.get(f"/api/v1/competitions/{w.cid}/progress")).json()["voided"]
    assert [(v["juror_name"], v["entry_title"], v["reason"]) for v in voided] == [
        ("Jutta Juror", "Wärmepumpe", "member")
    ]


@contextlib.asynccontextmanager
async def held(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, for a transaction held open while another one starts."""
    async with pool.acquire() as conn:
        yield cast(asyncpg.Connection, conn)


def organiser_principal(account_id: uuid.UUID) -> Principal:
    return Principal(
        account_id=account_id,
        email="orga@wettbewerb.test",
        name="Orga",
        locale="de",
        is_organiser=True,
        email_verified=True,
        via="session",
        scopes=frozenset({"read", "write", "organise"}),
        password_changed_at=datetime.now(UTC),
    )


async def test_a_void_racing_a_save_wins_and_a_final_save_racing_the_membership_stays(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    """Both orders of a score save and the membership, each holding its transaction open while
    the other starts: never a voided assignment with a final sheet."""
    w = await world(client, new_client, pool, smtp_server)
    first = uuid.UUID((await deployed_to_jutta(w))["id"])
    jutta_account = await pool.fetchval("SELECT id FROM account WHERE email = $1", JUTTA)
    company_id = uuid.UUID(w.company["id"])

    # 1. The membership holds; the save waits for it, then finds nothing to save.
    async with held(pool) as saving, held(pool) as joining:
        tx = joining.transaction()
        await tx.start()
        await joining.execute(MEMBER, company_id, jutta_account)
        async with saving.transaction():
            save_task = asyncio.create_task(scoring_queries.lock_sheet(saving, assignment_id=first))
            await blocked_by(pool, joining)
            assert not save_task.done()  # waiting for the membership
            await tx.commit()
            assert await save_task is None

    # The membership ends; the rerun may give Jutta the entry again, as a new assignment.
    await pool.execute("DELETE FROM company_member WHERE account_id = $1", jutta_account)
    again = await run(w, seed=1)
    assert pairs(again) == {(w.jurors[JUTTA], w.entry["id"])}
    assert (await deploy(w, again["id"])).json()["created"] == 1
    second = await pool.fetchval(
        "SELECT id FROM assignment WHERE run_id = $1", uuid.UUID(again["id"])
    )

    # 2. The save holds the assignment; the membership waits, then sees the final sheet.
    async with held(pool) as saving, held(pool) as joining:
        tx = saving.transaction()
        await tx.start()
        assert dict(await scoring_queries.lock_sheet(saving, assignment_id=second) or {}) == {
            "status": "draft",
            "version": 0,
        }
        join_task = asyncio.create_task(joining.execute(MEMBER, company_id, jutta_account))
        await blocked_by(pool, saving)
        assert not join_task.done()  # waiting for the save
        await scoring_queries.save_sheet(
            saving,
            assignment_id=second,
            scores={"innovation": 9, "impact": 9},
            comment="",
            final=True,
            weighted_total=90.0,
        )
        await tx.commit()
        await join_task
    rows = await pool.fetch(
        """SELECT a.id, a.void_reason, s.status FROM assignment a
           LEFT JOIN score_sheet s ON s.assignment_id = a.id ORDER BY a.created_at"""
    )
    assert [(r["id"], r["void_reason"], r["status"]) for r in rows] == [
        (first, "member", None),
        (second, None, "final"),
    ]


async def test_a_deployment_racing_the_membership_is_voided_after_it(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    """The deployment checked conflicts before the membership committed: the membership waits
    for it and voids what it created."""
    w = await world(client, new_client, pool, smtp_server)
    found = await run(w, seed=1)
    assert pairs(found) == {(w.jurors[JUTTA], w.entry["id"])}
    organiser_id = await pool.fetchval(
        "SELECT id FROM account WHERE email = 'orga@wettbewerb.test'"
    )
    jutta_account = await pool.fetchval("SELECT id FROM account WHERE email = $1", JUTTA)
    async with held(pool) as deploying, held(pool) as joining:
        tx = deploying.transaction()
        await tx.start()
        deployed = await jury_runs.deploy(
            deploying,
            organiser_principal(organiser_id),
            uuid.UUID(w.cid),
            uuid.UUID(found["id"]),
        )
        assert deployed.created == 1
        join_task = asyncio.create_task(
            joining.execute(MEMBER, uuid.UUID(w.company["id"]), jutta_account)
        )
        await blocked_by(pool, deploying)
        assert not join_task.done()  # waiting for the deployment
        await tx.commit()
        await join_task
    rows = await pool.fetch("SELECT juror_id, void_reason FROM assignment")
    assert [(str(r["juror_id"]), r["void_reason"]) for r in rows] == [(w.jurors[JUTTA], "member")]
