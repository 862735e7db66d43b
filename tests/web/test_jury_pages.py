"""Juror pages over HTTP: the blind declaration by name, a score sheet saved elsewhere, and
suggested conflicts in the page's language."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import token_from
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

pytestmark = pytest.mark.usefixtures("worker")


async def juror_of_closed_competition(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    juror_email: str = "jo@jury.example",
    **competition: Any,
) -> tuple[Session, Session, str]:
    """(organiser, juror signed in with `client`, competition id) with one submitted entry."""
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(new_client(), "orga@wettbewerb.test")
    cid = (await open_competition(organiser, reviews_per_entry=1, **competition))["id"]
    await account(pool, "erika@zulieferer.example", "Erika")
    owner = await login(new_client(), "erika@zulieferer.example")
    company = (await owner.post("/api/v1/companies", json=company_body())).json()
    await submitted_entry(owner, cid, company, title="Abwärme nutzen")
    await smtp_server.wait_for(1, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    await organiser.post(
        f"/api/v1/competitions/{cid}/jurors", json={"email": juror_email, "name": "Jo"}
    )
    (mail,) = await smtp_server.wait_for(1, timeout=20)
    token = token_from(text(mail), "/jury/accept")
    r = await client.post(
        "/jury/accept",
        data={
            "token": token,
            "password": PASSWORD,
            "password_repeat": PASSWORD,
            "accept_confidentiality": "1",
            "accept_privacy": "1",
        },
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/jury/{cid}/konflikte")
    return organiser, Session(client, client.cookies["ind_csrf"]), cid


async def assignment_in_judging(organiser: Session, juror: Session, cid: str) -> dict[str, Any]:
    """The juror's one assignment, deployed, with the competition in judging."""
    await juror.put(
        f"/api/v1/competitions/{cid}/conflicts/me",
        json={"conflicts": [], "confirmed_complete": True},
    )
    run = (await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={})).json()

    async def done() -> bool:
        r = await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
        return bool(r.json()["status"] == "done")

    await poll(done)
    await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}/deploy")
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    (item,) = (await juror.get(f"/api/v1/me/assignments?competition_id={cid}")).json()
    assert isinstance(item, dict)
    return item


async def test_blind_juror_declares_a_conflict_by_name(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    organiser, juror, cid = await juror_of_closed_competition(
        client, new_client, pool, smtp_server, blind_judging=True
    )
    page = await client.get(f"/jury/{cid}/konflikte")
    assert "Muster Zulieferer GmbH" not in page.text  # who takes part stays hidden
    assert len(re.findall(r'name="company_\d"', page.text)) == 5
    r = await client.post(
        f"/jury/{cid}/konflikte",
        data={
            "csrf_token": juror.csrf,
            "company_0": "Muster Zulieferer GmbH",
            "type_0": "former_employee",
            "note_0": "bis 2023",
            "confirmed": "1",
        },
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/jury/{cid}")
    page = await client.get(f"/jury/{cid}/konflikte")
    assert re.search(r'name="company_0"\s+value="Muster Zulieferer GmbH"', page.text)
    assert '<option value="former_employee" selected>Früher angestellt</option>' in page.text
    jurors = (await organiser.get(f"/api/v1/competitions/{cid}/jurors")).json()
    assert [(c["company_name"], c["type"]) for c in jurors[0]["conflicts"]] == [
        ("Muster Zulieferer GmbH", "former_employee")
    ]


async def test_score_sheet_saved_elsewhere_shows_the_stored_points_and_keeps_the_input(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    organiser, juror, cid = await juror_of_closed_competition(client, new_client, pool, smtp_server)
    item = await assignment_in_judging(organiser, juror, cid)
    page = await client.get(f"/jury/bewertung/{item['id']}")
    assert re.findall(r'name="version" value="(\d+)"', page.text) == ["0"]
    # The same juror saves in another window first.
    r = await juror.put(
        f"/api/v1/assignments/{item['id']}/score",
        json={"scores": {"innovation": 3, "impact": 4}, "final": False},
        headers={"If-Match": "0"},
    )
    assert r.status_code == 200, r.text
    mine = {
        "csrf_token": juror.csrf,
        "version": "0",
        "score_innovation": "8,5",
        "score_impact": "6",
        "comment": "Stark in der Umsetzung.",
        "action": "draft",
    }
    r = await client.post(f"/jury/bewertung/{item['id']}", data=mine)
    assert r.status_code == 412
    assert "Gespeichert ist jetzt:" in r.text
    assert "Innovation 3,0, Wirkung 4,0." in r.text
    assert re.search(r'name="score_innovation" value="8,5"', r.text)
    assert ">Stark in der Umsetzung.</textarea>" in r.text
    # The form comes back with the version saved in the other window.
    assert re.findall(r'name="version" value="(\d+)"', r.text) == ["1"]
    r = await client.post(f"/jury/bewertung/{item['id']}", data={**mine, "version": "1"})
    assert (r.status_code, r.headers["location"]) == (303, f"/jury/bewertung/{item['id']}")
    sheet = (await juror.get(f"/api/v1/assignments/{item['id']}")).json()["sheet"]
    assert (sheet["scores"], sheet["comment"]) == (
        {"innovation": 8.5, "impact": 6.0},
        "Stark in der Umsetzung.",
    )


async def test_suggested_conflicts_give_their_reason_in_the_page_language(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    # The company's website is muster-zulieferer.example; its owner mails from zulieferer.example.
    organiser, juror, cid = await juror_of_closed_competition(
        client, new_client, pool, smtp_server, juror_email="jo@muster-zulieferer.example"
    )
    await organiser.post(
        f"/api/v1/competitions/{cid}/jurors",
        json={"email": "kai@zulieferer.example", "name": "Kai"},
    )
    by_website = {
        "de": "E-Mail-Domain muster-zulieferer.example entspricht der Website "
        "muster-zulieferer.example.",
        "en": "The e-mail domain muster-zulieferer.example matches the website "
        "muster-zulieferer.example.",
    }
    by_members = {
        "de": "Mitglieder des Unternehmens nutzen die E-Mail-Domain zulieferer.example.",
        "en": "Members of the company use the e-mail domain zulieferer.example.",
    }

    mine = (await juror.get(f"/api/v1/competitions/{cid}/conflicts/me")).json()
    assert [(s["company_name"], s["reason"]) for s in mine["suggested"]] == [
        ("Muster Zulieferer GmbH", by_website["de"])
    ]
    page = await juror.get(f"/jury/{cid}/konflikte")
    assert f"<small>Hinweis: {by_website['de']}</small>" in page.text
    page = await juror.get(f"/jury/{cid}/konflikte?lang=en")
    assert f"<small>Hint: {by_website['en']}</small>" in page.text

    jurors = (await organiser.get(f"/api/v1/competitions/{cid}/jurors")).json()
    assert sorted((j["name"], s["reason"]) for j in jurors for s in j["suggested_conflicts"]) == [
        ("Jo", by_website["de"]),
        ("Kai", by_members["de"]),
    ]
    page = await organiser.get(f"/organisation/{cid}/jury?lang=en")
    assert [
        reason
        for reason in (by_website["en"], by_members["en"])
        if f"<small>Possible conflict: Muster Zulieferer GmbH – {reason}</small>" in page.text
    ] == [by_website["en"], by_members["en"]]
