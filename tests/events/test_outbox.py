"""Outbox guarantees, against the real PostgreSQL, Redis, worker and SMTP capture."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as redis_asyncio

from competition.accounts import service as accounts
from competition.config import Settings, to_environ
from competition.db import transaction
from competition.events import service as events
from competition.ops.admin import failed_jobs_report
from competition.services import Services
from tests.conftest import Drained, Mail, Outbox
from tests.helpers import poll
from workers import jobs

Relay = Callable[[], Coroutine[Any, Any, int]]
VERIFY = "Bitte bestätigen Sie Ihre E-Mail-Adresse"


async def register(pool: asyncpg.Pool, n: int, *, prefix: str = "user") -> list[str]:
    """Register n accounts through the domain service, in one transaction; returns addresses."""
    addresses = [f"{prefix}{i:03d}@example.de" for i in range(n)]
    async with transaction(pool) as conn:
        for address in addresses:
            # A precomputed hash keeps 200 registrations fast; the service hashes real passwords.
            await conn.execute(
                "INSERT INTO account (email, name, password_hash) VALUES ($1, $2, 'x')",
                address,
                address.split("@")[0],
            )
            account_id = await conn.fetchval("SELECT id FROM account WHERE email = $1", address)
            await events.record(conn, "account.registered", aggregate_id=account_id)
    return addresses


async def count(pool: asyncpg.Pool, sql: str, *args: Any) -> int:
    async with pool.acquire() as conn:
        value: int = await conn.fetchval(sql, *args)
    return value


async def test_rolled_back_transaction_emits_nothing(pool: asyncpg.Pool, relay: Relay) -> None:
    class Boom(Exception):
        pass

    async def register_then_fail() -> None:
        async with transaction(pool) as conn:
            await accounts.register(
                conn, email="weg@example.de", password="passwort-123", name="Weg", locale="de"
            )
            assert await conn.fetchval("SELECT count(*) FROM event") == 1
            raise Boom

    with pytest.raises(Boom):
        await register_then_fail()
    assert await count(pool, "SELECT count(*) FROM event") == 0
    assert await count(pool, "SELECT count(*) FROM account") == 0
    assert await relay() == 0


async def test_event_processed_twice_has_one_effect(
    pool: asyncpg.Pool, services: Services, relay: Relay
) -> None:
    await register(pool, 1)
    assert await relay() == 1  # the event
    async with pool.acquire() as conn:
        event_id = str(await conn.fetchval("SELECT id FROM event"))
    ctx = {"services": services}
    results = await asyncio.gather(
        jobs.handle_event(ctx, event_id), jobs.handle_event(ctx, event_id)
    )
    assert sorted(results) == ["processed", "skipped"]
    assert await jobs.handle_event(ctx, event_id) == "skipped"
    assert await count(pool, "SELECT count(*) FROM email") == 1
    # Dispatching the same event again is refused by the queue (same job id) …
    async with pool.acquire() as conn:
        await conn.execute("UPDATE event SET dispatched_at = NULL")
    assert await relay() == 2  # the event again and the new mail
    assert await count(pool, "SELECT count(*) FROM email") == 1


@pytest.mark.usefixtures("worker")
async def test_temporary_smtp_failure_is_retried_permanent_is_recorded(
    pool: asyncpg.Pool, settings: Settings, smtp_server: Any, outbox: Outbox
) -> None:
    smtp_server.fail_next(1, code=451, text="try again later")
    await register(pool, 1, prefix="temp")
    drained = await outbox.drained()
    assert [m.message["To"] for m in smtp_server.messages] == ["temp000@example.de"]
    assert drained.mails == [Mail("temp000@example.de", VERIFY, "sent", 2)]

    smtp_server.clear()
    smtp_server.fail_next(1, code=550, text="no such user")
    await register(pool, 1, prefix="perm")
    drained = await outbox.drained()
    assert drained.mails == [
        Mail("perm000@example.de", VERIFY, "failed", 1),
        Mail("temp000@example.de", VERIFY, "sent", 2),
    ]
    assert drained.failed_events == []
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, last_error FROM email WHERE recipient = $1", "perm000@example.de"
        )
    assert row is not None
    assert row["last_error"] == "SMTPDataError: (550, 'no such user')"
    assert await failed_jobs_report(settings) == (
        "Fehlgeschlagene Ereignisse: 0\n"
        "Fehlgeschlagene E-Mails: 1\n"
        f"  email {row['id']} verify_email an perm000@example.de attempts=1"
        " error=SMTPDataError: (550, 'no such user')",
        1,
    )
    assert smtp_server.messages == []


@pytest.mark.usefixtures("worker")
async def test_broken_event_is_retried_then_listed_as_failed(
    pool: asyncpg.Pool, settings: Settings, outbox: Outbox
) -> None:
    async with transaction(pool) as conn:
        # An event without its aggregate cannot be handled; it must end visible, not dropped.
        await events.record(conn, "account.registered", aggregate_id=None)
    assert await outbox.drained() == Drained(events=[("account.registered", "failed")], mails=[])
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT id, attempts, last_error, failed_at FROM event")
    assert row is not None
    assert row["attempts"] == settings.job_max_attempts == 2
    assert row["last_error"].startswith("EventWithoutSubject: account.registered event ")
    assert await failed_jobs_report(settings) == (
        "Fehlgeschlagene Ereignisse: 1\n"
        f"  event {row['id']} account.registered attempts=2"
        f" failed_at={row['failed_at']:%Y-%m-%d %H:%M:%S} error={row['last_error']}\n"
        "Fehlgeschlagene E-Mails: 0",
        1,
    )


# --- Redis down, worker killed: the worker runs as its own process here. ---


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class RedisServer:
    """A private redis-server for the test, so stopping it disturbs nothing else."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def started(self) -> None:
        """Start the server and wait until it answers."""
        self.start()
        client = redis_asyncio.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        try:
            await poll(lambda: _answers(client), timeout=10, interval=0.05)
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


async def _answers(client: redis_asyncio.Redis) -> bool:
    try:
        return bool(await client.ping())
    except redis_asyncio.ConnectionError:
        return False


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **to_environ(settings)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "competition.cli", "worker"], env=env, stdout=out, stderr=out
        )


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    await server.started()
    yield server
    server.stop()


async def test_event_committed_while_redis_down_is_delivered_after(
    pool: asyncpg.Pool,
    settings: Settings,
    smtp_server: Any,
    private_redis: RedisServer,
    tmp_path: Path,
) -> None:
    own = msgspec_replace(settings, redis_url=f"redis://127.0.0.1:{private_redis.port}/0")
    log = tmp_path / "worker.log"
    worker = start_worker(own, log)
    redis = redis_asyncio.Redis(host="127.0.0.1", port=private_redis.port)
    try:
        await register(pool, 1, prefix="before")
        await Outbox(pool, redis).drained()
        assert [m.message["To"] for m in smtp_server.messages] == ["before000@example.de"]
        private_redis.stop()
        await register(pool, 1, prefix="during")

        async def relay_failed() -> bool:
            return '"message":"relay cannot dispatch yet"' in log.read_text()

        await poll(relay_failed, timeout=30)
        # The relay tried while Redis was down; the event waits in PostgreSQL.
        assert await count(pool, "SELECT count(*) FROM event WHERE dispatched_at IS NULL") == 1
        assert [m.message["To"] for m in smtp_server.messages] == ["before000@example.de"]
        await private_redis.started()
        drained = await Outbox(pool, redis).drained()
    finally:
        await redis.aclose()
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    assert sorted(m.message["To"] for m in smtp_server.messages) == [
        "before000@example.de",
        "during000@example.de",
    ]
    assert drained == Drained(
        events=[("account.registered", "processed")] * 2,
        mails=[
            Mail("before000@example.de", VERIFY, "sent", 1),
            Mail("during000@example.de", VERIFY, "sent", 1),
        ],
    )


def msgspec_replace(settings: Settings, **changes: Any) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, **changes)


async def test_worker_killed_while_sending_200_mails_loses_none(
    pool: asyncpg.Pool, settings: Settings, smtp_server: Any, tmp_path: Path, outbox: Outbox
) -> None:
    log = tmp_path / "worker.log"
    addresses = await register(pool, 200)
    worker = start_worker(settings, log)
    try:

        async def forty_sent() -> bool:
            return len(smtp_server.messages) >= 40

        await poll(forty_sent, timeout=30, interval=0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        arrived_at_kill = len(smtp_server.messages)
        assert 40 <= arrived_at_kill < 200, "the kill must happen in the middle of sending"
        worker = start_worker(settings, log)
        # Done means recorded as sent and no job left: mails that were in flight at the kill are
        # sent again once their lease has expired, so waiting for the recipients would stop early.
        drained = await outbox.drained(timeout=120)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)

    assert drained.failed_events == []
    assert [(m.recipient, m.status) for m in drained.mails] == [(a, "sent") for a in addresses]
    mails = smtp_server.messages
    per_recipient = Counter(m.message["To"] for m in mails)
    assert set(per_recipient) == set(addresses)
    duplicated = {r for r, n in per_recipient.items() if n > 1}
    # Only mails in flight at the kill may repeat: at most the worker's concurrency …
    assert len(duplicated) <= settings.worker_concurrency
    assert max(per_recipient.values()) <= 2
    # … and a repeated mail is the same mail: same Message-ID both times.
    for recipient in duplicated:
        ids = {m.message["Message-ID"] for m in mails if m.message["To"] == recipient}
        assert len(ids) == 1
    assert len({m.message["Message-ID"] for m in mails}) == 200
    assert await count(pool, "SELECT count(*) FROM email WHERE status = 'sent'") == 200
    # Every repeat was a mail in flight at the kill: claimed before it and claimed again after.
    async with pool.acquire() as conn:
        reclaimed = {
            r["recipient"]
            for r in await conn.fetch("SELECT recipient FROM email WHERE attempts > 1")
        }
    assert duplicated <= reclaimed
    assert len(reclaimed) <= settings.worker_concurrency
