"""Juror pages: accept the invitation, declare conflicts, the list of assignments with progress,
the score sheet with the criteria, their weights and the weighted total."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from competition.auth import ServicesDep
from competition.competitions import service as competitions
from competition.errors import AppError, Invalid
from competition.jury import confidentiality
from competition.jury import service as jury_service
from competition.jury.conflicts import schemas as conflict_schemas
from competition.jury.conflicts import service as jury_conflicts
from competition.jury.invitations import schemas as invitation_schemas
from competition.jury.invitations import service as jury_invitations
from competition.jury.overview import service as jury_overview
from competition.jury.scoring import schemas as scoring_schemas
from competition.jury.scoring import service as jury_scoring
from competition.web import forms
from competition.web.accounts import start_session
from competition.web.labels import LABELS
from competition.web.rendering import UI, UIDep

BLIND_ROWS = 5


def _number_text(value: float) -> str:
    return f"{value:g}"


async def _conflicts_page(
    ui: UI,
    competition_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
) -> Template:
    user = ui.user()
    _, competition = await jury_service.require_juror(ui.conn, user, competition_id)
    declared = await jury_conflicts.my_conflicts(ui.conn, user, competition_id, locale=ui.locale)
    if values is None:
        values = {"confirmed": "1"} if declared.confirmed_complete else {}
        own = [c for c in declared.conflicts if c.source == "juror"]
        if competition.blind_judging:
            for i, c in enumerate(own[:BLIND_ROWS]):
                values |= {f"company_{i}": c.company_name or "", f"type_{i}": c.type}
                values[f"note_{i}"] = c.note or ""
        else:
            for c in own:
                values[f"type_{c.company_id}"] = c.type
                values[f"note_{c.company_id}"] = c.note or ""
    problems = problems or forms.Problems()
    suggested = {s.company_id: s.reason for s in declared.suggested or []}
    return await ui.render(
        "jury/conflicts.html",
        status_code=status_code,
        competition=competition,
        declared=declared,
        suggested=suggested,
        types=list(LABELS["conflict"]),
        rows=range(BLIND_ROWS),
        values=values,
        message=problems.message,
        errors=problems.fields,
    )


async def _sheet_page(
    ui: UI,
    assignment_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
    stored: scoring_schemas.Sheet | None = None,
) -> Template:
    detail = await jury_scoring.assignment_detail(ui.conn, ui.user(), assignment_id)
    # The juror's own assignment: its competition is past the draft and visible to them.
    row, _ = await competitions.visible(ui.conn, ui.user(), detail.competition_id)
    competition = await competitions.to_response(ui.conn, row, is_organiser=False)
    categories = {c.slug: c.name for c in competition.categories}
    if values is None:
        values = {f"score_{k}": _number_text(v) for k, v in detail.sheet.scores.items()}
        values["comment"] = detail.sheet.comment
        values["version"] = str(detail.sheet.version)
    problems = problems or forms.Problems()
    return await ui.render(
        "jury/sheet.html",
        status_code=status_code,
        detail=detail,
        competition=competition,
        category_name=categories.get(detail.category, {}),
        weight_sum=sum(c.weight for c in detail.criteria),
        editable=detail.sheet.status != "final" and competition.phase == "judging",
        values=values,
        message=problems.message,
        errors=problems.fields,
        stored=stored,
    )


class JuryPages(Controller):
    include_in_schema = False

    @get("/jury")
    async def memberships(self, ui: UIDep) -> Template:
        """The competitions in which the person sits on the jury."""
        user = ui.user()
        return await ui.render(
            "jury/index.html",
            memberships=await jury_overview.memberships(ui.conn, user),
        )

    @get("/jury/accept")
    async def accept_form(
        self, ui: UIDep, services: ServicesDep, token: FromQuery[str] = ""
    ) -> Template:
        """The link from the invitation: a password for a new account, or the existing
        account's password (or a new one), and the confidentiality agreement."""
        return await ui.render(
            "jury/accept.html",
            token=token,
            values={},
            account_state=await self._account_state(ui, services, token),
            confidentiality_text=confidentiality.TEXT[ui.locale],
        )

    @staticmethod
    async def _account_state(ui: UI, services: ServicesDep, token: str) -> str:
        return await jury_invitations.invitation_account_state(
            ui.conn,
            services.settings,
            token=token,
            signed_in_as=ui.principal.account_id if ui.principal else None,
        )

    @post("/jury/accept")
    async def accept(self, ui: UIDep, services: ServicesDep) -> Response[Any]:
        """Accept the invitation; the account is signed in at once."""
        values = forms.values(await ui.request.form())
        token, password = values.get("token", ""), values.get("password", "")
        state = await self._account_state(ui, services, token)
        replace = state == "existing" and values.get("replace_password") == "1"
        data, errors = forms.convert(
            invitation_schemas.AcceptInvitation,
            {
                "token": token,
                "replace_password": replace,
                **({"password": password} if password and state != "signed_in" else {}),
            },
            ui.locale,
        )
        chooses_password = state in ("new", "unclaimed") or replace
        if chooses_password and password != values.get("password_repeat", ""):
            errors["password_repeat"] = ui._("Die beiden Passwörter stimmen nicht überein.")
        if values.get("accept_confidentiality") != "1":
            errors["accept_confidentiality"] = ui._(
                "Bitte verpflichten Sie sich zur Vertraulichkeit."
            )
        if values.get("accept_privacy") != "1":
            errors["accept_privacy"] = ui._("Bitte stimmen Sie den Datenschutzhinweisen zu.")
        if data is None or errors:
            return await ui.render(
                "jury/accept.html",
                status_code=422,
                token=token,
                errors=errors,
                values=values,
                account_state=state,
                confidentiality_text=confidentiality.TEXT[ui.locale],
            )
        try:
            # A savepoint: a refused acceptance keeps nothing it began, as the API's rolled-back
            # transaction does; this page answers instead.
            async with ui.conn.transaction():
                accepted = await jury_invitations.accept(
                    ui.conn,
                    services.redis,
                    services.settings,
                    token=data.token,
                    password=data.password,
                    replace_password=data.replace_password,
                    signed_in_as=ui.principal.account_id if ui.principal else None,
                    accept_confidentiality=True,
                    accept_privacy=True,
                )
        except Invalid as exc:
            problems = forms.from_error(exc, ui.locale)
            return await ui.render(
                "jury/accept.html",
                status_code=422,
                token=token,
                message=problems.message,
                errors=problems.fields,
                values=values,
                account_state=state,
                confidentiality_text=confidentiality.TEXT[ui.locale],
            )
        except AppError as exc:
            return await ui.render(
                "accounts/link_invalid.html",
                status_code=exc.status_code,
                message=forms.from_error(exc, ui.locale).message,
            )
        target = f"/jury/{accepted.competition_id}/konflikte"
        if ui.principal is not None and ui.principal.account_id == accepted.account_id:
            return ui.redirect(target, notice="invitation_accepted")
        # Whoever got here proved the account (its password, or set a new one): signed in.
        return await start_session(
            ui, services, accepted.account_id, target, notice="invitation_accepted"
        )

    @get("/jury/{competition_id:uuid}")
    async def assignments(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """The juror's assignments with the state of each sheet and the overall progress."""
        user = ui.user()
        juror, competition = await jury_service.require_juror(ui.conn, user, competition_id)
        if juror.conflicts_confirmed_at is None:
            return ui.redirect(f"/jury/{competition_id}/konflikte")
        items = await jury_scoring.my_assignments(ui.conn, user, competition_id)
        # Work still to do first, then alphabetically: the order a juror works through.
        items.sort(key=lambda i: (i.sheet_status == "final", i.entry.title.casefold()))
        described = await competitions.to_response(ui.conn, competition, is_organiser=False)
        categories = {c.slug: c.name for c in described.categories}
        counts = {
            s: sum(1 for i in items if i.sheet_status == s) for s in ("open", "draft", "final")
        }
        return await ui.render(
            "jury/assignments.html",
            competition=competition,
            items=items,
            categories=categories,
            counts=counts,
        )

    @get("/jury/{competition_id:uuid}/konflikte")
    async def conflicts_form(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """Declare conflicts of interest and confirm the declaration complete."""
        return await _conflicts_page(ui, competition_id)

    @post("/jury/{competition_id:uuid}/konflikte")
    async def save_conflicts(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Save the declaration; once confirmed, the assignments open."""
        user = ui.user()
        # Jurors of this competition only: how the form is read depends on blind judging.
        _, competition = await jury_service.require_juror(ui.conn, user, competition_id)
        values = forms.values(await ui.request.form())
        conflicts: list[dict[str, Any]] = []
        if competition.blind_judging:
            for i in range(BLIND_ROWS):
                name = values.get(f"company_{i}", "").strip()
                if name:
                    conflicts.append(
                        {
                            "company": name,
                            "type": values.get(f"type_{i}") or "other",
                            "note": values.get(f"note_{i}", "").strip() or None,
                        }
                    )
        else:
            for key, kind in values.items():
                if key.startswith("type_") and kind:
                    company_id = key.removeprefix("type_")
                    conflicts.append(
                        {
                            "company_id": company_id,
                            "type": kind,
                            "note": values.get(f"note_{company_id}", "").strip() or None,
                        }
                    )
        confirmed = values.get("confirmed") == "1"
        try:
            data = msgspec.convert(
                {"conflicts": conflicts, "confirmed_complete": confirmed},
                conflict_schemas.MyConflicts,
            )
        except msgspec.ValidationError as exc:
            return await _conflicts_page(
                ui,
                competition_id,
                status_code=422,
                values=values,
                problems=forms.Problems(message=forms.explain(str(exc), ui.locale)),
            )
        return await forms.answer(
            ui.locale,
            jury_conflicts.put_my_conflicts(ui.conn, user, competition_id, data),
            done=lambda _: ui.redirect(
                f"/jury/{competition_id}" if confirmed else f"/jury/{competition_id}/konflikte",
                notice="conflicts_saved",
            ),
            again=lambda problems, status: _conflicts_page(
                ui, competition_id, status_code=status, values=values, problems=problems
            ),
        )

    @get("/jury/bewertung/{assignment_id:uuid}")
    async def sheet(self, assignment_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """The entry as the juror may see it, its attachments and the score sheet."""
        return await _sheet_page(ui, assignment_id)

    @post("/jury/bewertung/{assignment_id:uuid}/befangen")
    async def recuse(self, assignment_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Recuse from this entry; the organisers reassign it."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        data, errors = forms.convert(
            conflict_schemas.Recusal, {"reason": values.get("reason", "").strip()}, ui.locale
        )
        if data is None:
            return await _sheet_page(
                ui, assignment_id, status_code=422, problems=forms.Problems(fields=errors)
            )
        detail = await jury_scoring.assignment_detail(ui.conn, user, assignment_id)
        await jury_conflicts.recuse(ui.conn, user, assignment_id, data)
        return ui.redirect(f"/jury/{detail.competition_id}", notice="recused")

    @post("/jury/bewertung/{assignment_id:uuid}")
    async def save_sheet(self, assignment_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Save the sheet as draft, or finalise it (locked afterwards)."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        detail = await jury_scoring.assignment_detail(ui.conn, user, assignment_id)
        final = values.get("action") == "final"
        scores: dict[str, float] = {}
        errors: dict[str, str] = {}
        for criterion in detail.criteria:
            raw = values.get(f"score_{criterion.key}", "").strip()
            if not raw:
                continue
            number = forms.decimal(raw, ui.locale)
            if number is None:
                errors[f"scores.{criterion.key}"] = ui._("Bitte eine Zahl eingeben.")
            else:
                scores[criterion.key] = float(number)
        if final and values.get("confirm_final") != "1":
            errors["confirm_final"] = ui._(
                "Bitte bestätigen Sie, dass der Bogen danach nicht mehr geändert werden kann."
            )
        # The Struct's own constraints (the comment's length and characters), as in the API.
        body, invalid = forms.convert(
            scoring_schemas.ScoreBody,
            {"scores": scores, "final": final, "comment": values.get("comment", "")},
            ui.locale,
        )

        async def stale(problems: forms.Problems) -> Template:
            current = await jury_scoring.assignment_detail(ui.conn, user, assignment_id)
            values["version"] = str(current.sheet.version)
            return await _sheet_page(
                ui,
                assignment_id,
                status_code=412,
                values=values,
                problems=problems,
                stored=current.sheet,
            )

        return await forms.answer(
            ui.locale,
            jury_scoring.save_score(
                ui.conn, user, assignment_id, body, if_match=forms.version(values)
            )
            if body is not None and not errors
            else None,
            fields=errors | invalid,
            done=lambda _: (
                ui.redirect(f"/jury/{detail.competition_id}", notice="sheet_final")
                if final
                else ui.redirect(f"/jury/bewertung/{assignment_id}", notice="sheet_saved")
            ),
            again=lambda problems, status: _sheet_page(
                ui, assignment_id, status_code=status, values=values, problems=problems
            ),
            stale=stale,
        )
