"""An entrant in the browser: registration → link from the mail → login → company → draft →
PDF upload with progress → verified → submitted with a confirmation mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import FilePayload, expect

from tests.browser.conftest import MOBILE, NewPage
from tests.browser.support import capture, link_in
from tests.helpers import PASSWORD, PDF_BYTES, account, login, open_competition


async def test_entrant_journey_from_registration_to_submitted_entry(
    *,
    new_page: NewPage,
    base_url: str,
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    smtp_server: Any,
    screenshots: Path,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Olivia Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    title = competition["title"]["de"]

    mobile = await new_page(MOBILE)
    await mobile.goto("/")
    await capture(mobile, screenshots, "landing-mobile")

    page = await new_page()
    await page.goto("/")
    await expect(page.locator("h1")).to_have_text("Industrie. Neu. Denken.")
    await expect(page.locator("article", has_text=title)).to_contain_text("Einsendeschluss:")
    await capture(page, screenshots, "landing")

    await page.get_by_role("link", name="Jetzt registrieren").click()
    await page.get_by_label("Ihr Name").fill("Erika Entwicklerin")
    await page.get_by_label("E-Mail-Adresse").fill("erika@zulieferer.example")
    await page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    await capture(page, screenshots, "register")
    await page.get_by_role("button", name="Konto anlegen").click()
    # Consent is required: the form comes back with the input kept.
    await expect(page.locator("#problems")).to_contain_text("Datenschutz")
    await expect(page.get_by_label("Ihr Name")).to_have_value("Erika Entwicklerin")
    await page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    await page.get_by_label("Ich habe die Datenschutzhinweise gelesen").check()
    await page.get_by_role("button", name="Konto anlegen").click()
    await expect(page.get_by_role("status")).to_contain_text("Bestätigungslink")

    (mail,) = await smtp_server.wait_for(1, timeout=20)
    assert mail.message["To"] == "erika@zulieferer.example"
    await page.goto(link_in(mail, base_url, "/verify?token="))
    await expect(page.get_by_role("status")).to_have_text(
        "Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden."
    )
    await page.get_by_label("E-Mail-Adresse").fill("erika@zulieferer.example")
    await page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await capture(page, screenshots, "login")
    await page.get_by_role("button", name="Anmelden", exact=True).click()
    await page.wait_for_url("**/mein-bereich")
    await capture(page, screenshots, "my-area")

    await page.get_by_role("link", name=f"Neuer Beitrag: {title}").click()
    await page.get_by_role("link", name="Unternehmen anlegen").click()
    await page.get_by_label("Name des Unternehmens").fill("Erzgebirge Präzision GmbH")
    await page.get_by_label("Straße und Hausnummer").fill("Annaberger Straße 12")
    await page.get_by_label("Postleitzahl").fill("0945")
    await page.get_by_label("Ort").fill("Annaberg-Buchholz")
    await page.get_by_label("Landkreis / Kreisfreie Stadt").select_option("erzgebirgskreis")
    await page.get_by_label("Beschäftigte").fill("85")
    await page.get_by_role("button", name="Unternehmen anlegen").click()
    await expect(page.get_by_label("Postleitzahl")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Ort")).to_have_value("Annaberg-Buchholz")
    await page.get_by_label("Postleitzahl").fill("09456")
    await page.get_by_role("button", name="Unternehmen anlegen").click()

    await page.wait_for_url(f"**/wettbewerbe/{competition['slug']}/teilnehmen")
    await page.get_by_label("Kategorie").select_option("energie")
    await page.get_by_label("Titel des Beitrags").fill("Abwärme aus der Härterei")
    await page.get_by_label("Kurzfassung").fill("Wir heizen die Halle mit der Abwärme der Öfen.")
    await page.get_by_role("button", name="Entwurf anlegen").click()
    await page.wait_for_url("**/entries/*")
    await expect(page.get_by_role("status").first).to_contain_text("Der Entwurf ist angelegt")

    description = page.get_by_label("Beschreibung")
    await description.fill("Wärmetauscher an drei Öfen, 400 MWh im Jahr.")
    await expect(page.locator("[data-autosave-status]")).to_contain_text(
        "Automatisch gespeichert um", timeout=15_000
    )

    pdf: FilePayload = {
        "name": "Konzept Wärme.pdf",
        "mimeType": "application/pdf",
        "buffer": PDF_BYTES,
    }
    await page.get_by_label("Datei hinzufügen").set_input_files(files=[pdf])
    await page.get_by_role("button", name="Hochladen").click()
    row = page.locator("[data-attachment-list] li", has_text="Konzept Wärme.pdf")
    await expect(page.locator("#upload-bar")).to_have_attribute("value", "100")
    await expect(row.locator(".badge")).to_have_text("Geprüft", timeout=20_000)
    await expect(page.locator("[data-upload-status]")).to_have_text(
        "Konzept Wärme.pdf ist geprüft."
    )
    await capture(page, screenshots, "entry-editor")

    await page.reload()
    await expect(page.get_by_label("Beschreibung")).to_have_value(
        "Wärmetauscher an drei Öfen, 400 MWh im Jahr."
    )
    await page.get_by_role("link", name="Weiter zum Einreichen").click()
    await capture(page, screenshots, "entry-submit")
    smtp_server.clear()
    await page.get_by_role("button", name="Jetzt verbindlich einreichen").click()
    await page.wait_for_url("**/entries/*")
    await expect(page.locator(".page-head .badge")).to_have_text("Eingereicht")
    await expect(page.get_by_role("status").first).to_have_text(
        "Ihr Beitrag ist eingereicht. Sie erhalten eine Eingangsbestätigung per E-Mail."
    )
    (confirmation,) = await smtp_server.wait_for(1, timeout=20)
    assert confirmation.message["To"] == "erika@zulieferer.example"
    assert confirmation.message["Subject"].startswith("Eingangsbestätigung")

    await page.get_by_role("navigation").get_by_role("link", name="Mein Bereich").click()
    await page.get_by_role("link", name="Erzgebirge Präzision GmbH").click()
    await expect(page.locator("#members-title + ul li")).to_have_text(
        ["Erika Entwicklerin (erika@zulieferer.example) – Inhaber/in"]
    )
    await capture(page, screenshots, "company")

    await page.go_back()
    await page.get_by_role("link", name="Abwärme aus der Härterei").click()
    await page.get_by_role("link", name="Beitrag zurückziehen").click()
    await capture(page, screenshots, "entry-withdraw")
    await page.get_by_role("button", name="„Abwärme aus der Härterei“ zurückziehen").click()
    await expect(page.locator(".page-head .badge")).to_have_text("Zurückgezogen")
    await expect(page.get_by_role("link", name="Weiter zum Einreichen")).to_be_visible()
