"""A social leader asks for protection follow-up from their case (after a right receipt code).

What is needed, whether and how the team may get in touch, optional details, confirm.
No phone number or name is asked: contact goes through this chat or an institution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flows import taxonomy
from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    Choice,
    Effect,
    Msg,
    Next,
    Outcome,
    Pick,
    Reply,
    Result,
    State,
    Step,
    StepEvent,
    choices_with_nav,
)
from flows.messages import N_
from flows.selection import MultiChoiceStep
from flows.steps import ChoiceStep, TextStep

NEEDS = "protection.needs"
CONTACT = "protection.contact"
DETAILS = "protection.details"
CONFIRM = "protection.confirm"
REQUEST_PROTECTION = "request_protection"
ANSWER_KEYS = ("protection_needs", "protection_contact", "protection_details")

MSG_ASK_NEEDS = N_("¿Qué necesita? Marque todo lo que aplique y luego toque «Listo».")
MSG_ASK_CONTACT = N_("¿Cómo puede el equipo ponerse en contacto con usted?")
MSG_ASK_DETAILS = N_(
    "Si quiere, cuente más sobre lo que necesita. No escriba nombres ni números de teléfono."
)
MSG_CONFIRM_REQUEST = N_("Revise su solicitud antes de enviarla:\n{details}")
MSG_LINE_NEEDS = N_("Necesita:\n{value}")
MSG_LINE_CONTACT = N_("Contacto: {value}")
MSG_LINE_DETAILS = N_("Detalles: {value}")
MSG_REQUEST_SENT = N_(
    "Su solicitud de protección llegó al equipo. Le responderán por «Seguimiento»."
)
MSG_REQUEST_FAILED = N_("No pude enviar su solicitud ahora. Intente otra vez en unos minutos.")
MSG_BULLET_ITEM = N_("• {item}")
SEND = "send"


def _summary(answers: Mapping[str, Any]) -> tuple[Msg, ...]:
    needs = answers.get("protection_needs") or []
    lines = [Msg(MSG_LINE_NEEDS, {"value": tuple(
        Msg(MSG_BULLET_ITEM, {"item": Msg(taxonomy.PROTECTION_NEEDS[code])})
        for code in needs if code in taxonomy.PROTECTION_NEEDS
    )})]
    contact = answers.get("protection_contact")
    if isinstance(contact, str) and contact in taxonomy.CONTACT_WAYS:
        lines.append(Msg(MSG_LINE_CONTACT, {"value": Msg(taxonomy.CONTACT_WAYS[contact])}))
    details = answers.get("protection_details")
    if details:
        lines.append(Msg(MSG_LINE_DETAILS, {"value": str(details)}))
    return tuple(lines)


@dataclass(frozen=True)
class RequestConfirmStep(Step):
    """Shows the request and hands it to the transport, which encrypts it into the case."""

    id: str = CONFIRM
    next: Next = "followup.case"
    access_key: str = "followup_access"

    def ask(self, state: State) -> tuple[Reply, ...]:
        send = Choice(SEND, Msg(N_("✅ Enviar solicitud")))
        prompt = Msg(MSG_CONFIRM_REQUEST, {"details": _summary(state.answers)})
        return (Reply(prompt, choices_with_nav((send,)), step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, Result):
            cleared = replace(state, answers={k: v for k, v in state.answers.items()
                                              if k not in ANSWER_KEYS})
            if event.data.get("ok") is True:
                return Outcome(cleared, (Reply(Msg(MSG_REQUEST_SENT)),), goto=self.following(state))
            return Outcome(cleared, (Reply(Msg(MSG_REQUEST_FAILED)),), goto=self.following(state))
        access = state.answers.get(self.access_key)
        if isinstance(event, Pick) and event.code == SEND and isinstance(access, str):
            request = {
                "needs": list(state.answers.get("protection_needs") or []),
                "contact": state.answers.get("protection_contact"),
                "details": state.answers.get("protection_details") or "",
            }
            effect = Effect(REQUEST_PROTECTION, {"access": access, "request": request})
            return Outcome(replace(state, pending=effect))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


def protection_steps() -> list[Step]:
    return [
        MultiChoiceStep(NEEDS, Msg(MSG_ASK_NEEDS), taxonomy.PROTECTION_NEEDS, CONTACT,
                        key="protection_needs"),
        ChoiceStep(CONTACT, Msg(MSG_ASK_CONTACT), taxonomy.CONTACT_WAYS, DETAILS,
                   key="protection_contact"),
        TextStep(DETAILS, Msg(MSG_ASK_DETAILS), CONFIRM, key="protection_details",
                 max_length=2000, optional=True),
        RequestConfirmStep(),
    ]
