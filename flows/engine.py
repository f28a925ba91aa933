"""The conversation engine: pure steps, no Telegram, no HTTP, no database.

`advance(flow, state, event) -> (state, replies)` is the whole contract. Replies
carry gettext msgids and parameters; the transports translate and render them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, TypeAlias

from flows.messages import N_

# --- What the engine says ---------------------------------------------------


ParamValue: TypeAlias = "str | int | Msg | tuple[Msg, ...]"


@dataclass(frozen=True)
class Msg:
    """A translatable message id with its parameters (values may be Msg too).

    With `plural` (both marked by `NP_`), `msgid` is the singular and the number
    `params[count_param]` picks the form: "Recibido: 1 archivo." / "Recibido: 2 archivos.".
    """

    msgid: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    plural: str | None = None
    count_param: str = "count"

    @classmethod
    def counted(cls, forms: tuple[str, str], count: int, **params: ParamValue) -> Msg:
        """The message for `count` things, from the (singular, plural) pair of `NP_`."""
        return cls(forms[0], {"count": count, **params}, plural=forms[1])


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


@dataclass(frozen=True)
class Result:
    """What a transport found when it carried out the step's pending Effect."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSent:
    """A file the person sent, already stripped of metadata and sealed by the transport.

    `ref` is the transport's opaque handle; the engine only stores it in the answers.
    `kind` is "photo", "document", "voice" or "audio".
    """

    kind: str
    ref: str
    size: int = 0
    mime: str = ""


@dataclass(frozen=True)
class Unsupported:
    """Something the bot cannot use: "sticker", "location", "contact", "edited", "other"."""

    kind: str


StepEvent: TypeAlias = Text | Pick | Result | FileSent
Event: TypeAlias = StepEvent | Command | Unsupported


@dataclass(frozen=True)
class Effect:
    """Work only a transport can do (look up a receipt, wipe the chat).

    The engine stays pure: a step leaves an Effect in `State.pending`; the
    transport carries it out and answers with a `Result` event of the same name.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

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
    pending: Effect | None = None

    def to_json(self) -> str:
        pending = None
        if self.pending is not None:
            pending = {"name": self.pending.name, "params": dict(self.pending.params)}
        return json.dumps(
            {
                "step": self.step,
                "answers": dict(self.answers),
                "history": list(self.history),
                "scratch": dict(self.scratch),
                "status": self.status,
                "locale": self.locale,
                "pending": pending,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str) -> State:
        data = json.loads(raw)
        pending = data.get("pending")
        return cls(
            pending=Effect(pending["name"], pending.get("params", {})) if pending else None,
            step=data.get("step"),
            answers=data.get("answers", {}),
            history=tuple(data.get("history", ())),
            scratch=data.get("scratch", {}),
            status=data.get("status", "idle"),
            locale=data.get("locale", "es"),
        )

    def answer(self, key: str, value: Any) -> State:
        return replace(self, answers={**self.answers, key: value})

    def forget(self, *keys: str) -> State:
        """The same state without these answers."""
        return replace(self, answers={k: v for k, v in self.answers.items() if k not in keys})


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

    def take(self, state: State, event: StepEvent) -> Outcome:
        raise NotImplementedError

    def following(self, state: State) -> str:
        return self.next if isinstance(self.next, str) else self.next(state.answers)

    def accepts(self, attachment: FileSent) -> bool:
        """Whether this question takes a file; the engine answers for those it does not."""
        return False

    def has_room(self, state: State) -> bool:
        """Whether one more file fits (a question that takes files may have a cap)."""
        return True

    def keeps_text(self, text: str) -> bool:
        """Whether free text that sounds like a plea for help is still this question's
        answer (a description that mentions danger), taken after the emergency lines."""
        return False


class Alarm(Protocol):
    """Answers a plea for help typed at any step (flows/pleas.py): `heard` it in free text,
    say the emergency `lines` first, a municipality's own lines from a `local_lines` Result
    (`local`); `keeps` says whether the plea is still the question's answer (a description
    that mentions danger), taken as usual after the lines instead of asked again."""

    def heard(self, text: str) -> bool: ...
    def keeps(self, step: Step, state: State, text: str) -> bool: ...
    def lines(self) -> tuple[Reply, ...]: ...
    def local(self, state: State, data: Mapping[str, Any]) -> tuple[Reply, ...]: ...


@dataclass(frozen=True)
class Flow:
    """A named set of steps; `start` is where a new conversation lands."""

    name: str
    steps: Mapping[str, Step]
    start: str
    on_command: Callable[[State, Command], tuple[State, tuple[Reply, ...]]] | None = None
    alarm: Alarm | None = None

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]


# --- The engine ----------------------------------------------------------------

MSG_STALE_BUTTON = N_("Ese botón ya no está activo. Sigamos desde aquí:")
MSG_CANCELLED = N_("Listo. Se descartó lo que escribió. No se guardó nada.")
MSG_DIDNT_UNDERSTAND = N_("No entendí su respuesta. Por favor use los botones.")
MSG_UNSUPPORTED = N_("No puedo usar eso aquí. Responda con texto o con los botones, por favor.")
MSG_NO_FILES_HERE = N_("Aquí no puedo recibir archivos.")
# What an Unsupported event of each kind gets; any other kind gets MSG_UNSUPPORTED.
UNSUPPORTED: Mapping[str, str] = {
    "sticker": N_("No puedo leer stickers. Responda con texto o con los botones, por favor."),
    "location": N_(
        "No guardamos ubicaciones, para cuidar su seguridad. "
        "Responda con texto o con los botones, por favor."
    ),
    "contact": N_(
        "No guardamos contactos, para cuidar su seguridad. "
        "Responda con texto o con los botones, por favor."
    ),
    "edited": N_("Recibí un mensaje editado; escriba de nuevo, por favor."),
}


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


def _refusal(event: Event) -> list[Reply]:
    """What is said to something the bot does not keep: a sticker, a location, a file."""
    if isinstance(event, Unsupported):
        return [Reply(Msg(UNSUPPORTED.get(event.kind, MSG_UNSUPPORTED)))]
    if isinstance(event, FileSent):
        return [Reply(Msg(MSG_NO_FILES_HERE))]
    return []


def wants_file(flow: Flow, state: State | None, kind: str) -> bool:
    """Whether a file of `kind` would be kept at this point of the conversation.

    The transport asks before it downloads anything: a file the step would refuse (or
    one past the step's cap) is answered without being fetched, decoded or stored.
    """
    if state is None or state.status != "active" or state.step is None \
            or state.step not in flow.steps:
        return False
    current = flow.step(state.step)
    return current.accepts(FileSent(kind, "")) and current.has_room(state)


def advance(flow: Flow, state: State | None, event: Event) -> tuple[State, list[Reply]]:
    """Applies one event to the conversation and returns the new state and the replies."""
    state = state or State()
    if state.status in ("submitted", "cancelled"):
        state = State(locale=state.locale)

    if isinstance(event, Result):
        # Only the answer to the effect the current step is waiting for counts.
        if state.pending is None or state.pending.name != event.name or state.step is None:
            return state, []
        waited, step, state = state.pending, state.step, replace(state, pending=None)
        if waited.params.get(EMERGENCY) and flow.alarm is not None and step in flow.steps:
            # The municipality's lines, then the question that waited for them.
            return state, [*flow.alarm.local(state, event.data), *flow.step(step).ask(state)]
    elif state.pending is not None:
        state = replace(state, pending=None)

    if isinstance(event, Command):
        if flow.on_command is not None:
            new, replies = flow.on_command(state, event)
            return new, list(replies)
        new, replies = enter(flow, State(locale=state.locale), flow.start, remember=False)
        return new, list(replies)

    if isinstance(event, Text) and flow.alarm is not None and flow.alarm.heard(event.text):
        return _plea(flow, state, event, flow.alarm)

    if state.step is None or state.step not in flow.steps:
        # Any first message is treated as /start: the safety notice comes first. A location
        # or a file sent first still hears that it was not kept.
        new, greeting = advance(flow, State(locale=state.locale), Command("start"))
        return new, [*_refusal(event), *greeting]

    current = flow.step(state.step)

    if isinstance(event, Unsupported):
        return state, [*_refusal(event), *current.ask(state)]

    if isinstance(event, FileSent) and not current.accepts(event):
        return state, [*_refusal(event), *current.ask(state)]

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
    if _lines_first(new):
        replies = ()  # asked once the municipality's emergency lines are there
    return new, [*outcome.replies, *replies]


# --- A plea for help, at any step ------------------------------------------------------------

# An Effect("local_lines") with this parameter: the municipality's lines come before the
# question (the transport runs it as any `local_lines`; the engine answers its Result).
EMERGENCY = "emergency"


def emergency_lines(municipality: str) -> Effect:
    return Effect("local_lines", {"municipality": municipality, EMERGENCY: True})


def _lines_first(state: State) -> bool:
    return state.pending is not None and bool(state.pending.params.get(EMERGENCY))


def _plea(flow: Flow, state: State, event: Text, alarm: Alarm) -> tuple[State, list[Reply]]:
    """The emergency lines first, then the conversation goes on where it was: the same
    question again, or, where free text is the answer, the text taken as usual."""
    lines = list(alarm.lines())
    if state.step is None or state.step not in flow.steps:
        new, greeting = advance(flow, State(locale=state.locale), Command("start"))
        return new, [*lines, *greeting]
    current = flow.step(state.step)
    if not alarm.keeps(current, state, event.text):
        said: tuple[Reply, ...] = ()
        new, question = state, current.ask(state)
    else:
        outcome = current.take(state, event)
        if outcome.goto is None:
            return outcome.state, [*lines, *outcome.replies]
        said = outcome.replies
        new, question = enter(flow, outcome.state, outcome.goto)
    municipality = new.answers.get("municipality")
    if isinstance(municipality, str) and new.pending is None and new.status == "active":
        return replace(new, pending=emergency_lines(municipality)), [*lines, *said]
    return new, [*lines, *said, *question]


def choices_with_nav(choices: Sequence[Choice]) -> tuple[Choice, ...]:
    return (*choices, *NAV_CHOICES)
