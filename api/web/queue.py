"""The focal point's queue (`/bandeja`): the reports routed to them, with filters and
pages, from the same `api.reports_view.queue_page` as `GET /api/v1/reports`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep
from api.labels import municipality_name
from api.reports_view import BadCursor, queue_page
from api.web import labels
from api.web.forms import Triager
from api.web.render import render
from api.web.security import WebSession
from flows.messages import N_
from flows.municipalities import Catalog
from storage.users import areas_of

router = APIRouter(include_in_schema=False)
QUEUE_FILTERS = ("estado", "urgencia", "tipo", "municipio", "vencidos")
PAGE_SIZE = 25
MSG_BAD_FILTER = N_("Un filtro no era válido y no se aplicó.")


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
async def queue_view(request: Request, session: SessionDep, current: Triager) -> Response:
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
    return render(request, "queue.html", {
        "current": current, "page": page, "warning": warning, "filters": kept,
        "municipalities": await _area_municipalities(session, current),
        "labels": labels, "first_page": not params.get("cursor"),
    })
