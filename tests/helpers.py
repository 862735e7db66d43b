"""Building blocks for tests that drive the platform over HTTP like a client would."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from competition.accounts.service import ensure_account
from competition.db import transaction
from competition.storage.store import ObjectInfo
from tests.conftest import token_from

PASSWORD = "sicheres-passwort-2026"
PDF_BYTES = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 2000 + b"%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)

# What the object store reports for PDF_BYTES stored as a PDF (its ETag is the MD5 of the bytes).
PDF_OBJECT = ObjectInfo(
    size=len(PDF_BYTES),
    content_type="application/pdf",
    etag=hashlib.md5(PDF_BYTES, usedforsecurity=False).hexdigest(),
)

ODT_TYPE = "application/vnd.oasis.opendocument.text"


def odt_bytes(*, mimetype_compression: int = zipfile.ZIP_STORED, extra: bytes = b"") -> bytes:
    """A minimal OpenDocument text as office programs write it: `mimetype` first, stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            ODT_TYPE.encode() + extra,
            compress_type=mimetype_compression,
        )
        archive.writestr(
            "content.xml", b'<?xml version="1.0" encoding="UTF-8"?><office:document-content/>'
        )
        archive.writestr(
            "META-INF/manifest.xml",
            b"<manifest:manifest"
            b' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            b'<manifest:file-entry manifest:full-path="/" manifest:media-type="'
            + ODT_TYPE.encode()
            + b'"/></manifest:manifest>',
        )
    return buffer.getvalue()


def with_damaged_member(data: bytes, name: str) -> bytes:
    """The archive with `name`'s compressed bytes overwritten by 0xFF: a deflate block of the
    reserved type 3, which zlib refuses."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    start = info.header_offset + 30 + len(name)  # zipfile writes no extra field here
    return data[:start] + b"\xff" * info.compress_size + data[start + info.compress_size :]


class Session:
    """A logged-in browser: cookie session plus the CSRF header on writes."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(path, headers=self._h(kw), **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.patch(path, headers=self._h(kw), **kw)

    async def put(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.put(path, headers=self._h(kw), **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(path, headers=self._h(kw), **kw)

    def _h(self, kw: dict[str, Any]) -> dict[str, str]:
        headers: dict[str, str] = kw.pop("headers", {}) or {}
        return {**headers, "X-CSRF-Token": self.csrf}


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Session:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return Session(client, r.json()["csrf_token"])


async def account(
    pool: asyncpg.Pool, email: str, name: str, *, organiser: bool = False, locale: str = "de"
) -> str:
    async with transaction(pool) as conn:
        account_id, _ = await ensure_account(
            conn, email=email, name=name, password=PASSWORD, organiser=organiser, locale=locale
        )
    return str(account_id)


async def register_via_mail(
    client: httpx.AsyncClient, smtp_server: Any, email: str, name: str
) -> Session:
    """Register over HTTP, verify with the token from the mail, log in."""
    before = len(smtp_server.messages)
    r = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert r.status_code == 201, r.text
    mails = await smtp_server.wait_for(before + 1, timeout=20)
    mine = [m for m in mails if m.message["To"] == email]
    body = mine[-1].message.get_body(preferencelist=("plain",)).get_content()
    r = await client.post("/api/v1/auth/verify", json={"token": token_from(body, "/verify")})
    assert r.status_code == 200, r.text
    return await login(client, email)


async def join_company(owner: Session, member: Session, company_id: str, email: str) -> None:
    """Membership by consent: the owner invites `email`, whose signed-in person accepts."""
    r = await owner.post(f"/api/v1/companies/{company_id}/members", json={"email": email})
    assert r.status_code == 202, r.text
    invitations = (await member.get("/api/v1/me/company-invitations")).json()
    (invitation,) = [i for i in invitations if i["company_id"] == company_id]
    r = await member.post(f"/api/v1/me/company-invitations/{invitation['id']}/accept")
    assert r.status_code == 200, r.text


def competition_body(slug: str = "ind-2026", **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "slug": slug,
        "title": {"de": "Industrie. Neu. Denken. 2026", "en": "Industry. Rethought. 2026"},
        "description": {"de": "Der Industriewettbewerb.", "en": "The industry competition."},
        "submission_opens_at": (now - timedelta(hours=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=14)).isoformat(),
        "reviews_per_entry": 2,
        "blind_judging": False,
        "eligible_districts": [
            "chemnitz",
            "zwickau",
            "erzgebirgskreis",
            "mittelsachsen",
            "vogtlandkreis",
        ],
        "categories": [
            {"slug": "mobilitaet", "name": {"de": "Mobilität", "en": "Mobility"}},
            {"slug": "energie", "name": {"de": "Energie", "en": "Energy"}},
        ],
        "criteria": [
            {
                "key": "innovation",
                "name": {"de": "Innovation", "en": "Innovation"},
                "weight": 3,
                "min": 0,
                "max": 10,
            },
            {
                "key": "impact",
                "name": {"de": "Wirkung", "en": "Impact"},
                "weight": 2,
                "min": 0,
                "max": 10,
            },
        ],
        "tie_break": ["median", "highest_weight_criterion"],
    }
    body.update(overrides)
    return body


async def open_competition(organiser: Session, **overrides: Any) -> dict[str, Any]:
    r = await organiser.post("/api/v1/competitions", json=competition_body(**overrides))
    assert r.status_code == 201, r.text
    competition: dict[str, Any] = r.json()
    r = await organiser.post(f"/api/v1/competitions/{competition['id']}/phase", json={"to": "open"})
    assert r.status_code == 200, r.text
    opened: dict[str, Any] = r.json()
    return opened


def company_body(name: str = "Muster Zulieferer GmbH", district: str = "zwickau") -> dict[str, Any]:
    return {
        "name": name,
        "street": "Industriestraße 1",
        "postal_code": "08056",
        "city": "Zwickau",
        "district": district,
        "employees": 120,
        "website": "https://muster-zulieferer.example",
    }


async def upload(
    session: Session,
    entry_id: str,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    put: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """Announce, PUT straight to the object store with the presigned URL, complete."""
    r = await session.post(
        f"/api/v1/entries/{entry_id}/attachments",
        json={"filename": filename, "content_type": content_type, "size_bytes": len(data)},
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    async with httpx.AsyncClient() as store:
        stored = await store.put(
            created["upload"]["url"], content=data, headers=created["upload"]["headers"]
        )
    assert stored.status_code == 200, stored.text
    r = await session.post(f"/api/v1/attachments/{created['id']}/complete")
    assert r.status_code == 200, r.text
    return created


async def wait_status(
    session: Session, attachment_id: str, *, timeout: float = 20
) -> dict[str, Any]:
    """Poll until verification has decided."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        r = await session.get(f"/api/v1/attachments/{attachment_id}")
        body: dict[str, Any] = r.json()
        if body["status"] in ("verified", "rejected") or loop.time() > deadline:
            return body
        await asyncio.sleep(0.1)


def text(mail: Any) -> str:
    body: str = mail.message.get_body(preferencelist=("plain",)).get_content()
    return body.replace("\r\n", "\n")


async def poll(check: Callable[[], Any], *, timeout: float = 30, interval: float = 0.1) -> Any:
    """Call `check` until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(interval)


async def blocked_by(pool: asyncpg.Pool, holder: asyncpg.Connection) -> None:
    """Wait until one other connection waits for a lock `holder`'s transaction holds: what a
    test of a race sleeps for otherwise, hoping the other side got that far."""
    pid = holder.get_server_pid()

    async def one_waiting() -> bool:
        async with pool.acquire() as conn:
            waiting: int = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid
            )
        return waiting == 1

    await poll(one_waiting, timeout=20, interval=0.02)


async def submitted_entry(
    session: Session,
    competition_id: str,
    company: dict[str, Any],
    *,
    title: str,
    category: str = "energie",
    summary: str = "Kurzfassung.",
    files: int = 0,
) -> dict[str, Any]:
    r = await session.post(
        f"/api/v1/competitions/{competition_id}/entries",
        json={
            "company_id": company["id"],
            "category": category,
            "title": title,
            "summary": summary,
            "description": "Beschreibung.",
        },
    )
    assert r.status_code == 201, r.text
    entry: dict[str, Any] = r.json()
    for i in range(files):
        created = await upload(
            session,
            entry["id"],
            filename=f"{company['name']} Anlage {i + 1}.pdf",
            content_type="application/pdf",
            data=PDF_BYTES,
        )
        assert (await wait_status(session, created["id"]))["status"] == "verified"
    r = await session.post(f"/api/v1/entries/{entry['id']}/submit")
    assert r.status_code == 200, r.text
    return entry
