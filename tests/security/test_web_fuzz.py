"""Fuzzing the web pages, from the app's own route table: every page and every form, with junk
ids, junk values, NUL bytes, huge numbers, odd Unicode and junk bodies, as an anonymous visitor
and as signed-in people (organiser, entrant, juror) whose forms carry a valid CSRF token.

Whatever is sent: no 5xx (every one is collected with its request), and a refused request (4xx,
or a redirect to the login page) leaves every state table exactly as it was. The forms are read
from the pages themselves, with the fields and values a browser would send, so a new page or
form is fuzzed without a change here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
import redis.asyncio as redis_asyncio
from litestar import Litestar

from tests.conftest import token_from
from tests.helpers import (
    PASSWORD,
    PDF_BYTES,
    Session,
    login,
    open_competition,
    poll,
    submitted_entry,
    text,
    upload,
)
from tests.security.world import EMAILS, World, build_world, fingerprint

pytestmark = pytest.mark.usefixtures("worker")

MACHINE_PATHS = ("/api/", "/schema", "/health", "/metrics", "/static")
IDENTITIES = ("anonymous", "organiser", "entrant_a", "assigned_juror")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
# Litestar's own names and our dependencies: never query parameters.
NOT_QUERY = {"self", "ui", "services", "conn", "principal", "user", "organiser", "request", "data"}

JUNK: tuple[str, ...] = (
    "a\x00b",  # NUL: PostgreSQL refuses it in text
    "\x1b[2J\x07\x08\x7f",  # other C0 controls and DEL
    "zwei\r\nZeilen\tund Tab",  # the controls text areas send
    "9" * 40,  # beyond every integer type
    "-1",
    "0",
    "1e309",
    "nan",
    "-inf",
    "3,5",
    UNKNOWN_ID,
    "kein-uuid",
    "2026-13-45T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "rechnung\u202efdp.exe\u2066\u2069",  # bidi override and isolates
    "🏭 Ω é \u0301\ufeff\u200b مرحبا",  # emoji, combining mark, BOM, zero width, RTL text
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1; --",
    "../../etc/passwd",
    "",
)
JUNK_BODIES: tuple[tuple[str, bytes], ...] = (
    ("application/json", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
    ("application/json", b"[" * 100_000),
    ("application/x-www-form-urlencoded", b"\x00\xff\xfe=%ff%00&&==&%zz=%" * 50),
    ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="a"'),
    ("multipart/form-data", b"kein multipart"),
    ("text/plain", b"\x00" * 64),
    ("application/x-www-form-urlencoded", b"a=" + b"x" * 1_100_000),
)


@dataclass
class Form:
    action: str
    method: str
    # What a browser sends (checked boxes, chosen options, the first named button) …
    sent: list[tuple[str, str]] = field(default_factory=list)
    # … and every field name the form has.
    names: list[str] = field(default_factory=list)
    page: str = field(default="", compare=False)  # where it was found


class FormReader(HTMLParser):
    """The forms of a page: action, method, the values a browser would send, all field names."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[str] = []
        self._chosen: str | None = None
        self._button_sent = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "option" and self._select is not None:
            self._options.append(a.get("value", ""))
            if "selected" in a:
                self._chosen = a.get("value", "")
            return
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self._button_sent = False
            return
        form, name = self._form, a.get("name", "")
        if form is None or not name:
            return
        if name not in form.names:
            form.names.append(name)
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if tag == "textarea":
            self._textarea = name
            form.sent.append((name, ""))
        elif tag == "select":
            self._select, self._options, self._chosen = name, [], None
        elif kind in ("checkbox", "radio"):
            if "checked" in a:
                form.sent.append((name, a.get("value", "on")))
        elif kind == "submit":
            if not self._button_sent:
                form.sent.append((name, a.get("value", "")))
                self._button_sent = True
        elif kind != "file":
            form.sent.append((name, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            name, value = self._form.sent[-1]
            self._form.sent[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._form is not None and self._select is not None:
            chosen = self._chosen if self._chosen is not None else next(iter(self._options), "")
            self._form.sent.append((self._select, chosen))
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def forms_of(r: httpx.Response) -> list[Form]:
    reader = FormReader()
    reader.feed(r.text)
    for form in reader.forms:
        form.page = str(r.request.url.raw_path.decode())
    return reader.forms


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # as Litestar writes it: /jury/{competition_id:uuid}
    query: tuple[str, ...]  # the handler's own query parameters

    @property
    def params(self) -> list[tuple[str, str]]:
        return re.findall(r"\{(\w+):(\w+)\}", self.template)

    def matches(self, path: str) -> bool:
        parts = re.split(r"\{\w+:(\w+)\}", self.template)  # text, kind, text, kind, …, text
        pattern = "".join(
            ("[0-9a-f-]{36}" if part == "uuid" else "[^/]+") if i % 2 else re.escape(part)
            for i, part in enumerate(parts)
        )
        return re.fullmatch(pattern, path) is not None

    def fill(self, values: dict[str, str]) -> str:
        return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], self.template)


def web_routes(app: Litestar) -> list[Route]:
    """Every page and form handler of the app, with its query parameters."""
    found = []
    for route in app.routes:
        if route.path.startswith(MACHINE_PATHS):
            continue
        for handler in getattr(route, "route_handlers", ()):
            path_params = {name for name, _ in re.findall(r"\{(\w+):(\w+)\}", route.path)}
            query = tuple(
                sorted(set(handler.parsed_fn_signature.parameters) - NOT_QUERY - path_params)
            )
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append(Route(method, route.path, query))
    return sorted(set(found), key=lambda r: (r.template, r.method))


def junk_values(start: int, count: int) -> list[str]:
    return [JUNK[(start + i) % len(JUNK)] for i in range(count)]


@dataclass
class Fuzzer:
    """Sends requests as one of the identities; keeps the score."""

    clients: dict[str, httpx.AsyncClient]
    pool: asyncpg.Pool
    redis: redis_asyncio.Redis
    server_errors: list[str] = field(default_factory=list)
    changed_state: list[str] = field(default_factory=list)
    sent: int = 0
    state: dict[str, str] = field(default_factory=dict)

    async def settled(self) -> bool:
        """The worker is done with what the last request caused: events and mails. (Objects of
        deleted attachments are removed only once their upload URL has expired, long after.)"""
        async with self.pool.acquire() as conn:
            busy = await conn.fetchval(
                """SELECT (SELECT count(*) FROM email WHERE status <> 'sent')
                        + (SELECT count(*) FROM event WHERE processed_at IS NULL)"""
            )
        return bool(busy == 0)

    async def start(self) -> None:
        await poll(self.settled)
        self.state = await fingerprint(self.pool)

    async def send(
        self,
        who: str,
        method: str,
        url: str,
        *,
        form: list[tuple[str, str]] | None = None,
        body: tuple[str, bytes] | None = None,
        headers: dict[str, str] | None = None,
        note: str = "",
    ) -> httpx.Response:
        client = self.clients[who]
        headers = dict(headers or {})
        csrf = client.cookies.get("ind_csrf") or ""
        kwargs: dict[str, Any] = {}
        if body is not None:
            headers["content-type"] = body[0]
            if who != "anonymous":
                headers["X-CSRF-Token"] = csrf
            kwargs["content"] = body[1]
        elif form is not None:
            pairs = [(k, v) for k, v in form if k != "csrf_token"]
            if who != "anonymous":
                pairs.append(("csrf_token", csrf))
            headers["content-type"] = "application/x-www-form-urlencoded"
            kwargs["content"] = _encode(pairs)
        r = await client.request(method, url, headers=headers, **kwargs)
        self.sent += 1
        label = f"{who} {method} {url[:160]!r} {note}".rstrip()
        if r.status_code >= 500:
            self.server_errors.append(f"{label} → {r.status_code}")
        refused = r.status_code >= 400 or (
            r.status_code in (302, 303) and r.headers.get("location", "").startswith("/login")
        )
        now = await fingerprint(self.pool)
        if refused and now != self.state:
            changed = sorted(t for t in now if now[t] != self.state.get(t))
            self.changed_state.append(f"{label} → {r.status_code} changed {changed}")
        if not refused and method != "GET":  # what it started: mails, assignments, …
            await poll(self.settled, interval=0.02)
            now = await fingerprint(self.pool)
        self.state = now
        if who != "anonymous" and "ind_session" not in client.cookies:
            await self.sign_in_again(who)
        return r

    async def sign_in_again(self, who: str) -> None:
        """After logging out (a form like any other): the rate limit counted the fuzzing."""
        keys = [k async for k in self.redis.scan_iter("rl:*")]
        if keys:
            await self.redis.delete(*keys)
        await login(self.clients[who], EMAILS[who])


def _encode(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs).encode()


async def test_web_pages_and_forms_answer_junk_without_server_errors(
    app: Litestar,
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    world = await build_world(client, new_client, pool, smtp_server)
    params = await candidates(world, smtp_server)
    routes = web_routes(app)
    gets = [r for r in routes if r.method == "GET"]
    posts = [r for r in routes if r.method == "POST"]
    assert (len(gets), len(posts)) == (34, 33)  # the pages and forms of the five areas

    clients = {"anonymous": new_client()}
    clients |= {who: world.sessions[who].client for who in IDENTITIES if who != "anonymous"}
    redis = redis_asyncio.Redis.from_url(app.state.services.settings.redis_url)
    fuzzer = Fuzzer(clients, pool, redis)
    await fuzzer.start()

    # Every page with the world's own ids, as everyone. Who sees a page (200) fuzzes it in
    # depth; the forms to fuzz come from these pages, each with the person who saw it.
    viewers: dict[Route, list[str]] = {}
    forms: list[tuple[str, Form]] = []
    for route, who in itertools.product(gets, IDENTITIES):
        for path in real_paths(route, params):
            # Also with its query parameters: the reset link's form appears with a token only.
            query = "?" + _encode([(q, "x") for q in route.query]).decode() if route.query else ""
            for url in dict.fromkeys((path, path + query)):
                r = await fuzzer.send(who, "GET", url)
                if r.status_code == 200:
                    viewers.setdefault(route, []).append(who)
                    forms += [(who, f) for f in forms_of(r) if (who, f) not in forms]
    pages = fuzzer.sent

    for i, route in enumerate(gets):
        main = (viewers.get(route) or ["anonymous"])[-1]  # signed-in people come last
        path = next(real_paths(route, params))
        for path_junk in junk_paths(route, params, start=i, limit=len(JUNK)):
            await fuzzer.send(main, "GET", path_junk)
        filters = [f for _, f in forms if f.method == "get" and route.matches(f.action)]
        names = set(route.query) | {n for f in filters for n in f.names}
        for name in sorted(names):
            for value in JUNK:
                await fuzzer.send(main, "GET", path + "?" + _encode([(name, value)]).decode())
        for k, who in enumerate(IDENTITIES):
            for name, value in zip(("lang", "next", "token"), junk_values(i + k, 3), strict=True):
                await fuzzer.send(who, "GET", path + "?" + _encode([(name, value)]).decode())
        cookies = "ind_session=a%00b; ind_lang=%0a; ind_notice=\\000; ind_csrf=\x7f"
        await fuzzer.send("anonymous", "GET", path, headers={"cookie": cookies})

    # Forms: each field with every junk value (by the person whose form it is; the others get a
    # sample), all fields at once, junk bodies, unknown ids. Forms with fields first; bare actions
    # (log out, remove a juror, withdraw) last, so they take away as little of the world as
    # possible.
    posted = [(who, f) for who, f in forms if f.method == "post"]

    def fields_of(route: Route) -> int:
        return max((len(f.names) for _, f in posted if route.matches(f.action)), default=0)

    async def submit(who: str, form: Form, sent: list[tuple[str, str]], note: str) -> None:
        r = await fuzzer.send(who, "POST", form.action, form=sent, note=note)
        if form.page and who != "anonymous" and (r.status_code < 400 or r.status_code == 412):
            # Saved, or refused as stale: the stored version moved on, so the next values would
            # all end at the version check (412). Read the form again, as a person would.
            fresh = forms_of(await fuzzer.send(who, "GET", form.page))
            form.sent = next((f.sent for f in fresh if f.action == form.action), form.sent)

    for i, route in enumerate(sorted(posts, key=lambda r: (-fields_of(r), r.template))):
        mine = [(who, f) for who, f in posted if route.matches(f.action)]
        for k, who in enumerate(IDENTITIES):
            # The person's own forms of this route, one per target (two entries: two editors).
            own = list({f.action: f for w, f in reversed(mine) if w == who}.values())
            others = [f for _, f in mine][:1] or [bare_form(route, params)]
            start = i * 11 + k * 5
            for form in own or others:
                for j, name in enumerate(n for n in form.names if n != "csrf_token"):
                    # Rows of a table (`criteria[3].weight`) repeat the first row's fields.
                    first = not re.search(r"\[[1-9]\d*\]", name)
                    for value in JUNK if own and first else junk_values(start + j, 1):
                        sent = [(n, v) for n, v in form.sent if n != name] + [(name, value)]
                        await submit(who, form, sent, f"{name}={value[:40]!r}")
                for value in junk_values(start, 3):
                    every = [(n, value) for n in form.names if n != "csrf_token"]
                    await submit(who, form, every, f"every field={value[:40]!r}")
                for body in JUNK_BODIES:
                    note = f"{body[0]}: {body[1][:20]!r}"
                    await fuzzer.send(who, "POST", form.action, body=body, note=note)
            form = (own or others)[0]
            for path in junk_paths(route, params, start=start, limit=len(JUNK) if own else 2):
                await fuzzer.send(who, "POST", path, form=form.sent)
    await redis.aclose()

    assert fuzzer.server_errors == [], "\n".join(fuzzer.server_errors)
    assert fuzzer.changed_state == [], "\n".join(fuzzer.changed_state)
    found = sum(1 for route in posts if fields_of(route))
    # The pages showed the forms of 29 handlers; only bare actions (log out) lack fields.
    assert found == 29
    print(
        f"web fuzzing: {len(gets)} pages and {len(posts)} form handlers ({found} with their form "
        f"read from a page), {pages} page views, {fuzzer.sent} requests, 0 server errors"
    )


def bare_form(route: Route, params: dict[str, list[str]]) -> Form:
    """For a form no page showed: one junk field at the route's real path."""
    return Form(next(real_paths(route, params)), "post", [("x", "y")], ["x"])


async def candidates(world: World, smtp_server: Any) -> dict[str, list[str]]:
    """The world's ids by path parameter name, and more of what the forms need: a draft entry
    with an attachment in the open competition, and a competition in deliberation with a
    finished result run (the winners form)."""
    p = world.params
    organiser, entrant = world.sessions["organiser"], world.sessions["entrant_a"]
    juror = world.sessions["assigned_juror"]
    company = {"id": p["company_id"], "name": "A GmbH"}
    r = await entrant.post(
        f"/api/v1/competitions/{world.other_competition_id}/entries",
        json={"company_id": company["id"], "category": "energie", "title": "T", "summary": "S"},
    )
    assert r.status_code == 201, r.text
    draft = r.json()["id"]
    attachment = await upload(
        entrant, draft, filename="Anlage.pdf", content_type="application/pdf", data=PDF_BYTES
    )

    c3 = await open_competition(organiser, slug="beratung-2026", reviews_per_entry=1)
    cid = c3["id"]
    await submitted_entry(entrant, cid, company, title="In der Beratung")
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "closed"})
    smtp_server.clear()
    await organiser.post(
        f"/api/v1/competitions/{cid}/jurors", json={"email": EMAILS["assigned_juror"], "name": "J"}
    )
    token = await poll(lambda: invitation(smtp_server, EMAILS["assigned_juror"]))
    # The juror already has an account: its password proves it.
    r = await juror.post(
        "/api/v1/jury/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    await juror.put(
        f"/api/v1/competitions/{cid}/conflicts/me",
        json={"conflicts": [], "confirmed_complete": True},
    )
    run = await finished(organiser, f"/api/v1/competitions/{cid}/assignment-runs", {"seed": 1})
    await organiser.post(f"/api/v1/competitions/{cid}/assignment-runs/{run}/deploy")
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "judging"})
    (item,) = (await juror.get(f"/api/v1/me/assignments?competition_id={cid}")).json()
    r = await juror.put(
        f"/api/v1/assignments/{item['id']}/score",
        json={"scores": {"innovation": 7, "impact": 6}, "final": True},
    )
    assert r.status_code == 200, r.text
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})
    result = await finished(organiser, f"/api/v1/competitions/{cid}/result-runs", {})
    r = await entrant.post(
        f"/api/v1/companies/{company['id']}/members", json={"email": EMAILS["assigned_juror"]}
    )
    assert r.status_code == 202, r.text
    (to_company,) = (await juror.get("/api/v1/me/company-invitations")).json()
    return {
        "competition_id": [p["competition_id"], world.other_competition_id, cid],
        "slug": [p["slug"], "fremd-2026", "beratung-2026"],
        "entry_id": [p["entry_id"], draft],
        "attachment_id": [p["attachment_id"], attachment["id"]],
        "company_id": [p["company_id"]],
        "assignment_id": [p["assignment_id"]],
        "run_id": [p["run_id"], result],
        "juror_id": [p["juror_id"]],
        "declaration_id": [p["declaration_id"]],
        "conflict_id": [p["conflict_id"]],
        "invitation_id": [to_company["id"]],
    }


async def invitation(smtp_server: Any, address: str) -> str | None:
    """The token of the jury invitation to `address`, once its mail is there."""
    links = [
        token_from(text(mail), "/jury/accept")
        for mail in smtp_server.messages
        if mail.message["To"] == address and "/jury/accept?token=" in text(mail)
    ]
    return links[0] if links else None


async def finished(session: Session, path: str, body: dict[str, Any]) -> str:
    """Start a run (assignment or results) and wait until the worker has finished it."""
    r = await session.post(path, json=body)
    assert r.status_code == 202, r.text
    run_id: str = r.json()["id"]

    async def done() -> bool:
        return bool((await session.get(f"{path}/{run_id}")).json()["status"] == "done")

    await poll(done)
    return run_id


def real_paths(route: Route, params: dict[str, list[str]]) -> Iterator[str]:
    names = [name for name, _ in route.params]
    for values in itertools.product(*(params[n] for n in names)):
        yield route.fill(dict(zip(names, values, strict=True)))


def junk_paths(
    route: Route, params: dict[str, list[str]], *, start: int, limit: int = 4
) -> Iterator[str]:
    """Each path parameter in turn: an unknown id and two that are none (the router refuses
    them), or up to `limit` junk values for a slug."""
    base = {name: params[name][0] for name, _ in route.params}
    for j, (name, kind) in enumerate(route.params):
        ids = [UNKNOWN_ID, "kein-uuid", "9" * 40]
        for value in ids if kind == "uuid" else junk_values(start + j, limit):
            yield route.fill({**base, name: quote(value, safe="")})
