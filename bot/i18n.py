"""Translation of flow replies with Babel catalogs from `locales/`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from flows.engine import Choice, Msg, ParamValue

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED = ("es", "en")
DEFAULT_LOCALE = "es"


@lru_cache(maxsize=8)
def translations(locale: str, directory: Path = LOCALES_DIR) -> NullTranslations:
    """The compiled catalog for `locale` (Spanish msgids are the fallback)."""
    if locale not in SUPPORTED:
        locale = DEFAULT_LOCALE
    return Translations.load(str(directory), [locale], domain="messages")


def _param(value: ParamValue, catalog: NullTranslations) -> str:
    if isinstance(value, Msg):
        return render(value, catalog)
    if isinstance(value, tuple):
        return "\n".join(render(item, catalog) for item in value)
    return str(value)


def render(message: Msg, catalog: NullTranslations) -> str:
    """Translates a Msg and fills its (recursively translated) parameters; a Msg with a
    plural picks its form by the number in `params[count_param]` (ngettext)."""
    if message.plural is None:
        template = catalog.gettext(message.msgid)
    else:
        count = message.params.get(message.count_param)
        number = count if isinstance(count, int) else 0
        template = catalog.ngettext(message.msgid, message.plural, number)
    if not message.params:
        return template
    return template.format(**{key: _param(v, catalog) for key, v in message.params.items()})


def render_label(choice: Choice, catalog: NullTranslations) -> str:
    return choice.label if isinstance(choice.label, str) else render(choice.label, catalog)
