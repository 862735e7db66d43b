"""What every organiser page starts with: the competition, if the caller organises it."""

from __future__ import annotations

import uuid

from competition.competitions import schemas as competition_schemas
from competition.competitions import service as competitions
from competition.web.rendering import UI


async def organised(ui: UI, competition_id: uuid.UUID) -> competition_schemas.Competition:
    """The competition as its organisers see it; anyone else gets 403 (404 for a draft)."""
    row = await competitions.require_organiser(ui.conn, ui.user(), competition_id)
    return await competitions.to_response(ui.conn, row, is_organiser=True)
