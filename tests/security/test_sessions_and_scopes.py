"""Login CSRF, token scopes and the content security policy."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from competition.config import Settings
from tests.conftest import PUBLIC_URL
from tests.helpers import PASSWORD, Session, account, competition_body, login, open_competition

pytestmark = pytest.mark.usefixtures("worker")

EVIL = "https://boese-seite.example"


async def _count(pool: asyncpg.Pool, sql: str) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(sql)
    return found


async def test_login_form_refuses_a_post_from_another_site(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
) -> None:
    await account(pool, "angreifer@boese.example", "A")
    form = {"email": "angreifer@boese.example", "password": PASSWORD}
    refused = []
    for headers in (
        {"Origin": EVIL},
        {"Referer": f"{EVIL}/falle.html"},
        {"Origin": "null"},
        {"Origin": "http://testserver.example"},
    ):
        r = await client.post("/login", data=form, headers=headers)
        refused.append((r.status_code, "ind_session" in r.cookies))
        assert "Diese Anfrage kam von einer fremden Seite und wurde abgelehnt." in r.text
    assert refused == [(403, False)] * 4
    r = await client.post(
        "/api/v1/auth/login",
        json=form,
        headers={"Origin": EVIL},
    )
    assert (r.status_code, r.json()["error"]) == (403, "cross_site_request")

    # From our own pages (public address or the address the request went to) it works.
    for headers in (
        {"Origin": PUBLIC_URL},
        {"Origin": "http://testserver"},
        {"Referer": f"{PUBLIC_URL}/login"},
    ):
        browser = new_client()
        r = await browser.post("/login", data=form, headers=headers)
        assert (r.status_code, r.headers.get("location")) == (303, "/mein-bereich")


async def test_registration_from_another_site_creates_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    r = await client.post(
        "/register",
        data={
            "email": "opfer@firma.example",
            "name": "Opfer",
            "password": PASSWORD,
            "password_repeat": PASSWORD,
            "accept_privacy": "1",
        },
        headers={"Origin": EVIL},
    )
    assert r.status_code == 403
    assert await _count(pool, "SELECT count(*) FROM account") == 0


async def _token(session: Session, *scopes: str) -> httpx.Response:
    return await session.post("/api/v1/me/tokens", json={"name": "t", "scopes": list(scopes)})


async def test_a_token_never_mints_broader_scopes(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    r = await _token(organiser, "read", "write")
    assert (r.status_code, r.json()["scopes"]) == (201, ["read", "write"])
    integration = Session(new_client(), "")
    integration.client.headers["Authorization"] = f"Bearer {r.json()['token']}"

    minted = [
        (scopes, (r := await _token(integration, *scopes)).status_code, r.json().get("error"))
        for scopes in (("read", "write", "organise"), ("organise",), ("read",), ("write",))
    ]
    assert minted == [
        (("read", "write", "organise"), 403, "insufficient_scope"),
        (("organise",), 403, "insufficient_scope"),
        (("read",), 201, None),
        (("write",), 201, None),
    ]
    assert await _count(pool, "SELECT count(*) FROM api_token") == 3

    await account(pool, "erika@zulieferer.example", "Erika")
    entrant = await login(new_client(), "erika@zulieferer.example")
    r = await _token(entrant, "read", "organise")
    assert (r.status_code, r.json()["fields"][0]["field"]) == (422, "scopes")


async def test_organiser_writes_need_the_organise_scope(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    cid = competition["id"]

    def bearer(token: str) -> httpx.AsyncClient:
        c = new_client()
        c.headers["Authorization"] = f"Bearer {token}"
        return c

    reader = bearer((await _token(organiser, "read", "write")).json()["token"])
    # Reading works …
    reads = [
        (await reader.get(path)).status_code
        for path in (
            f"/api/v1/competitions/{cid}",
            f"/api/v1/competitions/{cid}/entries",
            f"/api/v1/competitions/{cid}/progress",
        )
    ]
    assert reads == [200, 200, 200]
    # … organising does not.
    writes = [
        (r.status_code, r.json()["error"])
        for r in (
            await reader.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"}),
            await reader.post(f"/api/v1/competitions/{cid}/assignment-runs", json={}),
            await reader.post(f"/api/v1/competitions/{cid}/result-runs", json={}),
            await reader.post(f"/api/v1/competitions/{cid}/publish", json={}),
            await reader.post(
                f"/api/v1/competitions/{cid}/jurors",
                json={"email": "x@jury.example", "name": "X", "expertise": []},
            ),
            await reader.patch(f"/api/v1/competitions/{cid}", json={"reviews_per_entry": 3}),
            await reader.post("/api/v1/competitions", json={"slug": "neu"}),
        )
    ]
    assert writes == [(403, "insufficient_scope")] * 6 + [(422, "validation_error")]
    r = await reader.post(
        "/api/v1/competitions",
        json=competition_body("ind-2027"),
    )
    assert (r.status_code, r.json()["error"]) == (403, "insufficient_scope")
    state = await _count(pool, "SELECT count(*) FROM assignment_run") + await _count(
        pool, "SELECT count(*) FROM juror"
    )
    assert state == 0
    assert (await organiser.get(f"/api/v1/competitions/{cid}")).json()["phase"] == "open"

    organise = bearer((await _token(organiser, "read", "write", "organise")).json()["token"])
    r = await organise.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    assert (r.status_code, r.json()["phase"]) == (200, "closed")


async def test_csp_lets_pages_talk_only_to_us_and_the_object_store(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    store = urlsplit(settings.s3_public_endpoint or settings.s3_endpoint)
    for path in ("/", "/login", "/api/v1/competitions", "/does-not-exist"):
        policy = (await client.get(path)).headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["connect-src"] == f"'self' {store.scheme}://{store.netloc}"
