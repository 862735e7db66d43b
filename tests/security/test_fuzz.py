"""Fuzzing the running API from its own OpenAPI document (schemathesis): whatever a client sends,
no 5xx, and every documented response matches its schema."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok

from competition.accounts import queries, security
from competition.accounts.admin import ensure_account
from competition.config import Settings, to_environ
from competition.db import create_pool, transaction
from infra.local import free_port


@pytest.fixture(scope="module")
def api_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real API as its own process (uvicorn), like in production."""
    port = free_port()
    log = tmp_path_factory.mktemp("fuzz") / "api.log"
    env = {**os.environ, **to_environ(settings)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "competition.cli", "api", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{base}/health/live", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(20)


@pytest.fixture(scope="module")
def organiser_token(settings: Settings) -> str:
    """Fuzz as an organiser with a write token: the deepest paths a client can reach."""

    async def make() -> str:
        pool = await create_pool(settings.database_url, min_size=1, max_size=1)
        try:
            async with transaction(pool) as conn:
                account_id, _ = await ensure_account(
                    conn,
                    email="fuzz@wettbewerb.test",
                    name="Fuzz",
                    password="fuzz-passwort-1",
                    organiser=True,
                )
                token, token_hash = security.new_api_token()
                await queries.insert_token(
                    conn,
                    account_id=account_id,
                    name="fuzz",
                    token_hash=token_hash,
                    scopes=["read", "write", "organise"],
                )
        finally:
            await pool.close()
        return token

    return asyncio.run(make())


def test_fuzz_no_server_error_and_schema_conformance(api_server: str, organiser_token: str) -> None:
    """Every operation, a dozen generated requests each (derandomized: the same every run)."""
    api = schemathesis.openapi.from_url(f"{api_server}/schema/openapi.json")
    failures: list[str] = []
    sent = 0
    operations = 0
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case[Any]) -> None:
            nonlocal sent
            sent += 1
            case.call_and_validate(
                headers={"Authorization": f"Bearer {organiser_token}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, not the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert failures == [], "\n\n".join(failures)
    assert operations >= 50
    print(f"fuzzing: {operations} operations, {sent} requests, 0 failures")
