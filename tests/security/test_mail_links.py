"""Mails link only to the platform: company names, entry titles and people's names that look
like addresses are printed, never linked, in the HTML part and the text part alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import PUBLIC_URL
from tests.helpers import account, company_body, login, open_competition, submitted_entry, text

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_company_named_like_an_address_is_no_link_in_its_confirmation(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    competition = await open_competition(await login(new_client(), "orga@wettbewerb.test"))
    await account(pool, "eve@firma.example", "Eve (evil.example)")
    eve = await login(client, "eve@firma.example")
    r = await eve.post("/api/v1/companies", json=company_body("https://evil.example/login"))
    assert r.status_code == 201, r.text
    entry = await submitted_entry(
        eve, competition["id"], r.json(), title="Mehr unter www.evil.example, Version 4.0"
    )
    (mail,) = await smtp_server.wait_for(1, timeout=20)
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    plain = text(mail)
    link = f"{PUBLIC_URL}/entries/{entry['id']}"
    assert re.findall(r'href="([^"]*)"', html) == [link, link]  # the line and the button
    assert re.findall(r"https?://\S+", plain) == [link]
    for part in (html, plain):
        assert "evil.example" not in part
    assert (
        "der Beitrag „Mehr unter www.\u200bevil.\u200bexample, Version 4.0“ von "
        "https:\u200b//evil.\u200bexample/login ist am"
    ) in plain
    assert "Guten Tag Eve (evil.\u200bexample)," in plain
    assert mail.message["Subject"] == (
        "Eingangsbestätigung: Mehr unter www.evil.example, Version 4.0"
    )
