"""The bulletin's page (`/boletin/{code}`) and its PDF: the document of `api.bulletin` with
links to the PDF, another period and the other language; usable on a phone and in print."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.bulletin import BulletinError, file_name, prepare, readable, render_html, render_pdf
from api.deps import SessionDep, SettingsDep
from api.web.forms import PageUser, error_page
from api.web.render import locale_of
from api.web.security import WebSession
from flows.messages import N_

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebSession, Depends(PageUser("analyst", "admin", "focal_point"))]
MSG_OUTSIDE = N_("Ese municipio está fuera de su zona.")


async def _bulletin(request: Request, code: str, session: SessionDep, settings: SettingsDep,
                    current: WebSession) -> tuple[str, str] | Response:
    """The standalone or page HTML and the file name, or the page that says what to change."""
    locale = locale_of(request)
    try:
        made = await prepare(session, code=code, period=request.query_params.get("periodo"),
                             k=settings.suppression_k, locale=locale)
    except BulletinError as error:
        return error_page(request, current, str(error), 422)
    if not await readable(session, current.signed_in.user, made.code):
        return error_page(request, current, MSG_OUTSIDE, 403)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = None if request.url.path.endswith("/pdf") else {"here": here}
    return render_html(made, locale, page=page), file_name(made, locale, "pdf")


@router.get("/boletin/{code}")
async def bulletin_page(request: Request, code: str, session: SessionDep,
                        settings: SettingsDep, current: Reader) -> Response:
    made = await _bulletin(request, code, session, settings, current)
    if isinstance(made, Response):
        return made
    return Response(made[0], media_type="text/html; charset=utf-8")


@router.get("/boletin/{code}/pdf")
async def bulletin_pdf(request: Request, code: str, session: SessionDep,
                       settings: SettingsDep, current: Reader) -> Response:
    made = await _bulletin(request, code, session, settings, current)
    if isinstance(made, Response):
        return made
    html, name = made
    return Response(await run_in_threadpool(render_pdf, html), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
