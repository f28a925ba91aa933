"""Leaving no trace: the "Borrar esta conversación" entry, /salir, and the step after a receipt.

Wiping ends the conversation (status "cancelled") and leaves `Effect("wipe_chat")` for the
transport, which deletes the chat's messages and then sends the one neutral reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    Choice,
    Effect,
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
from flows.menu import MENU
from flows.messages import N_

WIPE_CONFIRM = "wipe.confirm"
AFTER_REPORT = "after_report"
WIPE_CHAT = "wipe_chat"
WIPE = "wipe"
BACK_TO_MENU = "menu"

# Someone looking at the phone afterwards should not learn what was going on.
MSG_EXIT = N_("Conversación cerrada.")
MSG_ASK_WIPE = N_("¿Borrar de este teléfono todos los mensajes de esta conversación?")
MSG_AFTER_REPORT = N_(
    "El equipo de protección de su municipio recibirá su reporte.\n"
    "Cuando haya anotado el código, le recomendamos borrar esta conversación."
)
MENU_CHOICE = Choice(BACK_TO_MENU, Msg(N_("Volver al menú")))
AFTER_REPORT_CHOICES = (
    Choice(WIPE, Msg(N_("🧹 Borrar esta conversación (recomendado)"))),
    MENU_CHOICE,
)


def wiped(state: State) -> tuple[State, tuple[Reply, ...]]:
    """Forgets everything but the language and asks the transport to delete the chat."""
    closed = State(locale=state.locale, status="cancelled", pending=Effect(WIPE_CHAT))
    return closed, (Reply(Msg(MSG_EXIT)),)


@dataclass(frozen=True)
class WipeStep(Step):
    """Asks before deleting the chat: "Sí, borrar" wipes, "No" goes back to the menu."""

    id: str = WIPE_CONFIRM
    next: Next = MENU

    def ask(self, state: State) -> tuple[Reply, ...]:
        choices = (Choice("yes", Msg(N_("Sí, borrar"))), Choice("no", Msg(N_("No"))))
        return (Reply(Msg(MSG_ASK_WIPE), choices_with_nav(choices), step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        code = event.code if isinstance(event, Pick) else None
        if code == "yes":
            return Outcome(*wiped(state))
        if code == "no":
            return Outcome(state, (), goto=self.following(state))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


@dataclass(frozen=True)
class AfterReportStep(Step):
    """Where a committed report leaves the person: wipe the chat (first), or the menu.

    Its buttons are the receipt's; it has no "Atrás": the report is already sent.
    """

    id: str = AFTER_REPORT
    next: Next = MENU

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (Reply(Msg(MSG_AFTER_REPORT), AFTER_REPORT_CHOICES, step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        code = event.code if isinstance(event, Pick) else None
        if code == WIPE:
            return Outcome(*wiped(state))
        if code == BACK_TO_MENU:
            return Outcome(state, (), goto=self.following(state))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


def after_report_state(locale: str) -> State:
    """The draft a transport saves once a report is committed: the receipt's buttons work."""
    return State(step=AFTER_REPORT, status="active", locale=locale)
