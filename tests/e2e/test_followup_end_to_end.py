"""Follow-up that informs, through `somos serve` and the Bot API double.

The Nariño focal point refers a Tumaco case to the UNP with a filing number through the
API and writes twice; the reporter answers in between. With the receipt code the reporter
reads the entity, the number and the three messages in the order written, each with its
day. A leader who never reported asks for protection from the menu, gets a receipt, and
the focal point finds the request in the queue and reads it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.harness import RECEIPT, Deployment, open_case, report_described, report_threat
from tests.support.places import TUMACO

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("followup")]

MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")


def today_in_colombia() -> str:
    day = datetime.now(ZoneInfo("America/Bogota"))
    return f"{day.day} de {MONTHS[day.month - 1]}"


def test_the_reporter_reads_the_referral_and_the_messages_in_order_with_their_day(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    description = "Nos quemaron la casa comunal y dejaron un letrero"
    code = report_threat(user, description)
    deployment.double.wait_until_idle()

    with deployment.api() as api:
        report_id = report_described(api, description, kind="threat")
        assert api.post(f"/api/v1/reports/{report_id}/claim").status_code == 200
        referred = api.post(f"/api/v1/reports/{report_id}/status", json={
            "status": "referred", "entity": "unp", "reference": "EXT26-0098812"})
        assert referred.status_code == 200, referred.text
        sent = api.post(f"/api/v1/reports/{report_id}/messages",
                        json={"text": "Su caso está en la UNP. ¿Está en un lugar seguro?"})
        assert sent.status_code == 201

    assert "Su reporte fue enviado" in open_case(user, code, "Su reporte fue enviado")
    user.wait_for_bot_message("¿Qué quiere hacer con su caso?")
    user.press("✍️ Responder o agregar información")
    user.wait_for_bot_message("Escriba su mensaje")
    user.send_text("Sí, estoy en la casa de una vecina.")
    user.wait_for_bot_message("Su mensaje llegó al equipo de protección.")

    with deployment.api() as api:
        sent = api.post(f"/api/v1/reports/{report_id}/messages",
                        json={"text": "Bien. La UNP la llamará esta semana."})
        assert sent.status_code == 201
    deployment.double.wait_until_idle()

    status = open_case(user, code, "Su reporte fue enviado")
    assert status == ("Su reporte fue enviado a una entidad que puede ayudarle.\n"
                      "Entidad: UNP (Unidad Nacional de Protección)\n"
                      "Número de radicado o referencia: EXT26-0098812"), status
    messages = user.wait_for_bot_message("Mensajes de su caso").text
    day = today_in_colombia()
    assert messages == (
        "Mensajes de su caso:\n"
        f"El {day}, el equipo de protección escribió: "
        "Su caso está en la UNP. ¿Está en un lugar seguro?\n"
        f"El {day}, usted escribió: Sí, estoy en la casa de una vecina.\n"
        f"El {day}, el equipo de protección escribió: Bien. La UNP la llamará esta semana."
    ), messages


def test_a_leader_without_a_report_asks_for_protection_and_the_focal_point_reads_it(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    user.send_command("/start")
    user.wait_for_bot_message("¿Qué quiere hacer?")
    user.press("🛡️ Pedir protección para un líder o lideresa")
    user.wait_for_bot_message("¿Alguien está en peligro ahora?")
    user.press("No")
    user.wait_for_bot_message("¿En qué municipio está la persona en riesgo?")
    user.send_text("Tumaco")
    user.wait_for_bot_message("¿Es San Andrés de Tumaco (Nariño)?")
    user.press("Sí")
    user.wait_for_bot_message("¿Qué tipo de líder o lideresa es la persona en riesgo?")
    user.press("Consejo comunitario afrocolombiano")
    user.wait_for_bot_message("¿Qué necesita?")
    user.press("Que la UNP estudie mi riesgo")
    user.wait_for_bot_message(lambda m: "✅ Que la UNP estudie mi riesgo" in m.buttons())
    user.press("Listo")
    user.wait_for_bot_message("¿Cómo puede el equipo ponerse en contacto")
    user.press("Solo por este chat, sin revelar quién soy")
    user.wait_for_bot_message("Si quiere, cuente más")
    details = "Desde la asamblea del sábado rondan motos frente a mi casa"
    user.send_text(details)
    user.wait_for_bot_message("¿Podemos avisarle")
    user.press("Sí")
    summary = user.wait_for_bot_message("Revise su solicitud").text
    assert "Municipio: San Andrés de Tumaco (Nariño)" in summary and details in summary
    user.press("✅ Enviar solicitud")
    receipt = user.wait_for_bot_message("Su código de seguimiento es", timeout=30)
    assert RECEIPT.search(receipt.text), receipt.text

    with deployment.api() as api:
        items = api.get("/api/v1/reports", params={"kind": "threat",
                                                   "municipality": TUMACO}).json()["items"]
        requests = [item for item in items if item["category"] == "threat.protection_request"]
        assert len(requests) == 1, items
        (item,) = requests
        assert item["category_label"] == "Solicitud de protección de un líder o lideresa"
        assert item["urgency"] == "high" and item["municipality"] == "San Andrés de Tumaco (Nariño)"
        detail = api.get(f"/api/v1/reports/{item['id']}").json()
    assert detail["answers"]["target"] == "target.leader"
    assert detail["answer_labels"]["leadership"] == "Consejo comunitario afrocolombiano"
    (request,) = detail["protection_requests"]
    assert request["details"]["needs"] == ["need.risk_assessment"]
    assert request["details"]["contact"] == "contact.this_chat_only"
    assert request["text"] == details
