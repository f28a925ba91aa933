"""The app and a browserless browser for the page tests (one person's cookies each)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from storage.store import Store
from tests.support.api import PAGES_URL, client_for
from tests.support.web_client import Browser


@pytest.fixture
def app(store: Store, tmp_path: Path) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path, fast_kdf=True), store=store)


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[Browser]:
    async with client_for(app, PAGES_URL) as client:
        yield Browser(client)
