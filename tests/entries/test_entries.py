"""Entry rules over HTTP: isolation between companies, the deadline, optimistic concurrency,
eligibility, reminders, the competition's progress. (Phases and the clock: tests/competitions;
invitations to a company: tests/companies.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from competition.services import Services
from tests.conftest import Mail, Outbox, sent
from tests.helpers import (
    PDF_BYTES,
    Session,
    account,
    company_body,
    login,
    open_competition,
    upload,
)
from workers.periodic import tick

pytestmark = pytest.mark.usefixtures("worker")


class World:
    organiser: Session
    competition: dict[str, Any]
    a: Session
    b: Session
    company_a: dict[str, Any]
    company_b: dict[str, Any]
    entry_a: dict[str, Any]
    entry_b: dict[str, Any]


async def make_entry(
    session: Session, competition_id: str, company_id: str, title: str
) -> dict[str, Any]:
    r = await session.post(
        f"/api/v1/competitions/{competition_id}/entries",
        json={"company_id": company_id, "category": "energie", "title": title, "summary": "S"},
    )
    assert r.status_code == 201, r.text
    entry: dict[str, Any] = r.json()
    return entry


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
    w.a = await login(client, "anna@firma-a.example")
    w.b = await login(new_client(), "bernd@firma-b.example")
    w.company_a = (await w.a.post("/api/v1/companies", json=company_body("A GmbH"))).json()
    w.company_b = (
        await w.b.post("/api/v1/companies", json=company_body("B AG", district="chemnitz"))
    ).json()
    w.entry_a = await make_entry(w.a, w.competition["id"], w.company_a["id"], "Idee A")
    w.entry_b = await make_entry(w.b, w.competition["id"], w.company_b["id"], "Idee B")
    return w


async def test_company_a_cannot_read_or_change_company_b(world: World, outbox: Outbox) -> None:
    w = world
    attachment_b = await upload(
        w.b, w.entry_b["id"], filename="b.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    eb, cb, ab = w.entry_b["id"], w.company_b["id"], attachment_b["id"]
    attempts = [
        ("GET", f"/api/v1/entries/{eb}", None),
        ("PATCH", f"/api/v1/entries/{eb}", {"title": "gekapert"}),
        ("POST", f"/api/v1/entries/{eb}/submit", None),
        ("POST", f"/api/v1/entries/{eb}/withdraw", None),
        (
            "POST",
            f"/api/v1/entries/{eb}/attachments",
            {"filename": "x.pdf", "content_type": "application/pdf", "size_bytes": 10},
        ),
        ("GET", f"/api/v1/attachments/{ab}", None),
        ("GET", f"/api/v1/attachments/{ab}/download", None),
        ("POST", f"/api/v1/attachments/{ab}/complete", None),
        ("DELETE", f"/api/v1/attachments/{ab}", None),
        ("GET", f"/api/v1/companies/{cb}", None),
        ("PATCH", f"/api/v1/companies/{cb}", {"name": "gekapert"}),
        ("POST", f"/api/v1/companies/{cb}/members", {"email": "anna@firma-a.example"}),
        (
            "POST",
            f"/api/v1/competitions/{w.competition['id']}/entries",
            {"company_id": cb, "category": "energie", "title": "fremd", "summary": "S"},
        ),
        ("GET", f"/api/v1/competitions/{w.competition['id']}/entries", None),
    ]
    results = []
    for method, path, body in attempts:
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        r = await getattr(w.a, method.lower())(path, **kwargs)
        results.append((method, path, r.status_code))
    expected = [(m, p, 404) for m, p, _ in attempts]
    expected[-1] = (expected[-1][0], expected[-1][1], 403)  # organisers only
    assert results == expected

    # Nothing changed, and A's own lists show only A.
    r = await w.b.get(f"/api/v1/entries/{eb}")
    assert (r.json()["title"], r.json()["status"], r.json()["version"]) == ("Idee B", "draft", 1)
    await outbox.drained()  # B's file verified, whatever A tried meanwhile
    r = await w.b.get(f"/api/v1/entries/{eb}")
    assert [a["status"] for a in r.json()["attachments"]] == ["verified"]
    assert [e["title"] for e in (await w.a.get("/api/v1/me/entries")).json()] == ["Idee A"]
    assert [c["name"] for c in (await w.a.get("/api/v1/me/companies")).json()] == ["A GmbH"]


async def test_submit_and_edit_after_deadline_are_409(world: World) -> None:
    w = world
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await w.organiser.patch(
        f"/api/v1/competitions/{w.competition['id']}", json={"submission_closes_at": past}
    )
    assert r.status_code == 200, r.text
    assert r.json()["submissions_open"] is False

    r = await w.a.post(f"/api/v1/entries/{w.entry_a['id']}/submit")
    assert r.status_code == 409
    assert r.json()["error"] == "submissions_closed"
    assert r.json()["detail"].startswith("Die Einreichung ist geschlossen (Einsendeschluss: ")
    r = await w.a.patch(f"/api/v1/entries/{w.entry_a['id']}", json={"title": "zu spät"})
    assert (r.status_code, r.json()["error"]) == (409, "submissions_closed")
    r = await w.a.post(
        f"/api/v1/entries/{w.entry_a['id']}/attachments",
        json={"filename": "x.pdf", "content_type": "application/pdf", "size_bytes": 10},
    )
    assert (r.status_code, r.json()["error"]) == (409, "not_editable")
    r = await w.a.post(
        f"/api/v1/competitions/{w.competition['id']}/entries",
        json={
            "company_id": w.company_a["id"],
            "category": "energie",
            "title": "neu",
            "summary": "S",
        },
    )
    assert (r.status_code, r.json()["error"]) == (409, "submissions_closed")


async def test_patch_with_stale_version_is_412_and_changes_nothing(world: World) -> None:
    w = world
    path = f"/api/v1/entries/{w.entry_a['id']}"
    r = await w.a.patch(path, json={"summary": "erste Fassung"}, headers={"If-Match": "1"})
    assert (r.status_code, r.json()["version"]) == (200, 2)
    r = await w.a.patch(path, json={"summary": "veraltet"}, headers={"If-Match": "1"})
    assert (r.status_code, r.json()["error"]) == (412, "version_conflict")
    r = await w.a.get(path)
    assert (r.json()["summary"], r.json()["version"]) == ("erste Fassung", 2)


async def test_ineligible_company_drafts_but_cannot_submit(world: World) -> None:
    w = world
    r = await w.a.post(
        "/api/v1/companies", json=company_body("Leipziger Werk GmbH", district="leipzig")
    )
    company = r.json()
    entry = await make_entry(w.a, w.competition["id"], company["id"], "Idee L")
    reason = (
        "Der Unternehmenssitz (Leipzig) liegt nicht im Teilnahmegebiet (Chemnitz, "
        "Erzgebirgskreis, Landkreis Mittelsachsen, Vogtlandkreis, Landkreis Zwickau)."
    )
    assert (entry["eligible"], entry["eligibility_reason"]) == (False, reason)
    r = await w.a.post(f"/api/v1/entries/{entry['id']}/submit")
    assert r.status_code == 409
    assert r.json() == {"error": "ineligible", "detail": reason}
    assert (await w.a.get(f"/api/v1/entries/{entry['id']}")).json()["status"] == "draft"


async def test_reminders_72h_and_24h_each_once(
    world: World, smtp_server: Any, services: Services, outbox: Outbox
) -> None:
    w = world
    smtp_server.clear()
    in_50h = (datetime.now(UTC) + timedelta(hours=50)).isoformat()
    await w.organiser.patch(
        f"/api/v1/competitions/{w.competition['id']}", json={"submission_closes_at": in_50h}
    )
    confirmed_b = ("bernd@firma-b.example", "Eingangsbestätigung: Idee B")
    three_days = [
        ("anna@firma-a.example", "Erinnerung: Einsendeschluss in drei Tagen – Idee A"),
        ("bernd@firma-b.example", "Erinnerung: Einsendeschluss in drei Tagen – Idee B"),
    ]
    assert sent(await smtp_server.wait_for(2, timeout=15)) == three_days
    await w.b.post(f"/api/v1/entries/{w.entry_b['id']}/submit")  # B is done: no more reminders
    await outbox.drained()
    assert sent(smtp_server.messages) == sorted([*three_days, confirmed_b])
    smtp_server.clear()
    in_20h = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
    await w.organiser.patch(
        f"/api/v1/competitions/{w.competition['id']}", json={"submission_closes_at": in_20h}
    )
    tomorrow = ("anna@firma-a.example", "Erinnerung: Einsendeschluss morgen – Idee A")
    assert sent(await smtp_server.wait_for(1, timeout=15)) == [tomorrow]
    # Two more ticks of the clock, and whatever they queued sent: nothing is sent twice.
    assert [(await tick(services))["deadline_reminders"] for _ in range(2)] == [0, 0]
    drained = await outbox.drained()
    assert sent(smtp_server.messages) == [tomorrow]
    assert drained.failed_events == []
    assert drained.mails == sorted(
        Mail(to, subject, "sent", 1) for to, subject in [*three_days, confirmed_b, tomorrow]
    )


async def test_progress_counts_entries_by_status_and_category(world: World) -> None:
    w = world
    await w.b.post(f"/api/v1/entries/{w.entry_b['id']}/submit")
    r = await w.organiser.get(f"/api/v1/competitions/{w.competition['id']}/progress")
    assert r.json() == {
        "phase": "open",
        "submissions_open": True,
        "entries": {"draft": 1, "submitted": 1, "withdrawn": 0, "disqualified": 0},
        "by_category": [
            {
                "category": "mobilitaet",
                "draft": 0,
                "submitted": 0,
                "withdrawn": 0,
                "disqualified": 0,
            },
            {"category": "energie", "draft": 1, "submitted": 1, "withdrawn": 0, "disqualified": 0},
        ],
        "jurors": [],
        "reviews": [
            {
                "entry_id": w.entry_b["id"],
                "title": "Idee B",
                "category": "energie",
                "assigned": 0,
                "final": 0,
                "missing": 2,
            },
        ],
        "sheets_final": 0,
        "sheets_assigned": 0,
        "voided": [],
    }
    assert (
        await w.a.get(f"/api/v1/competitions/{w.competition['id']}/progress")
    ).status_code == 403
