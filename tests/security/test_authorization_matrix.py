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

from tests.helpers import PASSWORD, company_body, competition_body, poll
from tests.security.world import ROLES, STATE_TABLES, build_world, fingerprint

pytestmark = pytest.mark.usefixtures("worker")

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
    ("GET", "/api/v1/me/company-invitations"): SIGNED_IN,
    # Company A's owner invited entrant B's address: only B answers.
    ("POST", "/api/v1/me/company-invitations/{invitation_id}/accept"): frozenset({"entrant_b"}),
    ("POST", "/api/v1/me/company-invitations/{invitation_id}/decline"): frozenset({"entrant_b"}),
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
    ("DELETE", "/api/v1/competitions/{competition_id}/conflicts/{conflict_id}"): ORGANISER,
    ("GET", "/api/v1/competitions/{competition_id}/conflict-declarations"): ORGANISER,
    (
        "POST",
        "/api/v1/competitions/{competition_id}/conflict-declarations/{declaration_id}/decision",
    ): ORGANISER,
    ("POST", "/api/v1/assignments/{assignment_id}/recuse"): frozenset({"assigned_juror"}),
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
    ("POST", "/api/v1/assignments/{assignment_id}/recuse"): {"reason": "Befangen"},
    (
        "POST",
        "/api/v1/competitions/{competition_id}/conflict-declarations/{declaration_id}/decision",
    ): {"company_ids": []},
}


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
    world = await build_world(client, new_client, pool, smtp_server)
    tokens, params = world.tokens, world.params
    r = await world.sessions["entrant_a"].post(
        f"/api/v1/companies/{params['company_id']}/members",
        json={"email": "entrant_b@firma.example"},
    )
    assert r.status_code == 202, r.text
    (invitation,) = (await world.sessions["entrant_b"].get("/api/v1/me/company-invitations")).json()
    params["invitation_id"] = invitation["id"]
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
    assert changed == {"result_run", "event", "audit_log"}
