"""Self-protection and self-care: tips, national lines, and the lines of a municipality."""

from __future__ import annotations

from typing import Any

import pytest

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    MSG_STALE_BUTTON,
    NAV_BACK,
    NAV_CANCEL,
    Command,
    Effect,
    Msg,
    Pick,
    Reply,
    Result,
    State,
    Text,
    advance,
)
from flows.lines import MSG_LINE, MSG_NATIONAL_LINES, NATIONAL_LINES
from flows.menu import MENU, MSG_MENU
from flows.municipality_step import MSG_MUNICIPALITY_CONFIRM
from flows.selfcare import (
    MSG_ASK_LINES_MUNICIPALITY,
    MSG_ASK_SELFCARE,
    MSG_LOCAL_LINES,
    MSG_NO_LOCAL_LINES,
    TIPS,
)
from tests.support.places import TUMACO
from tests.support.walk import FLOW, assert_well_formed, codes, last, msgids, press, trace

LOCAL = "selfcare.local_lines"
PAGE_BUTTONS = [NAV_BACK, "menu"]

TUMACO_LABEL = "San Andrés de Tumaco (Nariño)"


def at_selfcare() -> tuple[State, list[Reply]]:
    return last([Command("start"), "selfcare"])


def test_the_submenu_offers_six_tips_and_two_kinds_of_lines() -> None:
    state, replies = at_selfcare()
    assert replies[-1].text == Msg(MSG_ASK_SELFCARE)
    assert codes(replies[-1]) == [
        "contact_person", "routes", "documenting", "emergency_plan", "phone_safety", "self_care",
        "national_lines", "local_lines", NAV_BACK, NAV_CANCEL,
    ]  # fmt: skip


@pytest.mark.parametrize(("code", "text"), [(code, text) for code, _, text in TIPS])
def test_each_tip_page_goes_back_to_the_submenu_or_to_the_menu(code: str, text: str) -> None:
    state, replies = last([code], *at_selfcare())
    assert state.step == f"selfcare.{code}"
    (page,) = replies
    assert page.text == Msg(text) and codes(page) == PAGE_BUTTONS
    assert_well_formed(replies)
    back, replies = advance(FLOW, state, press(replies, NAV_BACK))
    assert back.step == "selfcare.menu" and msgids(replies) == [MSG_ASK_SELFCARE]
    assert back.history == (MENU,)  # coming and going does not pile up
    home, replies = advance(FLOW, state, press([page], "menu"))
    assert home == State(step=MENU, status="active") and msgids(replies) == [MSG_MENU]


@pytest.mark.parametrize(("code", "text"), [(code, text) for code, _, text in TIPS])
def test_tips_are_three_to_five_short_lines(code: str, text: str) -> None:
    title, *lines = text.split("\n")
    assert 3 <= len(lines) <= 5 and all(line.startswith("• ") for line in lines)
    assert all(len(line) <= 90 for line in lines), code


def test_typing_on_a_tip_page_shows_it_again() -> None:
    state, _ = last(["routes"], *at_selfcare())
    after, replies = advance(FLOW, state, Text("gracias"))
    assert after == state and msgids(replies)[0] == MSG_DIDNT_UNDERSTAND
    assert replies[-1].step == "selfcare.routes"


def national() -> Msg:
    return Msg(MSG_NATIONAL_LINES, {"lines": tuple(
        Msg(MSG_LINE, {"number": number, "name": Msg(name)}) for number, name in [
            ("123", "Policía"),
            ("155", "Orientación a mujeres víctimas de violencia"),
            ("141", "ICBF: protección de niñas, niños y adolescentes"),
            ("122", "Fiscalía: denuncias"),
            ("165", "GAULA: secuestro y extorsión"),
            ("103", "Línea Vida de la UNP (Unidad Nacional de Protección)"),
        ]
    )})  # fmt: skip


def test_national_lines_are_data_with_translatable_names() -> None:
    assert [line.number for line in NATIONAL_LINES] == ["123", "155", "141", "122", "165", "103"]
    state, replies = last(["national_lines"], *at_selfcare())
    assert state.step == "selfcare.national_lines"
    assert replies == [Reply(national(), replies[0].choices, "selfcare.national_lines")]
    assert codes(replies[0]) == PAGE_BUTTONS
    assert_well_formed(replies)


def chosen_municipality() -> tuple[State, list[Reply]]:
    return last(["local_lines", Text("tumaco"), f"mun:{TUMACO}"], *at_selfcare())


def test_local_lines_ask_the_municipality_then_leave_an_effect() -> None:
    seen = trace(["local_lines", Text("tumaco")], *at_selfcare())
    assert seen[0][1][-1].text == Msg(MSG_ASK_LINES_MUNICIPALITY)
    assert seen[1][1][-1].text.msgid == MSG_MUNICIPALITY_CONFIRM
    state, replies = chosen_municipality()
    assert state.step == LOCAL and replies == []
    assert state.pending == Effect("local_lines", {"municipality": TUMACO})
    assert state.answers["municipality"] == TUMACO


def test_local_lines_show_the_municipality_lines_then_the_national_ones() -> None:
    state, _ = chosen_municipality()
    lines = [{"name": "Personería de Tumaco", "number": "602 727 0000"},
             {"name": "Defensoría regional", "number": "300 000 0000"}]  # fmt: skip
    state, replies = advance(FLOW, state, Result("local_lines", {"lines": lines}))
    assert state.pending is None and state.step == LOCAL
    local, shown_national = replies
    assert local.text == Msg(MSG_LOCAL_LINES, {"municipality": TUMACO_LABEL, "lines": (
        # Local names are data: shown as given, never translated.
        Msg(MSG_LINE, {"number": "602 727 0000", "name": "Personería de Tumaco"}),
        Msg(MSG_LINE, {"number": "300 000 0000", "name": "Defensoría regional"}),
    )})  # fmt: skip
    assert shown_national.text == national() and codes(shown_national) == PAGE_BUTTONS
    assert_well_formed(replies)

    # A stale button shows them again, from the draft.
    state = State.from_json(state.to_json())
    after, again = advance(FLOW, state, Pick("routes", "selfcare.menu"))
    assert after == state and msgids(again) == [MSG_STALE_BUTTON, MSG_LOCAL_LINES,
                                               MSG_NATIONAL_LINES]
    back, replies = advance(FLOW, state, press(replies, NAV_BACK))
    assert back.step == "selfcare.menu"
    home, replies = advance(FLOW, state, press([shown_national], "menu"))
    assert home.step == MENU and home.answers == {}


@pytest.mark.parametrize(
    "data",
    [
        {"lines": []},
        {},
        {"lines": "123"},
        {"lines": [{"name": "", "number": "1"}, {"name": "X"}, "y", {"name": 3, "number": 4}]},
    ],
)
def test_no_local_lines_says_so_and_shows_the_national_ones(data: dict[str, Any]) -> None:
    state, _ = chosen_municipality()
    state, replies = advance(FLOW, state, Result("local_lines", data))
    assert [r.text for r in replies] == [
        Msg(MSG_NO_LOCAL_LINES, {"municipality": TUMACO_LABEL}),
        national(),
    ]


def test_another_municipality_may_be_typed_after_the_lines() -> None:
    state, _ = chosen_municipality()
    state, _ = advance(FLOW, state, Result("local_lines", {"lines": []}))
    state, replies = last([Text("Sucre"), "mun:70771"], state)
    assert state.pending == Effect("local_lines", {"municipality": "70771"})
