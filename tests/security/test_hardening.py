"""Hardening: security headers, HSTS behind TLS, no account enumeration, no planted sessions."""

from __future__ import annotations

from typing import Any, cast

import httpx
import msgspec

from competition.app import create_app, open_services
from competition.config import Settings
from tests.helpers import PASSWORD, account


async def test_hsts_only_when_the_public_url_is_https(settings: Settings) -> None:
    for public_url, expected in (
        ("https://wettbewerb.example", "max-age=31536000"),
        ("http://127.0.0.1:8000", None),
    ):
        variant = msgspec.structs.replace(settings, public_url=public_url)
        app = create_app(variant)
        async with open_services(variant) as services:
            app.state.services = services
            transport = httpx.ASGITransport(app=cast(Any, app))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.get("/health/live")
        assert r.headers.get("strict-transport-security") == expected
        assert r.headers["x-frame-options"] == "DENY"


async def test_cookies_are_secure_behind_tls(settings: Settings, pool: Any) -> None:
    await account(pool, "tls@example.de", "TLS")
    tls = msgspec.structs.replace(settings, public_url="https://wettbewerb.example")
    app = create_app(tls)
    async with open_services(tls) as services:
        app.state.services = services
        transport = httpx.ASGITransport(app=cast(Any, app))
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as c:
            r = await c.post(
                "/api/v1/auth/login", json={"email": "tls@example.de", "password": PASSWORD}
            )
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("ind_session="))
    csrf = next(c for c in cookies if c.startswith("ind_csrf="))
    assert "Secure" in session
    assert "HttpOnly" in session
    assert "SameSite=lax" in session
    assert "Secure" in csrf
    assert "HttpOnly" not in csrf  # the page's script reads it to send the header


async def test_unknown_and_known_addresses_get_identical_answers(
    client: httpx.AsyncClient, pool: Any
) -> None:
    await account(pool, "bekannt@example.de", "Bekannt")
    answers = []
    for address in ("bekannt@example.de", "unbekannt@example.de"):
        login = await client.post(
            "/api/v1/auth/login", json={"email": address, "password": "irgendwas-falsch"}
        )
        reset = await client.post("/api/v1/auth/password-reset", json={"email": address})
        answers.append((login.status_code, login.json(), reset.status_code, reset.json()))
    assert answers[0] == answers[1]
