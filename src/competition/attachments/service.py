"""Attachment rules. Bytes never pass through the API: the client PUTs the file straight to the
object store with a presigned URL that signs in the declared size and content type (the store
refuses anything else); `complete` checks the stored object with HEAD; a worker job streams it,
computes SHA-256 and sniffs the real type from its magic bytes before it counts as verified.
Downloads are short-lived presigned GETs with `Content-Disposition: attachment`. Object keys are
ids only, never user-provided names.

Verified bytes are immutable. A presigned PUT can be replayed for as long as it is valid, so the
key it writes (`object_key`) is never what jurors read: the job first copies the upload inside the
store to `stored_key`, which no upload URL is ever signed for, and only while the upload still has
the ETag `complete` saw, and with the declared content type as its only header; then it hashes
and sniffs that copy, so the SHA-256 on record is of the very bytes served. Upload URLs expire at
the submission deadline at the latest, so nothing written to the store after the deadline can
become part of an entry.

Storage is bounded: an attachment counts against the entry's quota until the clean-up has removed
its objects, which it does only once the upload URL has expired (a removed upload key could be
written again with it). Rejected and deleted files therefore count for up to `UPLOAD_SECONDS` +
`REMOVAL_GRACE_SECONDS` after they were announced.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from competition.attachments import queries, schemas, sniff
from competition.attachments.queries import AttachmentRow
from competition.audit import service as audit
from competition.auth import Principal
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.competitions.phases import JURY_PHASES
from competition.entries import queries as entry_queries
from competition.entries import service as entries
from competition.entries.queries import EntryRow
from competition.entries.schemas import LEFT_COMPETITION
from competition.errors import Conflict, Invalid, NotFound, Problem, problem
from competition.events import service as events
from competition.events.queries import EventRow
from competition.localization import berlin
from competition.services import Services
from competition.storage.store import ObjectStore
from competition.text import without_bidi_controls
from competition.vocabulary import AttachmentStatus

UPLOAD_SECONDS = 900
DOWNLOAD_SECONDS = 300
# Removal waits this long after an upload URL's expiry: the store checks expiry by its own clock.
REMOVAL_GRACE_SECONDS = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_filename(name: str) -> str:
    """The last path component, without control characters and bidi controls (which would let
    "x.exe" pass for a PDF in a list), NFC-normalised."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    return _CONTROL.sub("", without_bidi_controls(base)).strip().lstrip(".") or "datei"


# Both limits say why the quota is smaller than the files shown, when rejected and deleted files
# still count: how many, their size, and from when the first one is released.


def _too_many(usage: queries.Usage, limit: int) -> Problem:
    held, size, since = usage.held_count, usage.held_bytes, usage.released_at
    if not held or since is None:
        return problem("entry", "attachment.too_many", max=limit)
    if held == 1:
        return problem("entry", "attachment.too_many_one_held", max=limit, size=size, since=since)
    return problem(
        "entry", "attachment.too_many_held", max=limit, held=held, size=size, since=since
    )


def _over_quota(usage: queries.Usage, limit: int) -> Problem:
    held, size, since = usage.held_count, usage.held_bytes, usage.released_at
    free = max(limit - usage.bytes, 0)
    if not held or since is None:
        return problem("size_bytes", "attachment.quota_exceeded", max=limit, free=free)
    if held == 1:
        return problem(
            "size_bytes",
            "attachment.quota_exceeded_one_held",
            max=limit,
            free=free,
            size=size,
            since=since,
        )
    return problem(
        "size_bytes",
        "attachment.quota_exceeded_held",
        max=limit,
        free=free,
        held=held,
        size=size,
        since=since,
    )


async def usage(conn: asyncpg.Connection, entry_id: uuid.UUID) -> queries.Usage:
    """What the entry's attachments occupy of its quota, rejected and deleted files included."""
    return await queries.usage(conn, entry_id=entry_id, removal_grace_seconds=REMOVAL_GRACE_SECONDS)


async def access(
    conn: asyncpg.Connection, principal: Principal, attachment_id: uuid.UUID
) -> tuple[AttachmentRow, EntryRow, str]:
    """The attachment, its entry and the caller's relation: "member", "organiser", or "juror"
    (assigned, active, declaration confirmed, no conflict; verified files only)."""
    attachment = await queries.get_attachment(conn, attachment_id=attachment_id)
    if attachment is None or attachment.status in ("deleted", "expired"):
        raise NotFound("attachment.not_found")
    try:
        entry, role = await entries.access(conn, principal, attachment.entry_id)
    except NotFound:
        if attachment.status != "verified" or not await queries.juror_may_read(
            conn,
            account_id=principal.account_id,
            entry_id=attachment.entry_id,
            phases=sorted(JURY_PHASES),
            left_statuses=sorted(LEFT_COMPETITION),
        ):
            raise NotFound("attachment.not_found") from None
        found = await entry_queries.get_entry(conn, entry_id=attachment.entry_id)
        if found is None:
            raise NotFound("attachment.not_found") from None
        entry, role = found, "juror"
    return attachment, entry, role


def blind_filename(filename: str, position: int) -> str:
    """A neutral name for blind judging, by the file's position among the entry's verified ones
    (file names often carry the company's name); the jury's entry view names them alike."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    suffix = f".{extension}" if extension.isalnum() and len(extension) <= 5 else ""
    return f"Anhang-{position}{suffix}"


async def shown_name(conn: asyncpg.Connection, attachment: AttachmentRow, role: str) -> str:
    """Jurors of blind competitions see a neutral name: file names often carry the company."""
    if role != "juror":
        return attachment.filename
    entry = await entry_queries.get_entry(conn, entry_id=attachment.entry_id)
    if entry is None:
        raise NotFound("attachment.not_found")
    competition = await competition_queries.get_competition(
        conn, competition_id=entry.competition_id
    )
    if competition is None or not competition.blind_judging:
        return attachment.filename
    verified = [
        a.id
        for a in await queries.list_for_entry(conn, entry_id=entry.id)
        if a.status == "verified"
    ]
    return blind_filename(attachment.filename, verified.index(attachment.id) + 1)


async def create(
    conn: asyncpg.Connection,
    storage: ObjectStore,
    principal: Principal,
    entry_id: uuid.UUID,
    data: schemas.AttachmentCreate,
) -> schemas.AttachmentCreated:
    entry = await entries.require_member_entry(conn, principal, entry_id)
    if not entries.editable(entry):
        raise Conflict("entry.not_editable_deadline_or_status", code="not_editable")
    competition, _ = await competitions.visible(conn, principal, entry.competition_id)
    content_type = data.content_type.split(";", 1)[0].strip().lower()
    problems = []
    if content_type not in sniff.ALLOWED:
        problems.append(problem("content_type", "attachment.type_not_allowed"))
    if data.size_bytes > competition.max_file_bytes:
        problems.append(
            problem("size_bytes", "attachment.file_too_large", max=competition.max_file_bytes)
        )
    usage = await queries.usage(
        conn, entry_id=entry_id, removal_grace_seconds=REMOVAL_GRACE_SECONDS
    )
    if usage.count >= competition.max_attachments:
        problems.append(_too_many(usage, competition.max_attachments))
    elif usage.bytes + data.size_bytes > competition.max_entry_bytes:
        problems.append(_over_quota(usage, competition.max_entry_bytes))
    if problems:
        raise Invalid("attachment.not_allowed", fields=problems)

    attachment_id = uuid.uuid4()
    key = f"attachments/{entry_id}/{attachment_id}"
    # No upload URL outlives the deadline: what the store accepts after it never reaches an entry.
    now = datetime.now(UTC)
    expires_at = min(now + timedelta(seconds=UPLOAD_SECONDS), competition.submission_closes_at)
    upload = await storage.presign_put(
        key=key,
        content_type=content_type,
        size=data.size_bytes,
        expires_in=max(int((expires_at - now).total_seconds()), 1),
    )
    row = await queries.insert_attachment(
        conn,
        attachment_id=attachment_id,
        entry_id=entry_id,
        object_key=key,
        stored_key=f"files/{entry_id}/{attachment_id}",
        filename=clean_filename(data.filename),
        declared_type=content_type,
        size_bytes=data.size_bytes,
        declared_sha256=data.sha256,
        upload_expires_at=expires_at,
        created_by=principal.account_id,
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="attachment.created",
        competition_id=entry.competition_id,
        subject_type="attachment",
        subject_id=row.id,
        data={"entry_id": str(entry_id), "size_bytes": data.size_bytes, "type": content_type},
    )
    return schemas.AttachmentCreated(
        id=row.id,
        status=row.status,
        upload=schemas.Upload(method=upload.method, url=upload.url, headers=upload.headers),
        expires_at=berlin(expires_at),
    )


async def complete(
    conn: asyncpg.Connection, storage: ObjectStore, principal: Principal, attachment_id: uuid.UUID
) -> AttachmentStatus:
    _attachment, entry, role = await access(conn, principal, attachment_id)
    if role != "member":
        raise NotFound("attachment.not_found")
    locked = await queries.get_attachment(conn, attachment_id=attachment_id, for_update=True)
    if locked is None:
        raise NotFound("attachment.not_found")
    if locked.status != "pending":
        return locked.status  # completing twice changes nothing
    if not entries.editable(entry):
        raise Conflict("entry.not_editable", code="not_editable")
    info = await storage.head(key=locked.object_key)
    if info is None:
        raise Conflict("attachment.upload_missing", code="upload_missing")
    reason = None
    if info.size != locked.size_bytes:
        reason = f"Größe {info.size} Bytes statt angekündigter {locked.size_bytes} Bytes."
    elif info.content_type.split(";", 1)[0].strip().lower() != locked.declared_type:
        reason = f"Typ {info.content_type} statt angekündigtem {locked.declared_type}."
    if reason is not None:
        await queries.mark_rejected(conn, attachment_id=attachment_id, reason=reason)
        status: AttachmentStatus = "rejected"
    else:
        await queries.mark_uploaded(conn, attachment_id=attachment_id, etag=info.etag)
        await events.record(conn, "attachment.uploaded", aggregate_id=attachment_id)
        status = "uploaded"
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="attachment.completed",
        competition_id=entry.competition_id,
        subject_type="attachment",
        subject_id=attachment_id,
        data={"status": status},
    )
    return status


async def download(
    conn: asyncpg.Connection, storage: ObjectStore, principal: Principal, attachment_id: uuid.UUID
) -> schemas.Download:
    attachment, _, role = await access(conn, principal, attachment_id)
    readable = ("uploaded", "verified", "rejected") if role == "member" else ("verified",)
    filename = await shown_name(conn, attachment, role)
    if attachment.status not in readable:
        raise Conflict(
            "attachment.not_available_yet", code="not_available", status=attachment.status
        )
    if attachment.object_removed_at is not None:
        raise Conflict("attachment.removed", code="not_available")
    link = await storage.presign_get(
        key=attachment.served_key, filename=filename, expires_in=DOWNLOAD_SECONDS
    )
    return schemas.Download(url=link.url, expires_at=berlin(link.expires_at))


async def delete(conn: asyncpg.Connection, principal: Principal, attachment_id: uuid.UUID) -> None:
    _attachment, entry, role = await access(conn, principal, attachment_id)
    if role != "member":
        raise NotFound("attachment.not_found")
    if not entries.editable(entry):
        raise Conflict("entry.not_editable", code="not_editable")
    await queries.mark_deleted(conn, attachment_id=attachment_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="attachment.deleted",
        competition_id=entry.competition_id,
        subject_type="attachment",
        subject_id=attachment_id,
    )


def to_response(row: AttachmentRow, *, filename: str | None = None) -> schemas.Attachment:
    return schemas.Attachment(
        id=row.id,
        entry_id=row.entry_id,
        filename=filename or row.filename,
        content_type=row.declared_type,
        size_bytes=row.size_bytes,
        status=row.status,
        sha256=row.sha256,
        detected_type=row.sniffed_type,
        reject_reason=row.reject_reason,
        created_at=berlin(row.created_at),
        verified_at=berlin(row.verified_at) if row.verified_at else None,
    )


# Worker side: verification and clean-up.


async def on_uploaded(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    """Copy the upload to the key downloads read, then hash and sniff that copy: verified or
    rejected with a reason. Copying first means a PUT racing the job changes nothing: the hash is
    of the bytes that are served. The store being down raises, and the job is retried."""
    attachment = await queries.get_attachment(conn, attachment_id=event.subject, for_update=True)
    if attachment is None or attachment.status != "uploaded":
        return
    storage: ObjectStore = services.storage
    copied = await storage.copy(
        source=attachment.object_key,
        target=attachment.stored_key,
        content_type=attachment.declared_type,
        if_etag=attachment.upload_etag,
    )
    if copied != "copied":
        # Decided by the store's state, final like every verdict below.
        await queries.mark_rejected(
            conn,
            attachment_id=attachment.id,
            reason=(
                "Die Datei wurde nach dem Abschließen des Hochladens noch einmal hochgeladen. "
                "Bitte laden Sie sie neu hoch."
                if copied == "changed"
                else "Die hochgeladene Datei ist nicht mehr im Speicher. Bitte laden Sie sie neu "
                "hoch."
            ),
        )
        return
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024**2) as local:
        digest = await storage.copy_to(key=attachment.stored_key, sink=local)
        size = local.tell()
        found = sniff.sniff(local, declared=attachment.declared_type)
    declared_label = sniff.ALLOWED.get(attachment.declared_type, attachment.declared_type)
    # Every outcome here is decided by the bytes alone, so a rejection is final: it commits with
    # the event's processed mark and the job is never retried for it.
    reason: str | None = None
    if size != attachment.size_bytes:
        reason = f"Die Datei hat {size} statt {attachment.size_bytes} Bytes."
    elif found.problem is not None:
        reason = found.problem
    elif found.kind != attachment.declared_type:
        reason = f"Der Inhalt ist kein {declared_label} (erkannt: {found.label})."
    elif attachment.declared_sha256 and attachment.declared_sha256 != digest:
        reason = "Die SHA-256-Prüfsumme stimmt nicht mit der angekündigten überein."
    if reason is None:
        await queries.mark_verified(
            conn, attachment_id=attachment.id, sha256=digest, sniffed_type=found.kind or ""
        )
    else:
        await queries.mark_rejected(
            conn,
            attachment_id=attachment.id,
            reason=reason,
            sha256=digest,
            sniffed_type=found.kind,
            copied=True,
        )


async def copy_verified_before_copies(
    conn: asyncpg.Connection, storage: ObjectStore, *, batch: int = 20
) -> int:
    """Attachments verified before verified bytes had a key of their own are served from their
    upload key until this duty copies them and hashes the copy. Bytes that still hash to the
    verified SHA-256 are served from the copy from then on; bytes that do not were replaced after
    verification: the attachment is rejected, and the audit log keeps both hashes."""
    done = 0
    for attachment in await queries.claim_not_copied(conn, limit=batch):
        outcome = await storage.copy(
            source=attachment.object_key,
            target=attachment.stored_key,
            content_type=attachment.declared_type,
        )
        digest: str | None = None
        if outcome == "copied":
            with tempfile.SpooledTemporaryFile(max_size=8 * 1024**2) as local:
                digest = await storage.copy_to(key=attachment.stored_key, sink=local)
        if digest is not None and digest == attachment.sha256:
            await queries.mark_copied(conn, attachment_id=attachment.id)
        else:
            await queries.reject_verified(
                conn,
                attachment_id=attachment.id,
                copied=digest is not None,
                reason=(
                    "Die Datei wurde nach ihrer Prüfung verändert. Bitte laden Sie sie neu hoch."
                    if digest is not None
                    else "Die Datei ist nicht mehr im Speicher. Bitte laden Sie sie neu hoch."
                ),
            )
            entry = await entry_queries.get_entry(conn, entry_id=attachment.entry_id)
            await audit.record(
                conn,
                actor_id=None,
                action="attachment.changed_after_verification",
                competition_id=entry.competition_id if entry else None,
                subject_type="attachment",
                subject_id=attachment.id,
                data={"verified_sha256": attachment.sha256, "found_sha256": digest},
            )
        done += 1
    return done


async def clean_up(
    conn: asyncpg.Connection,
    storage: ObjectStore,
    *,
    batch: int = 100,
    grace_seconds: int = REMOVAL_GRACE_SECONDS,
) -> int:
    """Expire uploads never completed; once an upload URL has expired, remove the upload object
    (the verified copy stays) and every object of rejected, deleted and expired attachments.
    Deleting a missing object is not an error in S3, so a repeated run changes nothing."""
    await queries.expire_abandoned(conn, grace_seconds=600)
    claimed = await queries.claim_removable(conn, limit=batch, grace_seconds=grace_seconds)
    for row in claimed:
        if not row.upload_removed:
            await storage.delete(key=row.object_key)
        if row.status != "verified":
            await storage.delete(key=row.stored_key)
    if claimed:
        await queries.mark_removed(conn, attachment_ids=[row.id for row in claimed])
    return len(claimed)
