"""The quick report: for someone who cannot go through every question.

Danger first, the place, what happened in words or a voice note, send: five taps or
messages from the menu. It is a threat report like any other (routed by municipality, a
receipt) whose category says nobody chose one (`threat.unspecified`); news are not offered
("No", the default of the full report).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows import taxonomy
from flows.engine import Msg, Step
from flows.municipalities import Catalog
from flows.municipality_step import MSG_ASK_MUNICIPALITY
from flows.steps import ConfirmStep, TextStep
from flows.summary import MSG_SUMMARY, coded_line, municipality_line, text_line
from flows.threat import (
    MSG_ASK_DESCRIPTION,
    MSG_LINE_DANGER,
    MSG_LINE_DESCRIPTION,
    PlaceStep,
    danger_step,
)

QUICK = "quick.danger"
# What choosing the menu entry answers at once.
QUICK_ANSWERS: Mapping[str, Any] = {
    "kind": "threat",
    "category": taxonomy.UNSPECIFIED_THREAT,
    "notify": "no",
}


def quick_steps(catalog: Catalog) -> list[Step]:
    return [
        danger_step(QUICK, "quick.municipality"),
        PlaceStep("quick.municipality", Msg(MSG_ASK_MUNICIPALITY), catalog, "quick.description"),
        TextStep("quick.description", Msg(MSG_ASK_DESCRIPTION), "quick.confirm",
                 key="description", voice=True),
        ConfirmStep(
            "quick.confirm",
            MSG_SUMMARY,
            (
                coded_line(MSG_LINE_DANGER, "immediate_danger"),
                municipality_line(catalog),
                text_line(MSG_LINE_DESCRIPTION, "description"),
            ),
        ),
    ]
