"""README command 1, end to end: `infra/local.py up` (what `make run` calls) brings up the whole
platform with demo data; the API reports every dependency healthy and the worker delivers mail."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from email.policy import default as default_policy
from pathlib import Path

import pytest

from infra import local
from tests.conftest import dsn_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[dict[str, str], int, Path]]:
    api_port = local.free_port()
    env = {
        **os.environ,
        "COMPETITION_STATE_DIR": str(tmp_path / "state"),
        "COMPETITION_DATABASE_URL": dsn_for("competition_test_quickstart"),
        "COMPETITION_REDIS_URL": "redis://127.0.0.1:6379/12",
        "COMPETITION_S3_ENDPOINT": f"http://127.0.0.1:{local.free_port()}",
        "COMPETITION_SMTP_PORT": str(local.free_port()),
        "COMPETITION_API_PORT": str(api_port),
        "COMPETITION_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
    }
    subprocess.run(["redis-cli", "-n", "12", "flushdb"], check=True, capture_output=True)
    subprocess.run(
        [
            "dropdb",
            "--if-exists",
            "--force",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "competition_test_quickstart",
        ],
        check=True,
    )
    try:
        yield env, api_port, tmp_path / "state"
    finally:
        subprocess.run([sys.executable, "infra/local.py", "stop"], cwd=ROOT, env=env, check=True)


def test_up_serves_healthy_api_with_demo_data_and_a_working_worker(
    stack: tuple[dict[str, str], int, Path],
) -> None:
    env, port, state = stack
    up = subprocess.run(
        [sys.executable, "infra/local.py", "up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"http://127.0.0.1:{port}" in up.stdout
    assert "organisation@demo.industrie-neu-denken.de" in up.stdout  # the demo logins

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as r:
        ready = json.load(r)
    assert {k: v["status"] for k, v in ready["checks"].items()} == {
        "postgres": "ok",
        "redis": "ok",
        "object_store": "ok",
    }

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/register",
        data=json.dumps(
            {"email": "neu@example.de", "password": "passwort-2026", "name": "Neu"}
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 201

    inbox = state / "mail" / "new"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(inbox.glob("*")):
        time.sleep(0.2)
    files = list(inbox.glob("*"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert message["To"] == "neu@example.de"
    assert message["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
