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

from competition.accounts import service as accounts
from competition.auth import Services
from competition.config import Settings, to_environ
from competition.db import transaction
from competition.events import service as events
from competition.ops.admin import failed_jobs_report
from workers import jobs

Relay = Callable[[], Coroutine[Any, Any, int]]


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
    pool: asyncpg.Pool, settings: Settings, smtp_server: Any
) -> None:
    smtp_server.fail_next(1, code=451, text="try again later")
    await register(pool, 1, prefix="temp")
    mails = await smtp_server.wait_for(1, timeout=30)
    assert [m.message["To"] for m in mails] == ["temp000@example.de"]
    assert await count(pool, "SELECT attempts FROM email") == 2

    smtp_server.clear()
    smtp_server.fail_next(1, code=550, text="no such user")
    await register(pool, 1, prefix="perm")
    for _ in range(100):
        if await count(pool, "SELECT count(*) FROM email WHERE status = 'failed'") == 1:
            break
        await asyncio.sleep(0.1)
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT status, attempts, last_error FROM email WHERE recipient = $1",
            "perm000@example.de",
        )
    assert row is not None
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "550" in row["last_error"]
    report, failed = await failed_jobs_report(settings)
    assert failed == 1
    assert "perm000@example.de" in report
    assert smtp_server.messages == []


@pytest.mark.usefixtures("worker")
async def test_broken_event_is_retried_then_listed_as_failed(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    async with transaction(pool) as conn:
        # An event without its aggregate cannot be handled; it must end visible, not dropped.
        await events.record(conn, "account.registered", aggregate_id=None)
    for _ in range(150):
        if await count(pool, "SELECT count(*) FROM event WHERE failed_at IS NOT NULL") == 1:
            break
        await asyncio.sleep(0.1)
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT attempts, last_error, processed_at FROM event")
    assert row is not None
    assert row["attempts"] == settings.job_max_attempts
    assert row["last_error"].startswith("AssertionError")
    assert row["processed_at"] is None
    report, failed = await failed_jobs_report(settings)
    assert failed == 1
    assert "account.registered attempts=2" in report


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

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **to_environ(settings)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "competition.cli", "worker"], env=env, stdout=out, stderr=out
        )


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    server.start()
    await asyncio.sleep(0.3)
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
    worker = start_worker(own, tmp_path / "worker.log")
    try:
        await register(pool, 1, prefix="before")
        await smtp_server.wait_for(1, timeout=30)
        private_redis.stop()
        await register(pool, 1, prefix="during")
        await asyncio.sleep(2)
        # Nothing can be dispatched while Redis is down; the event waits in PostgreSQL.
        assert await count(pool, "SELECT count(*) FROM event WHERE dispatched_at IS NULL") == 1
        assert [m.message["To"] for m in smtp_server.messages] == ["before000@example.de"]
        private_redis.start()
        mails = await smtp_server.wait_for(2, timeout=60)
        assert sorted(m.message["To"] for m in mails) == [
            "before000@example.de",
            "during000@example.de",
        ]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)


async def wait_for_recipients(smtp_server: Any, expected: set[str], timeout: float) -> list[Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        mails = smtp_server.messages
        if {m.message["To"] for m in mails} >= expected:
            await asyncio.sleep(1)  # let stragglers (duplicates) arrive too
            return list(smtp_server.messages)
        await asyncio.sleep(0.2)
    missing = expected - {m.message["To"] for m in smtp_server.messages}
    raise AssertionError(f"{len(missing)} mails never arrived, e.g. {sorted(missing)[:5]}")


def msgspec_replace(settings: Settings, **changes: Any) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, **changes)


async def test_worker_killed_while_sending_200_mails_loses_none(
    pool: asyncpg.Pool, settings: Settings, smtp_server: Any, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    addresses = await register(pool, 200)
    worker = start_worker(settings, log)
    try:
        for _ in range(600):
            if len(smtp_server.messages) >= 40:
                break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        arrived_at_kill = len(smtp_server.messages)
        assert 40 <= arrived_at_kill < 200, "the kill must happen in the middle of sending"
        worker = start_worker(settings, log)
        # Done means recorded as sent: mails that were in flight at the kill are sent again once
        # their lease has expired, so waiting for the recipients alone would stop too early.
        for _ in range(1200):
            if await count(pool, "SELECT count(*) FROM email WHERE status = 'sent'") == 200:
                break
            await asyncio.sleep(0.1)
        mails = await wait_for_recipients(smtp_server, set(addresses), timeout=10)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)

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
