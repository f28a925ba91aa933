"""What a confirmed conversation becomes: a submission, and what is shown after the commit.

Kinds: "threat" and "stigma" get a receipt (`receipt_replies`) and leave the person on the
"after_report" step (`after_report_state`); "priority" gets `priority_thanks_replies`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flows.engine import Msg, Reply, State
from flows.messages import N_
from flows.stigma import stigma_urgency
from flows.wipe import AfterReportStep, after_report_state

HIGH_URGENCY_TARGETS = frozenset({"target.leader"})
HIGH_URGENCY_CATEGORIES = frozenset(
    {"threat.death_threat", "threat.attack", "threat.recruitment", "threat.sexual_violence"}
)
MSG_RECEIPT = N_(
    "Su reporte quedó guardado y cifrado.\n"
    "Su código de seguimiento es:\n\n{code}\n\n"
    "Anótelo en un papel y guárdelo lejos del teléfono. "
    "Con este código puede consultar su caso. Solo usted lo tiene."
)
MSG_SUBMIT_FAILED = N_(
    "Algo falló de nuestro lado. Lo que escribió no se perdió: intente otra vez en unos minutos."
)


class IncompleteReport(ValueError):
    """The state lacks an answer that a report needs."""


@dataclass(frozen=True)
class ConfirmedReport:
    """A confirmed report, before encryption: clear routing fields plus the secret answers."""

    kind: str
    category: str
    municipality_code: str
    urgency: str
    answers: Mapping[str, Any]


def threat_urgency(answers: Mapping[str, Any]) -> str:
    """Immediate danger first; threats against leaders or to life are high; the rest normal."""
    if answers.get("immediate_danger") == "yes":
        return "immediate"
    if answers.get("target") in HIGH_URGENCY_TARGETS:
        return "high"
    if answers.get("category") in HIGH_URGENCY_CATEGORIES:
        return "high"
    return "normal"


URGENCY: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "threat": threat_urgency,
    "stigma": stigma_urgency,
    "priority": lambda answers: "normal",
}


def urgency_of(answers: Mapping[str, Any], kind: str | None = None) -> str:
    """The urgency of a report of `kind` (by default answers["kind"], else "threat")."""
    kind = kind or str(answers.get("kind") or "threat")
    return URGENCY.get(kind, threat_urgency)(answers)


def _category(kind: str, answers: Mapping[str, Any]) -> str:
    if kind != "priority":
        return str(answers["category"])
    concerns = answers.get("concerns")
    if not isinstance(concerns, list) or not concerns:
        raise KeyError("concerns")
    return str(concerns[0])


def confirmed_report(state: State) -> ConfirmedReport:
    """Turns a submitted conversation into what storage encrypts and routes."""
    answers = dict(state.answers)
    kind = str(answers.pop("kind", ""))
    if kind not in URGENCY:
        raise IncompleteReport(f"unknown report kind: {kind!r}")
    try:
        municipality = str(answers["municipality"])
        category = _category(kind, answers)
    except KeyError as missing:
        raise IncompleteReport(f"missing answer: {missing}") from None
    return ConfirmedReport(
        kind=kind,
        category=category,
        municipality_code=municipality,
        urgency=urgency_of(answers, kind),
        answers={**answers, "locale": state.locale},
    )


def receipt_replies(formatted_code: str) -> list[Reply]:
    """The receipt, shown once and only after the report is committed.

    Its buttons belong to the "after_report" step: the transport saves
    `after_report_state(locale)` as the draft right after the commit.
    """
    return [
        Reply(Msg(MSG_RECEIPT, {"code": formatted_code})),
        *AfterReportStep().ask(after_report_state("es")),
    ]
