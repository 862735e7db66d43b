"""Login throttling counts failures, never successes: a jury room behind one address is never
stopped, a guesser is, and the client address comes from a proxy header only for configured
trusted proxies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest
import redis.asyncio as redis_asyncio

from competition.accounts import security
from competition.accounts.service import ensure_account
from competition.app import create_app, open_services
from competition.config import Settings
from competition.db import transaction
from competition.ratelimit import client_address, trusted_networks
from tests.helpers import PASSWORD

ROOM = "192.0.2.50"  # the jury room's one public address


def from_address(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=cast(Any, app), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def accounts(pool: asyncpg.Pool, emails: list[str]) -> None:
    """Verified accounts with the test password, hashed once for all (argon2 is slow on
    purpose)."""
    password_hash = await security.hash_password(PASSWORD)
    async with transaction(pool) as conn:
        for email in emails:
            await conn.execute(
                """INSERT INTO account (email, name, password_hash, locale, email_verified_at)
                   VALUES ($1, $1, $2, 'de', now())""",
                email,
                password_hash,
            )


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> int:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return r.status_code


async def test_sixteen_jurors_log_in_from_one_address(app: Any, pool: asyncpg.Pool) -> None:
    jurors = [f"juror{i:02d}@jury.example" for i in range(16)]
    await accounts(pool, jurors)
    room = from_address(app, ROOM)
    # Four of them mistype first, as people do.
    typos = [await attempt(room, email, "vertippt-1234") for email in jurors[:4]]
    statuses = await asyncio.gather(*(attempt(room, email, PASSWORD) for email in jurors))
    await room.aclose()
    assert typos == [401] * 4
    assert statuses == [200] * 16


async def test_thirty_wrong_passwords_are_throttled_but_not_the_colleague_or_the_owner(
    app: Any, pool: asyncpg.Pool
) -> None:
    await accounts(pool, ["ziel@firma.example", "kollegin@firma.example"])
    room = from_address(app, ROOM)
    statuses = [await attempt(room, "ziel@firma.example", f"geraten-{i:04d}") for i in range(30)]
    assert statuses == [401] * 5 + [429] * 25
    # A colleague behind the same address, and the owner elsewhere, sign in at once.
    assert await attempt(room, "kollegin@firma.example", PASSWORD) == 200
    elsewhere = from_address(app, "198.51.100.200")
    assert await attempt(elsewhere, "ziel@firma.example", PASSWORD) == 200
    await room.aclose()
    await elsewhere.aclose()


async def test_the_delay_grows_and_a_success_forgives(
    app: Any, pool: asyncpg.Pool, settings: Settings
) -> None:
    await accounts(pool, ["ziel@firma.example"])
    store = redis_asyncio.Redis.from_url(settings.redis_url)
    room = from_address(app, ROOM)

    async def waited_out() -> None:
        """Move every last-failure time back, as if the delays had passed."""
        for key in await store.keys("lf:*"):
            if await store.type(key) == b"hash":
                await store.hset(key, "t", "0")

    retry_after: list[tuple[int, str | None]] = []
    for _ in range(4):
        for _ in range(5 if not retry_after else 1):
            assert await attempt(room, "ziel@firma.example", "falsch-falsch") == 401
        r = await room.post(
            "/api/v1/auth/login", json={"email": "ziel@firma.example", "password": "x"}
        )
        retry_after.append((r.status_code, r.headers.get("retry-after")))
        await waited_out()
    assert retry_after == [(429, "1"), (429, "2"), (429, "4"), (429, "8")]
    assert await attempt(room, "ziel@firma.example", PASSWORD) == 200
    assert [await attempt(room, "ziel@firma.example", "falsch") for _ in range(6)] == [401] * 5 + [
        429
    ]
    await room.aclose()
    await store.aclose()


@pytest.fixture
async def strict_app(settings: Settings) -> AsyncIterator[Any]:
    """An app that trusts the proxy network 10.0.0.0/8 and stops a client after 8 failures."""
    strict = msgspec.structs.replace(
        settings, trusted_proxies="10.0.0.0/8, 2001:db8::/32", login_client_failure_limit=8
    )
    application = create_app(strict)
    async with open_services(strict) as services:
        application.state.services = services
        yield application


async def test_many_accounts_tried_from_one_client_stop_that_client(
    strict_app: Any, pool: asyncpg.Pool
) -> None:
    await accounts(pool, [f"konto{i}@firma.example" for i in range(9)])
    stuffer = from_address(strict_app, "203.0.113.66")
    statuses = [await attempt(stuffer, f"konto{i}@firma.example", "leak-2019") for i in range(9)]
    assert statuses == [401] * 8 + [429]
    assert await attempt(stuffer, "konto8@firma.example", PASSWORD) == 429
    other = from_address(strict_app, "203.0.113.67")
    assert await attempt(other, "konto8@firma.example", PASSWORD) == 200
    await stuffer.aclose()
    await other.aclose()


async def test_forwarded_address_counts_only_behind_a_trusted_proxy(
    strict_app: Any, pool: asyncpg.Pool
) -> None:
    await accounts(pool, ["ziel@firma.example"])
    proxy = from_address(strict_app, "10.1.2.3")

    async def via_proxy(forwarded: str, password: str) -> int:
        r = await proxy.post(
            "/api/v1/auth/login",
            json={"email": "ziel@firma.example", "password": password},
            headers={"X-Forwarded-For": forwarded},
        )
        return r.status_code

    # Behind the trusted proxy, the guesser and the owner are told apart by the header.
    assert [await via_proxy("198.51.100.9", "falsch-falsch") for _ in range(6)] == [401] * 5 + [429]
    assert await via_proxy("198.51.100.10", PASSWORD) == 200

    # A client that is not a trusted proxy cannot pick its own key with the header.
    direct = from_address(strict_app, "203.0.113.5")
    spoofed = []
    for i in range(6):
        r = await direct.post(
            "/api/v1/auth/login",
            json={"email": "ziel@firma.example", "password": "falsch-falsch"},
            headers={"X-Forwarded-For": f"198.51.100.{100 + i}"},
        )
        spoofed.append(r.status_code)
    assert spoofed == [401] * 5 + [429]
    await proxy.aclose()
    await direct.aclose()


def test_client_address_from_the_forwarded_chain() -> None:
    trusted = trusted_networks("10.0.0.0/8, 192.0.2.1, 2001:db8::/32")
    assert trusted_networks("") == ()
    cases = [
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # untrusted peer: header ignored
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "1.1.1.1, 198.51.100.1", "198.51.100.1"),  # the left part is the client's
        ("10.0.0.1", "198.51.100.1, 192.0.2.1", "198.51.100.1"),  # two proxies in a row
        ("10.0.0.1", "10.9.9.9, 192.0.2.1", "10.0.0.1"),  # only proxies: the peer
        ("10.0.0.1", "nonsense, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "198.51.100.1, nonsense", "10.0.0.1"),  # malformed hop: the peer
        ("2001:db8::1", "2001:db8:1::5, 2a00:1450::1", "2a00:1450::1"),
        (None, "198.51.100.1", "unknown"),
    ]
    assert [client_address(peer, header, trusted) for peer, header, _ in cases] == [
        expected for *_, expected in cases
    ]


async def test_an_information_evening_registers_from_one_address(app: Any) -> None:
    hall = from_address(app, ROOM)
    statuses = []
    for i in range(20):
        r = await hall.post(
            "/api/v1/auth/register",
            json={"email": f"firma{i}@region.example", "password": PASSWORD, "name": f"F {i}"},
        )
        statuses.append(r.status_code)
    resets = []
    for i in range(20):
        r = await hall.post("/api/v1/auth/password-reset", json={"email": f"firma{i}@x.example"})
        resets.append(r.status_code)
    await hall.aclose()
    assert statuses == [201] * 20
    assert resets == [202] * 20


async def test_one_address_is_not_flooded_with_reset_mails(app: Any) -> None:
    client = from_address(app, ROOM)
    statuses = []
    for _ in range(5):
        r = await client.post("/api/v1/auth/password-reset", json={"email": "opfer@firma.example"})
        statuses.append(r.status_code)
    await client.aclose()
    assert statuses == [202, 202, 202, 429, 429]


async def test_organiser_created_by_the_operator_logs_in_from_the_room(
    app: Any, pool: asyncpg.Pool
) -> None:
    async with transaction(pool) as conn:
        await ensure_account(conn, email="orga@wettbewerb.test", name="O", password=PASSWORD)
    room = from_address(app, ROOM)
    assert [await attempt(room, "orga@wettbewerb.test", PASSWORD) for _ in range(12)] == [200] * 12
    await room.aclose()
