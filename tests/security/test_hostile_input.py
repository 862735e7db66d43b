"""Input that used to end in a 500: NUL and other control characters that reached PostgreSQL,
JSON deep enough to exhaust the decoder's recursion, page numbers beyond any integer column, an
`assert` used as control flow, a form value no Struct had checked. Each is now a 4xx that
changes nothing; bidi controls are removed from what others read. (Dates beyond the years of a
competition, which overflowed: tests/competitions/test_dates.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from competition.app import before_request
from tests.helpers import (
    PASSWORD,
    PDF_BYTES,
    account,
    company_body,
    competition_body,
    login,
    open_competition,
    poll,
)
from tests.security.world import build_world

CONTROL = {
    "error": "control_characters",
    "detail": "Die Anfrage enthält unzulässige Steuerzeichen.",
}
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def control(*fields: str) -> dict[str, Any]:
    """The API's answer to control characters outside a JSON body, naming where they were."""
    found = [{"field": f, "message": "Enthält unzulässige Steuerzeichen."} for f in fields]
    return {**CONTROL, "fields": found}


def invalid(*fields: tuple[str, str]) -> dict[str, Any]:
    return {
        "error": "validation_error",
        "detail": "Die Eingaben sind ungültig.",
        "fields": [{"field": f, "message": m} for f, m in fields],
    }


async def web_login(client: httpx.AsyncClient, email: str) -> None:
    r = await client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 303, r.text


async def count(pool: asyncpg.Pool, table: str) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
        return found


def test_every_route_passes_the_guard(app: Litestar) -> None:
    """Litestar keeps only the innermost `before_request` hook: a router or controller with one
    of its own would take its routes out of the guard (and the cross-site check)."""
    handlers = [h for r in app.routes for h in getattr(r, "route_handlers", ())]
    assert len(handlers) == 258  # every page, form and operation (a new one counts here too)
    assert [h for h in handlers if h.resolve_before_request() is not before_request] == []


async def test_nul_in_the_account_forms_is_422_and_stores_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """Login, registration and password reset: reachable without an account."""
    nul = "Enthält unzulässige Steuerzeichen."
    password = "passwort-1234"
    for path, body, field in (
        ("/api/v1/auth/login", {"email": "a\x00b@firma.example", "password": "x"}, "email"),
        ("/api/v1/auth/password-reset", {"email": "a\x00b@firma.example"}, "email"),
        (
            "/api/v1/auth/register",
            {"email": "neu@firma.example", "password": password, "name": "Erika\x00"},
            "name",
        ),
        (
            "/api/v1/auth/register",
            {"email": "neu@firma.example", "password": password, "name": "Erika\nMuster"},
            "name",
        ),
    ):
        r = await client.post(path, json=body)
        assert (path, r.status_code, r.json()) == (path, 422, invalid((field, nul)))
    for path, form in (
        ("/login", {"email": "a\x00b@firma.example", "password": "x"}),
        ("/password-reset", {"email": "a\x00b@firma.example"}),
        ("/register", {"email": "neu@firma.example", "name": "Erika\x00", "accept_privacy": "1"}),
    ):
        r = await client.post(path, data=form)
        assert (path, r.status_code, r.headers["content-type"]) == (
            path,
            422,
            "text/html; charset=utf-8",
        )
        assert "Die Anfrage enthält unzulässige Steuerzeichen." in r.text
    r = await client.post("/login?lang=en", data={"email": "a\x00b", "password": "x"})
    assert r.status_code == 422
    assert "The request contains control characters that are not allowed." in r.text
    assert (await count(pool, "account"), await count(pool, "event")) == (0, 0)


async def test_control_characters_in_path_query_cookie_and_header_are_422(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    entries = f"/api/v1/competitions/{competition['id']}/entries"
    for path in ("/api/v1/competitions/a%00b", "/api/v1/public/competitions/a%00b/winners"):
        r = await client.get(path)
        assert (path, r.status_code, r.json()) == (path, 422, control("path"))
    r = await client.get(entries, params={"category": "a\x00b", "status": "draft"})
    assert (r.status_code, r.json()) == (422, control("query.category"))
    r = await client.get(entries, params={"category\x1b": "x"})
    assert (r.status_code, r.json()) == (422, control("query.category\\x1b"))
    r = await client.get(entries, headers={"cookie": "ind_lang=de%0a; fremd=%00"})
    assert (r.status_code, r.json()) == (422, control("cookie.ind_lang"))
    r = await organiser.patch(
        f"/api/v1/competitions/{competition['id']}",
        json={"auto_open": True},
        headers={"If-Match": "1\x00"},
    )
    assert (r.status_code, r.json()) == (422, control("header.if-match"))
    page = await client.get("/wettbewerbe/a%00b")
    assert (page.status_code, page.headers["content-type"]) == (422, "text/html; charset=utf-8")
    assert "Die Anfrage enthält unzulässige Steuerzeichen." in page.text
    r = await client.get(f"/wettbewerbe/{competition['slug']}?lang=%00")
    assert r.status_code == 422


async def test_text_areas_keep_line_breaks_and_tabs_and_one_line_fields_refuse_them(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    await account(pool, "erika@zulieferer.example", "Erika")
    async with httpx.AsyncClient(transport=client._transport, base_url="http://x") as browser:
        await web_login(browser, "erika@zulieferer.example")
        csrf = browser.cookies["ind_csrf"]
        company = {k: str(v) for k, v in company_body().items()}
        r = await browser.post("/unternehmen/neu", data={**company, "csrf_token": csrf})
        company_id = r.headers["location"].rsplit("/", 1)[-1]
        form = {
            "company_id": company_id,
            "category": "energie",
            "title": "Abwärme",
            "summary": "Erste Zeile\r\n\tzweite Zeile",
            "description": "Absatz\r\n\r\nAbsatz\tmit Tab",
            "csrf_token": csrf,
        }
        r = await browser.post(f"/wettbewerbe/{competition['slug']}/teilnehmen", data=form)
        assert r.status_code == 303
        entry = (await browser.get(f"/api/v1{r.headers['location']}")).json()
        assert (entry["summary"], entry["description"]) == (
            "Erste Zeile\r\n\tzweite Zeile",
            "Absatz\r\n\r\nAbsatz\tmit Tab",
        )
        r = await browser.post(
            f"/entries/{entry['id']}",
            data={**form, "title": "Zwei\nZeilen", "version": str(entry["version"])},
        )
        assert r.status_code == 422
        assert 'aria-invalid="true"' in r.text
        assert "Enthält unzulässige Steuerzeichen." in r.text
        assert "Zwei\nZeilen" in r.text  # the person's text stays in the form
        r = await browser.post(f"/entries/{entry['id']}", data={**form, "summary": "a\x0cb"})
        assert (r.status_code, "Die Anfrage enthält unzulässige Steuerzeichen." in r.text) == (
            422,
            True,
        )
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT title FROM entry") == "Abwärme"


async def test_deeply_nested_json_is_refused_before_it_is_decoded(
    client: httpx.AsyncClient,
) -> None:
    """Litestar decodes a body into Python objects before the Struct: ten thousand `[` used to
    exhaust the decoder's recursion (RecursionError, 500)."""
    login_path = "/api/v1/auth/login"
    too_deep = {
        "error": "validation_error",
        "detail": "Der Request-Body ist zu tief verschachtelt.",
        "fields": [{"field": "body", "message": "Höchstens 32 Ebenen."}],
    }
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"email":' * 10_000 + b"1" + b"}" * 10_000):
        r = await client.post(login_path, content=body, headers={"content-type": "text/plain"})
        assert (r.status_code, r.json()) == (422, too_deep)
    # 32 levels are decoded (and refused by the Struct, naming the field); 33 are not.
    for depth, expected in (
        (32, invalid(("email", "Expected `str`, got `array`"))),
        (33, too_deep),
    ):
        body = b'{"email": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
        r = await client.post(login_path, content=body)
        assert (depth, r.status_code, r.json()) == (depth, 422, expected)
    # Brackets inside strings are text, not structure.
    r = await client.post(login_path, json={"email": "[" * 200, "password": "{" * 200})
    assert (r.status_code, r.json()["error"]) == (401, "invalid_credentials")


async def test_page_numbers_and_offsets_beyond_range_are_422(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    entries = f"/api/v1/competitions/{competition['id']}/entries"
    for query, message in (
        ("offset=99999999999999999999", "Expected `int` <= 1000000"),
        ("offset=9223372036854775808", "Expected `int` <= 1000000"),
        ("offset=-1", "Expected `int` >= 0"),
        ("limit=501", "Expected `int` <= 500"),
    ):
        r = await client.get(f"{entries}?{query}")
        field = query.split("=")[0]
        assert (query, r.status_code, r.json()) == (query, 422, invalid((field, message)))
    assert (await client.get(f"{entries}?offset=1000000")).json() == []
    for path in (f"/organisation/{competition['id']}/protokoll", "/organisation/postausgang"):
        for page, text in (
            ("99999999999999999999", "Höchstens 100.000."),
            ("0", "Mindestens 1."),
            ("zwei", "Bitte eine ganze Zahl eingeben."),
        ):
            r = await client.get(f"{path}?seite={page}")
            assert (path, page, r.status_code, r.headers["content-type"]) == (
                path,
                page,
                422,
                "text/html; charset=utf-8",
            )
            assert text in r.text
        assert (await client.get(f"{path}?seite=100000")).status_code == 200


async def test_conflict_form_of_an_unknown_competition_is_404(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    await web_login(client, "erika@zulieferer.example")
    r = await client.post(
        f"/jury/{UNKNOWN_ID}/konflikte",
        data={"confirmed": "1", "csrf_token": client.cookies["ind_csrf"]},
    )
    assert (r.status_code, r.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert "Keine Jurytätigkeit in diesem Wettbewerb." in r.text


async def test_unknown_phase_from_the_overview_form_is_422(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    competition = await open_competition(organiser)
    r = await client.post(
        f"/organisation/{competition['id']}/phase",
        data={"to": "unbekannt", "csrf_token": organiser.csrf},
    )
    assert r.status_code == 422
    assert "Diese Phase gibt es nicht." in r.text
    r = await client.get(f"/api/v1/competitions/{competition['id']}")
    assert (r.json()["phase"], r.json()["version"]) == ("open", competition["version"])


@pytest.mark.usefixtures("worker")
async def test_winner_places_outside_one_to_ten_are_422_on_the_form(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    """The form's places used to go unchecked into the winner table (500 on its CHECK)."""
    world = await build_world(client, new_client, pool, smtp_server)
    cid = world.params["competition_id"]
    for juror in ("assigned_juror", "conflicted_juror"):
        session = world.sessions[juror]
        (item,) = (await session.get(f"/api/v1/me/assignments?competition_id={cid}")).json()
        r = await session.put(
            f"/api/v1/assignments/{item['id']}/score",
            json={"scores": {"innovation": 5, "impact": 5}, "final": True},
        )
        assert r.status_code == 200, r.text
    organiser = world.sessions["organiser"]
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "deliberation"})
    run = (await organiser.post(f"/api/v1/competitions/{cid}/result-runs", json={})).json()

    async def done() -> bool:
        r = await organiser.get(f"/api/v1/competitions/{cid}/result-runs/{run['id']}")
        return bool(r.json()["status"] == "done")

    await poll(done)
    entry = world.params["entry_id"]
    for place, message in (
        ("11", "Höchstens 10."),
        ("99999999999999999999", "Höchstens 10."),
        ("0", "Mindestens 1."),
        ("erster", "Bitte eine ganze Zahl eingeben."),
    ):
        r = await organiser.client.post(
            f"/organisation/{cid}/ergebnisse/{run['id']}/sieger",
            data={
                f"place_{entry}": place,
                f"justification_{entry}": "Begründung",
                "csrf_token": organiser.csrf,
            },
        )
        assert (place, r.status_code) == (place, 422)
        assert f'<span class="error">{message}</span>' in r.text
    assert await count(pool, "winner") == 0


async def test_bidi_controls_are_removed_from_titles_and_file_names(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    body = competition_body(
        "bidi-2026", title={"de": "Preis \u202e2026\u202c", "en": "\u2066Prize\u2069 2026"}
    )
    r = await organiser.post("/api/v1/competitions", json=body)
    assert (r.status_code, r.json()["title"]) == (201, {"de": "Preis 2026", "en": "Prize 2026"})
    cid = r.json()["id"]
    r = await organiser.patch(
        f"/api/v1/competitions/{cid}", json={"title": {"de": "\u202a\u202b", "en": "Prize"}}
    )
    assert (r.status_code, r.json()["fields"]) == (
        422,
        [{"field": "title.de", "message": "Bitte ausfüllen."}],
    )
    await organiser.post(f"/api/v1/competitions/{cid}/phase", json={"to": "open"})
    company = (await organiser.post("/api/v1/companies", json=company_body())).json()
    r = await organiser.post(
        f"/api/v1/competitions/{cid}/entries",
        json={
            "company_id": company["id"],
            "category": "energie",
            "title": "Idee \u202dA\u202c",
            "summary": "S",
        },
    )
    assert (r.status_code, r.json()["title"]) == (201, "Idee A")
    entry_id = r.json()["id"]
    r = await organiser.patch(f"/api/v1/entries/{entry_id}", json={"title": "\u2067"})
    assert (r.status_code, r.json()["fields"]) == (
        422,
        [{"field": "title", "message": "Bitte einen Titel angeben."}],
    )
    r = await organiser.post(
        f"/api/v1/entries/{entry_id}/attachments",
        json={
            "filename": "rechnung\u202efdp.exe",
            "content_type": "application/pdf",
            "size_bytes": len(PDF_BYTES),
        },
    )
    assert r.status_code == 201
    r = await organiser.get(f"/api/v1/attachments/{r.json()['id']}")
    assert r.json()["filename"] == "rechnungfdp.exe"
    async with pool.acquire() as conn:
        stored = await conn.fetchrow("SELECT c.title, e.title AS entry FROM competition c, entry e")
    assert stored is not None
    assert (stored["title"], stored["entry"]) == (
        {"de": "Preis 2026", "en": "Prize 2026"},
        "Idee A",
    )
