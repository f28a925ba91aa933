"""The main menu: six entries, the language toggle and help; no "Atrás" or "Cancelar"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

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

MENU = "menu"
LANGUAGE = "lang"
HELP = "help"
LOCALES = ("es", "en")

MSG_WELCOME = N_(
    "Hola. Este es un canal seguro y anónimo para reportar amenazas y riesgos.\n"
    "No le vamos a preguntar su nombre ni su teléfono.\n"
    "Al final puede borrar esta conversación de su teléfono."
)
MSG_MENU = N_("¿Qué quiere hacer?")
MSG_HELP = N_(
    "Con este canal usted puede:\n"
    "• Reportar una amenaza o un riesgo.\n"
    "• Reportar cuando señalan o hablan mal de un líder o lideresa.\n"
    "• Decir qué problemas de seguridad afectan más a su comunidad.\n"
    "• Consultar su reporte con su código.\n"
    "Lo que envía se guarda cifrado. Solo el equipo de protección de su municipio lo lee.\n"
    "No guardamos quién lo envió.\n"
    "En cualquier momento escriba /salir para cerrar y borrar esta conversación."
)

# The six entries, in this order; the code is also answers["kind"] for the reports.
ENTRIES: Mapping[str, str] = {
    "threat": N_("🚨 Reportar una amenaza o situación de riesgo"),
    "protection": N_("🛡️ Pedir protección para un líder o lideresa"),
    "stigma": N_("📢 Reportar estigmatización contra un líder o lideresa"),
    "priority": N_("🗳️ Prioridades de seguridad de mi comunidad"),
    "followup": N_("🔎 Seguimiento a mi reporte / solicitar protección"),
    "selfcare": N_("🛡️ Autoprotección y autocuidado"),
    "wipe": N_("🧹 Borrar esta conversación"),
}
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

    def ask(self, state: State) -> tuple[Reply, ...]:
        locale = state.locale if state.locale in LOCALES else "es"
        choices = (
            *(Choice(code, Msg(label)) for code, label in ENTRIES.items()),
            Choice(LANGUAGE, Msg(SWITCH_TO[locale])),
            HELP_CHOICE,
        )
        return (Reply(Msg(MSG_MENU), choices, step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        code = event.code if isinstance(event, Pick) else ""
        if code in ENTRIES and code in self.targets:
            return Outcome(state.answer(self.key, code), goto=self.targets[code])
        if code == LANGUAGE:
            return Outcome(replace(state, locale=other_locale(state.locale)), goto=self.id)
        if code == HELP:
            return Outcome(state, (Reply(Msg(MSG_HELP)),), goto=self.id)
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))
