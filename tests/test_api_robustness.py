"""Bad input on every endpoint that takes a body gets a 4xx in the error shape, never a 5xx."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar

from competition import text
from competition.accounts import queries, security
from competition.accounts.service import ensure_account
from competition.app import API_PREFIX
from competition.db import transaction


def body_operations(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every API operation that reads a request body, from the app itself."""
    return sorted({(method, path) for method, path, _ in typed_body_operations(app)})


def typed_body_operations(app: Litestar) -> list[tuple[str, str, Any]]:
    """(method, path, type of the body) of every API operation that reads a request body."""
    operations = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            for method in sorted(handler.http_methods):
                path = re.sub(r"\{\w+:uuid\}", "00000000-0000-0000-0000-000000000000", route.path)
                path = re.sub(r"\{\w+:str\}", "x", path)
                operations.append((method, path, data.annotation))
    return sorted(operations, key=lambda o: (o[1], o[0]))


def text_fields(info: msgspec.inspect.Type, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(field, a body with only that field, its string type) for every string a client can put
    into a body: fields, list items, dict keys; nested as msgspec names them (`title.de`,
    `categories[0].slug`, `scores` for its keys)."""

    def place(value: Any) -> Any:  # `value` at `path` inside an otherwise empty body
        for part in reversed(re.findall(r"[^.\[\]]+|\[0\]", path)):
            value = [value] if part == "[0]" else {part: value}
        return value

    if isinstance(info, msgspec.inspect.Metadata):  # a type with a description or schema extra
        yield from text_fields(info.type, path)
    elif isinstance(info, msgspec.inspect.StructType):
        for f in info.fields:
            yield from text_fields(f.type, f"{path}.{f.encode_name}" if path else f.encode_name)
    elif isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            yield from text_fields(member, path)
    elif isinstance(info, msgspec.inspect.ListType):
        yield from text_fields(info.item_type, path + "[0]")
    elif isinstance(info, msgspec.inspect.DictType):
        if isinstance(info.key_type, msgspec.inspect.StrType):
            yield path, lambda v: place({v: 1}), info.key_type
        yield from text_fields(info.value_type, path + ".x")
    elif isinstance(info, msgspec.inspect.StrType):
        yield path, place, info


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


ID = "00000000-0000-0000-0000-000000000000"
COMPETITION = f"{API_PREFIX}/competitions/{ID}"

# Every operation that reads a body; a new one joins the list on purpose, and so these tests.
OPERATIONS = [
    ("PATCH", f"{API_PREFIX}/companies/{ID}"),
    ("PATCH", COMPETITION),
    ("PATCH", f"{API_PREFIX}/entries/{ID}"),
    ("PATCH", f"{API_PREFIX}/me"),
    ("POST", f"{API_PREFIX}/assignments/{ID}/recuse"),
    ("POST", f"{API_PREFIX}/auth/login"),
    ("POST", f"{API_PREFIX}/auth/password-reset"),
    ("POST", f"{API_PREFIX}/auth/password-reset/confirm"),
    ("POST", f"{API_PREFIX}/auth/register"),
    ("POST", f"{API_PREFIX}/auth/verify"),
    ("POST", f"{API_PREFIX}/companies"),
    ("POST", f"{API_PREFIX}/companies/{ID}/members"),
    ("POST", f"{API_PREFIX}/competitions"),
    ("POST", f"{COMPETITION}/assignment-runs"),
    ("POST", f"{COMPETITION}/conflict-declarations/{ID}/decision"),
    ("POST", f"{COMPETITION}/conflicts"),
    ("POST", f"{COMPETITION}/entries"),
    ("POST", f"{COMPETITION}/jurors"),
    ("POST", f"{COMPETITION}/phase"),
    ("POST", f"{COMPETITION}/result-runs"),
    ("POST", f"{API_PREFIX}/entries/{ID}/attachments"),
    ("POST", f"{API_PREFIX}/entries/{ID}/withdraw"),
    ("POST", f"{API_PREFIX}/jury/invitations/accept"),
    ("POST", f"{API_PREFIX}/me/delete"),
    ("POST", f"{API_PREFIX}/me/password"),
    ("POST", f"{API_PREFIX}/me/tokens"),
    ("PUT", f"{API_PREFIX}/assignments/{ID}/score"),
    ("PUT", f"{COMPETITION}/conflicts/me"),
    ("PUT", f"{COMPETITION}/winners"),
]


@pytest.fixture
def operations(app: Litestar) -> list[tuple[str, str]]:
    ops = body_operations(app)
    assert ops == OPERATIONS
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
    client: httpx.AsyncClient, app: Litestar, operations: list[tuple[str, str]]
) -> None:
    # A body that may be left out (such as a withdrawal's reason) may also be null.
    optional = {
        (method, path)
        for method, path, annotation in typed_body_operations(app)
        if type(None) in typing.get_args(annotation)
    }
    for method, path in operations:
        r = await client.request(method, path, json=["not", "an", "object"])
        body = r.json()
        assert (method, path, r.status_code, body["error"]) == (
            method,
            path,
            422,
            "validation_error",
        )
        expected = "`object | null`" if (method, path) in optional else "`object`"
        assert body["fields"] == [{"field": "body", "message": f"Expected {expected}, got `array`"}]


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


async def test_control_characters_in_every_text_field_are_422_naming_it(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    """Every string of every body refuses NUL (PostgreSQL cannot store it), ESC and DEL; one-line
    strings also a line feed, multi-line ones keep it. Read from the request Structs, so a new
    field without the constraint fails here."""
    checked = 0
    for method, path, data_type in typed_body_operations(app):
        for field, body, info in text_fields(msgspec.inspect.type_info(data_type)):
            pattern = info.pattern
            message = (
                "Enthält unzulässige Steuerzeichen."
                if pattern in text.CONTROL_PATTERNS
                else f"Expected `str` matching regex {pattern!r}"
            )
            bad = ["abcdefghijkl\x00", "\x00abcdefghijkl", "abcdef\x1bghijkl", "abcdefghijkl\x7f"]
            if pattern != text.MULTI_LINE:
                bad.append("abcdefghijkl\n")
            for value in bad:
                r = await client.request(method, path, json=body(value))
                checked += 1
                expected = [{"field": field, "message": message}]
                if (r.status_code, r.json().get("fields")) != (422, expected):
                    pytest.fail(f"{method} {path} {field}={value!r}: {r.status_code} {r.text}")
            if pattern == text.MULTI_LINE:
                r = await client.request(method, path, json=body("zwei\r\nZeilen\tmit Tab"))
                assert field not in {f["field"] for f in r.json().get("fields", [])}
    # 77 strings in 25 bodies, four bad values each and a line feed for the 63 one-line ones.
    assert checked == 371


async def test_deep_nesting_is_422_on_every_json_endpoint_before_decoding(
    client: httpx.AsyncClient, operations: list[tuple[str, str]]
) -> None:
    too_deep = {
        "error": "validation_error",
        "detail": "Der Request-Body ist zu tief verschachtelt.",
        "fields": [{"field": "body", "message": "Höchstens 32 Ebenen."}],
    }
    for method, path in operations:
        for body in (b'{"a":' * 33 + b"1" + b"}" * 33, b"[" * 100_000):
            r = await client.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            assert (method, path, r.status_code, r.json()) == (method, path, 422, too_deep)
