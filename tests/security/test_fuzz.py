"""Fuzzing the running API from its own OpenAPI document (schemathesis, valid and invalid
requests): whatever a client sends, no 5xx, invalid input refused, and every documented response
matches its schema. Then NUL bytes and deep nesting in every operation, over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from competition.accounts import queries, security
from competition.accounts.service import ensure_account
from competition.config import Settings, to_environ
from competition.db import transaction
from infra.local import free_port
from tests.conftest import Databases, dsn_for, renewed

ZERO_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def api_server(
    session_settings: Settings, served_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The real API as its own process (uvicorn), like in production."""
    port = free_port()
    log = tmp_path_factory.mktemp("fuzz") / "api.log"
    served = msgspec.structs.replace(session_settings, database_url=dsn_for(served_database))
    env = {**os.environ, **to_environ(served)}
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


@pytest.fixture
async def database(databases: Databases, served_database: str, api_server: str) -> str:
    """Each test's database is the one the API process serves, cloned anew for the test."""
    return await renewed(databases, served_database, api_server)


@pytest.fixture
async def organiser_token(pool: asyncpg.Pool) -> str:
    """Fuzz as an organiser with a write token: the deepest paths a client can reach."""
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
    return token


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzz_no_server_error_and_schema_conformance(
    api_server: str, organiser_token: str, mode: GenerationMode
) -> None:
    """Every operation, a dozen generated requests each (derandomized: the same every run):
    requests that follow the schema, then requests that break it (wrong types, numbers out of
    range, strings that miss their pattern), which must all be refused with a 4xx."""
    api = schemathesis.openapi.from_url(f"{api_server}/schema/openapi.json")
    checks = [not_a_server_error, response_schema_conformance]
    if mode is GenerationMode.NEGATIVE:
        checks.append(negative_data_rejection)
    failures: list[str] = []
    sent = 0
    operations = 0
    untestable = 0
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
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
                checks=checks,
            )

        try:
            run()
        except Unsatisfiable:
            # Negative mode: nothing in this operation can break the schema (no parameters, or
            # a free string), so there is no invalid request to send.
            assert mode is GenerationMode.NEGATIVE
            untestable += 1
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, not the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert failures == [], "\n\n".join(failures)
    # 69 operations; in 14 of them nothing can break the schema (see above).
    assert (operations, untestable) == (69, 14 if mode is GenerationMode.NEGATIVE else 0)
    print(
        f"fuzzing ({mode.value}): {operations} operations ({untestable} without invalid input), "
        f"{sent} requests, 0 failures"
    )


def hostile_requests(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], int]]:
    """(method, url, request arguments, expected status) for every operation of the document:
    NUL in each path and query parameter, and for a JSON body NUL in each top-level string and
    ten thousand levels of nesting."""
    components = schema["components"]["schemas"]
    found = []
    for template, item in schema["paths"].items():
        for method, operation in item.items():
            params = operation.get("parameters", [])
            ids = {p["name"]: ZERO_ID for p in params if p["in"] == "path"}
            path = template.format(**ids)
            tries: list[tuple[str, dict[str, Any], int]] = []
            for p in params:
                if p["in"] == "path":
                    # The router finds no route for a broken id (404); a slug is refused (422).
                    status = 404 if p["schema"].get("format") == "uuid" else 422
                    tries.append((template.format(**{**ids, p["name"]: "a%00b"}), {}, status))
                elif p["in"] == "query":
                    tries.append((path, {"params": {p["name"]: "a\x00b"}}, 422))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                tries.append((path, {"content": b"[" * 10_000 + b"]" * 10_000}, 422))
                ref = body["schema"].get("$ref", "").rsplit("/", 1)[-1]
                for name, prop in components.get(ref, {}).get("properties", {}).items():
                    types = [prop.get("type"), *(o.get("type") for o in prop.get("oneOf", []))]
                    if "string" in types:
                        tries.append((path, {"json": {name: "abcdefghijkl\x00"}}, 422))
            found += [(method.upper(), url, kwargs, status) for url, kwargs, status in tries]
    return found


def test_running_api_refuses_nul_and_deep_nesting_in_every_operation(
    api_server: str, organiser_token: str
) -> None:
    """Through the running process, with uvicorn's HTTP parser in front: each refused with its
    exact status, none a 5xx."""
    schema = httpx.get(f"{api_server}/schema/openapi.json").json()
    requests = hostile_requests(schema)
    headers = {"Authorization": f"Bearer {organiser_token}"}
    unexpected = []
    with httpx.Client(base_url=api_server, headers=headers, timeout=30) as http:
        for method, url, kwargs, status in requests:
            r = http.request(method, url, **kwargs)
            if r.status_code != status:
                unexpected.append(f"{method} {url} {kwargs}: {r.status_code} {r.text[:200]}")
    assert unexpected == [], "\n".join(unexpected)
    assert len(requests) == 144  # 69 operations: every parameter and every body
    print(f"NUL and nesting through the running API: {len(requests)} requests, 0 server errors")
