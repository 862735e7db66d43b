"""The dates of a competition stay within the years it can be held in (2000–2199), whichever way
they arrive: creating it, changing it over the API or on the organiser's edit form."""

from __future__ import annotations

import asyncpg
import httpx

from tests.helpers import account, competition_body, login, open_competition


async def test_dates_beyond_the_years_of_a_competition_are_422(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """Year 1 in Berlin is year 0 in UTC: converting it overflowed (500), from the API and from
    the edit form alike."""
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    path = f"/api/v1/competitions/{competition['id']}"
    outside = "Bitte ein Datum zwischen 2000 und 2199 angeben."
    for moment in (
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "1999-12-31T23:59:59+01:00",
    ):
        r = await organiser.patch(path, json={"submission_opens_at": moment})
        assert (moment, r.status_code, r.json()["fields"]) == (
            moment,
            422,
            [{"field": "submission_opens_at", "message": outside}],
        )
    body = competition_body("neu-2026", submission_closes_at="9999-12-31T23:59:59-12:00")
    r = await organiser.post("/api/v1/competitions", json=body)
    assert (r.status_code, r.json()["fields"]) == (
        422,
        [{"field": "submission_closes_at", "message": outside}],
    )
    r = await client.post(
        f"/organisation/{competition['id']}/bearbeiten",
        data={
            "title.de": "Titel",
            "submission_opens_at": "0001-01-01T00:00",
            "submission_closes_at": "2099-01-01T00:00",
            "version": str(competition["version"]),
            "csrf_token": organiser.csrf,
        },
    )
    assert (r.status_code, outside in r.text) == (422, True)
    assert (await client.get(path)).json()["version"] == competition["version"]
