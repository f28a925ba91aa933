"""The analyst's dashboard: charts and tables from the same protected aggregates as the API.

Every number comes from `api.aggregates` (`table_for`, `protected_priorities` in the
caller's scope), as the API's do, so perturbation and suppression are identical to the
API and the exports; a suppressed cell has no bar and shows a dash, and the page says
that the numbers are perturbed and cover closed months only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from api.aggregates import (
    ALL,
    AggregateError,
    Protected,
    export_response,
    protected_priorities,
    scope_of,
    table_for,
)
from api.aggregates import label as dimension_label
from api.deps import SessionDep, SettingsDep
from api.web import labels
from api.web.forms import PageUser, error_page
from api.web.render import locale_of, render
from api.web.security import WebSession
from bot.i18n import translations
from flows.messages import N_

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebSession, Depends(PageUser("analyst", "admin", "focal_point"))]
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
KINDS = ("threat", "stigma", "priority")
TOP_MUNICIPALITIES = 15
MSG_BAD_MONTH = N_("Las fechas van como año y mes (por ejemplo 2026-03). No se aplicaron.")
# Chart geometry (SVG user units; the SVG scales to the page width).
LABEL_WIDTH = 190
BAR_SPACE = 330
ROW_HEIGHT = 24


@dataclass(frozen=True)
class Segment:
    code: str
    value: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    code: str
    label: str
    value: int | None  # None: suppressed
    segments: tuple[Segment, ...]
    y: int


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    height: int
    label_width: int = LABEL_WIDTH
    value_x: int = LABEL_WIDTH + BAR_SPACE + 8


def chart(rows: list[tuple[str, str, int | None, list[tuple[str, int]]]]) -> Chart:
    """Horizontal bars (stacked when a row has several parts), scaled to the largest."""
    largest = max((sum(v for _, v in parts) for *_, parts in rows), default=0) or 1
    bars = []
    for index, (code, name, value, parts) in enumerate(rows):
        x = float(LABEL_WIDTH)
        segments = []
        for part, amount in parts:
            width = BAR_SPACE * amount / largest
            segments.append(Segment(part, amount, round(x, 1), round(width, 1)))
            x += width
        bars.append(Bar(code, name, value, tuple(segments), index * ROW_HEIGHT))
    return Chart(tuple(bars), max(len(bars), 1) * ROW_HEIGHT)


def single(protected: Protected, locale: str, *, top: int | None = None,
           by_value: bool = True) -> Chart:
    """One bar per row of a one-dimension table; suppressed rows last, without a bar."""
    dimension = protected.query.group_by[0]
    cells = protected.published.cells
    rows = [(r, dimension_label(dimension, r, locale), cells[(r, ALL)])
            for r in protected.published.rows]
    if by_value:
        rows.sort(key=lambda row: (row[2] is None, -(row[2] or 0), row[1]))
    if top:  # a "top" list names only published counts
        rows = [row for row in rows if row[2] is not None][:top]
    return chart([(code, name, value, [(code, value)] if value else [])
                  for code, name, value in rows])


def by_month_and_kind(protected: Protected) -> Chart:
    published = protected.published
    rows = []
    for month in published.rows:
        parts = [(kind, published.cells[(month, kind)] or 0) for kind in published.columns
                 if published.cells.get((month, kind))]
        rows.append((month, month, published.row_totals.get(month), parts))
    return chart(rows)


async def _protected(current: WebSession, session: SessionDep, settings: SettingsDep,
                     group_by: list[str], filters: dict[str, Any]) -> Protected:
    return await table_for(
        session=session, user=current.signed_in.user, k=settings.suppression_k,
        group_by=group_by, month_from=filters["from"], month_to=filters["to"],
        kind=filters["kind"], profile="analyst",
    )


def read_filters(request: Request) -> tuple[dict[str, Any], str | None]:
    params = request.query_params
    warning = None
    months = {}
    for name in ("desde", "hasta"):
        value = params.get(name, "").strip()
        if value and not MONTH.match(value):
            warning, value = MSG_BAD_MONTH, ""
        months[name] = value or None
    kind = params.get("tipo") if params.get("tipo") in KINDS else None
    return {"from": months["desde"], "to": months["hasta"], "kind": kind}, warning


@router.get("/panel")
async def dashboard(request: Request, session: SessionDep, settings: SettingsDep,
                    current: Reader) -> Response:
    filters, warning = read_filters(request)
    locale = locale_of(request)
    monthly = await _protected(current, session, settings, ["month", "kind"], filters)
    departments = await _protected(current, session, settings, ["department"], filters)
    municipalities = await _protected(current, session, settings, ["municipality"], filters)
    categories = await _protected(current, session, settings, ["category"], filters)
    priorities = await protected_priorities(
        session=session, scope=await scope_of(session, current.signed_in.user),
        k=settings.suppression_k, month_from=filters["from"], month_to=filters["to"])
    shown = [item for item in priorities if not item["suppressed"]]
    kept = {"desde": filters["from"] or "", "hasta": filters["to"] or "",
            "tipo": filters["kind"] or ""}
    return render(request, "dashboard.html", {
        "current": current, "warning": warning, "filters": kept, "labels": labels,
        "k": settings.suppression_k, "kinds": KINDS, "through": monthly.query.month_to,
        "monthly": monthly, "monthly_chart": by_month_and_kind(monthly),
        "departments": departments, "departments_chart": single(departments, locale),
        "municipalities": municipalities,
        "municipalities_chart": single(municipalities, locale, top=TOP_MUNICIPALITIES),
        "categories": categories, "categories_chart": single(categories, locale),
        "priorities": shown, "priorities_hidden": len(priorities) - len(shown),
        "query": {key: value for key, value in kept.items() if value},
        "dim_label": lambda dimension, code: (
            translations(locale).gettext(labels.KIND[code]) if dimension == "kind"
            and code in labels.KIND else dimension_label(dimension, code, locale)),
    })


@router.get("/panel/exportar")
async def export(request: Request, session: SessionDep, settings: SettingsDep,
                 current: Reader) -> Response:
    """The same files as the API export (municipality × category), with the page's filters."""
    filters, _warning = read_filters(request)
    params = request.query_params
    fmt = params.get("formato", "csv")
    profile = params.get("perfil", "analyst")
    if fmt not in ("csv", "json", "hxl") or profile not in ("analyst", "public"):
        return error_page(request, current, N_("Ese formato de descarga no existe."), 422)
    try:
        protected = await table_for(
            session=session, user=current.signed_in.user, k=settings.suppression_k,
            group_by=["municipality", "category"], month_from=filters["from"],
            month_to=filters["to"], kind=filters["kind"], profile=profile,
        )
    except AggregateError as error:
        return error_page(request, current, str(error), 422)
    return export_response(protected, format=fmt,
                           lang="es" if locale_of(request) == "es" else "en")
