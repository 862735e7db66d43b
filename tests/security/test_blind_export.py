"""The data export (`GET /me/export`) of a juror in a blind competition: until the results are
published it shows what the juror wrote, never the companies the server matched it to, and
nothing of the conflicts organisers recorded that would name an entrant; in open judging and
after publication it names them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import token_from
from tests.helpers import (
    PASSWORD,
    account,
    company_body,
    login,
    open_competition,
    submitted_entry,
    text,
)

pytestmark = pytest.mark.usefixtures("worker")

COMPANIES = ("Konzern Nord GmbH", "Konzern Süd AG", "Dritte Vertrieb KG")


@pytest.mark.parametrize("blind", [True, False], ids=["blind", "open"])
async def test_juror_export_hides_whom_declarations_matched_while_judging_is_blind(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    blind: bool,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser, blind_judging=blind)
    cid = competition["id"]
    # Two entrants whose people share one mail domain, and a third company that takes no part.
    companies = []
    for i, name in enumerate(COMPANIES):
        email = f"inhaber{i}@konzern.example" if i < 2 else "chefin@dritte.example"
        await account(pool, email, f"Inhaber {i}")
        owner = await login(new_client(), email)
        company = (await owner.post("/api/v1/companies", json=company_body(name))).json()
        companies.append(company)
        if i < 2:
            await submitted_entry(owner, cid, company, title=f"Idee {i}")
    await smtp_server.wait_for(2, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    r = await organiser.post(
        f"/api/v1/competitions/{cid}/jurors", json={"email": "juror@uni.example", "name": "Jo"}
    )
    juror_id = r.json()["id"]
    (mail,) = await smtp_server.wait_for(1, timeout=20)
    juror_client = new_client()
    r = await juror_client.post(
        "/api/v1/jury/invitations/accept",
        json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    juror = await login(juror_client, "juror@uni.example")
    # One declaration by mail domain (it matches both entrants) and one that matches nobody.
    r = await juror.put(
        f"/api/v1/competitions/{cid}/conflicts/me",
        json={
            "conflicts": [
                {"company": "konzern.example", "type": "shareholder"},
                {"company": "Gibt Es Nicht GmbH", "type": "customer"},
            ],
            "confirmed_complete": True,
        },
    )
    assert r.status_code == 200, r.text
    r = await organiser.post(
        f"/api/v1/competitions/{cid}/conflicts",
        json={
            "juror_id": juror_id,
            "company_id": companies[2]["id"],
            "type": "family",
            "note": "Schwester der Chefin von Dritte Vertrieb",
        },
    )
    assert r.status_code == 201, r.text

    r = await juror.get("/api/v1/me/export")
    assert r.status_code == 200
    (jury,) = r.json()["jury"]
    if blind:
        assert jury["conflicts"] == [
            {"company": "konzern.example", "type": "shareholder", "note": None, "source": "juror"},
            {
                "company": "von der Organisation eingetragen",
                "type": "family",
                "note": None,
                "source": "organiser",
            },
        ]
        for secret in (*COMPANIES, "Schwester", *(c["id"] for c in companies)):
            assert secret not in r.text
        # Once the results are published, blind judging is over: the export names them. (The
        # phase is set directly: publishing for real needs a whole judging round.)
        async with pool.acquire() as conn:
            await conn.execute("UPDATE competition SET phase = 'published' WHERE id = $1", cid)
        (jury,) = (await juror.get("/api/v1/me/export")).json()["jury"]
    assert jury["conflicts"] == [
        {"company": COMPANIES[0], "type": "shareholder", "note": None, "source": "juror"},
        {"company": COMPANIES[1], "type": "shareholder", "note": None, "source": "juror"},
        {
            "company": COMPANIES[2],
            "type": "family",
            "note": "Schwester der Chefin von Dritte Vertrieb",
            "source": "organiser",
        },
    ]
