"""Announcements: 10,000 e-mails from publishing a competition, once with a worker killed.

Set-up: 9,950 entrant accounts, each the owner of a company with a submitted entry, and 50 active
jurors (bulk rows straight into the database; how such rows come about is what the journeys test),
in two competitions. Each competition is then moved by the services through closed, judging and
deliberation; a result run is computed by the worker, one winner is chosen, and the competition
is published through `results.service.publish`: the path an organiser's click takes. The worker
then renders one announcement per entrant and one thank-you per juror into the e-mail outbox in
one transaction (`on_published`), its relay dispatches them, and its sender delivers them to the
SMTP capture (a separate aiosmtpd process).

* **clean run** (first competition): time from the publish commit until every mail is recorded
  as sent and has arrived; lost (expected − distinct recipients) and duplicates (extra deliveries).
* **kill run** (second competition): the same, but the worker is killed with SIGKILL once
  `KILL_AT` of the mails have arrived, and started again at once. Mails it had claimed ("sending")
  are re-sent after their lease (`job_timeout_seconds`, 10 s here; arq re-runs the interrupted job
  after that + 10 s) with the same Message-ID; the report checks that every duplicate was such a
  reclaimed mail and carries one Message-ID.
* **baseline**: the load generator sends the same number of messages of the same size (a rendered
  announcement) with raw ``aiosmtplib.send``, one connection per message as the sender does, at the
  workers' total concurrency, to the same capture server.

Run alone: ``python -m bench.bench_announcements [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import asyncpg

from bench.common import (
    Environment,
    MailCapture,
    Proc,
    RssSampler,
    ScenarioResult,
    environment,
    insert_accounts,
    insert_companies,
    log,
    open_competition,
    organiser,
    run_loadgen,
)
from competition.auth import Principal
from competition.competitions import service as competitions
from competition.db import create_pool, transaction
from competition.notifications.render import render
from competition.results import schemas as result_schemas
from competition.results import service as results

RECIPIENTS = 10_000
JURORS = 50
KILL_AT = 0.3
# Two worker processes (the design's unit of scale-out; arq starts jobs one by one per process, so
# one process cannot use both cores) with 20 jobs each; a crash can repeat at most the killed
# worker's 20 mails in flight.
CONCURRENCY = 20
WORKERS = 2
JOB_TIMEOUT_S = 10
BUDGET_S = 60.0
DONE_TIMEOUT_S = 300.0


async def populate(
    pool: asyncpg.Pool, *, entrants: int, jurors: int
) -> tuple[Principal, list[uuid.UUID]]:
    """Two open competitions with the same entrants and jurors; returns their ids."""
    async with transaction(pool) as conn:
        principal = await organiser(conn)
        competition_ids = [
            await open_competition(conn, principal, slug=f"announcements-{n}") for n in (1, 2)
        ]
        emails = [f"firma{i:05d}@region.bench.example" for i in range(entrants)]
        accounts = await insert_accounts(
            conn,
            emails=emails,
            names=[f"Firma {i}" for i in range(entrants)],
            locales=["en" if i % 5 == 0 else "de" for i in range(entrants)],
        )
        companies = await insert_companies(conn, names=[f"Firma {i} GmbH" for i in range(entrants)])
        await conn.execute(
            """INSERT INTO company_member (company_id, account_id, role)
               SELECT c, a, 'owner' FROM unnest($1::uuid[], $2::uuid[]) AS u(c, a)""",
            companies,
            accounts,
        )
        juror_emails = [f"juror{i:02d}@jury.bench.example" for i in range(jurors)]
        juror_accounts = await insert_accounts(
            conn, emails=juror_emails, names=[f"Juror {i}" for i in range(jurors)]
        )
        for competition_id in competition_ids:
            await conn.execute(
                """INSERT INTO entry (competition_id, company_id, category_id, title, summary,
                                      description, status, eligible, eligibility_reason,
                                      submitted_at)
                   SELECT $1, c, (SELECT id FROM category WHERE competition_id = $1
                                  AND slug = 'energie'),
                          'Idee ' || i, 'Kurzfassung.', 'Beschreibung.', 'submitted', true,
                          'Zwickau ist teilnahmeberechtigt.', now()
                   FROM unnest($2::uuid[]) WITH ORDINALITY AS u(c, i)""",
                competition_id,
                companies,
            )
            await conn.execute(
                """INSERT INTO juror (competition_id, account_id, email, name, status,
                                      accepted_at, conflicts_confirmed_at)
                   SELECT $1, a, e, e, 'active', now(), now()
                   FROM unnest($2::uuid[], $3::text[]) AS u(a, e)""",
                competition_id,
                juror_accounts,
                juror_emails,
            )
            for phase in ("closed", "judging", "deliberation"):
                await competitions.change_phase(conn, principal, competition_id, phase)
    return principal, competition_ids


async def prepare_publish(
    pool: asyncpg.Pool, principal: Principal, competition_id: uuid.UUID
) -> None:
    """A result run computed by the (running) worker, and one winner chosen from it."""
    async with transaction(pool) as conn:
        run_id = await results.create_run(conn, principal, competition_id, "zscore")
    deadline = time.monotonic() + 120
    while True:
        async with pool.acquire() as conn:
            status = await conn.fetchval("SELECT status FROM result_run WHERE id = $1", run_id)
        if status == "done":
            break
        if status == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"result run {run_id} ended as {status}")
        await asyncio.sleep(0.2)
    async with transaction(pool) as conn:
        first = await conn.fetchval(
            "SELECT id FROM entry WHERE competition_id = $1 ORDER BY title LIMIT 1", competition_id
        )
        await results.set_winners(
            conn,
            principal,
            competition_id,
            result_schemas.WinnersIn(
                result_run_id=run_id,
                winners=[
                    result_schemas.WinnerIn(
                        category="energie",
                        entry_id=first,
                        place=1,
                        justification="Von der Jury in der Sitzung gewählt.",
                    )
                ],
            ),
        )


async def tally(
    pool: asyncpg.Pool, event_id: uuid.UUID, records: list[dict[str, Any]], *, expected: int
) -> dict[str, Any]:
    """Lost, duplicated and reclaimed mails, from the capture's records and the outbox."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT recipient, message_id, attempts, status FROM email WHERE event_id = $1",
            event_id,
        )
    message_ids = {r["recipient"]: r["message_id"] for r in rows}
    reclaimed = {r["recipient"] for r in rows if r["attempts"] > 1}
    per_recipient = Counter(r["to"] for r in records)
    ids_of: dict[str, set[str]] = defaultdict(set)
    for r in records:
        ids_of[r["to"]].add(r["mid"])
    duplicated = {to for to, n in per_recipient.items() if n > 1}
    return {
        "expected": expected,
        "outbox_rows": len(message_ids),
        "sent_recorded": sum(r["status"] == "sent" for r in rows),
        "deliveries": len(records),
        "distinct_recipients": len(per_recipient),
        "lost": len(set(message_ids) - set(per_recipient)),
        "duplicates": len(records) - len(per_recipient),
        "duplicated_recipients": len(duplicated),
        "duplicates_all_reclaimed": duplicated <= reclaimed,
        "duplicates_same_message_id": all(ids_of[to] == {message_ids[to]} for to in duplicated),
        "every_message_id_as_stored": all(
            ids_of[to] == {message_ids.get(to)} for to in per_recipient
        ),
        "reclaimed_after_kill": len(reclaimed),
    }


async def kill_and_restart(
    env: Environment, pool: asyncpg.Pool, workers: list[Proc], event_id: uuid.UUID
) -> dict[str, Any]:
    """SIGKILL the first worker, note the outbox's states at that moment, start it again."""
    workers[0].kill()
    async with pool.acquire() as conn:
        states = {
            r["status"]: int(r["count"])
            for r in await conn.fetch(
                "SELECT status, count(*) FROM email WHERE event_id = $1 GROUP BY status",
                event_id,
            )
        }
    workers[0] = env.start_worker(env_settings(env))
    return {"states": states}


async def publish_and_follow(
    env: Environment,
    pool: asyncpg.Pool,
    principal: Principal,
    competition_id: uuid.UUID,
    *,
    expected: int,
    workers: list[Proc],
    kill_at: int | None,
) -> tuple[dict[str, Any], list[Proc]]:
    """Publish, then watch the outbox and the capture until every mail is sent and arrived."""
    capture = env.capture
    assert capture is not None
    mark = capture.mark()
    async with transaction(pool) as conn:
        await results.publish(conn, principal, competition_id)
    t0 = time.time()
    async with pool.acquire() as conn:
        event_id = await conn.fetchval(
            "SELECT id FROM event WHERE kind = 'competition.published' AND aggregate_id = $1",
            competition_id,
        )
    timeline: dict[str, float] = {}
    at_kill: dict[str, Any] = {}
    samplers = [RssSampler(w.pid) for w in workers]
    for sampler in samplers:
        sampler.__enter__()
    queued = sent = 0
    polls = 0
    try:
        while True:
            arrived = capture.count() - mark
            # The outbox is read twice a second only: polling it is load on the machine measured.
            if polls % 5 == 0 or arrived >= expected:
                async with pool.acquire() as conn:
                    row = await conn.fetchrow(
                        """SELECT count(*), count(*) FILTER (WHERE status = 'sent')
                           FROM email WHERE event_id = $1""",
                        event_id,
                    )
                assert row is not None
                queued, sent = row
            polls += 1
            now = time.time()
            if queued >= expected and "queued" not in timeline:
                timeline["queued"] = now - t0
            if arrived and "first_arrival" not in timeline:
                timeline["first_arrival"] = now - t0
            if kill_at is not None and not at_kill and arrived >= kill_at:
                at_kill = await kill_and_restart(env, pool, workers, event_id)
                at_kill.update(t=round(now - t0, 2), arrived=capture.count() - mark)
                log(f"worker killed (SIGKILL) at {at_kill}")
                samplers.append(RssSampler(workers[0].pid))
                samplers[-1].__enter__()
            if sent >= expected and arrived >= expected:
                timeline["all_sent_and_arrived"] = now - t0
                break
            if now - t0 > DONE_TIMEOUT_S:
                timeline["gave_up"] = now - t0
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # let stragglers (a duplicate on its way) arrive
    finally:
        for sampler in samplers:
            sampler.__exit__()
    figures = await tally(pool, event_id, capture.records(mark), expected=expected)
    figures["timeline_s"] = {k: round(v, 2) for k, v in timeline.items()}
    figures["killed"] = at_kill or None
    figures["worker_peak_rss_mib"] = max(s.peak_mib for s in samplers)
    return figures, workers


def env_settings(env: Environment) -> Any:
    return env.settings(worker_concurrency=CONCURRENCY, job_timeout_seconds=JOB_TIMEOUT_S)


def baseline(env: Environment, capture: MailCapture, *, count: int) -> dict[str, Any]:
    """Raw aiosmtplib, same count, concurrency, size (a rendered announcement), same server."""
    settings = env_settings(env)
    mail = render(
        "announcement",
        "de",
        {
            "name": "Firma 1",
            "winner": False,
            "won": [],
            "titles": ["Idee 1"],
            "competition": "Industrie. Neu. Denken. Benchmark",
            "action_url": f"{settings.public_url}/wettbewerbe/announcements-1/sieger",
        },
    )
    mark = capture.mark()
    result = run_loadgen(
        {
            "scenario": "smtp",
            "host": "127.0.0.1",
            "port": capture.port,
            "concurrency": CONCURRENCY * WORKERS,
            "count": count,
            "mail_from": settings.mail_from,
            "subject": mail.subject,
            "text": mail.text,
            "html": mail.html,
            "time_limit_s": 240,
        },
        run_dir=env.run_dir,
        name="smtp baseline",
    )
    result["arrived"] = capture.count() - mark
    return result


def run(env: Environment, *, quick: bool = False) -> ScenarioResult:
    recipients = 1_000 if quick else RECIPIENTS
    jurors = 10 if quick else JURORS
    entrants = recipients - jurors
    env.fresh_database()
    capture = env.capture
    assert capture is not None
    started = time.perf_counter()
    base = baseline(env, capture, count=recipients)
    log(
        f"smtp baseline: {base['ok']} sent in {base['wall_s']} s ({base['mails_per_s']}/s), "
        f"{base['arrived']} arrived, {base['errors']} errors"
    )

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        pool = await create_pool(env.database_url, min_size=1, max_size=3)
        workers = [env.start_worker(env_settings(env)) for _ in range(WORKERS)]
        try:
            log(f"announcements: setting up {entrants} entrants and {jurors} jurors, twice")
            principal, (first, second) = await populate(pool, entrants=entrants, jurors=jurors)
            for competition_id in (first, second):
                await prepare_publish(pool, principal, competition_id)
            log("publishing the first competition (clean run)")
            clean, workers = await publish_and_follow(
                env, pool, principal, first, expected=recipients, workers=workers, kill_at=None
            )
            log(
                f"clean run: {clean['timeline_s']}, lost {clean['lost']}, "
                f"duplicates {clean['duplicates']}"
            )
            log("publishing the second competition (worker killed mid-run)")
            killed, workers = await publish_and_follow(
                env,
                pool,
                principal,
                second,
                expected=recipients,
                workers=workers,
                kill_at=int(recipients * KILL_AT),
            )
            log(
                f"kill run: {killed['timeline_s']}, lost {killed['lost']}, "
                f"duplicates {killed['duplicates']}"
            )
            return clean, killed
        finally:
            for worker in workers:
                worker.stop(grace=JOB_TIMEOUT_S + 5)
            await pool.close()

    clean, killed = asyncio.run(go())
    wall = time.perf_counter() - started
    clean_s = clean["timeline_s"].get("all_sent_and_arrived")
    killed_s = killed["timeline_s"].get("all_sent_and_arrived")
    sending_s = clean_s - clean["timeline_s"]["queued"] if clean_s else None
    met = (
        clean_s is not None
        and clean_s < BUDGET_S
        and clean["lost"] == 0
        and clean["duplicates"] == 0
        and killed_s is not None
        and killed["lost"] == 0
        and killed["duplicates_all_reclaimed"]
        and killed["duplicates_same_message_id"]
    )
    rate = recipients / sending_s if sending_s else 0.0
    return ScenarioResult(
        scenario="announcements",
        budget=f"{recipients:,} mails < 60 s, 0 lost, 0 duplicates; killed: 0 lost, "
        "duplicates only in flight (same Message-ID)",
        measured=(
            f"{clean_s if clean_s is not None else 'n/a'} s from publish to all sent "
            f"(render+queue {clean['timeline_s'].get('queued', 'n/a')} s, "
            f"then {rate:.0f} mails/s); "
            f"lost {clean['lost']}, duplicates {clean['duplicates']}. Killed at "
            f"{killed['killed']['arrived'] if killed['killed'] else '?'} arrived: "
            f"{killed_s if killed_s is not None else 'n/a'} s, lost {killed['lost']}, "
            f"duplicates {killed['duplicates']} (in flight {killed['reclaimed_after_kill']}, "
            f"same Message-ID: {'yes' if killed['duplicates_same_message_id'] else 'NO'})"
        ),
        baseline=f"raw aiosmtplib: {base['wall_s']:.1f} s ({base['mails_per_s']:.0f} mails/s)",
        ratio=(
            f"sending {rate / base['mails_per_s']:.0%} of raw rate; "
            f"end to end {clean_s / base['wall_s']:.1f}× raw time"
            if clean_s and base["mails_per_s"]
            else "n/a"
        ),
        met=met,
        wall_s=wall,
        notes=[
            f"{WORKERS} worker processes × concurrency {CONCURRENCY} (baseline: "
            f"{WORKERS * CONCURRENCY} concurrent sends), job timeout {JOB_TIMEOUT_S} s; the kill "
            "run includes the lease wait before in-flight mails are re-sent",
        ],
        details={"recipients": recipients, "baseline": base, "clean": clean, "killed": killed},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 mails instead of 10,000")
    parser.add_argument("--keep", action="store_true", help="keep logs and plans")
    args = parser.parse_args()
    from bench.common import print_summary

    # The worker checks the object store at start; the API is not needed here.
    with environment(keep=args.keep) as env:
        result = run(env, quick=args.quick)
    print_summary([result])


if __name__ == "__main__":
    main()
