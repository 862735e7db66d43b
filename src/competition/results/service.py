"""Results: aggregation runs, winners, publication and the public winners page.

A result run is computed in the worker from the final score sheets (`results.aggregate`) and
stored with its method, parameters and a SHA-256 over the canonical JSON of inputs and outputs.
`verify_run` recomputes a run from the database: if any input changed since (a score, an entry),
the hash no longer matches. Publishing freezes the run (a trigger then refuses any change to it),
records the winners, opens the public page and sends each entrant and juror one mail.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import asyncpg
import msgspec

from competition import catalog
from competition.audit import service as audit
from competition.auth import Principal
from competition.competitions import queries as competition_queries
from competition.competitions import service as competitions
from competition.errors import Conflict, Invalid, NotFound, Problem, problem
from competition.events import service as events
from competition.events.queries import EventRow
from competition.localization import berlin
from competition.notifications.service import queue_email
from competition.results import aggregate, queries, schemas
from competition.results.queries import ResultRunRow
from competition.results.snapshot import CURRENT_HASH_SCHEME
from competition.services import Services
from competition.vocabulary import Method


async def create_run(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, method: Method
) -> uuid.UUID:
    competition = await competitions.require_organiser(conn, principal, competition_id)
    if competition.phase not in ("judging", "deliberation"):
        raise Conflict("result.run_wrong_phase", code="wrong_phase")
    run_id = await queries.insert_run(
        conn, competition_id=competition_id, method=method, created_by=principal.account_id
    )
    await events.record(conn, "result_run.requested", aggregate_id=run_id)
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="result_run.requested",
        competition_id=competition_id,
        subject_type="result_run",
        subject_id=run_id,
        data={"method": method},
    )
    return run_id


async def compute(
    conn: asyncpg.Connection,
    competition_id: uuid.UUID,
    method: Method,
    parameters: aggregate.AggregateParameters | None = None,
    hash_scheme: aggregate.HashScheme = CURRENT_HASH_SCHEME,
) -> tuple[aggregate.ScoreTable, aggregate.AggregateResult]:
    """Aggregate the competition's final sheets as they are in the database now; the snapshot
    hash is made with `hash_scheme` (a new run's: the current one)."""
    competition = await competition_queries.get_competition(conn, competition_id=competition_id)
    if competition is None:
        raise NotFound("competition.not_found")
    criteria = [
        aggregate.Criterion(key=c.key, weight=c.weight, min=c.min_score, max=c.max_score)
        for c in await competition_queries.list_criteria(conn, competition_id=competition_id)
    ]
    categories = [
        c.slug
        for c in await competition_queries.list_categories(conn, competition_id=competition_id)
    ]
    entries, loaded = await queries.inputs(conn, competition_id=competition_id)
    # A final sheet by a juror who conflicts with the entry's company (declared, recorded or by
    # membership, whenever it came to light) does not count; the run names it and why.
    sheets = [s for s in loaded if not s.conflicts]
    excluded = tuple(
        aggregate.ExcludedSheet(
            entry_id=str(s.entry_id), juror_id=str(s.juror_id), reasons=tuple(s.conflicts)
        )
        for s in loaded
        if s.conflicts
    )
    table = aggregate.table_from_records(
        criteria=criteria,
        categories=categories,
        entries=[
            aggregate.EntryRecord(entry_id=str(e["id"]), title=e["title"], category=e["category"])
            for e in entries
        ],
        sheets=[
            aggregate.SheetRecord(
                entry_id=str(s.entry_id),
                juror_id=str(s.juror_id),
                scores={k: float(v) for k, v in s.scores.items()},
            )
            for s in sheets
        ],
    )
    params = parameters or aggregate.AggregateParameters(
        tie_break=tuple(competition.tie_break), reviews_per_entry=competition.reviews_per_entry
    )
    # Always the exclusions as they are now, also when a stored run is verified: a conflict
    # recorded since then changes the inputs, and the hash says so.
    params = msgspec.structs.replace(params, excluded_sheets=excluded or msgspec.UNSET)
    result = aggregate.aggregate(
        table=table,
        method=method,
        parameters=params,
        hash_scheme=hash_scheme,
    )
    return table, result


async def on_run_requested(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    run = await queries.get_run(conn, run_id=event.subject, for_update=True)
    if run is None or run.status != "queued":
        return
    try:
        _, result = await compute(conn, run.competition_id, run.method)
    except aggregate.AggregationInputError as exc:
        await queries.finish_run(
            conn,
            run_id=run.id,
            status="failed",
            parameters=None,
            result=None,
            snapshot_hash=None,
            hash_scheme=None,
            error=str(exc),
        )
        return
    await queries.finish_run(
        conn,
        run_id=run.id,
        status="done",
        parameters=msgspec.to_builtins(result.parameters),
        result=aggregate.result_outputs(result),
        snapshot_hash=result.snapshot_hash,
        hash_scheme=result.hash_scheme,
    )


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    run_id: uuid.UUID
    matches: bool
    stored_hash: str | None
    recomputed_hash: str
    hash_scheme: aggregate.HashScheme


async def verify_run(conn: asyncpg.Connection, *, run_id: uuid.UUID) -> Verification:
    """Recompute a finished run from the database as it is now, hashed with the scheme its
    stored hash was made with, and compare."""
    run = await queries.get_run(conn, run_id=run_id)
    if run is None or run.status != "done" or run.parameters is None or run.hash_scheme is None:
        raise NotFound("result.finished_run_not_found")
    parameters = msgspec.convert(run.parameters, aggregate.AggregateParameters)
    _, result = await compute(
        conn, run.competition_id, run.method, parameters, hash_scheme=run.hash_scheme
    )
    return Verification(
        run_id=run.id,
        matches=result.snapshot_hash == run.snapshot_hash,
        stored_hash=run.snapshot_hash,
        recomputed_hash=result.snapshot_hash,
        hash_scheme=run.hash_scheme,
    )


async def _run_of(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, run_id: uuid.UUID
) -> ResultRunRow:
    await competitions.require_organiser(conn, principal, competition_id)
    run = await queries.get_run(conn, run_id=run_id)
    if run is None or run.competition_id != competition_id:
        raise NotFound("result.run_not_found")
    return run


def to_response(run: ResultRunRow) -> schemas.Run:
    result = run.result or {}
    return schemas.Run(
        id=run.id,
        status=run.status,
        method=run.method,
        parameters=run.parameters,
        reliability=result.get("reliability"),
        snapshot_hash=run.snapshot_hash,
        hash_scheme=run.hash_scheme,
        categories=[
            msgspec.convert(c, schemas.CategoryResult) for c in result.get("categories", [])
        ],
        jurors=list(result.get("jurors", [])),
        excluded_sheets=[
            msgspec.convert(x, schemas.ExcludedSheet)
            for x in (run.parameters or {}).get("excluded_sheets", [])
        ],
        error=run.error,
        created_at=berlin(run.created_at),
        finished_at=berlin(run.finished_at) if run.finished_at else None,
        frozen=run.frozen_at is not None,
    )


async def get_run(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, run_id: uuid.UUID
) -> schemas.Run:
    return to_response(await _run_of(conn, principal, competition_id, run_id))


async def set_winners(
    conn: asyncpg.Connection,
    principal: Principal,
    competition_id: uuid.UUID,
    data: schemas.WinnersIn,
) -> schemas.Winners:
    competition = await competitions.require_organiser(conn, principal, competition_id)
    if competition.phase != "deliberation":
        raise Conflict("result.winners_in_deliberation", code="wrong_phase")
    run = await _run_of(conn, principal, competition_id, data.result_run_id)
    if run.status != "done" or run.result is None:
        raise Conflict("result.run_not_done", code="run_not_done")
    rankings = {
        c["category"]: {r["entry_id"]: r["rank"] for r in c["ranking"]}
        for c in run.result["categories"]
    }
    category_ids = {
        c.slug: c.id
        for c in await competition_queries.list_categories(conn, competition_id=competition_id)
    }
    # The run is a snapshot; whether an entry is still in the competition is decided now.
    standings = await queries.entry_standings(
        conn, competition_id=competition_id, entry_ids=[w.entry_id for w in data.winners]
    )
    problems: list[Problem] = []
    seen_places: set[tuple[str, int]] = set()
    seen_entries: set[uuid.UUID] = set()
    rows = []
    for i, w in enumerate(data.winners):
        ranking = rankings.get(w.category)
        if w.category not in category_ids or ranking is None:
            problems.append(problem(f"winners[{i}].category", "entry.unknown_category"))
            continue
        if str(w.entry_id) not in ranking:
            problems.append(problem(f"winners[{i}].entry_id", "result.entry_not_ranked"))
            continue
        left = _left_competition(f"winners[{i}].entry_id", standings.get(w.entry_id))
        if left is not None:
            problems.append(left)
            continue
        if (w.category, w.place) in seen_places or w.entry_id in seen_entries:
            problems.append(problem(f"winners[{i}]", "result.place_or_entry_repeated"))
            continue
        seen_places.add((w.category, w.place))
        seen_entries.add(w.entry_id)
        rank = ranking[str(w.entry_id)]
        if rank != w.place and not (w.justification and w.justification.strip()):
            problems.append(
                problem(
                    f"winners[{i}].justification",
                    "result.justification_required",
                    place=w.place,
                    rank=rank,
                )
            )
            continue
        rows.append((category_ids[w.category], w.place, w.entry_id, rank, w.justification))
    if problems:
        raise Invalid("result.winners_invalid", fields=problems)
    await queries.replace_winners(
        conn,
        competition_id=competition_id,
        run_id=run.id,
        winners=rows,
        chosen_by=principal.account_id,
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="winners.set",
        competition_id=competition_id,
        subject_type="competition",
        subject_id=competition_id,
        data={
            "result_run_id": str(run.id),
            "winners": [
                {
                    "category": w.category,
                    "entry_id": str(w.entry_id),
                    "place": w.place,
                    "justification": w.justification,
                }
                for w in data.winners
            ],
        },
    )
    return await winners(conn, principal, competition_id)


def _left_competition(field: str, standing: queries.EntryStanding | None) -> Problem | None:
    """Why an entry cannot win (withdrawn, disqualified, not eligible), or None if it can."""
    if standing is None:
        return problem(field, "result.entry_not_in_competition")
    if standing.status == "withdrawn":
        return problem(field, "result.entry_withdrawn")
    if standing.status == "disqualified":
        return problem(field, "result.entry_disqualified")
    if standing.status != "submitted" or not standing.eligible:
        return problem(field, "result.entry_not_taking_part")
    return None


async def winners(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> schemas.Winners:
    await competitions.require_organiser(conn, principal, competition_id)
    rows = await queries.list_winners(conn, competition_id=competition_id)
    return schemas.Winners(
        result_run_id=rows[0].result_run_id if rows else None,
        winners=[
            schemas.WinnerOut(
                category=w.category,
                entry_id=w.entry_id,
                title=w.title,
                place=w.place,
                rank=w.rank,
                justification=w.justification,
            )
            for w in rows
        ],
    )


async def publish(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> schemas.Publishing:
    await competitions.require_organiser(conn, principal, competition_id)
    competition = await competition_queries.get_competition(
        conn, competition_id=competition_id, for_update=True
    )
    if competition is None:
        raise NotFound("competition.not_found")
    if competition.phase != "deliberation":
        raise Conflict("result.publish_from_deliberation", code="wrong_phase")
    rows = await queries.list_winners(conn, competition_id=competition_id)
    if not rows:
        raise Conflict("result.no_winners", code="no_winners")
    # Checked again under the competition's lock: an entry withdrawn since the winners were
    # chosen must not be published (a withdrawal waits for this lock, see entries.withdraw).
    standings = await queries.entry_standings(
        conn, competition_id=competition_id, entry_ids=[w.entry_id for w in rows]
    )
    gone = [
        (w.title, reason)
        for w in rows
        if (reason := _left_competition("winners", standings.get(w.entry_id))) is not None
    ]
    if gone:
        # One sentence per winner that left, each worded in both languages: the refusal names
        # them all, in German for the API and in the page's language on the organiser's page.
        raise Conflict(
            "result.winners_left",
            code="winner_left_competition",
            winners={
                locale: " ".join(
                    catalog.text(
                        "result.winner_left",
                        {"title": title, "reason": reason.worded(locale).message},
                        locale,
                    )
                    for title, reason in gone
                )
                for locale in catalog.LOCALES
            },
        )
    run_id = rows[0].result_run_id
    await queries.freeze(conn, run_id=run_id)
    # The phase changes where every phase changes: guarded, evented and audited there.
    published_at = await competitions.enter_published(
        conn, competition, run_id=run_id, actor_id=principal.account_id
    )
    await events.record(
        conn,
        "competition.published",
        aggregate_id=competition_id,
        payload={"result_run_id": str(run_id)},
    )
    await audit.record(
        conn,
        actor_id=principal.account_id,
        action="competition.published",
        competition_id=competition_id,
        subject_type="competition",
        subject_id=competition_id,
        data={"result_run_id": str(run_id)},
    )
    return schemas.Publishing(
        status="published", published_at=berlin(published_at), result_run_id=run_id
    )


async def on_published(conn: asyncpg.Connection, services: Services, event: EventRow) -> None:
    """One announcement per entrant account (winner or not, in its language) and one thank-you
    per juror; the outbox's idempotency key makes each exactly once."""
    settings = services.settings
    competition = await competition_queries.get_competition(conn, competition_id=event.subject)
    if competition is None:
        return
    url = f"{settings.public_url.rstrip('/')}/wettbewerbe/{competition.slug}/sieger"
    for r in await queries.entrant_accounts(conn, competition_id=competition.id):
        await queue_email(
            conn,
            settings,
            event_id=event.id,
            template="announcement",
            competition_id=competition.id,
            recipient=r["email"],
            locale=r["locale"],
            account_id=r["account_id"],
            context={
                "name": r["name"],
                "winner": r["winner"],
                "won": list(r["won"]),
                "titles": list(r["titles"]),
                "competition": competition.title.get(r["locale"], competition.title["de"]),
                "action_url": url,
            },
        )
    for r in await queries.juror_accounts(conn, competition_id=competition.id):
        await queue_email(
            conn,
            settings,
            event_id=event.id,
            template="jury_thanks",
            competition_id=competition.id,
            recipient=r["email"],
            locale=r["locale"],
            account_id=r["account_id"],
            context={
                "name": r["name"],
                "competition": competition.title.get(r["locale"], competition.title["de"]),
                "action_url": url,
            },
        )


async def public_winners(conn: asyncpg.Connection, *, slug: str) -> schemas.PublicWinners:
    competition = await competition_queries.get_competition_by_slug(conn, slug=slug)
    published = (
        await queries.published_at(conn, competition_id=competition.id) if competition else None
    )
    if competition is None or published is None:
        raise NotFound("result.not_published")
    categories = await competition_queries.list_categories(conn, competition_id=competition.id)
    rows = await queries.list_winners(conn, competition_id=competition.id)
    return schemas.PublicWinners(
        slug=competition.slug,
        title=competition.title,
        published_at=berlin(published),
        categories=[
            schemas.PublicCategory(
                category=c.slug,
                name=c.name,
                winners=[
                    schemas.PublicWinner(
                        place=w.place,
                        title=w.title,
                        summary=w.summary,
                        company_name=w.company_name,
                        city=w.city,
                    )
                    for w in rows
                    if w.category == c.slug
                ],
            )
            for c in categories
        ],
    )


# --- CSV export ---------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Spreadsheets execute cells that start with =, +, -, @ (CSV injection, OWASP): a leading
    apostrophe makes them plain text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: float | None, separator: str) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}"
    return text.replace(".", ",") if separator == ";" else text


async def export_csv(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, *, separator: str
) -> bytes:
    """Entries with their results; UTF-8 with BOM so that Excel detects the encoding."""
    competition = await competitions.require_organiser(conn, principal, competition_id)
    run_id = await queries.reported_run(conn, competition_id=competition.id)
    figures: dict[str, dict[str, Any]] = {}
    run = await queries.get_run(conn, run_id=run_id) if run_id is not None else None
    if run is not None and run.result is not None:  # a finished run always has its result
        for category in run.result["categories"]:
            for r in category["ranking"]:
                figures[r["entry_id"]] = r
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(
        [
            "Kategorie",
            "Rang",
            "Titel",
            "Unternehmen",
            "Ort",
            "Landkreis",
            "Status",
            "teilnahmeberechtigt",
            "Punkte",
            "Mittelwert",
            "Median",
            "Standardabweichung",
            "Gutachten",
            "Hinweise",
            "Platz",
        ]
    )
    for row in await queries.export_rows(conn, competition_id=competition.id):
        f = figures.get(str(row["id"]), {})
        writer.writerow(
            [
                neutralise(str(v))
                for v in (
                    row["category"],
                    f.get("rank") or "",
                    row["title"],
                    row["company"],
                    row["city"],
                    row["district"],
                    row["status"],
                    "ja" if row["eligible"] else "nein",
                    _number(f.get("score"), separator),
                    _number(f.get("raw_mean"), separator),
                    _number(f.get("median"), separator),
                    _number(f.get("stdev"), separator),
                    f.get("n_reviews", ""),
                    ", ".join(f.get("flags", [])),
                    row["place"] or "",
                )
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


async def list_runs(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID, *, limit: int = 20
) -> list[queries.RunListItem]:
    """The competition's latest result runs, for its organisers."""
    await competitions.require_organiser(conn, principal, competition_id)
    return await queries.list_runs(conn, competition_id=competition_id, limit=limit)
