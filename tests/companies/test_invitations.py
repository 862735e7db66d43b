"""Company membership by consent: an owner invites an address; only the person behind it, signed
in with that very address, makes themselves a member. The answer to the owner is the same for
every address, invitations are throttled, and mails never turn people's text into links."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from competition.config import Settings
from tests.conftest import PUBLIC_URL, Mail, Outbox, sent, token_from
from tests.helpers import (
    Session,
    account,
    company_body,
    login,
    register_via_mail,
    text,
)
from tests.web.test_pages import web_login

pytestmark = pytest.mark.usefixtures("worker")

INVITE_LINK = "/unternehmen/einladung"


class Company:
    owner: Session
    id: str
    members_before: list[tuple[str, str]]


async def company_of(
    client: httpx.AsyncClient, pool: asyncpg.Pool, name: str = "Muster Zulieferer GmbH"
) -> Company:
    await account(pool, "erika@zulieferer.example", "Erika Eigner")
    c = Company()
    c.owner = await login(client, "erika@zulieferer.example")
    r = await c.owner.post("/api/v1/companies", json=company_body(name))
    assert r.status_code == 201, r.text
    c.id = r.json()["id"]
    return c


async def members(session: Session, company_id: str) -> list[tuple[str, str]]:
    r = await session.get(f"/api/v1/companies/{company_id}")
    return sorted((m["email"], m["role"]) for m in r.json()["members"])


async def invite(company: Company, email: str) -> httpx.Response:
    return await company.owner.post(
        f"/api/v1/companies/{company.id}/members", json={"email": email}
    )


async def invitation_mail(smtp_server: Any, address: str) -> Any:
    mails = [m for m in await smtp_server.wait_for(1, timeout=20) if m.message["To"] == address]
    assert [m.message["Subject"] for m in mails] == [
        "Einladung zu Muster Zulieferer GmbH bei „Industrie. Neu. Denken.“"
    ]
    return mails[0]


async def test_every_address_gets_the_same_answer_and_nobody_becomes_a_member(
    client: httpx.AsyncClient, pool: asyncpg.Pool, smtp_server: Any, outbox: Outbox
) -> None:
    company = await company_of(client, pool)
    await account(pool, "clara@zulieferer.example", "Clara Kollegin")
    answers = []
    for address in (
        "clara@zulieferer.example",  # an account
        "niemand@zulieferer.example",  # no account
        "erika@zulieferer.example",  # already a member (the owner)
        "clara@zulieferer.example",  # invited already
    ):
        r = await invite(company, address)
        answers.append((r.status_code, sorted(r.json().items())))
    assert answers == [
        (202, [("email", "clara@zulieferer.example"), ("status", "invited")]),
        (202, [("email", "niemand@zulieferer.example"), ("status", "invited")]),
        (202, [("email", "erika@zulieferer.example"), ("status", "invited")]),
        (202, [("email", "clara@zulieferer.example"), ("status", "invited")]),
    ]
    r = await company.owner.get(f"/api/v1/companies/{company.id}")
    assert [(m["email"], m["role"]) for m in r.json()["members"]] == [
        ("erika@zulieferer.example", "owner")
    ]
    assert r.json()["invitations"] == [
        {"email": "clara@zulieferer.example"},
        {"email": "niemand@zulieferer.example"},
    ]
    # One mail per invited address, none for the member, none for the repetition.
    drained = await outbox.drained()
    invitation = "Einladung zu Muster Zulieferer GmbH bei „Industrie. Neu. Denken.“"
    assert sent(smtp_server.messages) == [
        ("clara@zulieferer.example", invitation),
        ("niemand@zulieferer.example", invitation),
    ]
    assert drained.failed_events == []
    assert drained.mails == [
        Mail("clara@zulieferer.example", invitation, "sent", 1),
        Mail("niemand@zulieferer.example", invitation, "sent", 1),
    ]


async def test_an_account_joins_only_by_accepting_and_accepting_twice_is_harmless(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    outbox: Outbox,
) -> None:
    company = await company_of(client, pool)
    await account(pool, "clara@zulieferer.example", "Clara Kollegin")
    clara = await login(new_client(), "clara@zulieferer.example")
    assert (await invite(company, "Clara@Zulieferer.example")).status_code == 202
    mail = await invitation_mail(smtp_server, "clara@zulieferer.example")
    assert "Erika Eigner lädt Sie ein" in text(mail)
    assert "Mitglied werden Sie nur, wenn Sie zusagen." in text(mail)
    token_from(text(mail), INVITE_LINK)  # the link to the invitation carries its token
    assert (await clara.get(f"/api/v1/companies/{company.id}")).status_code == 404

    (invitation,) = (await clara.get("/api/v1/me/company-invitations")).json()
    assert (
        invitation["company_id"],
        invitation["company_name"],
        invitation["invited_by"],
    ) == (company.id, "Muster Zulieferer GmbH", "Erika Eigner")
    accept = f"/api/v1/me/company-invitations/{invitation['id']}/accept"
    first, second = await asyncio.gather(clara.post(accept), clara.post(accept))
    assert (first.status_code, second.status_code) == (200, 200)
    assert await members(clara, company.id) == [
        ("clara@zulieferer.example", "member"),
        ("erika@zulieferer.example", "owner"),
    ]
    assert (await clara.get("/api/v1/me/company-invitations")).json() == []
    r = await clara.post(f"/api/v1/me/company-invitations/{invitation['id']}/decline")
    assert (r.status_code, r.json()["error"]) == (409, "invitation_closed")
    # One mail for the membership, although Clara accepted twice.
    drained = await outbox.drained()
    invited = "Einladung zu Muster Zulieferer GmbH bei „Industrie. Neu. Denken.“"
    joined = "Sie sind jetzt Mitglied von Muster Zulieferer GmbH"
    assert sent(smtp_server.messages) == [
        ("clara@zulieferer.example", invited),
        ("clara@zulieferer.example", joined),
    ]
    assert drained.failed_events == []
    assert drained.mails == [
        Mail("clara@zulieferer.example", invited, "sent", 1),
        Mail("clara@zulieferer.example", joined, "sent", 1),
    ]


async def test_an_unknown_address_joins_after_verification_only_by_accepting(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    company = await company_of(client, pool)
    assert (await invite(company, "nina@zulieferer.example")).status_code == 202
    mail = await invitation_mail(smtp_server, "nina@zulieferer.example")
    assert "Registrieren Sie sich dazu mit genau dieser E-Mail-Adresse" in text(mail)
    nina = await register_via_mail(new_client(), smtp_server, "nina@zulieferer.example", "Nina")
    assert (await nina.get(f"/api/v1/companies/{company.id}")).status_code == 404
    assert await members(company.owner, company.id) == [("erika@zulieferer.example", "owner")]
    (invitation,) = (await nina.get("/api/v1/me/company-invitations")).json()
    r = await nina.post(f"/api/v1/me/company-invitations/{invitation['id']}/accept")
    assert r.status_code == 200
    assert await members(nina, company.id) == [
        ("erika@zulieferer.example", "owner"),
        ("nina@zulieferer.example", "member"),
    ]


async def test_nobody_else_can_see_or_answer_an_invitation(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    company = await company_of(client, pool)
    await account(pool, "clara@zulieferer.example", "Clara Kollegin")
    await account(pool, "mallory@andere.example", "Mallory")
    clara = await login(new_client(), "clara@zulieferer.example")
    mallory = await login(new_client(), "mallory@andere.example")
    await invite(company, "clara@zulieferer.example")
    (invitation,) = (await clara.get("/api/v1/me/company-invitations")).json()
    base = f"/api/v1/me/company-invitations/{invitation['id']}"
    assert (await mallory.get("/api/v1/me/company-invitations")).json() == []
    anonymous = new_client()
    answers = [
        (await mallory.post(f"{base}/accept")).status_code,
        (await mallory.post(f"{base}/decline")).status_code,
        (await company.owner.post(f"{base}/accept")).status_code,  # the inviter cannot answer
        (await anonymous.post(f"{base}/accept")).status_code,
        (await mallory.post("/api/v1/me/company-invitations/kein-uuid/accept")).status_code,
    ]
    assert answers == [404, 404, 404, 401, 404]
    assert await members(company.owner, company.id) == [("erika@zulieferer.example", "owner")]
    r = await company.owner.get(f"/api/v1/companies/{company.id}")
    assert r.json()["invitations"] == [{"email": "clara@zulieferer.example"}]


async def test_a_declined_invitation_stays_declined_until_the_owner_invites_again(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    company = await company_of(client, pool)
    await account(pool, "clara@zulieferer.example", "Clara Kollegin")
    clara = await login(new_client(), "clara@zulieferer.example")
    await invite(company, "clara@zulieferer.example")
    first_link = token_from(
        text(await invitation_mail(smtp_server, "clara@zulieferer.example")), INVITE_LINK
    )
    (invitation,) = (await clara.get("/api/v1/me/company-invitations")).json()
    base = f"/api/v1/me/company-invitations/{invitation['id']}"
    assert (await clara.post(f"{base}/decline")).status_code == 204
    replays = [(await clara.post(f"{base}/{answer}")) for answer in ("decline", "accept")]
    assert [(r.status_code, r.json()["error"]) for r in replays] == [
        (409, "invitation_closed"),
        (409, "invitation_closed"),
    ]
    assert (await clara.get(f"{INVITE_LINK}?token={first_link}")).status_code == 400
    r = await company.owner.get(f"/api/v1/companies/{company.id}")
    assert (r.json()["members"][0]["email"], r.json()["invitations"]) == (
        "erika@zulieferer.example",
        [],
    )

    smtp_server.clear()
    await invite(company, "clara@zulieferer.example")
    second_link = token_from(
        text(await invitation_mail(smtp_server, "clara@zulieferer.example")), INVITE_LINK
    )
    assert second_link != first_link
    assert (await clara.get(f"{INVITE_LINK}?token={first_link}")).status_code == 400
    page = await clara.get(f"{INVITE_LINK}?token={second_link}")
    assert page.status_code == 200
    (accept,) = re.findall(r'action="(/unternehmen/einladungen/[0-9a-f-]{36}/annehmen)"', page.text)
    r = await clara.post(accept, data={"csrf_token": clara.csrf})
    assert (r.status_code, r.headers["location"]) == (303, f"/unternehmen/{company.id}")
    assert await members(clara, company.id) == [
        ("clara@zulieferer.example", "member"),
        ("erika@zulieferer.example", "owner"),
    ]


async def test_the_mail_link_opens_the_invitation_for_the_invited_address_only(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    company = await company_of(client, pool)
    await account(pool, "clara@zulieferer.example", "Clara Kollegin")
    await account(pool, "mallory@andere.example", "Mallory")
    await invite(company, "clara@zulieferer.example")
    token = token_from(
        text(await invitation_mail(smtp_server, "clara@zulieferer.example")), INVITE_LINK
    )
    link = f"{INVITE_LINK}?token={token}"

    r = await new_client().get(link)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=" + quote(link, safe=""))
    mallory = await login(new_client(), "mallory@andere.example")
    r = await mallory.get(link)
    assert r.status_code == 403
    assert "Diese Einladung gilt für eine andere E-Mail-Adresse." in r.text
    assert "Muster Zulieferer GmbH" not in r.text
    assert (await mallory.get(f"{INVITE_LINK}?token={token[:-2]}xx")).status_code == 400

    clara = await login(new_client(), "clara@zulieferer.example")
    r = await clara.get(link)
    assert r.status_code == 200
    assert "Erika Eigner lädt Sie ein, am Unternehmensprofil „Muster Zulieferer GmbH“" in r.text
    # The forms of the page name the invitation; Mallory's session cannot use them.
    (accept,) = re.findall(r'action="(/unternehmen/einladungen/[0-9a-f-]{36}/annehmen)"', r.text)
    (decline,) = re.findall(r'action="(/unternehmen/einladungen/[0-9a-f-]{36}/ablehnen)"', r.text)
    for action in (accept, decline):
        r = await mallory.post(action, data={"csrf_token": mallory.csrf})
        assert r.status_code == 404
    assert await members(company.owner, company.id) == [("erika@zulieferer.example", "owner")]
    r = await clara.post(accept, data={"csrf_token": clara.csrf})
    assert (r.status_code, r.headers["location"]) == (303, f"/unternehmen/{company.id}")
    assert (await clara.get(link)).status_code == 400  # done: the link has served


async def test_invitations_are_throttled_per_address_and_per_inviter(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    company = await company_of(client, pool)
    per_address = [
        (await invite(company, "opfer@example.de")).status_code
        for _ in range(settings.invite_address_limit + 1)
    ]
    assert per_address == [202] * settings.invite_address_limit + [429]
    # Another inviter cannot reach the address either: the limit is the address's.
    await account(pool, "zweite@firma.example", "Zweite")
    other = await login(new_client(), "zweite@firma.example")
    other_company = (await other.post("/api/v1/companies", json=company_body("Zweite AG"))).json()
    r = await other.post(
        f"/api/v1/companies/{other_company['id']}/members", json={"email": "opfer@example.de"}
    )
    assert (r.status_code, r.json()["error"]) == (429, "rate_limited")
    assert 1 <= int(r.headers["retry-after"]) <= settings.rate_limit_window_seconds

    left = settings.invite_rate_limit - settings.invite_address_limit - 1
    spread = [(await invite(company, f"person{i}@example.de")).status_code for i in range(left + 1)]
    assert spread == [202] * left + [429]
    async with pool.acquire() as conn:
        invited = await conn.fetchval("SELECT count(*) FROM company_invitation")
    # The refused attempts (the fourth to one address, the inviter's 31st) invited nobody.
    assert invited == 1 + left


async def test_mails_never_link_peoples_text(
    client: httpx.AsyncClient, pool: asyncpg.Pool, smtp_server: Any
) -> None:
    """A company named like an address, an inviter named like a web site: the invitation links
    only to the platform, in the HTML part and the text part alike."""
    await account(pool, "erika@zulieferer.example", "Mallory (www.evil.example)")
    owner = await login(client, "erika@zulieferer.example")
    r = await owner.post("/api/v1/companies", json=company_body("https://evil.example/login"))
    assert r.status_code == 201, r.text
    await owner.post(
        f"/api/v1/companies/{r.json()['id']}/members", json={"email": "clara@zulieferer.example"}
    )
    (mail,) = await smtp_server.wait_for(1, timeout=20)
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    plain = text(mail)
    token = token_from(plain, INVITE_LINK)
    link = f"{PUBLIC_URL}{INVITE_LINK}?token={token}"
    assert re.findall(r'href="([^"]*)"', html) == [link, link]  # the line and the button
    assert re.findall(r"https?://\S+", plain) == [link]
    for part in (html, plain):
        assert "evil.example" not in part
        assert "https://evil" not in part
    assert "„https:\u200b//evil.\u200bexample/login“" in plain
    assert "Mallory (www.\u200bevil.\u200bexample) lädt Sie ein" in plain
    assert mail.message["Subject"] == (
        "Einladung zu https://evil.example/login bei „Industrie. Neu. Denken.“"
    )


async def test_invited_address_joins_after_registering_only_by_accepting(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
) -> None:
    await account(pool, "anna@firma-a.example", "Anna")
    anna = await login(client, "anna@firma-a.example")
    company_a = (await anna.post("/api/v1/companies", json=company_body("A GmbH"))).json()
    r = await anna.post(
        f"/api/v1/companies/{company_a['id']}/members", json={"email": "Neu@Firma-A.example"}
    )
    assert (r.status_code, r.json()) == (202, {"email": "neu@firma-a.example", "status": "invited"})
    mails = await smtp_server.wait_for(1, timeout=15)
    assert mails[0].message["Subject"] == "Einladung zu A GmbH bei „Industrie. Neu. Denken.“"
    newcomer = await register_via_mail(new_client(), smtp_server, "neu@firma-a.example", "Nina")
    # Verifying the address is no consent to join.
    assert (await newcomer.get(f"/api/v1/companies/{company_a['id']}")).status_code == 404
    (invitation,) = (await newcomer.get("/api/v1/me/company-invitations")).json()
    assert (invitation["company_name"], invitation["invited_by"]) == ("A GmbH", "Anna")
    r = await newcomer.post(f"/api/v1/me/company-invitations/{invitation['id']}/accept")
    assert r.status_code == 200
    assert sorted((m["email"], m["role"]) for m in r.json()["members"]) == [
        ("anna@firma-a.example", "owner"),
        ("neu@firma-a.example", "member"),
    ]
    assert r.json()["invitations"] == []


async def test_company_owner_invites_and_the_person_joins_through_the_pages(
    client: httpx.AsyncClient, new_client: Callable[[], httpx.AsyncClient], pool: asyncpg.Pool
) -> None:
    await account(pool, "erika@zulieferer.example", "Erika")
    await account(pool, "clara@zulieferer.example", "Clara")
    await web_login(client, "erika@zulieferer.example")
    token = client.cookies["ind_csrf"]
    form = {k: str(v) for k, v in company_body().items()}
    r = await client.post("/unternehmen/neu", data={**form, "csrf_token": token})
    company_page = r.headers["location"]
    r = await client.post(
        f"{company_page}/mitglieder", data={"member_email": "kein-at-zeichen", "csrf_token": token}
    )
    assert r.status_code == 422
    assert "Bitte eine gültige E-Mail-Adresse angeben." in r.text
    r = await client.post(
        f"{company_page}/mitglieder",
        data={"member_email": "Clara@Zulieferer.example", "csrf_token": token},
    )
    assert (r.status_code, r.headers["location"]) == (303, company_page)
    page = await client.get(company_page)
    assert "Die Einladung ist unterwegs." in page.text
    assert "clara@zulieferer.example – eingeladen" in page.text
    assert "Clara (clara@zulieferer.example)" not in page.text

    clara = new_client()
    await web_login(clara, "clara@zulieferer.example")
    home = await clara.get("/mein-bereich")
    assert "Einladungen in Unternehmen" in home.text
    assert "Erika lädt Sie ein, am Unternehmensprofil „Muster Zulieferer GmbH“" in home.text
    (accept,) = re.findall(r'action="(/unternehmen/einladungen/[0-9a-f-]{36}/annehmen)"', home.text)
    r = await clara.post(accept, data={"csrf_token": clara.cookies["ind_csrf"]})
    assert (r.status_code, r.headers["location"]) == (303, company_page)
    page = await clara.get(company_page)
    assert "Willkommen: Sie gehören jetzt zu diesem Unternehmen." in page.text
    assert "Clara (clara@zulieferer.example) – Mitglied" in page.text
    assert "Einladungen in Unternehmen" not in (await clara.get("/mein-bereich")).text
