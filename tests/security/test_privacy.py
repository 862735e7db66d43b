"""Data protection: consent at registration, the data export, account deletion by
anonymisation that keeps the competition record consistent, and retention."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.accounts import privacy_notice as notice
from competition.config import Settings
from competition.db import transaction
from competition.privacy import service as privacy
from tests.helpers import (
    PASSWORD,
    account,
    company_body,
    join_company,
    login,
    open_competition,
    poll,
    register_via_mail,
    submitted_entry,
)

pytestmark = pytest.mark.usefixtures("worker")


async def test_registration_records_consent_and_refusal_creates_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    r = await client.get("/api/v1/privacy")
    assert (r.json()["version"], sorted(r.json()["text"])) == (notice.VERSION, ["de", "en"])
    r = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "nein@example.de",
            "password": PASSWORD,
            "name": "N",
            "accept_privacy": False,
        },
    )
    assert (r.status_code, r.json()["fields"][0]["field"]) == (422, "accept_privacy")
    r = await client.post(
        "/api/v1/auth/register", json={"email": "ja@example.de", "password": PASSWORD, "name": "J"}
    )
    assert r.status_code == 201
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT email, privacy_version, privacy_accepted_at IS NOT NULL AS accepted "
            "FROM account"
        )
    assert [tuple(r) for r in rows] == [("ja@example.de", notice.VERSION, True)]


async def test_export_holds_the_callers_data(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    competition = await open_competition(await login(new_client(), "orga@wettbewerb.test"))
    me = await register_via_mail(client, smtp_server, "erika@firma.example", "Erika")
    company = (await me.post("/api/v1/companies", json=company_body("Erikas GmbH"))).json()
    await submitted_entry(me, competition["id"], company, title="Erikas Idee")
    await smtp_server.wait_for(2, timeout=20)  # verification + confirmation
    r = await me.get("/api/v1/me/export")
    assert r.headers["content-disposition"] == 'attachment; filename="meine-daten.json"'
    data = r.json()
    assert data["account"]["email"] == "erika@firma.example"
    assert data["account"]["privacy_version"] == notice.VERSION
    assert [(c["name"], c["role"]) for c in data["companies"]] == [("Erikas GmbH", "owner")]
    assert [e["title"] for e in data["entries"]] == ["Erikas Idee"]
    assert sorted(m["template"] for m in data["emails"]) == ["entry_submitted", "verify_email"]
    assert "company.created" in [a["action"] for a in data["actions"]]


async def test_deleting_an_account_anonymises_it_and_keeps_the_record(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    competition = await open_competition(await login(new_client(), "orga@wettbewerb.test"))
    await account(pool, "owner@firma.example", "Olga Owner")
    await account(pool, "kollege@firma.example", "Kurt Kollege")
    owner = await login(client, "owner@firma.example")
    company = (await owner.post("/api/v1/companies", json=company_body("Firma GmbH"))).json()
    colleague = await login(new_client(), "kollege@firma.example")
    await owner.post(
        f"/api/v1/companies/{company['id']}/members", json={"email": "kollege@firma.example"}
    )
    await smtp_server.wait_for(1, timeout=20)  # the invitation, with the owner's name
    await join_company(owner, colleague, company["id"], "kollege@firma.example")
    entry = await submitted_entry(owner, competition["id"], company, title="Bleibt bestehen")
    await smtp_server.wait_for(4, timeout=20)  # invitation, member added, two confirmations

    r = await owner.post("/api/v1/me/delete", json={"password": "falsch-falsch"})
    assert (r.status_code, r.json()["error"]) == (401, "invalid_credentials")
    r = await owner.post("/api/v1/me/delete", json={"password": PASSWORD})
    assert r.status_code == 204
    assert (await owner.get("/api/v1/me")).status_code == 401
    r = await client.post(
        "/api/v1/auth/login", json={"email": "owner@firma.example", "password": PASSWORD}
    )
    assert r.status_code == 401

    r = await colleague.get(f"/api/v1/companies/{company['id']}")
    assert [(m["email"], m["role"]) for m in r.json()["members"]] == [
        ("kollege@firma.example", "owner")
    ]
    r = await colleague.get(f"/api/v1/entries/{entry['id']}")
    assert (r.json()["title"], r.json()["status"]) == ("Bleibt bestehen", "submitted")
    async with pool.acquire() as conn:
        gone = await conn.fetchrow(
            "SELECT email, name, password_hash, deleted_at IS NOT NULL AS deleted FROM account "
            "WHERE email LIKE 'geloescht-%'"
        )
        leftovers = await conn.fetchval(
            """SELECT count(*) FROM email WHERE recipient = 'owner@firma.example'
               OR body_text LIKE '%Olga%'"""
        )
    assert gone is not None
    assert (gone["name"], gone["password_hash"], gone["deleted"]) == (
        "Gelöschtes Konto",
        None,
        True,
    )
    assert leftovers == 0


async def test_retention_blanks_old_mail_and_removes_unconfirmed_accounts(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO account (email, name, created_at) VALUES
               ('alt@example.de', 'Alt', now() - interval '31 days'),
               ('neu@example.de', 'Neu', now() - interval '29 days')"""
        )
        await conn.execute(
            """INSERT INTO email (idempotency_key, recipient, template, locale, subject, body_text,
                                  message_id, status, created_at)
               VALUES ('a', 'x@example.de', 't', 'de', 'S', 'Inhalt', '<a@x>', 'sent',
                       now() - interval '181 days'),
                      ('b', 'y@example.de', 't', 'de', 'S', 'Inhalt', '<b@x>', 'sent',
                       now() - interval '179 days')"""
        )

    async def applied() -> tuple[list[str], dict[str, str]] | None:
        async with pool.acquire() as conn:
            accounts = [r["email"] for r in await conn.fetch("SELECT email FROM account")]
            bodies = {
                r["idempotency_key"]: r["body_text"]
                for r in await conn.fetch("SELECT idempotency_key, body_text FROM email")
            }
        return (accounts, bodies) if len(accounts) == 1 else None

    # The worker's periodic duty applies the retention rules; applying them again does nothing.
    accounts, bodies = await poll(applied)
    assert accounts == ["neu@example.de"]
    assert bodies == {"a": "", "b": "Inhalt"}
    async with transaction(pool) as again:
        assert await privacy.apply_retention(again, settings) == 0
