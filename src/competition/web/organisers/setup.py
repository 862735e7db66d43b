"""Organiser pages for a competition's set-up: the list of organised competitions, the set-up
form, the overview with the phase changes and the progress dashboard, editing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from competition.competitions import defaults, phases
from competition.competitions import schemas as competition_schemas
from competition.competitions import service as competitions
from competition.competitions.districts import NAMES as DISTRICTS
from competition.competitions.districts import SUEDWESTSACHSEN
from competition.competitions.overview import service as overview
from competition.errors import Forbidden
from competition.jury.scoring import schemas as scoring_schemas
from competition.jury.scoring import service as jury_scoring
from competition.localization import berlin
from competition.web import charts, forms
from competition.web.i18n import N_, localized
from competition.web.organisers.common import organised
from competition.web.rendering import UI, UIDep

CATEGORY_ROWS = 6
CRITERION_ROWS = 6
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
        criterion: dict[str, Any] = {
            "key": values.get(f"{prefix}.key", "").strip(),
            "name": _localized(values, f"{prefix}.name"),
            **{
                f: _number(values.get(f"{prefix}.{f}", ""), locale)
                for f in ("weight", "min", "max")
            },
        }
        _, found = forms.convert(
            competition_schemas.CriterionIn, criterion, locale, prefix=prefix + "."
        )
        problems |= found
        criteria.append(criterion)
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


def _one_tie_break_field(errors: dict[str, str]) -> dict[str, str]:
    """The chain is one text field on the form; the API names its rules by position."""
    folded: dict[str, str] = {}
    for key, text in errors.items():
        if key.startswith("tie_break["):
            folded["tie_break"] = f"{folded['tie_break']} {text}" if "tie_break" in folded else text
        else:
            folded[key] = text
    return folded


class SetupPages(Controller):
    """Set up, edit and move competitions through their phases."""

    include_in_schema = False

    @get("/organisation")
    async def index(self, ui: UIDep) -> Template:
        """The competitions the person organises."""
        user = ui.user()
        return await ui.render(
            "organiser/index.html",
            competitions=await overview.organised(ui.conn, user),
        )

    @get("/organisation/wettbewerbe/neu")
    async def new_form(self, ui: UIDep) -> Template:
        """The set-up form, pre-filled with the usual fields and criteria of the region."""
        if not ui.user().is_organiser:
            raise Forbidden("competition.create_organisers_only")
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
        competition = await organised(ui, competition_id)
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
            values["version"] = str((await organised(ui, competition_id)).version)
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


# Page builders ---------------------------------------------------------------------------------


def _number(value: str, locale: str) -> float | str:
    """A number field read in the page's language; what is no number stays text, for the
    Struct's check to explain on the form."""
    number = forms.decimal(value, locale)
    return float(number) if number is not None else value.strip()


def _district_choices() -> list[tuple[str, str]]:
    return sorted(DISTRICTS.items(), key=lambda d: (d[0] not in SUEDWESTSACHSEN, d[1]))


def _setup_defaults() -> dict[str, str]:
    """The form filled in with the set-up every competition starts from (competitions.defaults)."""
    values = {
        "reviews_per_entry": str(defaults.REVIEWS_PER_ENTRY),
        "tie_break": ", ".join(defaults.TIE_BREAK),
    }
    for i, c in enumerate(defaults.CATEGORIES):
        values |= {f"categories[{i}].slug": c.slug, f"categories[{i}].name.de": c.de}
        values[f"categories[{i}].name.en"] = c.en
    for i, k in enumerate(defaults.CRITERIA):
        values |= {f"criteria[{i}].key": k.key, f"criteria[{i}].name.de": k.de}
        values |= {f"criteria[{i}].name.en": k.en, f"criteria[{i}].weight": str(k.weight)}
        values |= {f"criteria[{i}].min": str(k.min), f"criteria[{i}].max": str(k.max)}
    return values


def _local_input(moment: datetime) -> str:
    """For `<input type="datetime-local">`, in German time like every date on the pages."""
    return berlin(moment).strftime("%Y-%m-%dT%H:%M")


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
    ui: UI, competition: competition_schemas.Competition, progress: scoring_schemas.Progress
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


def _jury_chart(ui: UI, progress: scoring_schemas.Progress) -> Any:
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
        competition=await organised(ui, competition_id),
        values=values,
        message=problems.message,
        errors=problems.fields,
    )


async def _overview_page(
    ui: UI, competition_id: uuid.UUID, *, status_code: int = 200, message: str = ""
) -> Template:
    competition = await organised(ui, competition_id)
    progress = await jury_scoring.progress(ui.conn, ui.user(), competition_id)
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
