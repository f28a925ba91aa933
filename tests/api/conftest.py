"""The app, its HTTP client, signed-in roles and reports, for the API tests.

A module changes the app by overriding `settings` or `app`; every fixture here works on
the test's own store (a fresh database, SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from storage.store import Store
from tests.support.api import Headers, ReportFactory, SignIn, client_for, login
from tests.support.places import TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import add_staff


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, fast_kdf=True, require_totp=True)


@pytest.fixture
def app(store: Store, settings: Settings) -> FastAPI:
    return create_app(settings, store=store)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.fixture
def sign_in(client: httpx.AsyncClient, store: Store) -> SignIn:
    """`await sign_in(username, role, municipalities=..., departments=...)`: a new account,
    signed in over the API; its Authorization header."""

    async def sign_in(username: str, role: str = "focal_point", **areas: tuple[str, ...]
                      ) -> Headers:
        return await login(client, await add_staff(store, username, role, **areas))

    return sign_in


@pytest.fixture
async def admin(sign_in: SignIn) -> Headers:
    """The token of "admin", an admin."""
    return await sign_in("admin", role="admin")


@pytest.fixture
async def analyst(sign_in: SignIn) -> Headers:
    """The token of "analista", an analyst."""
    return await sign_in("analista", role="analyst")


@pytest.fixture
async def tumaco(sign_in: SignIn) -> Headers:
    """The token of "tumaco", Tumaco's focal point."""
    return await sign_in("tumaco", municipalities=(TUMACO,))


@pytest.fixture
def report(store: Store) -> ReportFactory:
    """`await report(description, urgency)`: a threat (surveillance, today) in Tumaco,
    submitted as the bot would; its id."""

    async def report(description: str, urgency: str = "normal") -> str:
        return await submit(store, threat(urgency=urgency, description=description,
                                          when="when.today"))

    return report
