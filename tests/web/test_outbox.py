"""The web outbox ("Postausgang"): organisers see the mail of the competitions they organise,
platform administrators (`competition create-organiser --admin`) every mail, labelled as such;
mails about accounts and companies belong to no competition."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.config import Settings
from tests.conftest import run_cli
from tests.helpers import PASSWORD, account, login, open_competition, poll, register_via_mail

pytestmark = pytest.mark.usefixtures("worker")


def recipients(page: httpx.Response) -> list[str]:
    """The recipient column of the outbox table, top to bottom."""
    rows = re.findall(r"<tr>\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>([^<]*)</td>", page.text, re.S)
    return sorted(rows)


async def test_organisers_see_their_competitions_mail_and_administrators_all(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    settings: Settings,
    smtp_server: Any,
) -> None:
    await account(pool, "orga-a@wettbewerb.test", "Orga A", organiser=True)
    await account(pool, "orga-b@wettbewerb.test", "Orga B", organiser=True)
    code, out = run_cli(
        settings,
        "create-organiser",
        "admin@wettbewerb.test",
        "--name",
        "Plattform",
        "--password",
        PASSWORD,
        "--admin",
    )
    assert (code, out.strip().endswith("(Plattform-Administration).")) == (0, True)
    orga_a = await login(client, "orga-a@wettbewerb.test")
    orga_b = await login(new_client(), "orga-b@wettbewerb.test")
    admin = await login(new_client(), "admin@wettbewerb.test")
    a = await open_competition(orga_a, slug="wettbewerb-a")
    b = await open_competition(orga_b, slug="wettbewerb-b")
    entrant = await register_via_mail(new_client(), smtp_server, "erika@firma.example", "Erika")
    for session, competition, juror in (
        (orga_a, a, "jan@jury.example"),
        (orga_b, b, "jo@jury.example"),
    ):
        r = await session.post(
            f"/api/v1/competitions/{competition['id']}/jurors", json={"email": juror, "name": "J"}
        )
        assert r.status_code == 201, r.text
    await smtp_server.wait_for(3, timeout=20)

    async def all_sent() -> bool:
        async with pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT bool_and(status = 'sent') FROM email"))

    await poll(all_sent)

    async with pool.acquire() as conn:
        stored = sorted(
            (r["template"], r["competition_id"] and str(r["competition_id"]))
            for r in await conn.fetch("SELECT template, competition_id FROM email")
        )
    assert stored == sorted(
        [("jury_invitation", a["id"]), ("jury_invitation", b["id"]), ("verify_email", None)]
    )

    seen: dict[str, list[str]] = {}
    pages: dict[str, httpx.Response] = {}
    for name, session in (("a", orga_a), ("b", orga_b), ("admin", admin)):
        pages[name] = await session.get("/organisation/postausgang")
        assert pages[name].status_code == 200
        seen[name] = recipients(pages[name])
    assert seen == {
        "a": ["jan@jury.example"],
        "b": ["jo@jury.example"],
        "admin": ["erika@firma.example", "jan@jury.example", "jo@jury.example"],
    }
    assert "Plattform-Administration: Sie sehen alle E-Mails der Plattform" in pages["admin"].text
    assert "Sie sehen die E-Mails der Wettbewerbe, die Sie organisieren:" in pages["a"].text
    assert "Plattform-Administration: Sie sehen" not in pages["a"].text
    # The counts are scoped too: one sent mail for each organiser, three for the platform.
    counts = {
        name: re.findall(r'status=(\w+)"[^>]*>[^<]*: (\d+)</a>', page.text)
        for name, page in pages.items()
    }
    none_open = [("queued", "0"), ("sending", "0")]
    assert counts == {
        "a": [*none_open, ("sent", "1"), ("failed", "0")],
        "b": [*none_open, ("sent", "1"), ("failed", "0")],
        "admin": [*none_open, ("sent", "3"), ("failed", "0")],
    }
    # Neither an entrant nor a visitor has an outbox, whatever the filter.
    for path in ("/organisation/postausgang", "/organisation/postausgang?status=sent"):
        assert (await entrant.get(path)).status_code == 403
        assert (await new_client().get(path)).status_code == 303
