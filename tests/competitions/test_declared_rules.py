"""The ranking rules a competition declares are checked when they are declared (API create and
PATCH, the organiser's set-up form), so a result run never starts on rules it cannot apply."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import httpx
import pytest

from competition.competitions.rules import tie_break_problems
from competition.results import aggregate
from tests.helpers import Session, account, competition_body, login
from tests.web.test_pages import web_login


async def organiser(client: httpx.AsyncClient, pool: asyncpg.Pool) -> Session:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    return await login(client, "orga@wettbewerb.test")


async def stored(pool: asyncpg.Pool) -> list[tuple[str, list[str], int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT slug, tie_break, version FROM competition ORDER BY slug")
    return [(r["slug"], list(r["tie_break"]), r["version"]) for r in rows]


def fields(r: httpx.Response) -> list[tuple[str, str]]:
    return [(f["field"], f["message"]) for f in r.json()["fields"]]


async def test_a_repeated_tie_break_rule_is_422_at_creation(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    orga = await organiser(client, pool)
    r = await orga.post(
        "/api/v1/competitions", json=competition_body(tie_break=["median", "median"])
    )
    assert (r.status_code, r.json()["error"]) == (422, "validation_error")
    assert fields(r) == [
        ("tie_break[1]", "„median“ steht schon weiter vorn; jede Regel darf nur einmal vorkommen.")
    ]
    r = await orga.post(
        "/api/v1/competitions",
        json=competition_body(
            tie_break=["criterion:impact", "top_marks", "criterion:impact", "criterion:reach"]
        ),
    )
    assert r.status_code == 422
    assert fields(r) == [
        (
            "tie_break[2]",
            "„criterion:impact“ steht schon weiter vorn; jede Regel darf nur einmal vorkommen.",
        ),
        ("tie_break[3]", "Unbekanntes Kriterium in „criterion:reach“."),
    ]
    assert await stored(pool) == []
    # The chain the aggregation would have refused when the first result run started.
    with pytest.raises(aggregate.AggregationInputError, match="must not repeat"):
        aggregate.aggregate(
            table=aggregate.table_from_records(
                criteria=[aggregate.Criterion(key="impact", weight=1, min=0, max=10)],
                categories=["energie"],
                entries=[],
                sheets=[],
            ),
            parameters=aggregate.AggregateParameters(tie_break=("median", "median")),
        )


async def test_patch_checks_the_chain_against_the_criteria_it_will_have(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    orga = await organiser(client, pool)
    r = await orga.post(
        "/api/v1/competitions",
        json=competition_body(tie_break=["criterion:impact", "median"]),
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    before = await stored(pool)
    assert before == [("ind-2026", ["criterion:impact", "median"], 1)]

    r = await orga.patch(f"/api/v1/competitions/{cid}", json={"tie_break": ["top_marks"] * 2})
    assert (r.status_code, fields(r)) == (
        422,
        [
            (
                "tie_break[1]",
                "„top_marks“ steht schon weiter vorn; jede Regel darf nur einmal vorkommen.",
            )
        ],
    )
    # New criteria without `impact`, and no new chain: the stored chain would point nowhere.
    only_innovation = [competition_body()["criteria"][0]]
    r = await orga.patch(f"/api/v1/competitions/{cid}", json={"criteria": only_innovation})
    assert (r.status_code, fields(r)) == (
        422,
        [
            (
                "tie_break",
                "Die Regel „criterion:impact“ bei Gleichstand verweist auf ein Kriterium, das es "
                "dann nicht mehr gibt. Bitte die Regeln bei Gleichstand mit anpassen.",
            )
        ],
    )
    assert await stored(pool) == before
    criteria = (await orga.get(f"/api/v1/competitions/{cid}")).json()["criteria"]
    assert [c["key"] for c in criteria] == ["innovation", "impact"]

    # Both together, consistent: accepted.
    r = await orga.patch(
        f"/api/v1/competitions/{cid}",
        json={"criteria": only_innovation, "tie_break": ["criterion:innovation", "median"]},
    )
    assert r.status_code == 200, r.text
    assert await stored(pool) == [("ind-2026", ["criterion:innovation", "median"], 2)]
    # A PATCH that touches neither leaves the chain alone.
    r = await orga.patch(f"/api/v1/competitions/{cid}", json={"auto_open": True})
    assert r.status_code == 200


async def test_the_set_up_form_refuses_a_repeated_rule_at_its_field(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await organiser(client, pool)
    r = await web_login(client, "orga@wettbewerb.test")
    assert r.status_code == 303
    page = await client.get("/organisation/wettbewerbe/neu")
    # The page's own values (categories, criteria, the CSRF token), without its check boxes.
    form: dict[str, Any] = {
        name: value
        for name, value in re.findall(r'name="([^"]+)"\s+value="([^"]*)"', page.text)
        if name not in ("blind_judging", "eligible_districts")
    }
    form |= {
        "slug": "ind-2027",
        "title.de": "Industrie. Neu. Denken. 2027",
        "submission_opens_at": "2030-03-01T09:00",
        "submission_closes_at": "2030-05-01T12:00",
        "eligible_districts": "zwickau",
        "tie_break": "median, top_marks, median",
    }
    r = await client.post("/organisation/wettbewerbe/neu", data=form)
    assert r.status_code == 422
    assert (
        '<span class="error" id="f-tie_break-error">„median“ steht schon weiter vorn; jede Regel '
        "darf nur einmal vorkommen.</span>"
    ) in r.text
    assert await stored(pool) == []

    form["tie_break"] = "median, top_marks"
    r = await client.post("/organisation/wettbewerbe/neu", data=form)
    assert r.status_code == 303, r.text
    assert await stored(pool) == [("ind-2027", ["median", "top_marks"], 1)]


def test_the_declared_chain_and_the_aggregation_agree_on_every_rule() -> None:
    keys = {"innovation", "impact"}
    chains = [
        (["median", "raw_mean", "highest_weight_criterion", "top_marks", "n_reviews"], []),
        (["criterion:impact", "criterion:innovation"], []),
        (["median", "median"], [(1, "repeated")]),
        (["criterion:reach", "mean"], [(0, "unknown_criterion"), (1, "unknown_rule")]),
        (["criterion:", "n_reviews", "n_reviews"], [(0, "unknown_criterion"), (2, "repeated")]),
    ]
    table = aggregate.table_from_records(
        criteria=[aggregate.Criterion(key=k, weight=1, min=0, max=10) for k in sorted(keys)],
        categories=["energie"],
        entries=[aggregate.EntryRecord(entry_id="E1", title="T", category="energie")],
        sheets=[],
    )
    for chain, expected in chains:
        found = [(p.index, p.kind) for p in tie_break_problems(chain, keys)]
        assert found == expected
        parameters = aggregate.AggregateParameters(tie_break=tuple(chain))
        if expected:
            with pytest.raises(aggregate.AggregationInputError):
                aggregate.aggregate(table=table, parameters=parameters)
        else:
            aggregate.aggregate(table=table, parameters=parameters)


def _criterion(key: str, weight: float = 1, low: float = 0, high: float = 10) -> dict[str, Any]:
    return {"key": key, "name": {"de": key, "en": key}, "weight": weight, "min": low, "max": high}


def _category(slug: str) -> dict[str, Any]:
    return {"slug": slug, "name": {"de": slug, "en": slug}}


# Every precondition of the aggregation on the declared structure, with the field the
# declaration names and the aggregation's own refusal of the same structure.
STRUCTURES = [
    ({"criteria": [_criterion("a", weight=0)]}, "criteria[0].weight", "weight of 'a'"),
    ({"criteria": [_criterion("a", weight=-2)]}, "criteria[0].weight", "weight of 'a'"),
    ({"criteria": [_criterion("a", low=5, high=5)]}, "criteria[0].max", "scale of 'a'"),
    ({"criteria": [_criterion("a", low=9, high=1)]}, "criteria[0].max", "scale of 'a'"),
    ({"criteria": [_criterion("a"), _criterion("a")]}, "criteria", "keys must be unique"),
    ({"criteria": []}, "criteria", "at least one criterion"),
    ({"categories": [_category("x"), _category("x")]}, "categories", "category names"),
]


@pytest.mark.parametrize(("change", "field", "refusal"), STRUCTURES)
async def test_every_structure_the_aggregation_refuses_is_refused_when_declared(
    change: dict[str, Any], field: str, refusal: str, client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    orga = await organiser(client, pool)
    body = competition_body(tie_break=["median"], **change)
    r = await orga.post("/api/v1/competitions", json=body)
    assert (r.status_code, [f for f, _ in fields(r)]) == (422, [field])
    assert await stored(pool) == []
    with pytest.raises(aggregate.AggregationInputError, match=refusal):
        aggregate.table_from_records(
            criteria=[
                aggregate.Criterion(key=c["key"], weight=c["weight"], min=c["min"], max=c["max"])
                for c in body["criteria"]
            ],
            categories=[c["slug"] for c in body["categories"]],
            entries=[],
            sheets=[],
        )
