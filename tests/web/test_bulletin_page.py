"""The bulletin's page: the document with its PDF, for staff of the municipality's area."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.bulletin import latest_quarter
from api.demo import seed
from api.settings import Settings
from storage.store import Store
from tests.support.api import PAGES_URL, client_for
from tests.support.places import CACERES, TUMACO
from tests.support.staff import add_staff
from tests.support.web_client import Browser


@pytest.fixture
async def app(store: Store, tmp_path: Path) -> FastAPI:
    await seed(store=store, count=300, departments=("52",), seed_value=3,
               municipalities=[TUMACO])
    return create_app(Settings(data_dir=tmp_path, fast_kdf=True), store=store)


async def test_the_page_shows_the_bulletin_with_its_pdf_and_refuses_other_areas(
    app: FastAPI, store: Store,
) -> None:
    focal = await add_staff(store, "tumaco_web", municipalities=(TUMACO,))
    other = await add_staff(store, "caceres_web", municipalities=(CACERES,))
    async with client_for(app, PAGES_URL) as client:
        browser = Browser(client)
        assert (await browser.sign_in(focal.username, focal.password, focal.otp())
                ).status_code == 303
        page = await browser.get(f"/boletin/{TUMACO}")
        assert page.status_code == 200
        assert '<link rel="stylesheet" href="/static/bulletin.css">' in page.text
        assert "<style>" not in page.text  # the pages' CSP allows no inline style
        assert f'href="/boletin/{TUMACO}/pdf?periodo={latest_quarter().code}"' in page.text
        assert "San Andrés de Tumaco" in page.text
        pdf = await browser.get(f"/boletin/{TUMACO}/pdf")
        assert pdf.content.startswith(b"%PDF-")
        wrong = await browser.get(f"/boletin/{TUMACO}?periodo=2026-13")
        assert wrong.status_code == 422 and "no es un periodo" in wrong.text
    async with client_for(app, PAGES_URL) as client:
        browser = Browser(client)
        await browser.sign_in(other.username, other.password, other.otp())
        refused = await browser.get(f"/boletin/{TUMACO}")
        assert refused.status_code == 403 and "fuera de su zona" in refused.text
