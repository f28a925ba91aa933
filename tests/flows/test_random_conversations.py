"""Random conversations that must never break the engine or lose an answer.

A person presses anything (old or forged buttons included), types anything, sends files,
stickers and locations; the transport answers effects, sometimes with nonsense, and commits
confirmed reports the way bot/conversations.py does.
"""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from flows import taxonomy
from flows.engine import (
    NAV_BACK,
    NAV_CANCEL,
    Command,
    Event,
    FileSent,
    Msg,
    Pick,
    Reply,
    Result,
    State,
    Text,
    Unsupported,
    advance,
)
from flows.menu import MENU
from flows.municipality_step import MunicipalityStep
from flows.priorities import priority_thanks_replies
from flows.protection import PROTECTION_REQUEST, REQUEST_ANSWERS
from flows.reports import confirmed_report, receipt_replies
from flows.selfcare import LocalLinesStep
from flows.steps import TextStep
from flows.wipe import after_report_state
from tests.support.fuzzing import examples
from tests.support.walk import CATALOG, FLOW, SPANISH, walk_msg


def _answer_key(step: Any) -> str:
    return getattr(step, "answer_key", "") or getattr(step, "key", "") or step.id


ANSWER_KEY = {step_id: _answer_key(step) for step_id, step in FLOW.steps.items()}
WHERE = frozenset(
    step_id for step_id, step in FLOW.steps.items()
    if isinstance(step, MunicipalityStep | LocalLinesStep)
)  # fmt: skip
WRITING = frozenset(
    step_id for step_id, step in FLOW.steps.items() if isinstance(step, TextStep)
)
TOWNS = ["tumaco", "Sucre", "san juan", "cordoba narino", "Tumacco"]  # all found
NAMES = [*TOWNS, "xyzzy", "Ninguno", "  ", "Sí"]
CODES = ["1234 5678 9012 3456", "0000-0000-0000-0000", "1234", "abcd efgh ijkl mnop"]
NAV = (NAV_BACK, NAV_CANCEL)
CATEGORIES = {"threat": taxonomy.THREAT_CATEGORIES, "stigma": taxonomy.STIGMA,
              "priority": taxonomy.PRIORITIES}  # fmt: skip

files = st.builds(
    FileSent,
    kind=st.sampled_from(["photo", "document", "voice", "audio", "video"]) | st.text(max_size=8),
    ref=st.text(max_size=40),
    size=st.integers(min_value=0, max_value=50_000_000),
    mime=st.sampled_from(["image/jpeg", "application/pdf", "audio/ogg", ""]),
)
unsupported = st.builds(
    Unsupported,
    st.sampled_from(["sticker", "location", "contact", "edited", "other"]) | st.text(max_size=10),
)
lines = st.lists(
    st.fixed_dictionaries({"name": st.text(max_size=30), "number": st.text(max_size=15)})
    | st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=5), max_size=2),
    max_size=4,
)
RECEIPT_RESULTS = st.sampled_from([
    {"outcome": "found", "status": status, "kind": kind}
    for status in ("new", "in_review", "referred", "follow_up", "closed", "unknown")
    for kind in ("threat", "stigma")
] + [{"outcome": "not_found"}, {"outcome": "rate_limited"}, {}, {"outcome": None}])  # fmt: skip


def plausible_result(name: str) -> st.SearchStrategy[Result]:
    if name == "check_receipt":
        return st.builds(Result, st.just(name), RECEIPT_RESULTS)
    if name == "local_lines":
        return st.builds(Result, st.just(name), st.fixed_dictionaries({"lines": lines}))
    return st.just(Result(name))


class Conversation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state: State | None = None
        self.replies: list[Reply] = []
        self.left: dict[str, Any] = {}  # step -> its answer when the person moved on from it

    def send(self, event: Event) -> None:
        before = self.state
        state, replies = advance(FLOW, before, event)
        assert State.from_json(state.to_json()) == state
        assert state.locale in ("es", "en")
        if state.status == "submitted":
            assert before is not None and before.step is not None
            assert before.step.endswith(".confirm")
            assert state.answers == before.answers  # what the summary showed is what is sent
        if before is not None and before.status == "active" and before.step is not None:
            if state.history == (*before.history, before.step):
                self.left[before.step] = state.answers.get(ANSWER_KEY[before.step])
        self.state, self.replies = state, replies
        self.check_replies()
        self.check_answers()
        self.check_effects()

    def offered(self) -> list[Pick]:
        return [Pick(c.code, r.step) for r in self.replies for c in r.choices]

    @rule(text=st.text(max_size=300))
    def type_anything(self, text: str) -> None:
        self.send(Text(text))

    @rule(text=st.sampled_from(NAMES + CODES))
    def type_a_town_or_a_code(self, text: str) -> None:
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

    @rule(file=files)
    def send_a_file(self, file: FileSent) -> None:
        self.send(file)

    @rule(event=unsupported)
    def send_something_unusable(self, event: Unsupported) -> None:
        self.send(event)

    @rule(
        name=st.sampled_from(["check_receipt", "local_lines", "wipe_chat"]) | st.text(max_size=12),
        data=st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.integers(), max_size=3),
    )
    def stray_result(self, name: str, data: dict[str, Any]) -> None:
        self.send(Result(name, data))

    @precondition(
        lambda self: self.state is not None
        and self.state.pending is not None
        and self.state.status == "active"
    )
    @rule(data=st.data())
    def transport_answers_the_effect(self, data: st.DataObject) -> None:
        assert self.state is not None and self.state.pending is not None
        self.send(data.draw(plausible_result(self.state.pending.name)))

    @precondition(lambda self: self.state is not None and self.state.status == "submitted")
    @rule()
    def transport_commits(self) -> None:
        """What bot/conversations.py does after the commit: a receipt or the thanks."""
        assert self.state is not None
        if confirmed_report(self.state).kind == "priority":
            self.state, self.replies = None, priority_thanks_replies()
        else:
            self.state = after_report_state(self.state.locale)
            self.replies = receipt_replies("1234 5678 9012 3456")
        self.left = {}

    @rule(data=st.data(), moves=st.integers(min_value=1, max_value=20))
    def go_forward(self, data: st.DataObject, moves: int) -> None:
        """Several useful moves in a row, so that random runs reach the summaries and submit."""
        for _ in range(moves):
            state = self.state
            if state is not None and state.pending is not None and state.status == "active":
                self.send(data.draw(plausible_result(state.pending.name)))
                continue
            picks = [p for p in self.offered() if p.code not in NAV]
            step = state.step if state else None
            if step in WHERE and data.draw(st.booleans()):
                self.send(Text(data.draw(st.sampled_from(TOWNS))))
            elif step == "followup.code":
                self.send(Text(data.draw(st.sampled_from(CODES))))
            elif step in WRITING and (not picks or data.draw(st.booleans())):
                self.send(data.draw(st.text(min_size=1, max_size=50).map(Text) | files))
            elif step == "threat.evidence" and data.draw(st.booleans()):
                self.send(data.draw(files))
            elif picks:
                self.send(data.draw(st.sampled_from(picks)))
            else:
                self.send(Command("start"))

    def check_replies(self) -> None:
        """Every reply is a catalogued msgid; buttons are current and fit in callback data."""
        for reply in self.replies:
            for msg in walk_msg(reply.text):
                assert isinstance(msg.msgid, str) and msg.msgid
                assert msg.msgid in SPANISH, msg.msgid
                fields = {f for _, f, _, _ in string.Formatter().parse(msg.msgid) if f}
                assert fields == set(msg.params), msg.msgid
            if reply.choices:
                assert self.state is not None and reply.step == self.state.step
            codes = [choice.code for choice in reply.choices]
            assert len(set(codes)) == len(codes)
            for choice in reply.choices:
                assert isinstance(choice.code, str) and choice.code
                assert len(f"{reply.step}|{choice.code}".encode()) <= 64
                assert choice.label
                if isinstance(choice.label, Msg):
                    for msg in walk_msg(choice.label):
                        assert msg.msgid in SPANISH, msg.msgid

    def check_answers(self) -> None:
        """A submitted report is complete; answers of the questions behind us are intact."""
        state = self.state
        if state is None:
            return
        if state.status == "submitted":
            submission = confirmed_report(state)
            assert submission.municipality_code in CATALOG
            assert submission.category in CATEGORIES[submission.kind]
            assert submission.urgency in taxonomy.URGENCIES
            if submission.kind == "priority":
                concerns = submission.answers["concerns"]
                assert 1 <= len(concerns) <= 3 and len(set(concerns)) == len(concerns)
            if submission.kind == "stigma":
                assert submission.answers["effects"]
            if submission.kind in ("threat", "stigma"):
                assert submission.answers["notify"] in ("yes", "no")
            assert len(submission.answers.get("evidence", ())) <= 5
        if state.status == "active":
            for step_id in state.history:
                left = self.left[step_id]
                if step_id == MENU and state.answers.get("category") == PROTECTION_REQUEST:
                    # A request for protection says what it is once its first question
                    # is answered: a threat against a leader.
                    left = REQUEST_ANSWERS["kind"]
                assert state.answers.get(ANSWER_KEY[step_id]) == left, step_id

    def check_effects(self) -> None:
        """Effects are the three the transport knows; the receipt code is never kept."""
        state = self.state
        assert state is not None
        if state.pending is None:
            return
        if state.status == "cancelled":
            assert state.pending.name == "wipe_chat" and state.answers == {}
            return
        assert state.status == "active"
        assert state.pending.name in ("check_receipt", "local_lines")
        if state.pending.name == "check_receipt":
            code = state.pending.params["code"]
            assert len(code) == 16 and code.isdigit()
            kept = json.dumps([state.answers, state.scratch], ensure_ascii=False)
            assert code not in kept
        else:
            assert state.pending.params["municipality"] in CATALOG


@pytest.mark.fuzz
def test_random_conversations_never_break_or_lose_answers() -> None:
    run_state_machine_as_test(
        Conversation, settings=settings(max_examples=examples(300), deadline=None, database=None)
    )
