"""The threat report walked as a person would: typing text and pressing the buttons shown."""

from __future__ import annotations

import pytest

from flows import taxonomy
from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    MSG_NO_FILES_HERE,
    NAV_BACK,
    NAV_CANCEL,
    Command,
    FileSent,
    Msg,
    Pick,
    Reply,
    State,
    Text,
    advance,
)
from flows.evidence import MSG_ASK_EVIDENCE, MSG_EVIDENCE_LIMIT, MSG_EVIDENCE_RECEIVED
from flows.menu import MSG_HELP, MSG_MENU, MSG_WELCOME
from flows.municipality_step import (
    MSG_ASK_MUNICIPALITY,
    MSG_MUNICIPALITY_AMBIGUOUS,
    MSG_MUNICIPALITY_CONFIRM,
    MSG_MUNICIPALITY_NOT_FOUND,
    MSG_MUNICIPALITY_RETRY,
    MSG_NONE_OF_THESE,
)
from flows.pleas import MSG_EMERGENCY, MSG_MARKED_URGENT
from flows.reports import confirmed_report, urgency_of
from flows.summary import (
    MSG_ASK_NOTIFY,
    MSG_LINE_MUNICIPALITY,
    MSG_LINE_NOTIFY,
    MSG_SUMMARY,
    MSG_VOICE_NOTE,
)
from flows.threat import (
    MSG_ASK_DANGER,
    MSG_ASK_TARGET,
    MSG_LINE_DANGER,
    MSG_LINE_DESCRIPTION,
    MSG_LINE_EVIDENCE,
    MSG_LINE_THREAT,
)
from tests.support.places import MEDELLIN, TUMACO
from tests.support.walk import (
    DESCRIPTION,
    FLOW,
    Item,
    answer_emergency,
    assert_well_formed,
    msgs_of,
    page_to,
    press,
    threat_walk,
    trace,
)

MUN = "threat.municipality"


CASES = [
    pytest.param("target.self", "threat.extortion", "no", "normal", id="normal"),
    pytest.param("target.other", "threat.other", "no", "normal", id="normal-other"),
    pytest.param("target.leader", "threat.surveillance", "no", "high", id="leader-is-high"),
    pytest.param("target.family", "threat.death_threat", "no", "high", id="death-threat-is-high"),
    pytest.param("target.group", "threat.digital", "yes", "immediate", id="danger-is-immediate"),
    pytest.param("target.leader", "threat.death_threat", "yes", "immediate", id="danger-first"),
]


def run_case(target: str, category: str, danger: str) -> list[tuple[State, list[Reply]]]:
    return trace([item for item, _, _ in threat_walk(target, category, danger)])


@pytest.mark.parametrize(("target", "category", "danger", "urgency"), CASES)
def test_threat_report_walk(target: str, category: str, danger: str, urgency: str) -> None:
    table = threat_walk(target, category, danger)
    seen = run_case(target, category, danger)

    assert [r.text.msgid for r in seen[0][1]] == [MSG_WELCOME, MSG_MENU]
    # Danger first: the first question of the report.
    assert [r.text.msgid for r in seen[1][1]] == [MSG_ASK_DANGER]
    for (_, step, question), (state, replies) in zip(table[:-1], seen[:-1], strict=True):
        assert state.status == "active"
        assert state.step == step
        assert replies[-1].text.msgid == question
        assert replies[-1].step == step  # its buttons belong to the current question

    confirm_prompt = seen[3][1][-1]
    assert confirm_prompt.text.params == {"municipality": "San Andrés de Tumaco (Nariño)"}

    after_danger = [r.text.msgid for r in seen[2][1]]
    if danger == "yes":
        # The emergency lines come right away, before anything else is asked.
        assert after_danger == [MSG_EMERGENCY, MSG_MARKED_URGENT, MSG_ASK_MUNICIPALITY]
        assert "123" in MSG_EMERGENCY and "103" in MSG_EMERGENCY
    else:
        assert after_danger == [MSG_ASK_MUNICIPALITY]
    # Nothing asks about danger again.
    assert all(r.text.msgid != MSG_ASK_DANGER for _, replies in seen[2:] for r in replies)
    notify = seen[-3][1][-1]
    assert notify.text.msgid == MSG_ASK_NOTIFY
    assert [c.code for c in notify.choices][:2] == ["no", "yes"]  # "No" is the default

    details = seen[-2][1][-1].text.params["details"]
    assert isinstance(details, tuple)
    assert Msg(MSG_LINE_MUNICIPALITY, {"value": "San Andrés de Tumaco (Nariño)"}) in details
    assert Msg(MSG_LINE_DESCRIPTION, {"value": DESCRIPTION}) in details
    assert Msg(MSG_LINE_THREAT, {"value": Msg(taxonomy.THREATS[category])}) in details
    assert Msg(MSG_LINE_NOTIFY, {"value": Msg(taxonomy.YES_NO["no"])}) in details
    assert not any(line.msgid == MSG_LINE_EVIDENCE for line in details)

    state, replies = seen[-1]
    assert state.status == "submitted"
    assert replies == []  # the receipt is the transport's, and only after the commit
    submission = confirmed_report(state)
    assert submission.kind == "threat"
    assert submission.category == category
    assert submission.municipality_code == TUMACO
    assert submission.urgency == urgency == urgency_of(state.answers)
    assert submission.answers["description"] == DESCRIPTION
    assert submission.answers["target"] == target
    assert submission.answers["immediate_danger"] == danger
    assert submission.answers["notify"] == "no"
    assert submission.answers["locale"] == "es"
    assert "evidence" not in submission.answers and "description_voice" not in submission.answers


@pytest.mark.parametrize("danger", ["yes", "no"])
def test_summary_shows_danger_answer_as_catalogued_label(danger: str) -> None:
    state, replies = run_case("target.self", "threat.other", danger)[-2]
    details = replies[-1].text.params["details"]
    assert isinstance(details, tuple)
    assert Msg(MSG_LINE_DANGER, {"value": Msg(taxonomy.YES_NO[danger])}) in details


def test_changing_danger_answer_after_back_changes_urgency() -> None:
    seen = run_case("target.self", "threat.extortion", "yes")
    state, replies = seen[-2]  # on the summary
    while state.step != "threat.danger":
        state, replies = trace([NAV_BACK], state, replies)[-1]
    again = [item for item, _, _ in threat_walk("target.self", "threat.extortion", "no")][2:]
    state, replies = trace(again, state, replies)[-1]
    assert state.status == "submitted"
    assert confirmed_report(state).urgency == "normal"


# --- Voice description, evidence, notify ----------------------------------------------------

VOICE = FileSent("voice", "ref-voice-1", 48_000, "audio/ogg")
PHOTO = FileSent("photo", "ref-photo", 120_000, "image/jpeg")


def at(step_id: str) -> tuple[State, list[Reply]]:
    """Follows the plain walk until `step_id` asks its question."""
    for state, replies in run_case("target.self", "threat.extortion", "no"):
        if state.step == step_id:
            return state, replies
    raise AssertionError(step_id)


@pytest.mark.parametrize("kind", ["voice", "audio"])
def test_a_voice_note_answers_the_description(kind: str) -> None:
    state, _ = at("threat.description")
    state, replies = advance(FLOW, state, FileSent(kind, "ref-1", 9000, "audio/ogg"))
    assert state.step == "threat.evidence" and replies[-1].text.msgid == MSG_ASK_EVIDENCE
    assert state.answers["description"] == ""
    assert state.answers["description_voice"] == {
        "kind": kind, "ref": "ref-1", "size": 9000, "mime": "audio/ogg",
    }  # fmt: skip
    state, replies = trace(["done", "no"], state, replies)[-1]
    details = replies[-1].text.params["details"]
    assert isinstance(details, tuple)
    assert Msg(MSG_LINE_DESCRIPTION, {"value": Msg(MSG_VOICE_NOTE)}) in details
    state, _ = advance(FLOW, state, press(replies, "confirm"))
    assert confirmed_report(state).answers["description_voice"]["ref"] == "ref-1"


def test_text_written_after_going_back_replaces_the_voice_note() -> None:
    state, _ = at("threat.description")
    state, replies = advance(FLOW, state, VOICE)
    state, replies = advance(FLOW, state, press(replies, NAV_BACK))
    assert state.step == "threat.description"
    state, _ = advance(FLOW, state, Text("Ahora lo escribo."))
    assert state.answers["description"] == "Ahora lo escribo."
    assert "description_voice" not in state.answers


@pytest.mark.parametrize("here", ["threat.description", "threat.target", "threat.danger", MUN])
def test_a_photo_where_no_file_is_asked_is_refused_politely(here: str) -> None:
    state, _ = at(here)
    after, replies = advance(FLOW, state, PHOTO)
    assert after == state
    assert replies[0].text.msgid == MSG_NO_FILES_HERE and replies[-1].step == here


def test_evidence_counts_files_up_to_five_then_says_the_limit() -> None:
    state, replies = at("threat.evidence")
    assert [c.code for c in replies[-1].choices] == ["done", "skip", NAV_BACK, NAV_CANCEL]
    files = [FileSent(kind, f"ref-{i}", 1000 + i, mime) for i, (kind, mime) in enumerate(
        [("photo", "image/jpeg"), ("document", "application/pdf"), ("audio", "audio/mpeg"),
         ("voice", "audio/ogg"), ("photo", "image/jpeg")]
    )]  # fmt: skip
    for count, file in enumerate(files, 1):
        state, replies = advance(FLOW, state, file)
        assert state.step == "threat.evidence"
        assert [r.text for r in replies] == [Msg.counted(MSG_EVIDENCE_RECEIVED, count)]
        # Once files came, "Listo" is the way on; "Omitir" would only confuse.
        assert [c.code for c in replies[0].choices] == ["done", NAV_BACK, NAV_CANCEL]
    full, replies = advance(FLOW, state, FileSent("photo", "ref-6", 1, "image/jpeg"))
    assert full == state
    assert [r.text for r in replies] == [Msg.counted(MSG_EVIDENCE_LIMIT, 5)]
    assert [f["ref"] for f in state.answers["evidence"]] == [f"ref-{i}" for i in range(5)]
    assert state.answers["evidence"][1] == {
        "kind": "document", "ref": "ref-1", "size": 1001, "mime": "application/pdf",
    }  # fmt: skip

    state, replies = trace(["done", "yes"], state, replies)[-1]
    details = replies[-1].text.params["details"]
    assert isinstance(details, tuple)
    assert Msg(MSG_LINE_EVIDENCE, {"count": 5}) in details
    assert Msg(MSG_LINE_NOTIFY, {"value": Msg(taxonomy.YES_NO["yes"])}) in details
    state, _ = advance(FLOW, state, press(replies, "confirm"))
    answers = confirmed_report(state).answers
    assert len(answers["evidence"]) == 5 and answers["notify"] == "yes"


def test_text_on_the_evidence_question_asks_again() -> None:
    state, _ = at("threat.evidence")
    after, replies = advance(FLOW, state, Text("no tengo"))
    assert after == state
    assert [r.text.msgid for r in replies] == [MSG_DIDNT_UNDERSTAND, MSG_ASK_EVIDENCE]


def test_evidence_survives_going_back_and_forth() -> None:
    state, _ = at("threat.evidence")
    state, replies = advance(FLOW, state, PHOTO)
    state, replies = trace(["done", NAV_BACK], state, replies)[-1]
    assert state.step == "threat.evidence" and len(state.answers["evidence"]) == 1
    assert [c.code for c in replies[-1].choices] == ["done", NAV_BACK, NAV_CANCEL]


# --- The municipality question ----------------------------------------------------------------


def at_municipality() -> tuple[State, list[Reply]]:
    return trace([Command("start"), "threat", "no"])[-1]


def test_tumaco_is_confirmed_before_moving_on() -> None:
    state, replies = trace([Text("tumaco")], at_municipality()[0])[-1]
    assert state.step == MUN and "municipality" not in state.answers
    (reply,) = replies
    shown = "San Andrés de Tumaco (Nariño)"
    assert reply.text == Msg(MSG_MUNICIPALITY_CONFIRM, {"municipality": shown})
    labels = {c.code: c.label for c in reply.choices}
    assert labels[f"mun:{TUMACO}"] == Msg("Sí")
    assert labels["mun:none"] == Msg("No")
    assert {NAV_BACK, NAV_CANCEL} <= labels.keys()


def test_ambiguous_name_offers_one_button_per_department() -> None:
    state, replies = trace([Text("Sucre")], at_municipality()[0])[-1]
    (reply,) = replies
    assert reply.text.msgid == MSG_MUNICIPALITY_AMBIGUOUS
    labels = [c.label for c in reply.choices]
    assert labels[:3] == ["Sucre (Cauca)", "Sucre (Sucre)", Msg(MSG_NONE_OF_THESE)]
    assert [c.code for c in reply.choices[:2]] == ["mun:19785", "mun:70771"]

    chosen, replies = advance(FLOW, state, press(replies, "mun:70771"))
    assert chosen.step == "threat.target"
    assert chosen.answers["municipality"] == "70771"
    assert replies[-1].text.msgid == MSG_ASK_TARGET


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([Text("tumaco"), "mun:none"], id="no-on-confirmation"),
        pytest.param([Text("Sucre"), "mun:none"], id="none-of-these"),
    ],
)
def test_none_asks_again(items: list[Item]) -> None:
    start, shown = at_municipality()
    state, replies = trace(items, start)[-1]
    assert state.step == MUN
    assert "municipality" not in state.answers
    assert [r.text.msgid for r in replies] == [MSG_MUNICIPALITY_RETRY]
    # The "Sí" pressed after saying "No" is not taken any more.
    refused, replies = advance(FLOW, state, Pick(f"mun:{TUMACO}", MUN))
    assert "municipality" not in refused.answers
    assert replies[0].text.msgid == MSG_DIDNT_UNDERSTAND


def test_unknown_name_says_not_found_and_stays() -> None:
    start, _ = at_municipality()
    state, replies = advance(FLOW, start, Text("xyzzy"))
    assert state.step == MUN and state.answers == start.answers
    assert [r.text.msgid for r in replies] == [MSG_MUNICIPALITY_NOT_FOUND]
    # The covered departments are offered at once, to pick from a list instead.
    assert replies[0].step == MUN and [c.code for c in replies[0].choices] == [
        "dep:05", "dep:13", "dep:19", "dep:23", "dep:52", "dep:54", "dep:70", NAV_BACK, NAV_CANCEL,
    ]  # fmt: skip
    found, _ = advance(FLOW, state, Text("Tumaco"))  # and may try again
    assert found.scratch == {"candidates": [TUMACO]}


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([], id="nothing-offered-yet"),
        pytest.param([Text("tumaco")], id="tumaco-offered"),
        pytest.param([Text("Sucre"), Text("tumaco")], id="sucre-replaced-by-tumaco"),
    ],
)
@pytest.mark.parametrize("code", [f"mun:{MEDELLIN}", "mun:70771", "mun:11001", "mun:99999", "mun:"])
def test_forged_municipality_pick_is_refused(items: list[Item], code: str) -> None:
    start, _ = at_municipality()
    state = trace(items, start)[-1][0] if items else start
    after, replies = advance(FLOW, state, Pick(code, MUN))
    assert after.step == MUN
    assert "municipality" not in after.answers
    assert [r.text.msgid for r in replies] == [MSG_DIDNT_UNDERSTAND, MSG_ASK_MUNICIPALITY]


# --- State JSON and catalog ---------------------------------------------------------------------

SCENARIOS: list[list[Item]] = [
    *([item for item, _, _ in threat_walk(*map(str, case.values[:3]))] for case in CASES),
    [Text("hola"), "threat", "no", Text("Sucre"), "mun:none", Text("xyzzy"), Text("san juan")],
    [Command("start"), "help", "threat", "no", Text("tumaco"), f"mun:{TUMACO}", "target.self",
     NAV_BACK, NAV_BACK, NAV_BACK, NAV_BACK, "threat", "yes", Text("cordoba narino"),
     "mun:52215", NAV_CANCEL],
    [Command("start"), "threat", "yes", Text("tumaco"), f"mun:{TUMACO}", "target.leader",
     "threat.attack", Pick("target.self", "threat.target"), Text("?"), Pick("x", "threat.channel"),
     "channel.phone", "actor.other", "when.today", Text(""), Text("x" * 4001),
     Pick("foo", "threat.description"), Text("ok"), "skip", "yes", NAV_BACK, "no",
     Command("salir")],
    [Command("ayuda"), Command("otro"), Pick("threat", None), Text("\x00"), Command("salir")],
]


@pytest.mark.parametrize("items", SCENARIOS)
def test_state_json_round_trip_at_every_step(items: list[Item]) -> None:
    direct = trace(items)
    # The transports store the state as JSON between messages: resuming from it changes nothing.
    state: State | None = None
    replies: list[Reply] = []
    for item, (expected_state, expected_replies) in zip(items, direct, strict=True):
        assert expected_state == State.from_json(expected_state.to_json())
        if isinstance(item, str):
            state, replies = page_to(item, state, replies)
            state = State.from_json(state.to_json()) if state is not None else None
        event = press(replies, item) if isinstance(item, str) else item
        state, replies = answer_emergency(*advance(FLOW, state, event))
        assert (state, replies) == (expected_state, expected_replies)
        state = State.from_json(state.to_json())


def test_every_msgid_seen_is_catalogued_with_its_placeholders() -> None:
    seen: set[str] = set()
    for items in SCENARIOS:
        for _, replies in trace(items):
            assert_well_formed(replies)
            seen.update(msg.msgid for msg in msgs_of(replies))
    assert {MSG_WELCOME, MSG_HELP, MSG_SUMMARY, MSG_EMERGENCY} <= seen  # the walks went far
