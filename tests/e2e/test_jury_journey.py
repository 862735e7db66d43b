"""The jury journey over HTTP: invite → accept from the mailed link → declare conflicts → run →
preview → deploy → one mail per juror → scoring → progress."""

from __future__ import annotations

from collections import Counter
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

SCORES = {"innovation": 8, "impact": 6}
# Weights 3 and 2 on 0–10 scales; the documented formula, in its order of operations (≈ 72).
TOTAL = 100 * (3 * (8 - 0) / (10 - 0) + 2 * (6 - 0) / (10 - 0)) / (3 + 2)


async def test_jury_journey_from_invitation_to_progress(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser, reviews_per_entry=2)
    cid = competition["id"]

    companies = []
    for i, (name, district) in enumerate(
        (("Alpha GmbH", "zwickau"), ("Beta AG", "chemnitz"), ("Gamma KG", "vogtlandkreis"))
    ):
        email = f"owner{i}@{name.split()[0].lower()}.example"
        await account(pool, email, f"Owner {i}")
        session = await login(new_client(), email)
        company = (
            await session.post("/api/v1/companies", json=company_body(name, district=district))
        ).json()
        companies.append((session, company))
    entries = [
        await submitted_entry(s, cid, c, title=f"Idee {c['name']}", files=1 if i == 0 else 0)
        for i, (s, c) in enumerate(companies)
    ]
    assert (
        await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    ).status_code == 200
    confirmations = await smtp_server.wait_for(3, timeout=20)
    assert {m.message["Subject"].split(":")[0] for m in confirmations} == {"Eingangsbestätigung"}
    smtp_server.clear()

    # Invite three jurors; one of them already has an account.
    await account(pool, "dora@hochschule.example", "Dora Vorhanden")
    invited = {}
    for email, name in (
        ("anton@hochschule.example", "Prof. Anton"),
        ("berta@institut.example", "Dr. Berta"),
        ("dora@hochschule.example", "Dora Vorhanden"),
    ):
        r = await organiser.post(
            f"/api/v1/competitions/{cid}/jurors",
            json={"email": email, "name": name, "expertise": ["energie"]},
        )
        assert (r.status_code, r.json()["status"]) == (201, "invited"), r.text
        invited[email] = r.json()["id"]
    mails = await smtp_server.wait_for(3, timeout=20)
    assert sorted(m.message["To"] for m in mails) == sorted(invited)
    assert {m.message["Subject"] for m in mails} == {
        "Einladung in die Jury: Industrie. Neu. Denken. 2026"
    }

    jurors: dict[str, Session] = {}
    for mail in mails:
        address = mail.message["To"]
        token = token_from(text(mail), "/jury/accept")
        # Dora proves her existing account with its password; the others choose one.
        body: dict[str, Any] = {"token": token, "password": PASSWORD}
        c = new_client()
        r = await c.post("/api/v1/jury/invitations/accept", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["account_created"] is (address != "dora@hochschule.example")
        jurors[address] = await login(c, address)
    me = (await jurors["anton@hochschule.example"].get("/api/v1/me")).json()
    assert me["roles"] == ["entrant", "juror"]

    # Before confirming the declaration, a juror sees no entries.
    r = await jurors["anton@hochschule.example"].get(f"/api/v1/me/assignments?competition_id={cid}")
    assert (r.status_code, r.json()["error"]) == (403, "conflicts_unconfirmed")

    alpha = companies[0][1]
    r = await jurors["anton@hochschule.example"].get(f"/api/v1/competitions/{cid}/conflicts/me")
    assert sorted(c["name"] for c in r.json()["companies"]) == ["Alpha GmbH", "Beta AG", "Gamma KG"]
    r = await jurors["anton@hochschule.example"].put(
        f"/api/v1/competitions/{cid}/conflicts/me",
        json={
            "conflicts": [{"company_id": alpha["id"], "type": "advisor", "note": "Beirat"}],
            "confirmed_complete": True,
        },
    )
    assert r.status_code == 200, r.text
    assert [(c["company_name"], c["type"]) for c in r.json()["conflicts"]] == [
        ("Alpha GmbH", "advisor")
    ]
    for address in ("berta@institut.example", "dora@hochschule.example"):
        r = await jurors[address].put(
            f"/api/v1/competitions/{cid}/conflicts/me",
            json={"conflicts": [], "confirmed_complete": True},
        )
        assert r.status_code == 200

    # Run, preview, deploy.
    smtp_server.clear()
    r = await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={"seed": 7})
    assert (r.status_code, r.json()["status"]) == (202, "queued")
    run_id = r.json()["id"]

    async def finished() -> dict[str, Any] | None:
        run = (await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run_id}")).json()
        return run if run["status"] in ("done", "infeasible", "failed") else None

    run = await poll(finished)
    assert (run["status"], run["feasible"]) == ("done", True)
    assert run["report"]["demand"] == 6
    assert run["stats"]["conflicts_violated"] == 0
    assert (run["stats"]["load_min"], run["stats"]["load_max"]) == (2, 2)
    pairs = {(a["juror_id"], a["entry_id"]) for a in run["assignments"]}
    assert len(pairs) == 6
    assert Counter(e for _, e in pairs) == {e["id"]: 2 for e in entries}
    anton = invited["anton@hochschule.example"]
    # Anton conflicts with Alpha: the other two review it.
    assert {j for j, e in pairs if e == entries[0]["id"]} == {
        invited["berta@institut.example"],
        invited["dora@hochschule.example"],
    }
    assert (anton, entries[0]["id"]) not in pairs

    r = await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run_id}/deploy")
    assert (r.status_code, r.json()["created"]) == (200, 6)
    r = await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run_id}/deploy")
    assert (r.status_code, r.json()["created"]) == (200, 0)  # deploying twice changes nothing
    notified = await smtp_server.wait_for(3, timeout=20)
    assert sorted(m.message["To"] for m in notified) == sorted(invited)
    assert {m.message["Subject"] for m in notified} == {
        "2 Beiträge zur Bewertung: Industrie. Neu. Denken. 2026"
    }

    # Scoring happens in the judging phase.
    berta = jurors["berta@institut.example"]
    items = (await berta.get(f"/api/v1/me/assignments?competition_id={cid}")).json()
    assert len(items) == 2
    first = items[0]["id"]
    r = await berta.put(
        f"/api/v1/assignments/{first}/score", json={"scores": SCORES, "final": False}
    )
    assert (r.status_code, r.json()["error"]) == (409, "not_judging")
    assert (
        await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    ).status_code == 200

    r = await berta.put(
        f"/api/v1/assignments/{first}/score",
        json={"scores": {"innovation": 8}, "final": False, "comment": "Entwurf"},
        headers={"If-Match": "0"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"], r.json()["weighted_total"]) == (
        "draft",
        1,
        None,
    )
    r = await berta.put(
        f"/api/v1/assignments/{first}/score",
        json={"scores": SCORES, "final": False},
        headers={"If-Match": "0"},
    )
    assert (r.status_code, r.json()["error"]) == (412, "version_conflict")
    r = await berta.put(
        f"/api/v1/assignments/{first}/score",
        json={"scores": {"innovation": 11}, "final": False},
    )
    assert (r.status_code, r.json()["fields"][0]["field"]) == (422, "scores.innovation")
    r = await berta.put(
        f"/api/v1/assignments/{first}/score",
        json={"scores": SCORES, "final": True},
        headers={"If-Match": "1"},
    )
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["version"], r.json()["weighted_total"]) == (
        "final",
        2,
        TOTAL,
    )
    assert r.json()["comment"] == "Entwurf"
    r = await berta.put(
        f"/api/v1/assignments/{first}/score", json={"scores": SCORES, "final": True}
    )
    assert (r.status_code, r.json()["error"]) == (409, "sheet_final")

    for address, session in jurors.items():
        for item in (await session.get(f"/api/v1/me/assignments?competition_id={cid}")).json():
            if item["sheet_status"] == "final":
                continue
            r = await session.put(
                f"/api/v1/assignments/{item['id']}/score",
                json={"scores": SCORES, "final": address != "dora@hochschule.example"},
            )
            assert r.status_code == 200, r.text

    progress = (await organiser.get(f"/api/v1/competitions/{cid}/progress")).json()
    by_name = {
        j["name"]: (j["assigned"], j["final"], j["draft"], j["open"]) for j in progress["jurors"]
    }
    assert by_name == {
        "Prof. Anton": (2, 2, 0, 0),
        "Dr. Berta": (2, 2, 0, 0),
        "Dora Vorhanden": (2, 0, 2, 0),
    }
    assert (progress["sheets_final"], progress["sheets_assigned"]) == (4, 6)
    assert sorted(e["assigned"] for e in progress["reviews"]) == [2, 2, 2]

    # Reminders go to jurors with open sheets only, once a day.
    smtp_server.clear()
    r = await organiser.post(f"/api/v1/competitions/{cid}/jury-reminders")
    assert r.json() == {"queued": 1}
    assert (await organiser.post(f"/api/v1/competitions/{cid}/jury-reminders")).json() == {
        "queued": 0
    }
    reminded = await smtp_server.wait_for(1, timeout=20)
    assert [(m.message["To"], m.message["Subject"]) for m in reminded] == [
        (
            "dora@hochschule.example",
            "Erinnerung: 2 offene Bewertungen – Industrie. Neu. Denken. 2026",
        ),
    ]
