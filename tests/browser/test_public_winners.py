"""The public in the browser: the landing page leads to the published winners, in German and
in English, without an account; before publication there is nothing to see."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import expect

from tests.browser.conftest import MOBILE, NewPage
from tests.browser.support import accept_invitations, capture, score_all, wait_for_run
from tests.helpers import account, company_body, login, open_competition, submitted_entry

ENTRIES = (
    ("Alpha GmbH", "Chemnitz", "energie", "Abwärme nutzen", 9),
    ("Beta AG", "Plauen", "energie", "Solardach", 5),
    ("Gamma KG", "Freiberg", "mobilitaet", "Lastenrad-Flotte", 7),
)


async def test_public_winners_page_after_publication(
    *,
    new_page: NewPage,
    base_url: str,
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    screenshots: Path,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Olivia Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser, reviews_per_entry=1)
    cid, slug = competition["id"], competition["slug"]
    ids = {}
    for i, (name, city, category, title, _) in enumerate(ENTRIES):
        email = f"inhaber{i}@firma{i}.example"
        await account(pool, email, f"Inhaber {i}")
        owner = await login(new_client(), email)
        body = company_body(name) | {"city": city}
        company = (await owner.post("/api/v1/companies", json=body)).json()
        entry = await submitted_entry(
            owner, cid, company, title=title, category=category, summary=f"Kurz: {title}."
        )
        ids[title] = entry["id"]
    await smtp_server.wait_for(3, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})

    page = await new_page()
    await page.goto(f"/wettbewerbe/{slug}/sieger")
    await expect(page.locator("h1")).to_have_text("Noch keine Sieger")

    smtp_server.clear()
    r = await organiser.post(
        f"/api/v1/competitions/{cid}/jurors", json={"email": "jo@jury.example", "name": "Jo"}
    )
    assert r.status_code == 201, r.text
    (juror,) = await accept_invitations(new_client, smtp_server, base_url, cid, ["jo@jury.example"])
    run = (await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={})).json()
    await wait_for_run(organiser, f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
    await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}/deploy")
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    await score_all(juror, cid, {t: {"innovation": p, "impact": p} for _, _, _, t, p in ENTRIES})
    results = (
        await organiser.post(f"/api/v1/competitions/{cid}/result-runs", json={"method": "raw"})
    ).json()
    await wait_for_run(organiser, f"/api/v1/competitions/{cid}/result-runs/{results['id']}")
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})
    r = await organiser.put(
        f"/api/v1/competitions/{cid}/winners",
        json={
            "result_run_id": results["id"],
            "winners": [
                {"category": "energie", "entry_id": ids["Abwärme nutzen"], "place": 1},
                {"category": "energie", "entry_id": ids["Solardach"], "place": 2},
                {"category": "mobilitaet", "entry_id": ids["Lastenrad-Flotte"], "place": 1},
            ],
        },
    )
    assert r.status_code == 200, r.text
    assert (await organiser.post(f"/api/v1/competitions/{cid}/publish")).status_code == 202

    await page.goto("/")
    # Keyboard first: the skip link is the first stop and leads to the content.
    await page.keyboard.press("Tab")
    await expect(page.locator(":focus")).to_have_text("Zum Inhalt springen")
    await page.keyboard.press("Enter")
    await expect(page.locator(":focus")).to_have_attribute("id", "main")
    await page.get_by_role("link", name=competition["title"]["de"]).click()
    await expect(page.locator(".page-head .badge")).to_have_text("Ergebnisse veröffentlicht")
    await expect(page.locator("tbody tr")).to_have_text(
        [
            re.compile(r"^Innovation\s*3,0\s*60 %\s*0–10$"),
            re.compile(r"^Wirkung\s*2,0\s*40 %\s*0–10$"),
        ]
    )
    await capture(page, screenshots, "competition")
    await page.get_by_role("link", name="Zu den Siegern").click()
    await page.wait_for_url(f"**/wettbewerbe/{slug}/sieger")
    await expect(page.locator("h1")).to_have_text(competition["title"]["de"])
    await expect(page.locator("main h2")).to_have_text(["Mobilität", "Energie"])
    energy = page.locator("section", has=page.locator("h2", has_text="Energie")).locator("li")
    await expect(energy.locator("h3")).to_have_text(["Abwärme nutzen", "Solardach"])
    await expect(energy.locator(".muted")).to_have_text(["Alpha GmbH, Chemnitz", "Beta AG, Plauen"])
    await expect(energy.first).to_contain_text("Platz 1")
    await expect(energy.first).to_contain_text("Kurz: Abwärme nutzen.")
    await capture(page, screenshots, "winners")

    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("main h2")).to_have_text(["Mobility", "Energy"])
    await expect(page.locator(".hero .eyebrow")).to_have_text("The winners")
    await expect(page.locator("h1")).to_have_text(competition["title"]["en"])
    await capture(page, screenshots, "winners-en")
    # The choice is remembered: the next page is English without ?lang.
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "en")

    mobile = await new_page(MOBILE)
    await mobile.goto(f"/wettbewerbe/{slug}/sieger")
    await capture(mobile, screenshots, "winners-mobile")
