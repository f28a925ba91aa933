"""Rendering replies in the person's language: plural forms come from the catalogs."""

from __future__ import annotations

import pytest

from bot.i18n import render, translations
from flows.engine import FileSent, Msg, advance
from flows.evidence import MSG_EVIDENCE_LIMIT
from tests.support.walk import FLOW, last, threat_walk

# Up to the evidence question of a threat report.
TO_EVIDENCE = [item for item, _, _ in threat_walk("target.self", "threat.other", "no")[:11]]


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("es", ["Recibido: 1 archivo.", "Recibido: 2 archivos.", "Recibido: 3 archivos."]),
        ("en", ["Received: 1 file.", "Received: 2 files.", "Received: 3 files."]),
    ],
)
def test_files_received_are_counted_in_words_of_each_language(
    locale: str, said: list[str]
) -> None:
    state, _ = last(TO_EVIDENCE)
    assert state.step == "threat.evidence"
    catalog = translations(locale)
    shown = []
    for number in range(3):
        state, replies = advance(FLOW, state, FileSent("photo", f"ref-{number}", 10, "image/jpeg"))
        shown += [render(reply.text, catalog) for reply in replies]
    assert shown == said


@pytest.mark.parametrize(
    ("locale", "count", "text"),
    [
        ("es", 1, "Ya recibí 1 archivo. Es el máximo."),
        ("es", 5, "Ya recibí 5 archivos. Es el máximo."),
        ("en", 1, "I already received 1 file. That is the most."),
        ("en", 5, "I already received 5 files. That is the most."),
        ("es", 1_000_000, "Ya recibí 1000000 archivos."),  # Spanish's third form (millions)
    ],
)
def test_plural_forms_follow_the_number(locale: str, count: int, text: str) -> None:
    rendered = render(Msg.counted(MSG_EVIDENCE_LIMIT, count), translations(locale))
    assert rendered.startswith(text)
