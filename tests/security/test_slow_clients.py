"""Slow clients against the real API process: trickled bodies and heads hold no database
connection, late bodies and heads are cut off, a full pool answers 503, and a submission whose
body arrives after the deadline is refused (issue: availability under attack)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest

from competition.accounts import sessions
from competition.app import create_app, open_services
from competition.config import Settings, to_environ
from infra.local import free_port
from tests.conftest import Databases, dsn_for, renewed
from tests.helpers import account, company_body, login, open_competition

HEAD_TIMEOUT = 2.0
BODY_TIMEOUT = 8.0


@pytest.fixture(scope="module")
def api(
    session_settings: Settings, served_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """`competition api` as production runs it, with short head and body deadlines."""
    port = free_port()
    served = msgspec.structs.replace(
        session_settings,
        database_url=dsn_for(served_database),
        header_timeout_seconds=HEAD_TIMEOUT,
        body_timeout_seconds=BODY_TIMEOUT,
    )
    log = tmp_path_factory.mktemp("slow") / "api.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "competition.cli", "api", "--port", str(port)],
            env={**os.environ, **to_environ(served)},
            stdout=out,
            stderr=out,
        )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(20)


@pytest.fixture
async def database(databases: Databases, served_database: str, api: int) -> str:
    """Each test's database is the one the API process serves, cloned anew for the test."""
    return await renewed(databases, served_database, f"http://127.0.0.1:{api}")


async def _status(reader: asyncio.StreamReader) -> int:
    line = await reader.readline()
    return int(line.split()[1]) if line else 0


class Trickle:
    """A client that sends its request head at once and its body a byte at a time."""

    def __init__(self, port: int, method: str, path: str, body: bytes, **headers: str) -> None:
        self.port, self.body = port, body
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
        self.head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.sent = 0

    async def start(self, first: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(self.head + self.body[:first])
        await self.writer.drain()
        self.sent = first

    async def drip(self, interval: float) -> None:
        while self.sent < len(self.body) - 1:  # never the last byte: the body stays incomplete
            await asyncio.sleep(interval)
            self.writer.write(self.body[self.sent : self.sent + 1])
            await self.writer.drain()
            self.sent += 1

    async def finish(self) -> int:
        self.writer.write(self.body[self.sent :])
        await self.writer.drain()
        return await _status(self.reader)

    def close(self) -> None:
        self.writer.close()


@pytest.mark.usefixtures("settings")
async def test_trickled_bodies_hold_no_connection(api: int) -> None:
    login_form = b"email=juror%40example.org&password=" + b"x" * 4000
    login_json = json.dumps({"email": "juror@example.org", "password": "x" * 4000}).encode()
    clients = [
        Trickle(
            api,
            "POST",
            "/login",
            login_form,
            Content_Type="application/x-www-form-urlencoded",
        )
        for _ in range(20)
    ] + [
        Trickle(api, "POST", "/api/v1/auth/login", login_json, Content_Type="application/json")
        for _ in range(20)
    ]
    for c in clients:
        await c.start(first=30)
    drips = [asyncio.create_task(c.drip(0.2)) for c in clients]
    try:
        await asyncio.sleep(0.5)  # every one of them is inside its body now
        timings: list[tuple[str, int, bool]] = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api}", timeout=10) as http:
            for path in ("/api/v1/competitions", "/health/ready", "/", "/api/v1/competitions"):
                started = time.perf_counter()
                r = await http.get(path)
                took = time.perf_counter() - started
                print(f"{path}: {r.status_code} in {took * 1000:.0f} ms beside 40 trickled bodies")
                timings.append((path, r.status_code, took < 2.0))
        assert timings == [
            ("/api/v1/competitions", 200, True),
            ("/health/ready", 200, True),
            ("/", 200, True),
            ("/api/v1/competitions", 200, True),
        ]
        assert [d.done() for d in drips] == [False] * 40  # still trickling all along
    finally:
        for d in drips:
            d.cancel()
        for c in clients:
            c.close()


@pytest.mark.usefixtures("settings")
async def test_body_that_takes_too_long_is_cut_off(api: int) -> None:
    body = json.dumps({"email": "a@example.org", "password": "y" * 2000}).encode()
    slow = Trickle(api, "POST", "/api/v1/auth/login", body, Content_Type="application/json")
    await slow.start(first=10)
    drip = asyncio.create_task(slow.drip(0.05))
    try:
        started = time.perf_counter()
        status = await asyncio.wait_for(_status(slow.reader), BODY_TIMEOUT + 5)
        waited = time.perf_counter() - started
        answer = (await asyncio.wait_for(slow.reader.read(), 5)).split(b"\r\n\r\n", 1)[1]
    finally:
        drip.cancel()
        slow.close()
    assert status == 408
    assert json.loads(answer)["error"] == "request_timeout"
    assert BODY_TIMEOUT - 0.5 < waited < BODY_TIMEOUT + 3


async def test_head_that_takes_too_long_is_cut_off(api: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", api)
    writer.write(b"GET /api/v1/competitions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()
    started = time.perf_counter()
    try:
        for _ in range(20):  # a header line every 0.25 s: never done, always "active"
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1), 0.25) == b"":
                    break
    except ConnectionError:
        pass
    closed_after = time.perf_counter() - started
    writer.close()
    assert HEAD_TIMEOUT - 0.3 < closed_after < HEAD_TIMEOUT + 1.5


async def test_body_larger_than_allowed_is_refused_before_it_is_read(
    api: int, settings: Settings
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", api)
    writer.write(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {settings.max_body_bytes + 1}\r\n\r\n".encode()
    )
    await writer.drain()
    status = await asyncio.wait_for(_status(reader), 5)
    writer.close()
    assert status == 413


@pytest.fixture
async def crowded(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """An app whose pool of two connections is held by someone else; it waits 0.3 s for one."""
    small = msgspec.structs.replace(
        settings, db_pool_min=1, db_pool_max=2, db_acquire_timeout_seconds=0.3
    )
    application = create_app(small)
    async with open_services(small) as services:
        application.state.services = services
        held = [await services.pool.acquire() for _ in range(2)]
        transport = httpx.ASGITransport(app=cast(Any, application))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            try:
                yield c, services
            finally:
                for conn in held:
                    await services.pool.release(conn)


async def test_full_pool_answers_503_with_retry_after(
    crowded: tuple[httpx.AsyncClient, Any],
) -> None:
    client, _ = crowded
    started = time.perf_counter()
    r = await client.get("/api/v1/competitions")
    waited = time.perf_counter() - started
    assert (r.status_code, r.headers["retry-after"], r.json()["error"]) == (
        503,
        "2",
        "service_unavailable",
    )
    assert waited < 2.0


async def test_submit_whose_body_ends_after_the_deadline_is_refused(
    api: int, client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@example.org", "Orga", organiser=True)
    organiser = await login(client, "orga@example.org")
    competition = await open_competition(organiser)
    await account(pool, "firma@example.org", "Firma")
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": organiser.csrf})
    entrant = await login(client, "firma@example.org")
    company = (await entrant.post("/api/v1/companies", json=company_body())).json()
    r = await entrant.post(
        f"/api/v1/competitions/{competition['id']}/entries",
        json={
            "company_id": company["id"],
            "category": "energie",
            "title": "Wärme aus der Presse",
            "summary": "Kurz.",
            "description": "Lang.",
        },
    )
    assert r.status_code == 201, r.text
    entry_id = r.json()["id"]
    closes_in = 1.5
    async with pool.acquire() as conn:
        await conn.execute(
            """UPDATE competition SET submission_closes_at = now() + make_interval(secs => $2)
               WHERE id = $1""",
            competition["id"],
            closes_in,
        )
    body = f"csrf_token={entrant.csrf}".encode()
    late = Trickle(
        api,
        "POST",
        f"/entries/{entry_id}/einreichen",
        body,
        Content_Type="application/x-www-form-urlencoded",
        Cookie=f"{sessions.SESSION_COOKIE}={client.cookies[sessions.SESSION_COOKIE]}",
    )
    await late.start(first=5)  # the request begins well before the deadline …
    await asyncio.sleep(closes_in + 1.0)
    status = await late.finish()  # … and its body completes a second after it
    late.close()
    async with pool.acquire() as conn:
        stored = await conn.fetchrow(
            "SELECT status, submitted_at FROM entry WHERE id = $1", entry_id
        )
    assert status == 409
    assert stored is not None
    assert dict(stored) == {"status": "draft", "submitted_at": None}
