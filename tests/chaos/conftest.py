"""Private copies of the services for fault injection: a PostgreSQL cluster, the API and the
worker as processes of their own, so stopping them disturbs nothing else on the machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from competition.config import Settings, to_environ
from infra.local import free_port


def _bindir() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").iterdir())
    return versions[-1] / "bin"


class PrivatePostgres:
    """A throw-away cluster on a free port. As root, it runs as the postgres user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="competition-chaos-pg-"))
        self.data = self.dir / "data"
        self.as_user: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o755)
        self._run(str(_bindir() / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True)

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run(
            str(_bindir() / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}",
            "start",
        )

    def stop(self) -> None:
        self._run(str(_bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


class Process:
    """`competition api` or `competition worker` with the given settings, stopped by pid."""

    def __init__(self, settings: Settings, *args: str, log: Path) -> None:
        self.args = args
        self.settings = settings
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **to_environ(self.settings)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "competition.cli", *self.args],
                env=env,
                stdout=out,
                stderr=out,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def api_process(settings: Settings, log: Path) -> tuple[Process, str]:
    port = free_port()
    api = Process(settings, "api", "--port", str(port), log=log)
    api.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/health/live", timeout=1):
                return api, base
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"API did not start; log:\n{log.read_text()[-2000:]}")


def with_database(settings: Settings, dsn: str) -> Settings:
    return msgspec.structs.replace(settings, database_url=dsn)
