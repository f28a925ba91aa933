"""The kinds of question a flow can ask: buttons, free text, a municipality, a summary."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    Choice,
    Msg,
    Next,
    Outcome,
    Pick,
    Reply,
    State,
    Step,
    Text,
    choices_with_nav,
)
from flows.messages import N_
from flows.municipalities import Catalog, Municipality

MAX_TEXT_LENGTH = 4000


@dataclass(frozen=True)
class ChoiceStep(Step):
    """Asks a closed question; the answer is the code of the pressed button."""

    id: str
    prompt: Msg
    options: Mapping[str, str]
    next: Next
    key: str = ""
    on_answer: Callable[[str], tuple[Reply, ...]] | None = None

    def ask(self, state: State) -> tuple[Reply, ...]:
        choices = [Choice(code, Msg(label)) for code, label in self.options.items()]
        return (Reply(self.prompt, choices_with_nav(choices), step=self.id),)

    def take(self, state: State, event: Text | Pick) -> Outcome:
        if isinstance(event, Pick) and event.code in self.options:
            extra = self.on_answer(event.code) if self.on_answer else ()
            new = state.answer(self.key or self.id, event.code)
            return Outcome(new, extra, goto=self.following(new))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


# Line breaks stay, and the zero-width joiner that holds combined emoji together.
KEEP = frozenset("\n\t\u200d")


def clean_text(raw: str) -> str:
    """Drops control and format characters, and surrounding blanks."""
    kept = (ch for ch in raw if ch in KEEP or not unicodedata.category(ch).startswith("C"))
    return "".join(kept).strip()


@dataclass(frozen=True)
class TextStep(Step):
    """Asks for free text (a description); long texts are kept whole up to a limit."""

    id: str
    prompt: Msg
    next: Next
    key: str = ""
    max_length: int = MAX_TEXT_LENGTH

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (Reply(self.prompt, choices_with_nav(()), step=self.id),)

    def take(self, state: State, event: Text | Pick) -> Outcome:
        if not isinstance(event, Text):
            return Outcome(state, (Reply(Msg(MSG_WRITE_TEXT)), *self.ask(state)))
        text = clean_text(event.text)
        if not text:
            return Outcome(state, (Reply(Msg(MSG_WRITE_TEXT)), *self.ask(state)))
        if len(text) > self.max_length:
            reply = Reply(Msg(MSG_TOO_LONG, {"limit": self.max_length}))
            return Outcome(state, (reply, *self.ask(state)))
        new = state.answer(self.key or self.id, text)
        return Outcome(new, (), goto=self.following(new))


MSG_WRITE_TEXT = N_("Escriba su respuesta con sus palabras, por favor.")
MSG_TOO_LONG = N_("El texto es muy largo. Por favor escriba como máximo {limit} caracteres.")
MSG_MUNICIPALITY_CONFIRM = N_("¿Es {municipality}?")
MSG_MUNICIPALITY_PICK = N_("Encontré varios municipios. ¿Cuál es?")
MSG_MUNICIPALITY_AMBIGUOUS = N_(
    "Hay municipios con ese nombre en varios departamentos. ¿En cuál departamento?"
)
MSG_MUNICIPALITY_NOT_FOUND = N_(
    "No encontré ese municipio. Escriba el nombre otra vez. No importan las tildes."
)
MSG_MUNICIPALITY_RETRY = N_("Escriba otra vez el nombre del municipio.")
MSG_NONE_OF_THESE = N_("Ninguno de estos")
PICK_PREFIX = "mun:"


@dataclass(frozen=True)
class MunicipalityStep(Step):
    """Asks for a municipality by name and confirms the match before moving on."""

    id: str
    prompt: Msg
    catalog: Catalog
    next: Next
    key: str = "municipality"

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (Reply(self.prompt, choices_with_nav(()), step=self.id),)

    def take(self, state: State, event: Text | Pick) -> Outcome:
        if isinstance(event, Pick):
            return self._take_pick(state, event)
        result = self.catalog.search(clean_text(event.text))
        if not result.matches:
            scratch_cleared = replace(state, scratch={})
            return Outcome(scratch_cleared, (self._reply(MSG_MUNICIPALITY_NOT_FOUND),))
        if result.confident and not result.ambiguous:
            found = result.matches[0]
            scratch = {"candidates": [found.code]}
            prompt = Msg(MSG_MUNICIPALITY_CONFIRM, {"municipality": found.label})
            choices = (
                Choice(PICK_PREFIX + found.code, Msg(N_("Sí"))),
                Choice(PICK_PREFIX + "none", Msg(N_("No"))),
            )
            reply = Reply(prompt, choices_with_nav(choices), step=self.id)
            return Outcome(replace(state, scratch=scratch), (reply,))
        msgid = MSG_MUNICIPALITY_AMBIGUOUS if result.ambiguous else MSG_MUNICIPALITY_PICK
        return Outcome(
            replace(state, scratch={"candidates": [m.code for m in result.matches]}),
            (self._candidates(Msg(msgid), result.matches),),
        )

    def _take_pick(self, state: State, event: Pick) -> Outcome:
        code = event.code.removeprefix(PICK_PREFIX)
        candidates: list[str] = list(state.scratch.get("candidates", ()))
        if code in candidates and self.catalog.get(code) is not None:
            new = replace(state.answer(self.key, code), scratch={})
            return Outcome(new, (), goto=self.following(new))
        if code == "none":
            return Outcome(replace(state, scratch={}), (self._reply(MSG_MUNICIPALITY_RETRY),))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))

    def _reply(self, msgid: str) -> Reply:
        return Reply(Msg(msgid), choices_with_nav(()), step=self.id)

    def _candidates(self, prompt: Msg, matches: tuple[Municipality, ...]) -> Reply:
        choices = [Choice(PICK_PREFIX + m.code, m.label) for m in matches]
        choices.append(Choice(PICK_PREFIX + "none", Msg(MSG_NONE_OF_THESE)))
        return Reply(prompt, choices_with_nav(choices), step=self.id)


SummaryLine = Callable[[Mapping[str, Any]], Msg | None]


@dataclass(frozen=True)
class ConfirmStep(Step):
    """Shows what will be sent and submits it only when the person confirms."""

    id: str
    prompt: str
    lines: tuple[SummaryLine, ...]
    next: Next = ""

    def ask(self, state: State) -> tuple[Reply, ...]:
        details = tuple(
            line for line in (render(state.answers) for render in self.lines) if line is not None
        )
        choices = (Choice("confirm", Msg(N_("✅ Enviar reporte"))),)
        return (Reply(Msg(self.prompt, {"details": details}), choices_with_nav(choices), self.id),)

    def take(self, state: State, event: Text | Pick) -> Outcome:
        if isinstance(event, Pick) and event.code == "confirm":
            return Outcome(replace(state, status="submitted"))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
