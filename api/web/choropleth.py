"""The analysts' map: municipalities of the covered departments shaded by a protected count.

Boundaries are DANE's (MGN 2018, `api/data/README.md`), read once from the package.
Every number comes from one protected table by municipality (`api.aggregates.table_for`),
the one the API publishes for the same filters: a municipality is shaded by its published
count, hatched when suppressed (and then carries no number anywhere: not in its path, its
title or the table beside it), light when nothing is published (a perturbed 0), grey
outside a focal point's area. Classes are cut from the published counts only.

Projection: equirectangular with longitudes scaled by the cosine of the middle latitude,
which is close enough over a few hundred kilometres; coordinates rounded to 0.1 of 600.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from api.aggregates import ALL, Protected
from api.labels import department_name, municipality_name
from flows.municipalities import Catalog
from storage.aggregates import Scope

BOUNDARIES = "municipios-mgn2018.geojson"
SOURCE = "DANE, MGN 2018"
WIDTH = 600.0
MARGIN = 4.0
# Sequential blues (ColorBrewer "Blues"), light to dark: readable in grey and by people with
# a colour vision deficiency; the hatch and the grey are neither of them.
FILLS = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
ZERO_FILL = "#f7f8fa"
OUTSIDE_FILL = "#c9ced6"
HATCH = "url(#somos-hatch)"

Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class ShadeClass:
    low: int
    high: int
    fill: str


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    department: str
    path: str
    state: str  # "published", "zero", "suppressed" or "outside"
    count: int | None  # only when published
    shade: int | None  # index in Choropleth.classes, only when published
    fill: str


@dataclass(frozen=True)
class Choropleth:
    areas: tuple[Area, ...]
    classes: tuple[ShadeClass, ...]
    height: float
    departments: tuple[str, ...]  # names, in the order drawn
    without_boundary: tuple[str, ...]  # municipalities DANE's 2018 frame does not have
    source: str = SOURCE
    width: float = WIDTH

    def has(self, state: str) -> bool:
        return any(area.state == state for area in self.areas)


@lru_cache(maxsize=1)
def boundaries() -> dict[str, tuple[Ring, ...]]:
    """Every municipality's outer and inner rings, by DIVIPOLA code, from the package's file."""
    text = resources.files("api").joinpath("data", BOUNDARIES).read_text(encoding="utf-8")
    shapes: dict[str, tuple[Ring, ...]] = {}
    for feature in json.loads(text)["features"]:
        geometry = feature["geometry"]
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        shapes[feature["properties"]["code"]] = tuple(
            tuple((float(lon), float(lat)) for lon, lat in ring)
            for polygon in polygons for ring in polygon)
    return shapes


def shade_classes(values: Iterable[int], most: int = len(FILLS)) -> tuple[ShadeClass, ...]:
    """Up to `most` classes of about as many municipalities each, cut at published counts."""
    counts = sorted(value for value in values if value > 0)
    if not counts:
        return ()
    size = min(most, len(set(counts)))
    lows = sorted({counts[len(counts) * i // size] for i in range(size)})
    last = len(FILLS) - 1  # spread the classes over the palette, ends first
    fills = [FILLS[round(i * last / (len(lows) - 1)) if len(lows) > 1 else 3]
             for i in range(len(lows))]
    return tuple(
        ShadeClass(low, (lows[i + 1] - 1) if i + 1 < len(lows) else counts[-1], fills[i])
        for i, low in enumerate(lows))


def class_of(classes: tuple[ShadeClass, ...], value: int) -> int:
    return max(i for i, shade in enumerate(classes) if shade.low <= value)


def _format(number: float) -> str:
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


@lru_cache(maxsize=16)
def _paths(codes: tuple[str, ...]) -> tuple[dict[str, str], float]:
    """SVG path data per municipality, fitted to WIDTH, and the height that keeps the shape
    (the same for every request over the same departments: kept)."""
    shapes = boundaries()
    points = [point for code in codes for ring in shapes[code] for point in ring]
    if not points:
        return {}, 0.0
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((north + south) / 2))
    scale = (WIDTH - 2 * MARGIN) / max((east - west) * squeeze, 1e-9)
    paths = {}
    for code in codes:
        parts = []
        for ring in shapes[code]:
            drawn: list[str] = []
            for lon, lat in ring:
                point = (f"{_format(MARGIN + (lon - west) * squeeze * scale)},"
                         f"{_format(MARGIN + (north - lat) * scale)}")
                if not drawn or drawn[-1] != point:
                    drawn.append(point)
            if len(drawn) >= 3:
                parts.append("M" + " ".join(drawn) + "Z")
        paths[code] = "".join(parts)
    return paths, round(2 * MARGIN + (north - south) * scale, 1)


def drawn_departments(covered: Iterable[str], scope: Scope, rows: Iterable[str]) -> list[str]:
    """The covered departments, and any other with a published row, within the caller's area."""
    codes = set(covered) | {row[:2] for row in rows}
    if not scope.unrestricted:
        codes &= set(scope.departments or ()) | {m[:2] for m in scope.municipalities or ()}
    return sorted(codes, key=department_name)


def _in_scope(scope: Scope, code: str) -> bool:
    return scope.unrestricted or code in (scope.municipalities or ()) or (
        code[:2] in (scope.departments or ()))


def build_map(protected: Protected, *, covered: Iterable[str], scope: Scope) -> Choropleth:
    """The map of the protected table by municipality (`group_by=["municipality"]`)."""
    if protected.query.group_by != ("municipality",):
        raise ValueError("the map needs a table by municipality alone")
    published = protected.published
    cells = {row: published.cells[(row, ALL)] for row in published.rows}
    departments = drawn_departments(covered, scope, cells)
    country = Catalog.load(departments=None)
    municipalities = [m for d in departments for m in country.in_department(d)]
    shapes = boundaries()
    codes = [m.code for m in municipalities if m.code in shapes]
    paths, height = _paths(tuple(codes))
    classes = shade_classes(v for code, v in cells.items() if v and _in_scope(scope, code))
    areas = []
    for code in codes:
        value = cells.get(code, 0)
        if not _in_scope(scope, code):
            state, count, shade = "outside", None, None
        elif value is None:
            state, count, shade = "suppressed", None, None
        elif value == 0:
            state, count, shade = "zero", 0, None
        else:
            state, count, shade = "published", value, class_of(classes, value)
        fill = classes[shade].fill if shade is not None else {
            "zero": ZERO_FILL, "suppressed": HATCH, "outside": OUTSIDE_FILL}[state]
        areas.append(Area(code, municipality_name(code), department_name(code[:2]),
                          paths[code], state, count, shade, fill))
    return Choropleth(
        areas=tuple(areas), classes=classes, height=height,
        departments=tuple(department_name(d) for d in departments),
        without_boundary=tuple(m.code for m in municipalities if m.code not in shapes))


MARKED_FILL = "#d95f02"  # the municipality of a bulletin: orange among greys (ColorBrewer Dark2)
OTHER_FILL = "#dfe3ea"


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    path: str
    marked: bool

    @property
    def fill(self) -> str:
        return MARKED_FILL if self.marked else OTHER_FILL


@dataclass(frozen=True)
class Locator:
    """A department's municipalities with one marked: where a bulletin's municipality is.
    No number anywhere: only boundaries and names."""

    places: tuple[Place, ...]
    height: float
    department: str
    source: str = SOURCE
    width: float = WIDTH


def locator(code: str) -> Locator:
    """The map of `code`'s department with `code` marked (drawn last, on top)."""
    shapes = boundaries()
    country = Catalog.load(departments=None)
    codes = [m.code for m in country.in_department(code[:2]) if m.code in shapes]
    paths, height = _paths(tuple(codes))
    places = sorted((Place(c, municipality_name(c), paths[c], c == code) for c in codes),
                    key=lambda place: place.marked)
    return Locator(tuple(places), height, department_name(code[:2]))
