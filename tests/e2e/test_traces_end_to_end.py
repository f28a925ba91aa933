"""Acceptance of issue 11 through `somos serve` and the Bot API double: the chat's menu lists
/salir; a wipe says what Telegram would not let it delete and how to delete the chat by hand;
every message is protected from forwarding; the news ping names nothing; each report says
who reads it and how soon; a long conversation with the team is shown whole."""

from __future__ import annotations

import pytest

from tests.support.botapi import FakeUser
from tests.support.harness import (
    ORGANIZATION,
    Deployment,
    finish_report,
    open_case,
    open_threat_report,
    report_described,
    report_threat,
)

# One worker runs them all: they share one deployment (a module fixture).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("traces")]


def test_the_chat_menu_lists_salir_and_the_welcome_names_it(deployment: Deployment) -> None:
    spanish = deployment.double.my_commands()
    english = deployment.double.my_commands(language_code="en")
    assert [c["command"] for c in spanish] == ["start", "salir", "ayuda"]
    assert [c["command"] for c in english] == ["start", "salir", "ayuda"]
    assert "borrar" in spanish[1]["description"].lower()
    assert "delete" in english[1]["description"].lower()

    user = deployment.user()
    user.send_command("/start")
    welcome = user.wait_for_bot_message("Hola").text
    assert "/salir" in welcome
    assert ORGANIZATION in welcome and "123" in welcome and "1 hora a 3 días" in welcome


def test_a_wipe_after_49_hours_says_what_stayed_and_how_to_delete_it(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    user.send_command("/start")
    user.wait_for_bot_message("¿Qué quiere hacer?")
    user.send_text("Anoche pasaron hombres armados por la vereda")
    user.wait_for_bot_message("No entendí")
    deployment.double.wait_until_idle()
    older = len(user.messages())
    user.age_messages(49 * 3600)

    user.send_command("/salir")
    answer = user.wait_for_bot_message("Conversación cerrada").text
    assert f"No pude borrar {older} mensajes" in answer and "48 horas" in answer
    assert "Eliminar chat" in answer and "Borrar historial" in answer
    deployment.double.wait_until_idle()
    shown = [m.text for m in user.messages()]
    # What Telegram kept is on screen, as the answer says; /salir itself went.
    assert "Anoche pasaron hombres armados por la vereda" in shown
    assert len(shown) == older + 1 and shown[-1] == answer


def test_a_fresh_wipe_leaves_one_message_that_names_nothing(deployment: Deployment) -> None:
    user = deployment.user()
    user.send_command("/start")
    user.wait_for_bot_message("¿Qué quiere hacer?")
    user.send_command("/salir")
    answer = user.wait_for_bot_message("Conversación cerrada").text
    deployment.double.wait_until_idle()
    assert [m.text for m in user.messages()] == [answer]
    assert "No pude" not in answer and "Eliminar chat" in answer
    assert not any(word in answer.lower() for word in ("reporte", "amenaza", "riesgo"))


def _report_with_news(reporter: FakeUser, description: str) -> str:
    """A death threat against the reporter, today, with news pings; returns the consent
    question's text."""
    open_threat_report(reporter, answers=("Yo", "Amenaza de muerte", "Panfleto o escrito",
                                          "Un grupo armado", "Hoy"))
    reporter.send_text(description)
    finish_report(reporter, news=True)
    return next(text for text in reporter.shown_texts() if "¿Podemos avisarle" in text)


def test_every_message_is_protected_and_the_news_ping_names_nothing(
    deployment: Deployment,
) -> None:
    reporter = deployment.user()
    description = "Nos dieron tres días para salir de la finca"
    consent = _report_with_news(reporter, description)
    what_next = reporter.wait_for_bot_message("Qué pasa ahora").text
    # A death threat is "high": the team has a day.
    assert f"el equipo de protección de {ORGANIZATION} en su municipio" in what_next
    assert "24 horas" in what_next and "123" in what_next and "Seguimiento" in what_next

    with deployment.api() as api:
        report_id = report_described(api, description, kind="threat")
        api.post(f"/api/v1/reports/{report_id}/messages", json={"text": "Vamos a llamarle."})
    ping = reporter.wait_for_bot_message("mensaje nuevo", timeout=30).text
    # The consent question showed this very text, word for word.
    assert f"«{ping}»" in consent
    for word in ("reporte", "amenaza", "protección", "código", ORGANIZATION.lower(),
                 "vamos a llamarle"):
        assert word not in ping.lower(), ping

    deployment.double.wait_until_idle()
    sent = deployment.double.calls("sendMessage")
    edited = deployment.double.calls("editMessageText")  # a tapped question's next one
    assert len(sent) + len(edited) > 10 and any(call["text"] == ping for call in sent)
    # Protection is set when a message is sent; an edit keeps it (the Bot API has no way
    # to lift it), so every message the chat shows was sent protected.
    assert [call for call in sent if call.get("protect_content") is not True] == []


def test_a_long_conversation_with_the_team_is_shown_whole(deployment: Deployment) -> None:
    user = deployment.user()
    code = report_threat(user, "Nos quitaron los celulares en el retén")
    paragraphs = [f"Mensaje {n}: " + "Le explicamos con cuidado lo que sigue. " * 95
                  for n in range(1, 4)]
    with deployment.api() as api:
        items = api.get("/api/v1/reports", params={"kind": "threat"}).json()["items"]
        details = [api.get(f"/api/v1/reports/{item['id']}").json() for item in items]
        report_id = next(d["id"] for d in details if d["answers"].get("description")
                         == "Nos quitaron los celulares en el retén")
        for text in paragraphs:
            assert len(text) < 4000
            response = api.post(f"/api/v1/reports/{report_id}/messages", json={"text": text})
            assert response.status_code == 201
    deployment.double.wait_until_idle()
    before = len(user.bot_messages())
    open_case(user, code)
    deployment.double.wait_until_idle()
    shown = "\n".join(m.text for m in user.bot_messages()[before:])
    for text in paragraphs:
        assert text.strip() in shown
    assert all(len(m.text) <= 4096 for m in user.bot_messages())
