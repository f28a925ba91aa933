"""The focal point's queue (`/bandeja`): the reports routed to them, with filters and
pages, from the same `api.reports_view.queue_page` as `GET /api/v1/reports`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.alerts_view import figures, sentence
from api.deps import SessionDep, SettingsDep, StoreDep
from api.labels import municipality_name
from api.reports_view import BadCursor, queue_page
from api.web import labels
from api.web.forms import Triager, done_notice, error_page, read_form, redirect
from api.web.render import locale_of, render
from api.web.security import WebSession
from flows.messages import N_
from flows.municipalities import Catalog
from storage.alerts import AlertError, acknowledge, alerts_for
from storage.users import areas_of

router = APIRouter(include_in_schema=False)
QUEUE_FILTERS = ("estado", "urgencia", "tipo", "municipio", "vencidos")
PAGE_SIZE = 25
MSG_BAD_FILTER = N_("Un filtro no era válido y no se aplicó.")
MSG_ACKNOWLEDGED = N_("La alerta quedó marcada como atendida.")
MSG_NO_ALERT = N_("No existe esa alerta.")
MSG_ALREADY = N_("Esta alerta ya fue atendida.")
# Alerts shown above the cases: the newest of the person's areas.
ALERTS_SHOWN = 10


async def _area_municipalities(session: AsyncSession, current: WebSession) -> list[tuple[str, str]]:
    """The municipalities a focal point may filter by: those of their areas."""
    areas = await areas_of(session=session, user_id=current.signed_in.user.id)
    catalog = Catalog.load(departments=None)
    codes: set[str] = {a.municipality_code for a in areas if a.municipality_code}
    for area in areas:
        if area.department_code:
            codes.update(m.code for m in catalog.in_department(area.department_code))
    return sorted(((code, municipality_name(code)) for code in codes), key=lambda p: p[1])


@router.get("/bandeja")
async def queue_view(request: Request, session: SessionDep, store: StoreDep,
                     settings: SettingsDep, current: Triager) -> Response:
    params = request.query_params
    status = params.get("estado") or None
    urgency = params.get("urgencia") or None
    kind = params.get("tipo") or None
    municipality = params.get("municipio") or None
    overdue = True if params.get("vencidos") == "1" else None
    warning = None
    if (status and status not in labels.STATUS) or (urgency and urgency not in labels.URGENCY) \
            or (kind and kind not in labels.KIND) \
            or (municipality and not (municipality.isdigit() and len(municipality) == 5)):
        status = urgency = kind = municipality = None
        warning = MSG_BAD_FILTER
    user_id = current.signed_in.user.id
    try:
        page = await queue_page(
            session=session, user_id=user_id, now=datetime.now(UTC), status=status,
            urgency=urgency, kind=kind, municipality=municipality, overdue=overdue,
            cursor=params.get("cursor") or None, limit=PAGE_SIZE,
        )
    except BadCursor:
        page = await queue_page(
            session=session, user_id=user_id, now=datetime.now(UTC), status=status,
            urgency=urgency, kind=kind, municipality=municipality, overdue=overdue,
            limit=PAGE_SIZE,
        )
        warning = MSG_BAD_FILTER
    kept = {key: params[key] for key in QUEUE_FILTERS if params.get(key)}
    locale = locale_of(request)
    alerts = [(view, sentence(view, locale), figures(view, locale)) for view in await alerts_for(
        session=session, keyring=store.keyring, user=current.signed_in.user,
        k=settings.suppression_k, limit=ALERTS_SHOWN)]
    return render(request, "queue.html", {
        "alerts": alerts, "notice": done_notice(request, {"alerta": MSG_ACKNOWLEDGED}),
        "current": current, "page": page, "warning": warning, "filters": kept,
        "municipalities": await _area_municipalities(session, current),
        "labels": labels, "first_page": not params.get("cursor"),
    })


@router.post("/alertas/{alert_id}/atender")
async def acknowledge_view(request: Request, alert_id: str, session: SessionDep,
                           store: StoreDep, settings: SettingsDep,
                           current: Triager) -> Response:
    """Marks an alert of the person's area as seen, with the note typed (sealed)."""
    form = await read_form(request, current)
    try:
        await acknowledge(session=session, keyring=store.keyring, user=current.signed_in.user,
                          alert_id=alert_id, note=form.get("note", ""), now=datetime.now(UTC),
                          k=settings.suppression_k)
    except AlertError as error:
        if error.code == "acknowledged":
            return error_page(request, current, MSG_ALREADY, 409)
        return error_page(request, current, MSG_NO_ALERT, 404)
    return redirect("/bandeja?hecho=alerta")
