"""Emergency phone lines: the national ones are data here; a municipality's come from storage.

Names of national lines are msgids (translated); numbers are data. Local lines arrive in a
`Result("local_lines", {"lines": [{"name", "number"}, …]})`; their names are shown as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flows.engine import Msg
from flows.messages import N_
from flows.steps import clean_text

MSG_LINE = N_("• {name}: {number}")
MSG_NATIONAL_LINES = N_("Líneas nacionales de emergencia:\n{lines}")
MAX_LOCAL_LINES = 20
MAX_FIELD = 120  # characters of a local line's name or number shown at most


@dataclass(frozen=True)
class Line:
    number: str
    name: str  # a msgid for national lines, shown as is for local ones


NATIONAL_LINES: tuple[Line, ...] = (
    Line("123", N_("Policía")),
    Line("155", N_("Orientación a mujeres víctimas de violencia")),
    Line("141", N_("ICBF: protección de niñas, niños y adolescentes")),
    Line("122", N_("Fiscalía: denuncias")),
    Line("165", N_("GAULA: secuestro y extorsión")),
    Line("103", N_("Línea Vida de la UNP (Unidad Nacional de Protección)")),
)


def national_lines() -> Msg:
    items = tuple(
        Msg(MSG_LINE, {"number": line.number, "name": Msg(line.name)}) for line in NATIONAL_LINES
    )
    return Msg(MSG_NATIONAL_LINES, {"lines": items})


def local_lines(data: Mapping[str, Any]) -> list[Line]:
    """The lines of a `local_lines` Result; anything malformed is left out."""
    raw = data.get("lines")
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return []
    found = []
    for item in raw[:MAX_LOCAL_LINES]:
        if not isinstance(item, Mapping):
            continue
        name, number = item.get("name"), item.get("number")
        if isinstance(name, str) and isinstance(number, str):
            name, number = clean_text(name)[:MAX_FIELD], clean_text(number)[:MAX_FIELD]
            if name and number:
                found.append(Line(number, name))
    return found


def local_items(lines: Sequence[Line]) -> tuple[Msg, ...]:
    return tuple(Msg(MSG_LINE, {"number": line.number, "name": line.name}) for line in lines)
