"""Online scoring: a juror's assignments, the entry as the juror may see it (blind: no company,
neutral file names), and the score sheet, saved as draft or final with If-Match; organisers
follow the progress (entries, sheets per juror, reviews per entry, voided assignments) and
remind jurors with open sheets. A juror opens an entry only through `jury.own_assignment`,
checked on every read."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.attachments import queries as attachment_queries
from competition.attachments import service as attachments
from competition.audit import service as audit
from competition.auth import Principal
from competition.companies import queries as company_queries
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.competitions.phases import JURY_PHASES
from competition.competitions.queries import CompetitionRow
from competition.config import Settings
from competition.entries import queries as entry_queries
from competition.entries.schemas import LEFT_COMPETITION
from competition.errors import Conflict, Invalid, NotFound, PreconditionFailed, problem
from competition.jury import service as jury
from competition.jury.queries import AssignmentRow
from competition.jury.scoring import queries, schemas
from competition.localization import BERLIN, berlin
from competition.notifications.service import queue_email
from competition.results.aggregate import AggregationInputError, Criterion, weighted_total


def _criteria(rows: list[competition_queries.CriterionRow]) -> list[Criterion]:
    return [Criterion(key=c.key, weight=c.weight, min=c.min_score, max=c.max_score) for c in rows]


def _require_visible(competition: CompetitionRow | None) -> CompetitionRow:
    if competition is None or competition.phase not in JURY_PHASES:
        raise NotFound("jury.assignment_not_found")
    return competition


async def _assignment_for(
    conn: asyncpg.Connection, principal: Principal, assignment_id: uuid.UUID
) -> tuple[AssignmentRow, CompetitionRow]:
    """The caller's own assignment, if they may open it now. Conflicted or foreign: 404."""
    row = await jury.own_assignment(conn, principal, assignment_id)
    competition = await competition_queries.get_competition(conn, competition_id=row.competition_id)
    return row, _require_visible(competition)


def _sheet(row: AssignmentRow) -> schemas.Sheet:
    return schemas.Sheet(
        status=row.sheet_status or "open",
        version=row.sheet_version or 0,
        scores=row.scores or {},
        comment=row.comment or "",
        weighted_total=row.weighted_total,
        updated_at=berlin(row.sheet_updated_at) if row.sheet_updated_at else None,
    )


async def my_assignments(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID | None
) -> list[schemas.AssignmentItem]:
    if competition_id is not None:
        juror, _ = await jury.require_juror(conn, principal, competition_id)
        jury.require_declarations(juror.conflicts_confirmed_at, juror.confidentiality_accepted_at)
    rows = await queries.assignments_of(
        conn, account_id=principal.account_id, competition_id=competition_id
    )
    items = []
    competitions_seen: dict[uuid.UUID, CompetitionRow | None] = {}
    for row in rows:
        if row.competition_id not in competitions_seen:
            competitions_seen[row.competition_id] = await competition_queries.get_competition(
                conn, competition_id=row.competition_id
            )
        competition = competitions_seen[row.competition_id]
        if competition is None or competition.phase not in JURY_PHASES:
            continue
        entry = await entry_queries.get_entry(conn, entry_id=row.entry_id)
        if entry is None or entry.status in LEFT_COMPETITION:
            continue
        items.append(
            schemas.AssignmentItem(
                id=row.id,
                competition_id=row.competition_id,
                entry=schemas.EntryForJuror(
                    id=entry.id,
                    title=entry.title,
                    summary=entry.summary,
                    category=entry.category,
                    company_name=None if competition.blind_judging else entry.company_name,
                ),
                sheet_status=(row.sheet_status or "open") if row.sheet_version else "open",
                weighted_total=row.weighted_total,
            )
        )
    return items


async def assignment_detail(
    conn: asyncpg.Connection, principal: Principal, assignment_id: uuid.UUID
) -> schemas.AssignmentDetail:
    row, competition = await _assignment_for(conn, principal, assignment_id)
    entry = await entry_queries.get_entry(conn, entry_id=row.entry_id)
    if entry is None:
        raise NotFound("jury.assignment_not_found")
    criteria = await competition_queries.list_criteria(conn, competition_id=competition.id)
    files = [
        a
        for a in await attachment_queries.list_for_entry(conn, entry_id=entry.id)
        if a.status == "verified"
    ]
    company = None
    if not competition.blind_judging:
        record = await company_queries.get_company(conn, company_id=entry.company_id)
        if record is not None:
            company = schemas.CompanyForJuror(
                name=record.name, city=record.city, website=record.website
            )
    return schemas.AssignmentDetail(
        id=row.id,
        competition_id=competition.id,
        blind=competition.blind_judging,
        entry_id=entry.id,
        title=entry.title,
        summary=entry.summary,
        description=entry.description,
        category=entry.category,
        attachments=[
            schemas.AttachmentForJuror(
                id=a.id,
                filename=attachments.blind_filename(a.filename, i)
                if competition.blind_judging
                else a.filename,
                content_type=a.declared_type,
                size_bytes=a.size_bytes,
            )
            for i, a in enumerate(files, start=1)
        ],
        criteria=[
            schemas.CriterionOut(
                key=c.key, name=c.name, weight=c.weight, min=c.min_score, max=c.max_score
            )
            for c in criteria
        ],
        sheet=_sheet(row),
        company=company,
    )


async def save_score(
    conn: asyncpg.Connection,
    principal: Principal,
    assignment_id: uuid.UUID,
    data: schemas.ScoreBody,
    *,
    if_match: int | None,
) -> schemas.Sheet:
    row = await jury.own_assignment(conn, principal, assignment_id)
    # Competition and criteria in one round trip: saves come in bursts (docs/benchmarks.md).
    found = await competition_queries.get_competition_with_criteria(
        conn, competition_id=row.competition_id
    )
    competition = _require_visible(found[0] if found else None)
    rows = found[1] if found else []
    if competition.phase != "judging":
        raise Conflict("score.not_judging", code="not_judging")
    sheet = await queries.lock_sheet(conn, assignment_id=assignment_id)
    if sheet is None:
        raise NotFound("jury.assignment_not_found")
    if sheet["status"] == "final":
        raise Conflict("score.sheet_final", code="sheet_final")
    if if_match is not None and if_match != sheet["version"]:
        raise PreconditionFailed("score.changed_meanwhile", code="version_conflict")
    by_key = {c.key: c for c in rows}
    problems = [
        problem(f"scores.{k}", "score.unknown_criterion") for k in data.scores if k not in by_key
    ]
    for key, value in data.scores.items():
        c = by_key.get(key)
        if c is not None and not (c.min_score <= value <= c.max_score):
            # Bounds as they were set, every digit (`:g`), not rounded as the catalog's numbers.
            problems.append(
                problem(
                    f"scores.{key}",
                    "score.out_of_range",
                    min=f"{c.min_score:g}",
                    max=f"{c.max_score:g}",
                )
            )
    missing = [k for k in by_key if k not in data.scores]
    if data.final and missing:
        problems += [problem(f"scores.{k}", "score.required_to_finalise") for k in missing]
    if problems:
        raise Invalid("score.sheet_invalid", fields=problems)
    total = None
    if not missing:
        try:
            total = weighted_total(scores=data.scores, criteria=_criteria(rows))
        except AggregationInputError as exc:  # already checked above; keep the API total-safe
            raise Invalid("score.sheet_invalid") from exc
    comment = data.comment if data.comment is not None else (row.comment or "")
    version, updated = await queries.save_sheet(
        conn,
        assignment_id=assignment_id,
        scores=data.scores,
        comment=comment,
        final=data.final,
        weighted_total=total,
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="score.finalised" if data.final else "score.saved",
        competition_id=competition.id,
        subject_type="assignment",
        subject_id=assignment_id,
        data={"version": version},
    )
    return schemas.Sheet(
        status="final" if data.final else "draft",
        version=version,
        scores=data.scores,
        comment=comment,
        weighted_total=total,
        updated_at=berlin(updated),
    )


async def remind_jurors(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, settings: Settings
) -> int:
    """Mail jurors with open sheets; at most one reminder per juror and day (Europe/Berlin)."""
    competition = await competitions.require_organiser(conn, principal, competition_id)
    today = datetime.now(BERLIN).date().isoformat()
    queued = 0
    for r in await queries.jurors_with_open_sheets(conn, competition_id=competition_id):
        email_id = await queue_email(
            conn,
            settings,
            event_id=None,
            template="jury_reminder",
            competition_id=competition.id,
            recipient=r["email"],
            locale=r["locale"],
            account_id=r["account_id"],
            key=f"jury-reminder-{today}:{r['id']}",
            context={
                "name": r["name"],
                "open": r["open"],
                "competition": competition.title.get(r["locale"], competition.title["de"]),
                "action_url": f"{settings.public_url.rstrip('/')}/jury/{competition.id}",
            },
        )
        queued += email_id is not None
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="jury.reminded",
        competition_id=competition_id,
        subject_type="competition",
        subject_id=competition_id,
        data={"queued": queued},
    )
    return queued


async def progress(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> schemas.Progress:
    """Organisers: entries by status and category, sheets per juror, reviews per entry (only
    assignments that stand count) and the voided assignments."""
    row = await competitions.require_organiser(conn, principal, competition_id)
    totals = dict.fromkeys(("draft", "submitted", "withdrawn", "disqualified"), 0)
    per_category: dict[str, dict[str, int]] = {}
    for record in await competition_queries.entry_counts(conn, competition_id=competition_id):
        counts = per_category.setdefault(record["category"], dict.fromkeys(totals, 0))
        if record["status"] is not None:
            counts[record["status"]] = record["n"]
            totals[record["status"]] += record["n"]
    jurors = [
        schemas.JurorProgress(
            juror_id=r["juror_id"],
            name=r["name"],
            status=r["status"],
            assigned=r["assigned"],
            final=r["final"],
            draft=r["draft"],
            open=r["assigned"] - r["final"] - r["draft"],
        )
        for r in await queries.juror_progress(conn, competition_id=competition_id)
    ]
    reviews = [
        schemas.EntryProgress(
            entry_id=r["entry_id"],
            title=r["title"],
            category=r["category"],
            assigned=r["assigned"],
            final=r["final"],
            missing=max(row.reviews_per_entry - r["assigned"], 0),
        )
        for r in await queries.entry_progress(conn, competition_id=competition_id)
    ]
    return schemas.Progress(
        phase=row.phase,
        submissions_open=row.submissions_open,
        entries=totals,
        by_category=[
            schemas.CategoryProgress(category=category, **counts)
            for category, counts in per_category.items()
        ],
        jurors=jurors,
        reviews=reviews,
        sheets_final=sum(j.final for j in jurors),
        sheets_assigned=sum(j.assigned for j in jurors),
        voided=await jury.voided_assignments(conn, competition_id=competition_id),
    )
