"""Self-protection and self-care: short practical tips and emergency lines.

The tips say nothing that would put the person at risk if someone reads the phone.
Every page has two buttons: back to this submenu ("Atrás") and to the main menu.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    NAV_BACK,
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
)
from flows.lines import local_items, local_lines, national_lines
from flows.menu import MENU
from flows.messages import N_
from flows.municipalities import Catalog
from flows.municipality_step import MunicipalityStep
from flows.steps import ChoiceStep

SELFCARE = "selfcare.menu"
NATIONAL_LINES = "selfcare.national_lines"
LOCAL_LINES = "selfcare.local_lines"
LOCAL_LINES_EFFECT = "local_lines"
BACK_TO_MENU = "menu"

MSG_ASK_SELFCARE = N_("¿Qué quiere ver?")
MSG_ASK_LINES_MUNICIPALITY = N_("¿De qué municipio quiere las líneas? Escriba el nombre.")
MSG_LOCAL_LINES = N_("Líneas de {municipality}:\n{lines}")
MSG_NO_LOCAL_LINES = N_("Todavía no hay líneas registradas para {municipality}.")
PAGE_CHOICES = (
    Choice(NAV_BACK, Msg(N_("⬅️ Más consejos"))),
    Choice(BACK_TO_MENU, Msg(N_("🏠 Menú principal"))),
)

# (code, button, text): each tip is 3–5 short lines a person can act on today.
TIPS: tuple[tuple[str, str, str], ...] = (
    ("contact_person", N_("👥 Persona de confianza"), N_(
        "Persona de confianza\n"
        "• Elija una persona de confianza que sepa dónde está usted.\n"
        "• Avísele cuando sale y cuando llega.\n"
        "• Acuerden una palabra para decir «necesito ayuda» sin que otros lo noten.\n"
        "• Tenga su número anotado en un papel, no solo en el teléfono."
    )),
    ("routes", N_("🛣️ Rutas y horarios"), N_(
        "Rutas y horarios\n"
        "• Cambie de vez en cuando el camino y la hora en que sale y llega.\n"
        "• Evite andar solo o sola de noche o por lugares sin gente.\n"
        "• Si nota que alguien le sigue, vaya a un lugar con gente.\n"
        "• No cuente en redes sociales dónde está ni a dónde va."
    )),
    ("documenting", N_("📝 Anotar lo que pasa"), N_(
        "Anotar lo que pasa\n"
        "• Anote en un papel qué pasó, el día, la hora y el lugar.\n"
        "• Tome fotos de panfletos o mensajes.\n"
        "• Puede enviar esas fotos en su reporte y después borrarlas del teléfono.\n"
        "• Guarde los papeles en un lugar seguro."
    )),
    ("emergency_plan", N_("🆘 Plan de emergencia"), N_(
        "Plan de emergencia\n"
        "• Acuerde con su familia a dónde ir y a quién llamar si hay peligro.\n"
        "• Tenga listos sus documentos, sus medicinas y algo de dinero.\n"
        "• Aprenda de memoria uno o dos números de emergencia.\n"
        "• Si hay peligro ahora mismo, llame al 123."
    )),
    ("phone_safety", N_("📱 Cuidar su teléfono"), N_(
        "Cuidar su teléfono\n"
        "• Ponga una clave para abrir su teléfono.\n"
        "• Cuando termine aquí, borre esta conversación con el botón del menú.\n"
        "• No guarde fotos ni mensajes que le puedan poner en riesgo.\n"
        "• Revise quién puede ver su foto y su número en WhatsApp y Telegram."
    )),
    ("self_care", N_("💚 Autocuidado"), N_(
        "Autocuidado\n"
        "• Sentir miedo, rabia o tristeza después de una amenaza es normal.\n"
        "• Hable con alguien de confianza sobre lo que siente.\n"
        "• Trate de dormir, comer y descansar.\n"
        "• Si se siente muy mal, busque ayuda en el puesto de salud o en su organización."
    )),
)
OPTIONS: Mapping[str, str] = {
    **{code: button for code, button, _ in TIPS},
    "national_lines": N_("☎️ Líneas de emergencia"),
    "local_lines": N_("📍 Líneas de mi municipio"),
}


def _page_id(code: str) -> str:
    return f"selfcare.{code}"


@dataclass(frozen=True)
class PageStep(Step):
    """A page to read; its buttons go back to the self-care menu or to the main menu."""

    id: str
    text: Msg
    next: Next = MENU

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (Reply(self.text, PAGE_CHOICES, step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, Pick) and event.code == BACK_TO_MENU:
            return Outcome(state, (), goto=self.following(state))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))


@dataclass(frozen=True)
class LocalLinesStep(Step):
    """Asks the municipality, then shows its lines (from storage) and the national ones.

    Once the municipality is chosen it leaves `Effect("local_lines", {"municipality": code})`
    and answers the `Result` on the same step; the lines stay in the scratch to be shown again.
    """

    where: MunicipalityStep
    catalog: Catalog
    id: str = LOCAL_LINES
    next: Next = MENU
    key: str = "municipality"

    def ask(self, state: State) -> tuple[Reply, ...]:
        if "lines" not in state.scratch:
            return self.where.ask(state)
        lines = local_lines(state.scratch)
        found = self.catalog.get(str(state.answers.get(self.key, "")))
        place = found.label if found else ""
        if lines:
            first = Msg(MSG_LOCAL_LINES, {"municipality": place, "lines": local_items(lines)})
        else:
            first = Msg(MSG_NO_LOCAL_LINES, {"municipality": place})
        return (Reply(first), Reply(national_lines(), PAGE_CHOICES, step=self.id))

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, Result):
            lines = [{"name": x.name, "number": x.number} for x in local_lines(event.data)]
            new = replace(state, scratch={"lines": lines})
            return Outcome(new, self.ask(new))
        if isinstance(event, Pick) and event.code == BACK_TO_MENU and "lines" in state.scratch:
            return Outcome(state, (), goto=self.following(state))
        chose = self.where.take(state, event)
        if chose.goto is None:
            return chose
        code = str(chose.state.answers[self.key])
        effect = Effect(LOCAL_LINES_EFFECT, {"municipality": code})
        return Outcome(replace(chose.state, pending=effect), chose.replies)


def selfcare_steps(catalog: Catalog) -> list[Step]:
    """The submenu, one page per tip, and the two pages of lines."""
    where = MunicipalityStep(LOCAL_LINES, Msg(MSG_ASK_LINES_MUNICIPALITY), catalog, MENU)
    return [
        ChoiceStep(SELFCARE, Msg(MSG_ASK_SELFCARE), OPTIONS,
                   lambda answers: _page_id(str(answers.get("topic"))), key="topic"),
        *(PageStep(_page_id(code), Msg(text)) for code, _, text in TIPS),
        PageStep(NATIONAL_LINES, national_lines()),
        LocalLinesStep(where, catalog),
    ]
