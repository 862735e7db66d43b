"""A zip bomb uploaded as OpenDocument text, verified by the real worker process: rejected for
good with a reason the entrant can read, and the worker's memory does not notice it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from competition.attachments.sniff import ODT
from competition.config import Settings, to_environ
from tests.helpers import (
    Session,
    account,
    company_body,
    login,
    odt_bytes,
    open_competition,
    upload,
)
from tests.helpers import wait_status as wait_decided

MIB = 1024**2
BOMB_UNPACKED = 300 * MIB


def write_bomb(path: Path) -> bytes:
    """An ODT at `path` whose `mimetype` entry is BOMB_UNPACKED zero bytes, deflated (~1/1000),
    written in 1 MiB steps so the test never holds them all."""
    entry = zipfile.ZipInfo("mimetype")
    entry.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo of its own is stored by default
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(entry, "w") as member:
            chunk = bytes(MIB)
            for _ in range(BOMB_UNPACKED // MIB):
                member.write(chunk)
        archive.writestr("content.xml", b"<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", b"<manifest:manifest/>")
    return path.read_bytes()


def high_water_kib(pid: int) -> int:
    """Peak resident memory of a process (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def reset_high_water(pid: int) -> None:
    """Set the peak to the current resident size (Linux, `5` in clear_refs), so the peak read
    afterwards is what happened since, not a start-up spike that might hide it."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture
def worker_process(settings: Settings, tmp_path: Path) -> Iterator[int]:
    """The worker as production runs it (`competition worker`), a process of its own whose memory
    can be measured."""
    env = {**os.environ, **to_environ(settings)}
    with (tmp_path / "worker.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "competition.cli", "worker"], env=env, stdout=log, stderr=log
        )
    try:
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@pytest.fixture
async def draft(
    client: httpx.AsyncClient, new_client: Callable[[], httpx.AsyncClient], pool: asyncpg.Pool
) -> tuple[Session, dict[str, Any]]:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    await account(pool, "erik@firma-a.example", "Erik")
    organiser = await login(new_client(), "orga@wettbewerb.test")
    competition = await open_competition(organiser, max_file_bytes=4 * MIB)
    entrant = await login(client, "erik@firma-a.example")
    company = (await entrant.post("/api/v1/companies", json=company_body())).json()
    r = await entrant.post(
        f"/api/v1/competitions/{competition['id']}/entries",
        json={"company_id": company["id"], "category": "energie", "title": "T", "summary": "S"},
    )
    return entrant, r.json()


async def test_odt_whose_mimetype_unpacks_to_300_mib_is_rejected_for_good(
    draft: tuple[Session, dict[str, Any]],
    worker_process: int,
    pool: asyncpg.Pool,
    tmp_path: Path,
) -> None:
    entrant, entry = draft
    bomb = write_bomb(tmp_path / "bomb.odt")
    assert len(bomb) < MIB  # the store and the API accept it: it is a small file

    # A real document first: the worker has started, and has verified an ODT once.
    created = await upload(
        entrant, entry["id"], filename="bericht.odt", content_type=ODT, data=odt_bytes()
    )
    assert (await wait_decided(entrant, created["id"], timeout=60))["status"] == "verified"

    reset_high_water(worker_process)
    before = high_water_kib(worker_process)
    created = await upload(entrant, entry["id"], filename="bombe.odt", content_type=ODT, data=bomb)
    decided = await wait_decided(entrant, created["id"], timeout=60)
    grown = high_water_kib(worker_process) - before
    print(
        f"\nworker peak memory: {before / 1024:.1f} MiB before the bomb, "
        f"+{grown / 1024:.1f} MiB while verifying it ({len(bomb) / 1024:.0f} KiB upload, "
        f"{BOMB_UNPACKED // MIB} MiB unpacked)"
    )

    assert grown < 64 * 1024, f"worker peak memory grew by {grown / 1024:.1f} MiB"
    assert (decided["status"], decided["reject_reason"], decided["detected_type"]) == (
        "rejected",
        "Das ZIP-Archiv enthält einen Teil, der sich auf 300,0 MB entpacken würde, mehr als das "
        "200-Fache seiner gepackten Größe (ZIP-Bombe).",
        None,
    )
    # Final on the first attempt: the event is processed, nothing failed, nothing is retried.
    async with pool.acquire() as conn:
        event = await conn.fetchrow(
            """SELECT attempts, last_error, processed_at IS NOT NULL AS processed,
                      failed_at IS NULL AS not_failed
               FROM event WHERE kind = 'attachment.uploaded' AND aggregate_id = $1""",
            uuid.UUID(created["id"]),
        )
    assert event is not None
    assert dict(event) == {
        "attempts": 0,
        "last_error": None,
        "processed": True,
        "not_failed": True,
    }
