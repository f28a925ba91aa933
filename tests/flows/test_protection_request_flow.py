"""A leader asks for protection without an earlier report: danger first, then a report
of kind "threat" against a leader that storage routes and gives a receipt like any other."""

from __future__ import annotations

import pytest

from bot.i18n import render, translations
from flows import taxonomy
from flows.engine import Command, Msg, State, Text
from flows.followup import NO_CODE
from flows.municipality_step import MSG_MUNICIPALITY_CONFIRM
from flows.pleas import MSG_EMERGENCY, MSG_MARKED_URGENT
from flows.protection import (
    MENU_CODE,
    MSG_ASK_CONTACT,
    MSG_ASK_DETAILS,
    MSG_ASK_NEEDS,
    MSG_ASK_REQUEST_LEADERSHIP,
    MSG_ASK_REQUEST_MUNICIPALITY,
    MSG_CONFIRM_NEW_REQUEST,
    PROTECTION_REQUEST,
    REQUEST_START,
)
from flows.reports import confirmed_report
from flows.summary import MSG_ASK_NOTIFY
from flows.threat import MSG_ASK_DANGER
from tests.support.places import TUMACO
from tests.support.walk import Item, assert_well_formed, codes, last, msgids, trace

FROM_MENU: list[Item] = [Command("start"), MENU_CODE]
FROM_FOLLOWUP: list[Item] = [Command("start"), "followup", NO_CODE]


def walk(start: list[Item], danger: str = "no", notify: str = "yes") -> list[Item]:
    return [*start, danger, Text("tumaco"), f"mun:{TUMACO}", "leadership.afro_council",
            "need.risk_assessment", "need.collective_protection", "done",
            "contact.through_personeria", Text("Nos citaron a una reunión y no fuimos."),
            notify]


def test_danger_is_asked_first_and_a_yes_gives_the_emergency_lines_at_once() -> None:
    state, replies = last([Command("start"), MENU_CODE])
    assert state.step == REQUEST_START and msgids(replies) == [MSG_ASK_DANGER]
    state, replies = last(["yes"], state, replies)
    assert msgids(replies) == [MSG_EMERGENCY, MSG_MARKED_URGENT, MSG_ASK_REQUEST_MUNICIPALITY]


@pytest.mark.parametrize("start", [FROM_MENU, FROM_FOLLOWUP], ids=["menu", "no-code"])
def test_the_questions_come_in_order_each_with_atras_and_cancelar(start: list[Item]) -> None:
    seen = trace(walk(start))
    questions = [replies[-1].text.msgid for _, replies in seen[len(start) - 1:]]
    assert questions[:3] == [MSG_ASK_DANGER, MSG_ASK_REQUEST_MUNICIPALITY,
                             MSG_MUNICIPALITY_CONFIRM]
    assert [q for q in questions[3:] if not q.startswith("✅")] == [
        MSG_ASK_REQUEST_LEADERSHIP, MSG_ASK_NEEDS, MSG_ASK_NEEDS, MSG_ASK_NEEDS,
        MSG_ASK_CONTACT, MSG_ASK_DETAILS, MSG_ASK_NOTIFY, MSG_CONFIRM_NEW_REQUEST,
    ]
    for _, replies in seen[len(start) - 1:]:
        assert_well_formed(replies)
        assert codes(replies[-1])[-2:] == ["nav:back", "nav:cancel"]
    state, replies = seen[-1]
    assert codes(replies[-1]) == ["confirm", "nav:back", "nav:cancel"]


def test_the_summary_shows_the_request_and_no_phone_number_is_ever_asked() -> None:
    state, replies = last(walk(FROM_MENU))
    summary = render(replies[-1].text, translations("es"))
    assert summary.startswith("Revise su solicitud antes de enviarla.")
    for shown in ("Peligro inmediato: No", "Municipio: San Andrés de Tumaco (Nariño)",
                  "Tipo de liderazgo: Consejo comunitario afrocolombiano",
                  "• Que la UNP estudie mi riesgo",
                  "Contacto: Prefiero ir a la Personería de mi municipio",
                  "Detalles: Nos citaron a una reunión y no fuimos.",
                  "Avisos por este chat: Sí"):
        assert shown in summary, summary
    asked = " ".join(reply.text.msgid for _, replies in trace(walk(FROM_MENU))[2:]
                     for reply in replies)
    assert "teléfono" not in asked.replace("No escriba nombres ni números de teléfono.", "")


@pytest.mark.parametrize(("danger", "urgency"), [("no", "high"), ("yes", "immediate")])
def test_sending_makes_a_threat_against_a_leader_asking_for_protection(
    danger: str, urgency: str,
) -> None:
    state, _ = last([*walk(FROM_MENU, danger), "confirm"])
    assert state.status == "submitted"
    report = confirmed_report(state)
    assert (report.kind, report.category, report.municipality_code, report.urgency) == (
        "threat", PROTECTION_REQUEST, TUMACO, urgency)
    assert report.answers["target"] == "target.leader"
    assert report.answers["leadership"] == "leadership.afro_council"
    assert report.answers["protection_needs"] == ["need.risk_assessment",
                                                  "need.collective_protection"]
    assert report.answers["protection_contact"] == "contact.through_personeria"
    assert report.answers["notify"] == "yes"
    # Exports and pages name the category; the threat's own question never offers it.
    assert taxonomy.label(PROTECTION_REQUEST) == "Solicitud de protección de un líder o lideresa"
    assert PROTECTION_REQUEST not in taxonomy.THREATS


def test_cancel_keeps_nothing() -> None:
    state, replies = last(walk(FROM_MENU))
    state, replies = last(["nav:cancel"], state, replies)
    assert state == State(step="menu", status="active")
    assert Msg("Listo. Se descartó lo que escribió. No se guardó nada.") in [
        r.text for r in replies]
