"""Publishing to many entrants while the worker is killed mid-sending: no announcement is lost,
and any mail sent twice was in flight at the kill and carries the same Message-ID."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from competition.config import Settings
from tests.conftest import Outbox, sent
from tests.events.test_outbox import start_worker
from tests.helpers import account, login, open_competition, poll

ENTRANTS = 150
JURORS = 5


async def populate(pool: asyncpg.Pool, competition_id: str) -> list[str]:
    """Many entrant companies with submitted entries, and active jurors, straight into the
    database: this test is about sending, the journeys cover how the rows come about."""
    addresses = []
    async with pool.acquire() as conn, conn.transaction():
        category = await conn.fetchval(
            "SELECT id FROM category WHERE competition_id = $1 AND slug = 'energie'",
            competition_id,
        )
        for i in range(ENTRANTS):
            email = f"firma{i:03d}@region.example"
            account_id = await conn.fetchval(
                """INSERT INTO account (email, name, password_hash, email_verified_at, locale)
                   VALUES ($1, $2, 'x', now(), $3) RETURNING id""",
                email,
                f"Firma {i}",
                "en" if i % 5 == 0 else "de",
            )
            company_id = await conn.fetchval(
                """INSERT INTO company (name, street, postal_code, city, district, employees)
                   VALUES ($1, 'Weg 1', '08056', 'Zwickau', 'zwickau', 10) RETURNING id""",
                f"Firma {i} GmbH",
            )
            await conn.execute(
                """INSERT INTO company_member (company_id, account_id, role)
                   VALUES ($1, $2, 'owner')""",
                company_id,
                account_id,
            )
            await conn.execute(
                """INSERT INTO entry (competition_id, company_id, category_id, title, summary,
                       description, status, eligible, eligibility_reason, submitted_at)
                   VALUES ($1, $2, $3, $4, 'S', 'D', 'submitted', true, 'ok', now())""",
                competition_id,
                company_id,
                category,
                f"Idee {i:03d}",
            )
            addresses.append(email)
        for i in range(JURORS):
            email = f"juror{i}@jury.example"
            account_id = await conn.fetchval(
                """INSERT INTO account (email, name, password_hash, email_verified_at)
                   VALUES ($1, $2, 'x', now()) RETURNING id""",
                email,
                f"Juror {i}",
            )
            await conn.execute(
                """INSERT INTO juror (competition_id, account_id, email, name, status, accepted_at)
                   VALUES ($1, $2, $3, $4, 'active', now())""",
                competition_id,
                account_id,
                email,
                f"Juror {i}",
            )
            addresses.append(email)
    return addresses


def announcement(address: str) -> str:
    """The subject each address is announced the winners with: `firma000` won; every fifth
    entrant reads English (see `populate`), jurors German."""
    if address == "firma000@region.example":
        return "Congratulations: you are among the winners – Industry. Rethought. 2026"
    if address.startswith("juror"):
        return "Vielen Dank für Ihre Jurytätigkeit – Industrie. Neu. Denken. 2026"
    if int(address[5:8]) % 5 == 0:
        return "The winners are announced – Industry. Rethought. 2026"
    return "Die Sieger stehen fest – Industrie. Neu. Denken. 2026"


async def test_worker_killed_while_announcing_loses_none(
    *,
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    settings: Settings,
    smtp_server: Any,
    tmp_path: Path,
    outbox: Outbox,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    cid = competition["id"]
    addresses = await populate(pool, cid)
    for phase in ("closed", "judging", "deliberation"):
        r = await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": phase})
        assert r.status_code == 200, r.text

    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    try:
        run_id = (await organiser.post(f"/api/v1/competitions/{cid}/result-runs", json={})).json()[
            "id"
        ]

        async def done() -> bool:
            r = await organiser.get(f"/api/v1/competitions/{cid}/result-runs/{run_id}")
            return bool(r.json()["status"] == "done")

        await poll(done, timeout=60)
        async with pool.acquire() as conn:
            first = await conn.fetchval("SELECT id FROM entry WHERE title = 'Idee 000'")
        r = await organiser.put(
            f"/api/v1/competitions/{cid}/winners",
            json={
                "result_run_id": run_id,
                "winners": [
                    {
                        "category": "energie",
                        "entry_id": str(first),
                        "place": 1,
                        "justification": "Ohne Gutachten von der Jury in der Sitzung gewählt.",
                    }
                ],
            },
        )
        assert r.status_code == 200, r.text
        smtp_server.clear()
        assert (await organiser.post(f"/api/v1/competitions/{cid}/publish")).status_code == 202

        async def thirty_sent() -> bool:
            return len(smtp_server.messages) >= 30

        await poll(thirty_sent, timeout=30, interval=0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        at_kill = len(smtp_server.messages)
        assert 30 <= at_kill < len(addresses), "the kill must happen in the middle of sending"
        worker = start_worker(settings, log)
        # Mails in flight at the kill are sent again once their lease expired: done means
        # every mail recorded as sent and no job left, not every recipient reached once.
        drained = await outbox.drained(timeout=120)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)

    mails = smtp_server.messages
    expected = sorted((address, announcement(address)) for address in addresses)
    assert sorted(set(sent(mails))) == expected
    assert drained.failed_events == []
    assert [(m.recipient, m.subject, m.status) for m in drained.mails] == [
        (address, subject, "sent") for address, subject in expected
    ]
    per_recipient = Counter(m.message["To"] for m in mails)
    assert set(per_recipient) == set(addresses)
    duplicated = {r for r, n in per_recipient.items() if n > 1}
    async with pool.acquire() as conn:
        reclaimed = {
            r["recipient"]
            for r in await conn.fetch("SELECT recipient FROM email WHERE attempts > 1")
        }
    assert duplicated <= reclaimed
    assert len(reclaimed) <= settings.worker_concurrency
    assert max(per_recipient.values()) <= 2
    for recipient in duplicated:
        assert len({m.message["Message-ID"] for m in mails if m.message["To"] == recipient}) == 1
    assert len({m.message["Message-ID"] for m in mails}) == len(addresses)
