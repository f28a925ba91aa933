"""Reporting stigmatization against a social leader (kind "stigma").

Stigmatization is pointing at a leader in a way that puts them at risk: calling them a
member of an armed group, a liar, an enemy of the town. Who did it is the report's category.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows import taxonomy
from flows.engine import Msg, Step
from flows.messages import N_
from flows.municipalities import Catalog
from flows.municipality_step import MSG_ASK_MUNICIPALITY, MunicipalityStep
from flows.selection import MultiChoiceStep
from flows.steps import ChoiceStep, ConfirmStep, TextStep
from flows.summary import (
    MSG_LINE_NOTIFY,
    MSG_SUMMARY,
    coded_line,
    coded_list_line,
    municipality_line,
    notify_step,
    text_line,
)

MUNICIPALITY = "stigma.municipality"
MAX_LINK_LENGTH = 500
# Effects that mean the stigmatization already turned into violence.
HIGH_URGENCY_EFFECTS = frozenset(
    {"stigma_effect.threats", "stigma_effect.attack", "stigma_effect.displacement"}
)

MSG_ASK_LEADERSHIP = N_("¿Qué tipo de líder o lideresa es la persona?")
MSG_ASK_STIGMA_BY = N_("¿Quién señaló o habló mal del líder o la lideresa?")
MSG_ASK_STIGMA_CHANNEL = N_("¿Por dónde lo dijo?")
MSG_ASK_SAID = N_(
    "¿Qué dijeron? Cuéntelo con sus palabras. Puede escribir o enviar una nota de voz."
)
MSG_ASK_LINK = N_(
    "Si lo publicaron en internet, pegue aquí el enlace. Si no, toque «Omitir»."
)
MSG_ASK_EFFECTS = N_("¿Qué pasó después? Marque todo lo que pasó y luego toque «Listo».")

MSG_LINE_LEADERSHIP = N_("Tipo de liderazgo: {value}")
MSG_LINE_STIGMA_BY = N_("Quién lo dijo: {value}")
MSG_LINE_STIGMA_CHANNEL = N_("Por dónde: {value}")
MSG_LINE_SAID = N_("Qué dijeron: {value}")
MSG_LINE_LINK = N_("Enlace: {value}")
MSG_LINE_EFFECTS = N_("Qué pasó después:\n{value}")


def stigma_urgency(answers: Mapping[str, Any]) -> str:
    effects = answers.get("effects")
    if isinstance(effects, list) and HIGH_URGENCY_EFFECTS.intersection(map(str, effects)):
        return "high"
    return "normal"


def stigma_steps(catalog: Catalog) -> list[Step]:
    return [
        MunicipalityStep(MUNICIPALITY, Msg(MSG_ASK_MUNICIPALITY), catalog, "stigma.leadership"),
        ChoiceStep("stigma.leadership", Msg(MSG_ASK_LEADERSHIP), taxonomy.LEADERSHIP,
                   "stigma.by", key="leadership"),
        ChoiceStep("stigma.by", Msg(MSG_ASK_STIGMA_BY), taxonomy.STIGMA, "stigma.channel",
                   key="category"),
        ChoiceStep("stigma.channel", Msg(MSG_ASK_STIGMA_CHANNEL), taxonomy.STIGMA_CHANNELS,
                   "stigma.description", key="channel"),
        TextStep("stigma.description", Msg(MSG_ASK_SAID), "stigma.link", key="description",
                 voice=True),
        TextStep("stigma.link", Msg(MSG_ASK_LINK), "stigma.effects", key="link",
                 max_length=MAX_LINK_LENGTH, optional=True),
        MultiChoiceStep("stigma.effects", Msg(MSG_ASK_EFFECTS), taxonomy.STIGMA_EFFECTS,
                        "stigma.notify", key="effects", exclusive="stigma_effect.none"),
        notify_step("stigma.notify", "stigma.confirm"),
        ConfirmStep(
            "stigma.confirm",
            MSG_SUMMARY,
            (
                municipality_line(catalog),
                coded_line(MSG_LINE_LEADERSHIP, "leadership"),
                coded_line(MSG_LINE_STIGMA_BY, "category"),
                coded_line(MSG_LINE_STIGMA_CHANNEL, "channel"),
                text_line(MSG_LINE_SAID, "description"),
                text_line(MSG_LINE_LINK, "link"),
                coded_list_line(MSG_LINE_EFFECTS, "effects"),
                coded_line(MSG_LINE_NOTIFY, "notify"),
            ),
        ),
    ]
