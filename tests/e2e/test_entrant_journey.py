"""The whole entrant journey over HTTP, against the real app, worker, object store and SMTP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from tests.conftest import Mail, Outbox, sent
from tests.helpers import (
    PDF_BYTES,
    PNG_BYTES,
    account,
    company_body,
    login,
    open_competition,
    register_via_mail,
    upload,
    wait_status,
)

pytestmark = pytest.mark.usefixtures("worker")

BERLIN = ZoneInfo("Europe/Berlin")


async def test_entrant_journey_from_registration_to_confirmed_submission(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    outbox: Outbox,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Olivia Orga", organiser=True)
    organiser = await login(new_client(), "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    assert competition["phase"] == "open"
    assert competition["submissions_open"] is True

    entrant = await register_via_mail(client, smtp_server, "erik@zulieferer.example", "Erik")
    colleague = await register_via_mail(
        new_client(), smtp_server, "clara@zulieferer.example", "Clara"
    )
    smtp_server.clear()

    r = await entrant.post("/api/v1/companies", json=company_body())
    assert r.status_code == 201, r.text
    company = r.json()
    r = await entrant.post(
        f"/api/v1/companies/{company['id']}/members", json={"email": "clara@zulieferer.example"}
    )
    assert (r.status_code, r.json()) == (
        202,
        {"email": "clara@zulieferer.example", "status": "invited"},
    )
    invited = await smtp_server.wait_for(1, timeout=20)
    assert [(m.message["To"], m.message["Subject"]) for m in invited] == [
        (
            "clara@zulieferer.example",
            "Einladung zu Muster Zulieferer GmbH bei „Industrie. Neu. Denken.“",
        )
    ]
    (invitation,) = (await colleague.get("/api/v1/me/company-invitations")).json()
    r = await colleague.post(f"/api/v1/me/company-invitations/{invitation['id']}/accept")
    assert (r.status_code, r.json()["id"]) == (200, company["id"])
    added = await smtp_server.wait_for(2, timeout=20)
    assert [(m.message["To"], m.message["Subject"]) for m in added[1:]] == [
        ("clara@zulieferer.example", "Sie sind jetzt Mitglied von Muster Zulieferer GmbH")
    ]
    smtp_server.clear()

    r = await entrant.post(
        f"/api/v1/competitions/{competition['id']}/entries",
        json={
            "company_id": company["id"],
            "category": "mobilitaet",
            "title": "Leichtbau-Achsträger aus Rezyklat",
            "summary": "Ein Achsträger aus recyceltem Aluminium.",
            "description": "Ausführliche Beschreibung …",
        },
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert (entry["status"], entry["version"], entry["eligible"]) == ("draft", 1, True)
    assert entry["eligibility_reason"] == "Sitz in Landkreis Zwickau: teilnahmeberechtigt."

    pdf = await upload(
        entrant, entry["id"], filename="Konzept.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    png = await upload(
        colleague, entry["id"], filename="Skizze.png", content_type="image/png", data=PNG_BYTES
    )
    verified_pdf = await wait_status(entrant, pdf["id"])
    verified_png = await wait_status(entrant, png["id"])
    assert (verified_pdf["status"], verified_pdf["detected_type"]) == (
        "verified",
        "application/pdf",
    )
    assert (verified_png["status"], verified_png["detected_type"]) == ("verified", "image/png")
    assert verified_pdf["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert verified_png["size_bytes"] == len(PNG_BYTES)

    r = await entrant.post(f"/api/v1/entries/{entry['id']}/submit")
    assert r.status_code == 200, r.text
    submitted = r.json()
    assert submitted["status"] == "submitted"
    # Shown in Berlin time: the offset is Berlin's at that moment (+01:00 or +02:00).
    submitted_at = datetime.fromisoformat(submitted["submitted_at"])
    assert submitted_at.utcoffset() == submitted_at.astimezone(BERLIN).utcoffset()

    confirmed = [
        ("clara@zulieferer.example", "Eingangsbestätigung: Leichtbau-Achsträger aus Rezyklat"),
        ("erik@zulieferer.example", "Eingangsbestätigung: Leichtbau-Achsträger aus Rezyklat"),
    ]
    drained = await outbox.drained()
    assert sent(smtp_server.messages) == confirmed

    # Submitting again is harmless and sends nothing more.
    r = await entrant.post(f"/api/v1/entries/{entry['id']}/submit")
    assert r.status_code == 200
    assert await outbox.drained() == drained
    assert sent(smtp_server.messages) == confirmed
    assert drained.failed_events == []
    verify = "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert drained.mails == [
        Mail("clara@zulieferer.example", verify, "sent", 1),
        Mail("clara@zulieferer.example", confirmed[0][1], "sent", 1),
        Mail("clara@zulieferer.example", invited[0].message["Subject"], "sent", 1),
        Mail("clara@zulieferer.example", added[1].message["Subject"], "sent", 1),
        Mail("erik@zulieferer.example", verify, "sent", 1),
        Mail("erik@zulieferer.example", confirmed[1][1], "sent", 1),
    ]

    r = await organiser.get(f"/api/v1/competitions/{competition['id']}/entries?status=submitted")
    assert [e["id"] for e in r.json()] == [entry["id"]]
    r = await entrant.get(f"/api/v1/entries/{entry['id']}")
    assert sorted(a["status"] for a in r.json()["attachments"]) == ["verified", "verified"]
