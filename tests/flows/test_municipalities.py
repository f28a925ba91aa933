"""Tests for the municipality catalog (flows/municipalities.py)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.municipalities import (
    DEFAULT_DEPARTMENTS,
    Catalog,
    Department,
    Municipality,
    SearchResult,
    normalize,
)
from tests.support.places import CARTAGENA, MEDELLIN, MOMPOX, TUMACO

DEFAULT = Catalog.load()
COUNTRY = Catalog.load(departments=None)


def codes(result: SearchResult) -> list[str]:
    return [m.code for m in result.matches]


def _all(catalog: Catalog) -> list[Municipality]:
    return [m for d in catalog.departments() for m in catalog.in_department(d.code)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Córdoba", "cordoba"),
        ("  SAN   Andrés de  TUMACO ", "san andres de tumaco"),
        ("Bogotá D.C.", "bogota d c"),
        ("Nariño", "narino"),
        ("Chachagüí", "chachagui"),
        ("córdoba, bolívar", "cordoba bolivar"),
        ("Córdoba (Quindío)", "cordoba quindio"),
        ("Mirití-Paraná", "miriti parana"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # Official and everyday names, any case, with or without accents.
        ("tumaco", TUMACO),
        ("TUMACO", TUMACO),
        ("San Andrés de Tumaco", TUMACO),
        ("san andres de tumaco", TUMACO),
        ("carmen de bolivar", "13244"),
        ("El Carmen de Bolívar", "13244"),
        ("Mompox", MOMPOX),
        ("Mompós", MOMPOX),
        ("mompos", MOMPOX),
        ("tolu", "70820"),
        ("Tolú", "70820"),
        ("Santiago de Tolú", "70820"),
        ("Toluviejo", "70823"),
        ("Cartagena", CARTAGENA),
        ("Cartagena de Indias", CARTAGENA),
        ("cucuta", "54001"),
        ("San José de Cúcuta", "54001"),
        ("Medellín", MEDELLIN),
        ("medellin", MEDELLIN),
        ("Sincé", "70742"),
        ("santuario", "05697"),
        ("San Pablo", None),  # ambiguous, see below
        ("sanpablo", None),
        # Typos on names of 5+ letters.
        ("Tumacco", TUMACO),
        ("Tumac0", TUMACO),
        ("Tumcao", TUMACO),
        ("Medelin", MEDELLIN),
        ("Sincelejoo", "70001"),
        ("san andres de tumacco", TUMACO),
        # Trailing department.
        ("córdoba, bolívar", "13212"),
        ("Córdoba Bolívar", "13212"),
        ("Córdoba (Bolívar)", "13212"),
        ("cordoba narino", "52215"),
        ("Sucre, Sucre", "70771"),
        ("Medellín, Antioquia", MEDELLIN),
    ],
)
def test_confident_match(text: str, code: str | None) -> None:
    result = DEFAULT.search(text)
    if code is None:
        assert result.ambiguous and not result.confident
    else:
        assert result.confident and not result.ambiguous
        assert codes(result) == [code]


@pytest.mark.parametrize(
    ("catalog", "text", "expected"),
    [
        (COUNTRY, "Albania", ["18029", "44035", "68020"]),  # Caquetá, La Guajira, Santander
        (DEFAULT, "Sucre", ["19785", "70771"]),
        (COUNTRY, "sucre", ["19785", "68773", "70771"]),
        (DEFAULT, "Córdoba", ["13212", "52215"]),
        (DEFAULT, "Buenavista", ["23079", "70110"]),
        (COUNTRY, "buena vista", ["15109", "23079", "63111", "70110"]),
        (DEFAULT, "Buenavistta", ["23079", "70110"]),
        (DEFAULT, "San Pablo", ["13670", "52693"]),
        (DEFAULT, "Santa Bárbara", ["05679", "52696"]),
        (DEFAULT, "la union", ["05400", "52399", "70400"]),
    ],
)
def test_ambiguous_one_match_per_department(
    catalog: Catalog, text: str, expected: list[str]
) -> None:
    result = catalog.search(text)
    assert result.ambiguous and not result.confident
    assert codes(result) == expected  # ordered by department name
    assert len({m.department_code for m in result.matches}) == len(expected)


@pytest.mark.parametrize(
    ("text", "department_code", "code"),
    [
        ("Córdoba", "13", "13212"),
        ("Córdoba", "52", "52215"),
        ("sucre", "19", "19785"),
        ("Sucre", "70", "70771"),
        ("san pablo", "13", "13670"),
        ("Buenavista", "23", "23079"),
    ],
)
def test_department_narrows(text: str, department_code: str, code: str) -> None:
    result = DEFAULT.search(text, department_code=department_code)
    assert result.confident and not result.ambiguous
    assert codes(result) == [code]


@pytest.mark.parametrize(
    ("catalog", "text", "department_code"),
    [
        (DEFAULT, "Albania", None),
        (DEFAULT, "Bogotá", None),
        (DEFAULT, "Córdoba (Quindío)", None),  # Quindío is not covered
        (DEFAULT, "Tumaco", "05"),
        (DEFAULT, "Tumaco", "99"),
        (COUNTRY, "", None),
        (COUNTRY, "   ", None),
        (COUNTRY, "!!! ???", None),
        (COUNTRY, "xq", None),
        (COUNTRY, "zzzzzzzzzzzz", None),
        (COUNTRY, "qwpz", None),  # short input: no typo matching
    ],
)
def test_no_match(catalog: Catalog, text: str, department_code: str | None) -> None:
    result = catalog.search(text, department_code=department_code)
    assert result == SearchResult((), confident=False, ambiguous=False)


def test_prefix_gives_several_unconfident_matches() -> None:
    result = DEFAULT.search("San Juan")
    assert not result.confident and not result.ambiguous
    assert {"05659", "13657", "70702"} <= set(codes(result))
    assert all(normalize(m.name).startswith("san juan") for m in result.matches)


def test_carmen_alone_is_not_confident() -> None:
    result = DEFAULT.search("carmen")
    assert not result.confident
    assert codes(result)[0] == "13244"
    assert "54245" in codes(result)


def test_limit_and_inner_word_matches() -> None:
    assert len(COUNTRY.search("san", limit=3).matches) == 3
    assert COUNTRY.search("tumaco", limit=0).matches == ()
    assert codes(DEFAULT.search("quilichao")) == ["19698"]


def test_coverage() -> None:
    assert len(COUNTRY) == 1123
    assert len(DEFAULT) == sum(len(DEFAULT.in_department(d)) for d in DEFAULT_DEPARTMENTS)
    assert MEDELLIN in DEFAULT and "11001" not in DEFAULT and "11001" in COUNTRY
    assert DEFAULT.get(MEDELLIN) == Municipality(MEDELLIN, "Medellín", "05", "Antioquia")
    assert DEFAULT.get("11001") is None
    assert COUNTRY.get("11001") is not None
    assert [d.code for d in DEFAULT.departments()] == ["05", "13", "19", "23", "52", "54", "70"]
    assert len(COUNTRY.departments()) == 33


def test_load_options() -> None:
    only = Catalog.load(departments=(), municipalities=[TUMACO, "5001"])
    assert len(only) == 2 and MEDELLIN in only
    assert [d.name for d in only.departments()] == ["Antioquia", "Nariño"]
    plus = Catalog.load(departments=["52"], municipalities=["11001"])
    assert len(plus) == 65 and plus.search("bogota").confident
    assert Catalog.load() is DEFAULT  # cached
    with pytest.raises(ValueError, match="unknown"):
        Catalog.load(departments=["00"])
    with pytest.raises(ValueError, match="unknown"):
        Catalog.load(municipalities=["99999"])


def test_department_lists() -> None:
    narino = DEFAULT.in_department("52")
    assert len(narino) == 64
    assert all(m.department_code == "52" and m.department == "Nariño" for m in narino)
    names = [normalize(m.display_name) for m in narino]
    assert names == sorted(names)
    assert DEFAULT.in_department("11") == ()
    assert len(COUNTRY.in_department("05")) == 125
    assert Department("52", "Nariño") in DEFAULT.departments()


def test_labels_and_data_fixes() -> None:
    tumaco = COUNTRY.get(TUMACO)
    assert tumaco is not None
    assert tumaco.name == "San Andrés de Tumaco"
    assert tumaco.label == "Tumaco (Nariño)"
    assert COUNTRY.search("Bogotá").matches[0].label == "Bogotá D.C."
    assert DEFAULT.get("13670") == Municipality("13670", "San Pablo", "13", "Bolívar")
    assert COUNTRY.search("San Luis de Palenque").matches[0].code == "85325"
    assert codes(COUNTRY.search("San Pablo de Borbur")) == ["15681"]


def test_search_is_fast() -> None:
    COUNTRY.search("Tumacco")  # builds the typo index once
    queries = ["tumaco", "Tumacco", "San Juan", "córdoba, bolívar", "Sucre", "zzzzzzzz"]
    start = time.perf_counter()
    for _ in range(50):
        for query in queries:
            COUNTRY.search(query)
    per_search = (time.perf_counter() - start) / (50 * len(queries))
    assert per_search < 0.002  # typically ~0.05 ms; generous for slow CI machines


@settings(max_examples=300, deadline=None, database=None)
@given(
    text=st.text(max_size=200),
    limit=st.integers(min_value=-2, max_value=12),
    department=st.sampled_from([None, "05", "52", "11", "xx"]),
)
def test_search_never_raises(text: str, limit: int, department: str | None) -> None:
    for catalog in (DEFAULT, COUNTRY):
        result = catalog.search(text, department_code=department, limit=limit)
        assert len(result.matches) <= max(limit, 0)
        assert not (result.confident and result.ambiguous)
        assert not result.confident or len(result.matches) == 1
        assert all(m.code in catalog for m in result.matches)
        assert len({m.code for m in result.matches}) == len(result.matches)


def test_every_official_name_finds_itself() -> None:
    for m in _all(COUNTRY):
        assert m in COUNTRY.search(m.name).matches, m
        result = COUNTRY.search(m.name.upper(), department_code=m.department_code)
        assert result.confident and result.matches == (m,), m
        assert COUNTRY.search(m.label).matches[0] == m, m
