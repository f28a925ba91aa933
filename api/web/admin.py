"""What the admin pages share: refusals as notices on the page, DIVIPOLA codes as typed.

The pages themselves, admins only (`api.web.forms.Admin`), one module per concern:
`admin_users` (accounts), `admin_rules` (routing rules), `admin_lines` (emergency lines),
`admin_audit` (the audit log). Every change is audited with the action names of the CLI
and the API, by the same storage functions. A one-time password is shown once, on the
page that made it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from markupsafe import Markup, escape

from api.web.render import locale_of
from bot.i18n import translations
from flows.municipalities import parse_codes


@dataclass(frozen=True)
class Notice:
    """A message for the page: a msgid translated there, then a fixed detail (a code, a
    name, or a Spanish message shared with the CLI and the API, not in the catalogs)."""

    msgid: str = ""
    detail: str = ""


def refused(request: Request, refusals: Sequence[tuple[str, str]]) -> list[Notice]:
    """Refusals of `parse_codes` and `storage.staff`, what was typed in bold."""
    gettext = translations(locale_of(request)).gettext
    return [Notice(detail=escape(gettext(msgid)).replace(
        "{value}", Markup("<strong>%s</strong>") % value)) for msgid, value in refusals]


def codes(request: Request, text: str, digits: int) -> tuple[list[str], list[Notice]]:
    """DIVIPOLA codes separated by commas or spaces; a dropped leading zero is put back."""
    found, refusals = parse_codes(re.split(r"[\s,;]+", text), digits)
    return found, refused(request, refusals)


def valid_municipality(request: Request, text: str) -> Notice | None:
    _codes_found, refusals = codes(request, text, 5)
    return refusals[0] if refusals else None
