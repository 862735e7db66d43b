"""Attachments against the real object store: the store enforces what was signed, the worker
decides by the bytes, and the API never carries file contents."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from competition.config import Settings
from competition.services import Services
from tests.helpers import (
    ODT_TYPE,
    PDF_BYTES,
    PDF_OBJECT,
    Session,
    account,
    company_body,
    login,
    odt_bytes,
    open_competition,
    poll,
    upload,
    wait_status,
    with_damaged_member,
)

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
async def draft(
    client: httpx.AsyncClient, new_client: Callable[[], httpx.AsyncClient], pool: asyncpg.Pool
) -> tuple[Session, dict[str, Any]]:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    await account(pool, "erik@firma-a.example", "Erik")
    organiser = await login(new_client(), "orga@wettbewerb.test")
    competition = await open_competition(organiser, max_file_bytes=4 * 1024**2)
    entrant = await login(client, "erik@firma-a.example")
    company = (await entrant.post("/api/v1/companies", json=company_body())).json()
    r = await entrant.post(
        f"/api/v1/competitions/{competition['id']}/entries",
        json={"company_id": company["id"], "category": "energie", "title": "T", "summary": "S"},
    )
    return entrant, r.json()


async def announce(session: Session, entry_id: str, **body: Any) -> httpx.Response:
    return await session.post(f"/api/v1/entries/{entry_id}/attachments", json=body)


async def test_store_refuses_a_body_larger_than_declared(
    draft: tuple[Session, dict[str, Any]],
) -> None:
    entrant, entry = draft
    r = await announce(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", size_bytes=1000
    )
    created = r.json()
    async with httpx.AsyncClient() as store:
        refused = await store.put(
            created["upload"]["url"],
            content=b"%PDF-" + b"x" * 2000,
            headers={"Content-Type": "application/pdf"},
        )
    assert refused.status_code == 403
    r = await entrant.post(f"/api/v1/attachments/{created['id']}/complete")
    assert (r.status_code, r.json()["error"]) == (409, "upload_missing")


async def test_store_refuses_another_content_type(draft: tuple[Session, dict[str, Any]]) -> None:
    entrant, entry = draft
    data = b"%PDF-1.4 tiny"
    created = (
        await announce(
            entrant,
            entry["id"],
            filename="a.pdf",
            content_type="application/pdf",
            size_bytes=len(data),
        )
    ).json()
    async with httpx.AsyncClient() as store:
        refused = await store.put(
            created["upload"]["url"], content=data, headers={"Content-Type": "text/html"}
        )
    assert refused.status_code == 403
    r = await entrant.get(f"/api/v1/attachments/{created['id']}")
    assert r.json()["status"] == "pending"


async def test_pdf_whose_bytes_are_html_ends_rejected(
    draft: tuple[Session, dict[str, Any]],
) -> None:
    entrant, entry = draft
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    created = await upload(
        entrant, entry["id"], filename="rechnung.pdf", content_type="application/pdf", data=html
    )
    decided = await wait_status(entrant, created["id"])
    assert decided["status"] == "rejected"
    assert decided["reject_reason"] == "Der Inhalt ist kein PDF (erkannt: HTML)."
    # A rejected file cannot be submitted as part of the entry: it does not block either.
    r = await entrant.post(f"/api/v1/entries/{entry['id']}/submit")
    assert r.status_code == 200


async def test_odt_is_verified(draft: tuple[Session, dict[str, Any]]) -> None:
    entrant, entry = draft
    created = await upload(
        entrant, entry["id"], filename="bericht.odt", content_type=ODT_TYPE, data=odt_bytes()
    )
    decided = await wait_status(entrant, created["id"])
    assert (decided["status"], decided["detected_type"]) == ("verified", ODT_TYPE)


async def test_damaged_odt_is_rejected_on_the_first_attempt(
    draft: tuple[Session, dict[str, Any]], pool: asyncpg.Pool
) -> None:
    # zlib refuses the mimetype entry: a verdict on the bytes, not a failure worth retrying.
    entrant, entry = draft
    data = with_damaged_member(odt_bytes(mimetype_compression=zipfile.ZIP_DEFLATED), "mimetype")
    created = await upload(
        entrant, entry["id"], filename="bericht.odt", content_type=ODT_TYPE, data=data
    )
    decided = await wait_status(entrant, created["id"])
    assert (decided["status"], decided["reject_reason"]) == (
        "rejected",
        "Der Inhalt ist kein OpenDocument-Text (erkannt: beschädigtes ZIP-Archiv).",
    )
    async with pool.acquire() as conn:
        attempts = await conn.fetchval(
            "SELECT attempts FROM event WHERE kind = 'attachment.uploaded' AND aggregate_id = $1",
            uuid.UUID(created["id"]),
        )
    assert attempts == 0


async def test_disallowed_type_and_size_are_422(draft: tuple[Session, dict[str, Any]]) -> None:
    entrant, entry = draft
    r = await announce(
        entrant,
        entry["id"],
        filename="x.exe",
        content_type="application/x-msdownload",
        size_bytes=10,
    )
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["fields"]] == ["content_type"]
    r = await announce(
        entrant,
        entry["id"],
        filename="big.mp4",
        content_type="video/mp4",
        size_bytes=4 * 1024**2 + 1,
    )
    assert r.status_code == 422
    assert r.json()["fields"] == [{"field": "size_bytes", "message": "Höchstens 4,0 MB je Datei."}]


async def test_api_never_carries_file_bytes(
    draft: tuple[Session, dict[str, Any]], settings: Settings
) -> None:
    entrant, entry = draft
    # Three times the API's own body limit: only possible because the bytes bypass the API.
    big = b"%PDF-1.7\n" + b"0" * (3 * settings.max_body_bytes)
    created = await upload(
        entrant, entry["id"], filename="Bericht.pdf", content_type="application/pdf", data=big
    )
    assert urlsplit(created["upload"]["url"]).netloc == urlsplit(settings.s3_endpoint).netloc
    assert (await wait_status(entrant, created["id"]))["status"] == "verified"

    r = await entrant.get(f"/api/v1/attachments/{created['id']}/download")
    link = r.json()
    assert urlsplit(link["url"]).netloc == urlsplit(settings.s3_endpoint).netloc
    async with httpx.AsyncClient() as store:
        got = await store.get(link["url"])
    assert got.status_code == 200
    assert got.content == big
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''Bericht.pdf"


async def test_deleted_and_abandoned_uploads_are_removed_from_the_store(
    draft: tuple[Session, dict[str, Any]], pool: asyncpg.Pool, services: Services
) -> None:
    entrant, entry = draft
    kept = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    gone = await upload(
        entrant, entry["id"], filename="b.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    abandoned = (
        await announce(
            entrant, entry["id"], filename="c.pdf", content_type="application/pdf", size_bytes=5
        )
    ).json()
    async with httpx.AsyncClient() as store:
        await store.put(
            abandoned["upload"]["url"],
            content=b"%PDF-",
            headers=abandoned["upload"]["headers"],
        )
    assert (await wait_status(entrant, kept["id"]))["status"] == "verified"
    assert (await wait_status(entrant, gone["id"]))["status"] == "verified"
    assert (await entrant.delete(f"/api/v1/attachments/{gone['id']}")).status_code == 204
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE attachment SET upload_expires_at = now() - interval '1 hour' WHERE id = $1",
            abandoned["id"],
        )

    async def removed() -> int:
        async with pool.acquire() as conn:
            n: int = await conn.fetchval(
                "SELECT count(*) FROM attachment WHERE object_removed_at IS NOT NULL"
            )
        return n

    async def one_removed() -> bool:
        return await removed() == 1

    async def two_removed() -> bool:
        return await removed() == 2

    # The worker's periodic clean-up removes the abandoned upload. The deleted file's upload URL
    # is still valid: removing its objects now would let that URL write them again, unseen.
    await poll(one_removed, timeout=10)
    async with pool.acquire() as conn:
        rows = {
            str(r["id"]): r
            for r in await conn.fetch("SELECT id, object_key, stored_key, status FROM attachment")
        }
    assert sorted(r["status"] for r in rows.values()) == ["deleted", "expired", "verified"]
    assert await services.storage.head(key=rows[abandoned["id"]]["object_key"]) is None
    assert await services.storage.head(key=rows[gone["id"]]["stored_key"]) == PDF_OBJECT

    # Once the URLs have expired, the deleted file's objects go and the verified one keeps only
    # its copy, the bytes that were hashed.
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE attachment SET upload_expires_at = now() - interval '1 hour' WHERE id <> $1",
            abandoned["id"],
        )
    await poll(two_removed, timeout=10)
    for key in ("object_key", "stored_key"):
        assert await services.storage.head(key=rows[gone["id"]][key]) is None
    assert await services.storage.head(key=rows[kept["id"]]["object_key"]) is None
    assert await services.storage.head(key=rows[kept["id"]]["stored_key"]) == PDF_OBJECT
    assert (await entrant.get(f"/api/v1/attachments/{gone['id']}")).status_code == 404
