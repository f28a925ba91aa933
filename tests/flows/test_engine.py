"""The engine's promises, through the real flow: commands, Atrás/Cancelar, stale buttons,
free-text rules and the JSON state (random conversations: test_random_conversations.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from flows.engine import (
    MSG_CANCELLED,
    MSG_DIDNT_UNDERSTAND,
    MSG_STALE_BUTTON,
    NAV_BACK,
    NAV_CANCEL,
    Choice,
    Command,
    Effect,
    Event,
    Flow,
    Msg,
    Outcome,
    Pick,
    Reply,
    State,
    Step,
    Text,
    advance,
)
from flows.evidence import MSG_ASK_EVIDENCE
from flows.menu import MENU, MSG_HELP, MSG_MENU, MSG_WELCOME
from flows.municipality_step import MSG_ASK_MUNICIPALITY
from flows.steps import MSG_TOO_LONG, MSG_WRITE_TEXT, clean_text
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
from flows.wipe import MSG_EXIT, wipe_replies
from tests.support.places import TUMACO
from tests.support.walk import FLOW, msgids, page_to, press

MUN = "threat.municipality"

QUESTION = {
    MENU: MSG_MENU,
    MUN: MSG_ASK_MUNICIPALITY,
    "threat.target": MSG_ASK_TARGET,
    "threat.type": MSG_ASK_THREAT,
    "threat.channel": MSG_ASK_CHANNEL,
    "threat.actor": MSG_ASK_ACTOR,
    "threat.when": MSG_ASK_WHEN,
    "threat.description": MSG_ASK_DESCRIPTION,
    "threat.evidence": MSG_ASK_EVIDENCE,
    "threat.danger": MSG_ASK_DANGER,
    "threat.notify": MSG_ASK_NOTIFY,
    "threat.confirm": MSG_SUMMARY,
}
# The way to the summary; a str is a button code, pressed on the question that shows it.
PATH: list[Event | str] = [
    Command("start"), "threat", "no", Text("tumaco"), f"mun:{TUMACO}", "target.self",
    "threat.extortion", "channel.phone", "actor.unknown", "when.today",
    Text("Me dejaron un panfleto."), "skip", "no",
]  # fmt: skip


def reach(step_id: str) -> tuple[State, list[Reply]]:
    """Follows PATH until the question `step_id` is asked."""
    state: State | None = None
    replies: list[Reply] = []
    for item in PATH:
        event = press(replies, item) if isinstance(item, str) else item
        state, replies = advance(FLOW, state, event)
        if state.step == step_id:
            return state, replies
    raise AssertionError(f"PATH never reaches {step_id}")


def asks(replies: Sequence[Reply], step_id: str) -> bool:
    """The last reply is the question of `step_id`, with its buttons tied to it."""
    return replies[-1].text.msgid == QUESTION[step_id] and replies[-1].step == step_id


# --- Commands and the first message -------------------------------------------------------------


def test_start_shows_welcome_then_menu_without_nav_buttons() -> None:
    state, replies = advance(FLOW, None, Command("start"))
    assert msgids(replies) == [MSG_WELCOME, MSG_MENU]
    assert [c.code for c in replies[1].choices] == [
        "threat", "quick", "protection", "stigma", "priority", "followup", "wipe", "page:1",
    ]  # fmt: skip
    assert state == State(step=MENU, status="active")


@pytest.mark.parametrize(
    "event",
    [Text("hola"), Text(""), Pick("threat", MENU), Pick(NAV_CANCEL), Pick("confirm", None)],
)
def test_any_first_message_is_treated_as_start(event: Event) -> None:
    assert advance(FLOW, None, event) == advance(FLOW, None, Command("start"))


def test_stored_state_of_a_removed_step_starts_over() -> None:
    old = State(step="threat.removed", answers={"municipality": TUMACO}, status="active")
    assert advance(FLOW, old, Text("hola")) == advance(FLOW, None, Command("start"))


def test_ayuda_shows_help_then_menu_and_help_button_too() -> None:
    state, replies = reach("threat.type")
    state, replies = advance(FLOW, state, Command("ayuda"))
    assert msgids(replies) == [MSG_HELP, MSG_MENU]
    assert state.step == MENU and state.answers == {}
    state, replies = page_to("help", state, replies)  # on the menu's second screen
    state, replies = advance(FLOW, state, press(replies, "help"))
    assert msgids(replies) == [MSG_HELP, MSG_MENU]
    assert state.step == MENU and state.history == ()


def test_unknown_command_shows_the_menu() -> None:
    state, replies = advance(FLOW, reach("threat.when")[0], Command("borrar"))
    assert msgids(replies) == [MSG_WELCOME, MSG_MENU]
    assert state.answers == {}


def test_salir_forgets_everything_with_one_neutral_reply() -> None:
    state, replies = advance(FLOW, reach("threat.confirm")[0], Command("salir"))
    assert state.status == "cancelled" and state.pending == Effect("wipe_chat")
    assert state.answers == {} and state.history == () and state.step is None
    assert replies == list(wipe_replies())
    # Someone looking at the phone afterwards should not learn what was going on.
    assert not any(word in MSG_EXIT.lower() for word in ("amenaza", "riesgo", "reporte"))
    again, replies = advance(FLOW, state, Text("hola"))
    assert msgids(replies) == [MSG_WELCOME, MSG_MENU] and again.answers == {}


def test_after_submitting_the_next_message_starts_over() -> None:
    state, replies = reach("threat.confirm")
    state, _ = advance(FLOW, state, press(replies, "confirm"))
    assert state.status == "submitted"
    again, replies = advance(FLOW, state, press(replies, "confirm"))  # a double tap
    assert again.status == "active" and again.answers == {}
    assert msgids(replies) == [MSG_WELCOME, MSG_MENU]


def test_engine_without_command_handler_enters_start() -> None:
    class Ask(Step):
        def __init__(self) -> None:
            self.id, self.next = "q", "q"

        def ask(self, state: State) -> tuple[Reply, ...]:
            return (Reply(Msg("Q"), (Choice("a", "A"),), step="q"),)

        def take(self, state: State, event: Text | Pick) -> Outcome:
            return Outcome(state.answer("q", "a"), goto="q")

    flow = Flow(name="toy", steps={"q": Ask()}, start="q")
    state, _ = advance(flow, None, Pick("a", "q"))
    state, _ = advance(flow, state, Pick("a", "q"))
    # Entering the start step begins afresh: nothing of an abandoned answer stays.
    assert state.answers == {} and state.history == ()
    state, replies = advance(flow, state, Command("anything"))
    assert state == State(step="q", status="active") and msgids(replies) == ["Q"]


# --- Atrás and Cancelar ------------------------------------------------------------------------

BACK = [
    ("threat.danger", MENU),
    (MUN, "threat.danger"),
    ("threat.target", MUN),
    ("threat.type", "threat.target"),
    ("threat.channel", "threat.type"),
    ("threat.actor", "threat.channel"),
    ("threat.when", "threat.actor"),
    ("threat.description", "threat.when"),
    ("threat.evidence", "threat.description"),
    ("threat.notify", "threat.evidence"),
    ("threat.confirm", "threat.notify"),
]


@pytest.mark.parametrize(("here", "previous"), BACK)
def test_back_asks_previous_question_and_keeps_answers(here: str, previous: str) -> None:
    state, replies = reach(here)
    back, replies = advance(FLOW, state, press(replies, NAV_BACK))
    assert back.step == previous and asks(replies, previous)
    if previous == MENU:
        # Back at the menu, the abandoned report leaves nothing in the draft.
        assert back.answers == {} and back.history == ()
    else:
        assert back.answers == state.answers
        assert back.history == state.history[:-1]
    assert back.status == "active"


def test_answer_changed_after_back_replaces_the_old_one() -> None:
    state, replies = reach("threat.channel")
    state, replies = advance(FLOW, state, press(replies, NAV_BACK))
    state, replies = advance(FLOW, state, press(replies, NAV_BACK))
    state, replies = advance(FLOW, state, press(replies, "target.leader"))
    assert asks(replies, "threat.type")
    assert state.answers["target"] == "target.leader"
    assert state.answers["municipality"] == TUMACO
    assert state.history == ("menu", "threat.danger", MUN, "threat.target")


@pytest.mark.parametrize("here", [*(step for step in QUESTION if step != MENU), "tumaco-pending"])
def test_cancel_returns_to_menu_and_forgets_answers(here: str) -> None:
    if here == "tumaco-pending":
        state, replies = advance(FLOW, reach(MUN)[0], Text("tumaco"))
    else:
        state, replies = reach(here)
    cancelled, replies = advance(FLOW, state, press(replies, NAV_CANCEL))
    assert msgids(replies) == [MSG_CANCELLED, MSG_MENU]
    assert cancelled == State(step=MENU, status="active")


# --- Stale and unknown buttons ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("here", "stale"),
    [
        ("threat.type", Pick("target.leader", "threat.target")),
        ("threat.target", Pick("threat", MENU)),
        ("threat.danger", Pick(NAV_CANCEL, "threat.description")),
        ("threat.confirm", Pick(NAV_BACK, "threat.danger")),
        ("threat.confirm", Pick("yes", "threat.danger")),
        ("threat.confirm", Pick("yes", "threat.notify")),
        (MENU, Pick("confirm", "threat.confirm")),
        (MUN, Pick(f"mun:{TUMACO}", "threat.target")),
        ("threat.when", Pick("when.today", "threat.gone")),
    ],
)
def test_stale_button_repeats_current_question(here: str, stale: Pick) -> None:
    state, _ = reach(here)
    after, replies = advance(FLOW, state, stale)
    assert after == state
    assert msgids(replies)[0] == MSG_STALE_BUTTON
    assert len(replies) == 2 and asks(replies, here)


def test_old_send_button_after_back_does_not_submit() -> None:
    state, replies = reach("threat.confirm")
    send = press(replies, "confirm")
    state, _ = advance(FLOW, state, press(replies, NAV_BACK))
    after, replies = advance(FLOW, state, send)
    assert after.status == "active" and after.step == "threat.notify"
    assert msgids(replies)[0] == MSG_STALE_BUTTON


@pytest.mark.parametrize(
    ("here", "code"),
    [
        ("threat.type", "threat.bogus"),
        ("threat.type", "target.self"),  # valid on another question
        ("threat.type", ""),
        ("threat.type", "THREAT.ATTACK"),
        ("threat.type", "confirm"),
        ("threat.danger", "maybe"),
        (MENU, "report"),  # an entry the menu does not offer
        (MENU, "stigma.by_media"),
        (MENU, NAV_BACK.upper()),
        ("threat.confirm", "yes"),
    ],
)
@pytest.mark.parametrize("with_step", [True, False])
def test_unknown_pick_code_asks_again(here: str, code: str, with_step: bool) -> None:
    state, _ = reach(here)
    after, replies = advance(FLOW, state, Pick(code, here if with_step else None))
    assert after == state
    assert msgids(replies)[0] == MSG_DIDNT_UNDERSTAND and asks(replies, here)


@pytest.mark.parametrize("here", ["threat.target", "threat.danger", "threat.confirm", MENU])
def test_text_where_buttons_are_expected_asks_again(here: str) -> None:
    state, _ = reach(here)
    after, replies = advance(FLOW, state, Text("confirm"))
    assert after == state
    assert msgids(replies)[0] == MSG_DIDNT_UNDERSTAND and asks(replies, here)


# --- Free text ----------------------------------------------------------------------------------


def describe(text: str) -> tuple[State, State, list[Reply]]:
    state, _ = reach("threat.description")
    return (state, *advance(FLOW, state, Text(text)))


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t \n", "\x00\x07\x1b", "\u200b\u200e\u202e", " \x00 \t\r\n", "\ufeff"]
)
def test_description_without_words_is_refused(text: str) -> None:
    before, after, replies = describe(text)
    assert after == before
    assert msgids(replies) == [MSG_WRITE_TEXT, MSG_ASK_DESCRIPTION]


def test_button_on_description_asks_for_text() -> None:
    state, _ = reach("threat.description")
    after, replies = advance(FLOW, state, Pick("when.today", "threat.description"))
    assert after == state and msgids(replies) == [MSG_WRITE_TEXT, MSG_ASK_DESCRIPTION]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Me\x00 amenazaron\x1b.", "Me amenazaron."),
        ("  Línea 1\r\nLínea 2\t\n ", "Línea 1\nLínea 2"),
        ("\u202eotnemom", "otnemom"),
        ("ñandú 🚨 ", "ñandú 🚨"),
    ],
)
def test_description_is_stored_without_control_characters(text: str, kept: str) -> None:
    _, after, replies = describe(text)
    assert after.answers["description"] == kept
    assert after.step == "threat.evidence" and asks(replies, "threat.evidence")


@pytest.mark.parametrize("text", ["ñ" * 4000, " " * 50 + "a" * 4000 + "\x00" * 50])
def test_description_of_4000_characters_is_kept_whole(text: str) -> None:
    _, after, _ = describe(text)
    assert after.answers["description"] == clean_text(text)
    assert len(after.answers["description"]) == 4000


@pytest.mark.parametrize("text", ["a" * 4001, "ñ" * 10_000])
def test_description_over_the_limit_is_refused_with_the_limit(text: str) -> None:
    before, after, replies = describe(text)
    assert after == before
    assert replies[0].text == Msg(MSG_TOO_LONG, {"limit": 4000})
    assert asks(replies, "threat.description")


# --- State as JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        State(),
        State(status="cancelled", locale="en"),
        State(step=MUN, history=(MENU,), scratch={"candidates": ["19785", "70771"]},
              answers={"kind": "threat", "description": "ñ \"ç\" \n 🚨 \x00"}, status="active"),
    ],
)  # fmt: skip
def test_state_json_round_trip(state: State) -> None:
    assert State.from_json(state.to_json()) == state


def test_state_json_round_trip_at_every_step_of_a_walk() -> None:
    state: State | None = None
    replies: list[Reply] = []
    for item in [*PATH, NAV_BACK, "yes", "confirm"]:
        event = press(replies, item) if isinstance(item, str) else item
        state, replies = advance(FLOW, state, event)
        assert State.from_json(state.to_json()) == state
    assert state is not None and state.status == "submitted"
