"""The whole conversation: the main menu, the threat report, help and exit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flows import taxonomy
from flows.engine import Command, Flow, Msg, Reply, State, Step, enter
from flows.messages import N_
from flows.municipalities import Catalog
from flows.steps import ChoiceStep, ConfirmStep, MunicipalityStep, SummaryLine, TextStep

MENU = "menu"

MSG_WELCOME = N_(
    "Hola. Este es un canal seguro y anónimo para reportar amenazas y riesgos.\n"
    "No le vamos a preguntar su nombre ni su teléfono.\n"
    "Al final puede borrar esta conversación de su teléfono."
)
MSG_MENU = N_("¿Qué quiere hacer?")
MSG_HELP = N_(
    "Con este canal usted puede reportar una amenaza o una situación de riesgo.\n"
    "Su reporte se guarda cifrado. Solo el equipo de protección de su municipio lo lee.\n"
    "No guardamos quién lo envió.\n"
    "En cualquier momento escriba /salir para borrar lo que lleva escrito."
)
MSG_EXIT = N_("Conversación cerrada.")
MSG_EMERGENCY = N_(
    "Si hay peligro ahora mismo, llame ya:\n"
    "• 123 Policía\n"
    "• 103 Línea Vida de la UNP (Unidad Nacional de Protección)"
)

MSG_ASK_MUNICIPALITY = N_("¿En qué municipio pasó? Escriba el nombre.")
MSG_ASK_TARGET = N_("¿Quién está en riesgo?")
MSG_ASK_THREAT = N_("¿Qué pasó?")
MSG_ASK_CHANNEL = N_("¿Cómo llegó la amenaza?")
MSG_ASK_ACTOR = N_("¿Quién está detrás, si lo sabe? No escriba nombres.")
MSG_ASK_WHEN = N_("¿Cuándo pasó?")
MSG_ASK_DESCRIPTION = N_(
    "Cuente con sus palabras qué pasó. No escriba su nombre ni el de otras personas."
)
MSG_ASK_DANGER = N_("¿Alguien está en peligro inmediato en este momento?")
MSG_SUMMARY = N_("Revise su reporte antes de enviarlo:\n{details}")

MSG_LINE_MUNICIPALITY = N_("Municipio: {value}")
MSG_LINE_TARGET = N_("En riesgo: {value}")
MSG_LINE_THREAT = N_("Qué pasó: {value}")
MSG_LINE_CHANNEL = N_("Cómo llegó: {value}")
MSG_LINE_ACTOR = N_("Quién está detrás: {value}")
MSG_LINE_WHEN = N_("Cuándo: {value}")
MSG_LINE_DESCRIPTION = N_("Descripción: {value}")
MSG_LINE_DANGER = N_("Peligro inmediato: {value}")

MENU_OPTIONS: Mapping[str, str] = {
    "threat": N_("🚨 Reportar una amenaza o situación de riesgo"),
    "help": N_("❓ ¿Cómo funciona?"),
}
MENU_TARGETS = {"threat": "threat.municipality", "help": MENU}


@dataclass(frozen=True)
class MenuStep(ChoiceStep):
    """The main menu: no "Atrás" or "Cancelar", and "help" answers in place."""

    def ask(self, state: State) -> tuple[Reply, ...]:
        (reply,) = super().ask(state)
        return (replace(reply, choices=reply.choices[: len(self.options)]),)


def _coded_line(msgid: str, key: str) -> SummaryLine:
    def line(answers: Mapping[str, Any]) -> Msg | None:
        code = answers.get(key)
        return Msg(msgid, {"value": Msg(taxonomy.label(code))}) if code else None

    return line


def _text_line(msgid: str, key: str) -> SummaryLine:
    def line(answers: Mapping[str, Any]) -> Msg | None:
        value = answers.get(key)
        return Msg(msgid, {"value": str(value)}) if value else None

    return line


def _municipality_line(catalog: Catalog) -> SummaryLine:
    def line(answers: Mapping[str, Any]) -> Msg | None:
        found = catalog.get(str(answers.get("municipality", "")))
        return Msg(MSG_LINE_MUNICIPALITY, {"value": found.label}) if found else None

    return line


def _emergency_if_yes(code: str) -> tuple[Reply, ...]:
    return (Reply(Msg(MSG_EMERGENCY)),) if code == "yes" else ()


def _threat_steps(catalog: Catalog) -> list[Step]:
    return [
        MunicipalityStep(
            "threat.municipality", Msg(MSG_ASK_MUNICIPALITY), catalog, "threat.target"
        ),
        ChoiceStep("threat.target", Msg(MSG_ASK_TARGET), taxonomy.TARGETS, "threat.type",
                   key="target"),
        ChoiceStep("threat.type", Msg(MSG_ASK_THREAT), taxonomy.THREATS, "threat.channel",
                   key="category"),
        ChoiceStep("threat.channel", Msg(MSG_ASK_CHANNEL), taxonomy.CHANNELS, "threat.actor",
                   key="channel"),
        ChoiceStep("threat.actor", Msg(MSG_ASK_ACTOR), taxonomy.ACTORS, "threat.when",
                   key="actor"),
        ChoiceStep("threat.when", Msg(MSG_ASK_WHEN), taxonomy.WHEN, "threat.description",
                   key="when"),
        TextStep("threat.description", Msg(MSG_ASK_DESCRIPTION), "threat.danger",
                 key="description"),
        ChoiceStep("threat.danger", Msg(MSG_ASK_DANGER), taxonomy.YES_NO, "threat.confirm",
                   key="immediate_danger", on_answer=_emergency_if_yes),
        ConfirmStep(
            "threat.confirm",
            MSG_SUMMARY,
            (
                _municipality_line(catalog),
                _coded_line(MSG_LINE_TARGET, "target"),
                _coded_line(MSG_LINE_THREAT, "category"),
                _coded_line(MSG_LINE_CHANNEL, "channel"),
                _coded_line(MSG_LINE_ACTOR, "actor"),
                _coded_line(MSG_LINE_WHEN, "when"),
                _text_line(MSG_LINE_DESCRIPTION, "description"),
                _coded_line(MSG_LINE_DANGER, "immediate_danger"),
            ),
        ),
    ]


def _on_command(flow: Flow) -> Any:
    def handle(state: State, command: Command) -> tuple[State, tuple[Reply, ...]]:
        fresh = State(locale=state.locale)
        if command.name == "salir":
            return replace(fresh, status="cancelled"), (Reply(Msg(MSG_EXIT)),)
        new, menu = enter(flow, fresh, MENU, remember=False)
        intro = MSG_HELP if command.name == "ayuda" else MSG_WELCOME
        return new, (Reply(Msg(intro)), *menu)

    return handle


def _menu_next(answers: Mapping[str, Any]) -> str:
    return MENU_TARGETS[str(answers.get("kind", "help"))]


def build_flow(catalog: Catalog) -> Flow:
    """Builds the conversation over a municipality catalog (coverage is the caller's)."""
    menu = MenuStep(MENU, Msg(MSG_MENU), MENU_OPTIONS, _menu_next, key="kind",
                    on_answer=lambda code: (Reply(Msg(MSG_HELP)),) if code == "help" else ())
    steps: dict[str, Step] = {menu.id: menu}
    steps.update((step.id, step) for step in _threat_steps(catalog))
    flow = Flow(name="somos", steps=steps, start=MENU)
    return replace(flow, on_command=_on_command(flow))
