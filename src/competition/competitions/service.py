"""Competition rules: who may see and change a competition, its structure, its phases.

Every transition is checked against the current phase under a row lock, emits an event and is
written to the audit log. Deadlines are decided by the database clock (`now()` in SQL), shown in
Europe/Berlin.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

import asyncpg

from competition.audit import service as audit
from competition.auth import Principal, missing_organise_scope
from competition.competitions import defaults, phases, queries, rules, schemas
from competition.competitions.queries import CompetitionRow
from competition.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    Problem,
    problem,
)
from competition.events import service as events
from competition.localization import berlin
from competition.text import without_bidi_controls

FROZEN_WHEN_OPEN = (
    "categories",
    "criteria",
    "eligible_districts",
    "reviews_per_entry",
    "blind_judging",
    "tie_break",
)


# The years a competition's dates may fall in. Beyond them, converting between time zones leaves
# the calendars of Python and PostgreSQL: 0001-01-01 in Berlin is year 0 in UTC.
DATE_YEARS: Final = range(2000, 2200)


def _within_years(**moments: datetime | None) -> None:
    outside = [
        problem(name, "competition.date_out_of_range")
        for name, moment in moments.items()
        if moment is not None and moment.year not in DATE_YEARS
    ]
    if outside:
        raise Invalid(fields=outside)


def _parse_id(id_or_slug: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(id_or_slug)
    except ValueError:
        return None


async def visible(
    conn: asyncpg.Connection, principal: Principal | None, id_or_slug: str | uuid.UUID
) -> tuple[CompetitionRow, bool]:
    """The competition if the caller may see it, with whether the caller acts as its organiser
    (a token without the `organise` scope does not, on writes)."""
    row, member = await _with_organiser(conn, principal, id_or_slug)
    return row, member and principal is not None and principal.organiser_powers


async def _with_organiser(
    conn: asyncpg.Connection, principal: Principal | None, id_or_slug: str | uuid.UUID
) -> tuple[CompetitionRow, bool]:
    """The competition and whether the caller's account organises it. Drafts exist only for
    their organisers: everyone else gets 404, not 403."""
    competition_id = id_or_slug if isinstance(id_or_slug, uuid.UUID) else _parse_id(id_or_slug)
    if competition_id is not None:
        row = await queries.get_competition(conn, competition_id=competition_id)
    else:
        row = await queries.get_competition_by_slug(conn, slug=str(id_or_slug))
    if row is None:
        raise NotFound("competition.not_found")
    organiser = principal is not None and await queries.is_organiser(
        conn, competition_id=row.id, account_id=principal.account_id
    )
    if row.phase == "draft" and not organiser:
        raise NotFound("competition.not_found")
    return row, organiser


async def require_organiser(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> CompetitionRow:
    row, organiser = await _with_organiser(conn, principal, competition_id)
    if not organiser:
        raise Forbidden("competition.organisers_only")
    if not principal.organiser_powers:
        raise missing_organise_scope()
    return row


def _title(title: schemas.LocalizedName) -> dict[str, str]:
    """The title as others read it, in both languages: without bidi controls
    (`competition.text`), trimmed."""
    given = {"de": title.de, "en": title.en}
    cleaned = {lang: without_bidi_controls(value).strip() for lang, value in given.items()}
    empty = [problem(f"title.{lang}", "field.required") for lang, v in cleaned.items() if not v]
    if empty:
        raise Invalid(fields=empty)
    return cleaned


def _validate_structure(
    *,
    opens: datetime | None,
    closes: datetime | None,
    categories: list[schemas.CategoryIn] | None,
    criteria: list[schemas.CriterionIn] | None,
    tie_break: list[str] | None,
    criterion_keys: set[str],
    max_file: int | None,
    max_entry: int | None,
    tie_break_sent: bool = True,
) -> None:
    """Every rule the aggregation relies on, checked when the competition declares it: a chain
    or a criterion a result run could not apply is refused here, not when the run starts."""
    problems: list[Problem] = []
    if opens is not None and closes is not None and closes <= opens:
        problems.append(problem("submission_closes_at", "competition.closes_before_opens"))
    if categories is not None and len({c.slug for c in categories}) != len(categories):
        problems.append(problem("categories", "competition.category_slug_repeated"))
    if criteria is not None:
        if len({c.key for c in criteria}) != len(criteria):
            problems.append(problem("criteria", "competition.criterion_key_repeated"))
        for i, c in enumerate(criteria):
            if c.max <= c.min:
                problems.append(problem(f"criteria[{i}].max", "competition.max_not_above_min"))
        criterion_keys = {c.key for c in criteria}
    if tie_break is not None:
        problems += _tie_break_errors(tie_break, criterion_keys, sent=tie_break_sent)
    if max_file is not None and max_entry is not None and max_entry < max_file:
        problems.append(problem("max_entry_bytes", "competition.entry_limit_below_file_limit"))
    if problems:
        raise Invalid(fields=problems)


def _tie_break_problem(found: rules.TieBreakProblem) -> Problem:
    field, rule = f"tie_break[{found.index}]", found.rule
    if found.kind == "unknown_rule":
        return problem(field, "competition.tie_break_unknown_rule", rule=rule)
    if found.kind == "unknown_criterion":
        return problem(field, "competition.tie_break_unknown_criterion", rule=rule)
    return problem(field, "competition.tie_break_repeated", rule=rule)


def _tie_break_errors(
    tie_break: list[str], criterion_keys: set[str], *, sent: bool
) -> list[Problem]:
    """The chain's problems at their positions; a stored chain that new criteria would break
    (`sent` false) is named as a whole, since the caller did not send it."""
    found = rules.tie_break_problems(tie_break, criterion_keys)
    if sent:
        return [_tie_break_problem(p) for p in found]
    return [
        problem("tie_break", "competition.tie_break_criterion_removed", rule=p.rule)
        for p in found
        if p.kind == "unknown_criterion"
    ][:1]


async def create(
    conn: asyncpg.Connection, principal: Principal, data: schemas.CompetitionCreate
) -> uuid.UUID:
    if not principal.is_organiser:
        raise Forbidden("competition.create_organisers_only")
    if not principal.organiser_powers:
        raise missing_organise_scope()
    _within_years(
        submission_opens_at=data.submission_opens_at, submission_closes_at=data.submission_closes_at
    )
    opens, closes = berlin(data.submission_opens_at), berlin(data.submission_closes_at)
    max_file = data.max_file_bytes or 50 * 1024**2
    max_entry = data.max_entry_bytes or 200 * 1024**2
    tie_break = data.tie_break if data.tie_break is not None else list(defaults.TIE_BREAK)
    _validate_structure(
        opens=opens,
        closes=closes,
        categories=data.categories,
        criteria=data.criteria,
        tie_break=tie_break,
        criterion_keys=set(),
        max_file=max_file,
        max_entry=max_entry,
    )
    description = data.description or schemas.LocalizedText(de="", en="")
    competition_id = await queries.insert_competition(
        conn,
        values={
            "slug": data.slug,
            "title": _title(data.title),
            "description": {"de": description.de, "en": description.en},
            "submission_opens_at": opens,
            "submission_closes_at": closes,
            "auto_open": data.auto_open,
            "reviews_per_entry": data.reviews_per_entry,
            "blind_judging": data.blind_judging,
            "eligible_districts": sorted(set(data.eligible_districts)),
            "tie_break": tie_break,
            "max_file_bytes": max_file,
            "max_entry_bytes": max_entry,
            "max_attachments": data.max_attachments or 10,
            "created_by": principal.account_id,
        },
    )
    if competition_id is None:
        raise Conflict("competition.slug_taken", code="slug_taken", slug=data.slug)
    await _write_structure(conn, competition_id, data.categories, data.criteria)
    await queries.add_organiser(
        conn, competition_id=competition_id, account_id=principal.account_id
    )
    await events.record(conn, "competition.created", aggregate_id=competition_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="competition.created",
        competition_id=competition_id,
        subject_type="competition",
        subject_id=competition_id,
        data={"slug": data.slug},
    )
    return competition_id


async def _write_structure(
    conn: asyncpg.Connection,
    competition_id: uuid.UUID,
    categories: list[schemas.CategoryIn] | None,
    criteria: list[schemas.CriterionIn] | None,
) -> None:
    if categories is not None:
        await queries.replace_categories(
            conn,
            competition_id=competition_id,
            categories=[(c.slug, {"de": c.name.de, "en": c.name.en}) for c in categories],
        )
    if criteria is not None:
        await queries.replace_criteria(
            conn,
            competition_id=competition_id,
            criteria=[
                (c.key, {"de": c.name.de, "en": c.name.en}, c.weight, c.min, c.max)
                for c in criteria
            ],
        )


async def update(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.CompetitionUpdate,
    *,
    if_match: int | None,
) -> None:
    await require_organiser(conn, principal, competition_id)
    row = await queries.get_competition(conn, competition_id=competition_id, for_update=True)
    if row is None:
        raise NotFound("competition.not_found")
    if if_match is not None and if_match != row.version:
        raise PreconditionFailed("competition.changed_meanwhile", code="version_conflict")
    sent = {f for f in data.__struct_fields__ if getattr(data, f) is not None}
    frozen = sorted(sent & set(FROZEN_WHEN_OPEN))
    if row.phase != "draft" and frozen:
        raise Conflict(
            "competition.structure_frozen", code="structure_frozen", frozen=", ".join(frozen)
        )
    _within_years(
        submission_opens_at=data.submission_opens_at, submission_closes_at=data.submission_closes_at
    )
    opens = (
        berlin(data.submission_opens_at) if data.submission_opens_at else row.submission_opens_at
    )
    closes = (
        berlin(data.submission_closes_at) if data.submission_closes_at else row.submission_closes_at
    )
    criteria_keys = {
        c.key for c in await queries.list_criteria(conn, competition_id=competition_id)
    }
    # The chain as it will be: the one sent, or the stored one against the criteria sent now.
    tie_break = data.tie_break
    if tie_break is None and data.criteria is not None:
        tie_break = row.tie_break
    _validate_structure(
        opens=opens,
        closes=closes,
        categories=data.categories,
        criteria=data.criteria,
        tie_break=tie_break,
        tie_break_sent=data.tie_break is not None,
        criterion_keys=criteria_keys,
        max_file=data.max_file_bytes or row.max_file_bytes,
        max_entry=data.max_entry_bytes or row.max_entry_bytes,
    )
    changes: dict[str, Any] = {}
    for field in sent - {"categories", "criteria"}:
        value = getattr(data, field)
        if field == "title":
            value = _title(value)
        elif field == "description":
            value = {"de": value.de, "en": value.en}
        elif field in ("submission_opens_at", "submission_closes_at"):
            value = berlin(value)
        elif field == "eligible_districts":
            value = sorted(set(value))
        changes[field] = value
    await queries.update_competition(conn, competition_id=competition_id, changes=changes)
    await _write_structure(conn, competition_id, data.categories, data.criteria)
    if (data.categories is not None or data.criteria is not None) and not changes:
        # Only the structure changed: it is part of the competition, so its version moves too.
        await queries.bump_version(conn, competition_id=competition_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="competition.updated",
        competition_id=competition_id,
        subject_type="competition",
        subject_id=competition_id,
        data={"fields": sorted(sent)},
    )


def _phase_changed() -> Conflict:
    return Conflict("competition.phase_changed", code="phase_changed")


async def _transition(
    conn: asyncpg.Connection, row: CompetitionRow, target: str, actor_id: uuid.UUID | None
) -> None:
    if not await queries.set_phase(conn, competition_id=row.id, phase=target, from_phase=row.phase):
        raise _phase_changed()
    await _record_transition(conn, row, target, actor_id)


async def _record_transition(
    conn: asyncpg.Connection, row: CompetitionRow, target: str, actor_id: uuid.UUID | None
) -> None:
    payload = {"from": row.phase, "to": target, "by": str(actor_id) if actor_id else "clock"}
    await events.record(conn, "competition.phase_changed", aggregate_id=row.id, payload=payload)
    await audit.record(
        conn,
        actor_id=actor_id,
        action="competition.phase_changed",
        competition_id=row.id,
        subject_type="competition",
        subject_id=row.id,
        data=payload,
    )


async def change_phase(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, target: str
) -> None:
    await require_organiser(conn, principal, competition_id)
    if target not in phases.PHASES:  # the API's Struct checks this; the page's form does not
        raise Invalid(
            "competition.no_such_phase", fields=[problem("to", "competition.unknown_phase")]
        )
    row = await queries.get_competition(conn, competition_id=competition_id, for_update=True)
    if row is None:
        raise NotFound("competition.not_found")
    if target == "published":
        raise Conflict("competition.use_publish", code="use_publish")
    if not phases.allowed(row.phase, target):
        names = phases.PHASE_NAMES
        raise Conflict(
            "competition.illegal_transition",
            code="illegal_transition",
            current=names[row.phase],
            target=names[target],
        )
    if target == "open":
        still_open: bool = await conn.fetchval(
            "SELECT $1::timestamptz > now()", row.submission_closes_at
        )
        if not still_open:
            raise Conflict("competition.deadline_passed", code="deadline_passed")
    await _transition(conn, row, target, principal.account_id)


async def enter_published(
    conn: asyncpg.Connection, row: CompetitionRow, *, run_id: uuid.UUID, actor_id: uuid.UUID
) -> datetime:
    """`deliberation → published`, the transition only publishing takes (`results.publish`,
    with the row locked, the winners checked and the run frozen). It is guarded, evented and
    audited like every other transition, and records the published run and the moment; returns
    that moment."""
    if not phases.allowed(row.phase, "published"):
        names = phases.PHASE_NAMES
        raise Conflict(
            "competition.illegal_transition",
            code="illegal_transition",
            current=names[row.phase],
            target=names["published"],
        )
    published_at = await queries.set_published(
        conn, competition_id=row.id, run_id=run_id, from_phase=row.phase
    )
    if published_at is None:
        raise _phase_changed()
    await _record_transition(conn, row, "published", actor_id)
    return published_at


async def apply_due_transitions(conn: asyncpg.Connection) -> int:
    """The clock's transitions (cron): scheduled openings and deadlines."""
    done = 0
    for competition_id, _, target in await queries.due_transitions(conn):
        row = await queries.get_competition(conn, competition_id=competition_id)
        if row is None:
            continue
        await _transition(conn, row, target, None)
        done += 1
    return done


async def to_response(
    conn: asyncpg.Connection, row: CompetitionRow, *, is_organiser: bool
) -> schemas.Competition:
    categories = await queries.list_categories(conn, competition_id=row.id)
    criteria = await queries.list_criteria(conn, competition_id=row.id)
    return schemas.Competition(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        phase=row.phase,
        phase_name=phases.PHASE_NAMES[row.phase],
        submission_opens_at=berlin(row.submission_opens_at),
        submission_closes_at=berlin(row.submission_closes_at),
        submissions_open=row.submissions_open,
        auto_open=row.auto_open,
        reviews_per_entry=row.reviews_per_entry,
        blind_judging=row.blind_judging,
        eligible_districts=row.eligible_districts,
        categories=[schemas.Category(slug=c.slug, name=c.name) for c in categories],
        criteria=[
            schemas.Criterion(
                key=c.key, name=c.name, weight=c.weight, min=c.min_score, max=c.max_score
            )
            for c in criteria
        ],
        tie_break=row.tie_break,
        max_file_bytes=row.max_file_bytes,
        max_entry_bytes=row.max_entry_bytes,
        max_attachments=row.max_attachments,
        version=row.version,
        created_at=berlin(row.created_at),
        updated_at=berlin(row.updated_at),
        is_organiser=is_organiser,
    )


def summary(row: CompetitionRow) -> schemas.CompetitionSummary:
    return schemas.CompetitionSummary(
        id=row.id,
        slug=row.slug,
        title=row.title,
        phase=row.phase,
        phase_name=phases.PHASE_NAMES[row.phase],
        submission_opens_at=berlin(row.submission_opens_at),
        submission_closes_at=berlin(row.submission_closes_at),
        submissions_open=row.submissions_open,
    )
