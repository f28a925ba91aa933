"""What a confirmed conversation becomes: a submission, and what is shown after the commit.

Kinds: "threat" and "stigma" get a receipt (`receipt_replies`) and leave the person on the
"after_report" step (`after_report_state`); "priority" gets `priority_thanks_replies`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
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
    "Su reporte quedó guardado de forma segura.\n"
    "Su código de seguimiento es:\n\n{code}\n\n"
    "Anótelo en un papel y guárdelo lejos del teléfono. "
    "Con este código puede consultar su caso. Solo usted lo tiene."
)
MSG_WHAT_NEXT = N_(
    "Qué pasa ahora:\n"
    "• Lo lee {reader}.\n"
    "• Tiene un plazo de {within} para revisarlo.\n"
    "• Para ver su caso o responder: escriba /start, elija «Seguimiento» y escriba su código.\n"
    "• Este chat no es una línea de emergencia. Si está en peligro, llame al 123."
)
MSG_READER = N_("el equipo de protección de su municipio")
MSG_READER_NAMED = N_("el equipo de protección de {organization} en su municipio")
MSG_ONE_HOUR = N_("1 hora")
MSG_HOURS = N_("{count} horas")
MSG_ONE_DAY = N_("1 día")
MSG_DAYS = N_("{count} días")
# Hours to the team's first action on a report, by urgency: storage.reports.DEADLINES
# (flows import nothing of storage; tests/bot/test_what_next.py checks that they agree).
FIRST_ACTION_HOURS: Mapping[str, int] = MappingProxyType(
    {"immediate": 1, "high": 24, "normal": 72}
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


def duration(hours: int) -> Msg:
    """"1 hora", "24 horas"… under two days; whole days from there ("3 días")."""
    if hours == 1:
        return Msg(MSG_ONE_HOUR)
    if hours < 48 or hours % 24:
        return Msg(MSG_HOURS, {"count": hours})
    return Msg(MSG_DAYS, {"count": hours // 24}) if hours > 24 else Msg(MSG_ONE_DAY)


@dataclass(frozen=True)
class Promise:
    """What a person is told happens to a report: who reads it (the deployment's
    organization, `SOMOS_ORGANIZATION_NAME`, if it has one) and how soon."""

    organization: str = ""

    def reader(self) -> Msg:
        if not self.organization.strip():
            return Msg(MSG_READER)
        return Msg(MSG_READER_NAMED, {"organization": self.organization.strip()})

    def within(self, urgency: str) -> Msg:
        hours = FIRST_ACTION_HOURS.get(urgency, max(FIRST_ACTION_HOURS.values()))
        return duration(hours)

    def params(self) -> dict[str, Msg]:
        """For the welcome and the help: who reads, and the soonest and latest answer."""
        return {"reader": self.reader(),
                "soonest": duration(min(FIRST_ACTION_HOURS.values())),
                "latest": duration(max(FIRST_ACTION_HOURS.values()))}


def receipt_replies(
    formatted_code: str, *, urgency: str = "normal", promise: Promise | None = None
) -> list[Reply]:
    """The receipt, shown once and only after the report is committed, and what happens
    next: who reads it, how soon (by its urgency), how to come back, and that this chat
    is not an emergency line.

    Its buttons belong to the "after_report" step: the transport saves
    `after_report_state(locale)` as the draft right after the commit.
    """
    promise = promise or Promise()
    what_next = {"reader": promise.reader(), "within": promise.within(urgency)}
    return [
        Reply(Msg(MSG_RECEIPT, {"code": formatted_code})),
        Reply(Msg(MSG_WHAT_NEXT, what_next)),
        *AfterReportStep().ask(after_report_state("es")),
    ]


def unfinished_report(state: State) -> bool:
    """Whether losing this conversation loses answers of a report or survey not yet sent:
    the person is told when such a draft expired (bot/conversations.py)."""
    return state.status == "active" and state.answers.get("kind") in URGENCY
