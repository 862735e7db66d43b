"""Jury rules: invitations, conflicts of interest, assignment runs, and online scoring.

- Conflicts are between jurors and companies and are hard exclusions: a conflicted juror is never
  assigned, and can never open, an entry of that company (checked on every read, so a conflict
  recorded after assignment takes effect at once). A juror sees entries only after confirming
  the declaration complete. Membership of the company (owner or member) is a conflict nobody
  declares: the view `juror_company_conflict` joins it to the declared and recorded ones, and
  an assignment made before the membership started is voided with it (migrations/0011).
- Assignment runs in the worker (`jury.runs.solver`, min-cost flow); organisers look at the
  feasibility report and the proposal, then deploy it. A rerun keeps what is deployed and fills
  the gaps.
- Blind competitions: nothing a juror can read carries the company's identity.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
from redis.asyncio import Redis

from competition.accounts import queries as account_queries
from competition.accounts import security
from competition.accounts import service as accounts
from competition.attachments import queries as attachment_queries
from competition.attachments import service as attachments
from competition.audit import service as audit
from competition.auth import Principal, Services
from competition.companies import queries as company_queries
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.competitions.phases import JURY_PHASES
from competition.competitions.queries import CompetitionRow
from competition.config import Settings
from competition.entries import queries as entry_queries
from competition.entries.schemas import LEFT_COMPETITION
from competition.errors import (
    AppError,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from competition.events import service as events
from competition.events.queries import EventRow
from competition.jury import confidentiality, conflicts, queries, schemas
from competition.jury.queries import AssignmentRow, JurorRow
from competition.jury.runs import solver, wording
from competition.localization import BERLIN
from competition.notifications.service import queue_email
from competition.results.aggregate import AggregationInputError, Criterion, weighted_total

INVITATION_MAX_AGE = 21 * 24 * 3600
# Addresses at these providers say nothing about an employer.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "web.de",
        "gmx.de",
        "gmx.net",
        "t-online.de",
        "outlook.com",
        "outlook.de",
        "hotmail.com",
        "hotmail.de",
        "yahoo.com",
        "yahoo.de",
        "icloud.com",
        "me.com",
        "posteo.de",
        "mailbox.org",
        "freenet.de",
        "arcor.de",
        "aol.com",
        "mail.de",
        "proton.me",
        "protonmail.com",
    }
)


class InvalidToken(AppError):
    status_code = 400
    code = "invalid_token"


# --- Invitations ---------------------------------------------------------------------------


async def invite(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.JurorInvite,
) -> JurorRow:
    await competitions.require_organiser(conn, principal, competition_id)
    slugs = {
        c.slug
        for c in await competition_queries.list_categories(conn, competition_id=competition_id)
    }
    unknown = sorted(set(data.expertise) - slugs)
    if unknown:
        raise Invalid(
            "Unbekannte Kategorien.",
            fields=[FieldError("expertise", "Unbekannt: " + ", ".join(unknown))],
        )
    juror = await queries.insert_juror(
        conn,
        competition_id=competition_id,
        email=data.email.strip().lower(),
        name=data.name.strip(),
        expertise=sorted(set(data.expertise)),
        max_load=data.max_load,
        invited_by=principal.account_id,
    )
    if juror is None:
        raise Conflict("Diese Adresse ist bereits in die Jury eingeladen.", code="already_invited")
    await events.record(conn, "juror.invited", aggregate_id=juror.id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="juror.invited",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=juror.id,
    )
    return juror


def _invitation_token(settings: Settings, juror: JurorRow) -> str:
    return security.sign(settings, "jury-invitation", {"j": str(juror.id), "e": juror.email})


async def invitation_account_state(
    conn: asyncpg.Connection,
    settings: Settings,
    *,
    token: str,
    signed_in_as: uuid.UUID | None,
) -> schemas.InvitationAccountState:
    """Which form the invitation page shows: a new password, the existing account's password
    (or a new one), or nothing when the invited account is the one signed in. Only the holder of
    the link learns whether the invited address has an account; a bad link shows the plain
    form and fails when sent."""
    payload = security.unsign(settings, "jury-invitation", token, max_age=INVITATION_MAX_AGE)
    if payload is None:
        return "new"
    juror = await queries.get_juror(conn, juror_id=uuid.UUID(str(payload["j"])))
    if juror is None or juror.email != payload.get("e"):
        return "new"
    account = await account_queries.get_account_by_email(conn, email=juror.email)
    if account is None:
        return "new"
    if account.id == signed_in_as and account.email_verified_at is not None:
        return "signed_in"
    return "existing" if account.email_verified_at is not None else "unclaimed"


async def accept(
    conn: asyncpg.Connection,
    redis: Redis,
    settings: Settings,
    *,
    token: str,
    password: str | None,
    replace_password: bool = False,
    signed_in_as: uuid.UUID | None = None,
    accept_confidentiality: bool = True,
    accept_privacy: bool = True,
) -> schemas.Accepted:
    """Accept an invitation. The link proves the address; the account behind it is proven or
    created by accounts (`account_for_invitation`), never linked on the link alone, and gets
    the privacy consent recorded as registration does."""
    if not accept_confidentiality:
        raise Invalid(
            "Ohne Verpflichtung zur Vertraulichkeit ist keine Jurytätigkeit möglich.",
            fields=[FieldError("accept_confidentiality", "Bitte der Vertraulichkeit zustimmen.")],
        )
    if not accept_privacy:
        raise Invalid(
            "Ohne Zustimmung zur Datenschutzerklärung können wir kein Konto führen.",
            fields=[FieldError("accept_privacy", "Bitte der Datenschutzerklärung zustimmen.")],
        )
    payload = security.unsign(settings, "jury-invitation", token, max_age=INVITATION_MAX_AGE)
    invalid = InvalidToken("Der Einladungslink ist ungültig oder abgelaufen.")
    if payload is None:
        raise invalid
    juror = await queries.get_juror(conn, juror_id=uuid.UUID(str(payload["j"])), for_update=True)
    if juror is None or juror.email != payload.get("e") or juror.status in ("declined", "removed"):
        raise invalid
    claimed = await accounts.account_for_invitation(
        conn,
        redis,
        email=juror.email,
        name=juror.name,
        password=password,
        set_new_password=replace_password,
        signed_in_as=signed_in_as,
    )
    account = claimed.account
    if juror.status == "invited":
        await queries.activate(
            conn,
            juror_id=juror.id,
            account_id=account.id,
            confidentiality_version=confidentiality.VERSION,
        )
        await audit.record(
            conn,
            actor_id=account.id,
            action="juror.accepted",
            competition_id=juror.competition_id,
            subject_type="juror",
            subject_id=juror.id,
        )
    elif juror.account_id != account.id:
        raise invalid
    return schemas.Accepted(
        juror_id=juror.id,
        competition_id=juror.competition_id,
        account_id=account.id,
        account_created=claimed.created,
        password_set=claimed.password_set,
    )


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    host = urlsplit(value if "://" in value else f"https://{value}").hostname or ""
    host = host.lower().removeprefix("www.")
    return host or None


def suggestions(
    juror_email: str, companies: list[tuple[uuid.UUID, str, str | None, list[str]]]
) -> list[schemas.SuggestedConflict]:
    """Companies whose web or e-mail domain is the juror's own e-mail domain."""
    domain = juror_email.rsplit("@", 1)[-1].lower()
    if domain in PUBLIC_MAIL_DOMAINS:
        return []
    found = []
    for company_id, name, website, member_domains in companies:
        site = _domain(website)
        if site and (domain == site or domain.endswith("." + site) or site.endswith("." + domain)):
            found.append(
                schemas.SuggestedConflict(
                    company_id=company_id,
                    company_name=name,
                    reason=f"E-Mail-Domain {domain} entspricht der Website {site}.",
                )
            )
        elif domain in {d.lower() for d in member_domains}:
            found.append(
                schemas.SuggestedConflict(
                    company_id=company_id,
                    company_name=name,
                    reason=f"Mitglieder des Unternehmens nutzen die E-Mail-Domain {domain}.",
                )
            )
    return found


async def list_jurors(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> list[schemas.Juror]:
    await competitions.require_organiser(conn, principal, competition_id)
    loads = await queries.loads(conn, competition_id=competition_id)
    conflicts = await queries.list_conflicts(conn, competition_id=competition_id)
    conflicts += await queries.membership_conflicts(conn, competition_id=competition_id)
    companies = await queries.participating_companies(conn, competition_id=competition_id)
    result = []
    for juror in await queries.list_jurors(conn, competition_id=competition_id):
        mine = [c for c in conflicts if c.juror_id == juror.id]
        declared = {c.company_id for c in mine}
        load, final = loads.get(juror.id, (0, 0))
        result.append(
            schemas.Juror(
                id=juror.id,
                email=juror.email,
                name=juror.name,
                expertise=juror.expertise,
                max_load=juror.max_load,
                status=juror.status,
                account_id=juror.account_id,
                invited_at=competitions.berlin(juror.invited_at),
                accepted_at=competitions.berlin(juror.accepted_at) if juror.accepted_at else None,
                conflicts_confirmed=juror.conflicts_confirmed_at is not None,
                load=load,
                final_sheets=final,
                conflicts=[_conflict_out(c, blind=False) for c in mine],
                suggested_conflicts=[
                    s for s in suggestions(juror.email, companies) if s.company_id not in declared
                ],
            )
        )
    return result


def _conflict_out(c: queries.ConflictRow, *, blind: bool) -> schemas.ConflictOut:
    return schemas.ConflictOut(
        id=c.id,
        company_id=None if blind else c.company_id,
        company_name=c.declared_as if blind else c.company_name,
        type=c.type,
        note=c.note,
        source=c.source,
    )


async def remove_juror(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, juror_id: uuid.UUID
) -> int:
    """The juror drops out: open assignments go (final sheets stay); a rerun fills the gaps."""
    await competitions.require_organiser(conn, principal, competition_id)
    juror = await queries.get_juror(conn, juror_id=juror_id, for_update=True)
    if juror is None or juror.competition_id != competition_id:
        raise NotFound("Jurymitglied nicht gefunden.")
    await queries.set_status(conn, juror_id=juror_id, status="removed")
    removed = await queries.delete_open_assignments(conn, juror_id=juror_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="juror.removed",
        competition_id=competition_id,
        subject_type="juror",
        subject_id=juror_id,
        data={"assignments_removed": removed},
    )
    return removed


# --- Conflicts -----------------------------------------------------------------------------


async def require_juror(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> tuple[JurorRow, CompetitionRow]:
    """The caller's active juror record; other people learn nothing (404)."""
    competition = await competition_queries.get_competition(conn, competition_id=competition_id)
    juror = (
        await queries.juror_of(conn, competition_id=competition_id, account_id=principal.account_id)
        if competition
        else None
    )
    if competition is None or juror is None:
        raise NotFound("Keine Jurytätigkeit in diesem Wettbewerb.")
    return juror, competition


# --- Assignment runs -----------------------------------------------------------------------


async def create_run(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.RunCreate,
) -> uuid.UUID:
    competition = await competitions.require_organiser(conn, principal, competition_id)
    if competition.phase not in ("closed", "judging"):
        raise Conflict(
            "Die Zuteilung läuft erst nach dem Einsendeschluss (Phase „geschlossen“ oder "
            "„Jurybewertung“).",
            code="wrong_phase",
        )
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
    jurors = await queries.list_jurors(conn, competition_id=competition_id)
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
    for juror_id, company_id, reason in await queries.conflicted_companies(
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
    assert event.aggregate_id is not None
    run = await queries.get_run(conn, run_id=event.aggregate_id, for_update=True)
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
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, run_id: uuid.UUID
) -> schemas.Run:
    await competitions.require_organiser(conn, principal, competition_id)
    run = await queries.get_run(conn, run_id=run_id)
    if run is None or run.competition_id != competition_id:
        raise NotFound("Zuteilungslauf nicht gefunden.")
    proposed = None
    if run.proposal is not None:
        names = {
            j.id: j.name for j in await queries.list_jurors(conn, competition_id=competition_id)
        }
        titles = {
            r["id"]: r["title"]
            for r in await conn.fetch(
                "SELECT id, title FROM entry WHERE competition_id = $1", competition_id
            )
        }
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
        report=_report_out(run.report),
        stats=run.stats,
        error=run.error,
        created_at=competitions.berlin(run.created_at),
        finished_at=competitions.berlin(run.finished_at) if run.finished_at else None,
        deployed_at=competitions.berlin(run.deployed_at) if run.deployed_at else None,
        assignments=proposed,
        voided=await competitions.voided_assignments(conn, competition_id=competition_id),
    )


def _report_out(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored report with its sentences, written now from its findings. Runs stored before
    the solver returned findings carry their sentences instead, and show them as they are."""
    if stored is None or "findings" not in stored:
        return stored
    report = msgspec.convert(stored, solver.FeasibilityReport)
    return {**stored, "messages": wording.messages(report)}


async def deploy(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, run_id: uuid.UUID
) -> schemas.Deployed:
    await competitions.require_organiser(conn, principal, competition_id)
    run = await queries.get_run(conn, run_id=run_id, for_update=True)
    if run is None or run.competition_id != competition_id:
        raise NotFound("Zuteilungslauf nicht gefunden.")
    if run.status == "deployed":
        return schemas.Deployed(id=run.id, status=run.status, created=0)
    if run.status != "done" or run.proposal is None or run.report is None:
        raise Conflict("Dieser Lauf hat keinen Vorschlag zum Übernehmen.", code="not_deployable")
    await conflicts.require_decided(conn, competition_id)
    # Serialise deployments of one competition, then check nothing moved since the run.
    await conn.execute("SELECT 1 FROM competition WHERE id = $1 FOR UPDATE", competition_id)
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
        raise Conflict(
            "Seit diesem Lauf hat sich die Jury, ein Beitrag oder ein Konflikt geändert. "
            "Bitte neu berechnen.",
            code="stale_run",
        )
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
    assert event.aggregate_id is not None
    settings = services.settings
    run = await queries.get_run(conn, run_id=event.aggregate_id)
    if run is None:
        return
    competition = await competition_queries.get_competition(conn, competition_id=run.competition_id)
    if competition is None:
        return
    for juror_id, count in await queries.new_assignments_by_juror(conn, run_id=run.id):
        juror = await queries.get_juror(conn, juror_id=juror_id)
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


async def on_invited(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    assert event.aggregate_id is not None
    settings = services.settings
    juror = await queries.get_juror(conn, juror_id=event.aggregate_id)
    if juror is None or juror.status != "invited":
        return
    competition = await competition_queries.get_competition(
        conn, competition_id=juror.competition_id
    )
    if competition is None:
        return
    account = await account_queries.get_account_by_email(conn, email=juror.email)
    locale = account.locale if account else "de"
    token = _invitation_token(settings, juror)
    await queue_email(
        conn,
        settings,
        event_id=event.id,
        template="jury_invitation",
        competition_id=competition.id,
        recipient=juror.email,
        locale=locale,
        context={
            "name": juror.name,
            "competition": competition.title.get(locale, competition.title["de"]),
            "action_url": f"{settings.public_url.rstrip('/')}/jury/accept?token={token}",
            "has_account": account is not None,
        },
    )


# --- Assignments and scoring -----------------------------------------------------------------


def _criteria(rows: list[competition_queries.CriterionRow]) -> list[Criterion]:
    return [Criterion(key=c.key, weight=c.weight, min=c.min_score, max=c.max_score) for c in rows]


async def own_assignment(
    conn: asyncpg.Connection, principal: Principal, assignment_id: uuid.UUID
) -> AssignmentRow:
    """The caller's own assignment, declarations made. Conflicted, voided, recused, foreign, or
    of an entry that left the competition: 404, the same answer for each, so a vanished
    assignment does not tell a blind juror whether a conflict (the company) or a withdrawal was
    the cause."""
    row = await queries.get_assignment(conn, assignment_id=assignment_id)
    if (
        row is None
        or row.account_id != principal.account_id
        or row.juror_status != "active"
        or row.conflicted
        or row.voided_at is not None
        or row.entry_status in LEFT_COMPETITION
    ):
        raise NotFound("Zuteilung nicht gefunden.")
    _require_declarations(row.conflicts_confirmed_at, row.confidentiality_accepted_at)
    return row


def _require_visible(competition: CompetitionRow | None) -> CompetitionRow:
    if competition is None or competition.phase not in JURY_PHASES:
        raise NotFound("Zuteilung nicht gefunden.")
    return competition


async def _assignment_for(
    conn: asyncpg.Connection, principal: Principal, assignment_id: uuid.UUID
) -> tuple[AssignmentRow, CompetitionRow]:
    """The caller's own assignment, if they may open it now. Conflicted or foreign: 404."""
    row = await own_assignment(conn, principal, assignment_id)
    competition = await competition_queries.get_competition(conn, competition_id=row.competition_id)
    return row, _require_visible(competition)


def _require_declarations(
    conflicts_confirmed_at: datetime | None, confidentiality_accepted_at: datetime | None
) -> None:
    """No entry before the juror has accepted confidentiality and confirmed the conflicts."""
    if confidentiality_accepted_at is None:
        raise Forbidden(
            "Bitte verpflichten Sie sich zuerst zur Vertraulichkeit.",
            code="confidentiality_required",
        )
    if conflicts_confirmed_at is None:
        raise Forbidden(
            "Bitte bestätigen Sie zuerst Ihre Angaben zu Interessenkonflikten.",
            code="conflicts_unconfirmed",
        )


def _sheet(row: AssignmentRow) -> schemas.Sheet:
    return schemas.Sheet(
        status=row.sheet_status or "open",
        version=row.sheet_version or 0,
        scores=row.scores or {},
        comment=row.comment or "",
        weighted_total=row.weighted_total,
        updated_at=competitions.berlin(row.sheet_updated_at) if row.sheet_updated_at else None,
    )


async def my_assignments(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID | None
) -> list[schemas.AssignmentItem]:
    if competition_id is not None:
        juror, _ = await require_juror(conn, principal, competition_id)
        _require_declarations(juror.conflicts_confirmed_at, juror.confidentiality_accepted_at)
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
        raise NotFound("Zuteilung nicht gefunden.")
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
    row = await own_assignment(conn, principal, assignment_id)
    # Competition and criteria in one round trip: saves come in bursts (docs/benchmarks.md).
    found = await competition_queries.get_competition_with_criteria(
        conn, competition_id=row.competition_id
    )
    competition = _require_visible(found[0] if found else None)
    rows = found[1] if found else []
    if competition.phase != "judging":
        raise Conflict("Bewertet wird nur in der Phase „Jurybewertung“.", code="not_judging")
    sheet = await queries.lock_sheet(conn, assignment_id=assignment_id)
    if sheet is None:
        raise NotFound("Zuteilung nicht gefunden.")
    if sheet["status"] == "final":
        raise Conflict("Dieser Bewertungsbogen ist abgeschlossen und gesperrt.", code="sheet_final")
    if if_match is not None and if_match != sheet["version"]:
        raise PreconditionFailed(
            "Der Bogen wurde inzwischen gespeichert (anderes Fenster?). Bitte neu laden; Ihre "
            "Eingaben bleiben in diesem Fenster erhalten.",
            code="version_conflict",
        )
    by_key = {c.key: c for c in rows}
    problems = [
        FieldError(f"scores.{k}", "Unbekanntes Kriterium.") for k in data.scores if k not in by_key
    ]
    for key, value in data.scores.items():
        c = by_key.get(key)
        if c is not None and not (c.min_score <= value <= c.max_score):
            problems.append(
                FieldError(
                    f"scores.{key}", f"Erlaubt sind Werte von {c.min_score:g} bis {c.max_score:g}."
                )
            )
    missing = [k for k in by_key if k not in data.scores]
    if data.final and missing:
        problems += [FieldError(f"scores.{k}", "Für den Abschluss erforderlich.") for k in missing]
    if problems:
        raise Invalid("Der Bewertungsbogen ist unvollständig oder ungültig.", fields=problems)
    total = None
    if not missing:
        try:
            total = weighted_total(scores=data.scores, criteria=_criteria(rows))
        except AggregationInputError as exc:  # already checked above; keep the API total-safe
            raise Invalid(str(exc)) from exc
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
        updated_at=competitions.berlin(updated),
    )


# --- Progress and reminders ----------------------------------------------------------------


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
