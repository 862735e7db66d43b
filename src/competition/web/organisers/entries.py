"""Organiser pages for a competition's entries."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from competition.entries import service as entries
from competition.web.labels import LABELS
from competition.web.organisers.common import organised
from competition.web.rendering import UIDep


class EntryListPages(Controller):
    """The entries of a competition, filtered."""

    include_in_schema = False

    @get("/organisation/{competition_id:uuid}/beitraege")
    async def entries(
        self,
        competition_id: FromPath[uuid.UUID],
        ui: UIDep,
        kategorie: FromQuery[str] = "",
        status: FromQuery[str] = "",
    ) -> Template:
        """All entries, filtered by category and status."""
        competition = await organised(ui, competition_id)
        found = await entries.list_for_competition(
            ui.conn,
            ui.user(),
            competition_id,
            category=kategorie or None,
            status=status if status in LABELS["entry"] else None,
            limit=500,
            offset=0,
        )
        return await ui.render(
            "organiser/entries.html",
            competition=competition,
            entries=found,
            values={"kategorie": kategorie, "status": status},
            statuses=list(LABELS["entry"]),
        )
