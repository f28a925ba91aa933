"""Every HXL export passes libhxl's own validation: each grouping, each profile, each language.

libhxl (the HXL standard's Python library) checks the files with its built-in schema,
which it reads from the installed package: nothing is downloaded. Its `#date` rule wants
dates it can read, its `#indicator+num` rule numbers; a quarter written "2024-Q4" failed
the first for every row, so files write "2024Q4", libhxl's quarter form.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import httpx
import hxl
import pytest
from fastapi import FastAPI

from api.aggregates import HEADERS, HXL_TAGS
from api.app import create_app
from api.demo import seed
from api.labels import municipality_name, municipality_official_name
from api.settings import Settings
from storage.aggregates import DIMENSIONS
from storage.store import Store
from tests.support.api import Headers
from tests.support.places import TUMACO

# libhxl's notes about the values themselves, not the format.
DATA_NOTES = {"Possible numeric outlier", "Rare value: check that it is correct"}
GROUPINGS = [(d,) for d in DIMENSIONS] + list(itertools.permutations(DIMENSIONS, 2))


@pytest.fixture
async def app(store: Store, tmp_path: Path) -> FastAPI:
    # Two departments over the last 24 months: every dimension has several values.
    await seed(store=store, count=240, departments=("52", "19"), seed_value=7)
    return create_app(Settings(data_dir=tmp_path, fast_kdf=True, suppression_k=5), store=store)


def validated(text: str, where: str) -> tuple[list[str], list[str], list[list[str]]]:
    """The file's header, hashtags and rows, after libhxl has found no error or warning."""
    lines = list(csv.reader(io.StringIO(text)))
    dataset = hxl.data(lines)
    assert [column.display_tag for column in dataset.columns] == [
        hxl.model.Column.parse(tag).display_tag for tag in lines[1]], where
    report = hxl.validate(lines)
    # `is_valid` is false on any issue, notes about the numbers too; those are "info" (a
    # count far from the others, a place name seen once), never about the file's form.
    problems = [(issue["severity"], issue["description"], issue["locations"][:3])
                for issue in report["issues"]
                if issue["severity"] != "info" or issue["description"] not in DATA_NOTES]
    assert not problems, (where, report["stats"], problems)
    header, tags, *rows = lines
    return header, tags, rows


async def test_every_grouping_and_profile_is_valid_hxl_in_both_languages(
    client: httpx.AsyncClient, analyst: Headers
) -> None:
    periods: dict[str, set[str]] = {"month": set(), "quarter": set(), "year": set()}
    for turn, (group_by, profile) in enumerate(
            itertools.product(GROUPINGS, ("analyst", "public"))):
        # Each grouping in both languages: one profile in Spanish, the other in English.
        lang = ("es", "en")[turn % 2]
        where = f"{','.join(group_by)} {profile} {lang}"
        response = await client.get("/api/v1/exports/aggregates", headers=analyst, params={
            "format": "hxl", "group_by": list(group_by), "profile": profile, "lang": lang})
        assert response.status_code == 200, (where, response.text)
        header, tags, rows = validated(response.text, where)
        assert rows, f"{where}: the seeded data should fill the file"
        if lang == "es":
            # Complete: no column keeps its English name.
            assert not set(header) & set(HXL_TAGS), (where, header)
            assert header[-2:] == ["conteo", "suprimido"]
        for dimension in periods:
            if dimension in group_by:
                periods[dimension] |= {row[tags.index(f"#date+{dimension}")] for row in rows}
        if "municipality" in group_by:
            names = [row[tags.index("#adm2+name")] for row in rows]
            assert not any("(" in name for name in names), (where, names[:5])
    # The periods were there, and written as dates libhxl reads.
    assert all(len(value) == 7 and value[4] == "-" for value in periods["month"])
    assert all(len(value) == 6 and value[4] == "Q" for value in periods["quarter"])
    assert len(periods["year"]) >= 2 and all(value.isdigit() for value in periods["year"])


async def test_a_file_names_places_and_columns_as_a_reader_expects(
    client: httpx.AsyncClient, analyst: Headers
) -> None:
    response = await client.get("/api/v1/exports/aggregates", headers=analyst, params={
        "format": "hxl", "group_by": ["municipality", "quarter"], "lang": "es"})
    header, tags, rows = validated(response.text, "municipality,quarter es")
    assert header == [HEADERS["es"][f] for f in (
        "department_code", "department", "municipality_code", "municipality", "quarter",
        "count", "suppressed")]
    assert header == ["código_departamento", "departamento", "código_municipio", "municipio",
                      "trimestre", "conteo", "suprimido"]
    assert tags == ["#adm1+code", "#adm1+name", "#adm2+code", "#adm2+name", "#date+quarter",
                    "#indicator+reports+num", "#meta+suppressed"]
    # The official name alone ("San Andrés de Tumaco", not "Tumaco (Nariño)"): the
    # department is the column before it.
    assert rows and all(row[3] == municipality_official_name(row[2]) != municipality_name(row[2])
                        for row in rows)
    assert municipality_official_name(TUMACO) == "San Andrés de Tumaco"
    assert {row[1] for row in rows} == {"Nariño", "Cauca"}
    assert {row[6] for row in rows} <= {"sí", "no"}
    assert all(row[5] == "" for row in rows if row[6] == "sí")
