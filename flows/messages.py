"""Marks msgids for extraction without translating them here.

`flows/` never renders text: it hands msgids to the transports, which translate
them with the user's locale. `pybabel extract -k N_ -k NP_:1,2` collects these strings.
"""


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "no-op" marking
    """Returns the msgid untouched; marks it for extraction."""
    return msgid


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - as N_, with a plural
    """Returns both msgids untouched; marks them for extraction as one plural entry."""
    return singular, plural
