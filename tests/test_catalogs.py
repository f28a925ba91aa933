"""The gettext catalogs: complete, in sync with the code, and safe to `str.format`.

msgids are the Spanish source text; `locales/messages.pot` is extracted from
the code, and every language catalog must translate all of it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
TEMPLATE = LOCALES_DIR / "messages.pot"
MAPPING = LOCALES_DIR / "babel.cfg"
DOMAIN = "messages"
LANGUAGES = ("es", "en")
# The same keywords as `pybabel extract -k N_ -k NP_:1,2` (the defaults, N_ and NP_ with a
# plural).
KEYWORDS: dict[str, Any] = {**DEFAULT_KEYWORDS, "N_": None, "NP_": (1, 2)}
HOW_TO_FIX = "Run `make update-catalogs`, then translate the new entries of every language."

Key = tuple[str, str | None]  # (msgid, msgctxt)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN)


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    string_ = message.string
    if isinstance(string_, (list, tuple)):
        return tuple(form or "" for form in string_)
    return (string_ or "",)


def _key(msgid: str | Iterable[str], context: str | None) -> Key:
    singular = msgid if isinstance(msgid, str) else next(iter(msgid))
    return (singular, context)


def _entries(catalog: Catalog) -> dict[Key, Message]:
    """Every message of a catalog but the header, by (msgid, msgctxt)."""
    return {_key(message.id, message.context): message for message in catalog if message.id}


def _fields(text: str) -> set[str]:
    """The `{placeholders}` of a format string; ValueError on stray braces."""
    return {
        field
        for _literal, field, _spec, _conversion in string.Formatter().parse(text)
        if field is not None
    }


def _show(keys: Iterable[Key]) -> str:
    return "".join(
        f"\n  {msgid!r}" + (f" (msgctxt {context!r})" if context else "")
        for msgid, context in sorted(keys, key=lambda key: (key[0], key[1] or ""))
    )


@pytest.fixture(scope="module")
def template() -> dict[Key, Message]:
    return _entries(_read(TEMPLATE))


def _catalog(locale: str) -> Catalog:
    return _read(LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po", locale)


# --- (a) every language translates the whole template ---------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_catalog_has_exactly_the_template_msgids(
    locale: str, template: dict[Key, Message]
) -> None:
    entries = _entries(_catalog(locale))
    missing = template.keys() - entries.keys()
    stale = entries.keys() - template.keys()
    assert not missing, f"{locale}: msgids of messages.pot missing:{_show(missing)}\n{HOW_TO_FIX}"
    assert not stale, f"{locale}: msgids not in messages.pot:{_show(stale)}\n{HOW_TO_FIX}"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_msgid_is_translated(locale: str, template: dict[Key, Message]) -> None:
    entries = _entries(_catalog(locale))
    untranslated = [
        key
        for key in template
        if key not in entries or not all(form.strip() for form in _strings(entries[key]))
    ]
    assert not untranslated, f"{locale}: empty msgstr for:{_show(untranslated)}"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_plural_entries_have_every_form_of_the_language(
    locale: str, template: dict[Key, Message]
) -> None:
    catalog = _catalog(locale)
    # The header says how many forms the language has and which one a number takes.
    assert catalog.plural_forms.startswith(f"nplurals={catalog.num_plurals};"), locale
    plurals = {key for key, message in template.items() if message.pluralizable}
    assert plurals, "no plural entries: is NP_ extracted (-k NP_:1,2)?"
    entries = _entries(catalog)
    problems = []
    for key in sorted(plurals & entries.keys()):
        message = entries[key]
        forms = _strings(message)
        if not message.pluralizable or _ids(message) != _ids(template[key]):
            problems.append(f"\n  {key[0]!r}: msgid_plural differs from messages.pot")
        elif len(forms) != catalog.num_plurals or not all(form.strip() for form in forms):
            problems.append(f"\n  {key[0]!r}: {len(forms)} forms, {catalog.num_plurals} needed")
    assert not problems, f"{locale}: incomplete plural entries:" + "".join(problems)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_nothing_is_fuzzy(locale: str) -> None:
    catalog = _catalog(locale)
    # A fuzzy header makes `pybabel compile` skip the whole catalog.
    assert not catalog.fuzzy, f"{locale}: the catalog header is marked fuzzy"
    fuzzy = [key for key, message in _entries(catalog).items() if message.fuzzy]
    assert not fuzzy, f"{locale}: fuzzy entries (check and remove the flag):{_show(fuzzy)}"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_placeholders_are_kept(locale: str, template: dict[Key, Message]) -> None:
    entries = _entries(_catalog(locale))
    problems = []
    for key in template.keys() & entries.keys():
        message = entries[key]
        forms = [form for form in _strings(message) if form]
        if not forms:
            continue  # reported by test_every_msgid_is_translated
        try:
            expected = set().union(*(_fields(text) for text in _ids(message)))
            found = [_fields(form) for form in forms]
        except ValueError as exc:
            problems.append(f"\n  {key[0]!r}: {exc}")
            continue
        if message.pluralizable:
            # A plural form may leave out the count ("One report"), never add a name.
            ok = all(names <= expected for names in found) and set().union(*found) == expected
        else:
            ok = found[0] == expected
        if not ok:
            problems.append(
                f"\n  {key[0]!r}: msgid has {sorted(expected)}, msgstr has "
                f"{[sorted(names) for names in found]}"
            )
    assert not problems, f"{locale}: placeholders differ between msgid and msgstr:" + "".join(
        sorted(problems)
    )


# --- (b) the template matches the code --------------------------------------------------


def _extract_from_code() -> set[Key]:
    """What `make extract` (pybabel extract -F locales/babel.cfg -k N_ .) would collect."""
    with MAPPING.open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=str(MAPPING))
    # Patterns whose folder does not exist yet (api/templates/) simply match nothing.
    return {
        _key(msgid, context)
        for _filename, _lineno, msgid, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }


def test_template_is_in_sync_with_the_code(template: dict[Key, Message]) -> None:
    extracted = _extract_from_code()
    assert extracted, "extraction found no msgids: is locales/babel.cfg right?"
    new = extracted - template.keys()
    gone = template.keys() - extracted
    assert not new and not gone, (
        "locales/messages.pot is out of date with the code."
        + (f"\nIn the code but not in messages.pot:{_show(new)}" if new else "")
        + (f"\nIn messages.pot but no longer in the code:{_show(gone)}" if gone else "")
        + f"\n{HOW_TO_FIX}"
    )


# --- (c) every text survives str.format as bot/i18n.render calls it -----------------


class _Dummy:
    """A parameter value that accepts any format spec, attribute or index."""

    def __format__(self, spec: str) -> str:
        return "X"

    def __getattr__(self, name: str) -> _Dummy:
        return self

    def __getitem__(self, key: object) -> _Dummy:
        return self


def _param_name(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_text_formats_with_dummy_values(locale: str) -> None:
    problems = []
    for message in _entries(_catalog(locale)).values():
        texts = (*_ids(message), *(form for form in _strings(message) if form))
        try:
            # Like bot/i18n.render: keyword arguments named after the msgid's placeholders.
            params = {_param_name(f): _Dummy() for text in _ids(message) for f in _fields(text)}
        except ValueError as exc:
            problems.append(f"\n  {message.id!r}: {exc}")
            continue
        for text in texts:
            try:
                text.format(**params)
            except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
                problems.append(f"\n  {text!r}: {type(exc).__name__}: {exc}")
    assert not problems, f"{locale}: texts that str.format cannot render:" + "".join(problems)
