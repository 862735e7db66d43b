"""Fixtures on the real services: PostgreSQL (a database of each test's own, cloned from a template
the migrations built), Redis (a database of its own, flushed per test), SeaweedFS and an SMTP
capture (tests/services.py).

Isolation is a template-database clone per test, as the house style allows: the migrations run
once per session into `<COMPETITION_TEST_DATABASE>_template`, and every test that touches the
database gets `CREATE DATABASE … TEMPLATE … STRATEGY WAL_LOG` of its own, dropped when it ends.
Measured on PostgreSQL 15 with this schema (22 tables): WAL_LOG clones in 20–40 ms on an idle
machine and 60–320 ms under load; FILE_COPY forces two checkpoints, 35–40 ms idle and 0.4–1.6 s
under load; the TRUNCATE of every table it replaces took 40–60 ms idle, 0.4–0.7 s under load.
The next clone is made while a test runs and the used one dropped while the next runs, so a test
waits for neither: in tests/jury, tests/entries and tests/web (69 tests with a database) the
isolation in the tests' path went from 10–11 s (truncation, ~130 ms a test) to under 2 s (a new
pool, ~16 ms). The app, the worker, the relay and direct domain calls all use the test's
database: the `Services` of a test carry its own pool, next to the Redis client and object store
shared by the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest
import redis.asyncio as redis_asyncio
from litestar import Litestar

from competition import queue
from competition.app import create_app
from competition.config import Settings, load_settings
from competition.db import create_pool, migrate
from competition.services import Services
from competition.storage.s3 import Storage
from workers.main import run as run_worker
from workers.relay import relay_once

pytest_plugins = ["tests.services"]

ADMIN_DSN = os.environ.get(
    "COMPETITION_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_DB = os.environ.get("COMPETITION_TEST_DATABASE", "competition_test")
TEST_REDIS = os.environ.get("COMPETITION_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
PUBLIC_URL = "http://wettbewerb.test"
TEMPLATE_DB = f"{TEST_DB}_template"


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


class Databases:
    """Clones of the template database, one per test: the next is made ahead while a test runs,
    used ones are dropped behind it. Names are `<COMPETITION_TEST_DATABASE>_clone_<n>`, so runs
    with different database names never meet; a run with the same name (and Redis database)
    replaces the other's, as one session at a time is all such a pair of settings can carry."""

    def __init__(self, admin: asyncpg.Pool) -> None:
        self._admin = admin
        self._count = 0
        self._ahead: asyncio.Task[str] | None = None
        self._dropping: set[asyncio.Task[None]] = set()

    async def build_template(self) -> None:
        """Drop what an interrupted run left, then run the migrations into a new template."""
        pattern = re.compile(re.escape(TEST_DB) + r"_clone_\d+")
        names = [r["datname"] for r in await self._admin.fetch("SELECT datname FROM pg_database")]
        for name in [*filter(pattern.fullmatch, names), TEMPLATE_DB]:
            await self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await self._admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        await migrate(dsn_for(TEMPLATE_DB))
        # Nobody may connect to the template by mistake: a connection would make cloning fail.
        await self._admin.execute(f'ALTER DATABASE "{TEMPLATE_DB}" ALLOW_CONNECTIONS false')

    async def _clone(self, name: str) -> str:
        await self._admin.execute(
            f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}" STRATEGY WAL_LOG'
        )
        return name

    def _start_next(self) -> None:
        self._count += 1
        self._ahead = asyncio.create_task(self._clone(f"{TEST_DB}_clone_{self._count}"))

    async def take(self) -> str:
        """A fresh database of the test's own; its name."""
        if self._ahead is None:
            self._start_next()
        assert self._ahead is not None
        name = await self._ahead
        self._start_next()
        return name

    async def renew(self, name: str) -> None:
        """The database `name` replaced by a fresh clone, for a server that outlives a test and
        keeps its connection string; its pooled connections are ended and open again."""
        await self._admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await self._clone(name)

    async def _drop(self, name: str) -> None:
        await self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def release(self, name: str) -> None:
        """Drop `name` in the background (WITH FORCE: connections a test leaked end with it)."""
        task = asyncio.create_task(self._drop(name))
        self._dropping.add(task)
        task.add_done_callback(self._dropping.discard)

    async def close(self) -> None:
        if self._ahead is not None:
            self.release(await self._ahead)
        await asyncio.gather(*self._dropping)
        await self._admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def databases() -> AsyncIterator[Databases]:
    admin = await asyncpg.create_pool(ADMIN_DSN, min_size=1, max_size=4)
    found = Databases(admin)
    await found.build_template()
    try:
        yield found
    finally:
        await found.close()
        await admin.close()


@pytest.fixture
async def database(databases: Databases) -> AsyncIterator[str]:
    """The connection string of this test's own database, migrated and empty."""
    name = await databases.take()
    yield dsn_for(name)
    databases.release(name)


@pytest.fixture(scope="module")
async def served_database(databases: Databases) -> AsyncIterator[str]:
    """The name of a database for a server process that serves a whole module; each test gets it
    fresh through `renewed` (the server keeps its connection string)."""
    name = await databases.take()
    yield name
    databases.release(name)


async def renewed(databases: Databases, name: str, server: str) -> str:
    """`name` cloned anew for the next test, once the server at `server` uses the new database:
    its pooled connections to the old one ended with it, and it opens new ones when asked."""
    await databases.renew(name)
    async with httpx.AsyncClient(base_url=server, timeout=5) as http:
        for _ in range(100):
            if (await http.get("/health/ready")).status_code == 200:
                return dsn_for(name)
            await asyncio.sleep(0.05)
    raise AssertionError(f"{server} did not get ready on the renewed database")


@pytest.fixture(scope="session")
def session_settings(s3_server: Any, smtp_server: Any) -> Settings:
    """The settings every test shares; `database_url` names the template, which refuses
    connections: whatever outlives a test gets a database of its own (see `settings`)."""
    return load_settings(
        {},
        database_url=dsn_for(TEMPLATE_DB),
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


class Shared(msgspec.Struct, frozen=True, kw_only=True):
    """The handles tests share: one Redis client, one object store client."""

    redis: redis_asyncio.Redis
    storage: Storage


@pytest.fixture(scope="session")
async def shared(session_settings: Settings) -> AsyncIterator[Shared]:
    client = redis_asyncio.Redis.from_url(
        session_settings.redis_url, socket_connect_timeout=2, socket_timeout=5
    )
    yield Shared(redis=client, storage=Storage(session_settings))
    await client.aclose()


@pytest.fixture
async def settings(
    session_settings: Settings, database: str, shared: Shared, smtp_server: Any
) -> Settings:
    """This test's settings: its own database; the Redis database flushed, the mailbox empty."""
    await shared.redis.flushdb()
    smtp_server.clear()
    return msgspec.structs.replace(session_settings, database_url=database)


@pytest.fixture
async def services(settings: Settings, shared: Shared) -> AsyncIterator[Services]:
    """The handles of this test (its own pool, the shared Redis and object store), as the app,
    the jobs and direct domain calls receive them."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=settings.db_pool_max)
    yield Services(settings=settings, pool=pool, redis=shared.redis, storage=shared.storage)
    try:
        await asyncio.wait_for(pool.close(), 10)
    except TimeoutError:  # a connection the test never released
        pool.terminate()


@pytest.fixture
def pool(services: Services) -> asyncpg.Pool:
    return services.pool


@pytest.fixture(scope="session")
def application(session_settings: Settings) -> Litestar:
    """The real application, built once; each test hands it its own `Services`."""
    return create_app(session_settings)


@pytest.fixture
def app(application: Litestar, services: Services) -> Iterator[Litestar]:
    application.state.services = services
    yield application
    application.state.services = None


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
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
async def worker(settings: Settings) -> AsyncIterator[None]:
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


class Mail(msgspec.Struct, frozen=True, order=True):
    """A row of the mail outbox: to whom, what, and how far it got."""

    recipient: str
    subject: str
    status: str
    attempts: int


class Drained(msgspec.Struct, frozen=True, kw_only=True):
    """The outbox once the worker has nothing left to do, sorted (jobs run concurrently, so the
    order in which they recorded things is no claim a test can make)."""

    events: list[tuple[str, str]]  # (kind, "processed" or "failed")
    mails: list[Mail]

    @property
    def failed_events(self) -> list[str]:
        return [kind for kind, state in self.events if state != "processed"]


class Outbox:
    """Waits for the worker to finish what the outbox holds, instead of sleeping and hoping."""

    def __init__(self, pool: asyncpg.Pool, redis: redis_asyncio.Redis) -> None:
        self._pool = pool
        self._redis = redis

    async def drained(self, *, timeout: float = 60) -> Drained:
        """Wait until every event is processed or failed for good, every mail sent or failed for
        good and no job is queued or running, then return the outbox. Nothing can be sent after
        that unless something new is recorded: arq keeps a job in its queue until it ended."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self._pool.acquire() as conn:
                open_rows = await conn.fetchval(
                    """SELECT (SELECT count(*) FROM event
                               WHERE dispatched_at IS NULL
                                  OR (processed_at IS NULL AND failed_at IS NULL))
                            + (SELECT count(*) FROM email
                               WHERE dispatched_at IS NULL OR status IN ('queued', 'sending'))"""
                )
            if open_rows == 0 and await self._redis.zcard(queue.QUEUE_NAME) == 0:
                break
            assert loop.time() < deadline, f"outbox not drained within {timeout} s"
            await asyncio.sleep(0.05)
        async with self._pool.acquire() as conn:
            events = await conn.fetch(
                """SELECT kind, CASE WHEN processed_at IS NULL THEN 'failed' ELSE 'processed' END
                          AS state
                   FROM event"""
            )
            mails = await conn.fetch("SELECT recipient, subject, status, attempts FROM email")
        # Sorted here, not by the database's collation, so the order is the same everywhere.
        return Drained(
            events=sorted((r["kind"], r["state"]) for r in events),
            mails=sorted(
                Mail(r["recipient"], r["subject"], r["status"], r["attempts"]) for r in mails
            ),
        )


@pytest.fixture
def outbox(pool: asyncpg.Pool, shared: Shared) -> Outbox:
    return Outbox(pool, shared.redis)


def sent(mails: list[Any]) -> list[tuple[str, str]]:
    """(recipient, subject) of the messages the SMTP capture accepted, sorted."""
    return sorted((m.message["To"], m.message["Subject"]) for m in mails)


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
