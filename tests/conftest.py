"""Fixtures on the real services: PostgreSQL (a fresh database built by the migrations), Redis
(a database of its own, flushed per test), SeaweedFS and an SMTP capture (tests/services.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, cast

import asyncpg
import httpx
import pytest
import redis.asyncio as redis_asyncio
from litestar import Litestar

from competition import queue
from competition.app import create_app, open_services
from competition.config import Settings, load_settings
from competition.db import create_pool, migrate
from competition.services import Services
from workers.main import run as run_worker
from workers.relay import relay_once

pytest_plugins = ["tests.services"]

ADMIN_DSN = os.environ.get(
    "COMPETITION_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_DB = os.environ.get("COMPETITION_TEST_DATABASE", "competition_test")
TEST_REDIS = os.environ.get("COMPETITION_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
PUBLIC_URL = "http://wettbewerb.test"


def dsn_for(database: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


async def recreate_database(name: str) -> str:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return dsn_for(name)


@pytest.fixture(scope="session")
async def database() -> str:
    dsn = await recreate_database(TEST_DB)
    await migrate(dsn)
    return dsn


@pytest.fixture(scope="session")
def settings(database: str, s3_server: Any, smtp_server: Any) -> Settings:
    return load_settings(
        {},
        database_url=database,
        redis_url=TEST_REDIS,
        s3_endpoint=s3_server.endpoint_url,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_bucket=s3_server.bucket,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_timeout=10.0,
        public_url=PUBLIC_URL,
        secret_key="test-secret-key-not-for-production",
        environment="test",
        job_timeout_seconds=5,
        job_max_attempts=2,
        mail_max_attempts=3,
        relay_poll_seconds=0.2,
        tick_seconds=1.0,
    )


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(settings.database_url, min_size=1, max_size=5)
    yield p
    await p.close()


async def wipe(pool: asyncpg.Pool, redis_url: str) -> None:
    async with pool.acquire() as conn:
        tables = await conn.fetchval(
            """SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables
               WHERE schemaname = 'public' AND tablename <> 'schema_migration'"""
        )
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    client = redis_asyncio.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def clean(pool: asyncpg.Pool, settings: Settings, smtp_server: Any) -> None:
    """Every test starts from empty tables, an empty Redis database and an empty mailbox."""
    await wipe(pool, settings.redis_url)
    smtp_server.clear()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """The real application; its services live in the tests' event loop for the session."""
    application = create_app(settings)
    async with open_services(settings) as services:
        application.state.services = services
        yield application


@pytest.fixture
def services(app: Litestar) -> Services:
    """The app's process-wide handles (pool, Redis, object store) for direct domain calls."""
    found: Services = app.state.services
    return found


@pytest.fixture
async def client(app: Litestar, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cast(Any, app), client=("198.51.100.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def new_client(app: Litestar) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """Further independent clients (another browser) within one test."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        # Each "browser" has its own address, as real users do (rate limits count per client).
        address = f"198.51.100.{10 + len(clients)}"
        transport = httpx.ASGITransport(app=cast(Any, app), client=(address, 50001))
        c = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def worker(settings: Settings, clean: None) -> AsyncIterator[None]:
    """The real worker (relay + arq) running in this event loop for the test."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop))
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def relay(
    pool: asyncpg.Pool, settings: Settings
) -> AsyncIterator[Callable[[], Coroutine[Any, Any, int]]]:
    """One relay pass on demand, for tests that drive the outbox step by step."""
    arq = await queue.connect(settings.redis_url)

    async def once() -> int:
        return await relay_once(pool, arq, settings)

    yield once
    await arq.aclose()


TOKEN_LINK = re.compile(r"(https?://\S+\?token=([A-Za-z0-9_.\-]+))")


def token_from(body: str, path: str) -> str:
    """The token of the first link to `path` under the public URL in a mail body."""
    for url, token in TOKEN_LINK.findall(body):
        if url.startswith(f"{PUBLIC_URL}{path}?token="):
            return str(token)
    raise AssertionError(f"no {path} link in mail:\n{body}")


def run_cli(settings: Settings, *args: str) -> tuple[int, str]:
    """Run the `competition` command against the test services; (exit code, stdout)."""
    import subprocess
    import sys

    from competition.config import to_environ

    done = subprocess.run(
        [sys.executable, "-m", "competition.cli", *args],
        env={**os.environ, **to_environ(settings)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout
