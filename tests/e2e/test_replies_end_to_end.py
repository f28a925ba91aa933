"""A reporter's reply reaches the team, through `somos serve` and the Bot API double.

The Nariño focal point has linked their own Telegram chat. A reporter follows up a Tumaco
report with the receipt code and writes that they are hiding; within seconds the focal
point's chat gets a ping that says a case of theirs has a reply and nothing else. The
queue (API and page) marks the case «respuesta nueva» until the focal point opens it.
"""

from __future__ import annotations

import re

import pytest

from tests.support.botapi import FakeUser
from tests.support.harness import Deployment, open_case, report_described, report_threat
from tests.support.web_client import queue_card

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("replies")]

REPLY = "Estamos escondidos en la casa de una vecina. Necesitamos ayuda para salir esta noche."
PING = "Hay una respuesta nueva en un caso suyo. Ábralo en Somos."
BADGE = "Respuesta nueva"
# The notifier runs every 3 s: "within seconds", on a busy machine.
PING_WITHIN = 15


def linked_focal_point_chat(deployment: Deployment) -> FakeUser:
    staff_chat = deployment.user(first_name="Punto focal")
    with deployment.api() as api:
        link = api.post("/api/v1/me/telegram-link").json()
    staff_chat.send_text(f"/vincular {link['code']}")
    staff_chat.wait_for_bot_message("Este chat recibirá avisos")
    return staff_chat


def test_a_reply_pings_the_linked_focal_point_and_marks_the_case_until_it_is_opened(
    deployment: Deployment,
) -> None:
    staff_chat = linked_focal_point_chat(deployment)
    user = deployment.user()
    description = "Dejaron un panfleto en la puerta de la junta"
    code = report_threat(user, description)
    staff_chat.wait_for_bot_message("Nuevo reporte en su bandeja", timeout=PING_WITHIN)
    deployment.double.wait_until_idle()

    with deployment.api() as api:
        report_id = report_described(api, description, kind="threat")
        (item,) = [i for i in api.get("/api/v1/reports").json()["items"] if i["id"] == report_id]
        assert item["new_reply"] is False

    open_case(user, code)
    user.press("✍️ Responder o agregar información")
    user.wait_for_bot_message("Escriba su mensaje")
    user.send_text(REPLY)
    user.wait_for_bot_message("Su mensaje llegó al equipo de protección.")

    ping = staff_chat.wait_for_bot_message(PING, timeout=PING_WITHIN)
    assert ping.text == PING
    said = {word for word in re.findall(r"\w+", REPLY.lower()) if len(word) > 3}
    assert not said & set(re.findall(r"\w+", ping.text.lower())), ping.text
    assert "Tumaco" not in ping.text and "Nariño" not in ping.text

    with deployment.api() as api:
        queue = api.get("/api/v1/reports").json()["items"]
    assert (queue[0]["id"], queue[0]["new_reply"]) == (report_id, True)
    assert [i["id"] for i in queue if i["new_reply"]] == [report_id]
    with deployment.web() as web:
        card = queue_card(web.get("/bandeja").text, report_id)
        assert BADGE in card and "escondidos" not in card
        # The focal point opens the case and reads the reply.
        page = web.get(f"/reportes/{report_id}")
        assert page.status_code == 200 and REPLY in page.text
        assert BADGE not in queue_card(web.get("/bandeja").text, report_id)
    with deployment.api() as api:
        (item,) = [i for i in api.get("/api/v1/reports").json()["items"] if i["id"] == report_id]
    assert item["new_reply"] is False
