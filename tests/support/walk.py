"""Walking the real conversation as a person would: pressing the buttons on screen."""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from pathlib import Path

from babel.messages.pofile import read_po

from flows.conversation import build_flow
from flows.engine import (
    EMERGENCY,
    Command,
    Event,
    Flow,
    Msg,
    Pick,
    Reply,
    Result,
    State,
    Text,
    advance,
)
from flows.evidence import MSG_ASK_EVIDENCE
from flows.menu import MENU, MSG_MENU
from flows.municipalities import Catalog
from flows.municipality_step import MSG_ASK_MUNICIPALITY, MSG_MUNICIPALITY_CONFIRM
from flows.paging import PAGE_PREFIX
from flows.summary import MSG_ASK_NOTIFY, MSG_SUMMARY
from flows.threat import (
    MSG_ASK_ACTOR,
    MSG_ASK_CHANNEL,
    MSG_ASK_DANGER,
    MSG_ASK_DESCRIPTION,
    MSG_ASK_TARGET,
    MSG_ASK_THREAT,
    MSG_ASK_WHEN,
)
from tests.support.places import TUMACO

CATALOG = Catalog.load()
FLOW = build_flow(CATALOG)
LOCALES = Path(__file__).resolve().parents[2] / "locales"

Item = Event | str  # a str means "press the button with this code", which must be on screen


def press(replies: Sequence[Reply], code: str) -> Pick:
    offered = {choice.code: reply.step for reply in replies for choice in reply.choices}
    assert code in offered, f"{code!r} not offered; buttons: {sorted(offered)}"
    return Pick(code, offered[code])


def page_to(
    code: str, state: State | None, replies: list[Reply], flow: Flow = FLOW
) -> tuple[State | None, list[Reply]]:
    """Presses "Más opciones ▸" (then "◂ Anteriores") until the button `code` is on screen,
    as a person looks for an option on the next screens; stops where it is if none has it."""
    tried: set[str] = set()
    while state is not None and code not in {c.code for r in replies for c in r.choices}:
        pages = sorted((c.code for r in replies for c in r.choices
                        if c.code.startswith(PAGE_PREFIX) and c.code not in tried),
                       key=lambda page: int(page.removeprefix(PAGE_PREFIX)), reverse=True)
        if not pages:
            break
        tried.add(pages[0])
        state, replies = advance(flow, state, press(replies, pages[0]))
    return state, replies


def trace(
    items: Sequence[Item], state: State | None = None, shown: Sequence[Reply] = ()
) -> list[tuple[State, list[Reply]]]:
    """Runs the items one by one from `state` with `shown` on screen (turning pages to find a
    button); returns the state and replies after each."""
    replies = list(shown)
    seen = []
    for item in items:
        if isinstance(item, str):
            state, replies = page_to(item, state, replies)
        event = press(replies, item) if isinstance(item, str) else item
        state, replies = answer_emergency(*advance(FLOW, state, event))
        seen.append((state, replies))
    return seen


def answer_emergency(
    state: State, replies: list[Reply], lines: Sequence[dict[str, str]] = ()
) -> tuple[State, list[Reply]]:
    """What the transport does with the emergency lines a step waits for (a municipality
    known to someone in danger): looks them up, here `lines`, and answers at once."""
    if state.pending is None or not state.pending.params.get(EMERGENCY):
        return state, replies
    state, more = advance(FLOW, state, Result("local_lines", {"lines": list(lines)}))
    return state, [*replies, *more]


def last(
    items: Sequence[Item], state: State | None = None, shown: Sequence[Reply] = ()
) -> tuple[State, list[Reply]]:
    return trace(items, state, shown)[-1]


def msgids(replies: Sequence[Reply]) -> list[str]:
    return [reply.text.msgid for reply in replies]


def codes(reply: Reply) -> list[str]:
    return [choice.code for choice in reply.choices]


def walk_msg(msg: Msg) -> Iterator[Msg]:
    yield msg
    for value in msg.params.values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Msg):
                yield from walk_msg(item)


def msgs_of(replies: Sequence[Reply]) -> Iterator[Msg]:
    """Every Msg shown: texts, button labels and (nested) parameters."""
    for reply in replies:
        yield from walk_msg(reply.text)
        for choice in reply.choices:
            if isinstance(choice.label, Msg):
                yield from walk_msg(choice.label)


def catalog_msgids(locale: str = "es") -> frozenset[str]:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    return frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id)


SPANISH = catalog_msgids()


def assert_well_formed(replies: Sequence[Reply]) -> None:
    """Every msgid is catalogued, placeholders match params, callback data fits Telegram."""
    for msg in msgs_of(replies):
        assert msg.msgid in SPANISH, msg.msgid
        fields = {f for _, f, _, _ in string.Formatter().parse(msg.msgid) if f}
        assert fields == set(msg.params), msg.msgid
    for reply in replies:
        for choice in reply.choices:
            assert len(f"{reply.step}|{choice.code}".encode()) <= 64


# What the person writes in the threat walk below.
DESCRIPTION = "Llegó un panfleto a la vereda.\nDicen que tenemos 3 días para irnos."


def threat_walk(target: str, category: str, danger: str) -> list[tuple[Item, str, str]]:
    """A whole threat report, Tumaco, skipping evidence: (what the person does, the step it
    lands on, the last question on screen)."""
    return [
        (Command("start"), MENU, MSG_MENU),
        ("threat", "threat.danger", MSG_ASK_DANGER),
        (danger, "threat.municipality", MSG_ASK_MUNICIPALITY),
        (Text("tumaco"), "threat.municipality", MSG_MUNICIPALITY_CONFIRM),
        (f"mun:{TUMACO}", "threat.target", MSG_ASK_TARGET),
        (target, "threat.type", MSG_ASK_THREAT),
        (category, "threat.channel", MSG_ASK_CHANNEL),
        ("channel.pamphlet", "threat.actor", MSG_ASK_ACTOR),
        ("actor.armed_group", "threat.when", MSG_ASK_WHEN),
        ("when.this_week", "threat.description", MSG_ASK_DESCRIPTION),
        (Text(DESCRIPTION), "threat.evidence", MSG_ASK_EVIDENCE),
        ("skip", "threat.notify", MSG_ASK_NOTIFY),
        ("no", "threat.confirm", MSG_SUMMARY),
        ("confirm", "threat.confirm", ""),
    ]
