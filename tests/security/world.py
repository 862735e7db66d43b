"""The world of the security tests: a competition in judging with one entry of company A
(attachment verified, assigned to a juror) and one of company B, and a person for every role.

Roles: entrant of company A, entrant of company B, the juror assigned to A's entry, a juror with a
conflict against company A, a juror of another competition (open, organised by the other
organiser), the organiser of that other competition, and the competition's organiser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from competition.accounts import queries as account_queries
from competition.accounts import security
from competition.db import transaction
from tests.conftest import token_from
from tests.helpers import (
    PASSWORD,
    Session,
    account,
    company_body,
    login,
    open_competition,
    poll,
    submitted_entry,
    text,
)

EMAILS = {
    "entrant_a": "entrant_a@firma.example",
    "entrant_b": "entrant_b@firma.example",
    "assigned_juror": "assigned_juror@jury.example",
    "conflicted_juror": "conflicted_juror@jury.example",
    "other_juror": "other_juror@jury.example",
    "other_organiser": "orga2@wettbewerb.test",
    "organiser": "orga@wettbewerb.test",
}


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]  # role → API token (read, write)
    params: dict[str, str]  # path parameter name → an id or slug of the world
    sessions: dict[str, Session]  # role → a signed-in browser (session cookie, CSRF token)
    other_competition_id: str  # open for entries, organised by "other_organiser"


# Who the security matrices try every operation as: nobody, each kind of account in the world.
ROLES = (
    "anonymous",
    "entrant_a",
    "entrant_b",
    "assigned_juror",
    "conflicted_juror",
    "other_juror",
    "other_organiser",
    "organiser",
)

STATE_TABLES = (
    "account",
    "company",
    "company_member",
    "company_invitation",
    "competition",
    "competition_organiser",
    "category",
    "criterion",
    "entry",
    "attachment",
    "juror",
    "conflict",
    "assignment_run",
    "assignment",
    "score_sheet",
    "result_run",
    "winner",
    "event",
    "email",
    "audit_log",
)


# What a row is; the audit log without the columns the worker's seal fills in later.
_ROW = {
    "audit_log": "(t.id, t.at, t.actor_id, t.action, t.competition_id, t.subject_type, "
    "t.subject_id, t.data)"
}


async def fingerprint(pool: asyncpg.Pool) -> dict[str, str]:
    """Per state table: its row count and a hash of all its rows (one round trip)."""
    columns = ", ".join(
        f"""(SELECT count(*) || ':' || coalesce(md5(string_agg({_ROW.get(table, "t")}::text, '|'
                ORDER BY {_ROW.get(table, "t")}::text)), '') FROM {table} t) AS {table}"""
        for table in STATE_TABLES
    )
    async with pool.acquire() as conn:
        record = await conn.fetchrow(f"SELECT {columns}")
    assert record is not None
    return dict(record)


async def build_world(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> World:
    """The competition in judging described above, with a signed-in browser and an API token
    for every role."""
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    await account(pool, "orga2@wettbewerb.test", "Orga 2", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    other_organiser = await login(new_client(), "orga2@wettbewerb.test")
    sessions: dict[str, Any] = {"organiser": organiser, "other_organiser": other_organiser}
    c1 = await open_competition(organiser, reviews_per_entry=1)
    c2 = await open_competition(other_organiser, slug="fremd-2026")
    for role, name in (("entrant_a", "A GmbH"), ("entrant_b", "B AG")):
        email = f"{role}@firma.example"
        await account(pool, email, role)
        sessions[role] = await login(new_client(), email)
        company = (await sessions[role].post("/api/v1/companies", json=company_body(name))).json()
        sessions[role + "_company"] = company
    entry_a = await submitted_entry(
        sessions["entrant_a"], c1["id"], sessions["entrant_a_company"], title="Idee A", files=1
    )
    entry_b = await submitted_entry(
        sessions["entrant_b"], c1["id"], sessions["entrant_b_company"], title="Idee B"
    )
    await smtp_server.wait_for(2, timeout=20)
    await organiser.post(f"/api/v1/competitions/{c1['id']}/phase", json={"to": "closed"})
    smtp_server.clear()
    juror_ids = {}
    for role, comp, inviter in (
        ("assigned_juror", c1, organiser),
        ("conflicted_juror", c1, organiser),
        ("other_juror", c2, other_organiser),
    ):
        r = await inviter.post(
            f"/api/v1/competitions/{comp['id']}/jurors",
            json={"email": f"{role}@jury.example", "name": role},
        )
        juror_ids[role] = r.json()["id"]
    for mail in await smtp_server.wait_for(3, timeout=20):
        c = new_client()
        r = await c.post(
            "/api/v1/jury/invitations/accept",
            json={"token": token_from(text(mail), "/jury/accept"), "password": PASSWORD},
        )
        role = mail.message["To"].split("@")[0]
        sessions[role] = await login(c, mail.message["To"])
    company_a = sessions["entrant_a_company"]["id"]
    await sessions["conflicted_juror"].put(
        f"/api/v1/competitions/{c1['id']}/conflicts/me",
        json={
            "conflicts": [{"company_id": company_a, "type": "employee"}],
            "confirmed_complete": True,
        },
    )
    await sessions["assigned_juror"].put(
        f"/api/v1/competitions/{c1['id']}/conflicts/me",
        json={"conflicts": [], "confirmed_complete": True},
    )
    await sessions["other_juror"].put(
        f"/api/v1/competitions/{c2['id']}/conflicts/me",
        json={"conflicts": [], "confirmed_complete": True},
    )
    run = (
        await organiser.post(f"/api/v1/competitions/{c1['id']}/assignment-runs", json={"seed": 1})
    ).json()

    async def done() -> dict[str, Any] | None:
        body = (
            await organiser.get(f"/api/v1/competitions/{c1['id']}/assignment-runs/{run['id']}")
        ).json()
        return body if body["status"] == "done" else None

    proposal = await poll(done)
    assert {(a["juror_id"], a["entry_id"]) for a in proposal["assignments"]} == {
        (juror_ids["assigned_juror"], entry_a["id"]),
        (juror_ids["conflicted_juror"], entry_b["id"]),
    }
    await organiser.post(f"/api/v1/competitions/{c1['id']}/assignment-runs/{run['id']}/deploy")
    await organiser.post(f"/api/v1/competitions/{c1['id']}/phase", json={"to": "judging"})
    items = (await sessions["assigned_juror"].get("/api/v1/me/assignments")).json()
    assignment_id = next(i["id"] for i in items if i["entry"]["id"] == entry_a["id"])
    attachment_id = (await sessions["entrant_a"].get(f"/api/v1/entries/{entry_a['id']}")).json()[
        "attachments"
    ][0]["id"]

    tokens = {}
    async with transaction(pool) as conn:
        for role, email in EMAILS.items():
            found = await account_queries.get_account_by_email(conn, email=email)
            assert found is not None
            token, token_hash = security.new_api_token()
            row = await account_queries.insert_token(
                conn,
                account_id=found.id,
                name="matrix",
                token_hash=token_hash,
                scopes=["read", "write", "organise"] if "organiser" in role else ["read", "write"],
            )
            assert row is not None
            tokens[role] = token
            if role == "entrant_a":
                entrant_a_token_id = str(row.id)
    params = {
        "competition_id": c1["id"],
        "id_or_slug": c1["slug"],
        "slug": c1["slug"],
        "entry_id": entry_a["id"],
        "attachment_id": attachment_id,
        "company_id": company_a,
        "assignment_id": assignment_id,
        "run_id": run["id"],
        "juror_id": juror_ids["conflicted_juror"],
        "token_id": entrant_a_token_id,
    }
    async with pool.acquire() as db:
        declared = await db.fetchrow(
            """SELECT d.id AS declaration_id, x.id AS conflict_id
               FROM conflict_declaration d JOIN conflict x ON x.juror_id = d.juror_id
               WHERE d.juror_id = $1""",
            juror_ids["conflicted_juror"],
        )
    assert declared is not None
    params |= {k: str(v) for k, v in dict(declared).items()}
    return World(
        tokens=tokens,
        params=params,
        sessions={role: sessions[role] for role in EMAILS},
        other_competition_id=c2["id"],
    )
