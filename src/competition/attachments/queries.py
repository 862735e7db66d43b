"""SQL of attachments."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.db import one_row
from competition.structs import Row
from competition.vocabulary import AttachmentStatus


class AttachmentRow(Row, frozen=True):
    id: uuid.UUID
    entry_id: uuid.UUID
    object_key: str
    filename: str
    declared_type: str
    size_bytes: int
    declared_sha256: str | None
    status: AttachmentStatus
    sha256: str | None
    sniffed_type: str | None
    reject_reason: str | None
    upload_expires_at: datetime
    created_at: datetime
    completed_at: datetime | None
    verified_at: datetime | None
    stored_key: str
    upload_etag: str | None
    copied_at: datetime | None
    object_removed_at: datetime | None

    @property
    def served_key(self) -> str:
        """The key downloads read: the copy once made; before that (uploads being checked, rows
        verified before copies existed) the upload key."""
        return self.stored_key if self.copied_at is not None else self.object_key


class Usage(Row, frozen=True):
    """What an entry's attachments occupy. `held_*`: rejected, deleted or expired attachments
    whose objects are not removed yet; they count until `released_at` (the first of them)."""

    count: int
    bytes: int
    held_count: int
    held_bytes: int
    released_at: datetime | None


_COLUMNS = (
    "id, entry_id, object_key, filename, declared_type, size_bytes, declared_sha256, status, "
    "sha256, sniffed_type, reject_reason, upload_expires_at, created_at, completed_at, "
    "verified_at, stored_key, upload_etag, copied_at, object_removed_at"
)
_HELD = "status IN ('rejected', 'deleted', 'expired')"


def _row(record: asyncpg.Record | None) -> AttachmentRow | None:
    return AttachmentRow(**dict(record)) if record else None


async def insert_attachment(
    conn: asyncpg.Connection,
    *,
    attachment_id: uuid.UUID,
    entry_id: uuid.UUID,
    object_key: str,
    stored_key: str,
    filename: str,
    declared_type: str,
    size_bytes: int,
    declared_sha256: str | None,
    upload_expires_at: datetime,
    created_by: uuid.UUID,
) -> AttachmentRow:
    record = await one_row(
        conn,
        f"""INSERT INTO attachment (id, entry_id, object_key, stored_key, filename, declared_type,
                                    size_bytes, declared_sha256, upload_expires_at, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {_COLUMNS}""",
        attachment_id,
        entry_id,
        object_key,
        stored_key,
        filename,
        declared_type,
        size_bytes,
        declared_sha256,
        upload_expires_at,
        created_by,
    )
    return AttachmentRow(**dict(record))


async def get_attachment(
    conn: asyncpg.Connection, *, attachment_id: uuid.UUID, for_update: bool = False
) -> AttachmentRow | None:
    lock = " FOR UPDATE" if for_update else ""
    return _row(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM attachment WHERE id = $1{lock}", attachment_id)
    )


async def list_for_entry(conn: asyncpg.Connection, *, entry_id: uuid.UUID) -> list[AttachmentRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM attachment WHERE entry_id = $1 ORDER BY created_at", entry_id
    )
    return [AttachmentRow(**dict(r)) for r in rows]


async def usage(
    conn: asyncpg.Connection, *, entry_id: uuid.UUID, removal_grace_seconds: int
) -> Usage:
    """Every attachment counts until its objects are removed from the store: a rejected or deleted
    file occupies space (and its upload URL can still write it) until the clean-up removes it."""
    record = await one_row(
        conn,
        f"""SELECT count(*) AS count, coalesce(sum(size_bytes), 0)::bigint AS bytes,
                   count(*) FILTER (WHERE {_HELD}) AS held_count,
                   coalesce(sum(size_bytes) FILTER (WHERE {_HELD}), 0)::bigint AS held_bytes,
                   min(upload_expires_at) FILTER (WHERE {_HELD})
                       + make_interval(secs => $2) AS released_at
            FROM attachment WHERE entry_id = $1 AND object_removed_at IS NULL""",
        entry_id,
        float(removal_grace_seconds),
    )
    return Usage(**dict(record))


async def mark_uploaded(conn: asyncpg.Connection, *, attachment_id: uuid.UUID, etag: str) -> None:
    await conn.execute(
        """UPDATE attachment SET status = 'uploaded', completed_at = now(), upload_etag = $2
           WHERE id = $1""",
        attachment_id,
        etag,
    )


async def mark_verified(
    conn: asyncpg.Connection, *, attachment_id: uuid.UUID, sha256: str, sniffed_type: str
) -> bool:
    """Verified: the bytes at `stored_key`, copied just before, hash to `sha256`."""
    result: str = await conn.execute(
        """UPDATE attachment SET status = 'verified', sha256 = $2, sniffed_type = $3,
                  verified_at = now(), copied_at = now()
           WHERE id = $1 AND status = 'uploaded'""",
        attachment_id,
        sha256,
        sniffed_type,
    )
    return result.endswith(" 1")


async def mark_rejected(
    conn: asyncpg.Connection,
    *,
    attachment_id: uuid.UUID,
    reason: str,
    sha256: str | None = None,
    sniffed_type: str | None = None,
    copied: bool = False,
) -> bool:
    result: str = await conn.execute(
        """UPDATE attachment SET status = 'rejected', reject_reason = $2, sha256 = $3,
                  sniffed_type = $4, verified_at = now(),
                  copied_at = CASE WHEN $5 THEN now() END
           WHERE id = $1 AND status IN ('pending', 'uploaded')""",
        attachment_id,
        reason,
        sha256,
        sniffed_type,
        copied,
    )
    return result.endswith(" 1")


async def claim_not_copied(conn: asyncpg.Connection, *, limit: int) -> list[AttachmentRow]:
    """Attachments verified before verified bytes were copied to a key of their own."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM attachment
            WHERE status = 'verified' AND copied_at IS NULL
            ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [AttachmentRow(**dict(r)) for r in rows]


async def mark_copied(conn: asyncpg.Connection, *, attachment_id: uuid.UUID) -> bool:
    result: str = await conn.execute(
        """UPDATE attachment SET copied_at = now()
           WHERE id = $1 AND status = 'verified' AND copied_at IS NULL""",
        attachment_id,
    )
    return result.endswith(" 1")


async def reject_verified(
    conn: asyncpg.Connection, *, attachment_id: uuid.UUID, reason: str, copied: bool
) -> bool:
    """A verified attachment whose bytes no longer hash to what was verified."""
    result: str = await conn.execute(
        """UPDATE attachment SET status = 'rejected', reject_reason = $2,
                  copied_at = CASE WHEN $3 THEN now() END
           WHERE id = $1 AND status = 'verified' AND copied_at IS NULL""",
        attachment_id,
        reason,
        copied,
    )
    return result.endswith(" 1")


async def mark_deleted(conn: asyncpg.Connection, *, attachment_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE attachment SET status = 'deleted', deleted_at = now() WHERE id = $1", attachment_id
    )


async def expire_abandoned(conn: asyncpg.Connection, *, grace_seconds: int) -> int:
    result: str = await conn.execute(
        """UPDATE attachment SET status = 'expired'
           WHERE status = 'pending' AND upload_expires_at < now() - make_interval(secs => $1)""",
        float(grace_seconds),
    )
    return int(result.rsplit(maxsplit=1)[-1])


class Removable(Row, frozen=True):
    id: uuid.UUID
    status: str
    object_key: str
    stored_key: str
    upload_removed: bool


async def claim_removable(
    conn: asyncpg.Connection, *, limit: int, grace_seconds: int
) -> list[Removable]:
    """Attachments with objects to remove, once no upload URL can write them again: the upload
    object of verified ones (their copy stays), every object of rejected, deleted and expired
    ones. Verified rows not yet copied keep their upload object: it is what they serve."""
    rows = await conn.fetch(
        f"""SELECT id, status, object_key, stored_key,
                   upload_removed_at IS NOT NULL AS upload_removed
            FROM attachment
            WHERE upload_expires_at < now() - make_interval(secs => $2)
              AND ((status = 'verified' AND upload_removed_at IS NULL AND copied_at IS NOT NULL)
                   OR ({_HELD} AND object_removed_at IS NULL))
            ORDER BY upload_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
        float(grace_seconds),
    )
    return [Removable(**dict(r)) for r in rows]


async def mark_removed(conn: asyncpg.Connection, *, attachment_ids: list[uuid.UUID]) -> None:
    await conn.execute(
        f"""UPDATE attachment SET upload_removed_at = coalesce(upload_removed_at, now()),
                   object_removed_at = CASE WHEN {_HELD} THEN now() END
            WHERE id = ANY($1::uuid[])""",
        attachment_ids,
    )


async def juror_may_read(
    conn: asyncpg.Connection,
    *,
    account_id: uuid.UUID,
    entry_id: uuid.UUID,
    phases: list[str],
    left_statuses: list[str],
) -> bool:
    """Whether the account is a juror assigned to the entry who may open its files now: the
    assignment stands (not voided or recused, no conflict with the entrant company), the juror
    is active and has accepted confidentiality and confirmed the declaration, the entry is not in
    `left_statuses` and the competition is in one of `phases`. Reads the jury's tables; the jury
    applies the same rules to the assignment itself (`jury.service.own_assignment`)."""
    found: bool = await conn.fetchval(
        """SELECT EXISTS (
               SELECT 1 FROM assignment a
               JOIN juror j ON j.id = a.juror_id
               JOIN entry e ON e.id = a.entry_id
               JOIN competition c ON c.id = a.competition_id
               WHERE j.account_id = $1 AND a.entry_id = $2
                 AND a.voided_at IS NULL AND a.recused_at IS NULL
                 AND j.status = 'active'
                 AND j.conflicts_confirmed_at IS NOT NULL
                 AND j.confidentiality_accepted_at IS NOT NULL
                 AND e.status <> ALL($4::text[])
                 AND c.phase = ANY($3::text[])
                 AND NOT EXISTS (SELECT 1 FROM juror_company_conflict x
                                 WHERE x.juror_id = a.juror_id AND x.company_id = e.company_id))""",
        account_id,
        entry_id,
        phases,
        left_statuses,
    )
    return found
