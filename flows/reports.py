"""What a confirmed conversation becomes: a submission, and the receipt shown after commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.engine import Choice, Msg, Reply, State
from flows.messages import N_

HIGH_URGENCY_TARGETS = frozenset({"target.leader"})
HIGH_URGENCY_CATEGORIES = frozenset(
    {"threat.death_threat", "threat.attack", "threat.recruitment", "threat.sexual_violence"}
)
# Answers that are codes (safe to aggregate); everything else is free text.
CODED_KEYS = ("target", "category", "channel", "actor", "when", "immediate_danger")

MSG_RECEIPT = N_(
    "Su reporte quedó guardado y cifrado.\n"
    "Su código de seguimiento es:\n\n{code}\n\n"
    "Anótelo en un papel y guárdelo lejos del teléfono. "
    "Con este código puede consultar su caso. Solo usted lo tiene."
)
MSG_RECEIPT_NEXT = N_(
    "El equipo de protección de su municipio recibirá su reporte. "
    "Escriba /start para volver al menú."
)
MSG_SUBMIT_FAILED = N_(
    "Algo falló de nuestro lado. Lo que escribió no se perdió: intente otra vez en unos minutos."
)


class IncompleteSubmission(ValueError):
    """The state lacks an answer that a report needs."""


@dataclass(frozen=True)
class Submission:
    """A confirmed report, before encryption: clear routing fields plus the secret answers."""

    kind: str
    category: str
    municipality_code: str
    urgency: str
    answers: Mapping[str, Any]


def urgency_of(answers: Mapping[str, Any]) -> str:
    """Immediate danger first; threats against leaders or to life are high; the rest normal."""
    if answers.get("immediate_danger") == "yes":
        return "immediate"
    if answers.get("target") in HIGH_URGENCY_TARGETS:
        return "high"
    if answers.get("category") in HIGH_URGENCY_CATEGORIES:
        return "high"
    return "normal"


def submission_from_state(state: State) -> Submission:
    """Turns a submitted conversation into what storage encrypts and routes."""
    answers = dict(state.answers)
    kind = str(answers.pop("kind", ""))
    try:
        municipality = str(answers["municipality"])
        category = str(answers["category"])
    except KeyError as missing:
        raise IncompleteSubmission(f"missing answer: {missing}") from None
    if kind not in ("threat",):
        raise IncompleteSubmission(f"unknown report kind: {kind!r}")
    return Submission(
        kind=kind,
        category=category,
        municipality_code=municipality,
        urgency=urgency_of(answers),
        answers={**answers, "locale": state.locale},
    )


def receipt_replies(formatted_code: str) -> list[Reply]:
    """The receipt, shown once and only after the report is committed."""
    return [
        Reply(Msg(MSG_RECEIPT, {"code": formatted_code})),
        Reply(Msg(MSG_RECEIPT_NEXT), (Choice("menu:open", Msg(N_("Volver al menú"))),)),
    ]
