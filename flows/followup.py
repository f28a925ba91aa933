"""Following a report with its receipt code: status, the team's messages, and a reply.

The code is a secret: it goes to the transport in `Effect("check_receipt", {"code": …})`
and is never kept in the answers or the scratch. The transport counts wrong attempts.
When the code is right the transport hands back an opaque `access` handle (sealed by
the transport) that lets the reply step post to that report without the code again,
the status, the entity the case was referred to with its reference (`referral`), and the
messages in the order they were written, each with its day already written out in the
person's language (`day`, never the hour). Somebody without a code can ask for
protection from here too (`flows.protection.request_steps`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    Choice,
    Effect,
    FileSent,
    Msg,
    Next,
    Outcome,
    ParamValue,
    Pick,
    Reply,
    Result,
    State,
    Step,
    StepEvent,
    Text,
    choices_with_nav,
)
from flows.menu import MENU
from flows.messages import N_
from flows.protection import REQUEST_START
from flows.steps import MAX_TEXT_LENGTH, clean_text

FOLLOWUP = "followup.code"
CASE = "followup.case"
REPLY = "followup.reply"
CHECK_RECEIPT = "check_receipt"
REPLY_TO_TEAM = "reply_to_team"
ACCESS = "followup_access"
CODE_DIGITS = 16
# People copy the code as it was shown ("1234 5678 9012 3456") or with dashes or dots.
SEPARATORS = re.compile(r"[\s\-‐‑–—.·]+")
CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")
# storage.triage.MAX_REFERENCE: a filing number as long as a focal point may write it.
MAX_REFERENCE_LENGTH = 120

MSG_ASK_CODE = N_("Escriba su código de seguimiento. Son 16 números.")
MSG_CODE_SHAPE = N_("El código tiene 16 números. Revíselo y escríbalo otra vez.")
MSG_CODE_NOT_FOUND = N_(
    "No encontré un reporte con ese código. Revise los números y escríbalo otra vez."
)
MSG_CODE_RATE_LIMITED = N_(
    "Hubo muchos intentos con códigos que no existen. "
    "Por seguridad, espere 15 minutos y vuelva a intentar."
)
MSG_CHECK_FAILED = N_("No pude consultar su reporte ahora. Intente otra vez en unos minutos.")
MSG_MESSAGES = N_("Mensajes de su caso:\n{messages}")
MSG_NO_MESSAGES = N_("Todavía no hay mensajes del equipo de protección.")
MSG_FROM_TEAM = N_("Equipo de protección: {text}")
MSG_FROM_YOU = N_("Usted: {text}")
# The day only ("2 de diciembre"), written by the transport in the person's language.
MSG_FROM_TEAM_ON = N_("El {day}, el equipo de protección escribió: {text}")
MSG_FROM_YOU_ON = N_("El {day}, usted escribió: {text}")
MSG_REFERRED_TO = N_(
    "Su reporte fue enviado a una entidad que puede ayudarle.\n"
    "Entidad: {entity}\n"
    "Número de radicado o referencia: {reference}"
)
MSG_WAS_REFERRED_TO = N_(
    "Su caso fue remitido a: {entity}\nNúmero de radicado o referencia: {reference}"
)
# The entities a focal point refers a case to (storage.triage.REFERRAL_ENTITIES), as the
# reporter reads them.
ENTITIES: Mapping[str, str] = {
    "unp": N_("UNP (Unidad Nacional de Protección)"),
    "defensoria": N_("Defensoría del Pueblo"),
    "fiscalia": N_("Fiscalía General de la Nación"),
    "personeria": N_("Personería municipal"),
    "policia": N_("Policía Nacional"),
    "procuraduria": N_("Procuraduría General de la Nación"),
    "icbf": N_("ICBF (Instituto Colombiano de Bienestar Familiar)"),
    "other": N_("Otra entidad"),
}
NO_CODE = "no_code"
NO_CODE_CHOICE = Choice(NO_CODE, Msg(N_("🛡️ No tengo código: pedir protección")))
MSG_ASK_REPLY = N_(
    "Escriba su mensaje o la información que quiere agregar. También puede enviar fotos, "
    "documentos o audios. No escriba nombres si no es necesario."
)
MSG_REPLY_SENT = N_("Su mensaje llegó al equipo de protección.")
MSG_CASE_OPTIONS = N_("¿Qué quiere hacer con su caso?")
STATUSES: Mapping[str, str] = {
    "new": N_("Su reporte fue recibido y está en la bandeja del equipo de protección."),
    "in_review": N_("El equipo de protección está revisando su reporte."),
    # Shown only when the referral's entity and reference cannot be read (MSG_REFERRED_TO).
    "referred": N_("Su reporte fue enviado a una entidad que puede ayudarle."),
    "follow_up": N_("El equipo de protección está haciendo seguimiento a su caso."),
    "closed": N_(
        "Su caso está cerrado. Si la situación sigue o empeora, puede hacer un reporte nuevo."
    ),
}


def receipt_code(text: str) -> str | None:
    """The 16 digits of a typed code, or None when it does not have that shape."""
    digits = SEPARATORS.sub("", clean_text(text))
    return digits if CODE.fullmatch(digits) else None


@dataclass(frozen=True)
class ReceiptCodeStep(Step):
    """Asks for the receipt code and reports the status the transport found."""

    id: str = FOLLOWUP
    next: Next = MENU

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (self._say(MSG_ASK_CODE),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, Result):
            return self._answer(state, event)
        if isinstance(event, Pick) and event.code == NO_CODE:
            return Outcome(state, goto=REQUEST_START)
        if not isinstance(event, Text):
            return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
        code = receipt_code(event.text)
        if code is None:
            return Outcome(state, (self._say(MSG_CODE_SHAPE),))
        # The locale lets the transport write the messages' days in the person's language.
        effect = Effect(CHECK_RECEIPT, {"code": code, "locale": state.locale})
        return Outcome(replace(state, pending=effect))

    def _answer(self, state: State, result: Result) -> Outcome:
        outcome = result.data.get("outcome")
        if outcome == "found":
            status = _status_reply(result.data.get("status"), result.data.get("referral"))
            access = result.data.get("access")
            if status is not None and isinstance(access, str):
                found = state.answer(ACCESS, access)
                replies = (*status, _messages_reply(result.data.get("messages")))
                return Outcome(found, replies, goto=CASE)
        elif outcome == "not_found":
            return Outcome(state, (self._say(MSG_CODE_NOT_FOUND),))
        elif outcome == "rate_limited":
            return Outcome(state, (Reply(Msg(MSG_CODE_RATE_LIMITED)),), goto=self.following(state))
        return Outcome(state, (self._say(MSG_CHECK_FAILED),))

    def _say(self, msgid: str) -> Reply:
        return Reply(Msg(msgid), choices_with_nav((NO_CODE_CHOICE,)), step=self.id)


def _referral(raw: object) -> tuple[Msg, str] | None:
    """The entity's name and the reference the focal point wrote, if the case has them."""
    if not isinstance(raw, dict):
        return None
    entity, reference = raw.get("entity"), raw.get("reference")
    if entity not in ENTITIES or not isinstance(reference, str) or not reference.strip():
        return None
    return Msg(ENTITIES[str(entity)]), reference.strip()[:MAX_REFERENCE_LENGTH]


def _status_reply(status: object, referral: object) -> tuple[Reply, ...] | None:
    """The status in plain words; with a referral, where the case went and its number."""
    msgid = STATUSES.get(str(status))
    if msgid is None:
        return None
    referred = _referral(referral)
    if referred is None:
        return (Reply(Msg(msgid)),)
    entity, reference = referred
    params: dict[str, ParamValue] = {"entity": entity, "reference": reference}
    if status == "referred":
        return (Reply(Msg(MSG_REFERRED_TO, params)),)
    return (Reply(Msg(msgid)), Reply(Msg(MSG_WAS_REFERRED_TO, params)))


def _messages_reply(raw: object) -> Reply:
    lines: list[Msg] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            mine = item.get("from") == "reporter"
            text = item["text"][:MAX_TEXT_LENGTH]
            day = item.get("day")
            if isinstance(day, str) and day:
                msgid = MSG_FROM_YOU_ON if mine else MSG_FROM_TEAM_ON
                lines.append(Msg(msgid, {"day": day, "text": text}))
            else:
                lines.append(Msg(MSG_FROM_YOU if mine else MSG_FROM_TEAM, {"text": text}))
    if not lines:
        return Reply(Msg(MSG_NO_MESSAGES))
    return Reply(Msg(MSG_MESSAGES, {"messages": tuple(lines[-20:])}))


CASE_OPTIONS: Mapping[str, str] = {
    "reply": N_("✍️ Responder o agregar información"),
    "protection": N_("🛡️ Solicitar protección"),
    "stop_news": N_("🔕 No recibir más avisos en este chat"),
    "menu": N_("🏠 Menú principal"),
}
REVOKE_NEWS = "revoke_news"
MSG_NEWS_REVOKED = N_("Listo. No le enviaremos más avisos en este chat.")


@dataclass(frozen=True)
class CaseStep(Step):
    """After a right code: answer the team, add information, or go back to the menu."""

    id: str = CASE
    next: Next = MENU

    def ask(self, state: State) -> tuple[Reply, ...]:
        choices = tuple(Choice(code, Msg(label)) for code, label in CASE_OPTIONS.items())
        return (Reply(Msg(MSG_CASE_OPTIONS), choices, step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        access = state.answers.get(ACCESS)
        if isinstance(event, Result) and event.name == REVOKE_NEWS:
            return Outcome(state, (Reply(Msg(MSG_NEWS_REVOKED)), *self.ask(state)))
        if isinstance(event, Pick) and event.code == "reply" and access:
            return Outcome(state, goto=REPLY)
        if isinstance(event, Pick) and event.code == "protection" and access:
            return Outcome(state, goto="protection.needs")
        if isinstance(event, Pick) and event.code == "stop_news" and isinstance(access, str):
            return Outcome(replace(state, pending=Effect(REVOKE_NEWS, {"access": access})))
        if isinstance(event, Pick) and event.code == "menu":
            return Outcome(state, goto=MENU)
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


@dataclass(frozen=True)
class ReplyStep(Step):
    """Takes the reporter's message and hands it to the transport to encrypt for the team."""

    id: str = REPLY
    next: Next = CASE

    def accepts(self, attachment: FileSent) -> bool:
        return True  # more evidence for the case: photos, documents, audio, voice

    def keeps_text(self, text: str) -> bool:
        return True  # a message to the team

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (Reply(Msg(MSG_ASK_REPLY), choices_with_nav(()), step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        access = state.answers.get(ACCESS)
        if isinstance(event, Result) and event.name == ADD_EVIDENCE:
            if event.data.get("ok") is True:
                return Outcome(state, (Reply(Msg(MSG_EVIDENCE_ADDED)), *self.ask(state)))
            return Outcome(state, (Reply(Msg(MSG_CHECK_FAILED)),), goto=MENU)
        if isinstance(event, Result):
            if event.data.get("ok") is True:
                return Outcome(state, (Reply(Msg(MSG_REPLY_SENT)),), goto=CASE)
            return Outcome(state, (Reply(Msg(MSG_CHECK_FAILED)),), goto=MENU)
        if isinstance(event, FileSent) and isinstance(access, str):
            effect = Effect(ADD_EVIDENCE, {"access": access, "ref": event.ref})
            return Outcome(replace(state, pending=effect))
        if not isinstance(event, Text) or not isinstance(access, str):
            return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
        text = clean_text(event.text)
        if not text or len(text) > MAX_TEXT_LENGTH:
            return Outcome(state, (Reply(Msg(MSG_REPLY_LIMIT, {"limit": MAX_TEXT_LENGTH})),
                                   *self.ask(state)))
        effect = Effect(REPLY_TO_TEAM, {"access": access, "text": text})
        return Outcome(replace(state, pending=effect))


ADD_EVIDENCE = "add_evidence"
MSG_EVIDENCE_ADDED = N_(
    "Recibido: el archivo se agregó a su caso. Puede enviar otro o escribir un mensaje."
)
MSG_REPLY_LIMIT = N_("Escriba un mensaje de texto de hasta {limit} caracteres, por favor.")
