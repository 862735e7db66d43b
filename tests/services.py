"""Pytest plugin with real backing services for tests: an S3 store and an SMTP capture server.

Load it with ``pytest_plugins = ["tests.services"]``. Both fixtures are session-scoped and not
autouse, so only sessions that need them pay their start-up cost (SeaweedFS: a few seconds).

``s3_server``   a private SeaweedFS (``infra.local.start_seaweedfs``) on free ports in a temporary
                directory, with the bucket ``competition-test`` created; stopped by pid (TERM,
                then KILL) at the end of the session. With ``COMPETITION_TEST_S3_ENDPOINT`` set,
                that store is used instead (keys from ``COMPETITION_TEST_S3_ACCESS_KEY`` /
                ``COMPETITION_TEST_S3_SECRET_KEY``) and nothing is started.
``smtp_server`` an aiosmtpd ``Controller`` on 127.0.0.1 that keeps every accepted message, parsed,
                with its envelope, and can be told to refuse the next messages with a given code.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any, Literal

import msgspec
import pytest
from aiosmtpd.controller import Controller

from infra import local

TEST_BUCKET = "competition-test"


class S3Server(msgspec.Struct, frozen=True, kw_only=True):
    """Where the test object store is and how to reach it (path-style addressing)."""

    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str
    region: str = local.S3_REGION


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """An S3 store with the bucket `competition-test`; private SeaweedFS unless configured."""
    endpoint = os.environ.get("COMPETITION_TEST_S3_ENDPOINT")
    if endpoint:
        server = S3Server(
            endpoint_url=endpoint.rstrip("/"),
            access_key=os.environ.get("COMPETITION_TEST_S3_ACCESS_KEY", local.DEV_S3_ACCESS_KEY),
            secret_key=os.environ.get("COMPETITION_TEST_S3_SECRET_KEY", local.DEV_S3_SECRET_KEY),
            bucket=TEST_BUCKET,
        )
        _create_bucket(server)
        yield server
        return
    state_dir = tmp_path_factory.mktemp("seaweedfs")
    port = local.free_port()
    server = S3Server(
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key="competition-test",
        secret_key=secrets.token_urlsafe(24),
        bucket=TEST_BUCKET,
    )
    managed = local.start_seaweedfs(
        state_dir=state_dir,
        s3_port=port,
        access_key=server.access_key,
        secret_key=server.secret_key,
    )
    try:
        _create_bucket(server)
        yield server
    finally:
        # The store holds nothing worth a graceful 15 s filer shutdown.
        local.stop_seaweedfs(state_dir=state_dir, grace=2.0)
        if local.pid_alive(managed.pid):
            local.stop_process(managed.pid, grace=0.0)


def _create_bucket(server: S3Server) -> None:
    local.ensure_bucket(
        endpoint=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        bucket=server.bucket,
    )


class CapturedMail(msgspec.Struct, frozen=True, kw_only=True):
    """One message the SMTP capture accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes  # the DATA bytes as received (CRLF line endings)


class _Failure(msgspec.Struct, frozen=True):
    stage: Literal["RCPT", "DATA"]
    reply: str


class SmtpCapture:
    """SMTP server on 127.0.0.1 that records messages; thread-safe (aiosmtpd runs in a thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[CapturedMail] = []
        self._failures: deque[_Failure] = deque()
        self.host = "127.0.0.1"
        self.port = local.free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[CapturedMail]:
        """A copy of the messages accepted so far, in arrival order."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget the accepted messages and any failures still pending from `fail_next`."""
        with self._lock:
            self._messages.clear()
            self._failures.clear()

    def fail_next(
        self,
        n: int,
        *,
        code: int = 451,
        text: str = "4.3.0 Temporary failure, try again later",
        stage: Literal["RCPT", "DATA"] = "DATA",
    ) -> None:
        """Answer `code text` to the next `n` DATA commands (or RCPT commands, one per recipient).

        4xx codes make SMTP clients treat the failure as temporary, 5xx as permanent. A refused
        message is not recorded.
        """
        if not 400 <= code <= 599:
            raise ValueError(f"SMTP failure codes are 4xx or 5xx, not {code}")
        with self._lock:
            self._failures.extend(_Failure(stage, f"{code} {text}") for _ in range(n))

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[CapturedMail]:
        """Wait until at least `count` messages arrived; return them all (a copy)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count:
                return messages
            if time.monotonic() >= deadline:
                arrived = "; ".join(
                    f"{m.message['Subject']!r} to {', '.join(m.rcpt_tos)}" for m in messages
                )
                raise AssertionError(
                    f"expected at least {count} mail(s) within {timeout} s, "
                    f"got {len(messages)}: {arrived or '-'}"
                )
            await asyncio.sleep(0.02)

    def _take_failure(self, stage: str) -> str | None:
        with self._lock:
            if self._failures and self._failures[0].stage == stage:
                return self._failures.popleft().reply
        return None

    # aiosmtpd handler hooks (called on the controller's event loop thread).

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self._take_failure("RCPT")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._take_failure("DATA")
        if reply is not None:
            return reply
        raw: bytes = envelope.original_content
        # Parsed with local line endings, so bodies compare equal to the "\n" text they were
        # built from; `raw` keeps the CRLF bytes as received.
        message = BytesParser(EmailMessage, policy=default_policy).parsebytes(
            raw.replace(b"\r\n", b"\n")
        )
        mail = CapturedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=message,
            raw=raw,
        )
        with self._lock:
            self._messages.append(mail)
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpCapture]:
    """An SMTP capture server for the session; call `clear()` at the start of a test."""
    capture = SmtpCapture()
    capture.start()
    try:
        yield capture
    finally:
        capture.stop()
