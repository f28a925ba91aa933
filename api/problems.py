"""Errors as RFC 9457 problem details with stable `type` codes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


class Problem(StarletteHTTPException):
    """An HTTP error with a stable problem code and a message a person can act on."""

    def __init__(self, status: int, detail: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.code = code


def problem_response(status: int, detail: Any, code: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    default_code, title = TITLES.get(status, ("error", "Error"))
    body = {"type": PROBLEM_BASE + (code or default_code), "title": title, "status": status,
            "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type="application/problem+json")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_problem(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = exc.code if isinstance(exc, Problem) else None
        return problem_response(exc.status_code, exc.detail, code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_problem(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(error.get("loc", ())), "msg": error.get("msg", "")}
            for error in exc.errors()
        ]
        return problem_response(422, "Revise los datos enviados.", errors=errors)
