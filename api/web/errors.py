"""How errors look to a person: the web's own exceptions (sign in first, enroll the second
factor first, not for your role, a stale form) and the page for an HTTP error.

`http_error_page` is not a handler of its own: `api.problems.install_problem_handlers`
registers the app's one handler of HTTP exceptions and asks it whether the request gets
a page; API paths and clients not asking for HTML get problem details.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web.forms import error_page, redirect
from api.web.security import (
    API_PREFIXES,
    SESSION_COOKIE,
    CsrfRefused,
    EnrollmentRequired,
    LoginRequired,
    PageForbidden,
)
from flows.messages import N_

MSG_PAGE_FAILED = N_("No se pudo mostrar esta página. Intente de nuevo en un momento.")
MSG_NOT_FOR_ROLE = N_("Esta página no es para su rol. Vuelva al inicio.")
MSG_STALE_FORM = N_("El formulario venció o no vino de esta página. "
                    "Vuelva a cargar la página e intente de nuevo.")
PAGE_ERRORS = {
    404: N_("Esta página no existe. Revise la dirección o vuelva al inicio."),
    405: N_("Esta dirección no acepta esa acción. Vuelva al inicio."),
}


def wants_page(request: Request) -> bool:
    """A person's browser on a page path (not the API, its documents, or a probe)."""
    return not request.url.path.startswith(API_PREFIXES) and \
        "text/html" in request.headers.get("accept", "")


def http_error_page(request: Request, exc: StarletteHTTPException) -> Response | None:
    """The page for an HTTP error a browser gets; None when the request wants problem
    details instead."""
    if not wants_page(request):
        return None
    message = PAGE_ERRORS.get(exc.status_code, MSG_PAGE_FAILED)
    return error_page(request, getattr(request.state, "web", None), message, exc.status_code)


def install_page_errors(app: FastAPI) -> None:
    """The web's own exceptions: redirects to sign in, or a page that says why."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = "/entrar"
        if exc.next_path not in ("/", ""):
            target += f"?siguiente={quote(exc.next_path)}"
        response = redirect(target)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(EnrollmentRequired)
    async def _enroll(request: Request, exc: EnrollmentRequired) -> Response:
        return redirect("/verificacion")

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return error_page(request, getattr(request.state, "web", None), MSG_NOT_FOR_ROLE, 403)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return error_page(request, getattr(request.state, "web", None), MSG_STALE_FORM, 403)
