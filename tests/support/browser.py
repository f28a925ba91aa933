"""What the Playwright journeys share: the two screens they look at, signing in through the
page, and the check that a page fits a phone (with a picture of it)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def sign_in_page(page: Page, base_url: str, username: str, password: str, code: str,
                 start: str = "/") -> None:
    """Signs in through `/entrar` as a person types it, starting from `start`."""
    page.goto(base_url + start)
    expect(page).to_have_url(re.compile(r"/entrar"))
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_label("Código de verificación").fill(code)
    page.get_by_role("button", name="Entrar").click()
    expect(page).not_to_have_url(re.compile(r"/entrar"))


def fits_phone(page: Page, screenshots: Path, name: str, back_to: dict[str, int] = DESKTOP,
               ) -> None:
    """Readable at 390 px: nothing wider than the screen, and a picture to look at."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width}px wide at 390px"
    page.screenshot(path=str(screenshots / f"{name}-390.png"), full_page=True)
    page.set_viewport_size(back_to)
