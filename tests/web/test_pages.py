"""The pages over HTTP (no browser): CSRF on forms, language, login redirects, error pages,
the editor's answer to a stale version."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from tests.conftest import token_from
from tests.helpers import PASSWORD, account, company_body, login, open_competition, text

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


async def web_login(client: httpx.AsyncClient, email: str, next_path: str = "") -> httpx.Response:
    """The login form; signed in already, the form carries the session's CSRF token."""
    data = {"email": email, "password": PASSWORD, "next": next_path}
    return await client.post(
        "/login", data={**data, "csrf_token": client.cookies.get("ind_csrf", "")}
    )


async def test_login_form_redirects_to_the_page_asked_for_and_only_within_the_site(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    r = await client.get("/mein-bereich")
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=%2Fmein-bereich")
    r = await web_login(client, "erika@zulieferer.example", "//evil.example/steal")
    assert (r.status_code, r.headers["location"]) == (303, "/mein-bereich")
    assert {c.name for c in client.cookies.jar} == {"ind_session", "ind_csrf"}
    r = await web_login(client, "erika@zulieferer.example", "/unternehmen/neu")
    assert (r.status_code, r.headers["location"]) == (303, "/unternehmen/neu")


async def test_login_form_with_a_wrong_password_keeps_the_address(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    r = await client.post(
        "/login", data={"email": "erika@zulieferer.example", "password": "falsch-falsch"}
    )
    assert r.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in r.text
    assert 'value="erika@zulieferer.example"' in r.text


async def test_form_post_needs_the_csrf_field_of_the_session(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    await web_login(client, "erika@zulieferer.example")
    page = await client.get("/unternehmen/neu")
    (token,) = set(CSRF_FIELD.findall(page.text))
    assert token == client.cookies["ind_csrf"]
    form = {k: str(v) for k, v in company_body().items()}
    r = await client.post("/unternehmen/neu", data=form)
    assert (r.status_code, r.headers["content-type"]) == (403, "text/html; charset=utf-8")
    assert "CSRF-Token fehlt oder ist ungültig" in r.text
    r = await client.post("/unternehmen/neu", data={**form, "csrf_token": "forged"})
    assert r.status_code == 403
    r = await client.post("/unternehmen/neu", data={**form, "csrf_token": token})
    assert r.status_code == 303
    assert re.fullmatch(r"/unternehmen/[0-9a-f-]{36}", r.headers["location"])


async def test_language_switch_is_remembered_and_sets_the_lang_attribute(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/")
    assert '<html lang="de">' in r.text
    r = await client.get("/?lang=en")
    assert '<html lang="en">' in r.text
    assert "Open for entries" in r.text
    assert client.cookies["ind_lang"] == "en"
    assert '<html lang="en">' in (await client.get("/login")).text
    r = await client.get("/login?lang=de")
    assert '<html lang="de">' in r.text
    assert '<html lang="de">' in (await client.get("/")).text


async def test_unknown_entry_and_missing_winners_answer_with_html_pages(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    r = await client.get("/wettbewerbe/gibt-es-nicht/sieger")
    assert (r.status_code, r.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert "Noch keine Sieger" in r.text
    await account(pool, "erika@zulieferer.example", "Erika")
    await web_login(client, "erika@zulieferer.example")
    r = await client.get("/entries/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert "Beitrag nicht gefunden." in r.text


async def test_stale_entry_save_shows_both_versions_and_keeps_the_text(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    competition = await open_competition(await login(new_client(), "orga@wettbewerb.test"))
    await account(pool, "erika@zulieferer.example", "Erika")
    colleague = await login(new_client(), "erika@zulieferer.example")
    company = (await colleague.post("/api/v1/companies", json=company_body())).json()
    entry = (
        await colleague.post(
            f"/api/v1/competitions/{competition['id']}/entries",
            json={
                "company_id": company["id"],
                "category": "energie",
                "title": "Erste Fassung",
                "summary": "Kurz.",
            },
        )
    ).json()
    await web_login(client, "erika@zulieferer.example")
    editor = await client.get(f"/entries/{entry['id']}")
    (token,) = set(CSRF_FIELD.findall(editor.text))
    # Someone else saves in between (here: the same person in another browser).
    r = await colleague.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"title": "Fassung der Kollegin"},
        headers={"If-Match": "1"},
    )
    assert r.status_code == 200, r.text
    mine = {
        "csrf_token": token,
        "version": "1",
        "category": "energie",
        "title": "Meine Fassung",
        "summary": "Kurz.",
        "description": "Drei Stunden Arbeit, die nicht verloren gehen dürfen.",
    }
    r = await client.post(f"/entries/{entry['id']}", data=mine)
    assert r.status_code == 412
    assert "Jemand hat den Beitrag inzwischen geändert" in r.text
    assert "<strong>Fassung der Kollegin</strong>" in r.text
    assert 'value="Meine Fassung"' in r.text
    assert ">Drei Stunden Arbeit, die nicht verloren gehen dürfen.</textarea>" in r.text
    assert 'name="version" value="2"' in r.text
    # Saving again is the deliberate overwrite with the new version.
    r = await client.post(f"/entries/{entry['id']}", data={**mine, "version": "2"})
    assert (r.status_code, r.headers["location"]) == (303, f"/entries/{entry['id']}")
    stored = (await colleague.get(f"/api/v1/entries/{entry['id']}")).json()
    assert (stored["title"], stored["version"]) == ("Meine Fassung", 3)


async def test_unknown_paths_answer_browsers_with_a_page_and_clients_with_json(
    client: httpx.AsyncClient,
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = await client.get("/gibt-es-nicht", headers=browser)
    assert (r.status_code, r.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert "Diese Seite gibt es nicht." in r.text
    r = await client.get("/gibt-es-nicht")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    r = await client.get("/api/v1/gibt-es-nicht", headers=browser)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


async def test_password_reset_through_the_pages(
    client: httpx.AsyncClient, pool: asyncpg.Pool, smtp_server: Any, worker: None
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    r = await client.post("/password-reset", data={"email": "erika@zulieferer.example"})
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    (mail,) = await smtp_server.wait_for(1, timeout=20)
    token = token_from(text(mail), "/password-reset")
    page = await client.get(f"/password-reset?token={token}")
    assert f'name="token" value="{token}"' in page.text
    new = "ein-neues-passwort-2027"
    r = await client.post(
        "/password-reset/neu",
        data={"token": token, "password": new, "password_repeat": new + "x"},
    )
    assert r.status_code == 422
    assert "Die beiden Passwörter stimmen nicht überein." in r.text
    r = await client.post(
        "/password-reset/neu", data={"token": token, "password": new, "password_repeat": new}
    )
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    r = await client.post(
        "/password-reset/neu", data={"token": token, "password": new, "password_repeat": new}
    )
    assert r.status_code == 400
    assert "ungültig, abgelaufen oder verbraucht" in r.text
    r = await client.post("/login", data={"email": "erika@zulieferer.example", "password": new})
    assert (r.status_code, r.headers["location"]) == (303, "/mein-bereich")


async def test_a_refused_submission_changes_nothing_on_the_page_as_in_the_api(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """The page catches the service's refusal to answer with a page; what the service began
    (recording the eligibility it found) must not be committed with it."""
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    competition = await open_competition(await login(client, "orga@wettbewerb.test"))
    await account(pool, "erika@zulieferer.example", "Erika")
    erika = await login(client, "erika@zulieferer.example")
    company = (await erika.post("/api/v1/companies", json=company_body())).json()
    r = await erika.post(
        f"/api/v1/competitions/{competition['id']}/entries",
        json={"company_id": company["id"], "category": "energie", "title": "T", "summary": "S"},
    )
    entry = r.json()
    moved = await erika.patch(f"/api/v1/companies/{company['id']}", json={"district": "leipzig"})
    assert moved.status_code == 200
    r = await client.post(f"/entries/{entry['id']}/einreichen", data={"csrf_token": erika.csrf})
    assert r.status_code == 409
    assert "liegt nicht im Teilnahmegebiet" in r.text
    r = await erika.post(f"/api/v1/entries/{entry['id']}/submit")
    assert (r.status_code, r.json()["error"]) == (409, "ineligible")
    stored = (await erika.get(f"/api/v1/entries/{entry['id']}")).json()
    assert (stored["status"], stored["eligible"], stored["version"]) == ("draft", True, 1)
    assert stored["eligibility_reason"] == entry["eligibility_reason"]
