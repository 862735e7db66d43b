"""Tests of the local service tooling: the test-service fixtures and `infra/local.py` itself."""

from __future__ import annotations

import os
import secrets
import signal
import smtplib
import stat
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import aiosmtplib
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from infra import local
from tests.services import S3Server, SmtpCapture

LOCAL_PY = Path(local.__file__)


@pytest.fixture(scope="module")
def s3(s3_server: S3Server) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        region_name=s3_server.region,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def test_s3_server_test_bucket_exists(s3: S3Client, s3_server: S3Server) -> None:
    response = s3.head_bucket(Bucket=s3_server.bucket)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3_server.bucket == "competition-test"


def test_s3_server_new_bucket_put_get_roundtrip(s3: S3Client) -> None:
    bucket = f"roundtrip-{secrets.token_hex(4)}"
    body = secrets.token_bytes(70_000)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="entries/1/attachment", Body=body, ContentType="image/png")
    got = s3.get_object(Bucket=bucket, Key="entries/1/attachment")
    assert got["Body"].read() == body
    assert got["ContentLength"] == 70_000
    assert got["ContentType"] == "image/png"


def test_s3_server_wrong_secret_rejected(s3_server: S3Server) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key + "x",
        region_name=s3_server.region,
        config=Config(s3={"addressing_style": "path"}),
    )
    with pytest.raises(ClientError) as info:
        client.list_buckets()
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def _mail(*, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Industrie. Neu. Denken. <wettbewerb@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{secrets.token_hex(8)}@example.org>"
    message.set_content(body)
    return message


async def test_smtp_capture_message_exposes_headers_body_envelope(
    smtp_server: SmtpCapture,
) -> None:
    smtp_server.clear()
    message = _mail(
        to="Jana Jurorin <jury1@example.org>",
        subject="Ihre Einladung zur Jury – Industrie. Neu. Denken. 2026",
        body="Guten Tag Frau Jurorin,\nbitte bestätigen Sie Ihre Teilnahme.\n",
    )
    await aiosmtplib.send(
        message,
        sender="bounce@example.org",
        recipients=["jury1@example.org", "archiv@example.org"],
        hostname=smtp_server.host,
        port=smtp_server.port,
    )
    [mail] = await smtp_server.wait_for(1, timeout=5.0)
    assert mail.mail_from == "bounce@example.org"
    assert mail.rcpt_tos == ("jury1@example.org", "archiv@example.org")
    assert mail.message["Subject"] == "Ihre Einladung zur Jury – Industrie. Neu. Denken. 2026"
    assert mail.message["To"] == "Jana Jurorin <jury1@example.org>"
    assert mail.message["Message-ID"] == message["Message-ID"]
    assert mail.message.get_content() == (
        "Guten Tag Frau Jurorin,\nbitte bestätigen Sie Ihre Teilnahme.\n"
    )
    assert smtp_server.messages == [mail]


async def test_smtp_fail_next_temporary_code_refuses_data_once(smtp_server: SmtpCapture) -> None:
    smtp_server.clear()
    smtp_server.fail_next(1, code=451, text="4.3.0 Bitte später erneut versuchen")
    first = _mail(to="a@example.org", subject="erster Versuch", body="eins\n")
    with pytest.raises(aiosmtplib.SMTPDataError) as info:
        await aiosmtplib.send(first, hostname=smtp_server.host, port=smtp_server.port)
    assert info.value.code == 451
    assert info.value.message == "4.3.0 Bitte später erneut versuchen"
    assert smtp_server.messages == []

    second = _mail(to="a@example.org", subject="zweiter Versuch", body="zwei\n")
    await aiosmtplib.send(second, hostname=smtp_server.host, port=smtp_server.port)
    [mail] = await smtp_server.wait_for(1, timeout=5.0)
    assert mail.message["Subject"] == "zweiter Versuch"


async def test_smtp_fail_next_permanent_code_refuses_recipient(smtp_server: SmtpCapture) -> None:
    smtp_server.clear()
    smtp_server.fail_next(1, code=550, text="5.1.1 Mailbox unbekannt", stage="RCPT")
    message = _mail(to="weg@example.org", subject="unzustellbar", body="x\n")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as info:
        await aiosmtplib.send(message, hostname=smtp_server.host, port=smtp_server.port)
    [refused] = info.value.recipients
    assert (refused.code, refused.message, refused.recipient) == (
        550,
        "5.1.1 Mailbox unbekannt",
        "weg@example.org",
    )
    assert smtp_server.messages == []


async def test_smtp_wait_for_timeout_lists_arrived_mails(smtp_server: SmtpCapture) -> None:
    smtp_server.clear()
    message = _mail(to="b@example.org", subject="nur eine", body="x\n")
    await aiosmtplib.send(message, hostname=smtp_server.host, port=smtp_server.port)
    await smtp_server.wait_for(1, timeout=5.0)
    with pytest.raises(AssertionError) as info:
        await smtp_server.wait_for(2, timeout=0.2)
    assert str(info.value) == (
        "expected at least 2 mail(s) within 0.2 s, got 1: 'nur eine' to b@example.org"
    )


def test_stop_process_term_ends_cooperative_process() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    local.stop_process(proc.pid, grace=5.0)
    assert proc.wait(timeout=5) == -signal.SIGTERM


def test_stop_process_kill_after_grace_when_term_ignored() -> None:
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    local.stop_process(proc.pid, grace=0.3)
    assert local.pid_alive(proc.pid) is False
    assert proc.wait(timeout=5) == -signal.SIGKILL
    proc.stdout.close()


# --- infra/local.py as a command -------------------------------------------------------------


def _admin_url() -> str:
    base = os.environ.get("COMPETITION_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x")
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(path="/postgres"))


def _psql(sql: str) -> str:
    result = subprocess.run(
        ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", _admin_url(), "-c", sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def _run_local(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LOCAL_PY), command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


class LocalStack:
    def __init__(self, *, state_dir: Path, s3_port: int, smtp_port: int, database: str) -> None:
        self.state_dir = state_dir
        self.s3_port = s3_port
        self.smtp_port = smtp_port
        self.database = database
        db_url = urllib.parse.urlsplit(_admin_url())._replace(path=f"/{database}")
        self.env = {
            **os.environ,
            "COMPETITION_STATE_DIR": str(state_dir),
            "COMPETITION_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
            "COMPETITION_SMTP_HOST": "127.0.0.1",
            "COMPETITION_SMTP_PORT": str(smtp_port),
            "COMPETITION_API_PORT": str(local.free_port()),
            "COMPETITION_DATABASE_URL": urllib.parse.urlunsplit(db_url),
        }

    def pids(self) -> dict[str, int]:
        return {
            name: int((self.state_dir / f"{name}.pid").read_text())
            for name in ("seaweedfs", "mail")
            if (self.state_dir / f"{name}.pid").exists()
        }


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[LocalStack]:
    s3_port, smtp_port = local.free_ports(count=2)
    stack = LocalStack(
        state_dir=tmp_path / "state",
        s3_port=s3_port,
        smtp_port=smtp_port,
        database=f"competition_infra_test_{secrets.token_hex(4)}",
    )
    try:
        yield stack
    finally:
        # Whatever a failed test left running or created goes away.
        _run_local("stop", stack.env)
        _psql(f'DROP DATABASE IF EXISTS "{stack.database}"')


def test_local_start_twice_starts_once_then_stop_ends_all(local_stack: LocalStack) -> None:
    first = _run_local("start", local_stack.env)
    assert first.returncode == 0, first.stderr
    pids = local_stack.pids()
    assert sorted(pids) == ["mail", "seaweedfs"]
    assert [local.pid_alive(pid) for pid in pids.values()] == [True, True]
    assert _psql(f"SELECT 1 FROM pg_database WHERE datname = '{local_stack.database}'") == "1"
    out = first.stdout.splitlines()
    assert out[2] == f"database    {local_stack.database} angelegt"
    assert out[4] == "bucket      competition angelegt"

    second = _run_local("start", local_stack.env)
    assert second.returncode == 0, second.stderr
    assert local_stack.pids() == pids
    log = local_stack.state_dir / "seaweedfs.log"
    mail_log = local_stack.state_dir / "mail.log"
    assert second.stdout.splitlines()[2:] == [
        f"database    {local_stack.database} vorhanden",
        f"seaweedfs   läuft bereits (pid {pids['seaweedfs']}, "
        f"http://127.0.0.1:{local_stack.s3_port}, Log {log})",
        "bucket      competition vorhanden",
        f"mail        läuft bereits (pid {pids['mail']}, "
        f"smtp://127.0.0.1:{local_stack.smtp_port}, Log {mail_log})",
    ]

    status = _run_local("status", local_stack.env)
    assert status.stdout.splitlines()[2:4] == [
        f"seaweedfs   läuft     pid {pids['seaweedfs']:<8} port {local_stack.s3_port}",
        f"mail        läuft     pid {pids['mail']:<8} port {local_stack.smtp_port}",
    ]

    stop = _run_local("stop", local_stack.env)
    assert stop.returncode == 0, stop.stderr
    assert stop.stdout.splitlines() == [
        f"seaweedfs   gestoppt (pid {pids['seaweedfs']})",
        f"mail        gestoppt (pid {pids['mail']})",
    ]
    assert [local.pid_alive(pid) for pid in pids.values()] == [False, False]
    assert local_stack.pids() == {}
    assert local.port_open(host="127.0.0.1", port=local_stack.s3_port) is False
    assert local.port_open(host="127.0.0.1", port=local_stack.smtp_port) is False


def test_local_mail_catcher_replaces_stale_pid_and_writes_maildir(local_stack: LocalStack) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale_pid = int(finished.stdout)
    local_stack.state_dir.mkdir(parents=True)
    (local_stack.state_dir / "mail.pid").write_text(f"{stale_pid}\n")
    managed = local.start_mail_catcher(state_dir=local_stack.state_dir, port=local_stack.smtp_port)
    assert managed.started is True
    assert managed.pid != stale_pid
    assert local_stack.pids() == {"mail": managed.pid}

    message = _mail(to="entrant@example.org", subject="Einreichung bestätigt", body="Danke!\n")
    with smtplib.SMTP("127.0.0.1", local_stack.smtp_port, timeout=10) as client:
        client.send_message(message)
    [path] = (local_stack.state_dir / "mail" / "new").iterdir()
    stored = BytesParser(EmailMessage, policy=default_policy).parsebytes(path.read_bytes())
    assert stored["Subject"] == "Einreichung bestätigt"
    assert stored["X-RcptTo"] == "entrant@example.org"
    assert stored.get_content() == "Danke!\n"


def test_local_env_prints_exports_with_kept_secret(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COMPETITION_")}
    env["COMPETITION_STATE_DIR"] = str(tmp_path)
    env["COMPETITION_API_PORT"] = "8123"
    first = _run_local("env", env)
    secret_file = tmp_path / "secret_key"
    secret = secret_file.read_text().strip()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.stdout.splitlines() == [
        "export COMPETITION_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/competition",
        "export COMPETITION_REDIS_URL=redis://127.0.0.1:6379/0",
        "export COMPETITION_S3_ENDPOINT=http://127.0.0.1:8333",
        "export COMPETITION_S3_ACCESS_KEY=competition-dev",
        "export COMPETITION_S3_SECRET_KEY=competition-dev-secret",
        "export COMPETITION_S3_BUCKET=competition",
        "export COMPETITION_SMTP_HOST=127.0.0.1",
        "export COMPETITION_SMTP_PORT=1025",
        "export COMPETITION_PUBLIC_URL=http://127.0.0.1:8123",
        "export COMPETITION_API_PORT=8123",
        f"export COMPETITION_SECRET_KEY={secret}",
    ]
    assert len(secret) == 64
    assert _run_local("env", env).stdout == first.stdout
