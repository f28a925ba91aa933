"""Translation of flow replies with Babel catalogs from the `locales` package."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from babel.support import NullTranslations, Translations

from flows.engine import Choice, Msg, ParamValue

# The compiled catalogs travel inside the installed package (setup.py compiles them into
# the wheel; `make compile-catalogs` beside their sources): the same lookup from a source
# tree and from site-packages. A wheel is installed unpacked, so this is a directory.
LOCALES_DIR = Path(str(files("locales")))
SUPPORTED = ("es", "en")
DEFAULT_LOCALE = "es"


@lru_cache(maxsize=8)
def translations(locale: str, directory: Path = LOCALES_DIR) -> NullTranslations:
    """The compiled catalog for `locale` (Spanish for a language Somos does not speak)."""
    if locale not in SUPPORTED:
        locale = DEFAULT_LOCALE
    catalog = Translations.load(str(directory), [locale], domain="messages")
    if not isinstance(catalog, Translations):
        # Babel's answer to a missing file is the msgids, i.e. Spanish: an install without
        # its catalogs once spoke Spanish to English readers without a word in any log.
        raise LookupError(f"No compiled catalog for {locale!r} in {directory}: run "
                          "`make compile-catalogs`, or install Somos from its wheel.")
    return catalog


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
