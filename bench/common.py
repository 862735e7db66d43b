"""What every benchmark scenario shares: the real services, the processes, the measurements.

* A fresh database per scenario (``competition_bench``, dropped and rebuilt with the migrations);
  Redis database 14, flushed; a private SeaweedFS on free ports (`infra/local.py`); an SMTP
  capture in a process of its own (aiosmtpd) that appends one JSON line per accepted message.
* The platform as real processes: ``competition api`` (uvicorn, one process) and ``competition
  worker``, configured through ``COMPETITION_*`` variables; the baseline app the same way.
* Measurements: the resident memory of a process from ``/proc/<pid>/status`` (VmRSS sampled every
  100 ms, VmHWM as the kernel's high-water mark) and the load generator as a separate process
  (`bench/loadgen.py`).

``python -m bench.common capture --port P --log FILE`` is the capture process itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from competition.accounts.queries import get_account, insert_token
from competition.accounts.security import new_api_token
from competition.accounts.service import ensure_account
from competition.auth import SESSION_SCOPES, Principal, principal_of
from competition.competitions import schemas as competition_schemas
from competition.competitions import service as competitions
from competition.config import Settings, load_settings, to_environ
from competition.db import migrate
from infra import local

REPO_ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "competition_bench")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
BENCH_BUCKET = "competition-bench"
ELIGIBLE = ("chemnitz", "zwickau", "erzgebirgskreis", "mittelsachsen", "vogtlandkreis")
CRITERIA = (
    ("innovation", 30),
    ("transformation", 25),
    ("wirtschaft", 20),
    ("umsetzung", 15),
    ("nachhaltigkeit", 10),
)
BASELINE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_baseline_score (
    id            bigserial PRIMARY KEY,
    assignment_id uuid NOT NULL,
    scores        jsonb NOT NULL,
    comment       text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
)
"""


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps the tables and the JSON lines."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """A scenario could not be set up or run; the message says what broke."""


# --- results -----------------------------------------------------------------------------------


class ScenarioResult(msgspec.Struct, kw_only=True):
    """One row of the summary table, with every figure behind it in `details`."""

    scenario: str
    budget: str
    measured: str
    baseline: str
    ratio: str
    met: bool
    wall_s: float
    notes: list[str] = msgspec.field(default_factory=list)
    details: dict[str, Any] = msgspec.field(default_factory=dict)


def print_summary(results: list[ScenarioResult]) -> None:
    """A short table (one line per scenario), then each scenario's figures in full."""
    header = ("scenario", "budget met", "ratio to its baseline", "wall s")
    rows = [(r.scenario, "yes" if r.met else "NO", r.ratio, f"{r.wall_s:.0f}") for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    print(rule)
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if row is header:
            print(rule)
    print(rule)
    for r in results:
        print(f"\n{r.scenario}")
        print(f"  budget:   {r.budget}")
        print(f"  measured: {r.measured}")
        print(f"  baseline: {r.baseline}")
        for note in r.notes:
            print(f"  note:     {note}")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text(encoding="utf-8").split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# --- processes ---------------------------------------------------------------------------------


class Proc:
    """A process started by the benchmark; stopped by its pid only."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("ab") as out:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO_ROOT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean-up of any kind."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, grace: float = 10.0) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 30) -> str:
        return local.log_tail(self.log_path, lines=lines)


def wait_until(check: Any, *, timeout: float, what: str, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and not proc.alive():
            raise BenchError(f"{proc.name} exited while waiting for {what}:\n{proc.tail()}")
        if time.monotonic() > deadline:
            tail = f"\n{proc.tail()}" if proc is not None else ""
            raise BenchError(f"{what} not reached within {timeout:.0f} s{tail}")
        time.sleep(0.1)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


def vm_kib(pid: int, field: str) -> int:
    """A `Vm*` line of /proc/<pid>/status in KiB (VmRSS now, VmHWM the peak so far)."""
    for text in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if text.startswith(f"{field}:"):
            return int(text.split()[1])
    raise BenchError(f"no {field} for pid {pid}")


class RssSampler:
    """Samples VmRSS of a process every `interval` seconds in a thread, while the block runs."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, BenchError):
                self.samples.append(vm_kib(self.pid, "VmRSS"))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return round(max(self.samples, default=0) / 1024, 1)

    @property
    def first_mib(self) -> float:
        return round(self.samples[0] / 1024, 1) if self.samples else 0.0

    @property
    def last_mib(self) -> float:
        return round(self.samples[-1] / 1024, 1) if self.samples else 0.0


def run_loadgen(plan: dict[str, Any], *, run_dir: Path, name: str) -> dict[str, Any]:
    """Run the load generator as its own process; returns the JSON it prints."""
    plan_path = run_dir / f"plan-{name}.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    limit = float(plan["time_limit_s"]) + 60.0
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", str(plan_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=limit,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(
            f"load generator {name} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the SMTP capture --------------------------------------------------------------------------


class CaptureHandler:
    """aiosmtpd handler: one JSON line per message (envelope recipient, To, Message-ID, time).

    Only the headers are parsed, so the capture stays cheap next to the sender it measures."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.parser = BytesHeaderParser(policy=default_policy)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = self.parser.parsebytes(envelope.original_content or envelope.content)
        self.out.write(
            json.dumps(
                {
                    "rcpt": envelope.rcpt_tos,
                    "to": str(headers.get("To", "")),
                    "mid": str(headers.get("Message-ID", "")),
                    "t": time.time(),
                }
            )
            + "\n"
        )
        self.out.flush()
        return "250 OK"


async def _serve_capture(port: int, log_path: Path) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with log_path.open("a", encoding="utf-8") as out:
        handler = CaptureHandler(out)
        # A fixed hostname: aiosmtpd would otherwise look up the FQDN for every connection.
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="capture.bench", ident="bench-capture"),
            host="127.0.0.1",
            port=port,
            backlog=1024,
        )
        async with server:
            await stop.wait()


class MailCapture:
    """The capture process and the file it writes; `mark()`/`records(since)` delimit a run."""

    def __init__(self, *, run_dir: Path) -> None:
        self.port = local.free_port()
        self.path = run_dir / "captured.jsonl"
        self.path.touch()
        self._offset = 0
        self._lines = 0
        self.proc = Proc(
            "smtp-capture",
            [
                sys.executable,
                "-m",
                "bench.common",
                "capture",
                "--port",
                str(self.port),
                "--log",
                str(self.path),
            ],
            env=dict(os.environ),
            log_path=run_dir / "smtp-capture.log",
        )
        wait_until(
            lambda: local._smtp_ready(port=self.port),
            timeout=20,
            what="SMTP capture ready",
            proc=self.proc,
        )

    def count(self) -> int:
        """Messages so far; reads only what was appended since the last call (it is polled)."""
        with self.path.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        self._lines += chunk.count(b"\n", 0, complete)
        return self._lines

    def mark(self) -> int:
        return self.count()

    def records(self, since: int = 0) -> list[dict[str, Any]]:
        with self.path.open(encoding="utf-8") as f:
            lines = f.readlines()[since:]
        return [json.loads(text) for text in lines if text.endswith("\n")]

    def stop(self) -> None:
        self.proc.stop(grace=5)


# --- the environment ---------------------------------------------------------------------------


async def recreate_database() -> str:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await admin.close()
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + "/" + BENCH_DATABASE
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(BASELINE_TABLE)
    finally:
        await conn.close()
    return dsn


async def drop_database() -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    finally:
        await admin.close()


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(BENCH_REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


class Environment:
    """SeaweedFS, the SMTP capture and a run directory for logs and plans, for one bench run.

    The database is rebuilt per scenario (`fresh_database`), so no scenario sees another's rows.
    """

    def __init__(self, *, run_dir: Path, with_store: bool = True) -> None:
        self.run_dir = run_dir
        self.secret_key = secrets.token_urlsafe(32)
        self.s3_access_key = "competition-bench"
        self.s3_secret_key = secrets.token_urlsafe(24)
        self.s3_port = local.free_port() if with_store else 0
        self.store_dir = run_dir / "store"
        self.database_url = ""
        self.store_pid: int | None = None
        self.capture: MailCapture | None = None
        self.with_store = with_store

    def start(self) -> None:
        # PostgreSQL and Redis are the machine's services: used, never started or stopped here.
        if not local.port_open(host="127.0.0.1", port=5432):
            raise BenchError(
                "PostgreSQL is not running on 127.0.0.1:5432 (start it: infra/local.py machine)"
            )
        if not local.port_open(host="127.0.0.1", port=6379):
            raise BenchError(
                "Redis is not running on 127.0.0.1:6379 (start it: infra/local.py machine)"
            )
        self.capture = MailCapture(run_dir=self.run_dir)
        if self.with_store:
            log("starting a private SeaweedFS (about 10 s)")
            managed = local.start_seaweedfs(
                state_dir=self.store_dir,
                s3_port=self.s3_port,
                access_key=self.s3_access_key,
                secret_key=self.s3_secret_key,
            )
            self.store_pid = managed.pid
            local.ensure_bucket(
                endpoint=self.s3_endpoint,
                access_key=self.s3_access_key,
                secret_key=self.s3_secret_key,
                bucket=BENCH_BUCKET,
            )

    def stop(self) -> None:
        if self.capture is not None:
            self.capture.stop()
        if self.with_store:
            with contextlib.suppress(local.ServiceError):
                local.stop_seaweedfs(state_dir=self.store_dir, grace=2.0)
            if self.store_pid is not None and local.pid_alive(self.store_pid):
                local.stop_process(self.store_pid, grace=0.0)

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def fresh_database(self) -> str:
        self.database_url = asyncio.run(recreate_database())
        flush_redis()
        return self.database_url

    def settings(self, *, api_port: int = 8000, **overrides: Any) -> Settings:
        assert self.capture is not None
        values: dict[str, Any] = {
            "database_url": self.database_url,
            "redis_url": BENCH_REDIS_URL,
            "s3_endpoint": self.s3_endpoint,
            "s3_access_key": self.s3_access_key,
            "s3_secret_key": self.s3_secret_key,
            "s3_bucket": BENCH_BUCKET,
            "smtp_host": "127.0.0.1",
            "smtp_port": self.capture.port,
            "public_url": f"http://127.0.0.1:{api_port}",
            "secret_key": self.secret_key,
            "environment": "benchmark",
        }
        values.update(overrides)
        return load_settings({}, **values)

    def process_env(self, settings: Settings) -> dict[str, str]:
        return {**os.environ, **to_environ(settings), "PYTHONUNBUFFERED": "1"}

    def start_api(self, settings: Settings, port: int) -> Proc:
        argv = [
            str(Path(sys.executable).parent / "competition"),
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        proc = Proc("api", argv, env=self.process_env(settings), log_path=self.run_dir / "api.log")
        wait_until(
            lambda: http_ok(f"http://127.0.0.1:{port}/health/ready"),
            timeout=60,
            what="API ready",
            proc=proc,
        )
        return proc

    def start_worker(self, settings: Settings) -> Proc:
        argv = [str(Path(sys.executable).parent / "competition"), "worker"]
        return Proc(
            "worker", argv, env=self.process_env(settings), log_path=self.run_dir / "worker.log"
        )

    def start_baseline(self, port: int, *, pool_max: int) -> Proc:
        env = {
            **os.environ,
            "BENCH_BASELINE_DSN": self.database_url,
            "BENCH_BASELINE_POOL_MAX": str(pool_max),
        }
        proc = Proc(
            "baseline",
            [sys.executable, "-m", "bench.baseline_app", "--port", str(port)],
            env=env,
            log_path=self.run_dir / "baseline.log",
        )
        wait_until(
            lambda: http_ok(f"http://127.0.0.1:{port}/health/ready"),
            timeout=60,
            what="baseline app ready",
            proc=proc,
        )
        return proc


@contextlib.contextmanager
def environment(*, keep: bool = False, with_store: bool = True) -> Iterator[Environment]:
    """The services for one bench run; everything started here is stopped by pid at the end."""
    run_dir = Path(tempfile.mkdtemp(prefix="competition-bench-"))
    env = Environment(run_dir=run_dir, with_store=with_store)
    try:
        env.start()
        yield env
    finally:
        env.stop()
        with contextlib.suppress(Exception):
            asyncio.run(drop_database())
        if keep:
            log(f"logs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


# --- data set-up through the domain services --------------------------------------------------


async def organiser(conn: asyncpg.Connection) -> Principal:
    """An organiser account (created through the accounts service) as a principal."""
    account_id, _ = await ensure_account(
        conn,
        email="organisation@bench.example",
        name="Bench Organisation",
        password=secrets.token_urlsafe(16),
        organiser=True,
    )
    account = await get_account(conn, account_id=account_id)
    if account is None:
        raise RuntimeError("the bench organiser vanished")
    return principal_of(account, via="session", scopes=SESSION_SCOPES)


async def open_competition(
    conn: asyncpg.Connection, principal: Principal, *, slug: str
) -> uuid.UUID:
    """A competition in phase "open" with two categories and five weighted criteria, created and
    opened by the competitions service (its rules and events apply)."""

    def name(de: str, en: str) -> competition_schemas.LocalizedName:
        return competition_schemas.LocalizedName(de=de, en=en)

    now = datetime.now(UTC)
    data = competition_schemas.CompetitionCreate(
        slug=slug,
        title=name("Industrie. Neu. Denken. Benchmark", "Industry. Rethought. Benchmark"),
        submission_opens_at=now - timedelta(hours=1),
        submission_closes_at=now + timedelta(days=14),
        reviews_per_entry=3,
        blind_judging=False,
        eligible_districts=list(ELIGIBLE),
        categories=[
            competition_schemas.CategoryIn(slug="energie", name=name("Energie", "Energy")),
            competition_schemas.CategoryIn(slug="mobilitaet", name=name("Mobilität", "Mobility")),
        ],
        criteria=[
            competition_schemas.CriterionIn(key=key, name=name(key, key), weight=w, min=0, max=10)
            for key, w in CRITERIA
        ],
        tie_break=["median", "highest_weight_criterion"],
    )
    competition_id = await competitions.create(conn, principal, data)
    await competitions.change_phase(conn, principal, competition_id, "open")
    return competition_id


async def token_for(conn: asyncpg.Connection, account_id: uuid.UUID) -> str:
    """An API token (scopes read and write) made by the accounts module's own functions."""
    token, token_hash = new_api_token()
    await insert_token(
        conn,
        account_id=account_id,
        name="benchmark",
        token_hash=token_hash,
        scopes=["read", "write"],
    )
    return token


async def insert_accounts(
    conn: asyncpg.Connection,
    *,
    emails: list[str],
    names: list[str],
    locales: list[str] | None = None,
) -> list[uuid.UUID]:
    """Verified accounts in one statement. Straight SQL, because 10,000 argon2 hashes would take
    minutes; nobody logs in with a password here (API tokens or no login at all)."""
    rows = await conn.fetch(
        """INSERT INTO account (email, name, password_hash, email_verified_at, locale)
           SELECT e, n, NULL, now(), l FROM unnest($1::text[], $2::text[], $3::text[]) AS u(e, n, l)
           RETURNING id, email""",
        emails,
        names,
        locales or ["de"] * len(emails),
    )
    by_email = {r["email"]: r["id"] for r in rows}
    return [by_email[e] for e in emails]


async def insert_companies(conn: asyncpg.Connection, *, names: list[str]) -> list[uuid.UUID]:
    """Companies in one statement; `names` must be distinct (rows are matched back by name)."""
    rows = await conn.fetch(
        """INSERT INTO company (name, street, postal_code, city, district, employees)
           SELECT n, 'Industriestraße 1', '08056', 'Zwickau', 'zwickau', 120
           FROM unnest($1::text[]) AS u(n)
           RETURNING id, name""",
        names,
    )
    by_name = {r["name"]: r["id"] for r in rows}
    return [by_name[n] for n in names]


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark helpers")
    sub = parser.add_subparsers(dest="command", required=True)
    capture = sub.add_parser("capture", help="run the SMTP capture")
    capture.add_argument("--port", type=int, required=True)
    capture.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(_serve_capture(args.port, args.log))


if __name__ == "__main__":
    main()
