"""Admin pages for the local emergency lines the bot shows (`/admin/lineas`), by
municipality: the list, a new line and removing one; each change audited."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep
from api.web.admin import Notice, valid_municipality
from api.web.forms import Admin, done_notice, read_form, redirect
from api.web.render import render
from api.web.security import WebSession
from flows.messages import N_
from storage.audit import append_audit
from storage.lines import add_line, lines_for, municipalities_with_lines, remove_line

router = APIRouter(include_in_schema=False)
MSG_LINE_FIELDS = N_("Escriba el nombre (hasta 120 caracteres) y el número (hasta 40) de la "
                     "línea.")
MSG_CHOOSE_MUNICIPALITY = N_("Elija primero el municipio.")
MSG_NO_LINE = N_("Esa línea ya no existe.")
DONE = {
    "linea": N_("La línea quedó guardada. El bot ya la muestra."),
    "linea-borrada": N_("La línea quedó borrada."),
}


async def _lines_page(request: Request, session: AsyncSession, current: WebSession,
                      code: str, *, errors: Sequence[Notice] = (),
                      entered: dict[str, str] | None = None, status_code: int = 200) -> Response:
    problem = valid_municipality(request, code) if code else None
    chosen = code if code and problem is None else None
    return render(request, "admin_lines.html", {
        "current": current, "code": code, "chosen": chosen,
        "lines": await lines_for(session=session, municipality_code=chosen) if chosen else [],
        "with_lines": await municipalities_with_lines(session=session),
        "errors": [*errors, *([problem] if problem else [])], "entered": entered or {},
        "done": done_notice(request, DONE),
    }, status_code=422 if problem else status_code)


@router.get("/admin/lineas")
async def lines_page(request: Request, session: SessionDep, current: Admin) -> Response:
    return await _lines_page(request, session, current,
                             request.query_params.get("municipio", "").strip())


@router.post("/admin/lineas")
async def add_line_page(request: Request, session: SessionDep, current: Admin) -> Response:
    form = await read_form(request, current)
    code = form.get("municipio", "")
    name, number = form.get("name", ""), form.get("number", "")
    if not code:
        return await _lines_page(request, session, current, code,
                                 errors=[Notice(MSG_CHOOSE_MUNICIPALITY)], status_code=422)
    if valid_municipality(request, code) is not None:
        return await _lines_page(request, session, current, code, status_code=422)
    if not name or not number or len(name) > 120 or len(number) > 40:
        return await _lines_page(request, session, current, code, entered=form,
                                 errors=[Notice(MSG_LINE_FIELDS)], status_code=422)
    line = await add_line(session=session, municipality_code=code, name=name, number=number)
    await append_audit(session=session, actor=current.signed_in.user.id, action="lines.line_added",
                       detail={"line": line.id, "municipality": code})
    return redirect(f"/admin/lineas?municipio={code}&hecho=linea")


@router.post("/admin/lineas/{line_id}/borrar")
async def remove_line_page(request: Request, line_id: str, session: SessionDep,
                           current: Admin) -> Response:
    form = await read_form(request, current)
    line = await remove_line(session=session, line_id=line_id)
    if line is None:
        return await _lines_page(request, session, current, form.get("municipio", ""),
                                 errors=[Notice(MSG_NO_LINE)], status_code=404)
    await append_audit(session=session, actor=current.signed_in.user.id,
                       action="lines.line_removed",
                       detail={"line": line_id, "municipality": line.municipality_code})
    return redirect(f"/admin/lineas?municipio={line.municipality_code}&hecho=linea-borrada")
