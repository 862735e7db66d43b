"""The feasibility report of an assignment run as organisers read it: the API and the run page say
the same sentences, written from the solver's findings (the API in German, the page in its
language); a run stored before the solver returned findings shows the sentences it was stored
with."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.helpers import account, company_body, login, open_competition, poll, submitted_entry

pytestmark = pytest.mark.usefixtures("worker")

# A report as runs stored it before findings: the sentences were made by the solver.
STORED_BEFORE_FINDINGS: dict[str, Any] = {
    "feasible": False,
    "demand": 2,
    "capacity": 1,
    "jurors_without_max_load": 0,
    "kept": 0,
    "assignable": 1,
    "entries_short": [],
    "kept_conflicts": [],
    "entries_overcovered": [],
    "jurors_over_max_load": [],
    "messages": [
        "Bedarf 2 Gutachten, Kapazität 1.",
        "Die Kapazität der Jury reicht nicht: es fehlen 1 Gutachten.",
        "Nur 1 von 2 Gutachten lässt sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ],
    "existing_fingerprint": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "conflicts": {"declared": 0, "member": 0},
}


def listed(page: str) -> list[str]:
    """The sentences of the run page's feasibility section."""
    section = page.split('id="feasibility-title"', 1)[1].split("</section>", 1)[0]
    return [html.unescape(item.split("</li>", 1)[0]) for item in section.split("<li>")[1:]]


async def test_a_run_stored_before_findings_shows_its_sentences(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    cid = (await open_competition(organiser))["id"]
    run_id = await pool.fetchval(
        """INSERT INTO assignment_run (competition_id, status, reviews_per_entry, seed, feasible,
                                       report, finished_at)
           VALUES ($1, 'infeasible', 2, 7, false, $2, now()) RETURNING id""",
        uuid.UUID(cid),
        STORED_BEFORE_FINDINGS,
    )

    r = await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run_id}")
    assert (r.status_code, r.json()["report"]) == (200, STORED_BEFORE_FINDINGS)
    page = await organiser.get(f"/organisation/{cid}/zuteilung/{run_id}")
    assert page.status_code == 200
    assert listed(page.text) == STORED_BEFORE_FINDINGS["messages"]
    # Stored as German sentences, they stay German on an English page.
    english = await organiser.get(f"/organisation/{cid}/zuteilung/{run_id}?lang=en")
    assert listed(english.text) == STORED_BEFORE_FINDINGS["messages"]


async def test_a_new_run_stores_findings_and_says_them_in_api_and_page(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    cid = (await open_competition(organiser, reviews_per_entry=2))["id"]
    await account(pool, "owner@firma.example", "Owner")
    owner = await login(new_client(), "owner@firma.example")
    company = (await owner.post("/api/v1/companies", json=company_body("Firma"))).json()
    entry = await submitted_entry(owner, cid, company, title="Idee")
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    run = (await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={})).json()

    async def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = (
            await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
        ).json()
        return body if body["status"] == "infeasible" else None

    report = (await poll(finished))["report"]
    stored = await pool.fetchval("SELECT report FROM assignment_run WHERE id = $1", run["id"])
    findings = [
        {"kind": "capacity_short", "missing": 2},
        {"kind": "entry_short", "entry_id": entry["id"], "eligible_jurors": 0, "needed": 2},
        {"kind": "unassignable", "assignable": 0, "needed": 2},
    ]
    assert (stored["findings"], "messages" in stored) == (findings, False)
    sentences = [
        "Bedarf 2 Gutachten, Kapazität 0.",
        "Die Kapazität der Jury reicht nicht: es fehlen 2 Gutachten.",
        f"Einreichung {entry['id']}: 0 zulässige Jurymitglieder, benötigt 2.",
        "Nur 0 von 2 Gutachten lassen sich unter Interessenkonflikten und Höchstlasten zuordnen.",
    ]
    assert (report["findings"], report["messages"]) == (findings, sentences)
    page = await organiser.get(f"/organisation/{cid}/zuteilung/{run['id']}")
    assert page.status_code == 200
    assert listed(page.text) == sentences
    # The page words the findings in its language; the API stays German.
    english = await organiser.get(f"/organisation/{cid}/zuteilung/{run['id']}?lang=en")
    assert listed(english.text) == [
        "2 reviews needed, capacity 0.",
        "The jury's capacity is not enough: 2 review(s) short.",
        f"Entry {entry['id']}: 0 eligible jurors, 2 needed.",
        "Only 0 of 2 reviews can be assigned within the conflicts of interest and maximum loads.",
    ]
    r = await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
    assert r.json()["report"]["messages"] == sentences
