"""Bad input on every endpoint that takes a body gets a 4xx in the error shape, never a 5xx."""

from __future__ import annotations

import re

import asyncpg
import httpx
import pytest
from litestar import Litestar

from competition.accounts import queries, security
from competition.accounts.admin import ensure_account
from competition.app import API_PREFIX
from competition.db import transaction


def body_operations(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every API operation that reads a request body, from the app itself."""
    operations = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            for method in sorted(handler.http_methods):
                path = re.sub(r"\{\w+:uuid\}", "00000000-0000-0000-0000-000000000000", route.path)
                path = re.sub(r"\{\w+:str\}", "x", path)
                operations.append((method, path))
    return sorted(set(operations))


@pytest.fixture
async def client(client: httpx.AsyncClient, pool: asyncpg.Pool) -> httpx.AsyncClient:
    """Authenticated as an organiser with a write token, so that what is tested is the body."""
    async with transaction(pool) as conn:
        account_id, _ = await ensure_account(
            conn, email="org@example.de", name="Org", password="passwort-1234", organiser=True
        )
        token, token_hash = security.new_api_token()
        await queries.insert_token(
            conn,
            account_id=account_id,
            name="t",
            token_hash=token_hash,
            scopes=["read", "write", "organise"],
        )
    client.headers["Authorization"] = f"Bearer {token}"
    return client


@pytest.fixture
def operations(app: Litestar) -> list[tuple[str, str]]:
    ops = body_operations(app)
    assert len(ops) >= 16  # every write of accounts, competitions, companies, entries, …
    assert all(path.startswith(API_PREFIX) for _, path in ops)
    return ops


async def test_malformed_json_is_400_everywhere(
    client: httpx.AsyncClient, operations: list[tuple[str, str]]
) -> None:
    for method, path in operations:
        r = await client.request(
            method, path, content=b'{"email": ', headers={"content-type": "application/json"}
        )
        assert (method, path, r.status_code, r.json()["error"]) == (
            method,
            path,
            400,
            "malformed_json",
        )


async def test_wrong_type_is_422_with_fields_everywhere(
    client: httpx.AsyncClient, operations: list[tuple[str, str]]
) -> None:
    for method, path in operations:
        r = await client.request(method, path, json=["not", "an", "object"])
        body = r.json()
        assert (method, path, r.status_code, body["error"]) == (
            method,
            path,
            422,
            "validation_error",
        )
        assert body["fields"] == [{"field": "body", "message": "Expected `object`, got `array`"}]


async def test_unknown_field_is_422_everywhere(
    client: httpx.AsyncClient, operations: list[tuple[str, str]]
) -> None:
    for method, path in operations:
        r = await client.request(method, path, json={"zz_unknown": 1})
        assert (method, path, r.status_code, r.json()["error"]) == (
            method,
            path,
            422,
            "validation_error",
        )


async def test_oversized_body_is_413_everywhere(
    client: httpx.AsyncClient, operations: list[tuple[str, str]]
) -> None:
    huge = b'{"name": "' + b"x" * 1_100_000 + b'"}'
    for method, path in operations:
        r = await client.request(
            method, path, content=huge, headers={"content-type": "application/json"}
        )
        assert (method, path, r.status_code, r.json()["error"]) == (
            method,
            path,
            413,
            "payload_too_large",
        )


async def test_unknown_field_registers_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "a@example.de", "password": "passwort-1234", "name": "A", "admin": True},
    )
    assert r.status_code == 422
    assert r.json()["fields"] == [
        {"field": "body", "message": "Object contains unknown field `admin`"}
    ]
    async with transaction(pool) as conn:
        assert await conn.fetchval("SELECT count(*) FROM account WHERE email = 'a@example.de'") == 0


async def test_wrong_field_type_names_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "a@example.de", "password": 12345678901, "name": "A"},
    )
    assert r.status_code == 422
    assert r.json() == {
        "error": "validation_error",
        "detail": "Die Eingaben sind ungültig.",
        "fields": [{"field": "password", "message": "Expected `str`, got `int`"}],
    }
