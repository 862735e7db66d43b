"""Organiser pages for what happened: a competition's audit log and the mail outbox."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Template

from competition.competitions.overview import service as overview
from competition.notifications import service as notifications
from competition.web.labels import LABELS
from competition.web.organisers.common import organised
from competition.web.rendering import UIDep

AUDIT_PAGE = 50
OUTBOX_PAGE = 100
# Pages of the audit log and the outbox: a page number beyond any real list is a 422, never an
# offset PostgreSQL cannot hold.
Page = Annotated[int, Parameter(ge=1, le=100_000, description="Seite, ab 1")]


class RecordPages(Controller):
    """The audit log and the outbox."""

    include_in_schema = False

    @get("/organisation/{competition_id:uuid}/protokoll")
    async def audit(
        self, competition_id: FromPath[uuid.UUID], ui: UIDep, seite: Page = 1
    ) -> Template:
        """The competition's audit log, newest first."""
        competition = await organised(ui, competition_id)
        page = seite
        log = await overview.audit_log(
            ui.conn, ui.user(), competition_id, limit=AUDIT_PAGE + 1, offset=(page - 1) * AUDIT_PAGE
        )
        rows = log.rows
        return await ui.render(
            "organiser/audit.html",
            competition=competition,
            rows=rows[:AUDIT_PAGE],
            actors=log.actors,
            data_text={r.id: json.dumps(r.data, ensure_ascii=False, sort_keys=True) for r in rows},
            page=page,
            more=len(rows) > AUDIT_PAGE,
        )

    @get("/organisation/postausgang")
    async def outbox(self, ui: UIDep, status: FromQuery[str] = "", seite: Page = 1) -> Template:
        """The mail outbox: what was sent, what waits, what failed and why. Organisers see the
        mail of the competitions they organise; platform administrators see every mail."""
        user = ui.user()
        page = seite
        chosen = status if status in LABELS["mail"] else None
        outbox = await notifications.outbox(
            ui.conn, user, status=chosen, limit=OUTBOX_PAGE + 1, offset=(page - 1) * OUTBOX_PAGE
        )
        return await ui.render(
            "organiser/outbox.html",
            counts=outbox.counts,
            mails=outbox.mails[:OUTBOX_PAGE],
            status=chosen or "",
            page=page,
            more=len(outbox.mails) > OUTBOX_PAGE,
            everything=outbox.everything,
            organised=await overview.organised(ui.conn, user),
        )
