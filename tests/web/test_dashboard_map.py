"""The dashboard's map and charts against the API's numbers, on both databases.

The map draws every municipality of the covered departments from DANE's boundaries, each
shaded by the count `/api/v1/aggregates` publishes for the same filters; a suppressed one is
hatched and carries no number anywhere (path, title, data attributes, the table, the
downloaded file); a chart never drops a hidden part.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.demo import seed
from api.settings import Settings
from storage.store import Store
from tests.support.api import PAGES_URL, client_for
from tests.support.places import CACERES
from tests.support.staff import Staff, add_staff
from tests.support.web_client import Browser

SVG = "{http://www.w3.org/2000/svg}"
DIVIPOLA = Path(__file__).parents[2] / "flows" / "data" / "divipola.csv"
PAGE = "/panel?desde=2025-01&tipo=threat"


@pytest.fixture
async def seeded(store: Store) -> Store:
    await add_staff(store, "fallback", role="admin")
    await seed(store=store, count=400, departments=("52", "70"), seed_value=7)
    return store


@pytest.fixture
def app(seeded: Store, tmp_path: Path) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path, fast_kdf=True), store=seeded)


async def signed_in(browser: Browser, staff: Staff) -> dict[str, str]:
    """Signs the page client in and returns the same person's API headers."""
    response = await browser.sign_in(staff.username, staff.password, staff.otp())
    assert response.status_code == 303, response.text
    token = (await browser.client.post("/api/v1/auth/token", data={
        "username": staff.username, "password": staff.password, "otp": staff.otp(),
    })).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def covered_municipalities(departments: tuple[str, ...]) -> set[str]:
    with DIVIPOLA.open(encoding="utf-8") as rows:
        return {row["municipality_code"] for row in csv.DictReader(rows)
                if row["department_code"] in departments}


def map_of(html: str) -> ET.Element:
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" class="map"')
    # Our own server's output, no entities: nothing for an XML bomb to hide in.
    return ET.fromstring(html[start:html.index("</svg>", start) + len("</svg>")])  # noqa: S314


def areas(svg: ET.Element) -> dict[str, ET.Element]:
    return {path.attrib["data-code"]: path for path in svg.iter(f"{SVG}path")}


def api_counts(body: dict[str, Any]) -> dict[str, int | None]:
    return {cell["row"]: cell["count"] for cell in body["cells"]}


async def test_the_map_draws_every_covered_municipality_shaded_by_the_api_numbers(
    browser: Browser, seeded: Store
) -> None:
    headers = await signed_in(browser, await add_staff(seeded, "analista", role="analyst"))
    page = await browser.get("/panel?desde=2025-01")
    drawn = areas(map_of(page.text))
    covered = Settings(fast_kdf=True).covered_departments
    # DANE's 2018 frame has every municipality of the seven covered departments (the one it
    # lacks, 27086 Belén de Bajirá, is in Chocó), so nothing is left out.
    assert set(drawn) == covered_municipalities(covered) and len(drawn) == 373
    assert "27086" not in covered_municipalities(covered)
    assert "DANE, MGN 2018" in page.text
    body = (await browser.client.get("/api/v1/aggregates", headers=headers, params={
        "group_by": "municipality", "from": "2025-01"})).json()
    counts = api_counts(body)
    assert None in counts.values() and any(counts.values())  # both kinds of cell, not vacuous
    classes: dict[str, set[str]] = {}
    for code, path in drawn.items():
        count = counts.get(code, 0)
        if count is None:
            assert path.attrib["data-state"] == "suppressed"
            assert path.attrib["fill"] == "url(#somos-hatch)"
        elif count == 0:
            assert (path.attrib["data-state"], path.attrib["data-count"]) == ("zero", "0")
        else:
            assert (path.attrib["data-state"], path.attrib["data-count"]) == (
                "published", str(count))
            classes.setdefault(path.attrib["data-class"], set()).add(path.attrib["fill"])
    # One fill per class, and a larger count never in a lighter class.
    assert all(len(fills) == 1 for fills in classes.values()) and len(classes) >= 2
    ranked = sorted((counts[code] or 0, int(path.attrib["data-class"]))
                    for code, path in drawn.items() if counts.get(code))
    assert [shade for _, shade in ranked] == sorted(shade for _, shade in ranked)
    legend = re.findall(r'<li data-class="(\d+)">', page.text)
    assert sorted(legend) == sorted(classes)


async def test_no_suppressed_count_can_be_read_from_the_map_its_table_or_its_file(
    browser: Browser, seeded: Store
) -> None:
    """The attacker reads everything the page and the download carry about a hatched
    municipality: attributes, title, table cell. Only its code and outline have digits."""
    await signed_in(browser, await add_staff(seeded, "analista", role="analyst"))
    page = (await browser.get(PAGE)).text
    download = await browser.get("/panel/mapa.svg?desde=2025-01&tipo=threat")
    assert download.headers["content-type"].startswith("image/svg+xml")
    assert "attachment" in download.headers["content-disposition"]
    assert b"<!ENTITY" not in download.content
    file_svg = ET.fromstring(download.content)  # noqa: S314
    assert "DANE, MGN 2018" in download.text
    hatched = 0
    for svg in (map_of(page), file_svg):
        for code, path in areas(svg).items():
            if path.attrib["data-state"] != "suppressed":
                continue
            hatched += 1
            assert set(path.attrib) == {"d", "fill", "stroke", "data-code", "data-state"}
            title = path.find(f"{SVG}title")
            assert title is not None and title.text
            assert not re.search(r"\d", title.text), title.text
            assert title.text.endswith("cifra protegida")
            cell = re.search(rf'data-row="{code}" data-column="total" data-count="([^"]+)">'
                             r"(.*?)</td>", page)
            assert cell and cell.group(1) == "suppressed" and not re.search(
                r"\d", re.sub(r"<[^>]+>", "", cell.group(2)))
    assert hatched
    # The file is the page's map: same municipalities, same states and counts.
    assert {c: (p.attrib["data-state"], p.attrib.get("data-count"))
            for c, p in areas(file_svg).items()} == {
        c: (p.attrib["data-state"], p.attrib.get("data-count"))
        for c, p in areas(map_of(page)).items()}


async def test_hidden_chart_parts_are_hatched_and_bars_reach_their_totals(
    browser: Browser, seeded: Store
) -> None:
    headers = await signed_in(browser, await add_staff(seeded, "analista", role="analyst"))
    page = (await browser.get("/panel?desde=2025-01")).text
    body = (await browser.client.get("/api/v1/aggregates", headers=headers, params={
        "group_by": ["month", "kind"], "from": "2025-01"})).json()
    hidden_rows = {cell["row"] for cell in body["cells"] if cell["suppressed"]} | {
        row for row, total in body["row_totals"].items() if total is None}
    published_totals = [total for total in body["row_totals"].values() if total is not None]
    assert hidden_rows and len(published_totals) >= 2  # not vacuous
    start = page.index('aria-label="Reportes por mes y tipo"')
    chart = page[start:page.index("</ol>", start)]
    ratios = set()
    for month, total in body["row_totals"].items():
        bar = re.search(rf'<li data-bar="{month}"( data-hidden="yes")?>(.*?)</li>', chart, re.S)
        assert bar, month
        hatched = re.findall(r'class="bar hidden" x="[\d.]+" y="0" width="([\d.]+)"',
                             bar.group(2))
        assert bool(bar.group(1)) == bool(hatched) == (month in hidden_rows), month
        widths = [float(w) for w in re.findall(r'width="([\d.]+)" height="10"', bar.group(2))]
        if total is None:
            assert "—" in bar.group(2)
        else:
            assert f'class="bar-value">{total}' in bar.group(2)
            ratios.add(round(sum(widths) / total, 2))
    # Every bar with a published total is drawn to the same scale, hidden parts included:
    # no month shows a bar of 14 beside a total of 49.
    assert max(ratios) - min(ratios) <= 0.02, ratios


async def test_categories_are_ranked_within_their_kind(
    browser: Browser, seeded: Store
) -> None:
    headers = await signed_in(browser, await add_staff(seeded, "analista", role="analyst"))
    page = (await browser.get("/panel")).text
    body = (await browser.client.get("/api/v1/aggregates", headers=headers, params={
        "group_by": "category"})).json()
    kinds = {cell["row"].split(".")[0] for cell in body["cells"]}
    assert kinds == {"threat", "stigma", "priority"}
    for kind in kinds:
        start = page.index(f'data-table="category-{kind}"')
        rows = re.findall(r'data-row="([^"]+)"', page[start:page.index("</table>", start)])
        assert rows == [cell["row"] for cell in body["cells"] if cell["row"].startswith(kind)]
        assert f'<h3 data-kind="{kind}">' in page


async def test_priorities_speak_for_departments_whose_municipalities_are_below_k(
    browser: Browser, seeded: Store
) -> None:
    headers = await signed_in(browser, await add_staff(seeded, "analista", role="analyst"))
    page = (await browser.get("/panel?tipo=priority")).text
    municipal = (await browser.client.get("/api/v1/aggregates/priorities",
                                          headers=headers)).json()["items"]
    departments = (await browser.client.get("/api/v1/aggregates/priorities/departments",
                                            headers=headers)).json()["items"]
    below = {item["municipality_code"][:2] for item in municipal if item["suppressed"]}
    assert below  # not vacuous
    for item in departments:
        marker = f'data-department="{item["department_code"]}" data-respondents="'
        if item["department_code"] in below and not item["suppressed"]:
            assert marker + f'{item["respondents"]}"' in page
        else:
            assert marker not in page
    # With the priorities filter no card is left blank: each shows figures or says why not.
    cards = re.findall(r'<section class="card[^"]*"[^>]*>(.*?)</section>', page, re.S)
    assert len(cards) == 7
    for card in cards:
        assert re.search(r'<li data-bar=|class="priority"|class="empty"|<table|class="downloads"'
                         r'|class="map"', card), card
    assert "Municipios con más reportes" in page


async def test_a_focal_point_sees_the_map_of_their_own_area(
    app: FastAPI, seeded: Store
) -> None:
    caceres = await add_staff(seeded, "caceres", municipalities=(CACERES,))
    async with client_for(app, PAGES_URL) as client:
        browser = Browser(client)
        await signed_in(browser, caceres)
        drawn = areas(map_of((await browser.get("/panel")).text))
    # Cáceres's department, Antioquia (no reports seeded there: all 0), with every other
    # municipality out of their area.
    assert set(drawn) == covered_municipalities(("05",))
    assert {code for code, path in drawn.items()
            if path.attrib["data-state"] != "outside"} == {CACERES}
    assert all("data-count" not in path.attrib for code, path in drawn.items()
               if code != CACERES)
