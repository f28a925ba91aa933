"""Aggregates and exports over HTTP after seeding: nothing in 1..k−1 leaves the server."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.aggregates import last_closed_month
from api.app import create_app
from api.demo import seed
from api.settings import Settings
from storage.aggregates import Query, count_reports, priority_rankings
from storage.models import utcnow
from storage.store import Store
from tests.support.api import Headers, SignIn
from tests.support.places import CACERES

K = 5


@pytest.fixture
async def app(store: Store, tmp_path: Path) -> FastAPI:
    await seed(store=store, count=200, departments=("52",), seed_value=11)
    return create_app(Settings(data_dir=tmp_path, fast_kdf=True, suppression_k=K), store=store)


def small(value: object, k: int) -> bool:
    return isinstance(value, int) and 1 <= value < k


async def test_aggregates_hide_small_cells_and_match_a_perturbed_recount(
    client: httpx.AsyncClient, store: Store, analyst: Headers
) -> None:
    body = (await client.get("/api/v1/aggregates", headers=analyst,
                             params={"group_by": "municipality,kind"})).json()
    assert body["k"] == K
    published = [c["count"] for c in body["cells"]]
    totals = [*body["row_totals"].values(), *body["column_totals"].values(), body["total"]]
    assert not any(small(v, K) for v in published + totals)
    assert any(c["suppressed"] for c in body["cells"])
    # Published counts are the perturbed sums of closed months (never the true counts:
    # those could be subtracted from one another), and they say so.
    through = last_closed_month(utcnow())
    assert body["query"]["to"] == through and body["method"]["published_through"] == through
    assert body["method"]["name"] == "cell-key perturbation"
    query = Query(group_by=("municipality", "kind"), month_to=through)
    async with store.transaction() as session:
        perturbed = await count_reports(session=session, query=query, perturbed=True)
        truth = await count_reports(session=session, query=query)
    shown = {(c["row"], c["column"]): c["count"] for c in body["cells"]
             if c["count"] is not None}
    assert shown and all(v == perturbed.get(cell, 0) for cell, v in shown.items())
    assert any(v != truth.get(cell, 0) for cell, v in shown.items())
    assert all(len(row["code"]) == 5 for row in body["rows"])


@pytest.mark.parametrize("fmt", ["csv", "hxl", "json"])
async def test_exports_are_safe_to_share(
    client: httpx.AsyncClient, store: Store, fmt: str, analyst: Headers
) -> None:
    for profile, k in (("analyst", K), ("public", 10)):
        response = await client.get("/api/v1/exports/aggregates", headers=analyst,
                                    params={"format": fmt, "profile": profile})
        assert response.status_code == 200
        if fmt == "json":
            body = response.json()
            assert body["k"] == k and body["query"]["group_by"] == ["municipality", "category"]
            assert not any(small(c["count"], k) for c in body["cells"])
            assert body["method"]["max_noise_per_noise_cell"] == 2
            if profile == "public":  # a zero looks like a small count
                assert 0 not in [c["count"] for c in body["cells"]]
            continue
        lines = list(csv.reader(io.StringIO(response.text)))
        header, rows = lines[0], lines[1:]
        if fmt == "hxl":
            tags, rows = rows[0], rows[1:]
            assert "#adm2+code" in tags and "#indicator+reports+num" in tags
            assert all(tag.startswith("#") for tag in tags), dict(zip(header, tags, strict=True))
        count = header.index("count")
        code = header.index("municipality_code")
        assert not any(small(int(r[count]), k) for r in rows if r[count])
        assert all(len(r[code]) == 5 and r[code].isdigit() for r in rows)


async def test_focal_points_count_only_their_area_and_strangers_nothing(
    client: httpx.AsyncClient, store: Store, sign_in: SignIn
) -> None:
    narino = await sign_in("narino", departments=("52",))
    body = (await client.get("/api/v1/aggregates", headers=narino,
                             params={"group_by": "department"})).json()
    assert [row["code"] for row in body["rows"]] == ["52"]
    caceres = await sign_in("caceres", municipalities=(CACERES,))
    other = (await client.get("/api/v1/aggregates", headers=caceres)).json()
    assert other["rows"] == [] and other["total"] in (0, None)
    for path in ("/api/v1/aggregates", "/api/v1/aggregates/priorities",
                 "/api/v1/exports/aggregates"):
        assert (await client.get(path)).status_code == 401


async def test_priorities_rank_concerns_and_hide_small_municipalities(
    client: httpx.AsyncClient, store: Store, analyst: Headers
) -> None:
    items = (await client.get("/api/v1/aggregates/priorities", headers=analyst)).json()["items"]
    assert items
    for item in items:
        if item["suppressed"]:
            assert item["respondents"] is None and item["concerns"] == []
        else:
            assert item["respondents"] >= K
            points = [c["points"] for c in item["concerns"]]
            assert points == sorted(points, reverse=True)


async def test_priorities_by_department_add_up_municipalities_below_k(
    client: httpx.AsyncClient, store: Store, analyst: Headers, sign_in: SignIn
) -> None:
    """Nariño's municipalities are mostly below k for priorities; the department is not, and
    its respondents and points are the sums of all of them, hidden ones included (perturbed
    sums from storage, suppressed below k like any other ranking)."""
    by_municipality = (await client.get("/api/v1/aggregates/priorities",
                                        headers=analyst)).json()["items"]
    assert any(item["suppressed"] for item in by_municipality)  # not vacuous
    body = (await client.get("/api/v1/aggregates/priorities/departments",
                             headers=analyst)).json()
    assert [item["department_code"] for item in body["items"]] == ["52"]
    (narino,) = body["items"]
    assert narino["department"] == "Nariño" and not narino["suppressed"]
    assert narino["respondents"] >= K
    async with store.transaction() as session:
        rankings = await priority_rankings(session=session, month_to=last_closed_month(utcnow()),
                                           perturbed=True)
    assert narino["respondents"] == sum(r.respondents for r in rankings)
    points: dict[str, int] = {}
    for ranking in rankings:
        for concern, value in ranking.concerns:
            points[concern] = points.get(concern, 0) + value
    assert {c["code"]: c["points"] for c in narino["concerns"]} == {
        code: value for code, value in points.items() if value}
    # A focal point of another department counts nothing of Nariño's.
    caceres = await sign_in("caceres", municipalities=(CACERES,))
    assert (await client.get("/api/v1/aggregates/priorities/departments",
                             headers=caceres)).json()["items"] == []
