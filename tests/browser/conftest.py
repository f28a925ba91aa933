"""Playwright (Python) driving the system Chromium (`/usr/bin/chromium`, Debian `chromium`).

Playwright cannot download its own browser here; it launches Debian's. Without Chromium the
journeys are skipped, reported in one line of the summary (a newcomer's `make test` still
runs everything else); `.ci/run` installs Chromium and sets SOMOS_TEST_REQUIRE_BROWSER=1,
so in CI a missing browser fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = os.environ.get("SOMOS_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SOMOS_TEST_REQUIRE_BROWSER", "0") == "1"
# Flags for a closed network: no background connections, no sandbox as root in CI.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module scope: Playwright's sync API keeps an event loop running while it is open,
    which the asyncio tests after this module must not find."""
    if not Path(CHROMIUM).exists():
        message = (f"PRUEBAS DE NAVEGADOR OMITIDAS: no está Chromium en {CHROMIUM}; "
                   "instálelo con `apt-get install chromium` (CI las exige)")
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where pictures of the pages go: docs/screenshots/ when SOMOS_SCREENSHOTS_DIR says so."""
    chosen = os.environ.get("SOMOS_SCREENSHOTS_DIR")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
