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
    aliases,
    normalize,
    official_keys,
)
from tests.support.fuzzing import examples
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
    assert "52001" in codes(result)  # Pasto: "San Juan de Pasto"


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
    assert tumaco.label == "San Andrés de Tumaco (Nariño)"
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


@settings(max_examples=examples(300), deadline=None, database=None)
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


# What people call their municipality besides DANE's name (flows/data/aliases.csv and the
# rules for "El" and "de"), and names from the issue: each finds exactly its municipality.
EVERYDAY = [
    # Antioquia
    ("Medallo", MEDELLIN), ("Carmen de Viboral", "05148"), ("Santuario", "05697"),
    ("Bagre", "05250"), ("Santa Fe de Antioquia", "05042"), ("Don Matías", "05237"),
    ("Entre Ríos", "05264"), ("Yarumal", "05887"), ("Ituango", "05361"),
    ("Caucasia", "05154"), ("El Retiro", "05607"), ("San Pedro de Los Milagros", "05664"),
    # Bolívar
    ("Mompox", MOMPOX), ("Mompós", MOMPOX), ("Carmen de Bolívar", "13244"),
    ("Cartagena", CARTAGENA), ("La Heroica", CARTAGENA), ("Córdoba Tetón", "13212"),
    ("Talaigua", "13780"), ("Maria La Baja", "13442"), ("Barranco Loba", "13074"),
    # Cauca
    ("Santander", "19698"), ("Quilichao", "19698"), ("Santander Quilichao", "19698"),
    ("El Bordo", "19532"), ("Piendamó", "19548"), ("Coconuco", "19585"), ("López", "19418"),
    ("Guapí", "19318"), ("Sotará", "19760"), ("Toribio", "19821"),
    # Córdoba
    ("Tierra Alta", "23807"), ("Tierralta", "23807"), ("San Andrés Sotavento", "23670"),
    ("Sotavento", "23670"), ("Santa Cruz de Lorica", "23417"), ("Uré", "23682"),
    ("Purísima", "23586"), ("Monte Líbano", "23466"), ("Montelíbano", "23466"),
    ("Puerto Libertador", "23580"),
    # Nariño
    ("Tumaco", TUMACO), ("Magui", "52427"), ("Magüí Payán", "52427"), ("San José", "52621"),
    ("Roberto Payán", "52621"), ("Satinga", "52490"), ("Salahonda", "52520"),
    ("Iscuandé", "52696"), ("Guachavés", "52699"), ("Charco", "52250"),
    ("El Charco", "52250"), ("Barbacoas", "52079"), ("Carlosama", "52224"),
    ("Cuaspud", "52224"), ("San Juan de Pasto", "52001"), ("Ancuyá", "52036"),
    # Norte de Santander
    ("Cúcuta", "54001"), ("cucuta", "54001"), ("Tarra", "54250"), ("El Tarra", "54250"),
    ("Zulia", "54261"), ("Abrego", "54003"), ("Cachira", "54128"), ("Ocaña", "54498"),
    ("Tibú", "54810"), ("Salazar de Las Palmas", "54660"),
    # Sucre
    ("Tolú", "70820"), ("Toluviejo", "70823"), ("Tolú Viejo", "70823"), ("Sincé", "70742"),
    ("Coloso", "70204"), ("San Benito", "70678"), ("San Onofre", "70713"),
    ("Ovejas", "70508"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "code"), EVERYDAY)
def test_everyday_names_find_exactly_their_municipality(text: str, code: str) -> None:
    result = DEFAULT.search(text)
    assert codes(result) == [code], [m.label for m in result.matches]
    assert result.confident and not result.ambiguous


def test_every_covered_department_has_everyday_names_in_the_table() -> None:
    per_department = {d: 0 for d in DEFAULT_DEPARTMENTS}
    for text, code in EVERYDAY:
        found = DEFAULT.get(code)
        assert found is not None
        if normalize(text) != normalize(found.name):
            per_department[code[:2]] += 1
    assert min(per_department.values()) >= 5, per_department


# Aliases that are also another place's name or alias: the person is asked which department.
SHARED_ON_PURPOSE = {
    "el penol": ["05541", "52254"], "san pedro": ["05664", "70717", "76670"],
    "el carmen": ["13244", "54245"], "guamo": ["13248", "73319"],
    "san martin": ["13667", "20770", "50689"], "belalcazar": ["17088", "19517"],
    "san bernardo": ["23675", "25649", "52685"], "san jose": ["17665", "52621"],
    "cartago": ["52694", "76147"], "san benito": ["68673", "70678"],
    "betulia": ["05093", "68092", "70702"],
}  # fmt: skip


def test_aliases_name_existing_municipalities_and_add_a_name_each() -> None:
    shared_seen = set()
    for code, names in aliases().items():
        m = COUNTRY.get(code)
        assert m is not None, f"aliases.csv: no municipality {code}"
        for name in names:
            key = normalize(name)
            own = {k.replace(" ", "") for k in official_keys(m)}
            assert key.replace(" ", "") not in own, f"{name!r} is already found as {m.name!r}"
            result = COUNTRY.search(name)
            if key in SHARED_ON_PURPOSE:
                shared_seen.add(key)
                assert result.ambiguous and sorted(codes(result)) == SHARED_ON_PURPOSE[key]
            else:
                assert result.confident and codes(result) == [code], (name, codes(result))
    assert shared_seen == SHARED_ON_PURPOSE.keys()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("El Carmen", ["13244", "54245"]),  # El Carmen de Bolívar, or El Carmen (N. de S.)
        ("Betulia", ["05093", "70702"]),  # Antioquia's, or San Juan de Betulia (Sucre)
        ("El Peñol", ["05541", "52254"]),
        ("San Bernardo", ["23675", "52685"]),  # del Viento (Córdoba), or Nariño's
        ("San Pedro", ["05664", "70717"]),
    ],
)
def test_shared_everyday_names_ask_the_department(text: str, expected: list[str]) -> None:
    result = DEFAULT.search(text)
    assert result.ambiguous and codes(result) == expected


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("70204", "Colosó (Sucre)"),
        ("23670", "San Andrés de Sotavento (Córdoba)"),
        ("52835", "San Andrés de Tumaco (Nariño)"),
        ("13468", "Santa Cruz de Mompox (Bolívar)"),
        ("54001", "San José de Cúcuta (Norte de Santander)"),
        ("54128", "Cáchira (Norte de Santander)"),
        ("52207", "Consacá (Nariño)"),
        ("52224", "Cuaspud Carlosama (Nariño)"),
        ("70823", "San José de Toluviejo (Sucre)"),
        ("05237", "Donmatías (Antioquia)"),
        ("05664", "San Pedro de los Milagros (Antioquia)"),
        ("19548", "Piendamó - Tunía (Cauca)"),
        ("23586", "Purísima de la Concepción (Córdoba)"),
        ("13001", "Cartagena de Indias (Bolívar)"),
    ],
)
def test_shown_names_are_danes_spelling(code: str, shown: str) -> None:
    found = COUNTRY.get(code)
    assert found is not None and found.label == shown and found.display_name == found.name
