"""A juror in the browser: invited by the organiser through the web, link from the mail →
password → conflicts declared and confirmed → assignments → score sheet with the live weighted
total → attachment opened → finalised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import expect

from tests.browser.conftest import NewPage
from tests.browser.support import accept_invitations, capture, link_in, log_in, wait_for_run
from tests.helpers import (
    PASSWORD,
    account,
    company_body,
    login,
    open_competition,
    submitted_entry,
)

COMPANIES = (
    ("Alpha GmbH", "zwickau", 1),
    ("Beta AG", "chemnitz", 0),
    ("Gamma KG", "vogtlandkreis", 0),
)


async def test_jury_journey_from_invitation_to_final_score_sheet(
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
    cid = competition["id"]
    for i, (name, district, files) in enumerate(COMPANIES):
        email = f"inhaber{i}@firma{i}.example"
        await account(pool, email, f"Inhaber {i}")
        owner = await login(new_client(), email)
        company = (
            await owner.post("/api/v1/companies", json=company_body(name, district=district))
        ).json()
        await submitted_entry(owner, cid, company, title=f"Idee der {name}", files=files)
    await smtp_server.wait_for(3, timeout=20)  # the three confirmations
    r = await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    assert r.status_code == 200, r.text
    smtp_server.clear()

    orga = await new_page()
    await log_in(orga, "orga@wettbewerb.test")
    await orga.goto(f"/organisation/{cid}/jury")
    await orga.get_by_label("Name", exact=True).fill("Prof. Jana Jurorin")
    await orga.get_by_label("E-Mail-Adresse").fill("jana@hochschule.example")
    await orga.get_by_label("Energie").check()
    await orga.get_by_role("button", name="Einladung senden").click()
    await expect(orga.get_by_role("status").first).to_have_text(
        "Die Einladung in die Jury ist verschickt."
    )
    await expect(orga.locator("tbody tr")).to_contain_text(["Prof. Jana Jurorin"])

    (invitation,) = await smtp_server.wait_for(1, timeout=20)
    assert invitation.message["To"] == "jana@hochschule.example"
    juror = await new_page()
    await juror.goto(link_in(invitation, base_url, "/jury/accept?token="))
    await capture(juror, screenshots, "jury-accept")
    await juror.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await juror.get_by_label("Passwort wiederholen").fill(PASSWORD)
    await juror.get_by_role("button", name="Einladung annehmen").click()
    # Without the confidentiality commitment the invitation is not accepted.
    await expect(juror.locator("#f-accept_confidentiality-error")).to_have_text(
        "Bitte verpflichten Sie sich zur Vertraulichkeit."
    )
    await juror.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await juror.get_by_label("Passwort wiederholen").fill(PASSWORD)
    await juror.get_by_label("Ich verpflichte mich zur Vertraulichkeit.").check()
    await juror.get_by_label(
        "Ich habe die Datenschutzhinweise gelesen und stimme ihnen zu."
    ).check()
    await juror.get_by_role("button", name="Einladung annehmen").click()
    await juror.wait_for_url(f"**/jury/{cid}/konflikte")
    await expect(juror.get_by_role("status").first).to_contain_text("Willkommen in der Jury!")

    await juror.get_by_label("Verbindung zu Beta AG").select_option("advisor")
    await juror.get_by_label("Anmerkung zu Beta AG").fill("Beiratsmitglied seit 2024")
    await juror.get_by_label("Ich habe alle Interessenkonflikte angegeben.").check()
    await capture(juror, screenshots, "jury-conflicts")
    await juror.get_by_role("button", name="Angaben speichern").click()
    await juror.wait_for_url(f"**/jury/{cid}")
    await expect(juror.locator("main")).to_contain_text("noch keine Beiträge zugeteilt")

    # A second juror, limited to one entry, takes the entry Jana may not see.
    smtp_server.clear()
    r = await organiser.post(
        f"/api/v1/competitions/{cid}/jurors",
        json={"email": "bodo@institut.example", "name": "Dr. Bodo", "max_load": 1},
    )
    assert r.status_code == 201, r.text
    await accept_invitations(new_client, smtp_server, base_url, cid, ["bodo@institut.example"])

    run = (await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={})).json()

    path = f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}"
    assert (await wait_for_run(organiser, path))["status"] == "done"
    r = await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}/deploy")
    assert r.status_code == 200, r.text
    r = await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    assert r.status_code == 200, r.text

    await juror.reload()
    rows = juror.locator("main tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.locator("td:first-child")).to_have_text(
        ["Idee der Alpha GmbH", "Idee der Gamma KG"]
    )
    await expect(juror.get_by_text("0 von 2 Bögen abgeschlossen")).to_be_visible()
    await capture(juror, screenshots, "jury-assignments")

    await juror.get_by_role("link", name="Idee der Alpha GmbH").click()
    async with juror.expect_download() as download_info:
        await juror.get_by_role("link", name="Öffnen Alpha GmbH Anlage 1.pdf").click()
    download = await download_info.value
    assert download.suggested_filename == "Alpha GmbH Anlage 1.pdf"

    total = juror.locator("[data-total]")
    await expect(total).to_have_text("–")
    await juror.get_by_label("Innovation").fill("8")
    await expect(juror.locator("[data-total-note]")).to_have_text("1 von 2 Kriterien bewertet")
    await juror.get_by_label("Wirkung").fill("6")
    # Weights 3 and 2 on 0–10 scales: 100 · (3 · 0.8 + 2 · 0.6) / 5 = 72.
    await expect(total).to_have_text("72,0")
    await juror.get_by_label("Kommentar für die Jury-Beratung").fill("Überzeugendes Konzept.")
    await capture(juror, screenshots, "jury-sheet")
    await juror.get_by_role("button", name="Entwurf speichern").click()
    await expect(juror.get_by_role("status").first).to_have_text(
        "Der Bewertungsbogen ist als Entwurf gespeichert."
    )
    await expect(juror.get_by_label("Wirkung")).to_have_value("6")
    await expect(total).to_have_text("72,0")

    await juror.get_by_role("button", name="Bewertung abschließen").click()
    await expect(juror.locator("#f-confirm_final-error")).to_contain_text("Bitte bestätigen Sie")
    await expect(juror.get_by_label("Kommentar für die Jury-Beratung")).to_have_value(
        "Überzeugendes Konzept."
    )
    await juror.get_by_label("Ich bin fertig.").check()
    await juror.get_by_role("button", name="Bewertung abschließen").click()
    await juror.wait_for_url(f"**/jury/{cid}")
    await expect(juror.get_by_role("status").first).to_have_text(
        "Der Bewertungsbogen ist abgeschlossen."
    )
    alpha = rows.filter(has_text="Idee der Alpha GmbH")
    await expect(alpha.locator(".badge")).to_have_text("Abgeschlossen")
    await expect(alpha.locator("td.num")).to_have_text("72,0")
    await expect(juror.get_by_text("1 von 2 Bögen abgeschlossen")).to_be_visible()

    sheet = await organiser.get(f"/api/v1/competitions/{cid}/progress")
    assert sheet.json()["sheets_final"] == 1
