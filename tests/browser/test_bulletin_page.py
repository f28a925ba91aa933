"""The bulletin's page in Chromium: usable on a 390 px phone, and in print."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import DESKTOP, PHONE, fits_phone, sign_in_page
from tests.support.harness import Server, Somos, start_server
from tests.support.places import TUMACO
from tests.support.totp import fresh_code

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("browser_bulletin")]
PASSWORD = "contraseña del boletín municipal"
SECTIONS = ("#mapa", "#prioridades", "#lo-reportado", "#tendencia", "#alertas", "#gestion")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    root = tmp_path_factory.mktemp("boletin")
    somos = Somos(root / "data", f"sqlite:///{root / 'data' / 'somos.db'}")
    somos.init()
    somos.run("demo", "seed", "--reports", "800", "--seed", "4", "--municipality", TUMACO,
              timeout=300)
    secret = somos.add_user("analista", "--role", "analyst", password=PASSWORD)
    started = start_server(somos, root / "serve.log")
    try:
        yield started, secret
    finally:
        started.stop()


def test_the_bulletin_fits_a_phone_and_prints_without_its_tools(
    browser: Browser, served: tuple[Server, str], screenshots: Path,
) -> None:
    server, secret = served
    page = browser.new_page(viewport=PHONE)
    sign_in_page(page, server.base_url, "analista", PASSWORD, fresh_code(secret),
                 start=f"/boletin/{TUMACO}")
    expect(page.get_by_role("heading", name="San Andrés de Tumaco")).to_be_visible()
    for section in SECTIONS:
        expect(page.locator(section)).to_be_visible()
    expect(page.locator(f'#mapa path[data-code="{TUMACO}"]')).to_be_visible()
    expect(page.get_by_role("link", name="Descargar PDF")).to_be_visible()
    fits_phone(page, screenshots, "boletin", back_to=PHONE)
    # In print: the same sections, the page's tools gone, still no horizontal scroll.
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Descargar PDF")).to_be_hidden()
    for section in SECTIONS:
        expect(page.locator(section)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.emulate_media(media="screen")
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(screenshots / "boletin-1280.png"), full_page=True)
    page.close()
