"""The municipal bulletin over the API: HTML or PDF, the same document as `somos bulletin`.

Analysts and admins for every municipality, a focal point for their area's; every figure
is under the public profile (`api.bulletin`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.bulletin import BulletinError, file_name, prepare, readable, render_html, render_pdf
from api.deps import SessionDep, SettingsDep, require_roles
from api.problems import Problem, problem_responses
from storage.sessions import OpenSession

router = APIRouter(tags=["bulletins"])
Reader = Annotated[OpenSession, Depends(require_roles("analyst", "admin", "focal_point"))]
PDF = "application/pdf"


@router.get(
    "/api/v1/bulletins/{code}",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, PDF: {}},
                     "description": "El boletín: HTML con su hoja de estilo, o PDF."},
               **problem_responses(401, 403, 422)},
)
async def bulletin(
    code: str, session: SessionDep, settings: SettingsDep, current: Reader,
    period: Annotated[str | None, Query(
        max_length=16, description="Trimestre AAAA-Qn o mes AAAA-MM ya terminado; "
                                   "si falta, el último trimestre terminado.")] = None,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
    lang: Annotated[Literal["es", "en"], Query()] = "es",
) -> Response:
    """Boletín municipal para un consejo de seguridad: prioridades de la comunidad, tendencia
    de lo reportado, mapa, alertas y gestión de los puntos focales; cifras con el perfil
    público (ninguna entre 1 y k−1)."""
    try:
        made = await prepare(session, code=code, period=period, k=settings.suppression_k,
                             locale=lang)
    except BulletinError as error:
        raise Problem(422, str(error), code="bad-bulletin") from None
    if not await readable(session, current.user, made.code):
        raise Problem(403, "Ese municipio está fuera de su zona.", code="outside-area")
    html = render_html(made, lang)
    if format == "html":
        return Response(html, media_type="text/html; charset=utf-8")
    return Response(await run_in_threadpool(render_pdf, html), media_type=PDF, headers={
        "Content-Disposition": f'attachment; filename="{file_name(made, lang, "pdf")}"'})
