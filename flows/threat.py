"""Reporting a threat or a risk situation (kind "threat")."""

from __future__ import annotations

from flows import taxonomy
from flows.engine import Msg, Reply, Step
from flows.evidence import EvidenceStep
from flows.messages import N_
from flows.municipalities import Catalog
from flows.municipality_step import MSG_ASK_MUNICIPALITY, MunicipalityStep
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

MUNICIPALITY = "threat.municipality"

MSG_EMERGENCY = N_(
    "Si hay peligro ahora mismo, llame ya:\n"
    "• 123 Policía\n"
    "• 103 Línea Vida de la UNP (Unidad Nacional de Protección)"
)
MSG_ASK_TARGET = N_("¿Quién está en riesgo?")
MSG_ASK_THREAT = N_("¿Qué pasó?")
MSG_ASK_CHANNEL = N_("¿Cómo llegó la amenaza?")
MSG_ASK_ACTOR = N_("¿Quién está detrás, si lo sabe? No escriba nombres.")
MSG_ASK_WHEN = N_("¿Cuándo pasó?")
MSG_ASK_DESCRIPTION = N_(
    "Cuente con sus palabras qué pasó. Puede escribir o enviar una nota de voz. "
    "No diga su nombre ni el de otras personas."
)
MSG_ASK_DANGER = N_("¿Alguien está en peligro inmediato en este momento?")

MSG_LINE_TARGET = N_("En riesgo: {value}")
MSG_LINE_THREAT = N_("Qué pasó: {value}")
MSG_LINE_CHANNEL = N_("Cómo llegó: {value}")
MSG_LINE_ACTOR = N_("Quién está detrás: {value}")
MSG_LINE_WHEN = N_("Cuándo: {value}")
MSG_LINE_DESCRIPTION = N_("Descripción: {value}")
MSG_LINE_EVIDENCE = N_("Archivos: {count}")
MSG_LINE_DANGER = N_("Peligro inmediato: {value}")


def _emergency_if_yes(code: str) -> tuple[Reply, ...]:
    return (Reply(Msg(MSG_EMERGENCY)),) if code == "yes" else ()


def threat_steps(catalog: Catalog) -> list[Step]:
    return [
        MunicipalityStep(MUNICIPALITY, Msg(MSG_ASK_MUNICIPALITY), catalog, "threat.target"),
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
        EvidenceStep("threat.evidence", "threat.danger"),
        ChoiceStep("threat.danger", Msg(MSG_ASK_DANGER), taxonomy.YES_NO, "threat.notify",
                   key="immediate_danger", on_answer=_emergency_if_yes),
        notify_step("threat.notify", "threat.confirm"),
        ConfirmStep(
            "threat.confirm",
            MSG_SUMMARY,
            (
                municipality_line(catalog),
                coded_line(MSG_LINE_TARGET, "target"),
                coded_line(MSG_LINE_THREAT, "category"),
                coded_line(MSG_LINE_CHANNEL, "channel"),
                coded_line(MSG_LINE_ACTOR, "actor"),
                coded_line(MSG_LINE_WHEN, "when"),
                text_line(MSG_LINE_DESCRIPTION, "description"),
                count_line(MSG_LINE_EVIDENCE, "evidence"),
                coded_line(MSG_LINE_DANGER, "immediate_danger"),
                coded_line(MSG_LINE_NOTIFY, "notify"),
            ),
        ),
    ]
