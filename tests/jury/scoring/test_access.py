"""Who may see what on the jury side: conflicted jurors, jurors of other competitions, and blind
judging, which must keep every trace of the company's identity out of juror-facing responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.jury import confidentiality
from tests.conftest import token_from
from tests.helpers import (
    PASSWORD,
    Session,
    account,
    company_body,
    competition_body,
    login,
    open_competition,
    poll,
    submitted_entry,
    text,
)

pytestmark = pytest.mark.usefixtures("worker")


class Jury:
    organiser: Session
    competition: dict[str, Any]
    entry: dict[str, Any]
    company: dict[str, Any]
    juror: Session
    juror_id: str
    assignment_id: str
    attachment_id: str


async def jury_with_one_assignment(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    *,
    blind: bool,
    company: dict[str, Any],
    owner_email: str,
    slug: str = "ind-2026",
) -> Jury:
    """One company, one submitted entry with one attachment, one juror assigned to it, judging."""
    jury = Jury()
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    jury.organiser = await login(client, "orga@wettbewerb.test")
    jury.competition = await open_competition(
        jury.organiser, slug=slug, blind_judging=blind, reviews_per_entry=1
    )
    cid = jury.competition["id"]
    await account(pool, owner_email, "Inhaberin Geheim")
    owner = await login(new_client(), owner_email)
    jury.company = (await owner.post("/api/v1/companies", json=company)).json()
    jury.entry = await submitted_entry(
        owner, cid, jury.company, title="Neutrale Idee", summary="Sachlich.", files=1
    )
    await smtp_server.wait_for(1, timeout=20)
    await jury.organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    r = await jury.organiser.post(
        f"/api/v1/competitions/{cid}/jurors",
        json={"email": "juror@uni.example", "name": "Jutta Juror", "expertise": ["energie"]},
    )
    jury.juror_id = r.json()["id"]
    mail = (await smtp_server.wait_for(1, timeout=20))[0]
    c = new_client()
    r = await c.post(
        "/api/v1/jury/invitations/accept",
        json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    jury.juror = await login(c, "juror@uni.example")
    r = await jury.juror.put(
        f"/api/v1/competitions/{cid}/conflicts/me",
        json={"conflicts": [], "confirmed_complete": True},
    )
    assert r.status_code == 200
    run = (await jury.organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={})).json()

    async def done() -> bool:
        r = await jury.organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
        return bool(r.json()["status"] == "done")

    await poll(done)
    smtp_server.clear()
    await jury.organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}/deploy")
    assigned = await smtp_server.wait_for(1, timeout=20)
    assert [m.message["Subject"] for m in assigned] == [
        "Ein Beitrag zur Bewertung: Industrie. Neu. Denken. 2026"
    ]
    smtp_server.clear()
    await jury.organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    items = (await jury.juror.get(f"/api/v1/me/assignments?competition_id={cid}")).json()
    assert [i["entry"]["id"] for i in items] == [jury.entry["id"]]
    jury.assignment_id = items[0]["id"]
    detail = (await jury.juror.get(f"/api/v1/assignments/{jury.assignment_id}")).json()
    jury.attachment_id = detail["attachments"][0]["id"]
    return jury


async def test_conflict_recorded_after_assignment_shuts_the_juror_out(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await jury_with_one_assignment(
        client,
        new_client,
        pool,
        smtp_server,
        blind=False,
        company=company_body("Offen GmbH"),
        owner_email="chefin@offen.example",
    )
    cid = jury.competition["id"]
    r = await jury.organiser.post(
        f"/api/v1/competitions/{cid}/conflicts",
        json={"juror_id": jury.juror_id, "company_id": jury.company["id"], "type": "supplier"},
    )
    assert r.status_code == 201
    results = [
        (await jury.juror.get(f"/api/v1/assignments/{jury.assignment_id}")).status_code,
        (await jury.juror.get(f"/api/v1/attachments/{jury.attachment_id}")).status_code,
        (await jury.juror.get(f"/api/v1/attachments/{jury.attachment_id}/download")).status_code,
        (
            await jury.juror.put(
                f"/api/v1/assignments/{jury.assignment_id}/score",
                json={"scores": {"innovation": 5, "impact": 5}, "final": False},
            )
        ).status_code,
        (await jury.juror.get(f"/api/v1/entries/{jury.entry['id']}")).status_code,
    ]
    assert results == [404, 404, 404, 404, 404]
    assert (await jury.juror.get(f"/api/v1/me/assignments?competition_id={cid}")).json() == []
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM assignment") == 0


async def test_juror_of_another_competition_sees_nothing(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await jury_with_one_assignment(
        client,
        new_client,
        pool,
        smtp_server,
        blind=False,
        company=company_body("Offen GmbH"),
        owner_email="chefin@offen.example",
    )
    cid = jury.competition["id"]
    other = (
        await jury.organiser.post("/api/v1/competitions", json=competition_body("anderer-2027"))
    ).json()
    await jury.organiser.post(f"/api/v1/competitions/{other['id']}/phase", json={"to": "open"})
    smtp_server.clear()
    await jury.organiser.post(
        f"/api/v1/competitions/{other['id']}/jurors",
        json={"email": "fremd@uni.example", "name": "Fritz Fremd"},
    )
    mail = (await smtp_server.wait_for(1, timeout=20))[0]
    c = new_client()
    await c.post(
        "/api/v1/jury/invitations/accept",
        json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
    )
    stranger = await login(c, "fremd@uni.example")
    results = [
        (await stranger.get(f"/api/v1/assignments/{jury.assignment_id}")).status_code,
        (
            await stranger.put(
                f"/api/v1/assignments/{jury.assignment_id}/score",
                json={"scores": {"innovation": 1, "impact": 1}, "final": True},
            )
        ).status_code,
        (await stranger.get(f"/api/v1/attachments/{jury.attachment_id}")).status_code,
        (await stranger.get(f"/api/v1/attachments/{jury.attachment_id}/download")).status_code,
        (await stranger.get(f"/api/v1/entries/{jury.entry['id']}")).status_code,
        (await stranger.get(f"/api/v1/competitions/{cid}/conflicts/me")).status_code,
        (await stranger.get(f"/api/v1/me/assignments?competition_id={cid}")).status_code,
        (await stranger.get(f"/api/v1/competitions/{cid}/jurors")).status_code,
        (await stranger.get(f"/api/v1/competitions/{cid}/entries")).status_code,
    ]
    assert results == [404, 404, 404, 404, 404, 404, 404, 403, 403]
    assert (await stranger.get("/api/v1/me/assignments")).json() == []


SECRET_COMPANY = {
    "name": "Verborgene Feinmechanik GmbH",
    "street": "Geheimweg 77",
    "postal_code": "08523",
    "city": "Plauen",
    "district": "vogtlandkreis",
    "employees": 33,
    "website": "https://verborgene-feinmechanik.example",
}
IDENTIFYING = (
    "Verborgene",
    "Feinmechanik",
    "Geheimweg",
    "verborgene-feinmechanik",
    "08523",
    "Plauen",
    "Inhaberin Geheim",
    "chefin@",
)


async def test_blind_judging_leaks_no_company_identity(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await jury_with_one_assignment(
        client,
        new_client,
        pool,
        smtp_server,
        blind=True,
        company=SECRET_COMPANY,
        owner_email="chefin@verborgene-feinmechanik.example",
    )
    cid = jury.competition["id"]
    j = jury.juror
    seen: list[tuple[str, str]] = []

    async def record(label: str, response: httpx.Response) -> httpx.Response:
        assert (label, response.status_code) == (label, 200), response.text
        seen.append((label, json.dumps(dict(response.headers)) + response.text))
        return response

    await record("me", await j.get("/api/v1/me"))
    await record("competitions", await j.get("/api/v1/competitions"))
    await record("competition", await j.get(f"/api/v1/competitions/{cid}"))
    await record("conflicts", await j.get(f"/api/v1/competitions/{cid}/conflicts/me"))
    await record(
        "conflicts put",
        await j.put(
            f"/api/v1/competitions/{cid}/conflicts/me",
            json={
                "conflicts": [{"company": "Meine frühere Firma AG", "type": "former_employee"}],
                "confirmed_complete": True,
            },
        ),
    )
    await record("assignments", await j.get("/api/v1/me/assignments"))
    await record(
        "assignments of competition", await j.get(f"/api/v1/me/assignments?competition_id={cid}")
    )
    await record("assignment", await j.get(f"/api/v1/assignments/{jury.assignment_id}"))
    await record("attachment", await j.get(f"/api/v1/attachments/{jury.attachment_id}"))
    link = await record(
        "download", await j.get(f"/api/v1/attachments/{jury.attachment_id}/download")
    )
    async with httpx.AsyncClient() as store:
        got = await store.get(link.json()["url"])
    seen.append(("download headers", json.dumps(dict(got.headers))))
    await record(
        "score",
        await j.put(
            f"/api/v1/assignments/{jury.assignment_id}/score",
            json={"scores": {"innovation": 7, "impact": 7}, "final": False},
        ),
    )
    await record("companies", await j.get("/api/v1/me/companies"))
    await record("entries", await j.get("/api/v1/me/entries"))

    leaks = [
        (label, needle)
        for label, body in seen
        for needle in IDENTIFYING
        if needle.lower() in body.lower()
    ]
    assert leaks == []
    assert len(seen) == 14
    # The neutral name reached the download as well.
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''Anhang-1.pdf"
    # And the company's file name is really there for its owner: the test can fail.
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT filename FROM attachment") == (
            "Verborgene Feinmechanik GmbH Anlage 1.pdf"
        )


async def test_no_entry_before_the_confidentiality_commitment(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await jury_with_one_assignment(
        client,
        new_client,
        pool,
        smtp_server,
        blind=False,
        company=company_body("Offen GmbH"),
        owner_email="chefin@offen.example",
    )
    async with pool.acquire() as conn:
        version = await conn.fetchval("SELECT confidentiality_version FROM juror")
        # As if the juror had never committed (e.g. a record from before the agreement).
        await conn.execute("UPDATE juror SET confidentiality_accepted_at = NULL")
    assert version == confidentiality.VERSION
    cid = jury.competition["id"]
    results = [
        (r.status_code, r.json()["error"])
        for r in (
            await jury.juror.get(f"/api/v1/me/assignments?competition_id={cid}"),
            await jury.juror.get(f"/api/v1/assignments/{jury.assignment_id}"),
            await jury.juror.get(f"/api/v1/attachments/{jury.attachment_id}"),
        )
    ]
    assert results == [
        (403, "confidentiality_required"),
        (403, "confidentiality_required"),
        (404, "not_found"),
    ]
    agreement = (await client.get("/api/v1/jury/confidentiality")).json()
    assert (agreement["version"], sorted(agreement["text"])) == (
        confidentiality.VERSION,
        ["de", "en"],
    )


async def test_refusing_confidentiality_refuses_the_invitation(
    client: httpx.AsyncClient, pool: asyncpg.Pool, smtp_server: Any
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    smtp_server.clear()
    await organiser.post(
        f"/api/v1/competitions/{competition['id']}/jurors",
        json={"email": "nein@uni.example", "name": "Nein"},
    )
    mail = (await smtp_server.wait_for(1, timeout=20))[0]
    r = await client.post(
        "/api/v1/jury/invitations/accept",
        json={
            "token": token_from(text(mail), "/jury/accept"),
            "password": PASSWORD,
            "accept_confidentiality": False,
        },
    )
    assert (r.status_code, r.json()["fields"][0]["field"]) == (422, "accept_confidentiality")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT status FROM juror") == "invited"
