"""Jinja2 rendering with the gettext catalogs: one environment per locale."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.labels import department_name, label_of, municipality_name
from bot.i18n import SUPPORTED, translations

# Package data of `api` (pyproject.toml), found where the package is installed.
TEMPLATES = Path(str(files("api") / "templates"))
STATIC = Path(str(files("api") / "static"))
LOCALE_COOKIE = "somos_idioma"
BOGOTA = ZoneInfo("America/Bogota")


def locale_of(request: Request) -> str:
    """Spanish unless the person chose English on the page (a cookie, not the browser)."""
    chosen = request.cookies.get(LOCALE_COOKIE, "")
    return chosen if chosen in SUPPORTED else "es"


@lru_cache(maxsize=len(SUPPORTED))
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]

    def when(value: datetime | None, pattern: str = "d MMM yyyy, HH:mm") -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(BOGOTA), pattern, locale=locale)

    def within_hour(value: datetime) -> str:
        """A reporter's time, kept only to its hour, shown as that hour: 2 dic 2026, 10:00–11:00."""
        end = value.astimezone(BOGOTA) + timedelta(hours=1)
        return f"{when(value)}–{format_datetime(end, 'HH:mm', locale=locale)}"

    env.filters["when"] = when
    env.filters["within_hour"] = within_hour
    env.filters["number"] = lambda value: format_decimal(value, locale=locale)
    # A message that may be a msgid or free text from the API (which can echo what someone
    # typed): translated if it is in the catalog, always escaped, never %-formatted.
    env.filters["tr"] = lambda message: translations(locale).gettext(str(message))
    env.filters["label"] = lambda code: label_of(code, locale) if code else ""
    env.filters["municipality"] = municipality_name
    env.filters["department"] = department_name
    env.globals["locale"] = locale
    return env


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *,
    status_code: int = 200,
) -> HTMLResponse:
    locale = locale_of(request)
    values = {"current": None, "bare": False, **(context or {})}
    body = environment(locale).get_template(template).render(
        request=request, path=request.url.path, **values
    )
    return HTMLResponse(body, status_code=status_code)
