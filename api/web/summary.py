"""The report's answers as the reporter confirmed them: the flow's own summary lines."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from bot.i18n import render, translations
from flows.conversation import build_flow
from flows.engine import Flow
from flows.municipalities import Catalog
from flows.steps import ConfirmStep


@lru_cache(maxsize=1)
def _flow() -> Flow:
    return build_flow(Catalog.load(departments=None))


def answer_lines(kind: str, answers: Mapping[str, Any], locale: str) -> list[str]:
    """'Quién está en riesgo: Un líder…', one line per answer, in the page's language."""
    step = _flow().steps.get(f"{kind}.confirm")
    if not isinstance(step, ConfirmStep):
        return []
    catalog = translations(locale)
    rendered = (line(answers) for line in step.lines)
    return [render(message, catalog) for message in rendered if message is not None]
