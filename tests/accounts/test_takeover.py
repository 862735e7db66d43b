"""Account takeover: a pre-registered address never becomes the registrant's way into a juror's
account, and a new password ends every session and API token opened with the old one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.accounts.service import ensure_account
from competition.db import transaction
from tests.conftest import token_from
from tests.helpers import PASSWORD, Session, account, login, open_competition, poll, text

pytestmark = pytest.mark.usefixtures("worker")

JUROR = "jo@hochschule.example"
ATTACKER_PASSWORD = "vom-angreifer-gewaehlt"
JUROR_PASSWORD = "jurorin-waehlt-2026"


async def _invite(
    organiser: Session, smtp_server: Any, competition_id: str, email: str = JUROR
) -> str:
    """Invite `email` into the jury; the token from the invitation mail."""
    smtp_server.clear()
    r = await organiser.post(
        f"/api/v1/competitions/{competition_id}/jurors",
        json={"email": email, "name": "Prof. Jo Beispiel", "expertise": []},
    )
    assert r.status_code == 201, r.text

    async def invitation() -> Any:
        found = [m for m in smtp_server.messages if m.message["Subject"].startswith("Einladung")]
        return found[0] if found else None

    return token_from(text(await poll(invitation, timeout=20)), "/jury/accept")


async def _organiser(pool: asyncpg.Pool, client: httpx.AsyncClient) -> Session:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    return await login(client, "orga@wettbewerb.test")


async def _status(client: httpx.AsyncClient, email: str, password: str) -> int:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return r.status_code


async def _juror_status(pool: asyncpg.Pool, email: str = JUROR) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT status FROM juror WHERE email = $1 ORDER BY status", email)
    return [r["status"] for r in rows]


async def test_invitation_to_a_pre_registered_address_locks_the_registrant_out(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    attacker = new_client()
    r = await attacker.post(
        "/api/v1/auth/register",
        json={"email": JUROR, "password": ATTACKER_PASSWORD, "name": "Angreifer"},
    )
    assert r.status_code == 201
    organiser = await _organiser(pool, new_client())
    competition = await open_competition(organiser)
    token = await _invite(organiser, smtp_server, competition["id"])

    # The link alone neither verifies nor links the registrant's account.
    r = await client.post("/api/v1/jury/invitations/accept", json={"token": token})
    assert (r.status_code, r.json()["error"]) == (422, "account_exists")
    assert await _juror_status(pool) == ["invited"]
    assert await _status(attacker, JUROR, ATTACKER_PASSWORD) == 403  # still unverified

    r = await client.post(
        "/api/v1/jury/invitations/accept", json={"token": token, "password": JUROR_PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["account_created"], r.json()["password_set"]) == (False, True)
    assert await _status(attacker, JUROR, ATTACKER_PASSWORD) == 401
    juror = await login(new_client(), JUROR, JUROR_PASSWORD)
    me = (await juror.get("/api/v1/me")).json()
    assert (me["name"], me["roles"], me["email_verified"]) == (
        "Prof. Jo Beispiel",
        ["entrant", "juror"],
        True,
    )


async def test_invitation_to_a_verified_account_needs_its_password_or_a_new_one(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, JUROR, "Jo")
    before = await login(new_client(), JUROR)
    r = await before.post("/api/v1/me/tokens", json={"name": "Kalender"})
    assert r.status_code == 201
    api_token = r.json()["token"]
    organiser = await _organiser(pool, new_client())
    first = await open_competition(organiser, slug="ind-2026")
    token = await _invite(organiser, smtp_server, first["id"])

    r = await client.post("/api/v1/jury/invitations/accept", json={"token": token})
    assert (r.status_code, r.json()["error"]) == (422, "account_exists")
    r = await client.post(
        "/api/v1/jury/invitations/accept", json={"token": token, "password": "falsch-geraten-1"}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid_credentials")
    assert await _juror_status(pool) == ["invited"]

    # Its password proves the account: linked, nothing else changes.
    r = await client.post(
        "/api/v1/jury/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert (r.status_code, r.json()["account_created"], r.json()["password_set"]) == (
        200,
        False,
        False,
    )
    assert (await before.get("/api/v1/me")).status_code == 200
    bearer = {"Authorization": f"Bearer {api_token}"}
    assert (await new_client().get("/api/v1/me", headers=bearer)).status_code == 200

    # A new password instead: the account is taken over by the address's owner, and everything
    # opened with the old password ends.
    second = await open_competition(organiser, slug="ind-2027")
    token = await _invite(organiser, smtp_server, second["id"])
    r = await client.post(
        "/api/v1/jury/invitations/accept",
        json={"token": token, "password": JUROR_PASSWORD, "replace_password": True},
    )
    assert (r.status_code, r.json()["password_set"]) == (200, True)
    assert (await before.get("/api/v1/me")).status_code == 401
    assert (await new_client().get("/api/v1/me", headers=bearer)).status_code == 401
    assert await _status(new_client(), JUROR, PASSWORD) == 401
    assert await _status(new_client(), JUROR, JUROR_PASSWORD) == 200
    assert await _juror_status(pool) == ["active", "active"]


async def test_token_made_before_a_password_reset_is_401_after_it(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    session = await login(client, "erika@zulieferer.example")
    r = await session.post("/api/v1/me/tokens", json={"name": "ERP", "scopes": ["read"]})
    bearer = {"Authorization": f"Bearer {r.json()['token']}"}
    other = new_client()
    assert (await other.get("/api/v1/me", headers=bearer)).status_code == 200

    await other.post("/api/v1/auth/password-reset", json={"email": "erika@zulieferer.example"})
    (mail,) = await smtp_server.wait_for(1, timeout=20)
    r = await other.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token_from(text(mail), "/password-reset"), "password": "ganz-neu-2026"},
    )
    assert r.status_code == 200
    assert (await other.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (await session.get("/api/v1/me")).status_code == 401
    async with pool.acquire() as conn:
        revoked = await conn.fetchval("SELECT count(*) FROM api_token WHERE revoked_at IS NOT NULL")
    assert revoked == 1


async def test_password_change_ends_other_sessions_and_tokens(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    here = await login(client, "erika@zulieferer.example")
    elsewhere = await login(new_client(), "erika@zulieferer.example")
    minted = await here.post("/api/v1/me/tokens", json={"name": "x"})
    bearer = {"Authorization": f"Bearer {minted.json()['token']}"}

    r = await here.post(
        "/api/v1/me/password",
        json={"current_password": "nicht-das-richtige", "new_password": "ganz-neu-2026"},
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid_credentials")
    assert (await elsewhere.get("/api/v1/me")).status_code == 200

    r = await here.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "ganz-neu-2026"},
    )
    assert r.status_code == 200
    here = Session(client, r.json()["csrf_token"])  # this browser goes on with a new session
    assert (await here.get("/api/v1/me")).status_code == 200
    assert (await elsewhere.get("/api/v1/me")).status_code == 401
    assert (await new_client().get("/api/v1/me", headers=bearer)).status_code == 401
    assert await _status(new_client(), "erika@zulieferer.example", PASSWORD) == 401
    # A token minted now, with the new session, works.
    r = await here.post("/api/v1/me/tokens", json={"name": "neu"})
    fresh = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await new_client().get("/api/v1/me", headers=fresh)).status_code == 200


async def test_operator_command_on_a_pre_registered_address_locks_the_registrant_out(
    new_client: Callable[[], httpx.AsyncClient], pool: asyncpg.Pool, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "chefin@wettbewerb.test", "password": ATTACKER_PASSWORD, "name": "X"},
    )
    assert r.status_code == 201
    async with transaction(pool) as conn:
        _, created = await ensure_account(
            conn,
            email="chefin@wettbewerb.test",
            name="Chefin",
            password="vom-betrieb-gesetzt",
            organiser=True,
        )
    assert created is False
    assert await _status(new_client(), "chefin@wettbewerb.test", ATTACKER_PASSWORD) == 401
    organiser = await login(new_client(), "chefin@wettbewerb.test", "vom-betrieb-gesetzt")
    me = (await organiser.get("/api/v1/me")).json()
    assert (me["name"], me["roles"]) == ("Chefin", ["entrant", "organiser"])


async def test_invitation_page_asks_an_existing_account_for_its_password(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, JUROR, "Jo")
    organiser = await _organiser(pool, new_client())
    competition = await open_competition(organiser)
    token = await _invite(organiser, smtp_server, competition["id"])

    page = await client.get("/jury/accept", params={"token": token})
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.text
    assert 'name="replace_password"' in page.text
    form = {"token": token, "accept_confidentiality": "1", "accept_privacy": "1", "csrf_token": ""}
    r = await client.post("/jury/accept", data=form)
    assert r.status_code == 422
    assert await _juror_status(pool) == ["invited"]
    r = await client.post("/jury/accept", data={**form, "password": PASSWORD})
    assert (r.status_code, r.headers["location"]) == (
        303,
        f"/jury/{competition['id']}/konflikte",
    )
    assert (await client.get(f"/jury/{competition['id']}/konflikte")).status_code == 200
    assert await _juror_status(pool) == ["active"]
