"""The `competition` command: run, migrate and operate the platform."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from competition.config import Settings, load_settings
from competition.logs import configure as configure_logging


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from competition.db import migrate

    applied = asyncio.run(migrate(settings.database_url))
    print(
        f"{len(applied)} Migration(en) angewendet" + (": " + ", ".join(applied) if applied else ".")
    )
    return 0


def _api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "competition.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        # The client address is taken from X-Forwarded-For by the app, and only for the proxies
        # in COMPETITION_TRUSTED_PROXIES (competition/ratelimit.py).
        proxy_headers=False,
        http="competition.server:HeaderTimeoutH11Protocol",
    )
    return 0


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    from workers.main import run

    asyncio.run(run(settings, freeze_heap=True))
    return 0


def _create_organiser(settings: Settings, args: argparse.Namespace) -> int:
    from competition.accounts.admin import create_organiser

    account_id, created = asyncio.run(
        create_organiser(
            settings, email=args.email, name=args.name, password=args.password, admin=args.admin
        )
    )
    verb = "angelegt" if created else "zur Organisatorin/zum Organisator gemacht"
    role = " (Plattform-Administration)" if args.admin else ""
    print(f"Konto {args.email} ({account_id}) {verb}{role}.")
    return 0


def _seed_demo(settings: Settings, _: argparse.Namespace) -> int:
    from competition.demo import seed

    print(asyncio.run(seed(settings)))
    return 0


def _failed_jobs(settings: Settings, _: argparse.Namespace) -> int:
    from competition.ops.admin import failed_jobs_report

    report, count = asyncio.run(failed_jobs_report(settings))
    print(report)
    return 1 if count else 0


def _retry_failed(settings: Settings, _: argparse.Namespace) -> int:
    from competition.ops.admin import retry_failed

    events, mails = asyncio.run(retry_failed(settings))
    print(f"{events} Ereignis(se) und {mails} E-Mail(s) erneut eingeplant.")
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from competition.audit.admin import verify_chain

    ok, report = asyncio.run(verify_chain(settings))
    print(report)
    return 0 if ok else 1


def _results_verify(settings: Settings, args: argparse.Namespace) -> int:
    from competition.results.admin import verify

    ok, report = asyncio.run(verify(settings, run_id=args.run_id))
    print(report)
    return 0 if ok else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="competition", description="Industrie. Neu. Denken. – Plattform"
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(fn=_migrate)
    api = sub.add_parser("api", help="run the HTTP API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--workers", type=int, default=1)
    api.set_defaults(fn=_api)
    sub.add_parser("worker", help="run the background worker and outbox relay").set_defaults(
        fn=_worker
    )
    sub.add_parser("seed-demo", help="create demo data (idempotent)").set_defaults(fn=_seed_demo)
    org = sub.add_parser("create-organiser", help="create an organiser account (or promote one)")
    org.add_argument("email")
    org.add_argument("--name", required=True)
    org.add_argument("--password", required=True)
    org.add_argument(
        "--admin",
        action="store_true",
        help="also a platform administrator: sees the mail outbox of every competition",
    )
    org.set_defaults(fn=_create_organiser)
    sub.add_parser(
        "failed-jobs", help="list events and mails that failed for good, with their error"
    ).set_defaults(fn=_failed_jobs)
    sub.add_parser("retry-failed", help="queue failed events and mails again").set_defaults(
        fn=_retry_failed
    )
    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser(
        "verify", help="seal pending rows, then recompute the chain; exit 1 on any mismatch"
    ).set_defaults(fn=_audit)
    results = sub.add_parser("results", help="result runs")
    results_sub = results.add_subparsers(dest="results_command", required=True)
    verify = results_sub.add_parser(
        "verify", help="recompute a run from the database; exit 1 when it no longer matches"
    )
    verify.add_argument("run_id")
    verify.set_defaults(fn=_results_verify)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level)
    result: int = args.fn(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
