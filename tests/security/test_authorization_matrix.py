"""The authorization matrix: every operation of the OpenAPI document × every role.

Roles: anonymous, entrant of company A, entrant of company B, the juror assigned to A's entry,
a juror with a conflict against company A, a juror of another competition, the organiser of
another competition, and the competition's organiser. The world is a competition in judging with
one entry of company A (attachment verified, assigned) and one of company B.

For every operation the policy below names who may call it. Reads are called by every role:
allowed roles must get 2xx, everyone else 401 (anonymous) or 403/404. Writes are called by every
role that must be denied, with a valid body, so that a 422 cannot hide a missing check; they must
answer 401/403/404 and leave the database exactly as it was. Allowed writes are exercised by the
journey tests. A new operation without a policy entry fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from competition.accounts import queries as account_queries
from competition.accounts import security
from competition.db import transaction
from tests.conftest import token_from
from tests.helpers import (
    PASSWORD,
    account,
    company_body,
    competition_body,
    login,
    open_competition,
    poll,
    submitted_entry,
    text,
)

pytestmark = pytest.mark.usefixtures("worker")

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
ANY = frozenset(ROLES)
SIGNED_IN = ANY - {"anonymous"}
ORGANISER = frozenset({"organiser"})
PUBLIC_WRITE = "public"  # token- or credential-based endpoints open to anyone

# (method, path) → roles allowed. Paths as in the OpenAPI document.
POLICY: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/health/live"): ANY,
    ("GET", "/health/ready"): ANY,
    ("POST", "/api/v1/auth/login"): PUBLIC_WRITE,
    ("POST", "/api/v1/auth/logout"): PUBLIC_WRITE,
    ("POST", "/api/v1/auth/password-reset"): PUBLIC_WRITE,
    ("POST", "/api/v1/auth/password-reset/confirm"): PUBLIC_WRITE,
    ("POST", "/api/v1/auth/register"): PUBLIC_WRITE,
    ("POST", "/api/v1/auth/verify"): PUBLIC_WRITE,
    ("POST", "/api/v1/jury/invitations/accept"): PUBLIC_WRITE,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("PATCH", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/me/assignments"): SIGNED_IN,
    ("GET", "/api/v1/me/companies"): SIGNED_IN,
    ("GET", "/api/v1/me/entries"): SIGNED_IN,
    ("GET", "/api/v1/me/tokens"): SIGNED_IN,
    ("GET", "/api/v1/me/export"): SIGNED_IN,
    ("POST", "/api/v1/me/delete"): SIGNED_IN,
    ("GET", "/api/v1/privacy"): ANY,
    ("GET", "/api/v1/jury/confidentiality"): ANY,
    ("POST", "/api/v1/me/tokens"): SIGNED_IN,
    ("POST", "/api/v1/me/password"): SIGNED_IN,
    ("DELETE", "/api/v1/me/tokens/{token_id}"): frozenset({"entrant_a"}),
    ("GET", "/api/v1/competitions"): ANY,
    ("GET", "/api/v1/competitions/{id_or_slug}"): ANY,
    ("POST", "/api/v1/competitions"): frozenset({"organiser", "other_organiser"}),
    ("PATCH", "/api/v1/competitions/{competition_id}"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/phase"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/progress"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/entries"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/entries"): frozenset({"entrant_a"}),
    ("GET", "/api/v1/competitions/{competition_id}/export.csv"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/jurors"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/jurors"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/jurors/{juror_id}/remove"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/jury-reminders"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/conflicts"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/conflicts/me"): frozenset(
        {"assigned_juror", "conflicted_juror"}
    ),
    ("PUT", "/api/v1/competitions/{competition_id}/conflicts/me"): frozenset(
        {"assigned_juror", "conflicted_juror"}
    ),
    ("POST", "/api/v1/competitions/{competition_id}/assignment-runs"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/assignment-runs/{run_id}"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/assignment-runs/{run_id}/deploy"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/result-runs"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/result-runs/{run_id}"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/winners"): ORGANISER,
    ("PUT", "/api/v1/competitions/{competition_id}/winners"): ORGANISER,
    ("POST", "/api/v1/competitions/{competition_id}/publish"): ORGANISER,
    ("GET", "/api/v1/public/competitions/{slug}/winners"): ANY,
    ("POST", "/api/v1/companies"): SIGNED_IN,
    ("GET", "/api/v1/companies/{company_id}"): frozenset({"entrant_a"}),
    ("PATCH", "/api/v1/companies/{company_id}"): frozenset({"entrant_a"}),
    ("POST", "/api/v1/companies/{company_id}/members"): frozenset({"entrant_a"}),
    ("GET", "/api/v1/entries/{entry_id}"): frozenset({"entrant_a", "organiser"}),
    ("PATCH", "/api/v1/entries/{entry_id}"): frozenset({"entrant_a"}),
    ("POST", "/api/v1/entries/{entry_id}/submit"): frozenset({"entrant_a"}),
    ("POST", "/api/v1/entries/{entry_id}/withdraw"): frozenset({"entrant_a"}),
    ("POST", "/api/v1/entries/{entry_id}/attachments"): frozenset({"entrant_a"}),
    ("GET", "/api/v1/attachments/{attachment_id}"): frozenset(
        {"entrant_a", "organiser", "assigned_juror"}
    ),
    ("GET", "/api/v1/attachments/{attachment_id}/download"): frozenset(
        {"entrant_a", "organiser", "assigned_juror"}
    ),
    ("POST", "/api/v1/attachments/{attachment_id}/complete"): frozenset({"entrant_a"}),
    ("DELETE", "/api/v1/attachments/{attachment_id}"): frozenset({"entrant_a"}),
    ("GET", "/api/v1/assignments/{assignment_id}"): frozenset({"assigned_juror"}),
    ("PUT", "/api/v1/assignments/{assignment_id}/score"): frozenset({"assigned_juror"}),
}

# Reads whose answer does not depend on the role (the public page 404s before publication).
SAME_FOR_EVERYONE = {("GET", "/api/v1/public/competitions/{slug}/winners"): 404}

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/me"): {"locale": "en"},
    ("POST", "/api/v1/me/tokens"): {"name": "x"},
    ("POST", "/api/v1/me/password"): {"current_password": PASSWORD, "new_password": "x" * 12},
    ("POST", "/api/v1/me/delete"): {"password": PASSWORD},
    ("POST", "/api/v1/competitions"): competition_body("matrix-neu"),
    ("PATCH", "/api/v1/competitions/{competition_id}"): {"auto_open": True},
    ("POST", "/api/v1/competitions/{competition_id}/phase"): {"to": "deliberation"},
    ("POST", "/api/v1/competitions/{competition_id}/jurors"): {
        "email": "neu@jury.example",
        "name": "Neu",
    },
    ("POST", "/api/v1/competitions/{competition_id}/conflicts"): {
        "juror_id": "{juror_id}",
        "company_id": "{company_id}",
        "type": "other",
    },
    ("PUT", "/api/v1/competitions/{competition_id}/conflicts/me"): {
        "conflicts": [],
        "confirmed_complete": False,
    },
    ("POST", "/api/v1/competitions/{competition_id}/assignment-runs"): {},
    ("POST", "/api/v1/competitions/{competition_id}/result-runs"): {"method": "raw"},
    ("PUT", "/api/v1/competitions/{competition_id}/winners"): {
        "result_run_id": "{run_id}",
        "winners": [],
    },
    ("POST", "/api/v1/competitions/{competition_id}/entries"): {
        "company_id": "{company_id}",
        "category": "energie",
        "title": "T",
        "summary": "S",
    },
    ("POST", "/api/v1/companies"): company_body("Neu GmbH"),
    ("PATCH", "/api/v1/companies/{company_id}"): {"name": "Übernommen"},
    ("POST", "/api/v1/companies/{company_id}/members"): {"email": "x@example.de"},
    ("PATCH", "/api/v1/entries/{entry_id}"): {"title": "Übernommen"},
    ("POST", "/api/v1/entries/{entry_id}/attachments"): {
        "filename": "x.pdf",
        "content_type": "application/pdf",
        "size_bytes": 10,
    },
    ("PUT", "/api/v1/assignments/{assignment_id}/score"): {
        "scores": {"innovation": 1, "impact": 1},
        "final": True,
    },
}

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


async def fingerprint(pool: asyncpg.Pool) -> dict[str, str]:
    async with pool.acquire() as conn:
        return {
            table: await conn.fetchval(
                "SELECT count(*) || ':' || "
                f"coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t"
            )
            for table in STATE_TABLES
        }


async def build_world(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> tuple[dict[str, str], dict[str, str]]:
    """Returns (bearer token per role, path parameter values)."""
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    await account(pool, "orga2@wettbewerb.test", "Orga 2", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    other_organiser = await login(new_client(), "orga2@wettbewerb.test")
    c1 = await open_competition(organiser, reviews_per_entry=1)
    c2 = await open_competition(other_organiser, slug="fremd-2026")
    sessions: dict[str, Any] = {}
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
        for role, email in (
            ("entrant_a", "entrant_a@firma.example"),
            ("entrant_b", "entrant_b@firma.example"),
            ("assigned_juror", "assigned_juror@jury.example"),
            ("conflicted_juror", "conflicted_juror@jury.example"),
            ("other_juror", "other_juror@jury.example"),
            ("other_organiser", "orga2@wettbewerb.test"),
            ("organiser", "orga@wettbewerb.test"),
        ):
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
    return tokens, params


def fill(template: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], template)


def fill_body(body: Any, params: dict[str, str]) -> Any:
    if isinstance(body, dict):
        return {k: fill_body(v, params) for k, v in body.items()}
    if isinstance(body, list):
        return [fill_body(v, params) for v in body]
    return fill(body, params) if isinstance(body, str) else body


async def test_every_operation_allows_exactly_the_roles_of_its_policy(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    tokens, params = await build_world(client, new_client, pool, smtp_server)
    schema = (await client.get("/schema/openapi.json")).json()
    operations = sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )
    assert sorted(POLICY) == operations, "every operation needs a policy entry"

    async def call(role: str, method: str, path: str, body: Any) -> httpx.Response:
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}
        async with httpx.AsyncClient(
            transport=client._transport, base_url="http://testserver"
        ) as c:
            return await c.request(method, fill(path, params), json=body, headers=headers)

    async def settled() -> bool:
        async with pool.acquire() as conn:
            busy = await conn.fetchval(
                """SELECT (SELECT count(*) FROM email WHERE status <> 'sent')
                        + (SELECT count(*) FROM event WHERE processed_at IS NULL)"""
            )
        return bool(busy == 0)

    await poll(settled)  # the worker is done with everything the set-up caused
    before = await fingerprint(pool)
    violations = []
    reads = 0
    for method, path in operations:
        policy = POLICY[(method, path)]
        if policy == PUBLIC_WRITE:
            continue
        assert isinstance(policy, frozenset)
        if method == "GET":
            if "result-runs" in path:
                params_run = params["run_id"]
                r = await call(
                    "organiser",
                    "POST",
                    "/api/v1/competitions/{competition_id}/result-runs",
                    {"method": "raw"},
                )
                params["run_id"] = r.json()["id"]
            for role in ROLES:
                r = await call(role, method, path, None)
                reads += 1
                same = SAME_FOR_EVERYONE.get((method, path))
                if same is not None:
                    ok = r.status_code == same
                elif role in policy:
                    ok = 200 <= r.status_code < 300
                else:
                    ok = r.status_code in ((401,) if role == "anonymous" else (403, 404))
                if not ok:
                    violations.append((role, method, path, r.status_code, r.text[:120]))
            if "result-runs" in path:
                params["run_id"] = params_run
        else:
            body = fill_body(BODIES.get((method, path)), params)
            for role in ROLES:
                if role in policy:
                    continue
                r = await call(role, method, path, body)
                expected = (401,) if role == "anonymous" else (403, 404)
                if r.status_code not in expected:
                    violations.append((role, method, path, r.status_code, r.text[:120]))
    assert violations == []
    assert reads == 8 * sum(1 for m, _ in operations if m == "GET")
    after = await fingerprint(pool)
    changed = {t for t in STATE_TABLES if before[t] != after[t]}
    # The only writes in this test: the result runs the organiser started for the reads.
    assert changed <= {"result_run", "event", "audit_log"}
