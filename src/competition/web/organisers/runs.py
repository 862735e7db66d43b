"""Organiser pages for the work of the worker: assignment runs and their deployment, result runs,
the choice of winners and publication. A run is started here and computed by the worker; its
page reloads itself until the worker is done.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from competition.jury.invitations import service as jury_invitations
from competition.jury.overview import service as jury_overview
from competition.jury.runs import schemas as run_schemas
from competition.jury.runs import service as jury_runs
from competition.results import schemas as result_schemas
from competition.results import service as results
from competition.web import forms
from competition.web.organisers.common import organised
from competition.web.rendering import UI, UIDep

PLACES = (1, 2, 3)


class RunPages(Controller):
    """Assignment and result runs, winners and publication."""

    include_in_schema = False

    @get("/organisation/{competition_id:uuid}/zuteilung")
    async def assignment(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """Assignment runs so far and the form to start one."""
        return await _assignment_page(ui, competition_id)

    @post("/organisation/{competition_id:uuid}/zuteilung")
    async def start_assignment(
        self, competition_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Start a run: the worker checks feasibility and solves; the run page shows both."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        data = {
            k: values[k].strip() for k in ("reviews_per_entry", "seed") if values.get(k, "").strip()
        }
        body, errors = forms.convert(run_schemas.RunCreate, data, ui.locale)
        return await forms.answer(
            ui.locale,
            jury_runs.create_run(ui.conn, user, competition_id, body) if body is not None else None,
            fields=errors,
            done=lambda run_id: ui.redirect(
                f"/organisation/{competition_id}/zuteilung/{run_id}", notice="run_started"
            ),
            again=lambda problems, _: _assignment_page(
                ui, competition_id, status_code=422, values=values, problems=problems
            ),
        )

    @get("/organisation/{competition_id:uuid}/zuteilung/{run_id:uuid}")
    async def assignment_run(
        self, competition_id: FromPath[uuid.UUID], run_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Template:
        """Feasibility report, statistics and the proposed assignments as a preview."""
        return await _assignment_run_page(ui, competition_id, run_id)

    @post("/organisation/{competition_id:uuid}/zuteilung/{run_id:uuid}/uebernehmen")
    async def deploy(
        self, competition_id: FromPath[uuid.UUID], run_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Deploy the proposal; each juror with new assignments gets one mail."""
        return await forms.answer(
            ui.locale,
            jury_runs.deploy(ui.conn, ui.user(), competition_id, run_id),
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/zuteilung/{run_id}", notice="run_deployed"
            ),
            again=lambda problems, status: _assignment_run_page(
                ui, competition_id, run_id, status_code=status, message=problems.message
            ),
        )

    @get("/organisation/{competition_id:uuid}/ergebnisse")
    async def results(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """Result runs, the chosen winners and publication."""
        return await _results_page(ui, competition_id)

    @post("/organisation/{competition_id:uuid}/ergebnisse")
    async def start_results(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Compute a ranking in the worker from the final score sheets."""
        method = forms.values(await ui.request.form()).get("method", "zscore")
        data = result_schemas.RunCreate(method="raw" if method == "raw" else "zscore")
        return await forms.answer(
            ui.locale,
            results.create_run(ui.conn, ui.user(), competition_id, data.method),
            done=lambda run_id: ui.redirect(
                f"/organisation/{competition_id}/ergebnisse/{run_id}", notice="run_started"
            ),
            again=lambda problems, status: _results_page(
                ui, competition_id, status_code=status, message=problems.message
            ),
        )

    @get("/organisation/{competition_id:uuid}/ergebnisse/{run_id:uuid}")
    async def result_run(
        self, competition_id: FromPath[uuid.UUID], run_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Template:
        """Rankings with figures, flags and reliability; the winners are chosen here."""
        return await _result_run_page(ui, competition_id, run_id)

    @post("/organisation/{competition_id:uuid}/ergebnisse/{run_id:uuid}/sieger")
    async def choose_winners(
        self, competition_id: FromPath[uuid.UUID], run_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Save the winners; a place against the ranking needs a written justification."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        run = await results.get_run(ui.conn, user, competition_id, run_id)
        picks: list[result_schemas.WinnerIn] = []
        invalid: dict[str, str] = {}
        for category in run.categories:
            for ranked in category.ranking:
                place = values.get(f"place_{ranked.entry_id}", "").strip()
                if not place:
                    continue
                justification = values.get(f"justification_{ranked.entry_id}", "").strip()
                # Through the Struct's own constraints (place 1–10, lengths), as the API does.
                pick, found = forms.convert(
                    result_schemas.WinnerIn,
                    {
                        "category": category.category,
                        "entry_id": str(ranked.entry_id),
                        "place": place,
                        **({"justification": justification} if justification else {}),
                    },
                    ui.locale,
                )
                invalid |= {f"{name}_{ranked.entry_id}": text for name, text in found.items()}
                picks += [pick] if pick is not None else []
        return await forms.answer(
            ui.locale,
            results.set_winners(
                ui.conn,
                user,
                competition_id,
                result_schemas.WinnersIn(result_run_id=run_id, winners=picks),
            )
            if not invalid
            else None,
            fields=invalid,
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/ergebnisse", notice="winners_saved"
            ),
            again=lambda problems, status: _result_run_page(
                ui,
                competition_id,
                run_id,
                status_code=status,
                values=values,
                problems=_by_entry(problems, picks),
            ),
        )

    @post("/organisation/{competition_id:uuid}/veroeffentlichen")
    async def publish(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Publish: freeze the run, open the winners page, send the announcements."""
        user = ui.user()
        if forms.values(await ui.request.form()).get("confirm") != "1":
            return await _results_page(
                ui,
                competition_id,
                status_code=422,
                message=ui._("Bitte bestätigen Sie die Veröffentlichung."),
            )
        return await forms.answer(
            ui.locale,
            results.publish(ui.conn, user, competition_id),
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/ergebnisse", notice="published"
            ),
            again=lambda problems, status: _results_page(
                ui, competition_id, status_code=status, message=problems.message
            ),
        )


# Page builders ---------------------------------------------------------------------------------


def _by_entry(problems: forms.Problems, picks: list[result_schemas.WinnerIn]) -> forms.Problems:
    """The service names the winners' rows by position; the form names them by entry."""
    fields: dict[str, str] = {}
    for key, text in problems.fields.items():
        position, _, rest = key.removeprefix("winners[").partition("]")
        if position.isdigit() and int(position) < len(picks):
            name = rest.lstrip(".") or "place"
            fields[f"{name}_{picks[int(position)].entry_id}"] = text
        else:
            fields[key] = text
    return forms.Problems(message=problems.message, fields=fields)


async def _assignment_page(
    ui: UI,
    competition_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
) -> Template:
    competition = await organised(ui, competition_id)
    problems = problems or forms.Problems()
    return await ui.render(
        "organiser/assignment.html",
        status_code=status_code,
        competition=competition,
        runs=await jury_overview.list_runs(ui.conn, ui.user(), competition_id),
        values=values or {"reviews_per_entry": str(competition.reviews_per_entry)},
        message=problems.message,
        errors=problems.fields,
    )


async def _assignment_run_page(
    ui: UI,
    competition_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    status_code: int = 200,
    message: str = "",
) -> Template:
    competition = await organised(ui, competition_id)
    run = await jury_runs.get_run(ui.conn, ui.user(), competition_id, run_id, locale=ui.locale)
    by_juror: dict[str, list[str]] = {}
    for proposed in run.assignments or []:
        by_juror.setdefault(proposed.juror_name, []).append(proposed.entry_title)
    return await ui.render(
        "organiser/assignment_run.html",
        status_code=status_code,
        competition=competition,
        run=run,
        by_juror=sorted(by_juror.items()),
        message=message,
    )


async def _results_page(
    ui: UI, competition_id: uuid.UUID, *, status_code: int = 200, message: str = ""
) -> Template:
    competition = await organised(ui, competition_id)
    chosen = await results.winners(ui.conn, ui.user(), competition_id)
    return await ui.render(
        "organiser/results.html",
        status_code=status_code,
        competition=competition,
        runs=await results.list_runs(ui.conn, ui.user(), competition_id),
        chosen=chosen,
        category_names={c.slug: c.name for c in competition.categories},
        message=message,
    )


async def _result_run_page(
    ui: UI,
    competition_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
) -> Template:
    competition = await organised(ui, competition_id)
    run = await results.get_run(ui.conn, ui.user(), competition_id, run_id)
    chosen = await results.winners(ui.conn, ui.user(), competition_id)
    titles = {r.entry_id: r.title for c in run.categories for r in c.ranking}
    jurors = {
        j.id: j.name for j in await jury_invitations.list_jurors(ui.conn, ui.user(), competition_id)
    }
    excluded = [
        (titles.get(x.entry_id, str(x.entry_id)), jurors.get(x.juror_id, str(x.juror_id)), x)
        for x in run.excluded_sheets
    ]
    if values is None:
        values = {}
        if chosen.result_run_id == run_id:
            for w in chosen.winners:
                values[f"place_{w.entry_id}"] = str(w.place)
                values[f"justification_{w.entry_id}"] = w.justification or ""
    problems = problems or forms.Problems()
    labels: dict[str, str] = {}
    for category in run.categories:
        for ranked in category.ranking:
            labels[f"place_{ranked.entry_id}"] = ui._("Platz für %(title)s", title=ranked.title)
            labels[f"justification_{ranked.entry_id}"] = ui._(
                "Begründung für %(title)s", title=ranked.title
            )
    return await ui.render(
        "organiser/result_run.html",
        labels=labels,
        status_code=status_code,
        competition=competition,
        run=run,
        excluded=excluded,
        category_names={c.slug: c.name for c in competition.categories},
        can_choose=competition.phase == "deliberation" and run.status == "done" and not run.frozen,
        places=PLACES,
        values=values,
        message=problems.message,
        errors=problems.fields,
    )
