"""Queueing mails into the e-mail outbox, and the outbox as organisers read it.

A mail is rendered and stored in the transaction of the event that causes it, with an idempotency
key per (event, recipient, template) and its Message-ID fixed at that moment. Sending happens later
in the worker (`competition.notifications.sender`).
"""

from __future__ import annotations

import uuid
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec

from competition.auth import Principal
from competition.config import Settings
from competition.errors import Forbidden
from competition.notifications import queries
from competition.notifications.render import render


def message_id_domain(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or "localhost"


async def queue_email(
    conn: asyncpg.Connection,
    settings: Settings,
    *,
    event_id: uuid.UUID | None,
    template: str,
    recipient: str,
    locale: str,
    context: dict[str, Any],
    competition_id: uuid.UUID | None,
    account_id: uuid.UUID | None = None,
    key: str | None = None,
) -> uuid.UUID | None:
    """Queue one mail; a second call for the same (event, recipient, template) does nothing.

    `competition_id` names the competition the mail belongs to (its organisers see it in their
    outbox) or None for mails about accounts and companies, which only platform administrators
    see; it has no default, so that every new mail decides. `key` replaces the event part of the
    idempotency key for mails not caused by an event (e.g. a daily reminder keyed by its day)."""
    scope = key if key is not None else str(event_id)
    mail = render(template, locale, context)
    return await queries.insert_email(
        conn,
        idempotency_key=f"{scope}:{recipient.lower()}:{template}",
        event_id=event_id,
        account_id=account_id,
        recipient=recipient,
        template=template,
        locale=locale,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        message_id=make_msgid(domain=message_id_domain(settings)),
        competition_id=competition_id,
    )


class Outbox(msgspec.Struct, frozen=True, kw_only=True):
    mails: list[queries.MailItem]
    counts: dict[str, int]
    everything: bool  # a platform administrator's outbox: every mail of the platform


async def outbox(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    status: str | None,
    limit: int,
    offset: int,
) -> Outbox:
    """The mail outbox for organisers (the mail of the competitions they organise) and platform
    administrators (every mail); anyone else is refused before anything is read."""
    reader = await queries.outbox_reader(conn, account_id=principal.account_id)
    if not (reader.is_admin or principal.is_organiser or reader.organises):
        raise Forbidden("organisers_only")
    account_id, everything = principal.account_id, reader.is_admin
    mails = await queries.list_outbox(
        conn,
        account_id=account_id,
        everything=everything,
        status=status,
        limit=limit,
        offset=offset,
    )
    counts = await queries.count_outbox(conn, account_id=account_id, everything=everything)
    return Outbox(mails=mails, counts=counts, everything=everything)
