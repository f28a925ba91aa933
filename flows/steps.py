"""The kinds of question a flow can ask: buttons, free text (or a voice note), a summary."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    MSG_STALE_BUTTON,
    Choice,
    FileSent,
    Msg,
    Next,
    Outcome,
    Pick,
    Reply,
    State,
    Step,
    StepEvent,
    Text,
    choices_with_nav,
)
from flows.messages import N_
from flows.paging import paged, turned

MAX_TEXT_LENGTH = 4000
VOICE_KINDS = frozenset({"voice", "audio"})

DONE = "done"
SKIP = "skip"
DONE_CHOICE = Choice(DONE, Msg(N_("Listo")))
SKIP_CHOICE = Choice(SKIP, Msg(N_("Omitir")))

MSG_WRITE_TEXT = N_("Escriba su respuesta con sus palabras, por favor.")
MSG_WRITE_OR_SKIP = N_("Escriba su respuesta, o toque «Omitir».")
MSG_TOO_LONG = N_("El texto es muy largo. Por favor escriba como máximo {limit} caracteres.")
MSG_SEND_REPORT = N_("✅ Enviar reporte")


def attachment_answer(attachment: FileSent) -> dict[str, Any]:
    """What the answers keep of a file: the transport's handle, never the content."""
    return {
        "kind": attachment.kind,
        "ref": attachment.ref,
        "size": attachment.size,
        "mime": attachment.mime,
    }


@dataclass(frozen=True)
class ChoiceStep(Step):
    """Asks a closed question; the answer is the code of the pressed button."""

    id: str
    prompt: Msg
    options: Mapping[str, str]
    next: Next
    key: str = ""
    on_answer: Callable[[str], tuple[Reply, ...]] | None = None

    def _screen(self, state: State) -> tuple[list[Choice], list[Choice]]:
        return paged([Choice(code, Msg(label)) for code, label in self.options.items()], state)

    def ask(self, state: State) -> tuple[Reply, ...]:
        shown, pages = self._screen(state)
        return (Reply(self.prompt, choices_with_nav([*shown, *pages]), step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, Pick):
            shown, pages = self._screen(state)
            if (other := turned(state, event.code, pages)) is not None:
                return Outcome(other, self.ask(other))
            if event.code in {choice.code for choice in shown}:
                extra = self.on_answer(event.code) if self.on_answer else ()
                new = state.answer(self.key or self.id, event.code)
                return Outcome(new, extra, goto=self.following(new))
            if event.code in self.options:  # left on a page no longer on screen
                return Outcome(state, (Reply(Msg(MSG_STALE_BUTTON)), *self.ask(state)))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


# Line breaks stay, and the zero-width joiner that holds combined emoji together.
KEEP = frozenset("\n\t\u200d")


def clean_text(raw: str) -> str:
    """Drops control and format characters, and surrounding blanks."""
    kept = (ch for ch in raw if ch in KEEP or not unicodedata.category(ch).startswith("C"))
    return "".join(kept).strip()


@dataclass(frozen=True)
class TextStep(Step):
    """Asks for free text; long texts are kept whole up to a limit.

    With `voice`, a voice note answers too: it is kept under `<key>_voice` and the text
    answer is left empty. With `optional`, an "Omitir" button leaves the answer out.
    """

    id: str
    prompt: Msg
    next: Next
    key: str = ""
    max_length: int = MAX_TEXT_LENGTH
    voice: bool = False
    optional: bool = False

    def keeps_text(self, text: str) -> bool:
        return True

    @property
    def answer_key(self) -> str:
        return self.key or self.id

    @property
    def voice_key(self) -> str:
        return f"{self.answer_key}_voice"

    def ask(self, state: State) -> tuple[Reply, ...]:
        skip = (SKIP_CHOICE,) if self.optional else ()
        return (Reply(self.prompt, choices_with_nav(skip), step=self.id),)

    def accepts(self, attachment: FileSent) -> bool:
        return self.voice and attachment.kind in VOICE_KINDS

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, FileSent) and self.accepts(event):
            new = state.answer(self.answer_key, "").answer(
                self.voice_key, attachment_answer(event)
            )
            return Outcome(new, (), goto=self.following(new))
        if self.optional and isinstance(event, Pick) and event.code == SKIP:
            new = state.forget(self.answer_key, self.voice_key)
            return Outcome(new, (), goto=self.following(new))
        text = clean_text(event.text) if isinstance(event, Text) else ""
        if not text:
            again = MSG_WRITE_OR_SKIP if self.optional else MSG_WRITE_TEXT
            return Outcome(state, (Reply(Msg(again)), *self.ask(state)))
        if len(text) > self.max_length:
            reply = Reply(Msg(MSG_TOO_LONG, {"limit": self.max_length}))
            return Outcome(state, (reply, *self.ask(state)))
        new = state.forget(self.voice_key).answer(self.answer_key, text)
        return Outcome(new, (), goto=self.following(new))


SummaryLine = Callable[[Mapping[str, Any]], Msg | None]
MSG_SHORTENED = N_("{text}…")
# What the chat's summary shows of one free text: a description may have 4,000 characters,
# and the whole summary must fit in one Telegram message (4,096).
SUMMARY_TEXT_LENGTH = 800


def shortened(message: Msg, limit: int = SUMMARY_TEXT_LENGTH) -> Msg:
    """The message with every text parameter longer than `limit` cut (at a space if one
    is near) and ended with «…»."""

    def cut(value: Any) -> Any:
        if isinstance(value, Msg):
            return shortened(value, limit)
        if isinstance(value, tuple):
            return tuple(shortened(item, limit) for item in value)
        if not isinstance(value, str) or len(value) <= limit:
            return value
        head = value[:limit]
        space = head.rfind(" ")
        return Msg(MSG_SHORTENED, {"text": head[:space] if space > limit * 3 // 4 else head})

    if not message.params:
        return message
    return replace(message, params={key: cut(v) for key, v in message.params.items()})


@dataclass(frozen=True)
class ConfirmStep(Step):
    """Shows what will be sent and submits it only when the person confirms."""

    id: str
    prompt: str
    lines: tuple[SummaryLine, ...]
    next: Next = ""
    send_label: str = MSG_SEND_REPORT

    def ask(self, state: State) -> tuple[Reply, ...]:
        details = tuple(
            shortened(line) for line in (render(state.answers) for render in self.lines)
            if line is not None
        )
        choices = (Choice("confirm", Msg(self.send_label)),)
        return (Reply(Msg(self.prompt, {"details": details}), choices_with_nav(choices), self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, Pick) and event.code == "confirm":
            return Outcome(replace(state, status="submitted"))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
