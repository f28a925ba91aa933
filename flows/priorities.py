"""The community's security priorities (kind "priority"): up to three concerns, in order.

A response has no receipt and does not enter the triage queue; its first concern is the
category, and analysts rank the concerns per municipality (DESIGN.md §7).
"""

from __future__ import annotations

from flows import taxonomy
from flows.engine import Msg, Reply, Step
from flows.messages import N_
from flows.municipalities import Catalog
from flows.municipality_step import MunicipalityStep
from flows.selection import RankingStep
from flows.steps import ConfirmStep, TextStep
from flows.summary import municipality_line, ranked_line, text_line
from flows.wipe import MENU_CHOICE

MUNICIPALITY = "priority.municipality"
MOST_CONCERNS = 3
MAX_COMMENT_LENGTH = 1000

MSG_ASK_PRIORITY_MUNICIPALITY = N_("¿En qué municipio vive su comunidad? Escriba el nombre.")
MSG_ASK_CONCERNS = N_(
    "¿Qué problemas de seguridad afectan más a su comunidad? "
    "Elija hasta tres, empezando por el más grave."
)
MSG_ASK_COMMENT = N_(
    "¿Quiere agregar un comentario? Escríbalo aquí, o toque «Omitir». No escriba nombres."
)
MSG_PRIORITY_SUMMARY = N_("Revise su respuesta antes de enviarla:\n{details}")
MSG_SEND_ANSWER = N_("✅ Enviar respuesta")
MSG_LINE_CONCERNS = N_("Problemas más graves:\n{value}")
MSG_LINE_COMMENT = N_("Comentario: {value}")
MSG_PRIORITY_THANKS = N_(
    "Gracias. Su respuesta se suma a las de su comunidad. "
    "Así se sabe qué problemas atender primero."
)


def priority_thanks_replies() -> list[Reply]:
    """Shown instead of a receipt once a priorities response is committed."""
    return [Reply(Msg(MSG_PRIORITY_THANKS), (MENU_CHOICE,))]


def priority_steps(catalog: Catalog) -> list[Step]:
    return [
        MunicipalityStep(MUNICIPALITY, Msg(MSG_ASK_PRIORITY_MUNICIPALITY), catalog,
                         "priority.concerns"),
        RankingStep("priority.concerns", Msg(MSG_ASK_CONCERNS), taxonomy.PRIORITIES,
                    "priority.comment", key="concerns", most=MOST_CONCERNS),
        TextStep("priority.comment", Msg(MSG_ASK_COMMENT), "priority.confirm", key="comment",
                 max_length=MAX_COMMENT_LENGTH, optional=True),
        ConfirmStep(
            "priority.confirm",
            MSG_PRIORITY_SUMMARY,
            (
                municipality_line(catalog),
                ranked_line(MSG_LINE_CONCERNS, "concerns", taxonomy.PRIORITIES),
                text_line(MSG_LINE_COMMENT, "comment"),
            ),
            send_label=MSG_SEND_ANSWER,
        ),
    ]
