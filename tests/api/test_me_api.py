"""A staff member's own password over the API, tried as someone holding a stolen session
would: guessing the current password is limited like a sign-in, on both databases."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from api.auth import LOGIN_ATTEMPTS
from api.settings import Settings
from tests.support.api import Headers


async def test_guessing_the_current_password_is_stopped(
    client: httpx.AsyncClient, tumaco: Headers
) -> None:
    wrong = {"current_password": "no es la actual", "new_password": "una clave nueva larga"}
    statuses = [(await client.post("/api/v1/me/password", headers=tumaco, json=wrong)).status_code
                for _ in range(LOGIN_ATTEMPTS + 2)]
    assert statuses[:LOGIN_ATTEMPTS] == [403] * LOGIN_ATTEMPTS
    stopped = await client.post("/api/v1/me/password", headers=tumaco, json=wrong)
    assert statuses[LOGIN_ATTEMPTS:] == [429, 429] and stopped.status_code == 429
    assert stopped.headers["Retry-After"] == "900"
    assert stopped.headers["content-type"].startswith("application/problem+json")


def test_a_short_webhook_secret_is_refused_in_production() -> None:
    production = {"environment": "production", "telegram_bot_token": "123:real-token-here",
                  "webhook_url": "https://somos.example.org/telegram/webhook"}
    with pytest.raises(ValidationError, match="SOMOS_WEBHOOK_SECRET necesita al menos 32"):
        Settings(**production, webhook_secret="corto-pero-no-vacio")
    assert Settings(**production, webhook_secret="a" * 16 + "b" * 16).webhook_secret
