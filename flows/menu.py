"""The main menu: eight entries, the language toggle and help, on two screens of at most
eight choices; no "Atrás" or "Cancelar"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    Choice,
    Msg,
    Next,
    Outcome,
    Pick,
    Reply,
    State,
    Step,
    StepEvent,
)
from flows.messages import N_
from flows.paging import current_page, pager, turned

MENU = "menu"
LANGUAGE = "lang"
HELP = "help"
LOCALES = ("es", "en")

MSG_WELCOME = N_(
    "Hola. Este es un canal seguro y anónimo para reportar amenazas y riesgos.\n"
    "No le vamos a preguntar su nombre ni su teléfono.\n"
    "Sus reportes los lee {reader}, en un plazo de {soonest} a {latest} según la urgencia; "
    "con su código puede volver a consultar.\n"
    "Esto no es una línea de emergencia: si está en peligro, llame al 123.\n"
    "Escriba /salir en cualquier momento para cerrar y borrar esta conversación."
)
MSG_MENU = N_("¿Qué quiere hacer?")
MSG_HELP = N_(
    "Con este canal usted puede:\n"
    "• Reportar una amenaza o un riesgo.\n"
    "• Reportar cuando señalan o hablan mal de un líder o lideresa.\n"
    "• Pedir protección para un líder o lideresa.\n"
    "• Decir qué problemas de seguridad afectan más a su comunidad.\n"
    "• Consultar su reporte con su código.\n"
    "Lo que envía se guarda de forma segura. Solo el equipo de protección de su municipio "
    "lo lee.\n"
    "No guardamos quién lo envió.\n"
    "Esto no es una línea de emergencia: si está en peligro, llame al 123.\n"
    "En cualquier momento escriba /salir para cerrar y borrar esta conversación."
)

# The entries, in this order; the code is also answers["kind"] for the reports, unless the
# MenuStep's `presets` answer otherwise (the quick report is a threat report). The first
# screen holds what a person in danger needs; the second (`SECOND_SCREEN`), self-care, the
# language and help (DESIGN.md §4: at most eight choices a screen).
ENTRIES: Mapping[str, str] = {
    "threat": N_("🚨 Reportar una amenaza o situación de riesgo"),
    "quick": N_("⚡ Reporte rápido: pocas preguntas"),
    "protection": N_("🛡️ Pedir protección para un líder o lideresa"),
    "stigma": N_("📢 Señalan o hablan mal de un líder o lideresa"),
    "priority": N_("🗳️ Prioridades de seguridad de mi comunidad"),
    "followup": N_("🔎 Consultar mi reporte con el código"),
    "wipe": N_("🧹 Borrar esta conversación"),
    "selfcare": N_("💚 Cómo cuidarse y cuidar a otros"),
}
SECOND_SCREEN = frozenset({"selfcare"})
# The toggle names the other language in that language.
SWITCH_TO: Mapping[str, str] = {"es": N_("🌐 English"), "en": N_("🌐 Español")}
HELP_CHOICE = Choice(HELP, Msg(N_("❓ ¿Cómo funciona?")))


def other_locale(locale: str) -> str:
    return "es" if locale == "en" else "en"


@dataclass(frozen=True)
class MenuStep(Step):
    """Sends each entry to its first step (`targets`); language and help answer in place."""

    targets: Mapping[str, str]
    id: str = MENU
    next: Next = MENU
    key: str = "kind"
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def screens(self, state: State) -> tuple[list[Choice], list[Choice]]:
        locale = state.locale if state.locale in LOCALES else "es"
        entries = [Choice(code, Msg(label)) for code, label in ENTRIES.items()]
        first = [choice for choice in entries if choice.code not in SECOND_SCREEN]
        second = [choice for choice in entries if choice.code in SECOND_SCREEN]
        return first, [*second, Choice(LANGUAGE, Msg(SWITCH_TO[locale])), HELP_CHOICE]

    def ask(self, state: State) -> tuple[Reply, ...]:
        page = current_page(state, 2)
        choices = [*self.screens(state)[page], *pager(page, 2)]
        return (Reply(Msg(MSG_MENU), tuple(choices), step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        code = event.code if isinstance(event, Pick) else ""
        if (other := turned(state, code, pager(current_page(state, 2), 2))) is not None:
            return Outcome(other, self.ask(other))
        state = replace(state, scratch={})
        if code in ENTRIES and code in self.targets:
            answers = self.presets.get(code, {self.key: code})
            return Outcome(replace(state, answers={**state.answers, **answers}),
                           goto=self.targets[code])
        if code == LANGUAGE:
            return Outcome(replace(state, locale=other_locale(state.locale)), goto=self.id)
        if code == HELP:
            return Outcome(state, (Reply(Msg(MSG_HELP)),), goto=self.id)
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
