"""Conflicts of interest: what jurors declare, what organisers record, and recusal.

- A juror's declaration is stored as typed (`conflict_declaration`), matched on the server
  (`name_matching`), and each match becomes a conflict. A free-text name that matches no
  company waits for an organiser, who links it to a company or dismisses it; an assignment
  cannot be deployed while one waits. The juror's answer never says what matched, so it
  reveals nothing about who takes part.
- Conflicts an organiser recorded are rows of their own: a juror replacing their declaration
  never removes them; only an organiser does, with an audit entry.
- After an assignment is deployed, a new company-level declaration changes nothing the juror
  can see: it waits for an organiser (who is told by mail), so dropping an entry by declaring
  its company would neither work nor reveal which entry was whose. For a specific entry the
  juror recuses with a reason: the assignment is withdrawn (kept as evidence, never given to
  that juror again) and the organisers are told, to reassign by an incremental run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

from competition import catalog
from competition.audit import service as audit
from competition.auth import Principal
from competition.companies import queries as company_queries
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.errors import Conflict, Invalid, NotFound, Problem, problem
from competition.events import service as events
from competition.events.queries import EventRow
from competition.jury import queries as jury_queries
from competition.jury import service as jury
from competition.jury.conflicts import matching, queries, schemas
from competition.jury.conflicts.queries import DeclarationRow
from competition.notifications.service import queue_email
from competition.services import Services


async def participating(
    conn: asyncpg.Connection, competition_id: uuid.UUID
) -> list[matching.Company]:
    """The companies with entries in the competition, as the matching knows them."""
    return [
        matching.Company(str(i), name, site, domains)
        for i, name, site, domains in await jury_queries.participating_companies(
            conn, competition_id=competition_id
        )
    ]


def _reason(s: matching.Suggestion, locale: str) -> str:
    if s.by == "website":
        return catalog.text(
            "jury.suggested_by_website", {"domain": s.domain, "website": s.website or ""}, locale
        )
    return catalog.text("jury.suggested_by_members", {"domain": s.domain}, locale)


def suggested(
    juror_email: str, companies: Iterable[matching.Company], locale: str = "de"
) -> list[schemas.SuggestedConflict]:
    """Companies the juror's e-mail domain suggests a conflict with, each with its reason in
    `locale` (the API's: German)."""
    return [
        schemas.SuggestedConflict(
            company_id=uuid.UUID(s.company_id),
            company_name=s.company_name,
            reason=_reason(s, locale),
        )
        for s in matching.suggestions(juror_email, companies)
    ]


def _declaration_out(d: DeclarationRow, *, blind: bool) -> schemas.ConflictOut:
    return schemas.ConflictOut(
        id=None,
        company_id=None if blind else d.company_id,
        company_name=d.declared_as if d.declared_as is not None else d.company_name,
        type=d.type,
        note=d.note,
        source="juror",
        pending_review=d.status == "pending",
    )


async def my_conflicts(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    *,
    locale: str = "de",
) -> schemas.MyConflictsOut:
    """The juror's declarations as they made them, and (unless blind) the organiser's records
    and the suggested conflicts, their reasons in `locale` (the API's: German)."""
    juror, competition = await jury.require_juror(conn, principal, competition_id)
    blind = competition.blind_judging
    declared = await queries.list_declarations(
        conn, competition_id=competition_id, juror_id=juror.id
    )
    recorded = [
        c
        for c in await queries.list_conflicts(conn, competition_id=competition_id)
        if c.juror_id == juror.id and c.source == "organiser"
    ]
    out = [_declaration_out(d, blind=blind) for d in declared if d.status != "dismissed"]
    out += [
        schemas.ConflictOut(
            id=None,
            company_id=None if blind else c.company_id,
            # In blind competitions the name the organiser recorded would say who takes part.
            company_name=None if blind else c.company_name,
            type=c.type,
            note=None if blind else c.note,
            source="organiser",
            pending_review=False,
        )
        for c in recorded
    ]
    companies = None if blind else await participating(conn, competition_id)
    return schemas.MyConflictsOut(
        conflicts=out,
        confirmed_complete=juror.conflicts_confirmed_at is not None,
        companies=None
        if companies is None
        else [schemas.CompanyChoice(id=uuid.UUID(c.id), name=c.name) for c in companies],
        suggested=None if companies is None else suggested(juror.email, companies, locale),
    )


def _key(company_id: uuid.UUID | None, text: str | None) -> str:
    return str(company_id) if company_id else matching.normalise_name(text or "")


def _matched(item: schemas.ConflictIn, companies: list[matching.Company]) -> list[uuid.UUID]:
    """The companies a declaration names: the one chosen by id, or those its text matches."""
    if item.company_id is not None:
        return [item.company_id]
    return [uuid.UUID(i) for i in matching.matching(item.company or "", companies)]


async def put_my_conflicts(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.MyConflicts,
) -> schemas.MyConflictsOut:

    juror, competition = await jury.require_juror(conn, principal, competition_id)
    companies = await participating(conn, competition_id)
    known = {c.id for c in companies}
    problems: list[Problem] = []
    for i, item in enumerate(data.conflicts):
        if (item.company_id is None) == (item.company is None):
            problems.append(problem(f"conflicts[{i}]", "jury.company_id_or_company"))
        elif item.company_id is not None and (
            competition.blind_judging or str(item.company_id) not in known
        ):
            problems.append(problem(f"conflicts[{i}].company_id", "jury.unknown_company"))
    if problems:
        raise Invalid("jury.declaration_invalid", fields=problems)
    late = await queries.deployed(conn, competition_id=competition_id)
    previous = await queries.list_declarations(
        conn, competition_id=competition_id, juror_id=juror.id
    )
    if late:
        # Nothing the juror did before is undone; what is new waits for an organiser.
        kept = {_key(d.company_id, d.declared_as) for d in previous}
        position = max((d.position for d in previous), default=-1) + 1
        added = 0
        for item in data.conflicts:
            if _key(item.company_id, item.company) in kept:
                continue
            kept.add(_key(item.company_id, item.company))
            await queries.insert_declaration(
                conn,
                juror_id=juror.id,
                position=position,
                company_id=item.company_id,
                declared_as=item.company,
                type=item.type,
                note=item.note,
                status="pending",
                matched_company_ids=_matched(item, companies),
            )
            position += 1
            added += 1
        if added:
            await events.record(conn, "conflict.declared_late", aggregate_id=juror.id)
    else:
        decided = {
            _key(d.company_id, d.declared_as)
            for d in previous
            if d.status in ("resolved", "dismissed")
        }
        await queries.delete_open_declarations(conn, juror_id=juror.id)
        await queries.delete_juror_declared_conflicts(conn, juror_id=juror.id)
        for position, item in enumerate(data.conflicts):
            if _key(item.company_id, item.company) in decided:
                continue  # an organiser already decided about this very name
            matched = _matched(item, companies)
            await queries.insert_declaration(
                conn,
                juror_id=juror.id,
                position=position,
                company_id=item.company_id,
                declared_as=item.company,
                type=item.type,
                note=item.note,
                status="matched" if matched else "unmatched",
                matched_company_ids=matched,
            )
            for company_id in matched:
                await _stand(
                    conn,
                    juror_id=juror.id,
                    company_id=company_id,
                    type=item.type,
                    note=item.note,
                    declared_as=item.company,
                    source="juror",
                    actor=principal.account_id,
                )
    await queries.set_conflicts_confirmed(
        conn, juror_id=juror.id, confirmed=data.confirmed_complete
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="juror.conflicts_declared",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=juror.id,
        data={
            "count": len(data.conflicts),
            "confirmed_complete": data.confirmed_complete,
            "after_deployment": late,
        },
    )
    return await my_conflicts(conn, principal, competition_id)


async def _stand(
    conn: asyncpg.Connection,
    *,
    juror_id: uuid.UUID,
    company_id: uuid.UUID,
    type: str,
    note: str | None,
    declared_as: str | None,
    source: str,
    actor: uuid.UUID,
) -> None:
    """A conflict now stands: recorded, and the juror's open assignments to it are void."""
    await queries.upsert_conflict(
        conn,
        juror_id=juror_id,
        company_id=company_id,
        type=type,
        note=note,
        declared_as=declared_as,
        source=source,
        created_by=actor,
    )
    await queries.withdraw_assignments(conn, juror_id=juror_id, company_id=company_id)


async def record_conflict(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.OrganiserConflict,
) -> None:
    await competitions.require_organiser(conn, principal, competition_id)
    juror = await jury_queries.get_juror(conn, juror_id=data.juror_id)
    company = await company_queries.get_company(conn, company_id=data.company_id)
    if juror is None or juror.competition_id != competition_id or company is None:
        raise NotFound("jury.juror_or_company_not_found")
    await _stand(
        conn,
        juror_id=juror.id,
        company_id=company.id,
        type=data.type,
        note=data.note,
        declared_as=None,
        source="organiser",
        actor=principal.account_id,
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="conflict.recorded",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=juror.id,
        data={"company_id": str(company.id), "type": data.type},
    )


async def remove_conflict(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    conflict_id: uuid.UUID,
) -> None:
    """An organiser removes a conflict an organiser recorded (jurors change their own by
    declaring again)."""
    await competitions.require_organiser(conn, principal, competition_id)
    removed = await queries.delete_recorded_conflict(
        conn, competition_id=competition_id, conflict_id=conflict_id
    )
    if removed is None:
        raise NotFound("jury.recorded_conflict_not_found")
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="conflict.removed",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=removed.juror_id,
        data={"company_id": str(removed.company_id), "type": removed.type},
    )


async def declarations(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    status: list[str] | None,
) -> list[schemas.DeclarationOut]:
    """Organisers: every declaration, with what it matched and candidates for the open ones."""
    await competitions.require_organiser(conn, principal, competition_id)
    companies = await participating(conn, competition_id)
    names = {c.id: c.name for c in companies}
    out = []
    for d in await queries.list_declarations(conn, competition_id=competition_id, statuses=status):
        open_ = d.status in ("unmatched", "pending")
        out.append(
            schemas.DeclarationOut(
                id=d.id,
                juror_id=d.juror_id,
                juror_name=d.juror_name,
                declared_as=d.declared_as,
                company_id=d.company_id,
                company_name=d.company_name,
                type=d.type,
                note=d.note,
                status=d.status,
                matched=[
                    schemas.CompanyChoice(id=i, name=names.get(str(i), "?"))
                    for i in d.matched_company_ids
                ],
                candidates=[
                    schemas.CandidateOut(
                        company_id=uuid.UUID(c.company_id), name=c.name, score=c.score
                    )
                    for c in matching.candidates(d.declared_as or "", companies)
                ]
                if open_ and d.declared_as
                else [],
                created_at=d.created_at,
            )
        )
    return out


async def decide(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    declaration_id: uuid.UUID,
    data: schemas.DeclarationDecision,
) -> None:
    """Link an open declaration to a company (the conflict then stands, as the organiser's
    record) or dismiss it (it names no one taking part)."""
    await competitions.require_organiser(conn, principal, competition_id)
    declaration = await queries.get_declaration(
        conn, competition_id=competition_id, declaration_id=declaration_id
    )
    if declaration is None:
        raise NotFound("jury.declaration_not_found")
    if declaration.status not in ("unmatched", "pending"):
        raise Conflict("jury.declaration_decided", code="already_decided")
    linked = data.company_ids
    known = {c.id for c in await participating(conn, competition_id)}
    unknown = [str(i) for i in linked if str(i) not in known]
    if unknown:
        raise Invalid(
            "jury.unknown_company",
            fields=[problem("company_ids", "jury.not_taking_part", companies=", ".join(unknown))],
        )
    for company_id in linked:
        await _stand(
            conn,
            juror_id=declaration.juror_id,
            company_id=company_id,
            type=declaration.type,
            note=declaration.note,
            declared_as=declaration.declared_as,
            source="organiser",
            actor=principal.account_id,
        )
    status = "resolved" if linked else "dismissed"
    await queries.decide_declaration(
        conn, declaration_id=declaration.id, status=status, decided_by=principal.account_id
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action=f"conflict_declaration.{status}",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=declaration.juror_id,
        data={"declaration_id": str(declaration.id), "company_ids": [str(i) for i in linked]},
    )


async def require_decided(conn: asyncpg.Connection, competition_id: uuid.UUID) -> None:
    """No deployment while a declaration waits for an organiser."""
    waiting = await queries.open_declarations(conn, competition_id=competition_id)
    if waiting:
        raise Conflict("jury.open_declarations", code="open_declarations", count=waiting)


async def recuse(
    conn: asyncpg.Connection,
    principal: Principal,
    assignment_id: uuid.UUID,
    data: schemas.Recusal,
) -> schemas.Recused:

    assignment = await jury.own_assignment(conn, principal, assignment_id)
    recused_at = await queries.recuse(conn, assignment_id=assignment.id, reason=data.reason)
    if recused_at is None:  # a second click: already withdrawn, nothing more to do
        raise NotFound("jury.assignment_not_found")
    await events.record(conn, "assignment.recused", aggregate_id=assignment.id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="assignment.recused",
        competition_id=assignment.competition_id,
        subject_type="assignment",
        subject_id=assignment.id,
        data={"reason": data.reason},
    )
    return schemas.Recused(id=assignment.id, status="recused", recused_at=recused_at)


async def _tell_organisers(
    conn: asyncpg.Connection,
    services: Services,
    event: EventRow,
    *,
    competition_id: uuid.UUID,
    juror_name: str,
    what: str,
) -> None:
    competition = await competition_queries.get_competition(conn, competition_id=competition_id)
    if competition is None:
        return
    link = f"{services.settings.public_url.rstrip('/')}/organisation/{competition_id}/jury"
    for organiser in await queries.organisers_of(conn, competition_id=competition_id):
        await queue_email(
            conn,
            services.settings,
            event_id=event.id,
            template="jury_conflict_review",
            competition_id=competition_id,
            recipient=organiser.email,
            locale=organiser.locale,
            account_id=organiser.id,
            context={
                "name": organiser.name,
                "juror": juror_name,
                "what": what,
                "competition": competition.title.get(organiser.locale, competition.title["de"]),
                "action_url": link,
            },
        )


async def on_declared_late(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    juror = await jury_queries.get_juror(conn, juror_id=event.subject)
    if juror is not None:
        await _tell_organisers(
            conn,
            services,
            event,
            competition_id=juror.competition_id,
            juror_name=juror.name,
            what="declaration",
        )


async def on_recused(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    found = await queries.assignment_juror(conn, assignment_id=event.subject)
    if found is not None:
        competition_id, juror_name = found
        await _tell_organisers(
            conn,
            services,
            event,
            competition_id=competition_id,
            juror_name=juror_name,
            what="recusal",
        )
