"""Organiser pages: set up a competition, move it through its phases, invite the jury, run and
deploy the assignment, watch progress, compute results, choose and publish winners, read the audit
log and the mail outbox, export CSV.

Each page checks the organiser role through the domain services (`require_organiser` and the
services' own checks); long work (assignment and result runs) is started here and computed by the
worker, and its page reloads itself when the worker is done.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Template

from competition.auth import ServicesDep
from competition.competitions import phases, rules
from competition.competitions import schemas as competition_schemas
from competition.competitions import service as competitions
from competition.competitions.districts import NAMES as DISTRICTS
from competition.competitions.districts import SUEDWESTSACHSEN
from competition.competitions.overview import service as overview
from competition.entries import service as entries
from competition.errors import Forbidden
from competition.jury import conflicts as jury_conflicts
from competition.jury import schemas as jury_schemas
from competition.jury import service as jury
from competition.jury.overview import service as jury_overview
from competition.notifications import service as notifications
from competition.results import schemas as result_schemas
from competition.results import service as results
from competition.web import charts, forms
from competition.web.i18n import N_, localized
from competition.web.labels import LABELS
from competition.web.rendering import UI, UIDep

CATEGORY_ROWS = 6
CRITERION_ROWS = 6
AUDIT_PAGE = 50
OUTBOX_PAGE = 100
PLACES = (1, 2, 3)
# Pages of the audit log and the outbox: a page number beyond any real list is a 422, never an
# offset PostgreSQL cannot hold.
Page = Annotated[int, Parameter(ge=1, le=100_000, description="Seite, ab 1")]

# The button for each phase change organisers make by hand (publishing has its own page).
PHASE_ACTIONS: dict[tuple[str, str], str] = {
    ("draft", "open"): N_("Einreichung öffnen"),
    ("open", "closed"): N_("Einreichung schließen"),
    ("closed", "open"): N_("Einreichung wieder öffnen"),
    ("closed", "judging"): N_("Jurybewertung starten"),
    ("judging", "deliberation"): N_("Beratung beginnen"),
    ("deliberation", "judging"): N_("Zurück zur Jurybewertung"),
    ("published", "archived"): N_("Archivieren"),
}


async def _organised(ui: UI, competition_id: uuid.UUID) -> competition_schemas.Competition:
    row = await competitions.require_organiser(ui.conn, ui.user(), competition_id)
    return await competitions.to_response(ui.conn, row, is_organiser=True)


def _localized(values: dict[str, str], name: str) -> dict[str, str]:
    german = values.get(f"{name}.de", "").strip()
    return {"de": german, "en": values.get(f"{name}.en", "").strip() or german}


def _setup_data(
    values: dict[str, str], districts: list[str], locale: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The setup form as CompetitionCreate data, with the problems of its table rows."""
    problems: dict[str, str] = {}
    categories = []
    for i in range(CATEGORY_ROWS):
        prefix = f"categories[{i}]"
        if not any(values.get(f"{prefix}.{f}", "").strip() for f in ("slug", "name.de")):
            continue
        row = {
            "slug": values.get(f"{prefix}.slug", "").strip(),
            "name": _localized(values, f"{prefix}.name"),
        }
        _, found = forms.convert(competition_schemas.CategoryIn, row, locale, prefix=prefix + ".")
        problems |= found
        categories.append(row)
    criteria = []
    for i in range(CRITERION_ROWS):
        prefix = f"criteria[{i}]"
        if not any(values.get(f"{prefix}.{f}", "").strip() for f in ("key", "name.de")):
            continue
        row = {
            "key": values.get(f"{prefix}.key", "").strip(),
            "name": _localized(values, f"{prefix}.name"),
            **{
                f: values.get(f"{prefix}.{f}", "").strip().replace(",", ".")
                for f in ("weight", "min", "max")
            },
        }
        _, found = forms.convert(competition_schemas.CriterionIn, row, locale, prefix=prefix + ".")
        problems |= found
        criteria.append(row)
    tie_break = [t.strip() for t in values.get("tie_break", "").split(",") if t.strip()]
    data: dict[str, Any] = {
        "slug": values.get("slug", "").strip(),
        "title": _localized(values, "title"),
        "description": _localized(values, "description"),
        "submission_opens_at": forms.local_datetime(values.get("submission_opens_at", "")),
        "submission_closes_at": forms.local_datetime(values.get("submission_closes_at", "")),
        "reviews_per_entry": values.get("reviews_per_entry", ""),
        "blind_judging": values.get("blind_judging") == "1",
        "eligible_districts": districts,
        "categories": categories,
        "criteria": criteria,
        "tie_break": tie_break or None,
    }
    return data, problems


NO_COMPANY_CHOSEN = N_("Bitte wählen Sie mindestens ein Unternehmen oder verwerfen Sie die Angabe.")


def _one_tie_break_field(errors: dict[str, str]) -> dict[str, str]:
    """The chain is one text field on the form; the API names its rules by position."""
    folded: dict[str, str] = {}
    for key, text in errors.items():
        if key.startswith("tie_break["):
            folded["tie_break"] = f"{folded['tie_break']} {text}" if "tie_break" in folded else text
        else:
            folded[key] = text
    return folded


class OrganiserPages(Controller):
    include_in_schema = False

    @get("/organisation")
    async def index(self, ui: UIDep) -> Template:
        """The competitions the person organises."""
        user = ui.user()
        return await ui.render(
            "organiser/index.html",
            competitions=await overview.organised(ui.conn, user),
        )

    # Set-up --------------------------------------------------------------------------------

    @get("/organisation/wettbewerbe/neu")
    async def new_form(self, ui: UIDep) -> Template:
        """The set-up form, pre-filled with the usual fields and criteria of the region."""
        if not ui.user().is_organiser:
            raise Forbidden("Nur Organisatorinnen und Organisatoren legen Wettbewerbe an.")
        return await ui.render(
            "organiser/new.html",
            values=_setup_defaults(),
            districts=_district_choices(),
            chosen=list(SUEDWESTSACHSEN),
            category_rows=range(CATEGORY_ROWS),
            criterion_rows=range(CRITERION_ROWS),
        )

    @post("/organisation/wettbewerbe/neu")
    async def create(self, ui: UIDep) -> Response[Any]:
        """Create the competition (phase: draft)."""
        user = ui.user()
        form = await ui.request.form()
        values = forms.values(form)
        chosen = [str(d) for d in form.getall("eligible_districts", [])]
        data, problems = _setup_data(values, chosen, ui.locale)
        body, converted = forms.convert(competition_schemas.CompetitionCreate, data, ui.locale)
        errors = problems | converted
        return await forms.answer(
            ui.locale,
            competitions.create(ui.conn, user, body) if body is not None and not errors else None,
            fields=errors,
            done=lambda competition_id: ui.redirect(
                f"/organisation/{competition_id}", notice="competition_created"
            ),
            # A refusal (403) is no input error: it keeps its status.
            again=lambda found, status: ui.render(
                "organiser/new.html",
                status_code=status,
                values=values,
                errors=_one_tie_break_field(found.fields),
                message=found.message,
                districts=_district_choices(),
                chosen=chosen,
                category_rows=range(CATEGORY_ROWS),
                criterion_rows=range(CRITERION_ROWS),
            ),
        )

    # Overview, phases, editing ------------------------------------------------------------

    @get("/organisation/{competition_id:uuid}")
    async def overview(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """Phase, deadlines, the next steps and the progress dashboard with charts."""
        return await _overview_page(ui, competition_id)

    @post("/organisation/{competition_id:uuid}/phase")
    async def change_phase(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Move the competition to another phase; illegal moves are explained."""
        target = forms.values(await ui.request.form()).get("to", "")
        return await forms.answer(
            ui.locale,
            competitions.change_phase(ui.conn, ui.user(), competition_id, target),
            done=lambda _: ui.redirect(f"/organisation/{competition_id}", notice="phase_changed"),
            again=lambda problems, status: _overview_page(
                ui, competition_id, status_code=status, message=problems.message
            ),
        )

    @get("/organisation/{competition_id:uuid}/bearbeiten")
    async def edit_form(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """Title, description and deadlines (changeable in every phase)."""
        competition = await _organised(ui, competition_id)
        return await ui.render(
            "organiser/edit.html", competition=competition, values=_edit_values(competition)
        )

    @post("/organisation/{competition_id:uuid}/bearbeiten")
    async def edit(self, competition_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Save title, description and deadlines with the version they were loaded at."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        data = {
            "title": _localized(values, "title"),
            "description": _localized(values, "description"),
            "submission_opens_at": forms.local_datetime(values.get("submission_opens_at", "")),
            "submission_closes_at": forms.local_datetime(values.get("submission_closes_at", "")),
        }
        body, errors = forms.convert(competition_schemas.CompetitionUpdate, data, ui.locale)

        async def stale(problems: forms.Problems) -> Template:
            # The form keeps the person's text with the new version: saving again overwrites.
            values["version"] = str((await _organised(ui, competition_id)).version)
            return await _edit_page(ui, competition_id, values, problems)

        return await forms.answer(
            ui.locale,
            competitions.update(ui.conn, user, competition_id, body, if_match=forms.version(values))
            if body is not None
            else None,
            fields=errors,
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}", notice="competition_saved"
            ),
            # Every refusal of this form is answered 422, a stale version too.
            again=lambda problems, _: _edit_page(ui, competition_id, values, problems),
            stale=stale,
        )

    @get("/organisation/{competition_id:uuid}/beitraege")
    async def entries(
        self,
        competition_id: FromPath[uuid.UUID],
        ui: UIDep,
        kategorie: FromQuery[str] = "",
        status: FromQuery[str] = "",
    ) -> Template:
        """All entries, filtered by category and status."""
        competition = await _organised(ui, competition_id)
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

    # Jury ------------------------------------------------------------------------------------

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
        body, errors = forms.convert(jury_schemas.JurorInvite, data, ui.locale)
        return await forms.answer(
            ui.locale,
            jury.invite(ui.conn, user, competition_id, body) if body is not None else None,
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
            jury_schemas.DeclarationDecision, {"company_ids": sorted(set(chosen))}, ui.locale
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
        body, errors = forms.convert(jury_schemas.OrganiserConflict, data, ui.locale)
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
        await jury.remove_juror(ui.conn, ui.user(), competition_id, juror_id)
        return ui.redirect(f"/organisation/{competition_id}/jury", notice="juror_removed")

    @post("/organisation/{competition_id:uuid}/jury/erinnern")
    async def remind(
        self, competition_id: FromPath[uuid.UUID], ui: UIDep, services: ServicesDep
    ) -> Response[Any]:
        """Remind jurors with open sheets (at most once a day each)."""
        await jury.remind_jurors(ui.conn, ui.user(), competition_id, services.settings)
        return ui.redirect(f"/organisation/{competition_id}/jury", notice="reminders_sent")

    # Assignment --------------------------------------------------------------------------------

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
        body, errors = forms.convert(jury_schemas.RunCreate, data, ui.locale)
        return await forms.answer(
            ui.locale,
            jury.create_run(ui.conn, user, competition_id, body) if body is not None else None,
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
            jury.deploy(ui.conn, ui.user(), competition_id, run_id),
            done=lambda _: ui.redirect(
                f"/organisation/{competition_id}/zuteilung/{run_id}", notice="run_deployed"
            ),
            again=lambda problems, status: _assignment_run_page(
                ui, competition_id, run_id, status_code=status, message=problems.message
            ),
        )

    # Results, winners, publication --------------------------------------------------------------

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

    # Audit log and outbox ------------------------------------------------------------------------

    @get("/organisation/{competition_id:uuid}/protokoll")
    async def audit(
        self, competition_id: FromPath[uuid.UUID], ui: UIDep, seite: Page = 1
    ) -> Template:
        """The competition's audit log, newest first."""
        competition = await _organised(ui, competition_id)
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


# Page builders ---------------------------------------------------------------------------------


def _district_choices() -> list[tuple[str, str]]:
    return sorted(DISTRICTS.items(), key=lambda d: (d[0] not in SUEDWESTSACHSEN, d[1]))


def _setup_defaults() -> dict[str, str]:
    values = {"reviews_per_entry": "3", "tie_break": ", ".join(rules.DEFAULT_TIE_BREAK)}
    fields = (
        ("mobilitaet", "Mobilität", "Mobility"),
        ("digitalisierung", "Digitalisierung", "Digitalisation"),
        ("energie", "Energie", "Energy"),
        ("kreislaufwirtschaft", "Kreislaufwirtschaft", "Circular economy"),
    )
    for i, (slug, de, en) in enumerate(fields):
        values |= {f"categories[{i}].slug": slug, f"categories[{i}].name.de": de}
        values[f"categories[{i}].name.en"] = en
    criteria = (
        ("innovation", "Innovationsgrad", "Innovation", "3"),
        ("wirkung", "Wirkung für die Region", "Regional impact", "2"),
        ("umsetzbarkeit", "Umsetzbarkeit", "Feasibility", "2"),
    )
    for i, (key, de, en, weight) in enumerate(criteria):
        values |= {f"criteria[{i}].key": key, f"criteria[{i}].name.de": de}
        values |= {f"criteria[{i}].name.en": en, f"criteria[{i}].weight": weight}
        values |= {f"criteria[{i}].min": "0", f"criteria[{i}].max": "10"}
    return values


def _local_input(moment: datetime) -> str:
    """For `<input type="datetime-local">`, in German time like every date on the pages."""
    return competitions.berlin(moment).strftime("%Y-%m-%dT%H:%M")


def _edit_values(competition: competition_schemas.Competition) -> dict[str, str]:
    return {
        "title.de": competition.title.get("de", ""),
        "title.en": competition.title.get("en", ""),
        "description.de": competition.description.get("de", ""),
        "description.en": competition.description.get("en", ""),
        "submission_opens_at": _local_input(competition.submission_opens_at),
        "submission_closes_at": _local_input(competition.submission_closes_at),
        "version": str(competition.version),
    }


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


def _phase_actions(ui: UI, phase: str) -> list[tuple[str, str, bool]]:
    """(target, button text, whether it goes back) for each move allowed from `phase`."""
    return [
        (
            target,
            ui._(PHASE_ACTIONS[(phase, target)]),
            phases.PHASES.index(target) < phases.PHASES.index(phase),
        )
        for target in sorted(phases.TRANSITIONS.get(phase, frozenset()), key=phases.PHASES.index)
        if (phase, target) in PHASE_ACTIONS
    ]


def _entries_chart(
    ui: UI, competition: competition_schemas.Competition, progress: competition_schemas.Progress
) -> Any:
    names = {c.slug: c.name for c in competition.categories}
    return charts.stacked_bars(
        chart_id="chart-entries",
        title=ui._("Beiträge je Kategorie"),
        description=ui._(
            "Eingereichte Beiträge, Entwürfe und zurückgezogene Beiträge je Kategorie."
        ),
        bars=[
            charts.Bar(
                label=localized(names.get(c.category, {}), ui.locale) or c.category,
                values=(c.submitted, c.draft, c.withdrawn),
            )
            for c in progress.by_category
        ],
        series=[
            charts.Series(ui._("eingereicht"), "s-submitted"),
            charts.Series(ui._("Entwurf"), "s-draft"),
            charts.Series(ui._("zurückgezogen"), "s-withdrawn"),
        ],
    )


def _jury_chart(ui: UI, progress: competition_schemas.Progress) -> Any:
    return charts.stacked_bars(
        chart_id="chart-jury",
        title=ui._("Bewertungsfortschritt je Jurymitglied"),
        description=ui._("Abgeschlossene, begonnene und offene Bewertungsbögen je Jurymitglied."),
        bars=[
            charts.Bar(label=j.name, values=(j.final, j.draft, j.open))
            for j in progress.jurors
            if j.status == "active"
        ],
        series=[
            charts.Series(ui._("abgeschlossen"), "s-final"),
            charts.Series(ui._("Entwurf"), "s-draft"),
            charts.Series(ui._("offen"), "s-open"),
        ],
    )


async def _edit_page(
    ui: UI, competition_id: uuid.UUID, values: dict[str, str], problems: forms.Problems
) -> Template:
    return await ui.render(
        "organiser/edit.html",
        status_code=422,
        competition=await _organised(ui, competition_id),
        values=values,
        message=problems.message,
        errors=problems.fields,
    )


async def _overview_page(
    ui: UI, competition_id: uuid.UUID, *, status_code: int = 200, message: str = ""
) -> Template:
    competition = await _organised(ui, competition_id)
    progress = await competitions.progress(ui.conn, ui.user(), competition_id)
    return await ui.render(
        "organiser/overview.html",
        status_code=status_code,
        competition=competition,
        progress=progress,
        actions=_phase_actions(ui, competition.phase),
        entries_chart=_entries_chart(ui, competition, progress),
        jury_chart=_jury_chart(ui, progress),
        message=message,
    )


async def _jury_page(
    ui: UI,
    competition_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    conflict_values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
) -> Template:
    competition = await _organised(ui, competition_id)
    problems = problems or forms.Problems()
    return await ui.render(
        "organiser/jury.html",
        status_code=status_code,
        competition=competition,
        jurors=await jury.list_jurors(ui.conn, ui.user(), competition_id),
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


async def _assignment_page(
    ui: UI,
    competition_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
) -> Template:
    competition = await _organised(ui, competition_id)
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
    competition = await _organised(ui, competition_id)
    run = await jury.get_run(ui.conn, ui.user(), competition_id, run_id)
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
    competition = await _organised(ui, competition_id)
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
    competition = await _organised(ui, competition_id)
    run = await results.get_run(ui.conn, ui.user(), competition_id, run_id)
    chosen = await results.winners(ui.conn, ui.user(), competition_id)
    titles = {r.entry_id: r.title for c in run.categories for r in c.ranking}
    jurors = {j.id: j.name for j in await jury.list_jurors(ui.conn, ui.user(), competition_id)}
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
