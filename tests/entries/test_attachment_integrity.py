"""Verified bytes are immutable, and every file an entry puts into the store counts until it is
removed. Against the real object store; the verification job and the clean-up are run step by
step (the real job entry point and duty, no worker racing the test), so each test decides when
the store sees a PUT and when the job copies."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from arq import Retry

from competition.attachments import service as attachments
from competition.config import Settings
from competition.db import migrate, migration_files, transaction
from competition.localization import format_datetime
from competition.services import Services
from competition.storage.s3 import Storage
from infra.local import free_port
from tests.conftest import ADMIN_DSN, TEST_DB, recreate_database
from tests.helpers import (
    PDF_BYTES,
    PDF_OBJECT,
    Session,
    account,
    company_body,
    login,
    open_competition,
    upload,
)
from tests.jury.scoring.test_access import jury_with_one_assignment
from workers import jobs

HTML = b"<!DOCTYPE html><html><body>" + b"x" * 900 + b"</body></html>"
# The same size as PDF_BYTES and a PDF too: the store accepts it on the same presigned URL.
OTHER_PDF = PDF_BYTES.replace(b"Catalog", b"Catalug")


@pytest.fixture
async def setup(
    client: httpx.AsyncClient, new_client: Callable[[], httpx.AsyncClient], pool: asyncpg.Pool
) -> Callable[..., Any]:
    async def make(**competition: Any) -> tuple[Session, dict[str, Any]]:
        await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
        await account(pool, "erik@firma-a.example", "Erik")
        organiser = await login(new_client(), "orga@wettbewerb.test")
        opened = await open_competition(organiser, **competition)
        entrant = await login(client, "erik@firma-a.example")
        company = (await entrant.post("/api/v1/companies", json=company_body())).json()
        r = await entrant.post(
            f"/api/v1/competitions/{opened['id']}/entries",
            json={"company_id": company["id"], "category": "energie", "title": "T", "summary": "S"},
        )
        return entrant, r.json()

    return make


async def verify(services: Services, attachment_id: str) -> str:
    """Run the verification job of the attachment's `attachment.uploaded` event."""
    async with services.pool.acquire() as conn:
        event_id = await conn.fetchval(
            "SELECT id FROM event WHERE kind = 'attachment.uploaded' AND aggregate_id = $1",
            uuid.UUID(attachment_id),
        )
    return await jobs.handle_event({"services": services}, str(event_id))


async def clean_up(services: Services) -> int:
    async with transaction(services.pool) as conn:
        return await attachments.clean_up(conn, services.storage)


async def put_again(created: dict[str, Any], data: bytes) -> int:
    """Replay the presigned PUT an attachment was announced with."""
    async with httpx.AsyncClient() as store:
        r = await store.put(
            created["upload"]["url"], content=data, headers=created["upload"]["headers"]
        )
    return r.status_code


async def downloaded(session: Session, attachment_id: str) -> bytes:
    r = await session.get(f"/api/v1/attachments/{attachment_id}/download")
    assert r.status_code == 200, r.text
    async with httpx.AsyncClient() as store:
        got = await store.get(r.json()["url"])
    assert got.status_code == 200
    return got.content


async def expire_upload_urls(pool: asyncpg.Pool) -> None:
    """Move the recorded expiry of every upload URL an hour back, as the clock would. (That the
    store refuses an expired URL is shown by `test_upload_urls_expire_at_the_deadline`.)"""
    async with pool.acquire() as conn:
        await conn.execute("UPDATE attachment SET upload_expires_at = now() - interval '1 hour'")


async def row(pool: asyncpg.Pool, attachment_id: str) -> asyncpg.Record:
    async with pool.acquire() as conn:
        found = await conn.fetchrow(
            "SELECT * FROM attachment WHERE id = $1", uuid.UUID(attachment_id)
        )
    assert found is not None
    return found


# Verified bytes are immutable.


async def test_bytes_put_again_after_verification_are_never_served(
    setup: Callable[..., Any], services: Services, pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup()
    created = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    assert await verify(services, created["id"]) == "processed"
    verified = (await entrant.get(f"/api/v1/attachments/{created['id']}")).json()
    assert verified["status"] == "verified"
    assert verified["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()

    # The URL is still valid: the store takes the other bytes, but nobody is ever served them.
    assert await put_again(created, OTHER_PDF) == 200
    served = await downloaded(entrant, created["id"])
    assert hashlib.sha256(served).hexdigest() == verified["sha256"]
    assert served == PDF_BYTES
    stored = await row(pool, created["id"])
    assert stored["stored_key"] == f"files/{entry['id']}/{created['id']}"
    assert stored["stored_key"] != stored["object_key"]


@pytest.mark.usefixtures("worker")
async def test_juror_downloads_the_verified_bytes_after_the_upload_key_was_overwritten(
    client: httpx.AsyncClient,
    new_client: Callable[[], httpx.AsyncClient],
    pool: asyncpg.Pool,
    smtp_server: Any,
    services: Services,
) -> None:
    jury = await jury_with_one_assignment(
        client,
        new_client,
        pool,
        smtp_server,
        blind=True,
        company=company_body("Verborgene Feinmechanik GmbH"),
        owner_email="chefin@verborgen.example",
    )
    async with pool.acquire() as conn:
        stored = await conn.fetchrow("SELECT object_key, sha256 FROM attachment")
    assert stored is not None
    assert stored["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    # What a replayed presigned PUT does, weeks after the deadline: other bytes under its key.
    s3 = services.storage
    assert isinstance(s3, Storage)
    await asyncio.to_thread(
        s3.client.put_object,
        Bucket=s3.bucket,
        Key=stored["object_key"],
        Body=OTHER_PDF,
        ContentType="application/pdf",
    )
    r = await jury.juror.get(f"/api/v1/attachments/{jury.attachment_id}/download")
    assert r.status_code == 200, r.text
    async with httpx.AsyncClient() as store:
        got = await store.get(r.json()["url"])
    assert hashlib.sha256(got.content).hexdigest() == stored["sha256"]
    organiser_view = (await jury.organiser.get(f"/api/v1/attachments/{jury.attachment_id}")).json()
    assert organiser_view["sha256"] == stored["sha256"]


async def test_headers_the_uploader_adds_to_the_put_are_not_served(
    setup: Callable[..., Any], services: Services
) -> None:
    # Only type and length are signed into the URL; the store keeps any other standard header
    # the uploader sends and would hand it to every reader (a blind juror included).
    entrant, entry = await setup()
    r = await entrant.post(
        f"/api/v1/entries/{entry['id']}/attachments",
        json={"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(PDF_BYTES)},
    )
    created = r.json()
    added = {
        "Content-Language": "Verborgene-Feinmechanik",
        "Cache-Control": "Verborgene-Feinmechanik",
        "Content-Disposition": "inline; filename=Verborgene-Feinmechanik.pdf",
    }
    async with httpx.AsyncClient() as store:
        stored = await store.put(
            created["upload"]["url"],
            content=PDF_BYTES,
            headers={**created["upload"]["headers"], **added},
        )
    assert stored.status_code == 200, stored.text
    assert (await entrant.post(f"/api/v1/attachments/{created['id']}/complete")).status_code == 200
    assert await verify(services, created["id"]) == "processed"
    r = await entrant.get(f"/api/v1/attachments/{created['id']}/download")
    async with httpx.AsyncClient() as store:
        got = await store.get(r.json()["url"])
    assert got.content == PDF_BYTES
    assert [h for h in got.headers if "verborgene" in got.headers[h].lower()] == []
    assert (got.headers["content-type"], got.headers["content-disposition"]) == (
        "application/pdf",
        "attachment; filename*=UTF-8''a.pdf",
    )


async def test_bytes_put_again_before_the_job_copies_them_are_rejected(
    setup: Callable[..., Any], services: Services
) -> None:
    entrant, entry = await setup()
    created = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    # Completed with PDF_BYTES; then other bytes of the same size and type, before the job runs.
    assert await put_again(created, OTHER_PDF) == 200
    assert await verify(services, created["id"]) == "processed"
    decided = (await entrant.get(f"/api/v1/attachments/{created['id']}")).json()
    assert (decided["status"], decided["sha256"], decided["reject_reason"]) == (
        "rejected",
        None,
        "Die Datei wurde nach dem Abschließen des Hochladens noch einmal hochgeladen. "
        "Bitte laden Sie sie neu hoch.",
    )


async def test_verification_waits_for_an_unreachable_store_and_loses_nothing(
    setup: Callable[..., Any], services: Services, settings: Settings, pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup()
    created = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    # The copy is the job's first call to the store; nothing listens on this port.
    down = Storage(msgspec.structs.replace(settings, s3_endpoint=f"http://127.0.0.1:{free_port()}"))
    outage = Services(settings=settings, pool=services.pool, redis=services.redis, storage=down)
    with pytest.raises(Retry):
        await verify(outage, created["id"])
    stored = await row(pool, created["id"])
    assert (stored["status"], stored["copied_at"], stored["sha256"]) == ("uploaded", None, None)
    async with pool.acquire() as conn:
        attempts = await conn.fetchval(
            "SELECT attempts FROM event WHERE aggregate_id = $1", uuid.UUID(created["id"])
        )
    assert attempts == 1
    assert await services.storage.head(key=stored["stored_key"]) is None

    assert await verify(services, created["id"]) == "processed"
    decided = (await entrant.get(f"/api/v1/attachments/{created['id']}")).json()
    assert (decided["status"], decided["sha256"]) == (
        "verified",
        hashlib.sha256(PDF_BYTES).hexdigest(),
    )
    assert await downloaded(entrant, created["id"]) == PDF_BYTES


async def test_upload_urls_expire_at_the_deadline(
    setup: Callable[..., Any], pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup()
    async with pool.acquire() as conn:
        deadline: datetime = await conn.fetchval(
            """UPDATE competition SET submission_closes_at = clock_timestamp() + interval '3 s'
               RETURNING submission_closes_at"""
        )
    r = await entrant.post(
        f"/api/v1/entries/{entry['id']}/attachments",
        json={"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": 5},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert datetime.fromisoformat(created["expires_at"]) == deadline
    assert (await row(pool, created["id"]))["upload_expires_at"] == deadline
    assert await put_again(created, b"%PDF-") == 200  # until the deadline, the URL works

    await asyncio.sleep(max((deadline - await _db_now(pool)).total_seconds(), 0) + 1.5)
    assert await _db_now(pool) > deadline + timedelta(seconds=1)
    # The store itself refuses the URL now: nothing written after the deadline can join the entry.
    assert await put_again(created, b"%PDF-") == 403


async def _db_now(pool: asyncpg.Pool) -> datetime:
    async with pool.acquire() as conn:
        now: datetime = await conn.fetchval("SELECT clock_timestamp()")
    return now


async def test_upload_objects_are_removed_once_their_urls_expired_and_the_copy_stays(
    setup: Callable[..., Any], services: Services, pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup()
    created = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    assert await verify(services, created["id"]) == "processed"
    # While its URL is valid, the upload object stays: removed, the URL could write it again.
    assert await clean_up(services) == 0
    stored = await row(pool, created["id"])
    assert await services.storage.head(key=stored["object_key"]) == PDF_OBJECT

    await expire_upload_urls(pool)
    assert await clean_up(services) == 1
    assert await clean_up(services) == 0  # done once, recorded
    stored = await row(pool, created["id"])
    assert stored["upload_removed_at"] is not None
    assert stored["object_removed_at"] is None
    assert await services.storage.head(key=stored["object_key"]) is None
    assert await downloaded(entrant, created["id"]) == PDF_BYTES


async def test_migration_gives_existing_attachments_a_key_of_their_own(tmp_path: Path) -> None:
    for path in migration_files():
        if path.name < "0008":
            shutil.copy(path, tmp_path / path.name)
    dsn = await recreate_database(f"{TEST_DB}_0008")
    await migrate(dsn, directory=tmp_path)
    entry_id = uuid.uuid4()
    ids = [uuid.uuid4(), uuid.uuid4()]
    gone = datetime.now(UTC) - timedelta(hours=1)
    conn = await asyncpg.connect(dsn)
    try:
        # A scratch database: the rows need no entry behind them.
        await conn.execute("ALTER TABLE attachment DROP CONSTRAINT attachment_entry_id_fkey")
        await conn.executemany(
            """INSERT INTO attachment (id, entry_id, object_key, filename, declared_type,
                   size_bytes, status, upload_expires_at, object_removed_at)
               VALUES ($1, $2, $3, $4, 'application/pdf', 5, $5, now() - interval '1 day', $6)""",
            [
                (ids[0], entry_id, f"attachments/{entry_id}/{ids[0]}", "a.pdf", "verified", None),
                (ids[1], entry_id, f"attachments/{entry_id}/{ids[1]}", "b.pdf", "deleted", gone),
            ],
        )
        assert await migrate(dsn) == [
            path.name for path in migration_files() if path.name >= "0008"
        ]
        rows = await conn.fetch(
            """SELECT id, stored_key, copied_at, upload_removed_at = object_removed_at AS swept
               FROM attachment ORDER BY filename"""
        )
    finally:
        await conn.close()
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}_0008" WITH (FORCE)')
        await admin.close()
    assert [tuple(r) for r in rows] == [
        (ids[0], f"files/{entry_id}/{ids[0]}", None, None),
        (ids[1], f"files/{entry_id}/{ids[1]}", None, True),
    ]


async def test_attachments_verified_before_copies_existed_are_copied_or_rejected(
    setup: Callable[..., Any], services: Services, pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup()
    intact, replaced = [
        await upload(
            entrant, entry["id"], filename=name, content_type="application/pdf", data=PDF_BYTES
        )
        for name in ("a.pdf", "b.pdf")
    ]
    for created in (intact, replaced):
        assert await verify(services, created["id"]) == "processed"
    # As rows verified before verified bytes were copied: served from the upload key, which the
    # old code let a replayed PUT overwrite.
    async with pool.acquire() as conn:
        await conn.execute("UPDATE attachment SET copied_at = NULL")
        keys = await conn.fetch("SELECT stored_key FROM attachment")
    for record in keys:
        await services.storage.delete(key=record["stored_key"])
    assert await put_again(replaced, OTHER_PDF) == 200
    assert await downloaded(entrant, intact["id"]) == PDF_BYTES  # the fallback until copied

    async with transaction(pool) as conn:
        assert await attachments.copy_verified_before_copies(conn, services.storage) == 2
    async with transaction(pool) as conn:
        assert await attachments.copy_verified_before_copies(conn, services.storage) == 0

    assert (await row(pool, intact["id"]))["copied_at"] is not None
    assert await put_again(intact, OTHER_PDF) == 200
    assert await downloaded(entrant, intact["id"]) == PDF_BYTES
    decided = (await entrant.get(f"/api/v1/attachments/{replaced['id']}")).json()
    assert (decided["status"], decided["reject_reason"]) == (
        "rejected",
        "Die Datei wurde nach ihrer Prüfung verändert. Bitte laden Sie sie neu hoch.",
    )
    async with pool.acquire() as conn:
        audited = await conn.fetch(
            "SELECT subject_id, data FROM audit_log "
            "WHERE action = 'attachment.changed_after_verification'"
        )
    assert [(r["subject_id"], r["data"]) for r in audited] == [
        (
            replaced["id"],
            {
                "verified_sha256": hashlib.sha256(PDF_BYTES).hexdigest(),
                "found_sha256": hashlib.sha256(OTHER_PDF).hexdigest(),
            },
        )
    ]


# Rejected and deleted uploads count until they are removed.


async def test_rejected_files_count_against_the_quota_until_removed(
    setup: Callable[..., Any], services: Services, pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup(max_attachments=2)
    rejected = []
    for name in ("a.pdf", "b.pdf"):
        created = await upload(
            entrant, entry["id"], filename=name, content_type="application/pdf", data=HTML
        )
        assert await verify(services, created["id"]) == "processed"
        rejected.append(created)
    async with pool.acquire() as conn:
        first: datetime = await conn.fetchval(
            "SELECT min(upload_expires_at) + interval '60 s' FROM attachment"
        )
    body = {"filename": "c.pdf", "content_type": "application/pdf", "size_bytes": len(PDF_BYTES)}
    r = await entrant.post(f"/api/v1/entries/{entry['id']}/attachments", json=body)
    assert r.status_code == 422
    assert r.json()["fields"] == [
        {
            "field": "entry",
            "message": "Höchstens 2 Anhänge je Beitrag. Darin zählen 2 abgelehnte oder gelöschte "
            "Dateien (2 KB) mit, bis sie aus dem Speicher entfernt sind (die erste ab "
            f"{format_datetime(first, 'de')}).",
        }
    ]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM attachment") == 2

    # The clean-up leaves them while their URLs are valid, then removes every object of theirs.
    assert await clean_up(services) == 0
    await expire_upload_urls(pool)
    assert await clean_up(services) == 2
    assert await clean_up(services) == 0
    for created in rejected:
        stored = await row(pool, created["id"])
        assert (stored["status"], stored["object_removed_at"] is not None) == ("rejected", True)
        assert await services.storage.head(key=stored["object_key"]) is None
        assert await services.storage.head(key=stored["stored_key"]) is None
        # Still listed with the reason, no longer to be opened.
        r = await entrant.get(f"/api/v1/attachments/{created['id']}/download")
        assert (r.status_code, r.json()["error"]) == (409, "not_available")
    r = await entrant.post(f"/api/v1/entries/{entry['id']}/attachments", json=body)
    assert r.status_code == 201, r.text


async def test_rejected_bytes_count_against_the_entry_total(
    setup: Callable[..., Any], services: Services
) -> None:
    entrant, entry = await setup(max_file_bytes=1024**2, max_entry_bytes=1024**2)
    big_html = HTML + b" " * (600 * 1024 - len(HTML))
    created = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=big_html
    )
    assert await verify(services, created["id"]) == "processed"
    r = await entrant.post(
        f"/api/v1/entries/{entry['id']}/attachments",
        json={"filename": "b.pdf", "content_type": "application/pdf", "size_bytes": 500 * 1024},
    )
    assert r.status_code == 422
    message = r.json()["fields"][0]["message"]
    assert message.startswith(
        "Alle Anhänge eines Beitrags zusammen höchstens 1,0 MB; frei: 0,4 MB. Darin zählt 1 "
        "abgelehnte oder gelöschte Datei (600 KB) mit, bis sie aus dem Speicher entfernt ist (ab "
    )


async def test_a_deleted_file_counts_until_its_url_can_no_longer_write_it(
    setup: Callable[..., Any], services: Services, pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup(max_attachments=1)
    created = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    assert await verify(services, created["id"]) == "processed"
    assert (await entrant.delete(f"/api/v1/attachments/{created['id']}")).status_code == 204
    assert await clean_up(services) == 0
    # The URL writes the upload key again; that object counts like the file did.
    assert await put_again(created, PDF_BYTES) == 200
    body = {"filename": "b.pdf", "content_type": "application/pdf", "size_bytes": 5}
    r = await entrant.post(f"/api/v1/entries/{entry['id']}/attachments", json=body)
    assert r.status_code == 422
    assert r.json()["fields"][0]["message"].startswith(
        "Höchstens 1 Anhänge je Beitrag. Darin zählt 1 abgelehnte oder gelöschte Datei (71 KB)"
    )

    await expire_upload_urls(pool)
    assert await clean_up(services) == 1
    stored = await row(pool, created["id"])
    assert await services.storage.head(key=stored["object_key"]) is None
    assert await services.storage.head(key=stored["stored_key"]) is None
    r = await entrant.post(f"/api/v1/entries/{entry['id']}/attachments", json=body)
    assert r.status_code == 201, r.text


async def test_entry_page_shows_that_rejected_files_count(
    setup: Callable[..., Any], services: Services, pool: asyncpg.Pool
) -> None:
    entrant, entry = await setup(max_attachments=3)
    created = await upload(
        entrant, entry["id"], filename="a.pdf", content_type="application/pdf", data=HTML
    )
    assert await verify(services, created["id"]) == "processed"
    async with pool.acquire() as conn:
        first: datetime = await conn.fetchval(
            "SELECT upload_expires_at + interval '60 s' FROM attachment"
        )
    page = (await entrant.get(f"/entries/{entry['id']}")).text
    assert "Zählt zum Kontingent, bis die Datei aus dem Speicher entfernt ist." in page
    assert (
        "1 abgelehnte oder gelöschte Datei (1 KB) zählt zum Kontingent dieses Beitrags, bis sie "
        f"aus dem Speicher entfernt ist (ab {format_datetime(first, 'de')})."
    ) in page
    assert f'href="/anhaenge/{created["id"]}"' in page

    await expire_upload_urls(pool)
    assert await clean_up(services) == 1
    page = (await entrant.get(f"/entries/{entry['id']}")).text
    assert "Aus dem Speicher entfernt." in page
    assert "zählt zum Kontingent" not in page
    assert f'href="/anhaenge/{created["id"]}"' not in page
