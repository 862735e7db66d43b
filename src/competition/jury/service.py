"""Jury rules every part of the jury relies on: who is a juror of a competition, and which
assignment a juror may open.

The parts: `invitations` (inviting, accepting, the roster), `conflicts` (declarations, recorded
conflicts, recusal), `runs` (assignment runs and deployment), `scoring` (assignments, score
sheets, progress, reminders). Each builds on this module, none on another's service but
`runs` on `conflicts` (no deployment while a declaration waits) and `invitations` on
`conflicts` (the roster shows each juror's conflicts).

- Conflicts are between jurors and companies and are hard exclusions: a conflicted juror is never
  assigned, and can never open, an entry of that company (checked on every read, so a conflict
  recorded after assignment takes effect at once). A juror sees entries only after confirming
  the declaration complete. Membership of the company (owner or member) is a conflict nobody
  declares: the view `juror_company_conflict` joins it to the declared and recorded ones, and
  an assignment made before the membership started is voided with it (migrations/0011).
- Assignment runs in the worker (`jury.runs.solver`, min-cost flow); organisers look at the
  feasibility report and the proposal, then deploy it. A rerun keeps what is deployed and fills
  the gaps.
- Blind competitions: nothing a juror can read carries the company's identity.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from competition.auth import Principal
from competition.competitions import queries as competition_queries
from competition.competitions.queries import CompetitionRow
from competition.entries.schemas import LEFT_COMPETITION
from competition.errors import Forbidden, NotFound
from competition.jury import queries, schemas
from competition.jury.queries import AssignmentRow, JurorRow
from competition.localization import berlin


async def require_juror(
    conn: asyncpg.Connection, principal: Principal, competition_id: uuid.UUID
) -> tuple[JurorRow, CompetitionRow]:
    """The caller's active juror record; other people learn nothing (404)."""
    competition = await competition_queries.get_competition(conn, competition_id=competition_id)
    juror = (
        await queries.juror_of(conn, competition_id=competition_id, account_id=principal.account_id)
        if competition
        else None
    )
    if competition is None or juror is None:
        raise NotFound("jury.not_a_juror")
    return juror, competition


def require_declarations(
    conflicts_confirmed_at: datetime | None, confidentiality_accepted_at: datetime | None
) -> None:
    """No entry before the juror has accepted confidentiality and confirmed the conflicts."""
    if confidentiality_accepted_at is None:
        raise Forbidden("jury.confidentiality_required", code="confidentiality_required")
    if conflicts_confirmed_at is None:
        raise Forbidden("jury.conflicts_unconfirmed", code="conflicts_unconfirmed")


async def own_assignment(
    conn: asyncpg.Connection, principal: Principal, assignment_id: uuid.UUID
) -> AssignmentRow:
    """The caller's own assignment, declarations made. Conflicted, voided, recused, foreign, or
    of an entry that left the competition: 404, the same answer for each, so a vanished
    assignment does not tell a blind juror whether a conflict (the company) or a withdrawal was
    the cause."""
    row = await queries.get_assignment(conn, assignment_id=assignment_id)
    if (
        row is None
        or row.account_id != principal.account_id
        or row.juror_status != "active"
        or row.conflicted
        or row.voided_at is not None
        or row.entry_status in LEFT_COMPETITION
    ):
        raise NotFound("jury.assignment_not_found")
    require_declarations(row.conflicts_confirmed_at, row.confidentiality_accepted_at)
    return row


async def voided_assignments(
    conn: asyncpg.Connection, *, competition_id: uuid.UUID
) -> list[schemas.VoidedAssignment]:
    """For organisers only (progress, assignment runs): assignments voided because the juror
    joined the entrant company. Jurors never learn why an assignment went: in blind judging
    that would name the company."""
    return [
        schemas.VoidedAssignment(
            assignment_id=v.assignment_id,
            juror_id=v.juror_id,
            juror_name=v.juror_name,
            entry_id=v.entry_id,
            entry_title=v.entry_title,
            reason="member",
            voided_at=berlin(v.voided_at),
        )
        for v in await queries.voided_assignments(conn, competition_id=competition_id)
    ]
