"""The authorization matrix of the web pages: every page and every form handler of the app's
route table × every role.

The roles of the API's matrix (tests/security/world.py: a competition in judging, entries of
companies A and B, the assigned juror, a juror with a conflict, a juror and the organiser of
another competition, the organiser) and a platform administrator; company A's owner has invited
entrant B's address, so there is an invitation to answer.

Pages (GET) are opened by every role: allowed roles get 2xx/3xx (never a redirect to the login),
everyone else a redirect to the login page (303), 403 or 404. Forms (POST) are sent by every role
that must be denied, with a valid form read from the page an allowed role sees (a 422 cannot hide
a missing check) and the sender's own CSRF token: each answer is a refusal and leaves every state
table exactly as it was. Then the allowed roles send the same forms and must pass the check
(2xx/3xx, or the refusal of the form's own content that `DOMAIN_ANSWERS` names). The policy is
keyed by the route table, so a new page or form without a policy entry fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from competition.accounts.service import ensure_account
from competition.db import transaction
from tests.conftest import token_from
from tests.helpers import PASSWORD, Session, login, poll, text
from tests.security.test_web_fuzz import Form, Route, forms_of, web_routes
from tests.security.world import ROLES as API_ROLES
from tests.security.world import build_world, fingerprint

pytestmark = pytest.mark.usefixtures("worker")

# The API matrix's roles and the platform administrator, who only the pages know.
ROLES = (*API_ROLES, "admin")
ANY = frozenset(ROLES)
SIGNED_IN = ANY - {"anonymous"}
ORGANISER = frozenset({"organiser"})
# Global organisers (may create competitions) and the platform administrator (one of them).
ORGANISERS = frozenset({"organiser", "other_organiser", "admin"})
ENTRANT_A = frozenset({"entrant_a"})
JURORS = frozenset({"assigned_juror", "conflicted_juror"})
INVITEE = frozenset({"entrant_b"})  # company A's owner invited this address
PUBLIC = "public"  # forms that sign in, register or redeem a mailed token: anyone may send them

# (method, route as Litestar writes it) → who may, or the one status everybody gets.
POLICY: dict[tuple[str, str], frozenset[str] | int | str] = {
    ("GET", "/"): ANY,
    ("GET", "/datenschutz"): ANY,
    ("GET", "/login"): ANY,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/register"): ANY,
    ("POST", "/register"): PUBLIC,
    ("GET", "/verify"): 400,  # without a token: the page that explains the link
    ("GET", "/password-reset"): ANY,
    ("POST", "/password-reset"): PUBLIC,
    ("POST", "/password-reset/neu"): PUBLIC,
    ("GET", "/jury/accept"): ANY,
    ("POST", "/jury/accept"): PUBLIC,
    ("GET", "/wettbewerbe/{slug:str}"): ANY,
    ("GET", "/wettbewerbe/{slug:str}/sieger"): 404,  # nothing published yet, for anyone
    ("GET", "/wettbewerbe/{slug:str}/teilnehmen"): SIGNED_IN,
    ("POST", "/wettbewerbe/{slug:str}/teilnehmen"): ENTRANT_A,  # for company A
    ("GET", "/mein-bereich"): SIGNED_IN,
    ("GET", "/unternehmen/neu"): SIGNED_IN,
    ("POST", "/unternehmen/neu"): SIGNED_IN,
    ("GET", "/unternehmen/{company_id:uuid}"): ENTRANT_A,
    ("POST", "/unternehmen/{company_id:uuid}"): ENTRANT_A,
    ("POST", "/unternehmen/{company_id:uuid}/mitglieder"): ENTRANT_A,
    ("GET", "/unternehmen/einladung"): INVITEE,
    ("POST", "/unternehmen/einladungen/{invitation_id:uuid}/annehmen"): INVITEE,
    ("POST", "/unternehmen/einladungen/{invitation_id:uuid}/ablehnen"): INVITEE,
    ("GET", "/entries/{entry_id:uuid}"): frozenset({"entrant_a", "organiser"}),
    ("POST", "/entries/{entry_id:uuid}"): ENTRANT_A,
    ("GET", "/entries/{entry_id:uuid}/einreichen"): frozenset({"entrant_a", "organiser"}),
    ("POST", "/entries/{entry_id:uuid}/einreichen"): ENTRANT_A,
    ("GET", "/entries/{entry_id:uuid}/zurueckziehen"): frozenset({"entrant_a", "organiser"}),
    ("POST", "/entries/{entry_id:uuid}/zurueckziehen"): ENTRANT_A,
    ("GET", "/anhaenge/{attachment_id:uuid}"): frozenset(
        {"entrant_a", "organiser", "assigned_juror"}
    ),
    ("POST", "/anhaenge/{attachment_id:uuid}/loeschen"): ENTRANT_A,
    ("GET", "/jury"): SIGNED_IN,
    ("GET", "/jury/{competition_id:uuid}"): JURORS,
    ("GET", "/jury/{competition_id:uuid}/konflikte"): JURORS,
    ("POST", "/jury/{competition_id:uuid}/konflikte"): JURORS,
    ("GET", "/jury/bewertung/{assignment_id:uuid}"): frozenset({"assigned_juror"}),
    ("POST", "/jury/bewertung/{assignment_id:uuid}"): frozenset({"assigned_juror"}),
    ("POST", "/jury/bewertung/{assignment_id:uuid}/befangen"): frozenset({"assigned_juror"}),
    ("GET", "/organisation"): SIGNED_IN,
    ("GET", "/organisation/postausgang"): ORGANISERS,
    ("GET", "/organisation/wettbewerbe/neu"): ORGANISERS,
    ("POST", "/organisation/wettbewerbe/neu"): ORGANISERS,
    ("GET", "/organisation/{competition_id:uuid}"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/phase"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/bearbeiten"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/bearbeiten"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/beitraege"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/jury"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/jury"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/jury/konflikt"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/jury/angaben/{declaration_id:uuid}"): ORGANISER,
    (
        "POST",
        "/organisation/{competition_id:uuid}/jury/konflikt/{conflict_id:uuid}/entfernen",
    ): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/jury/{juror_id:uuid}/entfernen"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/jury/erinnern"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/zuteilung"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/zuteilung"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/zuteilung/{run_id:uuid}"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/zuteilung/{run_id:uuid}/uebernehmen"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/ergebnisse"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/ergebnisse"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/ergebnisse/{run_id:uuid}"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/ergebnisse/{run_id:uuid}/sieger"): ORGANISER,
    ("POST", "/organisation/{competition_id:uuid}/veroeffentlichen"): ORGANISER,
    ("GET", "/organisation/{competition_id:uuid}/protokoll"): ORGANISER,
}

# What a denied role sends where the form as a page shows it would be refused for its content
# before anyone's rights are asked (an empty set-up form, an empty invitation).
BODIES: dict[str, dict[str, str]] = {
    "/organisation/wettbewerbe/neu": {
        "slug": "matrix-{role}",
        "title.de": "Matrix",
        "submission_opens_at": "2030-01-01T10:00",
        "submission_closes_at": "2030-02-01T10:00",
        "eligible_districts": "chemnitz",
    },
    "/organisation/{competition_id:uuid}/jury": {"email": "neu@jury.example", "name": "Neu"},
    "/organisation/{competition_id:uuid}/jury/konflikt": {
        "juror_id": "{juror_id}",
        "company_id": "{company_id}",
        "type": "other",
    },
    "/unternehmen/neu": {
        "name": "Matrix {role}",
        "street": "Hauptstraße 1",
        "postal_code": "08056",
        "city": "Zwickau",
        "district": "zwickau",
        "employees": "10",
    },
    "/unternehmen/{company_id:uuid}/mitglieder": {"member_email": "neu@firma.example"},
    "/jury/bewertung/{assignment_id:uuid}/befangen": {"reason": "Befangen"},
    # After the deadline a withdrawal needs its reason.
    "/entries/{entry_id:uuid}/zurueckziehen": {"reason": "Die Firma zieht zurück."},
    "/organisation/{competition_id:uuid}/jury/angaben/{declaration_id:uuid}": {"action": "dismiss"},
    "/organisation/{competition_id:uuid}/veroeffentlichen": {"confirm": "1"},
    "/entries/{entry_id:uuid}": {"category": "energie", "title": "T", "summary": "S"},
    "/wettbewerbe/{slug:str}/teilnehmen": {
        "company_id": "{company_id}",
        "category": "energie",
        "title": "T",
        "summary": "S",
    },
}

# Allowed roles whose form is refused for what it asks, in this world (a competition in
# judging), not for who asks: the page answers with the reason.
DOMAIN_ANSWERS: dict[tuple[str, str], int] = {
    # The entry is submitted and the competition in judging: nothing of it can change.
    ("entrant_a", "/entries/{entry_id:uuid}"): 409,
    ("entrant_a", "/entries/{entry_id:uuid}/einreichen"): 409,
    ("entrant_a", "/anhaenge/{attachment_id:uuid}/loeschen"): 409,
    ("entrant_a", "/wettbewerbe/{slug:str}/teilnehmen"): 409,
    # Winners and publication wait for deliberation.
    ("organiser", "/organisation/{competition_id:uuid}/ergebnisse/{run_id:uuid}/sieger"): 409,
    ("organiser", "/organisation/{competition_id:uuid}/veroeffentlichen"): 409,
    # Accepted a moment before (the forms run in order): no longer open to decline.
    ("entrant_b", "/unternehmen/einladungen/{invitation_id:uuid}/ablehnen"): 409,
    # The world's one declaration matched its company: nothing left to decide.
    ("organiser", "/organisation/{competition_id:uuid}/jury/angaben/{declaration_id:uuid}"): 409,
    # The world's conflict is the juror's own: only conflicts organisers recorded are removed.
    (
        "organiser",
        "/organisation/{competition_id:uuid}/jury/konflikt/{conflict_id:uuid}/entfernen",
    ): 404,
}


def classify(r: httpx.Response) -> str:
    location = r.headers.get("location", "")
    if r.status_code in (302, 303) and location.startswith("/login"):
        return "login"
    if r.status_code in (403, 404):
        return "refused"
    if 200 <= r.status_code < 400:
        return "ok"
    return str(r.status_code)


async def test_every_page_and_form_allows_exactly_the_roles_of_its_policy(
    app: Litestar,
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    world = await build_world(client, new_client, pool, smtp_server)
    routes = web_routes(app)
    assert sorted(POLICY) == sorted((r.method, r.template) for r in routes), (
        "every page and form needs a policy entry"
    )

    sessions: dict[str, Session] = dict(world.sessions)
    async with transaction(pool) as conn:
        await ensure_account(
            conn,
            email="admin@wettbewerb.test",
            name="Plattform",
            password=PASSWORD,
            organiser=True,
            admin=True,
        )
    sessions["admin"] = await login(new_client(), "admin@wettbewerb.test")
    clients = {role: s.client for role, s in sessions.items()}
    clients["anonymous"] = new_client()

    # Company A's owner invites entrant B's address; the mail's link and the invitation's id.
    smtp_server.clear()
    r = await sessions["entrant_a"].post(
        f"/api/v1/companies/{world.params['company_id']}/members",
        json={"email": "entrant_b@firma.example"},
    )
    assert r.status_code == 202, r.text

    async def invitation_mail() -> str | None:
        found = [
            text(m)
            for m in smtp_server.messages
            if m.message["To"] == "entrant_b@firma.example" and "/unternehmen/einladung" in text(m)
        ]
        return found[0] if found else None

    invitation_token = token_from(await poll(invitation_mail), "/unternehmen/einladung")
    (invitation,) = (await sessions["entrant_b"].get("/api/v1/me/company-invitations")).json()
    r = await sessions["organiser"].post(
        f"/api/v1/competitions/{world.params['competition_id']}/result-runs",
        json={"method": "raw"},
    )
    result_run = r.json()["id"]
    params = {**world.params, "invitation_id": invitation["id"]}
    queries = {"/unternehmen/einladung": f"?token={invitation_token}"}

    def path_of(route: Route) -> str:
        values = dict(params)
        if "/ergebnisse/" in route.template:
            values["run_id"] = result_run
        return route.fill(values) + queries.get(route.template, "")

    async def settled() -> bool:
        async with pool.acquire() as conn:
            busy = await conn.fetchval(
                """SELECT (SELECT count(*) FROM email WHERE status <> 'sent')
                        + (SELECT count(*) FROM event WHERE processed_at IS NULL)"""
            )
        return bool(busy == 0)

    await poll(settled)
    violations: list[tuple[str, str, str, int, str]] = []
    forms: dict[Route, Form] = {}
    pages = 0
    for route in (r for r in routes if r.method == "GET"):
        policy = POLICY[(route.method, route.template)]
        path = path_of(route)
        for role in ROLES:
            r = await clients[role].get(path)
            pages += 1
            if isinstance(policy, int):
                ok = r.status_code == policy
            elif role in policy:
                ok = classify(r) == "ok"
                for form in forms_of(r) if r.status_code == 200 else []:
                    for target in routes:
                        if target.method == "POST" and target.matches(form.action.split("?")[0]):
                            forms.setdefault(target, form)
            else:
                ok = classify(r) in ("login", "refused")
            if not ok:
                violations.append((role, "GET", path, r.status_code, r.text[:120]))

    await poll(settled)
    before = await fingerprint(pool)
    denied = 0
    posts = [r for r in routes if r.method == "POST" and POLICY[("POST", r.template)] != PUBLIC]

    def body_of(route: Route, role: str) -> list[tuple[str, str]]:
        form = forms.get(route)
        sent = [(k, v) for k, v in (form.sent if form else []) if k != "csrf_token"]
        values = {**params, "role": role.replace("_", "-")}
        extra = {
            k: re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], v)
            for k, v in BODIES.get(route.template, {}).items()
        }
        sent = [(k, v) for k, v in sent if k not in extra] + list(extra.items())
        if role != "anonymous":
            sent.append(("csrf_token", sessions[role].csrf))
        return sent

    for route in posts:
        policy = POLICY[("POST", route.template)]
        assert isinstance(policy, frozenset)
        path = path_of(route)
        for role in ROLES:
            if role in policy:
                continue
            r = await clients[role].post(path, data=dict(body_of(route, role)))
            denied += 1
            if classify(r) not in ("login", "refused"):
                violations.append((role, "POST", path, r.status_code, r.text[:120]))
            now = await fingerprint(pool)
            if now != before:
                changed = sorted(t for t in now if now[t] != before[t])
                violations.append((role, "POST", path, r.status_code, f"changed {changed}"))
                before = now
    assert violations == [], "\n".join(
        f"{v[0]} {v[1]} {v[2]} → {v[3]} {v[4][:200]!r}" for v in violations
    )

    # The rightful users pass the check. Destructive forms last, so they take away nothing
    # the others need.
    # In this order: recusing needs the entry still in the competition.
    last = (
        "/befangen",
        "/ablehnen",
        "/entfernen",
        "/zurueckziehen",
        "/veroeffentlichen",
        "/phase",
    )

    def position(route: Route) -> int:
        return next((i for i, end in enumerate(last) if route.template.endswith(end)), -1)

    allowed = sorted(posts, key=lambda r: (position(r), r.template))
    answers = []
    for route in allowed:
        policy = POLICY[("POST", route.template)]
        assert isinstance(policy, frozenset)
        path = path_of(route)
        for role in sorted(policy):
            r = await clients[role].post(path, data=dict(body_of(route, role)))
            expected = DOMAIN_ANSWERS.get((role, route.template))
            got = r.status_code if expected is not None else classify(r)
            answers.append((role, route.template, got))
            if got != (expected if expected is not None else "ok"):
                violations.append((role, "POST", path, r.status_code, r.text[:200]))
    assert violations == [], "\n".join(
        f"{v[0]} {v[1]} {v[2]} → {v[3]} {v[4][:200]!r}" for v in violations
    )
    print(
        f"web authorization matrix: {sum(1 for r in routes if r.method == 'GET')} pages × "
        f"{len(ROLES)} roles = {pages} page views, {len(posts)} forms: {denied} denied "
        f"attempts refused with no change, {len(answers)} allowed ones passed"
    )
