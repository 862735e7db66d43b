"""Nothing that decides a competition can be bent: an entry withdrawn or disqualified after the
ranking cannot be chosen or published as a winner, a withdrawal after the deadline needs a
reason and is audited, a withdrawal cannot slip in beside a publication, and publishing changes
the phase through the one path every phase change takes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.accounts import queries as account_queries
from competition.auth import Principal
from competition.db import connection
from competition.results import service as results
from tests.conftest import Outbox
from tests.e2e.test_results_journey import scored_competition
from tests.helpers import Session, blocked_by, login, poll

pytestmark = pytest.mark.usefixtures("worker")

ALPHA_OWNER = "inhaber0@firma0.example"  # "Abwärme nutzen", rank 1 in energie


async def result_run(organiser: Session, cid: str) -> dict[str, Any]:
    r = await organiser.post(f"/api/v1/competitions/{cid}/result-runs", json={"method": "raw"})
    assert r.status_code == 202, r.text

    async def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = (
            await organiser.get(f"/api/v1/competitions/{cid}/result-runs/{r.json()['id']}")
        ).json()
        return body if body["status"] != "queued" else None

    run: dict[str, Any] = await poll(finished)
    assert run["status"] == "done"
    return run


def rankings(run: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    return {
        c["category"]: [(e["title"], e["rank"]) for e in c["ranking"]] for c in run["categories"]
    }


async def audited(pool: asyncpg.Pool, action: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT data FROM audit_log WHERE action = $1 ORDER BY id", action)
    return [dict(r["data"]) for r in rows]


async def test_an_entry_withdrawn_in_deliberation_cannot_be_chosen(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    organiser, competition, ids, _ = await scored_competition(client, new_client, pool, smtp_server)
    cid = competition["id"]
    run = await result_run(organiser, cid)
    assert rankings(run)["energie"] == [("Abwärme nutzen", 1), ("Solardach", 2)]
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})

    owner = await login(new_client(), ALPHA_OWNER)
    withdraw = f"/api/v1/entries/{ids['Abwärme nutzen']}/withdraw"
    for body in (None, {}, {"reason": "   "}):
        r = await owner.post(withdraw, json=body)
        assert (r.status_code, r.json()["error"], r.json()["fields"]) == (
            422,
            "reason_required",
            [{"field": "reason", "message": "Bitte begründen Sie den Rückzug."}],
        )
    r = await owner.get(f"/api/v1/entries/{ids['Abwärme nutzen']}")
    assert (r.json()["status"], r.json()["version"]) == ("submitted", 2)
    r = await owner.post(withdraw, json={"reason": "Das Projekt ist eingestellt worden."})
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn")
    r = await owner.post(withdraw, json={"reason": "Noch einmal, anders begründet."})
    assert (r.status_code, r.json()["status"], r.json()["version"]) == (200, "withdrawn", 3)
    assert await audited(pool, "entry.withdrawn") == [
        {
            "status_before": "submitted",
            "phase": "deliberation",
            "after_deadline": True,
            "reason": "Das Projekt ist eingestellt worden.",
        }
    ]

    picks = [{"category": "energie", "entry_id": ids["Abwärme nutzen"], "place": 1}]
    r = await organiser.put(
        f"/api/v1/competitions/{cid}/winners", json={"result_run_id": run["id"], "winners": picks}
    )
    assert (r.status_code, r.json()["fields"]) == (
        422,
        [
            {
                "field": "winners[0].entry_id",
                "message": "Dieser Beitrag wurde zurückgezogen und kann nicht gewinnen.",
            }
        ],
    )
    assert (await organiser.get(f"/api/v1/competitions/{cid}/winners")).json()["winners"] == []
    # The next run leaves it out; its ranking is what the organisers choose from.
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    assert rankings(await result_run(organiser, cid))["energie"] == [("Solardach", 1)]


async def test_a_winner_that_left_the_competition_is_not_published(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    outbox: Outbox,
) -> None:
    organiser, competition, ids, _ = await scored_competition(client, new_client, pool, smtp_server)
    cid, slug = competition["id"], competition["slug"]
    run = await result_run(organiser, cid)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})
    picks = [
        {"category": "energie", "entry_id": ids["Abwärme nutzen"], "place": 1},
        {"category": "mobilitaet", "entry_id": ids["Lastenrad-Flotte"], "place": 1},
    ]
    r = await organiser.put(
        f"/api/v1/competitions/{cid}/winners", json={"result_run_id": run["id"], "winners": picks}
    )
    assert r.status_code == 200, r.text

    owner = await login(new_client(), ALPHA_OWNER)
    r = await owner.post(
        f"/api/v1/entries/{ids['Abwärme nutzen']}/withdraw",
        json={"reason": "Wir ziehen zurück."},
    )
    assert r.status_code == 200
    async with pool.acquire() as conn:
        # No operation disqualifies yet (the formal pre-check will); the state is what counts.
        await conn.execute(
            "UPDATE entry SET status = 'disqualified' WHERE id = $1",
            uuid.UUID(ids["Lastenrad-Flotte"]),
        )
    r = await organiser.post(f"/api/v1/competitions/{cid}/publish")
    assert (r.status_code, r.json()) == (
        409,
        {
            "error": "winner_left_competition",
            "detail": "„Lastenrad-Flotte“: Dieser Beitrag ist ausgeschlossen und kann nicht "
            "gewinnen. „Abwärme nutzen“: Dieser Beitrag wurde zurückgezogen und kann nicht "
            "gewinnen. Bitte legen Sie die Sieger neu fest.",
        },
    )
    assert (await organiser.get(f"/api/v1/competitions/{cid}")).json()["phase"] == "deliberation"
    r = await organiser.get(f"/api/v1/competitions/{cid}/result-runs/{run['id']}")
    assert r.json()["frozen"] is False
    assert (await client.get(f"/api/v1/public/competitions/{slug}/winners")).status_code == 404
    drained = await outbox.drained()  # an announcement would have been sent by now
    assert smtp_server.messages == []
    assert [kind for kind, _ in drained.events if kind == "competition.published"] == []
    assert drained.failed_events == []

    # A new run without them, winners from it: published, through the competition's phases.
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    run = await result_run(organiser, cid)
    assert rankings(run) == {
        "mobilitaet": [('=HYPERLINK("http://x")', 1)],
        "energie": [("Solardach", 1)],
    }
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})
    picks = [
        {"category": "energie", "entry_id": ids["Solardach"], "place": 1},
        {"category": "mobilitaet", "entry_id": ids['=HYPERLINK("http://x")'], "place": 1},
    ]
    r = await organiser.put(
        f"/api/v1/competitions/{cid}/winners", json={"result_run_id": run["id"], "winners": picks}
    )
    assert r.status_code == 200, r.text
    r = await organiser.post(f"/api/v1/competitions/{cid}/publish")
    assert r.status_code == 202, r.text
    organiser_id = (await organiser.get("/api/v1/me")).json()["id"]
    changes = await audited(pool, "competition.phase_changed")
    moves = [(d["from"], d["to"], d["by"]) for d in changes]
    assert moves == [
        ("draft", "open", organiser_id),
        ("open", "closed", organiser_id),
        ("closed", "judging", organiser_id),
        ("judging", "deliberation", organiser_id),
        ("deliberation", "judging", organiser_id),
        ("judging", "deliberation", organiser_id),
        ("deliberation", "published", organiser_id),
    ]
    async with pool.acquire() as conn:
        events = await conn.fetch(
            """SELECT payload FROM event WHERE kind = 'competition.phase_changed'
               ORDER BY created_at, id"""
        )
    assert [(e["payload"]["from"], e["payload"]["to"]) for e in events][-1] == (
        "deliberation",
        "published",
    )
    assert len(events) == len(moves)


async def test_a_withdrawal_waits_for_a_publication_in_progress_and_then_is_refused(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    organiser, competition, ids, _ = await scored_competition(client, new_client, pool, smtp_server)
    cid = competition["id"]
    run = await result_run(organiser, cid)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})
    picks = [
        {"category": "energie", "entry_id": ids["Abwärme nutzen"], "place": 1},
        {"category": "mobilitaet", "entry_id": ids["Lastenrad-Flotte"], "place": 1},
    ]
    r = await organiser.put(
        f"/api/v1/competitions/{cid}/winners", json={"result_run_id": run["id"], "winners": picks}
    )
    assert r.status_code == 200, r.text
    owner = await login(new_client(), ALPHA_OWNER)

    async with connection(pool) as conn:
        account = await account_queries.get_account_by_email(conn, email="orga@wettbewerb.test")
        assert account is not None
        principal = Principal(
            account_id=account.id,
            email=account.email,
            name=account.name,
            locale="de",
            is_organiser=True,
            email_verified=True,
            via="session",
            scopes=frozenset({"read", "write", "organise"}),
            password_changed_at=account.password_changed_at,
        )
        transaction = conn.transaction()
        await transaction.start()
        published = await results.publish(conn, principal, uuid.UUID(cid))
        assert published.status == "published"
        # The entrant withdraws while the publication is not yet committed.
        withdrawal = asyncio.create_task(
            owner.post(
                f"/api/v1/entries/{ids['Abwärme nutzen']}/withdraw",
                json={"reason": "Im letzten Moment."},
            )
        )
        await blocked_by(pool, conn)
        waited = not withdrawal.done()
        await transaction.commit()
    r = await withdrawal
    assert (waited, r.status_code, r.json()["error"]) == (True, 409, "not_withdrawable")
    r = await owner.get(f"/api/v1/entries/{ids['Abwärme nutzen']}")
    assert r.json()["status"] == "submitted"
    public = (await client.get(f"/api/v1/public/competitions/{competition['slug']}/winners")).json()
    assert [(c["category"], [w["title"] for w in c["winners"]]) for c in public["categories"]] == [
        ("mobilitaet", ["Lastenrad-Flotte"]),
        ("energie", ["Abwärme nutzen"]),
    ]
