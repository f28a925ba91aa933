"""Protected aggregate tables: perturbed counts from storage, suppression before anything leaves.

Shared by the API, the exports, the web dashboard and the CLI so every output applies
the same rules: who counts what (`scope_of`), the protected table (`table_for`), the files;
only closed months, only sums of perturbed noise cells (`storage.cellkey`), then
small-cell suppression (`storage.disclosure`) at the profile's k.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from api.labels import (
    department_name,
    label_of,
    municipality_name,
    municipality_official_name,
)
from bot.i18n import translations
from flows.messages import N_
from storage.aggregates import DIMENSIONS, Query, Scope, count_reports, priority_rankings
from storage.cellkey import METHOD
from storage.disclosure import Published, Table, protect, protect_public
from storage.models import User, utcnow
from storage.users import areas_of

PUBLIC_K = 10
COARSE = ("month", "quarter", "year")
ALL = "total"


MSG_PERTURBED = N_(
    "Las cifras no son conteos exactos: cada conteo fino (municipio, tipo, categoría y mes) "
    "lleva un ruido de −2 a +2, con media cero, siempre el mismo para los mismos reportes, y "
    "cada cifra publicada suma esos conteos. Solo se publican meses terminados. Una tabla "
    "suma bien, pero dos consultas que se restan no dan un conteo exacto."
)


class AggregateError(ValueError):
    """A request that cannot be answered as asked; the message says what to change."""


def last_closed_month(now: datetime) -> str:
    """The newest month that has ended: a month is published only once it stops changing."""
    year, month = now.year, now.month - 1
    if month == 0:
        year, month = year - 1, 12
    return f"{year:04d}-{month:02d}"


def closed(query: Query, now: datetime) -> Query:
    """The query with its window ending at the last closed month."""
    last = last_closed_month(now)
    return replace(query, month_to=min(query.month_to or last, last))


def method(*, through: str, locale: str = "es") -> dict[str, Any]:
    """How published numbers were made, for the JSON echo."""
    return {**METHOD, "published_through": through, "suppression": "small-cell, at k",
            "description": translations(locale).gettext(MSG_PERTURBED)}


@dataclass(frozen=True)
class Protected:
    query: Query
    profile: str
    published: Published

    def as_json(self, locale: str = "es") -> dict[str, Any]:
        table = self.published
        return {
            "query": {"group_by": list(self.query.group_by), "from": self.query.month_from,
                      "to": self.query.month_to, "kind": self.query.kind},
            "profile": self.profile,
            "k": table.k,
            "method": method(through=self.query.month_to or "", locale=locale),
            "margins_from_published_only": table.margins_from_published_only,
            "rows": [{"code": r, "label": label(self.query.group_by[0], r, locale)}
                     for r in table.rows],
            "columns": [{"code": c, "label": label(self.column_dimension, c, locale)}
                        for c in table.columns],
            "cells": [
                {"row": r, "column": c, "count": table.cells[(r, c)],
                 "suppressed": table.cells[(r, c)] is None}
                for r in table.rows for c in table.columns
            ],
            "row_totals": dict(table.row_totals),
            "column_totals": dict(table.column_totals),
            "total": table.total,
        }

    @property
    def column_dimension(self) -> str:
        return self.query.group_by[1] if len(self.query.group_by) > 1 else ALL


def label(dimension: str, code: str, locale: str = "es") -> str:
    if dimension == "municipality":
        return municipality_name(code)
    if dimension == "department":
        return department_name(code)
    if dimension in ("kind", "category"):
        return label_of(code, locale)
    return code


def parse_group_by(raw: Sequence[str]) -> tuple[str, ...]:
    dims = tuple(d.strip() for part in raw for d in part.split(",") if d.strip())
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise AggregateError(
            f"Dimensión desconocida: {', '.join(unknown)}. Use: {', '.join(DIMENSIONS)}."
        )
    if not 1 <= len(dims) <= 2 or len(set(dims)) != len(dims):
        raise AggregateError("Agrupe por una o dos dimensiones distintas.")
    return dims


async def protected_table(
    *, session: AsyncSession, query: Query, k: int, profile: str,
    now: datetime | None = None,
) -> Protected:
    """The query's table of perturbed counts over closed months, suppressed at the profile's k.

    Every number is a sum of perturbed noise cells, so no set of queries can be
    subtracted down to a true count; a row or column appears only where a perturbed
    count is not 0, so not even the labels depend on anything but the perturbed values.
    """
    query = closed(query, now or utcnow())
    return published(query, profile, k, await count_reports(
        session=session, query=query, perturbed=True))


def published(query: Query, profile: str, k: int, counts: dict[tuple[str, ...], int],
              ) -> Protected:
    """The second half of `protected_table`: the perturbed `counts` of a closed `query` as a
    table, suppressed at the profile's k (the public one's at least `PUBLIC_K`)."""
    if profile == "public":
        # Rollups are monthly, so every period here is already a month or coarser.
        k = max(k, PUBLIC_K)
    counts = {key: value for key, value in counts.items() if value}
    rows = tuple(sorted({key[0] for key in counts}))
    if len(query.group_by) == 2:
        columns = tuple(sorted({key[1] for key in counts}))
        cells = {(key[0], key[1]): value for key, value in counts.items()}
    else:
        columns = (ALL,)
        cells = {(key[0], ALL): value for key, value in counts.items()}
    table = Table(rows=rows, columns=columns, counts=cells)
    protected = protect_public(table, k=k) if profile == "public" else protect(table, k=k)
    return Protected(query, profile, protected)


async def scope_of(session: AsyncSession, user: User) -> Scope:
    """Analysts and admins count everything; a focal point only their own area."""
    if user.role in ("analyst", "admin"):
        return Scope()
    areas = await areas_of(session=session, user_id=user.id)
    return Scope(
        departments=frozenset(a.department_code for a in areas if a.department_code),
        municipalities=frozenset(a.municipality_code for a in areas if a.municipality_code),
    )


async def table_for(
    *, session: AsyncSession, user: User, k: int, group_by: Sequence[str],
    month_from: str | None, month_to: str | None, kind: str | None, profile: str,
) -> Protected:
    """The table a staff member asked for, in their scope: the API, its exports and the web
    dashboard publish the same numbers. AggregateError for a grouping that does not exist."""
    query = Query(group_by=parse_group_by(group_by), month_from=month_from, month_to=month_to,
                  kind=kind, scope=await scope_of(session, user))
    return await protected_table(session=session, query=query, k=k, profile=profile)


async def protected_priorities(
    *, session: AsyncSession, scope: Scope, k: int, month_from: str | None = None,
    month_to: str | None = None, locale: str = "es", now: datetime | None = None,
    by: str = "municipality",
) -> list[dict[str, Any]]:
    """Ranked concerns per municipality (or per department, `by="department"`), from the
    perturbed rankings of closed months; below k (perturbed) respondents only the
    suppression shows."""
    last = last_closed_month(now or utcnow())
    result = []
    for ranking in await priority_rankings(session=session, month_from=month_from,
                                           month_to=min(month_to or last, last), scope=scope,
                                           perturbed=True, by=by):
        hidden = ranking.respondents < k
        code = ranking.municipality_code
        place = ({"municipality_code": code, "municipality": municipality_name(code)}
                 if by == "municipality" else
                 {"department_code": code, "department": department_name(code)})
        result.append({
            **place,
            "respondents": None if hidden else ranking.respondents,
            "suppressed": hidden,
            "concerns": [] if hidden else [
                {"code": concern, "label": label_of(concern, locale), "points": points,
                 "rank": position}
                for position, (concern, points) in enumerate(ranking.concerns, 1)
            ],
        })
    return result


# The HXL hashtag of every column an export can have (https://hxlstandard.org/). Every
# file of every grouping passes libhxl's built-in validation (tests/api/test_hxl_exports.py):
# places are DIVIPOLA codes and plain official names (the department has its own column),
# periods are dates libhxl reads ("2024-10", "2024Q4", "2024").
HXL_TAGS = {
    "department_code": "#adm1+code", "department": "#adm1+name",
    "municipality_code": "#adm2+code", "municipality": "#adm2+name",
    "kind_code": "#event+type+code", "kind": "#event+type+name",
    "category_code": "#event+category+code", "category": "#event+category+name",
    "month": "#date+month", "quarter": "#date+quarter", "year": "#date+year",
    "count": "#indicator+reports+num", "suppressed": "#meta+suppressed",
}
# Column names of a file: English identifiers, or Spanish ones with `lang=es`.
HEADERS = {
    "en": {},
    "es": {
        "department_code": "código_departamento", "department": "departamento",
        "municipality_code": "código_municipio", "municipality": "municipio",
        "kind_code": "código_tipo", "kind": "tipo",
        "category_code": "código_categoría", "category": "categoría",
        "month": "mes", "quarter": "trimestre", "year": "año",
        "count": "conteo", "suppressed": "suprimido",
    },
}
# How a file writes "suppressed" (English files as they always have).
YES_NO = {"en": ("True", "False"), "es": ("sí", "no")}


def long_fields(group_by: Sequence[str]) -> list[str]:
    """The columns of `long_rows`, also for a table with no rows (a file keeps its header)."""
    fields: list[str] = []
    for dimension in group_by:
        if dimension == "municipality":
            fields += ["department_code", "department"]
        fields.append(f"{dimension}_code" if dimension not in COARSE else dimension)
        if dimension not in COARSE:
            fields.append(dimension)
    return [*fields, "count", "suppressed"]


def file_period(dimension: str, code: str) -> str:
    """A period as files write it: a quarter "2024-Q4" as "2024Q4", the quarter form HXL's
    date type reads (libhxl); months ("2024-10") and years are ISO 8601 already."""
    return code.replace("-Q", "Q") if dimension == "quarter" else code


def file_label(dimension: str, code: str, locale: str) -> str:
    """A code's name in a file: a municipality by its plain official name (its department
    has a column of its own), not the "Tumaco (Nariño)" the pages show."""
    if dimension == "municipality":
        return municipality_official_name(code)
    return label(dimension, code, locale)


def long_rows(protected: Protected, locale: str) -> list[list[Any]]:
    """One row per published cell in `long_fields` order, with codes and names (5-digit
    DIVIPOLA for municipalities); the count is None where suppressed."""
    first, second = protected.query.group_by[0], protected.column_dimension
    # A row's or a column's fields are the same in each of its cells: named once each (a
    # municipality × category export has a cell per pair, its names a few hundred).
    named: dict[tuple[str, str], tuple[Any, ...]] = {(ALL, ALL): ()}  # one dimension: no column

    def fields(dimension: str, code: str) -> tuple[Any, ...]:
        found = named.get((dimension, code))
        if found is None:
            place = (code[:2], department_name(code[:2])) if dimension == "municipality" else ()
            found = named[(dimension, code)] = (
                (*place, file_period(dimension, code)) if dimension in COARSE
                else (*place, code, file_label(dimension, code, locale)))
        return found

    return [[*fields(first, row), *fields(second, column), value, value is None]
            for (row, column), value in protected.published.cells.items()]


def to_csv(protected: Protected, *, locale: str = "en", hxl: bool = False) -> str:
    """The long table as CSV: a header row (English or, with `locale="es"`, Spanish names),
    the HXL hashtag row when asked, then one row per cell (a suppressed count is empty)."""
    locale = "es" if locale == "es" else "en"
    fields = long_fields(protected.query.group_by)
    yes, no = YES_NO[locale]
    out = io.StringIO()
    writer = csv.writer(out)
    names = HEADERS[locale]
    writer.writerow([names.get(f, f) for f in fields])
    if hxl:
        writer.writerow([HXL_TAGS[f] for f in fields])
    rows = long_rows(protected, locale)
    for row in rows:  # csv writes None as an empty field: a suppressed count
        row[-1] = yes if row[-1] else no
    writer.writerows(rows)
    return out.getvalue()


def to_json(protected: Protected, locale: str = "es") -> str:
    # Compact, so the json module's C encoder writes it (an indented file goes through its
    # Python encoder, four times slower for a municipality × category export).
    return json.dumps(protected.as_json(locale), ensure_ascii=False, separators=(",", ":"),
                      default=str)


def export_response(protected: Protected, *, format: str, lang: str) -> Response:
    """A file that is safe to share: JSON (query and k echoed), or CSV (HXL-tagged too)."""
    name = f"somos-agregados-{protected.profile}"
    if format == "json":
        return Response(to_json(protected), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    body = to_csv(protected, locale=lang, hxl=format == "hxl")
    suffix = "hxl.csv" if format == "hxl" else "csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.{suffix}"'})
