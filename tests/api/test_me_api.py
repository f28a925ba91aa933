"""A staff member's own password over the API, tried as someone holding a stolen session
would: guessing the current password is limited like a sign-in, on both databases."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from api.settings import Settings
from storage.passwords import MSG_OWN_WORDS
from storage.throttle import FREE_FAILURES
from tests.support.api import Headers
from tests.support.clock import START, hold_time
from tests.support.staff import PASSWORD


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    hold_time(app, START + timedelta(seconds=30))  # the limits count from 14:00
    return app


async def test_guessing_the_current_password_is_stopped(
    client: httpx.AsyncClient, tumaco: Headers
) -> None:
    wrong = {"current_password": "no es la actual", "new_password": "una clave nueva larga"}
    statuses = [(await client.post("/api/v1/me/password", headers=tumaco, json=wrong)).status_code
                for _ in range(FREE_FAILURES + 2)]
    assert statuses[:FREE_FAILURES] == [403] * FREE_FAILURES
    stopped = await client.post("/api/v1/me/password", headers=tumaco, json=wrong)
    assert statuses[FREE_FAILURES:] == [429, 429] and stopped.status_code == 429
    assert stopped.headers["Retry-After"] == "30"  # the wait ends a minute after 14:00
    assert stopped.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("weak", ["Colombia2026!", "contraseña123"])
async def test_a_guessable_new_password_is_refused_saying_why(
    client: httpx.AsyncClient, tumaco: Headers, weak: str
) -> None:
    refused = await client.post("/api/v1/me/password", headers=tumaco, json={
        "current_password": PASSWORD, "new_password": weak})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"].endswith("/weak-password") and body["detail"] == MSG_OWN_WORDS
    # Nothing changed: the old password still works.
    kept = await client.post("/api/v1/me/password", headers=tumaco, json={
        "current_password": PASSWORD, "new_password": "caballo batería grapa correcto"})
    assert kept.status_code == 204


def test_a_short_webhook_secret_is_refused_in_production() -> None:
    production = {"environment": "production", "telegram_bot_token": "123:real-token-here",
                  "webhook_url": "https://somos.example.org/telegram/webhook"}
    with pytest.raises(ValidationError, match="SOMOS_WEBHOOK_SECRET necesita al menos 32"):
        Settings(**production, webhook_secret="corto-pero-no-vacio")
    with pytest.raises(ValidationError, match="SOMOS_WEBHOOK_SECRET necesita al menos 32"):
        Settings(**production, webhook_secret="a" * 16 + "b" * 16)  # long, but not at random
    assert Settings(**production, webhook_secret="9f2c4e1ab37d58606d1e8b2a0c4f97e3").webhook_secret
