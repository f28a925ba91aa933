"""Leaving no trace: the "Borrar esta conversación" entry, /salir, and the step after a receipt.

Wiping ends the conversation (status "cancelled") and leaves `Effect("wipe_chat")` for the
transport, which deletes the chat's messages and then sends `wipe_replies(left)`: what it
could not delete (Telegram lets a bot delete messages for 48 hours only) and how to delete
the chat by hand.
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

# Someone looking at the phone afterwards should not learn what was going on: the answer
# names no report, only what is left on the phone and how to remove it.
MSG_EXIT = N_(
    "Conversación cerrada. Borré los mensajes de las últimas 48 horas: Telegram no deja "
    "que un bot borre mensajes más antiguos.\n\n{by_hand}"
)
MSG_EXIT_LEFT_ONE = N_(
    "Conversación cerrada. No pude borrar 1 mensaje: tiene más de 48 horas, y Telegram no "
    "deja que un bot borre mensajes tan antiguos.\n\n{by_hand}"
)
MSG_EXIT_LEFT = N_(
    "Conversación cerrada. No pude borrar {count} mensajes: tienen más de 48 horas, y "
    "Telegram no deja que un bot borre mensajes tan antiguos.\n\n{by_hand}"
)
MSG_BY_HAND = N_(
    "Para borrar todo el chat usted mismo:\n"
    "• Android: en la lista de chats, mantenga presionado este chat y toque «Eliminar chat».\n"
    "• iPhone: en la lista de chats, deslice este chat hacia la izquierda y toque «Eliminar».\n"
    "También puede abrir el chat, tocar el menú (⋮) y elegir «Borrar historial»."
)
MSG_ASK_WIPE = N_("¿Borrar de este teléfono todos los mensajes de esta conversación?")
MSG_AFTER_REPORT = N_(
    "Cuando haya anotado el código, le recomendamos borrar esta conversación."
)
MENU_CHOICE = Choice(BACK_TO_MENU, Msg(N_("Volver al menú")))
AFTER_REPORT_CHOICES = (
    Choice(WIPE, Msg(N_("🧹 Borrar esta conversación (recomendado)"))),
    MENU_CHOICE,
)


def wipe_replies(left: int = 0) -> tuple[Reply, ...]:
    """What is said once the chat was wiped: how many messages stayed (`left`, those
    Telegram refused to delete), and how to delete the chat by hand."""
    by_hand = Msg(MSG_BY_HAND)
    if left <= 0:
        return (Reply(Msg(MSG_EXIT, {"by_hand": by_hand})),)
    if left == 1:
        return (Reply(Msg(MSG_EXIT_LEFT_ONE, {"by_hand": by_hand})),)
    return (Reply(Msg(MSG_EXIT_LEFT, {"count": left, "by_hand": by_hand})),)


def wiped(state: State) -> tuple[State, tuple[Reply, ...]]:
    """Forgets everything but the language and asks the transport to delete the chat; the
    transport answers with `wipe_replies` once it knows what it could not delete."""
    closed = State(locale=state.locale, status="cancelled", pending=Effect(WIPE_CHAT))
    return closed, wipe_replies()


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
