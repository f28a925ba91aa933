"""/docs needs nothing from outside the server, and the OpenAPI document tells every answer
of /metrics (a scrape from elsewhere gets the documented 403)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.support.api import client_for

LOCAL_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class Links(HTMLParser):
    """Every URL the page makes the browser fetch: src and href of any element."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def is_local(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


async def test_docs_page_and_everything_it_loads_come_from_this_server(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    links = Links()
    links.feed(page.text)
    assert len(links.urls) == 4, links.urls  # stylesheet, icon, Swagger UI, its start script
    assert all(is_local(url) for url in links.urls), links.urls
    assert "http" not in page.text.lower()
    for url in links.urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(LOCAL_TYPES[Path(url).suffix]), url
    start = (await client.get("/static/swagger-init.js")).text
    assert '"/openapi.json"' in start and "validatorUrl: null" in start
    assert "http" not in start
    # The browser itself is told to load nothing from elsewhere.
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert "http" not in policy and "*" not in policy
    # The license travels with the files.
    notice = await client.get("/static/swagger-ui-LICENSE.txt")
    assert notice.status_code == 200 and "Apache License" in notice.text
    # FastAPI's other page (ReDoc) would load its script from a CDN: it is not served.
    assert (await client.get("/redoc")).status_code == 404
    assert (await client.get("/openapi.json")).status_code == 200


async def test_metrics_documents_the_refusal_it_gives(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    document = (await client.get("/openapi.json")).json()
    responses = document["paths"]["/metrics"]["get"]["responses"]
    assert set(responses) == {"200", "403"}
    refusal = responses["403"]["content"]["application/problem+json"]["schema"]["$ref"]
    assert refusal == "#/components/schemas/ProblemDetails"
    assert "text/plain" in next(iter(responses["200"]["content"]))
    # And that is what a scrape from another machine gets.
    async with client_for(app, peer=("203.0.113.9", 4000)) as outsider:
        refused = await outsider.get("/metrics")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    schema = document["components"]["schemas"]["ProblemDetails"]
    assert set(schema["required"]) <= set(body) and body["status"] == 403
    assert "SOMOS_METRICS_TOKEN" in body["detail"]
    assert (await client.get("/metrics")).status_code == 200  # this machine

