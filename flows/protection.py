"""A social leader asks for protection: from their case, or from the menu without a report.

From the case (after a right receipt code, `protection_steps`): what is needed, whether and
how the team may get in touch, optional details, confirm; it joins the case as an event.
From the menu (`request_steps`, starting at `REQUEST_START`): danger now first, then the
municipality, the kind of leader at risk, the same questions, news consent and a summary;
it becomes a report of kind "threat" against a leader, category `PROTECTION_REQUEST`, with
a receipt, routed like any threat. No phone number or name is asked: contact goes through
this chat or an institution.
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
from flows.municipalities import Catalog
from flows.selection import MultiChoiceStep
from flows.steps import ChoiceStep, ConfirmStep, TextStep
from flows.stigma import MSG_LINE_LEADERSHIP
from flows.summary import MSG_LINE_NOTIFY, coded_line, municipality_line, notify_step
from flows.threat import MSG_ASK_DANGER, MSG_LINE_DANGER, PlaceStep, emergency_if_yes

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
MSG_SEND_REQUEST = N_("✅ Enviar solicitud")
SEND = "send"


def _needs_line(answers: Mapping[str, Any]) -> Msg | None:
    needs = answers.get("protection_needs")
    if not isinstance(needs, list) or not needs:
        return None
    return Msg(MSG_LINE_NEEDS, {"value": tuple(
        Msg(MSG_BULLET_ITEM, {"item": Msg(taxonomy.PROTECTION_NEEDS[code])})
        for code in needs if code in taxonomy.PROTECTION_NEEDS
    )})


def _contact_line(answers: Mapping[str, Any]) -> Msg | None:
    contact = answers.get("protection_contact")
    if isinstance(contact, str) and contact in taxonomy.CONTACT_WAYS:
        return Msg(MSG_LINE_CONTACT, {"value": Msg(taxonomy.CONTACT_WAYS[contact])})
    return None


def _details_line(answers: Mapping[str, Any]) -> Msg | None:
    details = answers.get("protection_details")
    return Msg(MSG_LINE_DETAILS, {"value": str(details)}) if details else None


def _summary(answers: Mapping[str, Any]) -> tuple[Msg, ...]:
    lines = (line(answers) for line in (_needs_line, _contact_line, _details_line))
    return tuple(line for line in lines if line is not None)


def protection_request(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The request as storage records it: needs, the way to get in touch, details."""
    return {
        "needs": list(answers.get("protection_needs") or []),
        "contact": answers.get("protection_contact"),
        "details": answers.get("protection_details") or "",
    }


@dataclass(frozen=True)
class RequestConfirmStep(Step):
    """Shows the request and hands it to the transport, which encrypts it into the case."""

    id: str = CONFIRM
    next: Next = "followup.case"
    access_key: str = "followup_access"

    def ask(self, state: State) -> tuple[Reply, ...]:
        send = Choice(SEND, Msg(MSG_SEND_REQUEST))
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
            effect = Effect(REQUEST_PROTECTION, {"access": access,
                                                 "request": protection_request(state.answers)})
            return Outcome(replace(state, pending=effect))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


def _request_questions(needs: str, contact: str, details: str, after: str) -> list[Step]:
    """What is needed, how to get in touch, details: the same three questions either way."""
    return [
        MultiChoiceStep(needs, Msg(MSG_ASK_NEEDS), taxonomy.PROTECTION_NEEDS, contact,
                        key="protection_needs"),
        ChoiceStep(contact, Msg(MSG_ASK_CONTACT), taxonomy.CONTACT_WAYS, details,
                   key="protection_contact"),
        TextStep(details, Msg(MSG_ASK_DETAILS), after, key="protection_details",
                 max_length=2000, optional=True),
    ]


def protection_steps() -> list[Step]:
    """Asking for protection from a case the reporter opened with the receipt code."""
    return [*_request_questions(NEEDS, CONTACT, DETAILS, CONFIRM), RequestConfirmStep()]


# --- Without an earlier report: from the menu ------------------------------------------

# The menu entry (flows.menu.ENTRIES) and where it starts (flows.conversation.TARGETS).
MENU_CODE = "protection"
MSG_MENU_ENTRY = N_("🛡️ Pedir protección para un líder o lideresa")
REQUEST_START = "protection.request.danger"
REQUEST_MUNICIPALITY = "protection.request.municipality"
REQUEST_LEADERSHIP = "protection.request.leadership"
REQUEST_NEEDS = "protection.request.needs"
REQUEST_CONTACT = "protection.request.contact"
REQUEST_DETAILS = "protection.request.details"
REQUEST_NOTIFY = "protection.request.notify"
REQUEST_CONFIRM = "protection.request.confirm"
# What the report is: a threat against a leader whose category says it asks for protection.
PROTECTION_REQUEST = taxonomy.PROTECTION_REQUEST
REQUEST_ANSWERS = {"kind": "threat", "target": "target.leader", "category": PROTECTION_REQUEST}

MSG_ASK_REQUEST_MUNICIPALITY = N_(
    "¿En qué municipio está la persona en riesgo? Escriba el nombre del municipio."
)
MSG_ASK_REQUEST_LEADERSHIP = N_("¿Qué tipo de líder o lideresa es la persona en riesgo?")
MSG_CONFIRM_NEW_REQUEST = N_(
    "Revise su solicitud antes de enviarla. Le daremos un código para seguirla:\n{details}"
)


@dataclass(frozen=True)
class RequestDangerStep(ChoiceStep):
    """The first question; its answer also fixes what the request is (`REQUEST_ANSWERS`),
    so the summary shows exactly what is sent."""

    def take(self, state: State, event: StepEvent) -> Outcome:
        outcome = super().take(state, event)
        if outcome.goto is None:
            return outcome
        answers = {**outcome.state.answers, **REQUEST_ANSWERS}
        return replace(outcome, state=replace(outcome.state, answers=answers))


def request_steps(catalog: Catalog) -> list[Step]:
    """Asking for protection without an earlier report (the menu entry `MENU_CODE`)."""
    return [
        RequestDangerStep(REQUEST_START, Msg(MSG_ASK_DANGER), taxonomy.YES_NO,
                          REQUEST_MUNICIPALITY, key="immediate_danger",
                          on_answer=emergency_if_yes),
        PlaceStep(REQUEST_MUNICIPALITY, Msg(MSG_ASK_REQUEST_MUNICIPALITY), catalog,
                         REQUEST_LEADERSHIP),
        ChoiceStep(REQUEST_LEADERSHIP, Msg(MSG_ASK_REQUEST_LEADERSHIP), taxonomy.LEADERSHIP,
                   REQUEST_NEEDS, key="leadership"),
        *_request_questions(REQUEST_NEEDS, REQUEST_CONTACT, REQUEST_DETAILS, REQUEST_NOTIFY),
        notify_step(REQUEST_NOTIFY, REQUEST_CONFIRM),
        ConfirmStep(
            REQUEST_CONFIRM,
            MSG_CONFIRM_NEW_REQUEST,
            (
                coded_line(MSG_LINE_DANGER, "immediate_danger"),
                municipality_line(catalog),
                coded_line(MSG_LINE_LEADERSHIP, "leadership"),
                _needs_line,
                _contact_line,
                _details_line,
                coded_line(MSG_LINE_NOTIFY, "notify"),
            ),
            send_label=MSG_SEND_REQUEST,
        ),
    ]
