"""The stigmatization report walked as a person would, and what it becomes."""

from __future__ import annotations

import pytest

from flows import taxonomy
from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
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
from flows.menu import MENU, MSG_MENU
from flows.municipality_step import MSG_ASK_MUNICIPALITY, MSG_MUNICIPALITY_CONFIRM
from flows.reports import confirmed_report
from flows.selection import MSG_CHOSEN, MSG_MARK_ONE
from flows.steps import MSG_TOO_LONG, MSG_WRITE_OR_SKIP
from flows.stigma import (
    MSG_ASK_EFFECTS,
    MSG_ASK_LEADERSHIP,
    MSG_ASK_LINK,
    MSG_ASK_SAID,
    MSG_ASK_STIGMA_BY,
    MSG_ASK_STIGMA_CHANNEL,
    MSG_LINE_EFFECTS,
    MSG_LINE_LINK,
    MSG_LINE_SAID,
    MSG_LINE_STIGMA_BY,
)
from flows.summary import MSG_ASK_NOTIFY, MSG_BULLET, MSG_SUMMARY, MSG_VOICE_NOTE
from tests.support.places import TUMACO
from tests.support.walk import FLOW, Item, assert_well_formed, codes, last, press, trace

SAID = "Dijo en la emisora que ella es guerrillera."
LINK = "https://example.org/video/123"


def stigma_walk(said: Item, link: Item, effects: list[str]) -> list[tuple[Item, str, str]]:
    """(what the person does, the step it lands on, the last question on screen)."""
    return [
        (Command("start"), MENU, MSG_MENU),
        ("stigma", "stigma.municipality", MSG_ASK_MUNICIPALITY),
        (Text("tumaco"), "stigma.municipality", MSG_MUNICIPALITY_CONFIRM),
        (f"mun:{TUMACO}", "stigma.leadership", MSG_ASK_LEADERSHIP),
        ("leadership.afro_council", "stigma.by", MSG_ASK_STIGMA_BY),
        ("stigma.by_public_official", "stigma.channel", MSG_ASK_STIGMA_CHANNEL),
        ("stigma_channel.media", "stigma.description", MSG_ASK_SAID),
        (said, "stigma.link", MSG_ASK_LINK),
        (link, "stigma.effects", MSG_ASK_EFFECTS),
        *((effect, "stigma.effects", MSG_ASK_EFFECTS) for effect in effects),
        ("done", "stigma.notify", MSG_ASK_NOTIFY),
        ("yes", "stigma.confirm", MSG_SUMMARY),
        ("confirm", "stigma.confirm", ""),
    ]


CASES = [
    pytest.param(["stigma_effect.none"], "normal", id="nothing-happened"),
    pytest.param(["stigma_effect.isolation", "stigma_effect.loss_of_work"], "normal", id="normal"),
    pytest.param(["stigma_effect.family", "stigma_effect.threats"], "high", id="threats"),
    pytest.param(["stigma_effect.attack"], "high", id="attack"),
    pytest.param(["stigma_effect.displacement"], "high", id="displacement"),
]


@pytest.mark.parametrize(("effects", "urgency"), CASES)
def test_stigma_report_walk(effects: list[str], urgency: str) -> None:
    table = stigma_walk(Text(SAID), Text(LINK), effects)
    seen = trace([item for item, _, _ in table])
    for (_, step, question), (state, replies) in zip(table[:-1], seen[:-1], strict=True):
        assert state.status == "active" and state.step == step
        assert replies[-1].text.msgid == question and replies[-1].step == step
        if step != MENU:
            assert codes(replies[-1])[-2:] == [NAV_BACK, NAV_CANCEL]
        assert_well_formed(replies)

    details = seen[-2][1][-1].text.params["details"]
    assert isinstance(details, tuple)
    assert Msg(MSG_LINE_SAID, {"value": SAID}) in details
    assert Msg(MSG_LINE_LINK, {"value": LINK}) in details
    by = Msg(taxonomy.STIGMA["stigma.by_public_official"])
    assert Msg(MSG_LINE_STIGMA_BY, {"value": by}) in details
    bullets = tuple(
        Msg(MSG_BULLET, {"item": Msg(label)})
        for code, label in taxonomy.STIGMA_EFFECTS.items()
        if code in effects
    )
    assert Msg(MSG_LINE_EFFECTS, {"value": bullets}) in details

    state, replies = seen[-1]
    assert state.status == "submitted" and replies == []
    submission = confirmed_report(state)
    assert submission.kind == "stigma"
    assert submission.category == "stigma.by_public_official"
    assert submission.municipality_code == TUMACO
    assert submission.urgency == urgency
    assert submission.answers["leadership"] == "leadership.afro_council"
    assert submission.answers["channel"] == "stigma_channel.media"
    assert submission.answers["description"] == SAID
    assert submission.answers["link"] == LINK
    assert submission.answers["effects"] == [c for c in taxonomy.STIGMA_EFFECTS if c in effects]
    assert submission.answers["notify"] == "yes"


def test_a_voice_note_tells_what_was_said_and_the_link_may_be_skipped() -> None:
    voice = FileSent("voice", "ref-v", 30_000, "audio/ogg")
    table = stigma_walk(voice, "skip", ["stigma_effect.none"])
    state, replies = trace([item for item, _, _ in table][:-1])[-1]
    details = replies[-1].text.params["details"]
    assert isinstance(details, tuple)
    assert Msg(MSG_LINE_SAID, {"value": Msg(MSG_VOICE_NOTE)}) in details
    assert not any(line.msgid == MSG_LINE_LINK for line in details)
    assert state.answers["description"] == ""
    assert state.answers["description_voice"]["ref"] == "ref-v"
    assert "link" not in state.answers


def reach(step_id: str) -> tuple[State, list[Reply]]:
    table = stigma_walk(Text(SAID), Text(LINK), ["stigma_effect.none"])
    for state, replies in trace([item for item, _, _ in table]):
        if state.step == step_id:
            return state, replies
    raise AssertionError(step_id)


def test_skipping_the_link_after_going_back_forgets_the_old_one() -> None:
    state, replies = reach("stigma.effects")
    assert state.answers["link"] == LINK
    state, replies = last([NAV_BACK, "skip"], state, replies)
    assert state.step == "stigma.effects" and "link" not in state.answers


@pytest.mark.parametrize(
    ("text", "said"),
    [("", Msg(MSG_WRITE_OR_SKIP)), ("x" * 501, Msg(MSG_TOO_LONG, {"limit": 500}))],
)
def test_a_link_must_be_text_of_reasonable_length(text: str, said: Msg) -> None:
    state, _ = reach("stigma.link")
    after, replies = advance(FLOW, state, Text(text))
    assert after == state
    assert replies[0].text == said and replies[-1].text.msgid == MSG_ASK_LINK


def test_effects_toggle_with_a_check_mark_and_none_excludes_the_others() -> None:
    state, replies = reach("stigma.effects")
    assert codes(replies[-1]) == [*taxonomy.STIGMA_EFFECTS, "done", NAV_BACK, NAV_CANCEL]

    def labels(state: State) -> dict[str, object]:
        (reply,) = FLOW.step("stigma.effects").ask(state)
        return {c.code: c.label for c in reply.choices}

    state, replies = advance(FLOW, state, press(replies, "stigma_effect.threats"))
    assert state.answers["effects"] == ["stigma_effect.threats"]
    threats = Msg(taxonomy.STIGMA_EFFECTS["stigma_effect.threats"])
    assert labels(state)["stigma_effect.threats"] == Msg(MSG_CHOSEN, {"label": threats})
    state, replies = advance(FLOW, state, press(replies, "stigma_effect.family"))
    assert state.answers["effects"] == ["stigma_effect.threats", "stigma_effect.family"]
    state, replies = advance(FLOW, state, press(replies, "stigma_effect.threats"))  # off again
    assert state.answers["effects"] == ["stigma_effect.family"]
    assert labels(state)["stigma_effect.threats"] == threats
    state, replies = advance(FLOW, state, press(replies, "stigma_effect.none"))
    assert state.answers["effects"] == ["stigma_effect.none"]
    state, replies = advance(FLOW, state, press(replies, "stigma_effect.attack"))
    assert state.answers["effects"] == ["stigma_effect.attack"]
    state, replies = advance(FLOW, state, press(replies, "stigma_effect.attack"))
    assert state.answers["effects"] == []
    after, replies = advance(FLOW, state, press(replies, "done"))
    assert after == state and [r.text.msgid for r in replies] == [MSG_MARK_ONE, MSG_ASK_EFFECTS]


@pytest.mark.parametrize("event", [Text("amenazas"), Pick("threat.attack", "stigma.effects")])
def test_effects_take_only_their_buttons(event: Text | Pick) -> None:
    state, _ = reach("stigma.effects")
    after, replies = advance(FLOW, state, event)
    assert after == state
    assert [r.text.msgid for r in replies] == [MSG_DIDNT_UNDERSTAND, MSG_ASK_EFFECTS]


def test_stigma_categories_are_who_stigmatized() -> None:
    assert list(taxonomy.STIGMA) == [
        "stigma.by_public_official", "stigma.by_security_forces", "stigma.by_armed_group",
        "stigma.by_media", "stigma.by_social_media", "stigma.by_community", "stigma.by_unknown",
    ]  # fmt: skip
    assert len(taxonomy.LEADERSHIP) == 13 and "leadership.community" in taxonomy.LEADERSHIP
