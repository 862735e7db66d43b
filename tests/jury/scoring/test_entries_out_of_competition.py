"""An entry withdrawn or disqualified during judging can no longer be opened or scored by its
jurors, and its assignment vanishes exactly as a conflicted one does (a blind juror must not
learn from the answer whether a conflict with the company or a withdrawal was the cause)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.helpers import company_body, login
from tests.jury.scoring.test_access import Jury, jury_with_one_assignment

pytestmark = pytest.mark.usefixtures("worker")


async def juror_view(jury: Jury) -> list[tuple[int, Any]]:
    cid = jury.competition["id"]
    answers = [
        await jury.juror.get(f"/api/v1/assignments/{jury.assignment_id}"),
        await jury.juror.put(
            f"/api/v1/assignments/{jury.assignment_id}/score",
            json={"scores": {"innovation": 9, "impact": 9}, "final": True},
        ),
        await jury.juror.get(f"/api/v1/attachments/{jury.attachment_id}"),
        await jury.juror.get(f"/api/v1/attachments/{jury.attachment_id}/download"),
        await jury.juror.get(f"/api/v1/me/assignments?competition_id={cid}"),
    ]
    page = await jury.juror.get(f"/jury/bewertung/{jury.assignment_id}")
    return [(r.status_code, r.json()) for r in answers] + [(page.status_code, None)]


GONE = [
    (404, {"error": "not_found", "detail": "Zuteilung nicht gefunden."}),
    (404, {"error": "not_found", "detail": "Zuteilung nicht gefunden."}),
    (404, {"error": "not_found", "detail": "Anhang nicht gefunden."}),
    (404, {"error": "not_found", "detail": "Anhang nicht gefunden."}),
    (200, []),
    (404, None),
]


@pytest.mark.parametrize("how", ["withdrawn", "disqualified"])
async def test_juror_can_neither_open_nor_score_an_entry_that_left_the_competition(
    how: str,
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    jury = await jury_with_one_assignment(
        client,
        new_client,
        pool,
        smtp_server,
        blind=True,
        company=company_body("Geheim GmbH"),
        owner_email="chefin@geheim.example",
    )
    r = await jury.juror.put(
        f"/api/v1/assignments/{jury.assignment_id}/score",
        json={"scores": {"innovation": 3}, "final": False},
    )
    assert (r.status_code, r.json()["version"]) == (200, 1)
    if how == "withdrawn":
        owner = await login(new_client(), "chefin@geheim.example")
        r = await owner.post(
            f"/api/v1/entries/{jury.entry['id']}/withdraw",
            json={"reason": "Der Auftraggeber hat das Projekt gestoppt."},
        )
        assert (r.status_code, r.json()["status"]) == (200, "withdrawn")
    else:
        # No operation disqualifies yet (the formal pre-check will); the state is what counts.
        async with pool.acquire() as conn:
            await conn.execute("UPDATE entry SET status = 'disqualified'")

    assert await juror_view(jury) == GONE
    # No longer work to do: no reminder about it, no open sheet on the organisers' dashboard.
    cid = jury.competition["id"]
    r = await jury.organiser.post(f"/api/v1/competitions/{cid}/jury-reminders")
    assert (r.status_code, r.json()) == (200, {"queued": 0})
    progress = (await jury.organiser.get(f"/api/v1/competitions/{cid}/progress")).json()
    assert [(j["assigned"], j["draft"], j["final"], j["open"]) for j in progress["jurors"]] == [
        (0, 0, 0, 0)
    ]
    async with pool.acquire() as conn:
        sheet = await conn.fetchrow("SELECT status, version, scores FROM score_sheet")
    assert sheet is not None
    assert dict(sheet) == {"status": "draft", "version": 1, "scores": {"innovation": 3}}


async def test_a_withdrawn_entry_looks_like_a_conflicted_one_to_the_juror(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    """The side channel: the same answers, byte for byte, whatever made the assignment go."""
    jury = await jury_with_one_assignment(
        client,
        new_client,
        pool,
        smtp_server,
        blind=True,
        company=company_body("Geheim GmbH"),
        owner_email="chefin@geheim.example",
    )
    cid = jury.competition["id"]
    r = await jury.organiser.post(
        f"/api/v1/competitions/{cid}/conflicts",
        json={"juror_id": jury.juror_id, "company_id": jury.company["id"], "type": "customer"},
    )
    assert r.status_code == 201
    assert await juror_view(jury) == GONE
