"""/docs in a real browser, against `somos serve`: Swagger UI draws the API from this
server's own files, and the browser asks no other server for anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request, expect

from tests.support.harness import Server, Somos, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("browser_docs")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("docs")
    somos = Somos(root / "data", f"sqlite:///{root / 'data' / 'somos.db'}")
    somos.init()
    started = start_server(somos, root / "serve.log")
    try:
        yield started
    finally:
        started.stop()


def test_docs_show_the_api_with_no_request_leaving_the_server(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    page = browser.new_page()
    requested: list[str] = []
    complaints: list[str] = []

    def note(request: Request) -> None:
        requested.append(request.url)

    def complain(message: ConsoleMessage) -> None:
        if message.type == "error":
            complaints.append(message.text)

    page.on("request", note)
    page.on("console", complain)
    page.goto(server.base_url + "/docs")
    # Swagger UI read /openapi.json and drew the operations.
    expect(page.locator(".information-container .title")).to_contain_text("Somos")
    expect(page.get_by_text("/api/v1/reports/{report_id}", exact=True).first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens, still nothing fetched
    page.wait_for_load_state("networkidle")
    origin = urlsplit(server.base_url).netloc
    assert requested and all(urlsplit(url).netloc == origin for url in requested
                             if not url.startswith("data:")), requested
    assert any(url.endswith("/openapi.json") for url in requested)
    assert any(url.endswith("/static/swagger-ui-bundle.js") for url in requested)
    # Nothing was refused by the page's policy, nor failed to load.
    assert not complaints, complaints
    page.close()
