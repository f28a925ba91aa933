"""Choosing a municipality from a list: departments, then seven municipalities per screen."""

from __future__ import annotations

import pytest

from flows.conversation import build_flow
from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    NAV_BACK,
    NAV_CANCEL,
    Command,
    Flow,
    Msg,
    Pick,
    Reply,
    State,
    Text,
    advance,
)
from flows.municipalities import Catalog
from flows.municipality_step import (
    MSG_ASK_MUNICIPALITY,
    MSG_MUNICIPALITY_CONFIRM,
    MSG_MUNICIPALITY_PICK,
    MSG_MUNICIPALITY_RETRY,
    MSG_PICK_DEPARTMENT,
    MSG_PICK_FROM_LIST,
)
from tests.support.places import MEDELLIN, TUMACO
from tests.support.walk import CATALOG, FLOW, assert_well_formed, codes, last, press

MUN = "threat.municipality"
DEPARTMENTS = ["dep:05", "dep:13", "dep:19", "dep:23", "dep:52", "dep:54", "dep:70"]


def at_municipality() -> tuple[State, list[Reply]]:
    return last([Command("start"), "threat", "no"])


def test_the_question_always_offers_a_list() -> None:
    _, replies = at_municipality()
    assert codes(replies[-1]) == ["mun:list", NAV_BACK, NAV_CANCEL]
    _, replies = last([Text("tumaco"), "mun:none"], *at_municipality())
    assert replies[-1].text.msgid == MSG_MUNICIPALITY_RETRY
    assert codes(replies[-1]) == ["mun:list", NAV_BACK, NAV_CANCEL]


def test_the_list_offers_the_covered_departments_by_name() -> None:
    state, replies = last(["mun:list"], *at_municipality())
    (reply,) = replies
    assert reply.text == Msg(MSG_PICK_DEPARTMENT) and reply.step == MUN
    assert codes(reply) == [*DEPARTMENTS, NAV_BACK, NAV_CANCEL]
    assert [c.label for c in reply.choices[:2]] == ["Antioquia", "Bolívar"]


def test_pages_of_seven_with_more_and_previous_then_only_the_code_is_kept() -> None:
    everyone = CATALOG.in_department("52")  # Nariño, 64 municipalities: 10 screens
    state, replies = last(["mun:list", "dep:52"], *at_municipality())
    assert replies[-1].text == Msg(
        MSG_PICK_FROM_LIST, {"department": "Nariño", "page": 1, "pages": 10}
    )
    assert codes(replies[-1]) == [
        *(f"mun:{m.code}" for m in everyone[:7]), "mun:list", "page:1", NAV_BACK, NAV_CANCEL,
    ]  # fmt: skip
    assert [c.label for c in replies[-1].choices[:7]] == [m.name for m in everyone[:7]]

    listed = []
    for page in range(1, 10):
        listed += [c for c in codes(replies[-1]) if c.startswith("mun:") and c != "mun:list"]
        state, replies = last([f"page:{page}"], state, replies)
        assert replies[-1].text.params["page"] == page + 1
        assert "page:" + str(page - 1) in codes(replies[-1])
    last_page = [c for c in codes(replies[-1]) if c.startswith("mun:") and c != "mun:list"]
    assert listed + last_page == [f"mun:{m.code}" for m in everyone]  # each once, in order
    assert codes(replies[-1]) == [*last_page, "mun:list", "page:8", NAV_BACK, NAV_CANCEL]
    assert_well_formed(replies)

    state, replies = last([last_page[0]], state, replies)
    assert state.step == "threat.target"
    assert state.answers["municipality"] == everyone[63].code
    assert state.scratch == {}


def test_other_department_goes_back_to_the_departments() -> None:
    state, replies = last(["mun:list", "dep:70", "mun:list"], *at_municipality())
    assert replies[-1].text == Msg(MSG_PICK_DEPARTMENT)
    state, replies = last(["dep:13"], state, replies)
    assert replies[-1].text.params["department"] == "Bolívar"


@pytest.mark.parametrize(
    ("before", "forged"),
    [
        ([], "dep:52"),  # no department list on screen
        (["mun:list"], "dep:99"),
        (["mun:list"], "dep:5"),
        (["mun:list"], "dep:11"),  # Bogotá: not covered
        (["mun:list", "dep:52"], "dep:70"),  # municipalities on screen now
        (["mun:list", "dep:52"], "page:10"),
        (["mun:list", "dep:52"], "page:-1"),
        (["mun:list", "dep:52"], "page:٣"),
        (["mun:list", "dep:52"], "page:"),
        (["mun:list", "dep:52"], f"mun:{TUMACO}"),  # Tumaco is not on the first page
        (["mun:list", "dep:52"], f"mun:{MEDELLIN}"),
        (["mun:list"], "page:1"),  # seven departments fit one page
        ([], "page:0"),
    ],
)
def test_buttons_not_on_screen_are_refused(before: list[str], forged: str) -> None:
    start, shown = at_municipality()
    state, _ = last(before, start, shown) if before else (start, shown)
    after, replies = advance(FLOW, state, Pick(forged, MUN))
    assert after == state and "municipality" not in after.answers
    assert [r.text.msgid for r in replies] == [MSG_DIDNT_UNDERSTAND, MSG_ASK_MUNICIPALITY]


def test_typing_a_name_while_the_list_is_shown_searches_it() -> None:
    state, replies = last(["mun:list", "dep:52", Text("tumaco"), f"mun:{TUMACO}"],
                          *at_municipality())
    assert state.answers["municipality"] == TUMACO


def test_a_whole_country_catalog_pages_the_departments_too() -> None:
    flow: Flow = build_flow(Catalog.load(departments=None))
    state, replies = advance(flow, None, Command("start"))
    state, replies = advance(flow, state, press(replies, "threat"))
    state, replies = advance(flow, state, press(replies, "no"))  # nobody in danger now
    state, replies = advance(flow, state, press(replies, "mun:list"))
    # 33 departments: five screens of seven, the last of five.
    assert len([c for c in replies[-1].choices if c.code.startswith("dep:")]) == 7
    assert "page:1" in codes(replies[-1])
    for page in (1, 2, 3, 4):
        state, replies = advance(flow, state, press(replies, f"page:{page}"))
    assert len([c for c in replies[-1].choices if c.code.startswith("dep:")]) == 5
    assert "page:5" not in codes(replies[-1])
    state, replies = advance(flow, state, press(replies, "dep:99"))  # Vichada
    assert replies[-1].text.params["department"] == "Vichada"


@pytest.mark.parametrize(
    ("typed", "code", "shown"),
    [
        ("Quilichao", "19698", "Santander de Quilichao (Cauca)"),  # a name people use
        ("quilich", "19698", "Santander de Quilichao (Cauca)"),  # the start of a word
        ("Coloso", "70204", "Colosó (Sucre)"),  # DANE's spelling, accent and all
        ("Sotavento", "23670", "San Andrés de Sotavento (Córdoba)"),
        ("Tumaco", TUMACO, "San Andrés de Tumaco (Nariño)"),
    ],
)
def test_the_only_match_is_confirmed_by_its_dane_name(typed: str, code: str, shown: str) -> None:
    state, replies = last([Text(typed)], *at_municipality())
    (reply,) = replies
    assert reply.text == Msg(MSG_MUNICIPALITY_CONFIRM, {"municipality": shown})
    assert codes(reply) == [f"mun:{code}", "mun:none", NAV_BACK, NAV_CANCEL]
    state, _ = last([f"mun:{code}"], state, replies)
    assert state.answers["municipality"] == code


def test_several_matches_fit_one_screen_with_none_of_these() -> None:
    state, replies = last([Text("san")], *at_municipality())  # dozens start with "San"
    (reply,) = replies
    assert reply.text == Msg(MSG_MUNICIPALITY_PICK)
    assert len(reply.choices) == 7 + 1 + 2  # seven places, "Ninguno de estos", navigation
    assert codes(reply)[-3:] == ["mun:none", NAV_BACK, NAV_CANCEL]
