"""Form conversion against the domain's Structs, and the SVG charts (pure functions)."""

from __future__ import annotations

import re

from competition.companies.schemas import CompanyCreate
from competition.errors import Conflict, FieldError, Invalid
from competition.web import charts, forms


def test_form_problems_are_listed_per_field_and_worded_for_people() -> None:
    data = {
        "name": "",
        "street": "Industriestraße 1",
        "postal_code": "0945",
        "city": "Zwickau",
        "district": "zwickau",
        "employees": "viele",
        "website": None,
    }
    company, problems = forms.convert(CompanyCreate, data, "de")
    assert company is None
    assert problems == {
        "name": "Bitte ausfüllen.",
        "postal_code": "Bitte die fünfstellige Postleitzahl angeben.",
        "employees": "Bitte eine ganze Zahl eingeben.",
    }
    _, problems = forms.convert(CompanyCreate, {**data, "name": "A", "street": "x" * 201}, "en")
    assert problems["street"] == "At most 200 characters."


def test_form_strings_become_the_struct_with_its_types() -> None:
    data = {
        "name": "Muster GmbH",
        "street": "Industriestraße 1",
        "postal_code": "08056",
        "city": "Zwickau",
        "district": "zwickau",
        "employees": "120",
    }
    company, problems = forms.convert(CompanyCreate, data, "de")
    assert problems == {}
    assert company == CompanyCreate(
        name="Muster GmbH",
        street="Industriestraße 1",
        postal_code="08056",
        city="Zwickau",
        district="zwickau",
        employees=120,
    )
    assert forms.local_datetime("2026-12-01T12:30") == "2026-12-01T12:30:00"


def test_service_refusals_become_form_messages_in_the_page_language() -> None:
    refusal = Invalid(
        "Die Eingaben sind ungültig.", fields=[FieldError("criteria[0].max", "zu klein")]
    )
    assert forms.from_error(refusal, "de") == forms.Problems(
        message="Die Eingaben sind ungültig.", fields={"criteria[0].max": "zu klein"}
    )
    closed = Conflict("Die Einreichung ist geschlossen (…).", code="submissions_closed")
    assert forms.from_error(closed, "en").message == "Submissions are closed."
    assert forms.from_error(closed, "de").message == "Die Einreichung ist geschlossen (…)."


def test_chart_escapes_labels_and_scales_bars_to_the_largest_total() -> None:
    svg = charts.stacked_bars(
        chart_id="c",
        title="Fortschritt",
        description="Bögen je Person",
        bars=[charts.Bar("<Anna>", (3, 1, 0)), charts.Bar("Bernd", (1, 0, 1))],
        series=[
            charts.Series("fertig", "s-final"),
            charts.Series("Entwurf", "s-draft"),
            charts.Series("offen", "s-open"),
        ],
    )
    assert "<Anna>" not in svg
    assert "&lt;Anna&gt;" in svg
    assert 'role="img" aria-labelledby="c-t c-d"' in svg
    widths = re.findall(r'<rect x="[\d.]+" y="(\d+)" width="([\d.]+)" height="18"', svg)
    span = charts.WIDTH - charts.LABEL_WIDTH - 60
    # Anna's 4 sheets fill the span; Bernd's 2 take half of it (two segments of a quarter).
    assert [(y, float(w)) for y, w in widths] == [
        ("30", span * 3 / 4),
        ("30", span * 1 / 4),
        ("58", span * 1 / 4),
        ("58", span * 1 / 4),
    ]
