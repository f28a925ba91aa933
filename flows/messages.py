"""Marks msgids for extraction without translating them here.

`flows/` never renders text: it hands msgids to the transports, which translate
them with the user's locale. `pybabel extract -k N_` collects these strings.
"""


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "no-op" marking
    """Returns the msgid untouched; marks it for extraction."""
    return msgid
