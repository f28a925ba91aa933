"""After every report the person reads who reads it, how soon, how to come back and that
this chat is no emergency line; the times are the triage deadlines storage enforces."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.i18n import render, translations
from flows.reports import FIRST_ACTION_HOURS, Promise, receipt_replies
from storage.reports import DEADLINES


def test_the_promised_times_are_the_deadlines_that_escalate() -> None:
    assert {u: timedelta(hours=h) for u, h in FIRST_ACTION_HOURS.items()} == DEADLINES


@pytest.mark.parametrize(("urgency", "within"), [("immediate", "1 hora"), ("high", "24 horas"),
                                                 ("normal", "3 días")])
def test_the_receipt_says_who_reads_how_soon_and_how_to_come_back(
    urgency: str, within: str
) -> None:
    catalog = translations("es")
    replies = receipt_replies("1234 5678 9012 3456", urgency=urgency,
                              promise=Promise(organization="Corporación Vida y Paz"))
    text = "\n".join(render(reply.text, catalog) for reply in replies)
    assert "el equipo de protección de Corporación Vida y Paz en su municipio" in text
    assert f"Tiene un plazo de {within}" in text
    assert "/start" in text and "Seguimiento" in text and "su código" in text
    assert "no es una línea de emergencia" in text and "123" in text


def test_without_an_organization_the_team_is_named_plainly_in_english_too() -> None:
    replies = receipt_replies("1234", urgency="high")
    english = "\n".join(render(reply.text, translations("en")) for reply in replies)
    assert "the protection team of your municipality" in english
    assert "24 hours" in english and "call 123" in english
