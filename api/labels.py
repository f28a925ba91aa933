"""Spanish labels for codes shown by the API and the web pages."""

from __future__ import annotations

from functools import lru_cache

from bot.i18n import translations
from flows import taxonomy
from flows.municipalities import Catalog


@lru_cache(maxsize=1)
def _country() -> Catalog:
    return Catalog.load(departments=None)


def municipality_name(code: str) -> str:
    found = _country().get(code)
    return found.label if found else code


def divipola_problem(code: str, digits: int) -> str | None:
    """Why `code` is not a DIVIPOLA code of `digits` digits ("format" or "unknown"), or None.

    Callers restore a dropped leading zero first (`zfill`)."""
    if not (code.isascii() and code.isdigit() and len(code) == digits):
        return "format"
    known = municipality_name(code) if digits == 5 else department_name(code)
    return "unknown" if known == code else None


def label_of(code: str, locale: str = "es") -> str:
    msgid = taxonomy.label(code)
    return translations(locale).gettext(msgid) if msgid != code else code


def department_name(code: str) -> str:
    names = {d.code: d.name for d in _country().departments()}
    return names.get(code, code)
