"""The evidence question: photos, documents or audios, one message each, up to a limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
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
    choices_with_nav,
)
from flows.messages import N_, NP_
from flows.steps import DONE, DONE_CHOICE, SKIP, SKIP_CHOICE, attachment_answer

MAX_FILES = 5

MSG_ASK_EVIDENCE = N_(
    "¿Tiene fotos, documentos o audios? Envíelos ahora. Cuando termine, toque «Listo»."
)
MSG_EVIDENCE_RECEIVED = NP_("Recibido: {count} archivo.", "Recibido: {count} archivos.")
MSG_EVIDENCE_LIMIT = NP_(
    "Ya recibí {count} archivo. Es el máximo. Toque «Listo» para seguir.",
    "Ya recibí {count} archivos. Es el máximo. Toque «Listo» para seguir.",
)


@dataclass(frozen=True)
class EvidenceStep(Step):
    """Collects files under `key` as {kind, ref, size, mime}; "Listo" or "Omitir" moves on."""

    id: str
    next: Next
    prompt: Msg = Msg(MSG_ASK_EVIDENCE)
    key: str = "evidence"
    limit: int = MAX_FILES

    def files(self, state: State) -> list[Any]:
        kept = state.answers.get(self.key)
        return list(kept) if isinstance(kept, list) else []

    def buttons(self, state: State) -> tuple[Choice, ...]:
        # Once files arrived, "Omitir" would only confuse: they are kept either way.
        done = (DONE_CHOICE,) if self.files(state) else (DONE_CHOICE, SKIP_CHOICE)
        return choices_with_nav(done)

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (Reply(self.prompt, self.buttons(state), step=self.id),)

    def accepts(self, attachment: FileSent) -> bool:
        return True

    def has_room(self, state: State) -> bool:
        return len(self.files(state)) < self.limit

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, FileSent):
            files = self.files(state)
            if len(files) >= self.limit:
                said = Msg.counted(MSG_EVIDENCE_LIMIT, self.limit)
                return Outcome(state, (Reply(said, self.buttons(state), step=self.id),))
            new = state.answer(self.key, [*files, attachment_answer(event)])
            said = Msg.counted(MSG_EVIDENCE_RECEIVED, len(files) + 1)
            return Outcome(new, (Reply(said, self.buttons(new), step=self.id),))
        if isinstance(event, Pick) and event.code in (DONE, SKIP):
            return Outcome(state, (), goto=self.following(state))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
