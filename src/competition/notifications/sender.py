"""Sending one queued mail over SMTP, exactly once as far as SMTP allows.

Claim (commit) → send → record (commit). A crash between send and record leaves the mail
`sending`; once its lease expires it is sent again with the same Message-ID. That window, at most
the worker's mail concurrency, is the floor: SMTP has no idempotency key.
4xx answers and connection problems are temporary (retried with backoff); 5xx answers are
permanent (recorded as failed, not retried).
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import socket
import uuid
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import aiosmtplib
import asyncpg

from competition.config import Settings
from competition.db import connection, transaction
from competition.notifications import queries

logger = logging.getLogger(__name__)


_local_hostname: list[str] = []


async def local_hostname() -> str:
    """This host's name for EHLO, looked up once: aiosmtplib would look it up (in a thread) for
    every connection, and it does not change while the process runs."""
    if not _local_hostname:
        _local_hostname.append(await asyncio.to_thread(socket.getfqdn))
    return _local_hostname[0]


class Outcome(enum.Enum):
    SENT = "sent"
    ALREADY_DONE = "already_done"  # sent or failed earlier
    IN_FLIGHT = "in_flight"  # another sender holds a live lease
    RETRY = "retry"  # temporary failure, try again later
    FAILED = "failed"  # permanent failure, or attempts exhausted


@functools.lru_cache(maxsize=4)
def _from_header(value: str) -> Any:
    # Parsing the sender's address is a tenth of building a mail and it never changes; a header
    # object is taken by EmailMessage as it is.
    return default_policy.header_factory("From", value)


def build_message(mail: queries.EmailRow, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _from_header(settings.mail_from)
    msg["To"] = mail.recipient
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = mail.created_at  # formatted as RFC 5322 by the header, without a reparse
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.body_text)
    if mail.body_html:
        msg.add_alternative(mail.body_html, subtype="html")
    msg["Content-Language"] = mail.locale  # after set_content, which drops Content-* headers
    return msg


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


async def send_email(pool: asyncpg.Pool, settings: Settings, *, email_id: uuid.UUID) -> Outcome:
    # Claim and record are single statements, atomic and durable on their own (autocommit): no
    # BEGIN/COMMIT round trips around them, which were a third of the database work per mail.
    async with connection(pool) as conn:
        mail = await queries.claim_for_sending(
            conn, email_id=email_id, lease_seconds=settings.job_timeout_seconds
        )
        if mail is None:
            current = await queries.get_email(conn, email_id=email_id)
    if mail is None:
        if current is not None and current.status == "sending":
            return Outcome.IN_FLIGHT
        return Outcome.ALREADY_DONE

    try:
        await aiosmtplib.send(
            build_message(mail, settings),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            timeout=settings.smtp_timeout,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            local_hostname=await local_hostname(),
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        permanent = _is_permanent(exc)
        exhausted = mail.attempts >= settings.mail_max_attempts
        error = f"{type(exc).__name__}: {exc}"
        async with transaction(pool) as conn:
            await queries.mark_unsent(
                conn, email_id=email_id, error=error, permanent=permanent or exhausted
            )
        logger.warning(
            "mail not sent",
            extra={"email_id": str(email_id), "error": error, "permanent": permanent},
        )
        return Outcome.FAILED if permanent or exhausted else Outcome.RETRY

    async with connection(pool) as conn:
        await queries.mark_sent(conn, email_id=email_id)
    return Outcome.SENT
