"""Liveness, readiness (each dependency reported on its own) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from litestar import Response, get

from competition.auth import ServicesDep


class Check(msgspec.Struct, frozen=True, omit_defaults=True):
    status: str  # "ok" or "error"
    latency_ms: float
    error: str | None = None


class Ready(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, Check]


async def _check(probe: Any, limit_s: float = 3.0) -> Check:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), limit_s)
    except Exception as exc:
        return Check(
            status="error",
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
    return Check(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


@get("/health/live", tags=["Betrieb"], include_in_schema=True)
async def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@get("/health/ready", tags=["Betrieb"])
async def ready(services: ServicesDep) -> Response[Ready]:
    """PostgreSQL, Redis and the object store, each reported; 503 unless all are healthy."""

    async def postgres() -> None:
        async with services.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")

    async def redis() -> None:
        await services.redis.ping()

    async def storage() -> None:
        await services.storage.ping()

    names = ("postgres", "redis", "object_store")
    results = await asyncio.gather(_check(postgres), _check(redis), _check(storage))
    checks = dict(zip(names, results, strict=True))
    healthy = all(c.status == "ok" for c in results)
    return Response(
        Ready(status="ok" if healthy else "error", checks=checks),
        status_code=200 if healthy else 503,
    )
