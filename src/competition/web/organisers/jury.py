"""Organiser pages for the jury: invitations, conflicts and declarations, removal, reminders."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from competition.auth import ServicesDep
from competition.errors import NotFound
from competition.jury.conflicts import schemas as conflict_schemas
from competition.jury.conflicts import service as jury_conflicts
from competition.jury.invitations import schemas as invitation_schemas
from competition.jury.invitations import service as jury_invitations
from competition.jury.overview import service as jury_overview
from competition.jury.scoring import service as jury_scoring
from competition.web import forms
from competition.web.i18n import N_
from competition.web.labels import LABELS
from competition.web.organisers.common import organised
from competition.web.rendering import UI, UIDep

NO_COMPANY_CHOSEN = N_("Bitte wählen Sie mindestens ein Unternehmen oder verwerfen Sie die Angabe.")


class OrganiserJuryPages(Controller):
    """The jury of a competition, its conflicts and declarations."""

    include_in_schema = False

    @get("/organisation/{competition_id:uuid}/jury")
    async def jurors(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """Jurors with status, load and conflicts; invite, record conflicts, remind."""
        return await _jury_page(ui, competition_id)

    @post("/organisation/{competition_id:uuid}/jury")
    async def invite(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Invite a juror; the mail carries the link to accept."""
        user = ui.user()
        form = await ui.request.form()
        values = forms.values(form)
        data = {
            "email": values.get("email", "").strip(),
            "name": values.get("name", "").strip(),
            "expertise": [str(e) for e in form.getall("expertise", [])],
        }
        if values.get("max_load", "").strip():
            data["max_load"] = values["max_load"].strip()
        body, errors = forms.convert(invitation_schemas.JurorInvite, data, ui.locale)
        return await forms.answer(
            ui.locale,
            jury_invitations.invite(ui.conn, user, competition_id, body)
            if body is not None
            else None,
            fields=errors,
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/jury", notice="juror_invited"
            ),
            again=lambda problems, _: _jury_page(
                ui, competition_id, status_code=422, values=values, problems=problems
            ),
        )

    @post("/organisation/{competition_id:uuid}/jury/angaben/{declaration_id:uuid}")
    async def decide_declaration(
        self, competition_id: FromPath[uuid.UUID], declaration_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Link a juror's open declaration to companies, or dismiss it."""
        # The declaration first: an unknown one is a 404, not a complaint about the form.
        declared = await jury_conflicts.declarations(ui.conn, ui.user(), competition_id, None)
        if declaration_id not in {d.id for d in declared}:
            raise NotFound("jury.declaration_not_found")
        form = await ui.request.form()
        chosen: list[str] = []
        if form.get("action") != "dismiss":
            chosen = [str(v) for v in form.getall("company_id", [])]
            if form.get("other_company_id"):
                chosen.append(str(form.get("other_company_id")))
            if not chosen:
                return await _jury_page(
                    ui,
                    competition_id,
                    status_code=422,
                    problems=forms.Problems(message=ui._(NO_COMPANY_CHOSEN)),
                )
        body, errors = forms.convert(
            conflict_schemas.DeclarationDecision, {"company_ids": sorted(set(chosen))}, ui.locale
        )
        return await forms.answer(
            ui.locale,
            jury_conflicts.decide(ui.conn, ui.user(), competition_id, declaration_id, body)
            if body is not None
            else None,
            fields=errors,
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/jury", notice="declaration_decided"
            ),
            again=lambda problems, status: _jury_page(
                ui, competition_id, status_code=status, problems=problems
            ),
        )

    @post("/organisation/{competition_id:uuid}/jury/konflikt/{conflict_id:uuid}/entfernen")
    async def remove_conflict(
        self, competition_id: FromPath[uuid.UUID], conflict_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Remove a conflict the organisation recorded."""
        return await forms.answer(
            ui.locale,
            jury_conflicts.remove_conflict(ui.conn, ui.user(), competition_id, conflict_id),
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/jury", notice="conflict_removed"
            ),
            again=lambda problems, status: _jury_page(
                ui, competition_id, status_code=status, problems=problems
            ),
        )

    @post("/organisation/{competition_id:uuid}/jury/konflikt")
    async def record_conflict(
        self, competition_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Record a conflict between a juror and a company."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        data = {
            "juror_id": values.get("juror_id", ""),
            "company_id": values.get("company_id", ""),
            "type": values.get("type", ""),
            "note": values.get("note", "").strip() or None,
        }
        body, errors = forms.convert(conflict_schemas.OrganiserConflict, data, ui.locale)
        return await forms.answer(
            ui.locale,
            jury_conflicts.record_conflict(ui.conn, user, competition_id, body)
            if body is not None
            else None,
            fields={"conflict_" + k: v for k, v in errors.items()},
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/jury", notice="conflict_recorded"
            ),
            again=lambda problems, _: _jury_page(
                ui, competition_id, status_code=422, conflict_values=values, problems=problems
            ),
        )

    @post("/organisation/{competition_id:uuid}/jury/{juror_id:uuid}/entfernen")
    async def remove_juror(
        self, competition_id: FromPath[uuid.UUID], juror_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """A juror drops out; open assignments are freed for a new run."""
        await jury_invitations.remove_juror(ui.conn, ui.user(), competition_id, juror_id)
        return ui.redirect(f"/organisation/{competition_id}/jury", notice="juror_removed")

    @post("/organisation/{competition_id:uuid}/jury/erinnern")
    async def remind(
        self, competition_id: FromPath[uuid.UUID], ui: UIDep, services: ServicesDep
    ) -> Response[Any]:
        """Remind jurors with open sheets (at most once a day each)."""
        await jury_scoring.remind_jurors(ui.conn, ui.user(), competition_id, services.settings)
        return ui.redirect(f"/organisation/{competition_id}/jury", notice="reminders_sent")


# Page builders ---------------------------------------------------------------------------------


async def _jury_page(
    ui: UI,
    competition_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    conflict_values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
) -> Template:
    competition = await organised(ui, competition_id)
    problems = problems or forms.Problems()
    return await ui.render(
        "organiser/jury.html",
        status_code=status_code,
        competition=competition,
        jurors=await jury_invitations.list_jurors(
            ui.conn, ui.user(), competition_id, locale=ui.locale
        ),
        open_declarations=await jury_conflicts.declarations(
            ui.conn, ui.user(), competition_id, ["unmatched", "pending"]
        ),
        companies=await jury_overview.participating_companies(ui.conn, ui.user(), competition_id),
        types=list(LABELS["conflict"]),
        values=values or {},
        conflict_values=conflict_values or {},
        message=problems.message,
        errors=problems.fields,
    )
