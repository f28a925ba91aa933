"""Errors as RFC 9457 problem details with stable `type` codes, their OpenAPI description,
and the app's one handler of HTTP exceptions (problem details, or a page for a browser)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://somos.invalid/problems/"
TITLES = {
    400: ("bad-request", "Solicitud inválida"),
    401: ("unauthorized", "Se requiere iniciar sesión"),
    403: ("forbidden", "No tiene permiso para esto"),
    404: ("not-found", "No encontrado"),
    405: ("method-not-allowed", "Método no permitido"),
    409: ("conflict", "Conflicto con el estado actual"),
    422: ("validation-error", "Datos inválidos"),
    429: ("too-many-requests", "Demasiados intentos"),
    503: ("unavailable", "Servicio no disponible"),
}


PROBLEM_MEDIA_TYPE = "application/problem+json"
# Headers some refusals carry, as the OpenAPI document describes them.
PROBLEM_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Cómo autenticarse: `Bearer`.", "required": True,
                               "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Segundos que faltan para poder intentar de nuevo.",
                          "required": True, "schema": {"type": "integer", "minimum": 0}}},
}


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Dónde está el dato: `body`, `query`… y el campo.")
    msg: str


class ProblemDetails(BaseModel):
    """The body of every API error (RFC 9457)."""

    type: str = Field(description="Código estable: " + PROBLEM_BASE + "….")
    title: str
    status: int
    detail: str = Field(description="Qué pasó y qué hacer, para una persona.")
    errors: list[FieldError] | None = Field(
        default=None, description="Solo con `validation-error`: cada dato rechazado.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can refuse with these statuses, all problem+json."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {
        status: {"description": TITLES[status][1],
                 "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
                 **({"headers": PROBLEM_HEADERS[status]} if status in PROBLEM_HEADERS else {})}
        for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Adds ProblemDetails to the OpenAPI components that `problem_responses` refers to.

    FastAPI registers only models a route returns as JSON; ours go out as problem+json.
    """
    generate = app.openapi
    _, definitions = models_json_schema([(ProblemDetails, "serialization")],
                                        ref_template="#/components/schemas/{model}")

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI builds it once and keeps it
        schema.setdefault("components", {}).setdefault("schemas", {}).update(
            definitions["$defs"])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class Problem(StarletteHTTPException):
    """An HTTP error with a stable problem code and a message a person can act on."""

    def __init__(self, status: int, detail: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.code = code


def problem_response(status: int, detail: Any, code: str | None = None,
                     headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    default_code, title = TITLES.get(status, ("error", "Error"))
    body = {"type": PROBLEM_BASE + (code or default_code), "title": title, "status": status,
            "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type=PROBLEM_MEDIA_TYPE)


# Triage refusals that are about the case as it stands (someone else took it, the status
# cannot move that way, no filing number is pending) are conflicts; a report outside the
# caller's queue is not found.
TRIAGE_STATUS = {"not-found": 404, "already-claimed": 409, "bad-transition": 409,
                 "assigned-to-other": 409, "no-pending-reference": 409, "not-claimed": 409,
                 "same-assignee": 409}


def triage_status(code: str) -> int:
    """The HTTP status of a `storage.triage.TriageError` code, for the API and the pages."""
    return TRIAGE_STATUS.get(code, 422)


def triage_problem(code: str, detail: str) -> Problem:
    """A `storage.triage.TriageError` (its code and message) as the API's problem."""
    return Problem(triage_status(code), detail, code=None if code == "not-found" else code)


def http_problem(exc: StarletteHTTPException) -> JSONResponse:
    """An HTTP exception as a problem; ours keep their code and detail."""
    if isinstance(exc, Problem):
        return problem_response(exc.status_code, exc.detail, exc.code, exc.headers)
    # The framework's own refusals ("Not Found", "Method Not Allowed", a broken multipart
    # body) are English; a person reads the Spanish title of the status instead.
    detail = TITLES.get(exc.status_code, ("error", str(exc.detail)))[1] + "."
    return problem_response(exc.status_code, detail, None, exc.headers)


# A page for a person's browser instead of problem details, or None (see api.web.errors).
PageFor = Callable[[Request, StarletteHTTPException], Response | None]


def install_problem_handlers(app: FastAPI, *, page_for: PageFor | None = None) -> None:
    """The app's one handler of HTTP exceptions, and the one of broken requests.

    Problem details, unless `page_for` answers the request with a page: a person's
    browser gets a page, API paths and clients not asking for HTML get problem+json.
    """

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        page = page_for(request, exc) if page_for is not None else None
        return page if page is not None else http_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_problem(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(error.get("loc", ())), "msg": error.get("msg", "")}
            for error in exc.errors()
        ]
        return problem_response(422, "Revise los datos enviados.", errors=errors)
