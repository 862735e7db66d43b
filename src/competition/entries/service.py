"""Entry rules: companies draft, edit, submit and withdraw their entries while submissions are
open. "Open" is decided by the database's statement clock (`clock_timestamp()` against the
deadline, not the transaction's start), so every replica agrees to the second and a request that
began before the deadline cannot finish after it. Eligibility (the company's district) is stored
with the entry, with its reason, and checked again at submission.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.audit import service as audit
from competition.auth import Principal
from competition.companies import queries as company_queries
from competition.companies import service as companies
from competition.competitions import districts
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.competitions.districts import eligibility
from competition.config import Settings
from competition.entries import queries, schemas
from competition.entries.queries import EntryRow
from competition.errors import Conflict, Invalid, NotFound, PreconditionFailed, problem
from competition.events import service as events
from competition.events.queries import EventRow
from competition.localization import berlin, format_datetime
from competition.notifications.service import queue_email
from competition.services import Services
from competition.text import without_bidi_controls


def _closed(closes_at: datetime) -> Conflict:
    return Conflict("entry.submissions_closed", code="submissions_closed", closes_at=closes_at)


async def access(
    conn: asyncpg.Connection, principal: Principal, entry_id: uuid.UUID
) -> tuple[EntryRow, str]:
    """The entry and the caller's relation to it: "member" (of the company) or "organiser".
    Anyone else gets 404: other companies do not learn that the entry exists."""
    entry = await queries.get_entry(conn, entry_id=entry_id)
    if entry is not None:
        if await company_queries.member_role(
            conn, company_id=entry.company_id, account_id=principal.account_id
        ):
            return entry, "member"
        if principal.organiser_powers and await competition_queries.is_organiser(
            conn, competition_id=entry.competition_id, account_id=principal.account_id
        ):
            return entry, "organiser"
    raise NotFound("entry.not_found")


async def require_member_entry(
    conn: asyncpg.Connection, principal: Principal, entry_id: uuid.UUID
) -> EntryRow:
    _entry, role = await access(conn, principal, entry_id)
    if role != "member":
        raise NotFound("entry.not_found")
    locked = await queries.get_entry(conn, entry_id=entry_id, for_update=True)
    if locked is None:
        raise NotFound("entry.not_found")
    return locked


def _title(value: str) -> str:
    """The title as others read it: trimmed, without bidi controls (`competition.text`)."""
    title = without_bidi_controls(value).strip()
    if not title:
        raise Invalid(fields=[problem("title", "entry.title_required")])
    return title


def editable(entry: EntryRow) -> bool:
    return entry.submissions_open and entry.status in ("draft", "submitted")


async def create(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.EntryCreate,
) -> uuid.UUID:
    competition, _ = await competitions.visible(conn, principal, competition_id)
    await companies.require_member(conn, principal, data.company_id)
    if not competition.submissions_open:
        raise _closed(competition.submission_closes_at)
    category_id = await queries.category_id(conn, competition_id=competition_id, slug=data.category)
    if category_id is None:
        raise Invalid(
            "entry.unknown_category",
            fields=[
                problem("category", "entry.category_not_in_competition", category=data.category)
            ],
        )
    company = await company_queries.get_company(conn, company_id=data.company_id)
    if company is None:
        raise NotFound("company.not_found")
    eligible, reason = eligibility(company.district, competition.eligible_districts)
    entry_id = await queries.insert_entry(
        conn,
        competition_id=competition_id,
        company_id=data.company_id,
        category_id=category_id,
        title=_title(data.title),
        summary=data.summary,
        description=data.description,
        eligible=eligible,
        eligibility_reason=reason,
        created_by=principal.account_id,
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="entry.created",
        competition_id=competition_id,
        subject_type="entry",
        subject_id=entry_id,
        data={"company_id": str(data.company_id)},
    )
    return entry_id


async def update(
    conn: asyncpg.Connection,
    principal: Principal,
    entry_id: uuid.UUID,
    data: schemas.EntryUpdate,
    *,
    if_match: int | None,
) -> None:
    entry = await require_member_entry(conn, principal, entry_id)
    if if_match is not None and if_match != entry.version:
        raise PreconditionFailed("entry.changed_meanwhile", code="version_conflict")
    if not entry.submissions_open:
        raise _closed(entry.submission_closes_at)
    if entry.status not in ("draft", "submitted"):
        raise Conflict("entry.withdrawn_not_editable", code="not_editable")
    category_id = None
    if data.category is not None:
        category_id = await queries.category_id(
            conn, competition_id=entry.competition_id, slug=data.category
        )
        if category_id is None:
            raise Invalid(
                "entry.unknown_category",
                fields=[problem("category", "entry.category_missing", category=data.category)],
            )
    await queries.update_content(
        conn,
        entry_id=entry_id,
        category_id=category_id,
        title=_title(data.title) if data.title is not None else None,
        summary=data.summary,
        description=data.description,
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="entry.updated",
        competition_id=entry.competition_id,
        subject_type="entry",
        subject_id=entry_id,
        data={"fields": sorted(f for f in data.__struct_fields__ if getattr(data, f) is not None)},
    )


async def submit(conn: asyncpg.Connection, principal: Principal, entry_id: uuid.UUID) -> None:
    entry = await require_member_entry(conn, principal, entry_id)
    if not entry.submissions_open:
        raise _closed(entry.submission_closes_at)
    if entry.status == "submitted":
        return  # submitting twice is not an error, and sends nothing twice
    if entry.status not in ("draft", "withdrawn"):
        raise Conflict("entry.not_submittable", code="not_submittable")
    competition = await competition_queries.get_competition(
        conn, competition_id=entry.competition_id
    )
    if competition is None:
        raise NotFound("competition.not_found")
    eligible, reason = eligibility(entry.company_district, competition.eligible_districts)
    if not eligible:
        await queries.set_eligibility(conn, entry_id=entry_id, eligible=False, reason=reason)
        raise Conflict(
            "entry.ineligible",
            code="ineligible",
            district=districts.name(entry.company_district),
            area=districts.area(competition.eligible_districts),
        )
    pending = await queries.count_unfinished_attachments(conn, entry_id=entry_id)
    if pending:
        raise Conflict("entry.attachments_pending", code="attachments_pending", count=pending)
    if await queries.set_submitted(conn, entry_id=entry_id, eligible=True, reason=reason) is None:
        raise _closed(entry.submission_closes_at)
    await events.record(
        conn,
        "entry.submitted",
        aggregate_id=entry_id,
        payload={"by": str(principal.account_id)},
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="entry.submitted",
        competition_id=entry.competition_id,
        subject_type="entry",
        subject_id=entry_id,
    )


async def withdraw(
    conn: asyncpg.Connection, principal: Principal, entry_id: uuid.UUID, *, reason: str | None
) -> None:
    """Withdraw an entry. After the deadline it may already be judged or ranked, so the company
    says why, and the reason goes into the audit log; a withdrawn entry is no longer scored,
    ranked or awarded. Not once the results are published."""
    entry = await require_member_entry(conn, principal, entry_id)
    if entry.status == "withdrawn":
        return  # a repeat changes nothing, not even the recorded reason
    # The entry is locked; the competition's phase is read under a share lock, so publishing
    # cannot slip in between this check and the withdrawal (results.publish holds the row).
    found = await queries.lock_competition(conn, competition_id=entry.competition_id)
    if found is None:
        raise NotFound("entry.not_found")
    phase, on_time = found
    if entry.status not in ("draft", "submitted") or phase in ("published", "archived"):
        raise Conflict("entry.not_withdrawable", code="not_withdrawable")
    reason = without_bidi_controls(reason).strip() if reason is not None else ""
    if not on_time and not reason:
        raise Invalid(
            "entry.withdrawal_reason_required",
            code="reason_required",
            fields=[problem("reason", "entry.withdrawal_reason")],
        )
    await queries.set_withdrawn(conn, entry_id=entry_id)
    await events.record(
        conn, "entry.withdrawn", aggregate_id=entry_id, payload={"by": str(principal.account_id)}
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="entry.withdrawn",
        competition_id=entry.competition_id,
        subject_type="entry",
        subject_id=entry_id,
        data={
            "status_before": entry.status,
            "phase": phase,
            "after_deadline": not on_time,
            "reason": reason or None,
        },
    )


async def to_response(conn: asyncpg.Connection, entry: EntryRow) -> schemas.Entry:
    attachments = await queries.list_attachments(conn, entry_id=entry.id)
    return schemas.Entry(
        id=entry.id,
        competition_id=entry.competition_id,
        company_id=entry.company_id,
        company_name=entry.company_name,
        category=entry.category,
        title=entry.title,
        summary=entry.summary,
        description=entry.description,
        status=entry.status,
        version=entry.version,
        eligible=entry.eligible,
        eligibility_reason=entry.eligibility_reason,
        editable=editable(entry),
        submitted_at=berlin(entry.submitted_at) if entry.submitted_at else None,
        withdrawn_at=berlin(entry.withdrawn_at) if entry.withdrawn_at else None,
        created_at=berlin(entry.created_at),
        updated_at=berlin(entry.updated_at),
        attachments=[
            schemas.AttachmentBrief(
                id=a.id,
                filename=a.filename,
                content_type=a.declared_type,
                size_bytes=a.size_bytes,
                status=a.status,
                reject_reason=a.reject_reason,
                removed_at=(berlin(a.object_removed_at) if a.object_removed_at else None),
            )
            for a in attachments
        ],
    )


def summary(entry: EntryRow) -> schemas.EntrySummary:
    return schemas.EntrySummary(
        id=entry.id,
        competition_id=entry.competition_id,
        company_id=entry.company_id,
        company_name=entry.company_name,
        category=entry.category,
        title=entry.title,
        status=entry.status,
        version=entry.version,
        eligible=entry.eligible,
        submitted_at=berlin(entry.submitted_at) if entry.submitted_at else None,
        updated_at=berlin(entry.updated_at),
    )


# Event handlers and periodic work.


async def on_submitted(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    settings = services.settings
    """One confirmation to every member of the company, once (idempotency key per event)."""
    entry = await queries.get_entry(conn, entry_id=event.subject)
    if entry is None or entry.status != "submitted":
        return
    competition = await competition_queries.get_competition(
        conn, competition_id=entry.competition_id
    )
    if competition is None:
        return
    for member in await company_queries.list_members(conn, company_id=entry.company_id):
        await queue_email(
            conn,
            settings,
            event_id=event.id,
            template="entry_submitted",
            competition_id=competition.id,
            recipient=member.email,
            locale=member.locale,
            account_id=member.account_id,
            context={
                "name": member.name,
                "entry": entry.title,
                "company": entry.company_name,
                "competition": competition.title.get(member.locale, competition.title["de"]),
                "submitted_at": format_datetime(event.created_at, member.locale),
                "closes_at": format_datetime(competition.submission_closes_at, member.locale),
                "action_url": f"{settings.public_url.rstrip('/')}/entries/{entry.id}",
            },
        )


async def queue_deadline_reminders(conn: asyncpg.Connection, settings: Settings) -> int:
    """Reminders for drafts 72 h and 24 h before the deadline, each once per member and entry."""
    queued = 0
    for row in await queries.drafts_due_for_reminder(conn):
        email_id = await queue_email(
            conn,
            settings,
            event_id=None,
            template=f"entry_reminder_{row.window}",
            competition_id=row.competition_id,
            recipient=row.email,
            locale=row.locale,
            account_id=row.account_id,
            key=f"reminder-{row.window}:{row.entry_id}",
            context={
                "name": row.name,
                "entry": row.entry_title,
                "competition": row.competition_title.get(row.locale, row.competition_title["de"]),
                "closes_at": format_datetime(row.closes_at, row.locale),
                "action_url": f"{settings.public_url.rstrip('/')}/entries/{row.entry_id}",
            },
        )
        queued += email_id is not None
    return queued


async def mine(conn: asyncpg.Connection, principal: Principal) -> list[schemas.EntrySummary]:
    """The entries of the caller's companies, last changed first."""
    rows = await queries.list_for_account(conn, account_id=principal.account_id)
    return [summary(row) for row in rows]


async def list_for_competition(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    *,
    category: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[schemas.EntrySummary]:
    """A competition's entries, for its organisers."""
    await competitions.require_organiser(conn, principal, competition_id)
    rows = await queries.list_for_competition(
        conn,
        competition_id=competition_id,
        category=category,
        status=status,
        limit=limit,
        offset=offset,
    )
    return [summary(row) for row in rows]
