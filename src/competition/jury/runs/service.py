"""Assignment runs: an organiser starts a run; the worker builds the problem from the jury,
the submitted entries, the conflicts and what stands already, checks feasibility and solves
(`runs.solver`, pure); the organiser reads the report (`runs.wording` says it) and the proposal
and deploys it, unless anything it was computed from has changed since. A rerun keeps what is
deployed and fills the gaps."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import Counter
from typing import Any

import asyncpg
import msgspec

from competition.accounts import queries as account_queries
from competition.audit import service as audit
from competition.auth import Principal
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.errors import Conflict, NotFound
from competition.events import service as events
from competition.events.queries import EventRow
from competition.jury import queries as jury_queries
from competition.jury import service as jury
from competition.jury.conflicts import queries as conflict_queries
from competition.jury.conflicts import service as conflicts
from competition.jury.runs import queries, schemas, solver, wording
from competition.localization import berlin
from competition.notifications.service import queue_email
from competition.services import Services


async def create_run(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.RunCreate,
) -> uuid.UUID:
    competition = await competitions.require_organiser(conn, principal, competition_id)
    if competition.phase not in ("closed", "judging"):
        raise Conflict("run.wrong_phase", code="wrong_phase")
    run_id = await queries.insert_run(
        conn,
        competition_id=competition_id,
        reviews_per_entry=data.reviews_per_entry or competition.reviews_per_entry,
        seed=data.seed if data.seed is not None else secrets.randbelow(2**31),
        created_by=principal.account_id,
    )
    await events.record(conn, "assignment_run.requested", aggregate_id=run_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="assignment_run.requested",
        competition_id=competition_id,
        subject_type="assignment_run",
        subject_id=run_id,
    )
    return run_id


def _fingerprint(pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> str:
    text = "\n".join(sorted(f"{j}:{e}" for j, e in pairs))
    return hashlib.sha256(text.encode()).hexdigest()


async def _problem(
    conn: asyncpg.Connection, competition_id: uuid.UUID, reviews: int, seed: int
) -> tuple[solver.Problem, str, dict[str, int]]:
    """The solver's problem, the fingerprint of the standing assignments, and how many
    (juror, entry) pairs are excluded as declared/recorded conflicts and as memberships."""
    entries = await queries.assignable_entries(conn, competition_id=competition_id)
    entry_ids = {e for e, _, _ in entries}
    existing = await queries.existing_pairs(conn, competition_id=competition_id)
    jurors = await jury_queries.list_jurors(conn, competition_id=competition_id)
    active = {j.id for j in jurors if j.status == "active"}
    # Jurors who left keep their finished reviews: they count toward coverage, capped at what
    # they already did, so the solver gives them nothing new.
    finished = Counter(j for j, e in existing if j not in active and e in entry_ids)
    recused = await queries.recused_pairs(conn, competition_id=competition_id)
    by_company: dict[uuid.UUID, list[uuid.UUID]] = {}
    for entry_id, _, company_id in entries:
        by_company.setdefault(company_id, []).append(entry_id)
    in_problem = {j.id for j in jurors if j.id in active or finished[j.id]}
    excluded: dict[str, set[tuple[str, str]]] = {"declared": set(), "member": set()}
    for juror_id, company_id, reason in await conflict_queries.conflicted_companies(
        conn, competition_id=competition_id
    ):
        if juror_id in in_problem:
            excluded["member" if reason == "member" else "declared"].update(
                (str(juror_id), str(e)) for e in by_company.get(company_id, [])
            )
    problem = solver.Problem(
        entries=tuple(solver.Entry(id=str(e), category=c) for e, c, _ in entries),
        jurors=tuple(
            solver.Juror(
                id=str(j.id),
                expertise=frozenset(j.expertise),
                max_load=j.max_load if j.id in active else finished[j.id],
            )
            for j in jurors
            if j.id in in_problem
        ),
        reviews_per_entry=reviews,
        conflicts=frozenset(excluded["declared"] | excluded["member"])
        | frozenset((str(j), str(e)) for j, e in recused if e in entry_ids),
        existing=frozenset((str(j), str(e)) for j, e in existing if e in entry_ids),
        seed=seed,
    )
    return problem, _fingerprint(existing), {k: len(v) for k, v in excluded.items()}


async def on_run_requested(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    """The worker side of a run: feasibility first, then the solver; both stored on the run."""
    run = await queries.get_run(conn, run_id=event.subject, for_update=True)
    if run is None or run.status != "queued":
        return
    problem, fingerprint, excluded = await _problem(
        conn, run.competition_id, run.reviews_per_entry, run.seed
    )
    report = solver.check_feasibility(problem)
    report_data: dict[str, Any] = msgspec.to_builtins(report)
    report_data["existing_fingerprint"] = fingerprint
    report_data["conflicts"] = excluded
    if not report.feasible:
        await queries.finish_run(
            conn,
            run_id=run.id,
            status="infeasible",
            feasible=False,
            report=report_data,
            stats=None,
            proposal=None,
        )
        return
    solution = solver.solve(problem)
    await queries.finish_run(
        conn,
        run_id=run.id,
        status="done",
        feasible=True,
        report=report_data,
        stats=msgspec.to_builtins(solution.stats),
        proposal=[[j, e] for j, e in solution.assignments],
    )


async def get_run(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    locale: str = "de",
) -> schemas.Run:
    """The run with its report's sentences in `locale` (the API's: German)."""
    await competitions.require_organiser(conn, principal, competition_id)
    run = await queries.get_run(conn, run_id=run_id)
    if run is None or run.competition_id != competition_id:
        raise NotFound("run.not_found")
    proposed = None
    if run.proposal is not None:
        names = {
            j.id: j.name
            for j in await jury_queries.list_jurors(conn, competition_id=competition_id)
        }
        titles = await queries.entry_titles(conn, competition_id=competition_id)
        proposed = [
            schemas.ProposedAssignment(
                juror_id=uuid.UUID(j),
                juror_name=names.get(uuid.UUID(j), ""),
                entry_id=uuid.UUID(e),
                entry_title=titles.get(uuid.UUID(e), ""),
            )
            for j, e in run.proposal
        ]
    return schemas.Run(
        id=run.id,
        status=run.status,
        reviews_per_entry=run.reviews_per_entry,
        seed=run.seed,
        feasible=run.feasible,
        report=_report_out(run.report, locale),
        stats=run.stats,
        error=run.error,
        created_at=berlin(run.created_at),
        finished_at=berlin(run.finished_at) if run.finished_at else None,
        deployed_at=berlin(run.deployed_at) if run.deployed_at else None,
        assignments=proposed,
        voided=await jury.voided_assignments(conn, competition_id=competition_id),
    )


def _report_out(stored: dict[str, Any] | None, locale: str) -> dict[str, Any] | None:
    """The stored report with its sentences, written now from its findings in `locale`. Runs
    stored before the solver returned findings carry their German sentences instead, and show
    them as they are."""
    if stored is None or "findings" not in stored:
        return stored
    report = msgspec.convert(stored, solver.FeasibilityReport)
    return {**stored, "messages": wording.messages(report, locale)}


async def deploy(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, run_id: uuid.UUID
) -> schemas.Deployed:
    await competitions.require_organiser(conn, principal, competition_id)
    run = await queries.get_run(conn, run_id=run_id, for_update=True)
    if run is None or run.competition_id != competition_id:
        raise NotFound("run.not_found")
    if run.status == "deployed":
        return schemas.Deployed(id=run.id, status=run.status, created=0)
    if run.status != "done" or run.proposal is None or run.report is None:
        raise Conflict("run.not_deployable", code="not_deployable")
    await conflicts.require_decided(conn, competition_id)
    # Serialise deployments of one competition, then check nothing moved since the run.
    await competition_queries.get_competition(conn, competition_id=competition_id, for_update=True)
    current = await queries.existing_pairs(conn, competition_id=competition_id)
    problem, _, _ = await _problem(conn, competition_id, run.reviews_per_entry, run.seed)
    valid_entries = {e.id for e in problem.entries}
    valid_jurors = {j.id for j in problem.jurors}
    pairs = [(j, e) for j, e in run.proposal]
    if (
        _fingerprint(current) != run.report.get("existing_fingerprint")
        or any(j not in valid_jurors or e not in valid_entries for j, e in pairs)
        or any((j, e) in problem.conflicts for j, e in pairs)
    ):
        raise Conflict("run.stale", code="stale_run")
    created = await queries.insert_assignments(
        conn,
        competition_id=competition_id,
        run_id=run.id,
        pairs=[(uuid.UUID(j), uuid.UUID(e)) for j, e in pairs],
    )
    await queries.mark_deployed(conn, run_id=run.id)
    await events.record(conn, "assignments.deployed", aggregate_id=run.id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="assignments.deployed",
        competition_id=competition_id,
        subject_type="assignment_run",
        subject_id=run.id,
        data={"created": created},
    )
    return schemas.Deployed(id=run.id, status="deployed", created=created)


async def on_deployed(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    """One mail per juror with new assignments."""
    settings = services.settings
    run = await queries.get_run(conn, run_id=event.subject)
    if run is None:
        return
    competition = await competition_queries.get_competition(conn, competition_id=run.competition_id)
    if competition is None:
        return
    for juror_id, count in await queries.new_assignments_by_juror(conn, run_id=run.id):
        juror = await jury_queries.get_juror(conn, juror_id=juror_id)
        if juror is None or juror.account_id is None:
            continue
        account = await account_queries.get_account(conn, account_id=juror.account_id)
        if account is None:
            continue
        await queue_email(
            conn,
            settings,
            event_id=event.id,
            template="jury_assigned",
            competition_id=competition.id,
            recipient=account.email,
            locale=account.locale,
            account_id=account.id,
            context={
                "name": juror.name,
                "count": count,
                "competition": competition.title.get(account.locale, competition.title["de"]),
                "action_url": f"{settings.public_url.rstrip('/')}/jury/{competition.id}",
            },
        )
