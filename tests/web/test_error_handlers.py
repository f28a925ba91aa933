"""One handler of HTTP exceptions for the whole app, chosen by the request: a person's
browser gets a page, the API and clients not asking for HTML get problem details."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.app import create_app
from api.settings import Settings

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def registered_http_handlers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """Every handler `create_app` registers for HTTP exceptions, in order."""
    registered: list[Any] = []
    add = FastAPI.add_exception_handler

    def counting(app: FastAPI, key: Any, handler: Any) -> None:
        if key is StarletteHTTPException:
            registered.append(handler)
        add(app, key, handler)

    monkeypatch.setattr(FastAPI, "add_exception_handler", counting)
    app = create_app(Settings(data_dir=tmp_path, fast_kdf=True))
    assert app.exception_handlers[StarletteHTTPException] is registered[-1]
    return registered


def test_the_app_registers_one_handler_of_http_exceptions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert len(registered_http_handlers(monkeypatch, tmp_path)) == 1


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # Unknown paths and wrong methods are refused before any route touches the database.
    app = create_app(Settings(data_dir=tmp_path, fast_kdf=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://somos.test") as client:
        yield client


async def test_the_one_handler_answers_each_client_in_its_own_terms(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no-existe", headers=PAGE)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Esta página no existe." in page.text
    wrong_method = await client.delete("/entrar", headers=PAGE)
    assert wrong_method.status_code == 405
    assert "Esta dirección no acepta esa acción." in wrong_method.text
    for path, headers in (("/api/v1/no-existe", PAGE), ("/no-existe", {})):
        problem = await client.get(path, headers=headers)
        assert problem.status_code == 404
        assert problem.headers["content-type"].startswith("application/problem+json")
        assert problem.json()["detail"] == "No encontrado."
