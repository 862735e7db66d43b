"""Operations endpoints and the migration runner."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from competition.db import MigrationError, migrate, migration_files
from tests.conftest import recreate_database


async def test_ready_reports_each_dependency(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "postgres": "ok",
        "redis": "ok",
        "object_store": "ok",
    }


async def test_live_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    await client.get("/api/v1/me")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert (
        'competition_requests_total{app_name="competition",method="GET",path="/api/v1/me",status_code="401"}'
        in r.text
    )


async def test_openapi_document_lists_account_operations(client: httpx.AsyncClient) -> None:
    r = await client.get("/schema/openapi.json")
    paths = r.json()["paths"]
    assert {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/me/tokens",
    } <= set(paths)
    assert set(paths["/api/v1/auth/register"]) == {"post"}


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for path in ("/health/live", "/api/v1/me", "/does-not-exist"):
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_concurrent_migrations_apply_each_file_once() -> None:
    dsn = await recreate_database("competition_test_migrate")
    results = await asyncio.gather(migrate(dsn), migrate(dsn), migrate(dsn))
    names = [p.name for p in migration_files()]
    # Exactly one of the three runs applied everything; the others found nothing to do.
    assert sorted(results, key=len) == [[], [], names]
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT name FROM schema_migration ORDER BY name")
    finally:
        await conn.close()
    assert [r["name"] for r in rows] == names


async def test_changed_migration_is_refused(tmp_path: Path) -> None:
    dsn = await recreate_database("competition_test_migrate")
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (id int);")
    assert await migrate(dsn, directory=tmp_path) == ["0001_a.sql"]
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (id bigint);")
    with pytest.raises(MigrationError, match=r"0001_a\.sql changed after it was applied"):
        await migrate(dsn, directory=tmp_path)
