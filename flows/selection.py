"""Questions with several answers: mark all that apply, or rank a few in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    MSG_STALE_BUTTON,
    Choice,
    Msg,
    Next,
    Outcome,
    Pick,
    Reply,
    State,
    Step,
    StepEvent,
    choices_with_nav,
)
from flows.messages import N_
from flows.paging import paged, turned
from flows.steps import DONE, DONE_CHOICE

RESET = "reset"
MSG_CHOSEN = N_("✅ {label}")
MSG_MARK_ONE = N_("Marque al menos una opción y luego toque «Listo».")
MSG_RANKED = N_("{position}. {label}")
MSG_RANK_SO_FAR = N_("Su orden hasta ahora:\n{order}\nElija el siguiente, o toque «Listo».")
MSG_RANK_FULL = N_("Su orden:\n{order}\nToque «Listo» para seguir.")
RESET_CHOICE = Choice(RESET, Msg(N_("↩️ Volver a elegir")))


def _chosen(state: State, key: str, options: Mapping[str, str]) -> list[str]:
    """The valid codes kept under `key`, in the order they were given."""
    kept: Any = state.answers.get(key)
    if not isinstance(kept, list):
        return []
    return [code for code in dict.fromkeys(kept) if isinstance(code, str) and code in options]


def ranked_list(codes: list[str], options: Mapping[str, str]) -> tuple[Msg, ...]:
    """'1. Extorsión', '2. …' for a summary or a prompt."""
    return tuple(
        Msg(MSG_RANKED, {"position": i, "label": Msg(options[code])})
        for i, code in enumerate(codes, 1)
    )


@dataclass(frozen=True)
class MultiChoiceStep(Step):
    """Toggle buttons (✅ on the chosen ones) and "Listo"; the answer is a list of codes.

    `exclusive` is the "none of these" option: choosing it clears the others, and the
    other way round.
    """

    id: str
    prompt: Msg
    options: Mapping[str, str]
    next: Next
    key: str
    exclusive: str | None = None

    def _screen(self, state: State) -> tuple[list[Choice], list[Choice]]:
        chosen = _chosen(state, self.key, self.options)
        choices = [
            Choice(code, Msg(MSG_CHOSEN, {"label": Msg(label)}) if code in chosen else Msg(label))
            for code, label in self.options.items()
        ]
        return paged(choices, state, extras=1)

    def ask(self, state: State) -> tuple[Reply, ...]:
        shown, pages = self._screen(state)
        choices = choices_with_nav([*shown, DONE_CHOICE, *pages])
        return (Reply(self.prompt, choices, step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        chosen = _chosen(state, self.key, self.options)
        shown, pages = self._screen(state)
        if isinstance(event, Pick) and (other := turned(state, event.code, pages)) is not None:
            return Outcome(other, self.ask(other))
        if isinstance(event, Pick) and event.code in self.options \
                and event.code not in {choice.code for choice in shown}:
            return Outcome(state, (Reply(Msg(MSG_STALE_BUTTON)), *self.ask(state)))
        if isinstance(event, Pick) and event.code in self.options:
            code = event.code
            if code in chosen:
                chosen.remove(code)
            elif code == self.exclusive:
                chosen = [code]
            else:
                chosen = [c for c in chosen if c != self.exclusive] + [code]
            ordered = [c for c in self.options if c in chosen]
            new = state.answer(self.key, ordered)
            return Outcome(new, self.ask(new))
        if isinstance(event, Pick) and event.code == DONE:
            if chosen:
                return Outcome(state, (), goto=self.following(state))
            return Outcome(state, (Reply(Msg(MSG_MARK_ONE)), *self.ask(state)))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


@dataclass(frozen=True)
class RankingStep(Step):
    """Up to `most` options in order of importance; each press adds the next one.

    The prompt shows the order so far; a pressed option leaves the buttons. After `most`
    it moves on by itself, and "Listo" moves on after at least one.
    """

    id: str
    prompt: Msg
    options: Mapping[str, str]
    next: Next
    key: str
    most: int = 3

    def _screen(self, state: State) -> tuple[list[Choice], list[Choice]]:
        """The options left on screen and the page buttons (none once `most` are chosen)."""
        chosen = _chosen(state, self.key, self.options)
        if len(chosen) >= self.most:
            return [], []
        left = [Choice(c, Msg(label)) for c, label in self.options.items() if c not in chosen]
        return paged(left, state, extras=2 if chosen else 0)

    def ask(self, state: State) -> tuple[Reply, ...]:
        chosen = _chosen(state, self.key, self.options)
        shown, pages = self._screen(state)
        if not chosen:
            return (Reply(self.prompt, choices_with_nav([*shown, *pages]), step=self.id),)
        order = ranked_list(chosen, self.options)
        if len(chosen) >= self.most:
            prompt = Msg(MSG_RANK_FULL, {"order": order})
            return (Reply(prompt, choices_with_nav((DONE_CHOICE, RESET_CHOICE)), self.id),)
        prompt = Msg(MSG_RANK_SO_FAR, {"order": order})
        choices = choices_with_nav([*shown, DONE_CHOICE, RESET_CHOICE, *pages])
        return (Reply(prompt, choices, self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        chosen = _chosen(state, self.key, self.options)
        if not isinstance(event, Pick):
            return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
        code = event.code
        shown, pages = self._screen(state)
        if (other := turned(state, code, pages)) is not None:
            return Outcome(other, self.ask(other))
        if code in self.options and code not in chosen and len(chosen) < self.most \
                and code not in {choice.code for choice in shown}:
            return Outcome(state, (Reply(Msg(MSG_STALE_BUTTON)), *self.ask(state)))
        if code in self.options and code not in chosen and len(chosen) < self.most:
            # The options left are paged anew: start again from their first page.
            new = replace(state.answer(self.key, [*chosen, code]), scratch={})
            if len(chosen) + 1 >= self.most:
                return Outcome(new, (), goto=self.following(new))
            return Outcome(new, self.ask(new))
        if code == DONE and chosen:
            return Outcome(state, (), goto=self.following(state))
        if code == RESET and chosen:
            new = state.forget(self.key)
            return Outcome(new, self.ask(new))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
