"""Scored sheets → result run → winners → publish → announcements, public page, export, verify."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.config import Settings
from tests.conftest import Mail, Outbox, run_cli, sent, token_from
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

# (company, category, title, scores by juror A and B): the ranking follows from these.
ENTRIES = (
    ("Alpha GmbH", "energie", "Abwärme nutzen", (9, 9), (8, 9)),
    ("Beta AG", "energie", "Solardach", (5, 5), (6, 6)),
    ("Gamma KG", "mobilitaet", '=HYPERLINK("http://x")', (7, 7), (7, 8)),
    ("Delta OHG", "mobilitaet", "Lastenrad-Flotte", (8, 8), (9, 9)),
)


async def scored_competition(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> tuple[Session, dict[str, Any], dict[str, str], list[Session]]:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser, reviews_per_entry=2)
    cid = competition["id"]
    entry_ids: dict[str, str] = {}
    for i, (name, category, title, _, _) in enumerate(ENTRIES):
        email = f"inhaber{i}@firma{i}.example"
        await account(pool, email, f"Inhaber {i}", locale="en" if i == 1 else "de")
        owner = await login(new_client(), email)
        company = (await owner.post("/api/v1/companies", json=company_body(name))).json()
        entry = await submitted_entry(owner, cid, company, title=title, category=category)
        entry_ids[title] = entry["id"]
    await smtp_server.wait_for(4, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    jurors = []
    for address in ("a@jury.example", "b@jury.example"):
        await organiser.post(
            f"/api/v1/competitions/{cid}/jurors",
            json={"email": address, "name": address[0].upper()},
        )
    for mail in await smtp_server.wait_for(2, timeout=20):
        c = new_client()
        await c.post(
            "/api/v1/jury/invitations/accept",
            json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
        )
        session = await login(c, mail.message["To"])
        await session.put(
            f"/api/v1/competitions/{cid}/conflicts/me",
            json={"conflicts": [], "confirmed_complete": True},
        )
        jurors.append((mail.message["To"], session))
    jurors.sort()
    smtp_server.clear()
    run = (await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs", json={})).json()

    async def done() -> bool:
        r = await organiser.get(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}")
        return bool(r.json()["status"] == "done")

    await poll(done)
    await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run['id']}/deploy")
    await smtp_server.wait_for(2, timeout=20)
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    by_entry = {entry_ids[t]: (a, b) for _, _, t, a, b in ENTRIES}
    for position, (_, session) in enumerate(jurors):
        for item in (await session.get(f"/api/v1/me/assignments?competition_id={cid}")).json():
            innovation, impact = by_entry[item["entry"]["id"]][position]
            r = await session.put(
                f"/api/v1/assignments/{item['id']}/score",
                json={"scores": {"innovation": innovation, "impact": impact}, "final": True},
            )
            assert r.status_code == 200, r.text
    smtp_server.clear()
    return organiser, competition, entry_ids, [s for _, s in jurors]


async def test_results_journey_to_published_winners(
    *,
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    settings: Settings,
    outbox: Outbox,
) -> None:
    organiser, competition, ids, _ = await scored_competition(client, new_client, pool, smtp_server)
    cid, slug = competition["id"], competition["slug"]
    public = await client.get(f"/api/v1/public/competitions/{slug}/winners")
    assert (public.status_code, public.json()["error"]) == (404, "not_found")

    r = await organiser.post(f"/api/v1/competitions/{cid}/result-runs", json={"method": "raw"})
    assert r.status_code == 202
    run_id = r.json()["id"]

    async def finished() -> dict[str, Any] | None:
        body = (await organiser.get(f"/api/v1/competitions/{cid}/result-runs/{run_id}")).json()
        return body if body["status"] != "queued" else None

    run = await poll(finished)
    assert (run["status"], run["method"]) == ("done", "raw")
    assert len(run["snapshot_hash"]) == 64
    ranking = {
        c["category"]: [(e["title"], e["rank"], e["n_reviews"]) for e in c["ranking"]]
        for c in run["categories"]
    }
    assert ranking == {
        "mobilitaet": [("Lastenrad-Flotte", 1, 2), ('=HYPERLINK("http://x")', 2, 2)],
        "energie": [("Abwärme nutzen", 1, 2), ("Solardach", 2, 2)],
    }
    # Raw method: the score is the mean of the two sheet totals (weights 3:2, scale 0–10).
    first = run["categories"][1]["ranking"][0]
    expected = (100 * (3 * 9 / 10 + 2 * 9 / 10) / 5 + 100 * (3 * 8 / 10 + 2 * 9 / 10) / 5) / 2
    assert first["score"] == pytest.approx(expected, abs=1e-9)
    # Krippendorff's alpha (interval) over the sheet totals 6·innovation + 4·impact: four
    # entries of two values each, (90, 84), (50, 60), (70, 74), (80, 90); SS_total = 1431.5,
    # within-entry 2·(18 + 50 + 8 + 50) = 252, alpha = 1 − (7/8)·252/1431.5 = 346/409.
    assert run["reliability"] == {
        "alpha": pytest.approx(346 / 409, abs=1e-9),
        "n_units": 4,
        "n_values": 8,
    }

    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})
    picks = [
        {"category": "energie", "entry_id": ids["Abwärme nutzen"], "place": 1},
        {"category": "mobilitaet", "entry_id": ids['=HYPERLINK("http://x")'], "place": 1},
    ]
    r = await organiser.put(
        f"/api/v1/competitions/{cid}/winners", json={"result_run_id": run_id, "winners": picks}
    )
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["fields"]] == ["winners[1].justification"]
    picks[1]["justification"] = "Höhere regionale Wirkung, einstimmig in der Jurysitzung."
    r = await organiser.put(
        f"/api/v1/competitions/{cid}/winners", json={"result_run_id": run_id, "winners": picks}
    )
    assert r.status_code == 200, r.text
    assert [(w["title"], w["place"], w["rank"]) for w in r.json()["winners"]] == [
        ('=HYPERLINK("http://x")', 1, 2),
        ("Abwärme nutzen", 1, 1),
    ]
    assert (await client.get(f"/api/v1/public/competitions/{slug}/winners")).status_code == 404

    r = await organiser.post(f"/api/v1/competitions/{cid}/publish")
    assert (r.status_code, r.json()["status"], r.json()["result_run_id"]) == (
        202,
        "published",
        run_id,
    )
    drained = await outbox.drained()
    winner = "Herzlichen Glückwunsch: Sie gehören zu den Siegern – Industrie. Neu. Denken. 2026"
    thanks = "Vielen Dank für Ihre Jurytätigkeit – Industrie. Neu. Denken. 2026"
    announced = [
        ("a@jury.example", thanks),
        ("b@jury.example", thanks),
        ("inhaber0@firma0.example", winner),
        ("inhaber1@firma1.example", "The winners are announced – Industry. Rethought. 2026"),
        ("inhaber2@firma2.example", winner),
        ("inhaber3@firma3.example", "Die Sieger stehen fest – Industrie. Neu. Denken. 2026"),
    ]
    assert sent(smtp_server.messages) == announced
    assert drained.failed_events == []
    earlier = [
        ("a@jury.example", "4 Beiträge zur Bewertung: Industrie. Neu. Denken. 2026"),
        ("a@jury.example", "Einladung in die Jury: Industrie. Neu. Denken. 2026"),
        ("b@jury.example", "4 Beiträge zur Bewertung: Industrie. Neu. Denken. 2026"),
        ("b@jury.example", "Einladung in die Jury: Industrie. Neu. Denken. 2026"),
        ("inhaber0@firma0.example", "Eingangsbestätigung: Abwärme nutzen"),
        ("inhaber1@firma1.example", "Confirmation of receipt: Solardach"),
        ("inhaber2@firma2.example", 'Eingangsbestätigung: =HYPERLINK("http://x")'),
        ("inhaber3@firma3.example", "Eingangsbestätigung: Lastenrad-Flotte"),
    ]
    assert drained.mails == sorted(
        Mail(to, subject, "sent", 1) for to, subject in announced + earlier
    )

    public = (await client.get(f"/api/v1/public/competitions/{slug}/winners")).json()
    assert [
        (c["category"], [(w["place"], w["title"], w["company_name"]) for w in c["winners"]])
        for c in public["categories"]
    ] == [
        ("mobilitaet", [(1, '=HYPERLINK("http://x")', "Gamma KG")]),
        ("energie", [(1, "Abwärme nutzen", "Alpha GmbH")]),
    ]
    assert "Solardach" not in str(public)

    # The published run cannot be changed, and it still matches the database …
    code, out = run_cli(settings, "results", "verify", run_id)
    assert (code, out.startswith(f"Ergebnislauf {run_id} stimmt überein")) == (0, True)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="is frozen"):
            await conn.execute("UPDATE result_run SET method = 'zscore' WHERE id = $1", run_id)
        # … until someone changes a score behind the platform's back.
        await conn.execute(
            """UPDATE score_sheet SET scores = '{"innovation": 1, "impact": 1}'::jsonb
               WHERE id = (SELECT id FROM score_sheet ORDER BY id LIMIT 1)"""
        )
    code, out = run_cli(settings, "results", "verify", run_id)
    assert code == 1
    assert out.startswith(f"Ergebnislauf {run_id} stimmt NICHT mehr überein")

    # Export for German Excel: BOM, semicolons, decimal commas, formulas defused.
    r = await organiser.get(f"/api/v1/competitions/{cid}/export.csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Kategorie", "Rang", "Titel", "Unternehmen"]
    by_title = {row[2]: row for row in rows[1:]}
    assert by_title['\'=HYPERLINK("http://x")'][1] == "2"
    assert by_title['\'=HYPERLINK("http://x")'][14] == "1"
    assert by_title["Abwärme nutzen"][8] == f"{expected:.2f}".replace(".", ",")
    r = await organiser.get(f"/api/v1/competitions/{cid}/export.csv?sep=,")
    assert r.content.decode("utf-8-sig").splitlines()[0].startswith("Kategorie,Rang,Titel")
