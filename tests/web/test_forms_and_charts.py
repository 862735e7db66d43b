"""Form conversion against the domain's Structs, and the SVG charts (pure functions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from litestar import Response

from competition.companies.schemas import CompanyCreate
from competition.errors import AppError, Conflict, FieldError, Invalid, PreconditionFailed, problem
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


# A refusal as services raise it: a key and its parameters, worded by the error catalog.
CLOSED = Conflict(
    "entry.submissions_closed",
    code="submissions_closed",
    closes_at=datetime(2026, 6, 30, 21, 59, tzinfo=UTC),
)


def test_service_refusals_become_form_messages_in_the_page_language() -> None:
    refusal = Invalid(fields=[problem("criteria[0].max", "competition.max_not_above_min")])
    assert forms.from_error(refusal, "de") == forms.Problems(
        message="Die Eingaben sind ungültig.",
        fields={"criteria[0].max": "max muss größer als min sein."},
    )
    assert forms.from_error(refusal, "en") == forms.Problems(
        message="The input is invalid.", fields={"criteria[0].max": "max must be greater than min."}
    )
    assert forms.from_error(CLOSED, "en").message == (
        "Submissions are closed (deadline: 30 Jun 2026, 23:59 (Berlin time))."
    )
    assert forms.from_error(CLOSED, "de").message == (
        "Die Einreichung ist geschlossen (Einsendeschluss: 30.06.2026, 23:59 Uhr). / Submissions "
        "are closed (deadline: 30 Jun 2026, 23:59 (Berlin time))."
    )
    # A field error given as words (the API's own shape) is shown as it is.
    worded = Invalid(fields=[FieldError("title", "zu lang")])
    assert forms.from_error(worded, "en").fields == {"title": "zu lang"}


def test_numbers_are_read_as_the_browser_sends_them_or_as_written_in_the_page_language() -> None:
    typed = ["7,5", "7.5", "1.000,5", "1,000.5", "-2,5", " 8 ", ".5", "1e3", "", "sieben"]
    typed += ["nan", "inf", "7_5"]
    assert [forms.decimal(t, "de") for t in typed] == [
        Decimal("7.5"),
        Decimal("7.5"),  # a number field's value: a point on German pages too
        Decimal("1000.5"),
        None,
        Decimal("-2.5"),
        Decimal("8"),
        Decimal("0.5"),
        Decimal("1E+3"),
        None,
        None,
        None,
        None,
        None,
    ]
    assert [forms.decimal(t, "en") for t in typed[:4]] == [
        None,  # a comma is no decimal sign in English
        Decimal("7.5"),
        None,
        Decimal("1000.5"),
    ]


async def test_a_form_is_answered_by_the_service_result_or_by_the_page_again() -> None:
    """`forms.answer`: input problems are 422 without asking the service; a refusal comes back
    with its status and messages; a stale version goes to its own page; success to `done`."""
    shown: list[tuple[str, forms.Problems, int]] = []

    async def again(problems: forms.Problems, status: int) -> Response[Any]:
        shown.append(("again", problems, status))
        return Response(content="again", status_code=status)

    async def stale(problems: forms.Problems) -> Response[Any]:
        shown.append(("stale", problems, 412))
        return Response(content="stale", status_code=412)

    async def refuse(exc: AppError) -> str:
        raise exc

    async def created() -> str:
        return "e-1"

    def redirect(entry_id: str) -> Response[Any]:
        return Response(content=f"/entries/{entry_id}", status_code=303)

    async def signed_in(entry_id: str) -> Response[Any]:
        return Response(content=f"session for {entry_id}", status_code=303)

    stale_version = PreconditionFailed("Inzwischen …", code="version_conflict")
    answers = [
        await forms.answer(
            "de", None, fields={"title": "Bitte ausfüllen."}, done=redirect, again=again
        ),
        await forms.answer(
            "en",
            refuse(CLOSED),
            done=redirect,
            again=again,
        ),
        await forms.answer(
            "de",
            refuse(Invalid("Ungültig.", fields=[FieldError("title", "zu lang")])),
            done=redirect,
            again=again,
        ),
        await forms.answer("de", refuse(stale_version), done=redirect, again=again, stale=stale),
        await forms.answer("de", refuse(stale_version), done=redirect, again=again),
        await forms.answer("de", created(), done=redirect, again=again),
        await forms.answer("de", created(), done=signed_in, again=again),
    ]
    assert [(r.status_code, r.content) for r in answers] == [
        (422, "again"),
        (409, "again"),
        (422, "again"),
        (412, "stale"),
        (412, "again"),
        (303, "/entries/e-1"),
        (303, "session for e-1"),
    ]
    assert shown == [
        ("again", forms.Problems(fields={"title": "Bitte ausfüllen."}), 422),
        (
            "again",
            forms.Problems(
                message="Submissions are closed (deadline: 30 Jun 2026, 23:59 (Berlin time))."
            ),
            409,
        ),
        ("again", forms.Problems(message="Ungültig.", fields={"title": "zu lang"}), 422),
        ("stale", forms.Problems(message="Inzwischen …"), 412),
        ("again", forms.Problems(message="Inzwischen …"), 412),
    ]


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
