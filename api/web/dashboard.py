"""The analyst's dashboard: charts, a map and tables from the same protected aggregates as the API.

Every number comes from `api.aggregates` (`table_for`, `protected_priorities` in the
caller's scope), as the API's do, so perturbation and suppression are identical to the
API and the exports. A suppressed figure is drawn hatched and shows a dash (never dropped:
`api.web.charts`), the map hatches suppressed municipalities (`api.web.choropleth`), and
the page says that the numbers are perturbed and cover closed months only.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from api.aggregates import (
    AggregateError,
    Protected,
    export_response,
    protected_priorities,
    scope_of,
    table_for,
)
from api.aggregates import label as dimension_label
from api.alerts_view import figures, sentence
from api.deps import SessionDep, SettingsDep, StoreDep
from api.web import labels
from api.web.charts import single, stacked
from api.web.choropleth import Choropleth, build_map
from api.web.forms import PageUser, error_page
from api.web.render import environment, locale_of, render
from api.web.security import WebSession
from bot.i18n import translations
from flows.messages import N_
from storage.alerts import alerts_for

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebSession, Depends(PageUser("analyst", "admin", "focal_point"))]
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
KINDS = ("threat", "stigma", "priority")
TOP_MUNICIPALITIES = 15
# An analyst's early warnings (focal points and admins read theirs on /bandeja).
ALERTS_SHOWN = 10
MSG_BAD_MONTH = N_("Las fechas van como año y mes (por ejemplo 2026-03). No se aplicaron.")
# «Categorías» by kind: a threat's category, a stigmatization's author, a community's first
# concern are different questions, so they are never ranked together.
CATEGORY_HEADINGS = {
    "threat": N_("Amenazas: qué pasó"),
    "stigma": N_("Estigmatización: quién estigmatizó"),
    "priority": N_("Prioridades: la primera preocupación"),
}


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


def category_sections(categories: Protected, locale: str) -> list[dict[str, Any]]:
    """The category table cut by kind (a code's prefix), one chart and table per kind."""
    sections = []
    for kind in KINDS:
        rows = tuple(r for r in categories.published.rows if r.split(".", 1)[0] == kind)
        if rows:
            sections.append({"kind": kind, "heading": CATEGORY_HEADINGS[kind], "rows": rows,
                             "chart": single(categories, locale, rows=rows)})
    return sections


async def _map(current: WebSession, session: SessionDep, settings: SettingsDep,
               municipalities: Protected) -> Choropleth:
    return build_map(municipalities, covered=settings.covered_departments,
                     scope=await scope_of(session, current.signed_in.user))


def _map_titles(filters: dict[str, Any], through: str | None, locale: str) -> tuple[str, str]:
    """The map's title and the line that says what it counts (kind and months)."""
    gettext = translations(locale).gettext
    kind = gettext(labels.KIND[filters["kind"]]) if filters["kind"] else gettext("Todos los tipos")
    if filters["from"]:
        period = gettext("de %(first)s a %(last)s") % {"first": filters["from"],
                                                       "last": through or ""}
    else:
        period = gettext("hasta %(last)s") % {"last": through or ""}
    return gettext("Reportes por municipio"), f"{kind}, {period}"


@router.get("/panel")
async def dashboard(request: Request, session: SessionDep, settings: SettingsDep,
                    store: StoreDep, current: Reader) -> Response:
    filters, warning = read_filters(request)
    locale = locale_of(request)
    user = current.signed_in.user
    alerts = [(view, sentence(view, locale), figures(view, locale)) for view in await alerts_for(
        session=session, keyring=store.keyring, user=user, k=settings.suppression_k,
        limit=ALERTS_SHOWN)] if user.role == "analyst" else []
    monthly = await _protected(current, session, settings, ["month", "kind"], filters)
    departments = await _protected(current, session, settings, ["department"], filters)
    municipalities = await _protected(current, session, settings, ["municipality"], filters)
    categories = await _protected(current, session, settings, ["category"], filters)
    scope = await scope_of(session, current.signed_in.user)
    with_priorities = filters["kind"] in (None, "priority")
    priorities: list[dict[str, Any]] = []
    by_department: list[dict[str, Any]] = []
    if with_priorities:
        priorities = await protected_priorities(
            session=session, scope=scope, k=settings.suppression_k,
            month_from=filters["from"], month_to=filters["to"], locale=locale)
        by_department = await protected_priorities(
            session=session, scope=scope, k=settings.suppression_k,
            month_from=filters["from"], month_to=filters["to"], locale=locale,
            by="department")
    shown = [item for item in priorities if not item["suppressed"]]
    # Departments speak for their municipalities below k: those with a hidden municipality.
    hidden_in = {item["municipality_code"][:2] for item in priorities if item["suppressed"]}
    departments_shown = [item for item in by_department
                         if item["department_code"] in hidden_in and not item["suppressed"]]
    departments_hidden = [item for item in by_department
                          if item["department_code"] in hidden_in and item["suppressed"]]
    kept = {"desde": filters["from"] or "", "hasta": filters["to"] or "",
            "tipo": filters["kind"] or ""}
    map_title, map_subtitle = _map_titles(filters, municipalities.query.month_to, locale)
    return render(request, "dashboard.html", {
        "current": current, "warning": warning, "filters": kept, "labels": labels,
        "alerts": alerts,
        "k": settings.suppression_k, "kinds": KINDS, "through": monthly.query.month_to,
        "monthly": monthly, "monthly_chart": stacked(monthly),
        "departments": departments, "departments_chart": single(departments, locale),
        "municipalities": municipalities,
        "municipalities_chart": single(municipalities, locale, top=TOP_MUNICIPALITIES),
        "map": await _map(current, session, settings, municipalities),
        "map_title": map_title, "map_subtitle": map_subtitle,
        "categories": categories, "category_sections": category_sections(categories, locale),
        "with_priorities": with_priorities,
        "priorities": shown, "priorities_hidden": len(priorities) - len(shown),
        "priority_departments": departments_shown,
        "priority_departments_hidden": departments_hidden,
        "query": {key: value for key, value in kept.items() if value},
        "dim_label": lambda dimension, code: (
            translations(locale).gettext(labels.KIND[code]) if dimension == "kind"
            and code in labels.KIND else dimension_label(dimension, code, locale)),
    })


@router.get("/panel/mapa.svg")
async def map_file(request: Request, session: SessionDep, settings: SettingsDep,
                   current: Reader) -> Response:
    """The page's map as a file, legend and source included, with the page's filters."""
    filters, _warning = read_filters(request)
    locale = locale_of(request)
    municipalities = await _protected(current, session, settings, ["municipality"], filters)
    title, subtitle = _map_titles(filters, municipalities.query.month_to, locale)
    drawn = await _map(current, session, settings, municipalities)
    body = environment(locale).get_template("_map.html").render(
        map=drawn, standalone=True, title=title, subtitle=subtitle)
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body,
                    media_type="image/svg+xml",
                    headers={"Content-Disposition": 'attachment; filename="somos-mapa.svg"'})


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
