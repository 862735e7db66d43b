"""Numbers typed into the pages are read in the page's language (de "7,5", en "7.5"), and as a
browser's number field sends them ("7.5" on every page); a comma on an English page is no number:
the form says so instead of storing a number ten times too large."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.helpers import account
from tests.web.test_jury_pages import assignment_in_judging, juror_of_closed_competition
from tests.web.test_pages import web_login

pytestmark = pytest.mark.usefixtures("worker")


async def test_set_up_form_reads_a_weight_in_the_page_language(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    r = await web_login(client, "orga@wettbewerb.test")
    assert r.status_code == 303
    page = await client.get("/organisation/wettbewerbe/neu")
    # The page's own values (categories, criteria, the CSRF token), without its check boxes.
    form: dict[str, Any] = {
        name: value
        for name, value in re.findall(r'name="([^"]+)"\s+value="([^"]*)"', page.text)
        if name not in ("blind_judging", "eligible_districts")
    }
    form |= {
        "title.de": "Industrie. Neu. Denken.",
        "submission_opens_at": "2030-03-01T09:00",
        "submission_closes_at": "2030-05-01T12:00",
        "eligible_districts": "zwickau",
    }
    answers = []
    for slug, lang, weight in (
        ("komma-de", "de", "1,5"),
        ("punkt-en", "en", "2.5"),
        ("feld-de", "de", "3.5"),  # as a browser's number field sends it on a German page
        ("komma-en", "en", "4,5"),
    ):
        r = await client.post(
            f"/organisation/wettbewerbe/neu?lang={lang}",
            data={**form, "slug": slug, "criteria[0].weight": weight},
        )
        answers.append(r.status_code)
    assert answers == [303, 303, 303, 422]
    assert (
        '<span class="error" id="f-criteria-0-weight-error">Please enter a number.</span>'
    ) in r.text
    async with pool.acquire() as conn:
        weights = await conn.fetch(
            """SELECT c.slug, k.weight FROM criterion k
               JOIN competition c ON c.id = k.competition_id
               WHERE k.position = 0 ORDER BY c.slug"""
        )
    assert [(w["slug"], w["weight"]) for w in weights] == [
        ("feld-de", 3.5),
        ("komma-de", 1.5),
        ("punkt-en", 2.5),
    ]


async def test_score_sheet_reads_points_in_the_page_language(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    organiser, juror, cid = await juror_of_closed_competition(client, new_client, pool, smtp_server)
    item = await assignment_in_judging(organiser, juror, cid)
    saved = []
    for lang, points in (
        ("de", "7,5"),
        ("en", "8.5"),
        ("de", "6.5"),  # as a browser's number field sends it on a German page
        ("en", "9,5"),
    ):
        r = await client.post(
            f"/jury/bewertung/{item['id']}?lang={lang}",
            data={
                "csrf_token": juror.csrf,
                "score_innovation": points,
                "score_impact": "6",
                "action": "draft",
            },
        )
        sheet = (await juror.get(f"/api/v1/assignments/{item['id']}")).json()["sheet"]
        saved.append((r.status_code, sheet["scores"].get("innovation")))
    assert saved == [(303, 7.5), (303, 8.5), (303, 6.5), (422, 6.5)]
    assert (
        '<span class="error" id="f-scores-innovation-error">Please enter a number.</span>'
    ) in r.text
