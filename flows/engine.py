"""The conversation engine: pure steps, no Telegram, no HTTP, no database.

`advance(flow, state, event) -> (state, replies)` is the whole contract. Replies
carry gettext msgids and parameters; the transports translate and render them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

from flows.messages import N_

# --- What the engine says ---------------------------------------------------


ParamValue: TypeAlias = "str | int | Msg | tuple[Msg, ...]"


@dataclass(frozen=True)
class Msg:
    """A translatable message id with its parameters (values may be Msg too)."""

    msgid: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    """A button: `code` goes back to the engine, `label` is shown.

    `label` is a Msg to translate, or a plain string for proper names
    (municipalities) that are never translated.
    """

    code: str
    label: Msg | str


@dataclass(frozen=True)
class Reply:
    """One message to the user; `choices` become buttons under it."""

    text: Msg
    choices: tuple[Choice, ...] = ()
    step: str | None = None


# --- What the engine hears ----------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Pick:
    """A button press; `step` is the step that showed the button, if known."""

    code: str
    step: str | None = None


@dataclass(frozen=True)
class Command:
    name: str


Event: TypeAlias = Text | Pick | Command

# --- The state, serializable to JSON for the encrypted draft ----------------

Status = Literal["active", "submitted", "cancelled", "idle"]


@dataclass(frozen=True)
class State:
    step: str | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    scratch: Mapping[str, Any] = field(default_factory=dict)
    status: Status = "idle"
    locale: str = "es"

    def to_json(self) -> str:
        return json.dumps(
            {
                "step": self.step,
                "answers": dict(self.answers),
                "history": list(self.history),
                "scratch": dict(self.scratch),
                "status": self.status,
                "locale": self.locale,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str) -> State:
        data = json.loads(raw)
        return cls(
            step=data.get("step"),
            answers=data.get("answers", {}),
            history=tuple(data.get("history", ())),
            scratch=data.get("scratch", {}),
            status=data.get("status", "idle"),
            locale=data.get("locale", "es"),
        )

    def answer(self, key: str, value: Any) -> State:
        return replace(self, answers={**self.answers, key: value})


# --- Steps ---------------------------------------------------------------------

NAV_BACK = "nav:back"
NAV_CANCEL = "nav:cancel"
NAV_CHOICES = (
    Choice(NAV_BACK, Msg(N_("⬅️ Atrás"))),
    Choice(NAV_CANCEL, Msg(N_("✖️ Cancelar"))),
)

Next: TypeAlias = "str | Callable[[Mapping[str, Any]], str]"


@dataclass(frozen=True)
class Outcome:
    """What a step decided: stay (with replies), go to a step, or finish."""

    state: State
    replies: tuple[Reply, ...] = ()
    goto: str | None = None


class Step:
    """A question. Subclasses decide how to ask and how to take the answer."""

    id: str
    next: Next

    def ask(self, state: State) -> tuple[Reply, ...]:
        raise NotImplementedError

    def take(self, state: State, event: Text | Pick) -> Outcome:
        raise NotImplementedError

    def following(self, state: State) -> str:
        return self.next if isinstance(self.next, str) else self.next(state.answers)


@dataclass(frozen=True)
class Flow:
    """A named set of steps; `start` is where a new conversation lands."""

    name: str
    steps: Mapping[str, Step]
    start: str
    on_command: Callable[[State, Command], tuple[State, tuple[Reply, ...]]] | None = None

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]


# --- The engine ----------------------------------------------------------------

MSG_STALE_BUTTON = N_("Ese botón ya no está activo. Sigamos desde aquí:")
MSG_CANCELLED = N_("Listo. Se descartó lo que escribió. No se guardó nada.")
MSG_DIDNT_UNDERSTAND = N_("No entendí su respuesta. Por favor use los botones.")


def enter(flow: Flow, state: State, step_id: str, *, remember: bool = True) -> tuple[
    State, tuple[Reply, ...]
]:
    """Moves to `step_id`, remembering where it came from for "Atrás"."""
    if step_id == flow.start:
        # Back at the menu nothing of an abandoned report stays in the draft.
        state = State(locale=state.locale)
    history = state.history
    if remember and state.step is not None and state.step != step_id:
        history = (*history, state.step)
    new = replace(state, step=step_id, history=history, scratch={}, status="active")
    return new, flow.step(step_id).ask(new)


def advance(flow: Flow, state: State | None, event: Event) -> tuple[State, list[Reply]]:
    """Applies one event to the conversation and returns the new state and the replies."""
    state = state or State()
    if state.status in ("submitted", "cancelled"):
        state = State(locale=state.locale)

    if isinstance(event, Command):
        if flow.on_command is not None:
            new, replies = flow.on_command(state, event)
            return new, list(replies)
        new, replies = enter(flow, State(locale=state.locale), flow.start, remember=False)
        return new, list(replies)

    if state.step is None or state.step not in flow.steps:
        # Any first message is treated as /start: the safety notice comes first.
        return advance(flow, State(locale=state.locale), Command("start"))

    current = flow.step(state.step)

    if isinstance(event, Pick):
        if event.step is not None and event.step != state.step:
            return state, [Reply(Msg(MSG_STALE_BUTTON)), *current.ask(state)]
        if event.code == NAV_CANCEL:
            new, replies = enter(flow, State(locale=state.locale), flow.start, remember=False)
            return new, [Reply(Msg(MSG_CANCELLED)), *replies]
        if event.code == NAV_BACK:
            if not state.history:
                new, replies = enter(flow, State(locale=state.locale), flow.start, remember=False)
                return new, list(replies)
            previous = state.history[-1]
            back = replace(state, history=state.history[:-1])
            new, replies = enter(flow, back, previous, remember=False)
            return new, list(replies)

    outcome = current.take(state, event)
    if outcome.goto is None:
        return outcome.state, list(outcome.replies)
    new, replies = enter(flow, outcome.state, outcome.goto)
    return new, [*outcome.replies, *replies]


def choices_with_nav(choices: Sequence[Choice]) -> tuple[Choice, ...]:
    return (*choices, *NAV_CHOICES)
