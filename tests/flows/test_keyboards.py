"""Every screen of every flow fits a phone: at most eight choices besides navigation.

The walk presses every button it is shown (page buttons included), types names, codes and
words where a question takes text, and answers the transport's effects, until no new screen
appears; DESIGN.md §4 "about eight choices per screen on a phone (pages or groups beyond that)".
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator

import pytest

from flows.conversation import build_flow
from flows.engine import NAV_CANCEL, Command, Event, Flow, Pick, Reply, Result, State, Text, advance
from flows.municipalities import Catalog
from flows.municipality_step import MunicipalityStep
from flows.paging import MAX_CHOICES, is_navigation
from flows.selection import MultiChoiceStep, RankingStep
from flows.steps import ChoiceStep, ConfirmStep
from flows.wipe import after_report_state

PLACES = ["tumaco", "san", "Sucre", "xyzzy"]  # one, many, several departments, none
WORDS = ["1234 5678 9012 3456", "Una descripción."]  # a receipt code, an answer
RESULTS = [
    {"outcome": "found", "status": status, "kind": kind, "access": "handle",
     "messages": [{"from": "team", "text": "Hola"}]}
    for status in ("new", "in_review", "referred", "follow_up", "closed")
    for kind in ("threat", "stigma")
] + [{"outcome": "not_found"}, {"ok": True}, {"ok": False},
     {"lines": [{"name": "Personería", "number": "123"}]}]  # fmt: skip


CLOSED = (ChoiceStep, ConfirmStep, MultiChoiceStep, RankingStep)  # buttons only


def _screen(state: State) -> str:
    return json.dumps([state.step, state.scratch, sorted(state.answers), state.status,
                       state.pending.name if state.pending else None, state.locale],
                      sort_keys=True, default=str)


def _events(flow: Flow, state: State, replies: list[Reply]) -> Iterator[Event]:
    if state.pending is not None:
        for data in RESULTS:
            yield Result(state.pending.name, data)
        return
    listing = "list" in state.scratch  # a municipality picked from a list moves on, as one
    for reply in replies:  # confirmed after a search does: that path is walked already
        for choice in reply.choices:
            if choice.code != NAV_CANCEL and not (listing and choice.code[4:].isdigit()):
                yield Pick(choice.code, reply.step)
    step = flow.steps.get(state.step or "")
    if isinstance(step, MunicipalityStep):
        yield from (Text(text) for text in PLACES)
    elif step is not None and not isinstance(step, CLOSED):
        yield from (Text(text) for text in WORDS)


def walk(flow: Flow, limit: int = 20_000) -> Iterator[Reply]:
    """Every reply of every screen reachable from /start."""
    seen: set[str] = set()
    queue: deque[tuple[State, list[Reply]]] = deque()
    queue.append(advance(flow, State(), Command("start")))
    while queue:
        state, replies = queue.popleft()
        yield from replies
        if state.status == "submitted":  # the transport commits it and shows the receipt
            state, replies = after_report_state(state.locale), []
        for event in _events(flow, state, replies):
            after, shown = advance(flow, state, event)
            key = _screen(after) + json.dumps([r.text.msgid for r in shown])
            if key not in seen:
                seen.add(key)
                queue.append((after, shown))
        assert len(seen) < limit, "the walk does not end: a screen keeps changing"


@pytest.mark.parametrize(
    "catalog",
    [Catalog.load(), Catalog.load(departments=None)],
    ids=["seven-departments", "whole-country"],
)
def test_no_screen_has_more_than_eight_choices_besides_navigation(catalog: Catalog) -> None:
    flow = build_flow(catalog)
    crowded = []
    steps_seen = set()
    for reply in walk(flow):
        steps_seen.add(reply.step)
        choices = [c.code for c in reply.choices if not is_navigation(c.code)]
        if len(choices) > MAX_CHOICES:
            crowded.append((reply.step, reply.text.msgid, len(choices)))
    assert not crowded, crowded
    # The walk reached every question of every flow.
    assert set(flow.steps) - steps_seen == set()
