"""A final sheet by a juror later found to conflict with the entry's company does not count: the
result run leaves it out, flags the entry, and its parameters and report name every excluded
sheet and why (a declared or recorded conflict, or membership of the company)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.config import Settings
from tests.conftest import run_cli, token_from
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
from tests.results.test_winners_integrity import result_run

pytestmark = pytest.mark.usefixtures("worker")

# Marks (innovation, impact) per juror: Anna, Bruno, Carla.
MARKS = {
    "Abwärme nutzen": ((10, 10), (2, 2), (10, 10)),
    "Solardach": ((6, 6), (6, 6), (6, 6)),
}


async def three_jurors_score_everything(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    **competition: Any,
) -> tuple[Session, str, dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """Two companies with one entry each, three jurors, each sheet final; judging.
    `competition` overrides fields of the competition's body (tests.helpers.competition_body)."""
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    cid = (await open_competition(organiser, reviews_per_entry=3, **competition))["id"]
    companies: dict[str, dict[str, Any]] = {}
    for i, (name, title) in enumerate((("Alpha GmbH", "Abwärme nutzen"), ("Beta AG", "Solardach"))):
        await account(pool, f"chef{i}@firma{i}.example", f"Chef {i}")
        owner = await login(new_client(), f"chef{i}@firma{i}.example")
        company = (await owner.post("/api/v1/companies", json=company_body(name))).json()
        company["entry"] = await submitted_entry(owner, cid, company, title=title)
        companies[title] = company
    await smtp_server.wait_for(2, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    jurors: dict[str, dict[str, str]] = {}
    for name in ("Anna", "Bruno", "Carla"):
        r = await organiser.post(
            f"/api/v1/competitions/{cid}/jurors",
            json={"email": f"{name.lower()}@jury.example", "name": name},
        )
        jurors[name] = {"id": r.json()["id"], "email": f"{name.lower()}@jury.example"}
    sessions = {}
    for mail in await smtp_server.wait_for(3, timeout=20):
        c = new_client()
        r = await c.post(
            "/api/v1/jury/invitations/accept",
            json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
        juror = await login(c, mail.message["To"])
        await juror.put(
            f"/api/v1/competitions/{cid}/conflicts/me",
            json={"conflicts": [], "confirmed_complete": True},
        )
        sessions[mail.message["To"]] = juror
    run = (await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={})).json()

    async def assigned() -> bool:
        r = await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
        return bool(r.json()["status"] == "done")

    await poll(assigned)
    await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}/deploy")
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    titles = {c["entry"]["id"]: title for title, c in companies.items()}
    for position, name in enumerate(("Anna", "Bruno", "Carla")):
        juror = sessions[jurors[name]["email"]]
        items = (await juror.get(f"/api/v1/me/assignments?competition_id={cid}")).json()
        assert len(items) == 2
        for item in items:
            innovation, impact = MARKS[titles[item["entry"]["id"]]][position]
            r = await juror.put(
                f"/api/v1/assignments/{item['id']}/score",
                json={"scores": {"innovation": innovation, "impact": impact}, "final": True},
            )
            assert r.status_code == 200, r.text
    return organiser, cid, companies, jurors


def ranking(run: dict[str, Any]) -> list[tuple[str, int, float, int, list[str]]]:
    (energie,) = [c for c in run["categories"] if c["category"] == "energie"]
    return [
        (e["title"], e["rank"], round(e["score"], 6), e["n_reviews"], e["flags"])
        for e in energie["ranking"]
    ]


async def test_sheets_of_jurors_found_conflicted_after_finalising_do_not_count(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    settings: Settings,
) -> None:
    organiser, cid, companies, jurors = await three_jurors_score_everything(
        client, new_client, pool, smtp_server
    )
    alpha = companies["Abwärme nutzen"]
    before = await result_run(organiser, cid)
    assert ranking(before) == [
        ("Abwärme nutzen", 1, 73.333333, 3, ["high_disagreement", "outlier_juror"]),
        ("Solardach", 2, 60.0, 3, []),
    ]
    assert before["excluded_sheets"] == []
    assert "excluded_sheets" not in before["parameters"]

    # Anna turns out to be a customer of Alpha; Carla's account joins Alpha (however that came
    # about: the view counts membership from the moment it exists).
    r = await organiser.post(
        f"/api/v1/competitions/{cid}/conflicts",
        json={"juror_id": jurors["Anna"]["id"], "company_id": alpha["id"], "type": "customer"},
    )
    assert r.status_code == 201
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO company_member (company_id, account_id, role)
               SELECT $1, id, 'member' FROM account WHERE email = $2""",
            uuid.UUID(alpha["id"]),
            jurors["Carla"]["email"],
        )
    after = await result_run(organiser, cid)
    assert ranking(after) == [
        ("Solardach", 1, 60.0, 3, []),
        ("Abwärme nutzen", 2, 20.0, 1, ["few_reviews", "sheets_excluded"]),
    ]
    entry_id = alpha["entry"]["id"]
    expected = sorted(
        [
            {"entry_id": entry_id, "juror_id": jurors["Anna"]["id"], "reasons": ["customer"]},
            {"entry_id": entry_id, "juror_id": jurors["Carla"]["id"], "reasons": ["member"]},
        ],
        key=lambda x: (x["entry_id"], x["juror_id"]),
    )
    assert after["excluded_sheets"] == expected
    assert after["parameters"]["excluded_sheets"] == expected
    # Only Bruno's sheet counts for Alpha's entry; the juror statistics see the same sheets.
    assert {j["juror_id"]: j["n_sheets"] for j in after["jurors"]} == {
        jurors["Anna"]["id"]: 1,
        jurors["Bruno"]["id"]: 2,
        jurors["Carla"]["id"]: 1,
    }
    # The stored run, exclusions and all, is what a recomputation yields.
    code, out = run_cli(settings, "results", "verify", after["id"])
    assert (code, out.startswith(f"Ergebnislauf {after['id']} stimmt überein")) == (0, True)
    # The earlier run counted sheets that no longer count: it no longer matches.
    code, _ = run_cli(settings, "results", "verify", before["id"])
    assert code == 1

    page = await organiser.get(f"/organisation/{cid}/ergebnisse/{after['id']}")
    assert page.status_code == 200
    table = page.text.split('<table id="excluded-sheets">')[1].split("</table>")[0]
    rows = sorted(
        [
            ("Abwärme nutzen", "Anna", "Kundenbeziehung"),
            ("Abwärme nutzen", "Carla", "Mitglied des Unternehmens"),
        ],
        key=lambda row: {"Anna": jurors["Anna"]["id"], "Carla": jurors["Carla"]["id"]}[row[1]],
    )
    assert table.count("<tr>") == 3
    for title, juror, reason in rows:
        assert f'<tr><th scope="row">{title}</th><td>{juror}</td><td>{reason}</td></tr>' in table
    assert "Bewertung wegen Interessenkonflikt nicht gezählt" in page.text
