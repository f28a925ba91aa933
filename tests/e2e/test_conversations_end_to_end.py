"""Acceptance of the conversations through `somos serve` and the Bot API double.

One server (SQLite) serves every test of this module (the `deployment` fixture,
tests/e2e/conftest.py); each test is its own Telegram user, as on a real deployment.
"""

from __future__ import annotations

import io

import mutagen
import pytest
from mutagen.oggopus import OggOpus
from PIL import Image

from tests.support import harness
from tests.support.botapi import FakeUser
from tests.support.harness import Deployment, finish_report, open_case, report_described
from tests.support.media import GPS_IFD, PERSON, PLACE, gps_tagged_jpeg, ogg_opus

# One worker runs them all: they share one deployment (a module fixture).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("conversations")]


# Someone threatened in person for money, today.
EXTORTED = ("Yo", "Extorsión", "En persona", "Un grupo armado", "Hoy")


def open_threat_report(user: FakeUser, danger: str = "No") -> None:
    harness.open_threat_report(user, "tumaco", answers=EXTORTED, danger=danger)


def test_voice_description_and_gps_jpeg_document_reach_the_focal_point_clean(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    open_threat_report(user)
    user.send_voice(ogg_opus([f"ARTIST={PERSON}", f"LOCATION={PLACE}"]), duration=4)
    user.wait_for_bot_message("¿Tiene fotos, documentos o audios?")
    user.send_document(gps_tagged_jpeg((32, 24)), filename="IMG_20261128_gps.jpg",
                       mime_type="image/jpeg")
    user.wait_for_bot_message("Recibido")
    user.press("Listo")
    user.wait_for_bot_message("¿Podemos avisarle")
    user.press("No")
    summary = user.wait_for_bot_message("Revise su reporte")
    assert "nota de voz" in summary.text
    user.press("✅ Enviar reporte")
    user.wait_for_bot_message("Su código de seguimiento es", timeout=30)

    with deployment.api() as api:
        queue = api.get("/api/v1/reports", params={"kind": "threat"}).json()["items"]
        details = [api.get(f"/api/v1/reports/{item['id']}").json() for item in queue]
        detail = next(d for d in details if len(d["attachments"]) == 2)
        kinds = sorted(a["kind"] for a in detail["attachments"])
        assert kinds == ["photo", "voice"]
        photo = next(a for a in detail["attachments"] if a["kind"] == "photo")
        response = api.get(f"/api/v1/reports/{detail['id']}/attachments/{photo['id']}")
        voice = next(a for a in detail["attachments"] if a["kind"] == "voice")
        heard = api.get(f"/api/v1/reports/{detail['id']}/attachments/{voice['id']}").content
    assert isinstance(mutagen.File(io.BytesIO(heard)), OggOpus)  # still plays
    assert PERSON.encode() not in heard and b"Retiro" not in heard
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (32, 24)
    assert not image.getexif().get_ifd(GPS_IFD) and b"PhoneMaker" not in response.content


def test_salir_mid_report_leaves_one_neutral_message_and_no_draft(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    drafts_before = deployment.count("drafts")
    open_threat_report(user)
    assert deployment.count("drafts") == drafts_before + 1
    user.send_text("Me dijeron que me fuera del pueblo")
    user.wait_for_bot_message("¿Tiene fotos, documentos o audios?")
    user.send_command("/salir")
    answer = user.wait_for_bot_message("Conversación cerrada.").text
    deployment.double.wait_until_idle()
    visible = user.messages()
    assert [m.text for m in visible] == [answer], user.transcript()
    assert deployment.count("drafts") == drafts_before


def test_odd_inputs_get_help_and_the_report_still_completes(deployment: Deployment) -> None:
    user = deployment.user()
    open_threat_report(user)
    question = user.last_bot_message()
    assert question is not None
    phone = "+57 310 555 0199"
    # Ten digits: a short id could turn up by chance in stored timestamps' microseconds.
    origin = {"id": 8_421_937_155, "is_bot": False, "first_name": "Remitente",
              "username": "quien_envio"}
    inputs = [
        lambda: user.send_sticker(),
        lambda: user.send_location(1.7986, -78.8156),
        lambda: user.send_contact(phone, "Vecino"),
        lambda: user.press_raw("basura|%$#", question.message_id),
        lambda: user.press_raw("threat.type|threat.extortion", question.message_id),
    ]
    for send in inputs:
        deployment.double.wait_until_idle()
        send()
        answer = user.wait_for_bot_message()
        assert answer.text, user.transcript()
    deployment.double.wait_until_idle()
    user.forward_text("Mensaje reenviado con la amenaza", origin_user=origin)
    user.wait_for_bot_message("¿Tiene fotos, documentos o audios?")
    user.press("⬅️ Atrás")
    user.wait_for_bot_message("Cuente con sus palabras")
    user.send_text("x" * 4096)
    user.wait_for_bot_message()
    deployment.double.wait_until_idle()
    user.send_text("Me amenazaron en la tienda")
    code = finish_report(user)
    assert len(code) == 16

    deployment.double.wait_until_idle()
    for path in deployment.somos.data_dir.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for secret in (phone, "3105550199", "quien_envio", "Remitente", "8421937155"):
                assert secret.encode() not in blob, f"{secret} in {path.name}"
    assert phone not in deployment.server.log() and "quien_envio" not in deployment.server.log()


def test_the_same_update_twice_gets_one_reply(deployment: Deployment) -> None:
    user = deployment.user()
    user.send_command("/start")
    user.wait_for_bot_message("¿Qué quiere hacer?")
    deployment.double.wait_until_idle()
    before = len(user.bot_messages())
    update = {
        "update_id": 990_000_001,
        "message": {
            "message_id": 9001, "date": 1_764_000_000, "text": "/ayuda",
            "chat": {"id": user.chat_id, "type": "private"}, "from": user.profile,
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    deployment.double.enqueue_update(update)
    deployment.double.enqueue_update(update)
    deployment.double.wait_until_idle()
    replies = user.bot_messages()[before:]
    assert [m.text for m in replies][0].startswith("Con este canal"), user.transcript()
    assert len(replies) == 2  # the help text and the menu, once


def test_follow_up_finds_the_report_and_wrong_codes_are_rate_limited(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    open_threat_report(user)
    user.send_text("Nos cobran vacuna cada semana")
    code = finish_report(user)
    deployment.double.wait_until_idle()

    def ask(code_text: str, expect: str) -> str:
        return open_case(user, code_text, expect)

    spaced = " ".join(code[i:i + 4] for i in range(0, 16, 4))
    assert "recibido" in ask(spaced, "Su reporte")
    wrong = ("1" if code[0] != "1" else "2") + code[1:]
    for _ in range(4):
        ask(wrong, "No encontré un reporte")
    ask(code, "Hubo muchos intentos")


def test_an_edited_message_gets_a_helpful_answer(deployment: Deployment) -> None:
    user = deployment.user()
    user.send_command("/start")
    user.wait_for_bot_message("¿Qué quiere hacer?")
    sent = user.send_text("hola")
    deployment.double.wait_until_idle()
    user.edit_text(sent["message_id"], "hola de nuevo")
    assert "editado" in user.wait_for_bot_message("editado").text


def test_focal_point_and_reporter_talk_through_the_receipt_code(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    open_threat_report(user)
    description = "Pasaron una lista con nombres por la vereda"
    user.send_text(description)
    code = finish_report(user)
    wipe = "🧹 Borrar esta conversación (recomendado)"
    user.wait_for_bot_message(lambda message: wipe in message.buttons())
    user.press(wipe)
    user.wait_for_bot_message("Conversación cerrada.")

    with deployment.api() as api:
        report_id = report_described(api, description, kind="threat")
        sent = api.post(f"/api/v1/reports/{report_id}/messages",
                        json={"text": "¿Está en un lugar seguro? Podemos llamarle."})
        assert sent.status_code == 201

    deployment.double.wait_until_idle()
    shown = open_case(user, code, "Mensajes de su caso")
    assert "el equipo de protección escribió: ¿Está en un lugar seguro? Podemos llamarle." \
        in shown
    user.wait_for_bot_message("¿Qué quiere hacer con su caso?")
    user.press("✍️ Responder o agregar información")
    user.wait_for_bot_message("Escriba su mensaje")
    user.send_text("Sí, estoy donde mi hermana. Llamen después de las 6.")
    user.wait_for_bot_message("Su mensaje llegó al equipo de protección.")

    with deployment.api() as api:
        detail = api.get(f"/api/v1/reports/{report_id}").json()
    conversation = [(m["kind"], m["text"]) for m in detail["messages"]]
    assert conversation == [
        ("to_reporter", "¿Está en un lugar seguro? Podemos llamarle."),
        ("from_reporter", "Sí, estoy donde mi hermana. Llamen después de las 6."),
    ]
    assert detail["messages"][1]["actor"] == "reporter"


def test_linked_focal_point_gets_a_content_free_alert_and_consenting_reporter_news(
    deployment: Deployment,
) -> None:
    staff_chat = deployment.user(first_name="Punto focal")
    with deployment.api() as api:
        link = api.post("/api/v1/me/telegram-link").json()
    staff_chat.send_text(f"/vincular {link['code']}")
    staff_chat.wait_for_bot_message("Este chat recibirá avisos")

    reporter = deployment.user()
    open_threat_report(reporter, danger="Sí")
    description = "Hombres armados rodean la casa ahora mismo"
    reporter.send_text(description)
    reporter.wait_for_bot_message("¿Tiene fotos, documentos o audios?")
    reporter.press("Omitir")
    reporter.wait_for_bot_message("¿Podemos avisarle")
    reporter.press("Sí")
    reporter.wait_for_bot_message("Revise su reporte")
    reporter.press("✅ Enviar reporte")
    reporter.wait_for_bot_message("Su código de seguimiento es", timeout=30)

    alert = staff_chat.wait_for_bot_message("Nuevo reporte urgente", timeout=30)
    assert "Tumaco (Nariño)" in alert.text and description not in alert.text

    with deployment.api() as api:
        report_id = report_described(api, description, urgency="immediate")
        api.post(f"/api/v1/reports/{report_id}/messages", json={"text": "Vamos en camino."})
    news = reporter.wait_for_bot_message("Hay un mensaje nuevo para usted", timeout=30)
    assert "Vamos en camino" not in news.text


def test_a_leader_asks_for_protection_from_the_case(deployment: Deployment) -> None:
    user = deployment.user()
    open_threat_report(user)
    description = "Me señalaron en la asamblea y ahora me siguen"
    user.send_text(description)
    code = finish_report(user)
    deployment.double.wait_until_idle()

    open_case(user, code)
    user.press("🛡️ Solicitar protección")
    user.wait_for_bot_message("¿Qué necesita?")
    user.press("Que la UNP estudie mi riesgo")
    user.wait_for_bot_message(lambda m: "✅ Que la UNP estudie mi riesgo" in m.buttons())
    user.press("Listo")
    user.wait_for_bot_message("¿Cómo puede el equipo ponerse en contacto")
    user.press("Solo por este chat, sin revelar quién soy")
    user.wait_for_bot_message("Si quiere, cuente más")
    user.send_text("Necesito que evalúen mi riesgo antes del viernes")
    user.wait_for_bot_message("Revise su solicitud")
    user.press("✅ Enviar solicitud")
    user.wait_for_bot_message("Su solicitud de protección llegó al equipo", timeout=20)

    with deployment.api() as api:
        items = api.get("/api/v1/reports", params={"kind": "threat"}).json()["items"]
        details = [api.get(f"/api/v1/reports/{item['id']}").json() for item in items]
    mine = next(d for d in details if d["answers"].get("description") == description)
    (request,) = mine["protection_requests"]
    assert request["details"]["needs"] == ["need.risk_assessment"]
    assert request["details"]["contact"] == "contact.this_chat_only"
    assert request["text"] == "Necesito que evalúen mi riesgo antes del viernes"
