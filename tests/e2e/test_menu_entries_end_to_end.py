"""Acceptance: a new user completes every menu entry through Telegram, in Spanish and English.

Labels are looked up in the compiled catalogs from their Spanish msgids, so the
same walk checks that the English interface is really in English.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from bot.i18n import translations
from flows.evidence import MSG_ASK_EVIDENCE
from flows.menu import MSG_MENU, MSG_WELCOME
from flows.municipality_step import MSG_ASK_MUNICIPALITY
from flows.pleas import MSG_NOT_A_HOTLINE
from flows.priorities import MSG_PRIORITY_SUMMARY
from flows.reports import MSG_RECEIPT
from flows.summary import MSG_ASK_NOTIFY, MSG_SUMMARY
from flows.threat import MSG_ASK_DANGER, MSG_ASK_DESCRIPTION, MSG_LINE_DANGER
from flows.wipe import MSG_BY_HAND, MSG_EXIT
from tests.support.botapi import ChatMessage, FakeUser
from tests.support.harness import RECEIPT, Deployment
from tests.support.places import TUMACO

# One worker runs them all: they share one deployment (a module fixture).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("menu_entries")]
NAV_LABELS = {"⬅️ Atrás", "✖️ Cancelar", "⬅️ Back", "✖️ Cancel"}
LOCALES = ["es", "en"]


class Person:
    """A Telegram user who reads the bot in one language and taps like a person."""

    def __init__(self, user: FakeUser, locale: str) -> None:
        self.user = user
        self.locale = locale
        self.t: Callable[[str], str] = translations(locale).gettext

    def settle(self) -> None:
        """Waits until the bot has answered everything, as a person waits to read."""
        self.user.double.wait_until_idle()

    def expect(self, msgid: str, timeout: float = 15.0) -> str:
        text = self.t(msgid).split("{")[0].strip()
        return self.user.wait_for_bot_message(text, timeout=timeout).text

    def say(self, text: str) -> None:
        self.settle()
        self.user.send_text(text)

    def tap(self, msgid: str) -> None:
        self.settle()
        self.user.press(self.t(msgid))
        self.settle()

    def tap_first_option(self) -> str:
        """Taps the first choice of the question the bot asked after the last tap, once it
        is there (usually the tapped message itself, edited into the next question): an
        idle moment can fall before the bot's answer on a loaded machine."""
        self.settle()
        message = self.user.wait_for_bot_message(
            lambda m: any(b not in NAV_LABELS for b in m.buttons()), timeout=15)
        option = next(b for b in message.buttons() if b not in NAV_LABELS)
        self.user.press(option)
        self.settle()
        return option

    def open_menu(self) -> None:
        self.user.send_command("/start")
        self.user.wait_for_bot_message(translations("es").gettext("¿Qué quiere hacer?"))
        if self.locale == "en":
            self.user.press("Más opciones ▸")  # language, self-care and help: screen two
            self.user.wait_for_bot_message(lambda m: "🌐 English" in m.buttons())
            self.user.press("🌐 English")
            menu = self.user.wait_for_bot_message("What would you like to do?")
            assert menu.buttons()[-1] == "More options ▸"

    def municipality(self, name: str, label: str) -> None:
        self.settle()
        self.user.send_text(name)
        self.user.wait_for_bot_message(label)
        self.tap("Sí")

    def new_messages(self, last: str) -> list[ChatMessage]:
        """The bot's messages sent or edited since this person's last action, up to the one
        with `last` (a tapped message the bot turned into its answer comes first)."""
        self.expect(last)
        self.settle()
        return self.user.changed_since_action()

    def lines_then(self, msgid: str) -> None:
        """The emergency lines come first, then the conversation goes on with `msgid`."""
        said = self.new_messages(msgid)
        assert "123" in said[0].text and "103" in said[0].text, said[0].text
        assert said[1].text == self.t(MSG_NOT_A_HOTLINE)
        assert said[-1].text.startswith(self.t(msgid).split("{")[0]), said[-1].text

    def report_seen_by_the_focal_point(self, deployment: Deployment,
                                       description: str) -> dict[str, Any]:
        """The report as Nariño's focal point (Tumaco is in Nariño) reads it in the API."""
        with deployment.api() as api:
            items = api.get("/api/v1/reports", params={"kind": "threat"}).json()["items"]
            details: list[dict[str, Any]] = [
                api.get(f"/api/v1/reports/{item['id']}").json() for item in items]
        (mine,) = [d for d in details if d["answers"].get("description") == description]
        return mine

    def receipt(self) -> str:
        text = self.expect(MSG_RECEIPT, timeout=30)
        match = RECEIPT.search(text)
        assert match, text
        return match.group(1).replace(" ", "")


# What a person in danger might type, in each language.
PLEA = {"es": "hola necesito ayuda me van a matar", "en": "help me they are going to kill me"}
PLEA_DESCRIBED = {"es": "Nos van a matar si no nos vamos. Ayuda.",
                  "en": "They will kill us if we do not leave. Help."}


@pytest.mark.parametrize("locale", LOCALES)
def test_threat_report_asks_about_danger_first_and_answers_pleas(
    deployment: Deployment, locale: str
) -> None:
    person = Person(deployment.user(), locale)
    person.open_menu()
    person.settle()
    person.say(PLEA[locale])  # at the menu
    person.lines_then(MSG_MENU)

    person.tap("🚨 Reportar una amenaza o situación de riesgo")
    (first,) = person.new_messages(MSG_ASK_DANGER)
    assert first.text == person.t(MSG_ASK_DANGER)  # the first question of the report
    assert first.buttons()[:2] == [person.t("Sí"), person.t("No")]
    person.tap("Sí")
    said = person.new_messages(MSG_ASK_MUNICIPALITY)
    assert "123" in said[0].text and "103" in said[0].text
    assert said[-1].text == person.t(MSG_ASK_MUNICIPALITY)

    person.say(PLEA[locale])  # at the municipality question
    person.lines_then(MSG_ASK_MUNICIPALITY)
    person.municipality("tumaco", "San Andrés de Tumaco (Nariño)")
    # Someone in danger: Tumaco's own line as soon as the place is known.
    person.user.wait_for_bot_message("602 727 0000")
    for question in ("¿Quién está en riesgo?", "¿Qué pasó?", "¿Cómo llegó la amenaza?",
                     "¿Quién está detrás, si lo sabe? No escriba nombres.", "¿Cuándo pasó?"):
        person.expect(question)
        person.tap_first_option()
    person.expect(MSG_ASK_DESCRIPTION)
    description = f"{PLEA_DESCRIBED[locale]} {uuid.uuid4()}"
    person.say(description)  # at the description: kept, and the lines shown
    person.lines_then(MSG_ASK_EVIDENCE)
    person.tap("Omitir")
    person.expect(MSG_ASK_NOTIFY)
    person.tap("No")
    summary = person.expect(MSG_SUMMARY)
    assert description in summary
    assert person.t(MSG_LINE_DANGER).format(value=person.t("Sí")) in summary
    asked = person.user.shown_texts().count(person.t(MSG_ASK_DANGER))
    assert asked == 1  # danger is never asked twice
    person.tap("✅ Enviar reporte")
    assert len(person.receipt()) == 16

    mine = person.report_seen_by_the_focal_point(deployment, description)
    assert mine["urgency"] == "immediate" and mine["municipality_code"] == TUMACO


@pytest.mark.parametrize("locale", LOCALES)
def test_quick_report_in_five_actions_reaches_tumacos_focal_point(
    deployment: Deployment, locale: str
) -> None:
    person = Person(deployment.user(), locale)
    person.open_menu()
    person.tap("⚡ Reporte rápido: pocas preguntas")
    person.expect(MSG_ASK_DANGER)
    said = f"quick {locale} {uuid.uuid4()}"
    actions: list[Callable[[], object]] = [
        lambda: person.tap("No"),
        lambda: person.user.send_text("tumaco"),
        lambda: person.tap("Sí"),  # ¿Es Tumaco (Nariño)?
        lambda: person.user.send_text(said),
        lambda: person.tap("✅ Enviar reporte"),
    ]
    for action in actions:
        person.settle()
        action()
    assert len(actions) <= 5
    assert len(person.receipt()) == 16

    mine = person.report_seen_by_the_focal_point(deployment, said)
    assert (mine["kind"], mine["category"]) == ("threat", "threat.unspecified")
    assert mine["category_label"] == "Sin clasificar (reporte rápido)"
    assert mine["municipality_code"] == TUMACO and mine["urgency"] == "normal"


def test_a_plea_as_the_first_message_gets_the_lines_before_the_welcome(
    deployment: Deployment,
) -> None:
    person = Person(deployment.user(), "es")
    person.user.send_text("me van a matar ayuda")
    person.user.wait_for_bot_message(person.t(MSG_MENU))
    person.settle()
    texts = [m.text for m in person.user.bot_messages()]
    assert "123" in texts[0] and "103" in texts[0]
    welcome_starts = person.t(MSG_WELCOME).split("\n")[0]
    assert texts[-2].startswith(welcome_starts) and texts[-1] == person.t(MSG_MENU)


@pytest.mark.parametrize("locale", LOCALES)
def test_protection_request_without_a_report(deployment: Deployment, locale: str) -> None:
    person = Person(deployment.user(), locale)
    details = f"Piden protección {locale} {uuid.uuid4()}"
    person.open_menu()
    person.tap("🛡️ Pedir protección para un líder o lideresa")
    person.expect("¿Alguien está en peligro ahora?")
    person.tap("No")
    person.expect("¿En qué municipio está la persona en riesgo? Escriba el nombre del municipio.")
    person.municipality("tumaco", "San Andrés de Tumaco (Nariño)")
    person.expect("¿Qué tipo de líder o lideresa es la persona en riesgo?")
    person.tap_first_option()
    person.expect("¿Qué necesita? Marque todo lo que aplique y luego toque «Listo».")
    person.tap_first_option()
    person.tap("Listo")
    person.expect("¿Cómo puede el equipo ponerse en contacto con usted?")
    person.tap_first_option()
    person.settle()
    person.user.send_text(details)
    person.tap("No")  # notify
    summary = person.expect(
        "Revise su solicitud antes de enviarla. Le daremos un código para seguirla:\n{details}")
    assert details in summary
    person.tap("✅ Enviar solicitud")
    assert len(person.receipt()) == 16


@pytest.mark.parametrize("locale", LOCALES)
def test_stigmatization_report_reaches_the_focal_point_as_stigma(
    deployment: Deployment, locale: str
) -> None:
    person = Person(deployment.user(), locale)
    said = f"Dijeron en la emisora que la lideresa es guerrillera {uuid.uuid4()}"
    person.open_menu()
    person.tap("📢 Señalan o hablan mal de un líder o lideresa")
    person.municipality("tumaco", "San Andrés de Tumaco (Nariño)")
    person.expect("¿Qué tipo de líder o lideresa es la persona?")
    person.tap_first_option()
    person.expect("¿Quién señaló o habló mal del líder o la lideresa?")
    person.tap_first_option()
    person.expect("¿Por dónde lo dijo?")
    person.tap_first_option()
    person.settle()
    person.user.send_text(said)
    person.tap("Omitir")  # no link
    person.expect("¿Qué pasó después? Marque todo lo que pasó y luego toque «Listo».")
    person.tap_first_option()
    person.tap("Listo")
    person.tap("No")  # notify
    summary = person.expect(MSG_SUMMARY)
    assert said in summary
    person.tap("✅ Enviar reporte")
    assert len(person.receipt()) == 16

    with deployment.api() as api:
        items = api.get("/api/v1/reports", params={"kind": "stigma"}).json()["items"]
        details = [api.get(f"/api/v1/reports/{item['id']}").json() for item in items]
    mine = [d for d in details if d["answers"].get("description") == said]
    assert len(mine) == 1
    assert mine[0]["kind"] == "stigma" and mine[0]["category"].startswith("stigma.by_")


@pytest.mark.parametrize("locale", LOCALES)
def test_priorities_survey_has_no_receipt(deployment: Deployment, locale: str) -> None:
    person = Person(deployment.user(), locale)
    person.open_menu()
    person.tap("🗳️ Prioridades de seguridad de mi comunidad")
    person.municipality("tumaco", "San Andrés de Tumaco (Nariño)")
    chosen = [person.tap_first_option() for _ in range(3)]
    assert len(set(chosen)) == 3
    person.tap("Omitir")  # no comment
    summary = person.expect(MSG_PRIORITY_SUMMARY)
    assert all(label in summary for label in chosen)
    person.tap("✅ Enviar respuesta")
    thanks = person.user.wait_for_bot_message(lambda m: "Gracias" in m.text or "Thank" in m.text)
    assert not RECEIPT.search(thanks.text)


@pytest.mark.parametrize("locale", LOCALES)
def test_self_care_shows_the_emergency_lines(deployment: Deployment, locale: str) -> None:
    person = Person(deployment.user(), locale)
    person.open_menu()
    person.tap("Más opciones ▸")
    person.tap("💚 Cómo cuidarse y cuidar a otros")
    person.tap("☎️ Líneas de emergencia")
    lines = person.user.wait_for_bot_message("103").text
    for number in ("123", "155", "141", "122", "165", "103"):
        assert number in lines
    assert person.t("Policía") in lines
    person.tap("🏠 Menú principal")
    person.tap("Más opciones ▸")
    person.tap("💚 Cómo cuidarse y cuidar a otros")
    person.tap("📍 Líneas de mi municipio")
    person.municipality("tumaco", "San Andrés de Tumaco (Nariño)")
    local = person.user.wait_for_bot_message("Personería de Tumaco").text
    assert "602 727 0000" in local


@pytest.mark.parametrize("locale", LOCALES)
def test_delete_the_conversation(deployment: Deployment, locale: str) -> None:
    person = Person(deployment.user(), locale)
    person.open_menu()
    person.tap("🧹 Borrar esta conversación")
    person.expect("¿Borrar de este teléfono todos los mensajes de esta conversación?")
    person.tap("Sí, borrar")
    answer = person.expect(MSG_EXIT)
    deployment.double.wait_until_idle()
    assert [m.text for m in person.user.messages()] == [answer]
    assert person.t(MSG_BY_HAND) in answer


def test_language_is_remembered_for_the_next_visit(deployment: Deployment) -> None:
    person = Person(deployment.user(), "en")
    person.open_menu()
    person.user.send_command("/start")
    person.user.wait_for_bot_message("What would you like to do?")
