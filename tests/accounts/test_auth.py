"""Accounts over HTTP against the real app, PostgreSQL, Redis, the worker and SMTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PUBLIC_URL, token_from

pytestmark = pytest.mark.usefixtures("worker")

PASSWORD = "richtig-geheim-2026"


def text_of(mail: Any) -> str:
    part = mail.message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


async def register_and_verify(
    client: httpx.AsyncClient, smtp_server: Any, email: str, *, name: str = "Erika Muster"
) -> str:
    r = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert r.status_code == 201, r.text
    account_id: str = r.json()["id"]
    mails = await smtp_server.wait_for(1, timeout=15)
    token = token_from(text_of(mails[-1]), "/verify")
    r = await client.post("/api/v1/auth/verify", json={"token": token})
    assert r.status_code == 200, r.text
    smtp_server.clear()
    return account_id


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    csrf: str = r.json()["csrf_token"]
    return csrf


async def test_register_verify_login_me_journey(
    client: httpx.AsyncClient, smtp_server: Any
) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "Erika@Example.DE", "password": PASSWORD, "name": "Erika Muster"},
    )
    assert r.status_code == 201
    body = r.json()
    assert body == {"id": body["id"], "email": "erika@example.de", "email_verified": False}

    mails = await smtp_server.wait_for(1, timeout=15)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.message["To"] == "erika@example.de"
    assert mail.message["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert mail.message["Content-Language"] == "de"
    html = mail.message.get_body(preferencelist=("html",))
    assert (html and html.get_content_type()) == "text/html"
    text = text_of(mail)
    assert text.startswith("Guten Tag Erika Muster,\n")
    token = token_from(text, "/verify")

    # Not verified yet: no login.
    r = await client.post(
        "/api/v1/auth/login", json={"email": "erika@example.de", "password": PASSWORD}
    )
    assert (r.status_code, r.json()["error"]) == (403, "email_not_verified")

    r = await client.post("/api/v1/auth/verify", json={"token": token})
    assert r.json() == {"id": body["id"], "email": "erika@example.de", "email_verified": True}

    r = await client.post(
        "/api/v1/auth/login", json={"email": "ERIKA@example.de", "password": PASSWORD}
    )
    assert r.status_code == 200
    login_body = r.json()
    assert login_body == {
        "id": body["id"],
        "email": "erika@example.de",
        "name": "Erika Muster",
        "roles": ["entrant"],
        "csrf_token": login_body["csrf_token"],
    }
    cookie = r.headers["set-cookie"]
    assert "ind_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie

    r = await client.get("/api/v1/me")
    assert r.status_code == 200
    assert r.json() == {
        "id": body["id"],
        "email": "erika@example.de",
        "name": "Erika Muster",
        "locale": "de",
        "roles": ["entrant"],
        "email_verified": True,
    }


async def test_verify_with_forged_token_is_400(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/verify", json={"token": "eyJhIjoiMSJ9.forged.sig"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_token"


async def test_login_wrong_password_401_then_delayed_429(
    client: httpx.AsyncClient, smtp_server: Any
) -> None:
    await register_and_verify(client, smtp_server, "hans@example.de")
    statuses = []
    for _ in range(6):
        r = await client.post(
            "/api/v1/auth/login", json={"email": "hans@example.de", "password": "falsch-falsch"}
        )
        statuses.append(r.status_code)
    # Five failures are free; then each attempt waits a delay that doubles (1 s first).
    assert statuses == [401, 401, 401, 401, 401, 429]
    assert (r.json()["error"], r.headers["retry-after"]) == ("rate_limited", "1")
    # Even the right password waits out the delay from this client.
    r = await client.post(
        "/api/v1/auth/login", json={"email": "hans@example.de", "password": PASSWORD}
    )
    assert r.status_code == 429


async def test_login_unknown_address_is_401_like_a_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/v1/auth/login", json={"email": "niemand@example.de", "password": "irgendwas-123"}
    )
    assert r.status_code == 401
    assert r.json() == {
        "error": "invalid_credentials",
        "detail": "E-Mail-Adresse oder Passwort ist falsch.",
    }


async def test_register_taken_address_answers_alike_and_mails_owner(
    client: httpx.AsyncClient, smtp_server: Any
) -> None:
    first_id = await register_and_verify(client, smtp_server, "owner@example.de")
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "owner@example.de", "password": "anderes-passwort-1", "name": "X"},
    )
    assert r.status_code == 201
    assert r.json()["email"] == "owner@example.de"
    assert r.json()["email_verified"] is False
    assert r.json()["id"] != first_id
    mails = await smtp_server.wait_for(1, timeout=15)
    assert [m.message["Subject"] for m in mails] == ["Sie haben bereits ein Konto"]
    # The original password still works: nothing about the account changed.
    await login(client, "owner@example.de")


async def test_password_reset_sets_new_password_once(
    client: httpx.AsyncClient, smtp_server: Any
) -> None:
    await register_and_verify(client, smtp_server, "reset@example.de")
    r = await client.post("/api/v1/auth/password-reset", json={"email": "reset@example.de"})
    assert r.status_code == 202
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.de"})
    assert (unknown.status_code, unknown.json()) == (r.status_code, r.json())

    mails = await smtp_server.wait_for(1, timeout=15)
    assert [m.message["To"] for m in mails] == ["reset@example.de"]
    token = token_from(text_of(mails[0]), "/password-reset")

    r = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "neues-passwort-42"},
    )
    assert r.status_code == 200
    r = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "noch-eins-passwort"},
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_token")

    r = await client.post(
        "/api/v1/auth/login", json={"email": "reset@example.de", "password": PASSWORD}
    )
    assert r.status_code == 401
    await login(client, "reset@example.de", "neues-passwort-42")
    # Only the one mail for the known address was sent.
    assert len(smtp_server.messages) == 1


async def test_cookie_writes_need_csrf_header_bearer_does_not(
    client: httpx.AsyncClient, smtp_server: Any
) -> None:
    await register_and_verify(client, smtp_server, "csrf@example.de")
    csrf = await login(client, "csrf@example.de")

    r = await client.post("/api/v1/me/tokens", json={"name": "ERP"})
    assert (r.status_code, r.json()["error"]) == (403, "csrf_failed")
    r = await client.post("/api/v1/me/tokens", json={"name": "ERP"}, headers={"X-CSRF-Token": "x"})
    assert (r.status_code, r.json()["error"]) == (403, "csrf_failed")

    r = await client.post("/api/v1/me/tokens", json={"name": "ERP"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    full = r.json()
    assert full["scopes"] == ["read", "write"]
    assert full["token"].startswith("ind_")
    r = await client.post(
        "/api/v1/me/tokens",
        json={"name": "Dashboard", "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf},
    )
    read_only = r.json()

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as api:
        bearer = {"Authorization": f"Bearer {full['token']}"}
        r = await api.get("/api/v1/me", headers=bearer)
        assert r.json()["email"] == "csrf@example.de"
        r = await api.patch("/api/v1/me", json={"locale": "en"}, headers=bearer)
        assert (r.status_code, r.json()["locale"]) == (200, "en")

        ro = {"Authorization": f"Bearer {read_only['token']}"}
        assert (await api.get("/api/v1/me", headers=ro)).status_code == 200
        r = await api.patch("/api/v1/me", json={"locale": "de"}, headers=ro)
        assert (r.status_code, r.json()["error"]) == (403, "insufficient_scope")

        r = await api.delete(f"/api/v1/me/tokens/{full['id']}", headers=bearer)
        assert r.status_code == 204
        r = await api.get("/api/v1/me", headers=bearer)
        assert (r.status_code, r.json()["error"]) == (401, "invalid_token")

    r = await client.get("/api/v1/me/tokens")
    assert [t["name"] for t in r.json()] == ["Dashboard"]
    assert "token" not in r.json()[0]


async def test_logout_ends_session_and_login_rotates_it(
    client: httpx.AsyncClient, smtp_server: Any
) -> None:
    await register_and_verify(client, smtp_server, "logout@example.de")
    await login(client, "logout@example.de")
    first = client.cookies.get("ind_session")
    csrf = await login(client, "logout@example.de")
    second = client.cookies.get("ind_session")
    assert first is not None
    assert second is not None
    assert first != second

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as old:
        old.cookies.set("ind_session", first)
        assert (await old.get("/api/v1/me")).status_code == 401

    r = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    client.cookies.set("ind_session", second)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_verification_link_uses_public_url(
    client: httpx.AsyncClient, smtp_server: Any
) -> None:
    await client.post(
        "/api/v1/auth/register",
        json={"email": "link@example.de", "password": PASSWORD, "name": "L", "locale": "en"},
    )
    mails = await smtp_server.wait_for(1, timeout=15)
    text = text_of(mails[0])
    assert mails[0].message["Subject"] == "Please confirm your e-mail address"
    assert f"{PUBLIC_URL}/verify?token=" in text
