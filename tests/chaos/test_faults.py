"""Fault injection (`make chaos`): the platform under PostgreSQL restarts, an object store
outage and a worker killed in the middle of its work. Results go to docs/reliability.md."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import redis.asyncio as redis_asyncio

from competition import queue
from competition.accounts import queries as account_queries
from competition.accounts import security
from competition.accounts.service import ensure_account
from competition.config import Settings
from competition.db import migrate
from infra.local import free_port, start_seaweedfs, stop_seaweedfs
from tests.chaos.conftest import PrivatePostgres, Process, api_process, with_database
from tests.helpers import PDF_BYTES, company_body, competition_body, poll

pytestmark = pytest.mark.slow

HEALTH_CHECK = f"{queue.QUEUE_NAME}:health-check"


async def organiser_token(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            account_id, _ = await ensure_account(
                conn,
                email="chaos@wettbewerb.test",
                name="Chaos",
                password="chaos-passwort-1",
                organiser=True,
            )
            token, token_hash = security.new_api_token()
            await account_queries.insert_token(
                conn,
                account_id=account_id,
                name="chaos",
                token_hash=token_hash,
                scopes=["read", "write", "organise"],
            )
    finally:
        await conn.close()
    return token


async def test_postgres_restart_under_load_loses_no_acknowledged_write(
    private_postgres: PrivatePostgres, settings: Settings, tmp_path: Path
) -> None:
    await migrate(private_postgres.dsn)
    token = await organiser_token(private_postgres.dsn)
    api, base = api_process(with_database(settings, private_postgres.dsn), tmp_path / "api.log")
    acknowledged: list[str] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []
    try:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:

            async def writer(n: int) -> None:
                for i in range(10_000):
                    if stop.is_set():
                        return
                    try:
                        r = await client.post(
                            "/api/v1/companies", json=company_body(f"Firma {n}-{i}")
                        )
                    except httpx.HTTPError as exc:
                        failures.append(type(exc).__name__)
                        await asyncio.sleep(0.05)
                        continue
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code == 201:
                        acknowledged.append(r.json()["id"])
                    else:
                        await asyncio.sleep(0.05)

            async def ready() -> bool:
                return (await client.get("/health/ready")).status_code == 200

            stop = asyncio.Event()
            writers = [asyncio.create_task(writer(n)) for n in range(8)]
            await asyncio.sleep(2)  # two seconds of writes before the restart
            private_postgres.stop()
            down = await client.get("/health/ready")
            await asyncio.sleep(3)  # an outage of three seconds, under writes
            private_postgres.start()
            await poll(ready, timeout=60, interval=0.2)
            stop.set()
            await asyncio.gather(*writers)
            # Recovered without restarting the API: every write from now on is acknowledged.
            after = [
                await client.post("/api/v1/companies", json=company_body(f"Danach {i}"))
                for i in range(10)
            ]
            acknowledged += [r.json()["id"] for r in after if r.status_code == 201]
            up = await client.get("/health/ready")
    finally:
        api.stop()
    conn = await asyncpg.connect(private_postgres.dsn)
    try:
        stored = {str(r["id"]) for r in await conn.fetch("SELECT id FROM company")}
    finally:
        await conn.close()
    report = {
        "acknowledged": len(acknowledged),
        "found": len(set(acknowledged) & stored),
        "statuses": statuses,
        "client_errors": len(failures),
    }
    print("postgres restart:", report)
    assert (down.status_code, down.json()["checks"]["postgres"]["status"]) == (503, "error")
    assert (up.status_code, up.json()["status"]) == (200, "ok")
    assert [r.status_code for r in after] == [201] * 10
    assert set(acknowledged) <= stored, "an acknowledged write is missing"
    assert sorted(statuses) == [201, 503], statuses  # 503 while down, never a 500
    assert failures == []


async def test_object_store_outage_makes_complete_503_and_retry_succeeds(
    pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    store_dir = tmp_path / "store"
    access, secret = "chaos", "chaos-secret-key"
    start_seaweedfs(state_dir=store_dir, s3_port=port, access_key=access, secret_key=secret)
    own = msgspec.structs.replace(
        settings,
        s3_endpoint=f"http://127.0.0.1:{port}",
        s3_access_key=access,
        s3_secret_key=secret,
        s3_bucket="chaos",
    )
    api, base = api_process(own, tmp_path / "api.log")
    try:
        token = await organiser_token(settings.database_url)
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            competition = (
                await client.post("/api/v1/competitions", json=competition_body("chaos-2026"))
            ).json()
            await client.post(
                f"/api/v1/competitions/{competition['id']}/phase", json={"to": "open"}
            )
            company = (await client.post("/api/v1/companies", json=company_body())).json()
            entry = (
                await client.post(
                    f"/api/v1/competitions/{competition['id']}/entries",
                    json={
                        "company_id": company["id"],
                        "category": "energie",
                        "title": "T",
                        "summary": "S",
                    },
                )
            ).json()
            announced = (
                await client.post(
                    f"/api/v1/entries/{entry['id']}/attachments",
                    json={
                        "filename": "a.pdf",
                        "content_type": "application/pdf",
                        "size_bytes": len(PDF_BYTES),
                    },
                )
            ).json()
            async with httpx.AsyncClient() as store:
                put = await store.put(
                    announced["upload"]["url"],
                    content=PDF_BYTES,
                    headers=announced["upload"]["headers"],
                )
            assert put.status_code == 200
            stop_seaweedfs(state_dir=store_dir, grace=2.0)
            started = time.monotonic()
            r = await client.post(f"/api/v1/attachments/{announced['id']}/complete")
            outage = (r.status_code, r.json()["error"], r.headers.get("retry-after"))
            took = time.monotonic() - started
            ready = await client.get("/health/ready")
            start_seaweedfs(state_dir=store_dir, s3_port=port, access_key=access, secret_key=secret)
            r = await client.post(f"/api/v1/attachments/{announced['id']}/complete")
            retried = (r.status_code, r.json()["status"])
    finally:
        api.stop()
        stop_seaweedfs(state_dir=store_dir, grace=2.0)
    print(f"object store outage: complete answered {outage} in {took:.1f} s, retry {retried}")
    assert outage == (503, "service_unavailable", "5")
    assert ready.json()["checks"]["object_store"]["status"] == "error"
    assert retried == (200, "uploaded")


async def _kill_during(
    settings: Settings,
    tmp_path: Path,
    *,
    start: Any,
    finished: Any,
    unfinished: Any,
) -> dict[str, Any]:
    """Start work, SIGKILL the worker while its job runs, restart it, wait until finished."""
    redis = redis_asyncio.Redis.from_url(settings.redis_url)
    await redis.delete(HEALTH_CHECK)
    worker = Process(settings, "worker", log=tmp_path / "worker.log")
    worker.start()
    try:

        async def polling() -> bool:  # arq records its health when it first polls the queue
            return bool(await redis.exists(HEALTH_CHECK))

        async def job_running() -> bool:
            return [key async for key in redis.scan_iter("arq:in-progress:*")] != []

        await poll(polling, timeout=60)
        await start()
        await poll(job_running, timeout=30, interval=0.02)
        worker.kill()
        assert await unfinished(), "the kill must land before the work is committed"
        worker = Process(settings, "worker", log=tmp_path / "worker.log")
        worker.start()
        return dict(await poll(finished, timeout=90, interval=0.2))
    finally:
        worker.stop()
        await redis.aclose()


async def test_worker_killed_during_assignment_and_aggregation(
    pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    """A large run, so the kill lands while the solver or the aggregation is at work."""
    token = await organiser_token(settings.database_url)
    async with pool.acquire() as conn, conn.transaction():
        competition = await conn.fetchval(
            """INSERT INTO competition (slug, title, submission_opens_at, submission_closes_at,
                   reviews_per_entry, eligible_districts, phase, tie_break)
               VALUES ('chaos-run', '{"de": "C", "en": "C"}', now() - interval '2 days',
                       now() - interval '1 day', 3, '{zwickau}', 'closed', '{median}')
               RETURNING id"""
        )
        organiser = await conn.fetchval(
            "SELECT id FROM account WHERE email = 'chaos@wettbewerb.test'"
        )
        await conn.execute(
            "INSERT INTO competition_organiser VALUES ($1, $2)", competition, organiser
        )
        category = await conn.fetchval(
            """INSERT INTO category (competition_id, slug, name, position)
               VALUES ($1, 'energie', '{"de": "E", "en": "E"}', 0) RETURNING id""",
            competition,
        )
        await conn.execute(
            """INSERT INTO criterion (competition_id, key, name, weight, min_score, max_score,
                                      position)
               VALUES ($1, 'q', '{"de": "Q", "en": "Q"}', 1, 0, 10, 0)""",
            competition,
        )
        company = await conn.fetchval(
            """INSERT INTO company (name, street, postal_code, city, district, employees)
               VALUES ('C', 'S', '08056', 'Z', 'zwickau', 1) RETURNING id"""
        )
        await conn.execute(
            """INSERT INTO entry (competition_id, company_id, category_id, title, summary,
                   description, status, eligible, eligibility_reason, submitted_at)
               SELECT $1, $2, $3, 'E' || g, 'S', 'D', 'submitted', true, 'ok', now()
               FROM generate_series(1, 3000) g""",
            competition,
            company,
            category,
        )
        await conn.execute(
            """INSERT INTO juror (competition_id, email, name, status, conflicts_confirmed_at)
               SELECT $1, 'j' || g || '@jury.example', 'J' || g, 'active', now()
               FROM generate_series(1, 150) g""",
            competition,
        )
    headers = {"Authorization": f"Bearer {token}"}
    api, base = api_process(settings, tmp_path / "api.log")
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            run: dict[str, str] = {}

            async def start_run() -> None:
                r = await client.post(
                    f"/api/v1/competitions/{competition}/assignment-runs", json={"seed": 3}
                )
                run.update(r.json())

            async def run_done() -> dict[str, Any] | None:
                r = await client.get(
                    f"/api/v1/competitions/{competition}/assignment-runs/{run['id']}"
                )
                body: dict[str, Any] = r.json()
                return body if body["status"] == "done" else None

            async def run_unfinished() -> bool:
                async with pool.acquire() as conn:
                    status = await conn.fetchval(
                        "SELECT status FROM assignment_run WHERE id = $1", run["id"]
                    )
                return bool(status == "queued")

            assignment = await _kill_during(
                settings, tmp_path, start=start_run, finished=run_done, unfinished=run_unfinished
            )
            r = await client.post(
                f"/api/v1/competitions/{competition}/assignment-runs/{run['id']}/deploy"
            )
            deployed = r.json()["created"]

            # Every assignment scored, then an aggregation run with the same kill in between.
            async with pool.acquire() as conn:
                await conn.execute(
                    """INSERT INTO score_sheet (assignment_id, scores, status, version,
                                                weighted_total, finalised_at)
                       SELECT id, jsonb_build_object('q', (abs(hashtext(id::text)) % 11)),
                              'final', 1, NULL, now()
                       FROM assignment"""
                )
            await client.post(f"/api/v1/competitions/{competition}/phase", json={"to": "judging"})
            result: dict[str, str] = {}

            async def start_results() -> None:
                r = await client.post(
                    f"/api/v1/competitions/{competition}/result-runs", json={"method": "zscore"}
                )
                result.update(r.json())

            async def results_done() -> dict[str, Any] | None:
                r = await client.get(
                    f"/api/v1/competitions/{competition}/result-runs/{result['id']}"
                )
                body: dict[str, Any] = r.json()
                return body if body["status"] == "done" else None

            async def results_unfinished() -> bool:
                async with pool.acquire() as conn:
                    status = await conn.fetchval(
                        "SELECT status FROM result_run WHERE id = $1", result["id"]
                    )
                return bool(status == "queued")

            aggregated = await _kill_during(
                settings,
                tmp_path,
                start=start_results,
                finished=results_done,
                unfinished=results_unfinished,
            )
    finally:
        api.stop()
    async with pool.acquire() as conn:
        assignments = await conn.fetchval("SELECT count(*) FROM assignment")
        distinct = await conn.fetchval(
            "SELECT count(DISTINCT (juror_id, entry_id)) FROM assignment"
        )
        runs = await conn.fetchval("SELECT count(*) FROM assignment_run")
        result_runs = await conn.fetchval("SELECT count(*) FROM result_run")
    ranked = sum(len(c["ranking"]) for c in aggregated["categories"])
    print(
        f"worker killed during assignment: run {assignment['status']}, {deployed} assignments "
        f"deployed, {runs} run(s); during aggregation: run {aggregated['status']}, "
        f"{result_runs} run(s), {ranked} entries ranked"
    )
    assert (assignment["status"], len(assignment["assignments"])) == ("done", 9000)
    assert (deployed, assignments, distinct, runs) == (9000, 9000, 9000, 1)
    assert (aggregated["status"], result_runs, len(aggregated["snapshot_hash"])) == ("done", 1, 64)
    assert ranked == 3000
