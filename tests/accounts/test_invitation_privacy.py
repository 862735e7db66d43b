"""An account that comes into being (or changes hands) by accepting a jury invitation records
the privacy consent as registration does: the juror accepts the notice on the invitation page
or in the API body (`accept_privacy`), and refusing it accepts nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from competition.accounts import privacy_notice as notice
from tests.accounts.test_takeover import JUROR, _invite, _juror_status, _organiser
from tests.helpers import PASSWORD, account, login, open_competition

pytestmark = pytest.mark.usefixtures("worker")


async def consent(pool: asyncpg.Pool, email: str = JUROR) -> tuple[str | None, datetime | None]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT privacy_version, privacy_accepted_at FROM account WHERE email = $1", email
        )
    return (row["privacy_version"], row["privacy_accepted_at"]) if row else (None, None)


async def accounts(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval("SELECT count(*) FROM account WHERE email = $1", JUROR)
    return found


async def test_an_account_created_by_an_invitation_records_the_privacy_consent(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    organiser = await _organiser(pool, new_client())
    competition = await open_competition(organiser)
    token = await _invite(organiser, smtp_server, competition["id"])
    body = {"token": token, "password": PASSWORD}

    r = await client.post("/api/v1/jury/invitations/accept", json={**body, "accept_privacy": False})
    assert (r.status_code, r.json()["error"], r.json()["fields"]) == (
        422,
        "validation_error",
        [{"field": "accept_privacy", "message": "Bitte der Datenschutzerklärung zustimmen."}],
    )
    assert (await accounts(pool), await _juror_status(pool)) == (0, ["invited"])

    r = await client.post("/api/v1/jury/invitations/accept", json=body)
    assert (r.status_code, r.json()["account_created"]) == (200, True)
    version, accepted_at = await consent(pool)
    assert (version, accepted_at is not None) == (notice.VERSION, True)
    juror = await login(new_client(), JUROR)
    exported = (await juror.get("/api/v1/me/export")).json()["account"]
    assert exported["privacy_version"] == notice.VERSION


async def test_taking_over_an_unclaimed_account_records_the_jurors_own_consent(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    r = await new_client().post(
        "/api/v1/auth/register",
        json={"email": JUROR, "password": "vom-angreifer-gewaehlt", "name": "Wer auch immer"},
    )
    assert r.status_code == 201
    _, registrants = await consent(pool)
    organiser = await _organiser(pool, new_client())
    competition = await open_competition(organiser)
    token = await _invite(organiser, smtp_server, competition["id"])
    r = await client.post(
        "/api/v1/jury/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert (r.status_code, r.json()["account_created"]) == (200, False)
    version, accepted_at = await consent(pool)
    assert registrants is not None
    assert accepted_at is not None
    assert (version, accepted_at > registrants) == (notice.VERSION, True)


async def test_an_existing_account_without_consent_gets_it_recorded_on_the_page(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    # Made by the operator's command: it never saw the privacy notice.
    await account(pool, JUROR, "Jo")
    assert await consent(pool) == (None, None)
    organiser = await _organiser(pool, new_client())
    competition = await open_competition(organiser)
    token = await _invite(organiser, smtp_server, competition["id"])

    page = await client.get("/jury/accept", params={"token": token})
    assert 'name="accept_privacy" value="1"' in page.text
    assert '<a href="/datenschutz" target="_blank" rel="noopener">' in page.text
    form = {
        "token": token,
        "password": PASSWORD,
        "accept_confidentiality": "1",
        "csrf_token": "",
    }
    r = await client.post("/jury/accept", data=form)
    assert r.status_code == 422
    assert (
        '<span class="error" id="f-accept_privacy-error">'
        "Bitte stimmen Sie den Datenschutzhinweisen zu.</span>"
    ) in r.text
    assert (await consent(pool), await _juror_status(pool)) == ((None, None), ["invited"])

    r = await client.post("/jury/accept", data={**form, "accept_privacy": "1"})
    assert (r.status_code, r.headers["location"]) == (303, f"/jury/{competition['id']}/konflikte")
    version, first = await consent(pool)
    assert (version, first is not None, await _juror_status(pool)) == (
        notice.VERSION,
        True,
        ["active"],
    )

    # Accepting the same notice again (a second invitation) keeps the first moment.
    other = await open_competition(organiser, slug="ind-2027")
    token = await _invite(organiser, smtp_server, other["id"])
    r = await client.post(
        "/jury/accept",
        data={
            "token": token,
            "accept_confidentiality": "1",
            "accept_privacy": "1",
            "csrf_token": client.cookies["ind_csrf"],
        },
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/jury/{other['id']}/konflikte")
    assert await consent(pool) == (notice.VERSION, first)
