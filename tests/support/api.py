"""Talking to the app in-process over HTTP, as the API and page tests do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI

from tests.support.staff import Staff

API_URL = "http://somos.test"
PAGES_URL = "https://somos.test"

Headers = dict[str, str]
# The API tests' fixtures (tests/api/conftest.py): sign_in(username, role, **areas) and
# report(description, urgency).
SignIn = Callable[..., Awaitable[Headers]]
ReportFactory = Callable[..., Awaitable[str]]


def client_for(
    app: FastAPI, base_url: str = API_URL, peer: tuple[str, int] = ("127.0.0.1", 123)
) -> httpx.AsyncClient:
    """An httpx client calling `app` in-process from `peer`; its own cookies, as one person's
    browser. Use it in `async with`."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=peer),
                             base_url=base_url)


async def login(client: httpx.AsyncClient, staff: Staff) -> Headers:
    """Signs in over the API with a fresh code; the Authorization header for the token."""
    response = await client.post(
        "/api/v1/auth/token",
        data={"username": staff.username, "password": staff.password, "otp": staff.otp()},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    return {"Authorization": f"Bearer {body['access_token']}"}
