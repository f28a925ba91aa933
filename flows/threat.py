"""Reporting a threat or a risk situation (kind "threat")."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flows import taxonomy
from flows.engine import Msg, Outcome, Reply, State, Step, StepEvent, emergency_lines
from flows.evidence import EvidenceStep
from flows.messages import N_
from flows.municipalities import Catalog
from flows.municipality_step import MSG_ASK_MUNICIPALITY, MunicipalityStep
from flows.pleas import danger_replies
from flows.steps import ChoiceStep, ConfirmStep, TextStep
from flows.summary import (
    MSG_LINE_NOTIFY,
    MSG_SUMMARY,
    coded_line,
    count_line,
    municipality_line,
    notify_step,
    text_line,
)

DANGER = "threat.danger"
MUNICIPALITY = "threat.municipality"

MSG_ASK_TARGET = N_("¿Quién está en riesgo?")
MSG_ASK_THREAT = N_("¿Qué pasó?")
MSG_ASK_CHANNEL = N_("¿Cómo llegó la amenaza?")
MSG_ASK_ACTOR = N_("¿Quién está detrás, si lo sabe? No escriba nombres.")
MSG_ASK_WHEN = N_("¿Cuándo pasó?")
MSG_ASK_DESCRIPTION = N_(
    "Cuente con sus palabras qué pasó. Puede escribir o enviar una nota de voz. "
    "No diga su nombre ni el de otras personas."
)
MSG_ASK_DANGER = N_("¿Alguien está en peligro ahora?")

MSG_LINE_TARGET = N_("En riesgo: {value}")
MSG_LINE_THREAT = N_("Qué pasó: {value}")
MSG_LINE_CHANNEL = N_("Cómo llegó: {value}")
MSG_LINE_ACTOR = N_("Quién está detrás: {value}")
MSG_LINE_WHEN = N_("Cuándo: {value}")
MSG_LINE_DESCRIPTION = N_("Descripción: {value}")
MSG_LINE_EVIDENCE = N_("Archivos: {count}")
MSG_LINE_DANGER = N_("Peligro inmediato: {value}")


def emergency_if_yes(code: str) -> tuple[Reply, ...]:
    """The emergency lines (and that this chat is not an emergency line) after «Sí»."""
    return danger_replies() if code == "yes" else ()


def danger_step(step_id: str, next_step: str) -> ChoiceStep:
    """Danger first: "Sí" shows 123 and 103 at once and makes the report `immediate`."""
    return ChoiceStep(step_id, Msg(MSG_ASK_DANGER), taxonomy.YES_NO, next_step,
                      key="immediate_danger", on_answer=emergency_if_yes)


@dataclass(frozen=True)
class PlaceStep(MunicipalityStep):
    """The municipality question of a report; once someone in danger names the place, its
    own emergency lines come before the next question."""

    def take(self, state: State, event: StepEvent) -> Outcome:
        outcome = super().take(state, event)
        code = outcome.state.answers.get(self.key)
        if outcome.goto is None or outcome.state.answers.get("immediate_danger") != "yes" \
                or not isinstance(code, str):
            return outcome
        return replace(outcome, state=replace(outcome.state, pending=emergency_lines(code)))


def threat_steps(catalog: Catalog) -> list[Step]:
    return [
        danger_step(DANGER, MUNICIPALITY),
        PlaceStep(MUNICIPALITY, Msg(MSG_ASK_MUNICIPALITY), catalog, "threat.target"),
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
        TextStep("threat.description", Msg(MSG_ASK_DESCRIPTION), "threat.evidence",
                 key="description", voice=True),
        EvidenceStep("threat.evidence", "threat.notify"),
        notify_step("threat.notify", "threat.confirm"),
        ConfirmStep(
            "threat.confirm",
            MSG_SUMMARY,
            (
                coded_line(MSG_LINE_DANGER, "immediate_danger"),
                municipality_line(catalog),
                coded_line(MSG_LINE_TARGET, "target"),
                coded_line(MSG_LINE_THREAT, "category"),
                coded_line(MSG_LINE_CHANNEL, "channel"),
                coded_line(MSG_LINE_ACTOR, "actor"),
                coded_line(MSG_LINE_WHEN, "when"),
                text_line(MSG_LINE_DESCRIPTION, "description"),
                count_line(MSG_LINE_EVIDENCE, "evidence"),
                coded_line(MSG_LINE_NOTIFY, "notify"),
            ),
        ),
    ]
