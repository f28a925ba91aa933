"""Spanish labels for codes shown by the API and the web pages."""

from __future__ import annotations

from collections.abc import Iterable
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


def municipality_official_name(code: str) -> str:
    """The official name alone ("San Andrés de Tumaco"), as data files and HXL's #adm2+name
    want it; `municipality_name` is the everyday one with its department, for people."""
    found = _country().get(code)
    return found.name if found else code


def refusal_texts(refusals: Iterable[tuple[str, str]], locale: str = "es") -> list[str]:
    """(msgid, value) refusals of `flows.municipalities.parse_codes` and `storage.staff`,
    as a person reads them."""
    gettext = translations(locale).gettext
    return [gettext(msgid).format(value=value) for msgid, value in refusals]


def label_of(code: str, locale: str = "es") -> str:
    msgid = taxonomy.label(code)
    return translations(locale).gettext(msgid) if msgid != code else code


@lru_cache(maxsize=1)
def _department_names() -> dict[str, str]:
    return {d.code: d.name for d in _country().departments()}


def department_name(code: str) -> str:
    return _department_names().get(code, code)
