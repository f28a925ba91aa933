"""Colombian municipality catalog and forgiving name search (standard library only).

Data: ``flows/data/divipola.csv`` (DANE DIVIPOLA codes, 1,123 municipalities, 33 departments),
normalized from ``data/Departamentos_y_municipios_de_Colombia.csv`` of the public repository
john-guerra/resultadosSegundaVuelta2022_historia (MIT License, (c) 2018 John Alexis Guerra
Gómez), itself derived from DANE's open data. Known errors of that file are corrected at load
time in ``_NAME_FIXES`` (see ``flows/data/README.md``).

Names shown are DANE's. Search is accent/case/punctuation-insensitive, knows the names people
use (``Tumaco``, ``Mompox``, ``Quilichao``... in ``flows/data/aliases.csv``), tolerates small
typos, recognizes a trailing department (``"Córdoba, Bolívar"``) and flags names shared by
several departments as ``ambiguous``.
"""

from __future__ import annotations

import bisect
import csv
import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flows.messages import N_

# Antioquia, Bolívar, Cauca, Córdoba, Nariño, Norte de Santander, Sucre.
DEFAULT_DEPARTMENTS: tuple[str, ...] = ("05", "13", "19", "23", "52", "54", "70")

_CSV_PATH = Path(__file__).with_name("data") / "divipola.csv"
_MAX_INPUT = 120  # characters of user text considered at all
_MAX_FUZZY = 40  # normalized length above which typo matching is skipped

# Corrections to the source file (see data/README.md), to DANE's current spelling: two rows carry
# another municipality's name (copied from Boyacá), the rest lost accents, were shortened, or
# were renamed by DANE since (DIVIPOLA 2019: Mompox, Cúcuta, Cuaspud Carlosama, Toluviejo…).
_NAME_FIXES: dict[str, str] = {
    "13670": "San Pablo", "85325": "San Luis de Palenque", "05360": "Itagüí",
    "05264": "Entrerríos", "05665": "San Pedro de Urabá", "19760": "Sotará - Paispamba",
    "19821": "Toribío", "54003": "Ábrego", "27025": "Alto Baudó", "27099": "Bojayá",
    "27150": "Carmen del Darién", "47258": "El Piñón", "47660": "Sabanas de San Ángel",
    "73616": "Rioblanco", "86865": "Valle del Guamuez",
    "91460": "Mirití-Paraná", "18094": "Belén de los Andaquíes", "97161": "Carurú",
    "15109": "Buenavista",
    # The covered departments, checked name by name against DANE's DIVIPOLA.
    "05042": "Santa Fé de Antioquia", "05044": "Anzá", "05237": "Donmatías",
    "05658": "San José de la Montaña", "05664": "San Pedro de los Milagros",
    "05674": "San Vicente Ferrer", "13001": "Cartagena de Indias",
    "13468": "Santa Cruz de Mompox", "19418": "López de Micay", "19548": "Piendamó - Tunía",
    "23586": "Purísima de la Concepción", "23670": "San Andrés de Sotavento",
    "52036": "Ancuya", "52207": "Consacá", "52224": "Cuaspud Carlosama",
    "54001": "San José de Cúcuta", "54128": "Cáchira", "70204": "Colosó",
    "70823": "San José de Toluviejo",
}
_DEPARTMENT_NAMES: dict[str, str] = {"88": "San Andrés y Providencia"}

# Names people use besides DANE's (short forms, former names, cabeceras): searchable, never
# shown. One line per name, "code,alias"; tests/flows/test_municipalities.py checks them.
_ALIASES_PATH = _CSV_PATH.with_name("aliases.csv")
# Extra department names recognized at the end of a query ("Córdoba, Bolívar").
_DEPARTMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "11": ("Bogotá", "Bogotá DC", "Distrito Capital"), "44": ("Guajira",), "76": ("Valle",),
    "54": ("Norte Santander", "N de Santander", "Nte de Santander"),
    "88": ("San Andrés", "Archipiélago de San Andrés, Providencia y Santa Catalina"),
}
# Small words a person may leave out or put in: "San Andrés Sotavento", "Barranco Loba".
_LINKS = frozenset({"de", "del"})


def normalize(text: str) -> str:
    """Casefold, strip accents (NFKD), turn punctuation into spaces, collapse whitespace."""
    chars = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if not unicodedata.combining(ch):
            chars.append(ch if ch.isalnum() else " ")
    return " ".join("".join(chars).split())


@dataclass(frozen=True)
class Department:
    code: str
    name: str


@dataclass(frozen=True)
class Municipality:
    code: str  # 5-digit DANE code
    name: str  # official name (corrected)
    department_code: str
    department: str

    @property
    def display_name(self) -> str:
        """DANE's name without department: "San Andrés de Tumaco", never an alias."""
        return self.name

    @property
    def label(self) -> str:
        """DANE's name with department: "San Andrés de Tumaco (Nariño)"; Bogotá is "Bogotá D.C."."""
        if self.department_code == "11":
            return self.department
        return f"{self.display_name} ({self.department})"


@dataclass(frozen=True)
class SearchResult:
    matches: tuple[Municipality, ...]  # best first
    confident: bool  # exactly one clear match (exact name/alias or single close typo)
    ambiguous: bool  # one name, several departments: one match per department, ask which


_EMPTY = SearchResult((), confident=False, ambiguous=False)


@functools.lru_cache(maxsize=1)
def _all_municipalities() -> Mapping[str, Municipality]:
    """Parse the CSV once per process."""
    result: dict[str, Municipality] = {}
    with _CSV_PATH.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code, dept = row["municipality_code"].strip(), row["department_code"].strip()
            dept_name = _DEPARTMENT_NAMES.get(dept, row["department"].strip())
            name = _NAME_FIXES.get(code, row["municipality"].strip())
            result[code] = Municipality(code, name, dept, dept_name)
    return result


@functools.lru_cache(maxsize=1)
def aliases() -> Mapping[str, tuple[str, ...]]:
    """The names people use besides DANE's, by municipality code (flows/data/aliases.csv)."""
    found: dict[str, list[str]] = {}
    with _ALIASES_PATH.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["code"].strip(), []).append(row["alias"].strip())
    return {code: tuple(names) for code, names in found.items()}


def official_keys(m: Municipality) -> set[str]:
    """What finds a municipality without the aliases file: its name, minus a leading "El "
    when 7+ letters remain ("Santuario", not "Carmen"), and with "de"/"del" left out."""
    keys = {normalize(m.name)}
    keys |= {k[3:] for k in keys if k.startswith("el ") and len(k) >= 10}
    keys |= {" ".join(w for w in k.split() if w not in _LINKS) for k in keys}
    return keys - {""}


def _keys_for(m: Municipality) -> set[str]:
    return official_keys(m) | ({normalize(a) for a in aliases().get(m.code, ())} - {""})


@dataclass(frozen=True)
class _Index:
    exact: Mapping[str, frozenset[str]]  # normalized key without spaces -> codes
    # (text from a word start, 0 for whole key / 1 for inner word, key length, code), sorted
    words: tuple[tuple[str, int, int, str], ...]
    departments: tuple[tuple[str, str], ...]  # (normalized name/alias, code), longest first


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    spaced: dict[str, set[str]] = {}
    exact: dict[str, set[str]] = {}
    dept_names: dict[str, str] = {}
    for m in _all_municipalities().values():
        for key in _keys_for(m):
            spaced.setdefault(key, set()).add(m.code)
            exact.setdefault(_compact(key), set()).add(m.code)
        dept_names[m.department_code] = m.department
    words = []
    for key, codes in spaced.items():
        starts = [0] + [i + 1 for i, ch in enumerate(key) if ch == " "]
        words += [(key[i:], int(i > 0), len(key), c) for i in starts for c in codes]
    depts = {normalize(n): c for c, n in dept_names.items()}
    depts.update({normalize(a): c for c, al in _DEPARTMENT_ALIASES.items() for a in al})
    return _Index(
        exact={k: frozenset(v) for k, v in exact.items()},
        words=tuple(sorted(words)),
        departments=tuple(sorted(depts.items(), key=lambda kv: -len(kv[0]))),
    )


def _compact(key: str) -> str:
    return key.replace(" ", "")


def _max_edits(length: int) -> int:
    """Typos tolerated for a name of this many letters: none below 5, 2 from 8 letters."""
    return 0 if length < 5 else 1 if length < 8 else 2


def _deletes(word: str, depth: int) -> set[str]:
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@functools.lru_cache(maxsize=1)
def _deletion_index() -> Mapping[str, tuple[str, ...]]:
    """Symmetric-delete index (built on the first typo search, ~50 ms, once per process)."""
    index: dict[str, list[str]] = {}
    for key in _index().exact:
        for variant in _deletes(key, _max_edits(len(key))):
            index.setdefault(variant, []).append(key)
    return {k: tuple(v) for k, v in index.items()}


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            cur.append(cost)
        prev2, prev = prev, cur
    return prev[-1]


def _pad(code: str, width: int) -> str:
    code = str(code).strip()
    return code.zfill(width) if code.isdigit() else code


def _name_key(m: Municipality) -> tuple[str, str]:
    return normalize(m.display_name), m.code


class Catalog:
    """The municipalities a deployment covers; build it with :meth:`Catalog.load`."""

    def __init__(self, codes: Iterable[str]) -> None:
        everything = _all_municipalities()
        self._codes = frozenset(codes)
        by_dept: dict[str, list[Municipality]] = {}
        for code in self._codes:
            m = everything[code]
            by_dept.setdefault(m.department_code, []).append(m)
        self._by_dept = {d: tuple(sorted(ms, key=_name_key)) for d, ms in by_dept.items()}
        self._dept_codes = {d: frozenset(m.code for m in ms) for d, ms in by_dept.items()}
        self._departments = tuple(sorted(
            (Department(d, ms[0].department) for d, ms in self._by_dept.items()),
            key=lambda dep: (normalize(dep.name), dep.code),
        ))
        self._dept_rank = {dep.code: i for i, dep in enumerate(self._departments)}

    @classmethod
    def load(
        cls,
        *,
        departments: Iterable[str] | None = DEFAULT_DEPARTMENTS,
        municipalities: Iterable[str] | None = None,
    ) -> Catalog:
        """Coverage = every municipality of ``departments`` (None: the whole country) plus the
        ``municipalities`` codes listed. For only a few towns: ``departments=()`` and list them.
        Codes may lose leading zeros ("5" == "05"); unknown codes raise ``ValueError``.
        Catalogs are immutable and cached per coverage, so calling this often is cheap."""
        deps = None if departments is None else frozenset(_pad(d, 2) for d in departments)
        munis = frozenset(_pad(c, 5) for c in municipalities or ())
        return _cached_catalog(deps, munis)

    def get(self, code: str) -> Municipality | None:
        """The covered municipality with this DANE code, else None."""
        return self._m(_pad(code, 5)) if code in self else None

    def departments(self) -> tuple[Department, ...]:
        """Covered departments, sorted by name (accent-insensitive)."""
        return self._departments

    def in_department(self, department_code: str) -> tuple[Municipality, ...]:
        """Covered municipalities of a department, sorted by display name."""
        return self._by_dept.get(_pad(department_code, 2), ())

    def __len__(self) -> int:
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and _pad(code, 5) in self._codes

    def search(
        self, text: str, *, department_code: str | None = None, limit: int = 8
    ) -> SearchResult:
        """Find covered municipalities matching free text (see module docstring)."""
        query = normalize(text[:_MAX_INPUT])
        if not query or limit < 1:
            return _EMPTY
        if department_code is not None:
            pool = self._dept_codes.get(_pad(department_code, 2), frozenset())
            if not pool:
                return _EMPTY
        else:
            pool = self._codes
            trailing = self._search_with_trailing_department(query, limit)
            if trailing.matches:
                return trailing
        exact = _index().exact.get(_compact(query), frozenset()) & pool
        if exact:
            return self._grouped(sorted(exact), limit)
        ranked = self._prefix_matches(query, pool) if len(query) >= 3 else []
        typos = self._typo_matches(query, pool)
        if not ranked and typos:
            best = [code for dist, code in typos if dist == typos[0][0]]
            if len(best) > 1 and len({_compact(normalize(self._m(c).name)) for c in best}) == 1:
                return self._grouped(best, limit)  # same name, several departments
            ranked = [code for _, code in typos]
            confident = len(best) == 1
        else:
            ranked += [code for _, code in typos]
            confident = False
        unique = tuple(self._m(c) for c in dict.fromkeys(ranked))[:limit]
        return SearchResult(unique, confident=confident and bool(unique), ambiguous=False)

    def _m(self, code: str) -> Municipality:
        return _all_municipalities()[code]

    def _grouped(self, codes: list[str], limit: int) -> SearchResult:
        """Result for a set of equally good matches (exact, or best typo group)."""
        ms = sorted((self._m(c) for c in codes),
                    key=lambda m: (self._dept_rank[m.department_code], _name_key(m)))
        several = len({m.department_code for m in ms}) > 1
        return SearchResult(tuple(ms[:limit]), confident=len(ms) == 1, ambiguous=several)

    def _search_with_trailing_department(self, query: str, limit: int) -> SearchResult:
        """'cordoba bolivar' -> search 'cordoba' within Bolívar (if the full text isn't a name)."""
        if _compact(query) in _index().exact:
            return _EMPTY
        for name, code in _index().departments:
            if query.endswith(" " + name) and code in self._dept_codes:
                rest = query[: -len(name) - 1].removesuffix(" de").removesuffix(" del")
                if rest:
                    return self.search(rest, department_code=code, limit=limit)
        return _EMPTY

    def _prefix_matches(self, query: str, pool: frozenset[str]) -> list[str]:
        """Names starting with the query, then names with an inner word starting with it."""
        words = _index().words
        hits: list[tuple[int, int, str, str]] = []
        for i in range(bisect.bisect_left(words, (query,)), len(words)):
            text, inner, length, code = words[i]
            if not text.startswith(query):
                break
            if code in pool and (not inner or len(query) >= 4):
                hits.append((inner, length, _name_key(self._m(code))[0], code))
        return [code for *_, code in sorted(hits)]

    def _typo_matches(self, query: str, pool: frozenset[str]) -> list[tuple[int, str]]:
        """(edit distance, code) of names within the tolerated number of typos, best first."""
        query = _compact(query)
        allowed = _max_edits(len(query))
        if not allowed or len(query) > _MAX_FUZZY:
            return []
        index, exact = _deletion_index(), _index().exact
        candidates = {key for v in _deletes(query, allowed) for key in index.get(v, ())}
        best: dict[str, int] = {}
        for key in candidates:
            limit = min(allowed, _max_edits(len(key)))
            if limit and abs(len(key) - len(query)) <= limit:
                dist = _edit_distance(query, key)
                if dist <= limit:
                    for code in exact[key] & pool:
                        best[code] = min(dist, best.get(code, dist))
        return sorted(((d, c) for c, d in best.items()),
                      key=lambda dc: (dc[0], _name_key(self._m(dc[1]))))


@functools.lru_cache(maxsize=32)
def _cached_catalog(departments: frozenset[str] | None, municipalities: frozenset[str]) -> Catalog:
    everything = _all_municipalities()
    known_depts = {m.department_code for m in everything.values()}
    unknown = sorted((departments or frozenset()) - known_depts)
    unknown += sorted(municipalities - everything.keys())
    if unknown:
        raise ValueError(f"unknown DANE code(s): {', '.join(unknown)}")
    codes = {c for c, m in everything.items()
             if departments is None or m.department_code in departments}
    return Catalog(codes | municipalities)


MSG_BAD_MUNICIPALITY_CODE = N_("«{value}» no es un código de municipio: tiene 5 dígitos DIVIPOLA "
                               "(por ejemplo, 52835 para Tumaco).")
MSG_BAD_DEPARTMENT_CODE = N_("«{value}» no es un código de departamento: tiene 2 dígitos "
                             "DIVIPOLA (por ejemplo, 52 para Nariño).")
MSG_NO_MUNICIPALITY_CODE = N_("No existe el municipio {value} en la lista DIVIPOLA.")
MSG_NO_DEPARTMENT_CODE = N_("No existe el departamento {value} en la lista DIVIPOLA.")


def parse_codes(
    values: Iterable[str], digits: int
) -> tuple[list[str], list[tuple[str, str]]]:
    """DIVIPOLA codes of municipalities (5 digits) or departments (2) as a person typed them.

    Returns the codes (a dropped leading zero put back, each once, in order) and the
    refusals as (msgid, value) pairs; the msgid has a ``{value}`` placeholder.
    Every caller that takes codes from a person (CLI, API, admin pages) goes through here.
    """
    everything = _all_municipalities()
    departments = {m.department_code for m in everything.values()}
    codes: list[str] = []
    refusals: list[tuple[str, str]] = []
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        code = text.zfill(digits) if text.isascii() and text.isdigit() else text
        known = everything if digits == 5 else departments
        if not (code.isascii() and code.isdigit() and len(code) == digits):
            refusals.append((MSG_BAD_MUNICIPALITY_CODE if digits == 5
                             else MSG_BAD_DEPARTMENT_CODE, text))
        elif code not in known:
            refusals.append((MSG_NO_MUNICIPALITY_CODE if digits == 5
                             else MSG_NO_DEPARTMENT_CODE, code))
        elif code not in codes:
            codes.append(code)
    return codes, refusals
