"""The engine's promises, through the real flow: commands, Atrás/Cancelar, stale buttons,
free-text rules, the JSON state, and random conversations that must never break it."""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from flows import taxonomy
from flows.conversation import (
    MENU,
    MSG_ASK_ACTOR,
    MSG_ASK_CHANNEL,
    MSG_ASK_DANGER,
    MSG_ASK_DESCRIPTION,
    MSG_ASK_MUNICIPALITY,
    MSG_ASK_TARGET,
    MSG_ASK_THREAT,
    MSG_ASK_WHEN,
    MSG_EXIT,
    MSG_HELP,
    MSG_MENU,
    MSG_SUMMARY,
    MSG_WELCOME,
    build_flow,
)
from flows.engine import (
    MSG_CANCELLED,
    MSG_DIDNT_UNDERSTAND,
    MSG_STALE_BUTTON,
    NAV_BACK,
    NAV_CANCEL,
    Choice,
    Command,
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
from flows.municipalities import Catalog
from flows.reports import submission_from_state
from flows.steps import MSG_TOO_LONG, MSG_WRITE_TEXT, clean_text

CATALOG = Catalog.load()
FLOW = build_flow(CATALOG)
MUN = "threat.municipality"
PO_FILE = Path(__file__).resolve().parents[2] / "locales" / "es" / "LC_MESSAGES" / "messages.po"
KNOWN_UNCATALOGUED: frozenset[str] = frozenset()

QUESTION = {
    MENU: MSG_MENU,
    MUN: MSG_ASK_MUNICIPALITY,
    "threat.target": MSG_ASK_TARGET,
    "threat.type": MSG_ASK_THREAT,
    "threat.channel": MSG_ASK_CHANNEL,
    "threat.actor": MSG_ASK_ACTOR,
    "threat.when": MSG_ASK_WHEN,
    "threat.description": MSG_ASK_DESCRIPTION,
    "threat.danger": MSG_ASK_DANGER,
    "threat.confirm": MSG_SUMMARY,
}
# The way to the summary; a str is a button code, pressed on the question that shows it.
PATH: list[Event | str] = [
    Command("start"), "threat", Text("tumaco"), "mun:52835", "target.self", "threat.extortion",
    "channel.phone", "actor.unknown", "when.today", Text("Me dejaron un panfleto."), "no",
]  # fmt: skip


def press(replies: Sequence[Reply], code: str) -> Pick:
    offered = {choice.code: reply.step for reply in replies for choice in reply.choices}
    assert code in offered, f"{code!r} not offered; buttons: {sorted(offered)}"
    return Pick(code, offered[code])


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


def msgids(replies: Sequence[Reply]) -> list[str]:
    return [reply.text.msgid for reply in replies]


def asks(replies: Sequence[Reply], step_id: str) -> bool:
    """The last reply is the question of `step_id`, with its buttons tied to it."""
    return replies[-1].text.msgid == QUESTION[step_id] and replies[-1].step == step_id


# --- Commands and the first message -------------------------------------------------------------


def test_start_shows_welcome_then_menu_without_nav_buttons() -> None:
    state, replies = advance(FLOW, None, Command("start"))
    assert msgids(replies) == [MSG_WELCOME, MSG_MENU]
    assert [c.code for c in replies[1].choices] == ["threat", "help"]
    assert state == State(step=MENU, status="active")


@pytest.mark.parametrize(
    "event",
    [Text("hola"), Text(""), Pick("threat", MENU), Pick(NAV_CANCEL), Pick("confirm", None)],
)
def test_any_first_message_is_treated_as_start(event: Event) -> None:
    assert advance(FLOW, None, event) == advance(FLOW, None, Command("start"))


def test_stored_state_of_a_removed_step_starts_over() -> None:
    old = State(step="threat.removed", answers={"municipality": "52835"}, status="active")
    assert advance(FLOW, old, Text("hola")) == advance(FLOW, None, Command("start"))


def test_ayuda_shows_help_then_menu_and_help_button_too() -> None:
    state, replies = reach("threat.type")
    state, replies = advance(FLOW, state, Command("ayuda"))
    assert msgids(replies) == [MSG_HELP, MSG_MENU]
    assert state.step == MENU and state.answers == {}
    state, replies = advance(FLOW, state, press(replies, "help"))
    assert msgids(replies) == [MSG_HELP, MSG_MENU]
    assert state.step == MENU and state.history == ()


def test_unknown_command_shows_the_menu() -> None:
    state, replies = advance(FLOW, reach("threat.when")[0], Command("borrar"))
    assert msgids(replies) == [MSG_WELCOME, MSG_MENU]
    assert state.answers == {}


def test_salir_forgets_everything_with_one_neutral_reply() -> None:
    state, replies = advance(FLOW, reach("threat.confirm")[0], Command("salir"))
    assert state.status == "cancelled"
    assert state.answers == {} and state.history == () and state.step is None
    assert replies == [Reply(Msg(MSG_EXIT))]
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
    (MUN, MENU),
    ("threat.target", MUN),
    ("threat.type", "threat.target"),
    ("threat.channel", "threat.type"),
    ("threat.actor", "threat.channel"),
    ("threat.when", "threat.actor"),
    ("threat.description", "threat.when"),
    ("threat.danger", "threat.description"),
    ("threat.confirm", "threat.danger"),
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
    assert state.answers["municipality"] == "52835"
    assert state.history == ("menu", MUN, "threat.target")


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
        (MENU, Pick("confirm", "threat.confirm")),
        (MUN, Pick("mun:52835", "threat.target")),
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
    assert after.status == "active" and after.step == "threat.danger"
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
        (MENU, "stigma"),  # a report kind the menu does not offer
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
    assert after.step == "threat.danger" and asks(replies, "threat.danger")


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


# --- Random conversations -----------------------------------------------------------------------


def _spanish_msgids() -> frozenset[str]:
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    return frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id)


SPANISH = _spanish_msgids()
ANSWER_KEY = {step_id: getattr(step, "key", "") or step_id for step_id, step in FLOW.steps.items()}
TOWNS = ["tumaco", "Sucre", "san juan", "cordoba narino", "Tumacco"]  # all found
NAMES = [*TOWNS, "xyzzy", "Ninguno", "  ", "Sí"]
NAV = (NAV_BACK, NAV_CANCEL)


def _msgs(msg: Msg) -> Iterator[Msg]:
    yield msg
    for value in msg.params.values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Msg):
                yield from _msgs(item)


class Conversation(RuleBasedStateMachine):
    """A person pressing anything, old or forged buttons included, and typing anything."""

    def __init__(self) -> None:
        super().__init__()
        self.state: State | None = None
        self.replies: list[Reply] = []
        self.left: dict[str, Any] = {}  # step -> its answer when the person moved on from it

    def send(self, event: Event) -> None:
        before = self.state
        state, replies = advance(FLOW, before, event)
        assert State.from_json(state.to_json()) == state
        if state.status == "submitted":
            assert before is not None and before.step == "threat.confirm"
            assert state.answers == before.answers  # what the summary showed is what is sent
        if before is not None and before.status == "active" and before.step is not None:
            if state.history == (*before.history, before.step):
                self.left[before.step] = state.answers.get(ANSWER_KEY[before.step])
        self.state, self.replies = state, replies
        self.check_replies()
        self.check_answers()

    def offered(self) -> list[Pick]:
        return [Pick(c.code, r.step) for r in self.replies for c in r.choices]

    @rule(text=st.text(max_size=300))
    def type_anything(self, text: str) -> None:
        self.send(Text(text))

    @rule(text=st.sampled_from(NAMES))
    def type_a_town(self, text: str) -> None:
        self.send(Text(text))

    @rule(
        code=st.text(max_size=80),
        step=st.none() | st.sampled_from(sorted(FLOW.steps)) | st.text(max_size=30),
    )
    def press_forged(self, code: str, step: str | None) -> None:
        self.send(Pick(code, step))

    @precondition(lambda self: bool(self.offered()))
    @rule(data=st.data())
    def press_shown(self, data: st.DataObject) -> None:
        self.send(data.draw(st.sampled_from(self.offered())))

    @rule(name=st.sampled_from(["start", "salir", "ayuda", "unknown"]) | st.text(max_size=20))
    def command(self, name: str) -> None:
        self.send(Command(name))

    @rule(data=st.data(), moves=st.integers(min_value=1, max_value=15))
    def go_forward(self, data: st.DataObject, moves: int) -> None:
        """Several useful moves in a row, so that random runs reach the summary and submit."""
        for _ in range(moves):
            picks = [p for p in self.offered() if p.code not in NAV]
            step = self.state.step if self.state else None
            if step == MUN and not picks:
                self.send(Text(data.draw(st.sampled_from(TOWNS))))
            elif step == "threat.description":
                self.send(Text(data.draw(st.text(min_size=1, max_size=50))))
            elif picks:
                self.send(data.draw(st.sampled_from(picks)))
            else:
                self.send(Command("start"))

    def check_replies(self) -> None:
        """Every reply is a catalogued msgid; buttons are current and fit in callback data."""
        for reply in self.replies:
            for msg in _msgs(reply.text):
                assert isinstance(msg.msgid, str) and msg.msgid
                assert msg.msgid in SPANISH | KNOWN_UNCATALOGUED, msg.msgid
                fields = {f for _, f, _, _ in string.Formatter().parse(msg.msgid) if f}
                assert fields == set(msg.params), msg.msgid
            if reply.choices:
                assert self.state is not None and reply.step == self.state.step
            codes = [choice.code for choice in reply.choices]
            assert len(set(codes)) == len(codes)
            for choice in reply.choices:
                assert isinstance(choice.code, str) and choice.code
                assert len(f"{reply.step}|{choice.code}".encode()) <= 60
                assert choice.label
                if isinstance(choice.label, Msg):
                    assert choice.label.msgid in SPANISH, choice.label.msgid

    def check_answers(self) -> None:
        """A submitted report is complete; answers of the questions behind us are intact."""
        state = self.state
        if state is None:
            return
        if state.status == "submitted":
            submission = submission_from_state(state)
            assert submission.kind == "threat"
            assert submission.municipality_code in CATALOG
            assert submission.category in taxonomy.THREATS
        if state.status == "active":
            for step_id in state.history:
                assert state.answers.get(ANSWER_KEY[step_id]) == self.left[step_id], step_id


def test_random_conversations_never_break_or_lose_answers() -> None:
    run_state_machine_as_test(
        Conversation, settings=settings(max_examples=200, deadline=None, database=None)
    )
