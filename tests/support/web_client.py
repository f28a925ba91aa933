"""A browserless web client for the pages: follows the forms like a person would."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def queue_card(queue: str, report_id: str) -> str:
    """The card of the queue page (`/bandeja`) that links to the report: its list item."""
    cards = re.findall(r"<li[^>]*>.*?</li>\s*(?=<li|</ul>)", queue, re.DOTALL)
    (card,) = [c for c in cards if f'data-report="{report_id}"' in c]
    return card


@dataclass
class Browser:
    client: httpx.AsyncClient

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def submit(self, page_path: str, action: str, fields: dict[str, str]) -> httpx.Response:
        """Loads the page, takes its CSRF token, posts the form (redirects not followed)."""
        page = await self.client.get(page_path)
        assert page.status_code == 200, page.text
        return await self.client.post(action, data={"csrf": csrf_of(page.text), **fields})

    async def sign_in(self, username: str, password: str, otp: str = "") -> httpx.Response:
        return await self.submit("/entrar", "/entrar",
                                 {"username": username, "password": password, "otp": otp})
