"""Long lists of buttons in screens of at most eight choices, with "Más opciones" to go on.

A phone shows about eight buttons without scrolling (DESIGN.md §4). Every question with more
options than fit (threat categories, leadership types, priorities, department and
municipality lists) is cut here, in pages of about the same size. The page on screen is kept
in `State.scratch["page"]`; a step accepts only the options of the page on screen, so a button
left on an older message answers "Ese botón ya no está activo".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from flows.engine import NAV_BACK, NAV_CANCEL, Choice, Msg, State
from flows.messages import N_

MAX_CHOICES = 8  # choices per screen, besides "Atrás", "Cancelar" and these page buttons
PAGE_PREFIX = "page:"
MSG_MORE = N_("Más opciones ▸")
MSG_PREVIOUS = N_("◂ Anteriores")

T = TypeVar("T")


def is_navigation(code: str) -> bool:
    """Buttons that move between screens rather than answer: Atrás, Cancelar, pages."""
    return code in (NAV_BACK, NAV_CANCEL) or code.startswith(PAGE_PREFIX)


def page_count(count: int, room: int = MAX_CHOICES) -> int:
    """Screens needed for `count` options when `room` fit on one."""
    return max(1, -(-count // max(room, 1)))


def page_of(items: Sequence[T], page: int, room: int = MAX_CHOICES) -> Sequence[T]:
    """The options of screen `page` (from 0); pages hold about the same number."""
    size = -(-len(items) // page_count(len(items), room)) if items else 0
    return items[page * size : (page + 1) * size]


def pager(page: int, pages: int) -> list[Choice]:
    """"◂ Anteriores" and "Más opciones ▸", where there is somewhere to go."""
    buttons = []
    if page > 0:
        buttons.append(Choice(f"{PAGE_PREFIX}{page - 1}", Msg(MSG_PREVIOUS)))
    if page + 1 < pages:
        buttons.append(Choice(f"{PAGE_PREFIX}{page + 1}", Msg(MSG_MORE)))
    return buttons


def parse_page(code: str, pages: int) -> int | None:
    """The page a "page:N" button asks for, if it exists."""
    raw = code.removeprefix(PAGE_PREFIX)
    if not code.startswith(PAGE_PREFIX) or not raw.isascii() or not raw.isdigit() \
            or len(raw) > 4:
        return None
    page = int(raw)
    return page if page < pages else None


def current_page(state: State, pages: int) -> int:
    """The page on screen (the first one if the scratch holds none, or one past the end)."""
    page = state.scratch.get("page", 0)
    return page if isinstance(page, int) and 0 <= page < pages else 0


def paged(
    options: Sequence[Choice], state: State, *, extras: int = 0
) -> tuple[list[Choice], list[Choice]]:
    """(the options on screen, the page buttons) when `extras` other choices ("Listo"…)
    share the screen."""
    room = MAX_CHOICES - extras
    pages = page_count(len(options), room)
    page = current_page(state, pages)
    return list(page_of(options, page, room)), pager(page, pages)


def turned(state: State, code: str, buttons: Sequence[Choice]) -> State | None:
    """The state showing the page that a page button on screen asks for; None for any
    other code."""
    if code not in {button.code for button in buttons}:
        return None
    return replace(state, scratch={**state.scratch, "page": int(code.removeprefix(PAGE_PREFIX))})
