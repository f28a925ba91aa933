"""The community priorities survey: up to three concerns, ranked by pressing them in order."""

from __future__ import annotations

import pytest

from flows import taxonomy
from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    MSG_STALE_BUTTON,
    NAV_BACK,
    NAV_CANCEL,
    Command,
    Msg,
    Pick,
    Reply,
    State,
    Text,
    advance,
)
from flows.priorities import (
    MSG_ASK_COMMENT,
    MSG_ASK_CONCERNS,
    MSG_LINE_COMMENT,
    MSG_LINE_CONCERNS,
    MSG_PRIORITY_SUMMARY,
    MSG_SEND_ANSWER,
)
from flows.reports import confirmed_report
from flows.selection import MSG_RANK_FULL, MSG_RANK_SO_FAR, MSG_RANKED
from flows.summary import MSG_LINE_MUNICIPALITY
from tests.support.places import TUMACO
from tests.support.walk import FLOW, Item, assert_well_formed, codes, last, trace

CONCERNS = "priority.concerns"
START: list[Item] = [Command("start"), "priority", Text("tumaco"), f"mun:{TUMACO}"]


def ranked(*concerns: str) -> tuple[Msg, ...]:
    return tuple(
        Msg(MSG_RANKED, {"position": i, "label": Msg(taxonomy.PRIORITIES[code])})
        for i, code in enumerate(concerns, 1)
    )


def at_concerns() -> tuple[State, list[Reply]]:
    return last(START)


def test_all_concerns_are_offered_without_listo_at_first() -> None:
    state, replies = at_concerns()
    assert state.step == CONCERNS and replies[-1].text == Msg(MSG_ASK_CONCERNS)
    assert len(taxonomy.PRIORITIES) == 15  # in two screens: eight, then seven
    everything = list(taxonomy.PRIORITIES)
    assert codes(replies[-1]) == [*everything[:8], "page:1", NAV_BACK, NAV_CANCEL]
    state, replies = last(["page:1"], state, replies)
    assert replies[-1].text == Msg(MSG_ASK_CONCERNS)
    assert codes(replies[-1]) == [*everything[8:], "page:0", NAV_BACK, NAV_CANCEL]
    # A concern of the first screen, pressed on an older message, is not taken from here.
    after, replies = advance(FLOW, state, Pick(everything[0], CONCERNS))
    assert after == state and replies[0].text == Msg(MSG_STALE_BUTTON)


@pytest.mark.parametrize(
    ("presses", "concerns"),
    [
        pytest.param(["priority.extortion", "priority.homicide", "priority.landmines"],
                     ["priority.extortion", "priority.homicide", "priority.landmines"],
                     id="three-then-on"),
        pytest.param(["priority.child_recruitment", "done"], ["priority.child_recruitment"],
                     id="one-then-listo"),
        pytest.param(["priority.theft", "priority.other", "done"],
                     ["priority.theft", "priority.other"], id="two-then-listo"),
        pytest.param(["priority.theft", "reset", "priority.coexistence", "priority.theft",
                      "done"], ["priority.coexistence", "priority.theft"], id="reset"),
    ],
)  # fmt: skip
def test_priorities_walk(presses: list[str], concerns: list[str]) -> None:
    seen = trace([*START, *presses, Text("Los robos son de noche."), "confirm"])
    for _, replies in seen:
        assert_well_formed(replies)
    on_comment = seen[len(START) + len(presses) - 1]
    assert on_comment[0].step == "priority.comment"
    assert on_comment[1][-1].text.msgid == MSG_ASK_COMMENT

    state, replies = seen[-2]
    assert state.step == "priority.confirm"
    summary = replies[-1]
    assert summary.text.msgid == MSG_PRIORITY_SUMMARY
    assert summary.choices[0].code == "confirm"
    assert summary.choices[0].label == Msg(MSG_SEND_ANSWER)
    details = summary.text.params["details"]
    assert details == (
        Msg(MSG_LINE_MUNICIPALITY, {"value": "San Andrés de Tumaco (Nariño)"}),
        Msg(MSG_LINE_CONCERNS, {"value": ranked(*concerns)}),
        Msg(MSG_LINE_COMMENT, {"value": "Los robos son de noche."}),
    )

    state, replies = seen[-1]
    assert state.status == "submitted" and replies == []
    submission = confirmed_report(state)
    assert submission.kind == "priority"
    assert submission.category == concerns[0]
    assert submission.urgency == "normal"
    assert submission.municipality_code == TUMACO
    assert submission.answers["concerns"] == concerns
    assert submission.answers["comment"] == "Los robos son de noche."
    assert "notify" not in submission.answers


def test_each_press_shows_the_order_and_removes_the_pressed_concern() -> None:
    state, replies = last(["priority.drug_dealing"], *at_concerns())
    assert state.step == CONCERNS
    assert replies[-1].text == Msg(MSG_RANK_SO_FAR, {"order": ranked("priority.drug_dealing")})
    left = [c for c in taxonomy.PRIORITIES if c != "priority.drug_dealing"]
    # Fourteen left beside "Listo" and "Volver a elegir": three screens of five, five, four.
    assert codes(replies[-1]) == [*left[:5], "done", "reset", "page:1", NAV_BACK, NAV_CANCEL]
    state, replies = last(["priority.kidnapping"], state, replies)
    assert replies[-1].text == Msg(
        MSG_RANK_SO_FAR, {"order": ranked("priority.drug_dealing", "priority.kidnapping")}
    )


def test_coming_back_to_a_full_ranking_shows_it_with_listo_and_reset() -> None:
    three = ["priority.extortion", "priority.homicide", "priority.landmines"]
    state, replies = last([*three, NAV_BACK], *at_concerns())
    assert state.step == CONCERNS
    assert replies[-1].text == Msg(MSG_RANK_FULL, {"order": ranked(*three)})
    assert codes(replies[-1]) == ["done", "reset", NAV_BACK, NAV_CANCEL]
    state, replies = last(["reset"], state, replies)
    assert "concerns" not in state.answers and replies[-1].text == Msg(MSG_ASK_CONCERNS)


@pytest.mark.parametrize(
    "event",
    [
        Pick("done", CONCERNS),  # nothing chosen yet
        Pick("reset", CONCERNS),
        Pick("threat.attack", CONCERNS),
        Text("extorsión"),
    ],
)
def test_concerns_take_only_their_buttons(event: Pick | Text) -> None:
    state, _ = at_concerns()
    after, replies = advance(FLOW, state, event)
    assert after == state
    assert [r.text.msgid for r in replies] == [MSG_DIDNT_UNDERSTAND, MSG_ASK_CONCERNS]


def test_a_concern_cannot_be_ranked_twice() -> None:
    state, replies = last(["priority.theft"], *at_concerns())
    after, replies = advance(FLOW, state, Pick("priority.theft", CONCERNS))
    assert after == state and replies[0].text.msgid == MSG_DIDNT_UNDERSTAND


def test_the_comment_may_be_skipped() -> None:
    state, replies = last([*START, "priority.theft", "done", "skip"])
    assert state.step == "priority.confirm" and "comment" not in state.answers
    details = replies[-1].text.params["details"]
    assert isinstance(details, tuple) and len(details) == 2
