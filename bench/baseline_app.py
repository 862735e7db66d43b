"""The HTTP baseline: a bare Litestar app whose one endpoint does a single asyncpg INSERT.

It takes the same request as the platform's score-sheet save (``PUT .../{id}/score`` with the same
JSON body), validates it with a msgspec Struct and inserts one row, with nothing else: no
authentication, no transaction around several queries, no audit, no middleware. It runs as its own
uvicorn process with the platform's server options and pool size, so the ratio between the two
is the cost of the platform's work per request, not of the server or the machine.

``python -m bench.baseline_app --port P`` with ``BENCH_BASELINE_DSN`` (and optionally
``BENCH_BASELINE_POOL_MAX``) in the environment; the table ``bench_baseline_score`` must exist
(`bench.common.BASELINE_TABLE`).
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
import msgspec
from litestar import Litestar, get, put
from litestar.datastructures import State


class ScoreBody(msgspec.Struct, forbid_unknown_fields=True):
    scores: Annotated[dict[str, float], msgspec.Meta(max_length=50)]
    final: bool
    comment: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None


class Saved(msgspec.Struct):
    id: int


@put("/api/v1/assignments/{assignment_id:uuid}/score")
async def save(assignment_id: uuid.UUID, data: ScoreBody, state: State) -> Saved:
    """One INSERT, nothing else."""
    pool: asyncpg.Pool = state.pool
    row_id: int = await pool.fetchval(
        "INSERT INTO bench_baseline_score (assignment_id, scores, comment) "
        "VALUES ($1, $2::jsonb, $3) RETURNING id",
        assignment_id,
        msgspec.json.encode(data.scores).decode(),
        data.comment or "",
    )
    return Saved(id=row_id)


@get("/health/ready")
async def ready(state: State) -> dict[str, str]:
    await state.pool.fetchval("SELECT 1")
    return {"status": "ok"}


def create() -> Litestar:
    """Factory for uvicorn."""
    dsn = os.environ["BENCH_BASELINE_DSN"]
    pool_max = int(os.environ.get("BENCH_BASELINE_POOL_MAX", "10"))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=pool_max)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[save, ready], lifespan=[lifespan], debug=False)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same server options as `competition api` (competition/cli.py).
    uvicorn.run(
        "bench.baseline_app:create",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
