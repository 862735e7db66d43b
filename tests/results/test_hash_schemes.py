"""Every result run names the scheme its snapshot hash was made with and is verified with it: runs
hashed before scheme 2 existed (scheme 1, recorded by migration 0014) keep verifying, new runs use
scheme 2, and a score changed behind the platform's back breaks both."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from competition.config import Settings
from competition.db import connection
from competition.results import queries, service
from competition.results.aggregate import (
    AggregateParameters,
    AggregateResult,
    ScoreTable,
    run_snapshot_hash,
)
from competition.results.service import Verification
from tests.conftest import run_cli
from tests.helpers import competition_body
from tests.results.test_conflicted_sheets import three_jurors_score_everything
from tests.results.test_winners_integrity import result_run

pytestmark = pytest.mark.usefixtures("worker")

# The usual criteria (3 : 2) with weights whose JSON differs between the schemes: 3e-05 in
# scheme 1, 0.00003 in scheme 2. With weights that both write alike, the two hashes coincide,
# and the test could not tell which scheme a verification used.
TINY_WEIGHTS = [
    {**criterion, "weight": weight}
    for criterion, weight in zip(competition_body()["criteria"], (3e-5, 2e-5), strict=True)
]


async def stored_outputs_hash(
    conn: asyncpg.Connection, *, run_id: uuid.UUID, table: ScoreTable, scheme: int
) -> str:
    """The hash of a stored run's outputs with the inputs in `table`, under `scheme`."""
    run = await queries.get_run(conn, run_id=run_id)
    assert run is not None
    assert run.result is not None
    stored = msgspec.convert(
        {**run.result, "snapshot_hash": "", "hash_scheme": scheme}, AggregateResult
    )
    return run_snapshot_hash(table=table, result=stored)


async def test_old_and_new_runs_verify_with_their_own_scheme_until_a_score_changes(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    settings: Settings,
) -> None:
    organiser, cid, _, _ = await three_jurors_score_everything(
        client, new_client, pool, smtp_server, criteria=TINY_WEIGHTS
    )
    competition_id = uuid.UUID(cid)
    new = await result_run(organiser, cid)
    assert new["hash_scheme"] == 2
    old = await result_run(organiser, cid)
    new_id, old_id = uuid.UUID(new["id"]), uuid.UUID(old["id"])
    assert old["snapshot_hash"] == new["snapshot_hash"]  # same sheets, same method

    async with connection(pool) as conn:
        params = msgspec.convert(new["parameters"], AggregateParameters)
        table, _ = await service.compute(conn, competition_id, "raw", params)
        scheme_1 = await stored_outputs_hash(conn, run_id=old_id, table=table, scheme=1)
        scheme_2 = await stored_outputs_hash(conn, run_id=new_id, table=table, scheme=2)
        # What the worker stored before hash schemes were recorded: the scheme-1 hash, and
        # (from migration 0014) the scheme that made it.
        await conn.execute(
            "UPDATE result_run SET snapshot_hash = $2, hash_scheme = 1 WHERE id = $1",
            old_id,
            scheme_1,
        )
    assert scheme_2 == new["snapshot_hash"]
    assert scheme_1 != scheme_2

    async with connection(pool) as conn:
        assert await service.verify_run(conn, run_id=new_id) == Verification(
            run_id=new_id,
            matches=True,
            stored_hash=scheme_2,
            recomputed_hash=scheme_2,
            hash_scheme=2,
        )
        assert await service.verify_run(conn, run_id=old_id) == Verification(
            run_id=old_id,
            matches=True,
            stored_hash=scheme_1,
            recomputed_hash=scheme_1,
            hash_scheme=1,
        )
    body = (await organiser.get(f"/api/v1/competitions/{cid}/result-runs/{old_id}")).json()
    assert (body["snapshot_hash"], body["hash_scheme"]) == (scheme_1, 1)
    code, out = run_cli(settings, "results", "verify", str(old_id))
    assert (code, out.strip()) == (
        0,
        f"Ergebnislauf {old_id} stimmt überein (SHA-256 {scheme_1}).",
    )

    async with connection(pool) as conn:
        await conn.execute(
            """UPDATE score_sheet SET scores = '{"innovation": 1, "impact": 1}'::jsonb
               WHERE id = (SELECT id FROM score_sheet ORDER BY id LIMIT 1)"""
        )
        _, now_1 = await service.compute(conn, competition_id, "raw", params, hash_scheme=1)
        _, now_2 = await service.compute(conn, competition_id, "raw", params, hash_scheme=2)
        assert (now_1.hash_scheme, now_2.hash_scheme) == (1, 2)
        assert len({now_1.snapshot_hash, now_2.snapshot_hash, scheme_1, scheme_2}) == 4
        assert await service.verify_run(conn, run_id=new_id) == Verification(
            run_id=new_id,
            matches=False,
            stored_hash=scheme_2,
            recomputed_hash=now_2.snapshot_hash,
            hash_scheme=2,
        )
        assert await service.verify_run(conn, run_id=old_id) == Verification(
            run_id=old_id,
            matches=False,
            stored_hash=scheme_1,
            recomputed_hash=now_1.snapshot_hash,
            hash_scheme=1,
        )
