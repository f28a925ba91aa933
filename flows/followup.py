"""Following a report with its receipt code: the status in plain words.

The code is a secret: it goes to the transport in `Effect("check_receipt", {"code": …})`
and is never kept in the answers or the scratch. The transport counts wrong attempts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    Effect,
    Msg,
    Next,
    Outcome,
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
from flows.steps import clean_text

FOLLOWUP = "followup.code"
CHECK_RECEIPT = "check_receipt"
CODE_DIGITS = 16
# People copy the code as it was shown ("1234 5678 9012 3456") or with dashes or dots.
SEPARATORS = re.compile(r"[\s\-‐‑–—.·]+")
CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")

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
STATUSES: Mapping[str, str] = {
    "new": N_("Su reporte fue recibido y está en la bandeja del equipo de protección."),
    "in_review": N_("El equipo de protección está revisando su reporte."),
    "referred": N_(
        "Su reporte fue enviado a la entidad que puede ayudarle, "
        "por ejemplo la UNP, la Defensoría o la Fiscalía."
    ),
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
        if not isinstance(event, Text):
            return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
        code = receipt_code(event.text)
        if code is None:
            return Outcome(state, (self._say(MSG_CODE_SHAPE),))
        return Outcome(replace(state, pending=Effect(CHECK_RECEIPT, {"code": code})))

    def _answer(self, state: State, result: Result) -> Outcome:
        outcome = result.data.get("outcome")
        if outcome == "found":
            status = STATUSES.get(str(result.data.get("status")))
            if status is not None:
                return Outcome(state, (Reply(Msg(status)),), goto=self.following(state))
        elif outcome == "not_found":
            return Outcome(state, (self._say(MSG_CODE_NOT_FOUND),))
        elif outcome == "rate_limited":
            return Outcome(state, (Reply(Msg(MSG_CODE_RATE_LIMITED)),), goto=self.following(state))
        return Outcome(state, (self._say(MSG_CHECK_FAILED),))

    def _say(self, msgid: str) -> Reply:
        return Reply(Msg(msgid), choices_with_nav(()), step=self.id)
