"""An organiser in the browser: set up a competition → open → (entries arrive) → close → invite
jurors → run the assignment (feasibility, preview) → deploy → judging → progress dashboard →
results with flags and reliability → winners, one against the ranking with a justification →
publish → audit log and mail outbox."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import expect

from competition.competitions import defaults
from competition.localization import BERLIN
from tests.browser.conftest import NewPage
from tests.browser.support import accept_invitations, capture, log_in, score_all
from tests.helpers import account, company_body, login, submitted_entry

# (company, category, title, points on each criterion from both jurors)
ENTRIES = (
    ("Alpha GmbH", "energie", "Abwärme nutzen", 9),
    ("Beta AG", "energie", "Solardach", 6),
    ("Gamma KG", "mobilitaet", "Lastenrad-Flotte", 7),
)
JURORS = (("anna@hochschule.example", "Prof. Anna"), ("bernd@institut.example", "Dr. Bernd"))


async def test_organiser_journey_from_setup_to_publication(
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
    page = await new_page()
    await log_in(page, "orga@wettbewerb.test")
    await page.get_by_role("link", name="Organisation", exact=True).click()
    await capture(page, screenshots, "organiser-index")
    await page.get_by_role("link", name="Neuer Wettbewerb").click()

    now = datetime.now(BERLIN)
    await page.get_by_label("Kurzbezeichnung für Adressen").fill("ind-2027")
    await page.get_by_label("Titel (Deutsch)").fill("Industrie. Neu. Denken. 2027")
    await page.get_by_label("Titel (Englisch, optional)").fill("Industry. Rethought. 2027")
    await page.get_by_label("Beschreibung (Deutsch)").fill("Der Industriewettbewerb der Region.")
    await page.get_by_label("Einreichung ab").fill(
        (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    await page.get_by_label("Einsendeschluss").fill(
        (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    await page.get_by_label("Gutachten je Beitrag").fill("2")
    await capture(page, screenshots, "organiser-setup")
    await page.get_by_role("button", name="Wettbewerb anlegen").click()
    # The deadline before the start is refused, everything typed stays.
    await expect(page.locator("#f-submission_closes_at-error")).to_have_text(
        "Der Einsendeschluss muss nach dem Start liegen."
    )
    await expect(page.get_by_label("Titel (Deutsch)")).to_have_value("Industrie. Neu. Denken. 2027")
    await page.get_by_label("Einsendeschluss").fill(
        (now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
    )
    await page.get_by_role("button", name="Wettbewerb anlegen").click()
    await page.wait_for_url("**/organisation/*-*")
    cid = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#phase")).to_have_text("Entwurf")
    await page.get_by_role("button", name="Einreichung öffnen").click()
    await expect(page.locator("#phase")).to_have_text("Einreichung offen")

    for i, (name, category, title, _) in enumerate(ENTRIES):
        email = f"inhaber{i}@firma{i}.example"
        await account(pool, email, f"Inhaber {i}")
        owner = await login(new_client(), email)
        company = (await owner.post("/api/v1/companies", json=company_body(name))).json()
        await submitted_entry(owner, cid, company, title=title, category=category)
    await smtp_server.wait_for(3, timeout=20)

    await page.get_by_role("link", name="Beiträge", exact=True).click()
    await expect(page.locator("main tbody td:first-child")).to_have_text(
        ["Lastenrad-Flotte", "Abwärme nutzen", "Solardach"]
    )
    await capture(page, screenshots, "organiser-entries")
    await page.get_by_role("link", name="Übersicht").click()
    await expect(page.locator(".stat").first).to_have_text("3 eingereicht")
    await page.get_by_role("button", name="Einreichung schließen").click()
    await expect(page.locator("#phase")).to_have_text("Einreichung geschlossen")

    smtp_server.clear()
    await page.get_by_role("link", name="Jury", exact=True).last.click()
    for email, name in JURORS:
        await page.get_by_label("Name", exact=True).fill(name)
        await page.get_by_label("E-Mail-Adresse").fill(email)
        await page.get_by_role("button", name="Einladung senden").click()
        await expect(page.get_by_role("status").first).to_have_text(
            "Die Einladung in die Jury ist verschickt."
        )
    jurors = await accept_invitations(
        new_client, smtp_server, base_url, cid, [email for email, _ in JURORS]
    )
    await page.reload()
    await expect(page.locator("main tbody .badge")).to_have_text(["Aktiv", "Aktiv"])
    await capture(page, screenshots, "organiser-jury")

    smtp_server.clear()
    await page.get_by_role("link", name="Zuteilung", exact=True).click()
    await page.get_by_role("button", name="Zuteilung berechnen").click()
    # The page reloads itself once the worker has solved the run.
    await expect(page.locator("#run-status")).to_have_text("Fertig", timeout=20_000)
    await expect(page.locator("#feasibility-title + .stats .stat")).to_have_text(
        [
            "6 benötigte Gutachten",
            "6 Kapazität der Jury",
            "6 zuteilbar",
            "0 bestehende Zuteilungen",
        ]
    )
    await expect(page.get_by_text("Lösbar.")).to_be_visible()
    preview = page.locator("section[aria-labelledby=preview-title] tbody tr")
    await expect(preview.locator("td.num")).to_have_text(["3", "3"])
    await capture(page, screenshots, "organiser-assignment")
    await page.get_by_role("button", name="Zuteilung übernehmen").click()
    await expect(page.locator("#run-status")).to_have_text("Übernommen")
    assert {m.message["To"] for m in await smtp_server.wait_for(2, timeout=20)} == {
        email for email, _ in JURORS
    }

    await page.get_by_role("link", name="Übersicht").click()
    await page.get_by_role("button", name="Jurybewertung starten").click()
    await expect(page.locator("#phase")).to_have_text("Jurybewertung")
    points = {title: {c.key: p for c in defaults.CRITERIA} for _, _, title, p in ENTRIES}
    await score_all(jurors[0], cid, points)
    await page.reload()
    await expect(page.locator(".stat").last).to_have_text("3/6 Bögen abgeschlossen")
    jury_rows = page.locator(
        "table:has(caption:text('Bewertungsfortschritt je Jurymitglied')) tbody tr"
    )
    await expect(jury_rows.locator("td.num:nth-child(4)")).to_have_text(["3", "0"])
    await score_all(jurors[1], cid, points)
    await page.reload()
    await expect(page.locator(".stat").last).to_have_text("6/6 Bögen abgeschlossen")
    await expect(page.locator("svg#chart-jury rect.s-final")).to_have_count(3)  # legend + 2 bars
    await capture(page, screenshots, "organiser-progress")

    await page.get_by_role("link", name="Ergebnisse").click()
    await page.get_by_label("Verfahren").select_option("raw")
    await page.get_by_role("button", name="Rangliste berechnen").click()
    await expect(page.locator("#run-status")).to_have_text("Fertig", timeout=20_000)
    energy = page.locator("section[aria-labelledby=cat-energie] tbody tr")
    await expect(energy.locator("th")).to_have_text(["Abwärme nutzen", "Solardach"])
    await expect(energy.locator("td:first-child")).to_have_text(["1", "2"])
    await expect(energy.locator("td:nth-child(3)")).to_have_text(["90,00", "60,00"])
    await expect(page.locator(".hash")).to_have_text(re.compile("^[0-9a-f]{64}$"))

    await page.get_by_role("link", name="Übersicht").click()
    await page.get_by_role("button", name="Beratung beginnen").click()
    await page.get_by_role("link", name="Ergebnisse").click()
    await page.locator("main tbody a").first.click()
    await page.get_by_label("Platz für Solardach").select_option("1")
    await page.get_by_label("Platz für Lastenrad-Flotte").select_option("1")
    await page.get_by_role("button", name="Sieger speichern").click()
    why = page.get_by_label("Begründung für Solardach")
    await expect(why).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#problems")).to_contain_text(
        "Die Siegerauswahl ist so nicht möglich."
    )
    await expect(page.get_by_label("Platz für Solardach")).to_have_value("1")
    await why.fill("Größere Wirkung für die Region, einstimmig in der Jurysitzung.")
    await capture(page, screenshots, "organiser-ranking")
    await page.get_by_role("button", name="Sieger speichern").click()
    await expect(page.get_by_role("status").first).to_have_text(
        "Die Siegerauswahl ist gespeichert."
    )
    chosen = page.locator("table:has(th:text('Begründung')) tbody tr")
    await expect(chosen.locator("td:nth-child(3)")).to_have_text(["Lastenrad-Flotte", "Solardach"])

    smtp_server.clear()
    await page.get_by_label("Ja, die Sieger stehen fest.").check()
    await capture(page, screenshots, "organiser-results")
    await page.get_by_role("button", name="Sieger veröffentlichen").click()
    await expect(page.get_by_role("status").first).to_have_text(
        "Die Sieger sind veröffentlicht; die Benachrichtigungen gehen heraus."
    )
    mails = await smtp_server.wait_for(5, timeout=30)  # three entrants, two jurors
    assert sorted(m.message["To"] for m in mails) == sorted(
        [f"inhaber{i}@firma{i}.example" for i in range(3)] + [email for email, _ in JURORS]
    )

    async with page.expect_download() as exported:
        await page.get_by_role("link", name="CSV-Export").click()
    csv = await exported.value
    assert csv.suggested_filename == "ergebnisse.csv"
    text = await asyncio.to_thread(Path.read_text, await csv.path(), encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Kategorie;Rang;Titel;Unternehmen")
    assert len(lines) == 4

    await page.get_by_role("link", name="Protokoll").click()
    await expect(page.locator("main tbody tr").first.locator("code")).to_have_text(
        "competition.published"
    )
    await capture(page, screenshots, "organiser-audit")
    await page.goto("/organisation/postausgang?status=sent")
    # 3 confirmations, 2 invitations, 2 assignment notices, 5 announcements.
    await expect(page.locator("main tbody tr")).to_have_count(12)
    await capture(page, screenshots, "organiser-outbox")

    r = await client.get("/api/v1/public/competitions/ind-2027/winners")
    assert [
        (c["category"], [(w["place"], w["title"]) for w in c["winners"]])
        for c in r.json()["categories"]
    ] == [
        ("mobilitaet", [(1, "Lastenrad-Flotte")]),
        ("digitalisierung", []),
        ("energie", [(1, "Solardach")]),
        ("kreislaufwirtschaft", []),
    ]
