"""A plea for help typed anywhere gets the emergency lines first; the conversation goes on."""

from __future__ import annotations

import csv

import pytest

from flows.conversation import build_flow
from flows.engine import (
    EMERGENCY,
    Command,
    Effect,
    Msg,
    Result,
    State,
    Text,
    advance,
)
from flows.evidence import MSG_ASK_EVIDENCE
from flows.followup import ACCESS, REPLY
from flows.lines import MSG_LINE
from flows.menu import MENU, MSG_MENU, MSG_WELCOME
from flows.municipalities import Catalog
from flows.municipality_step import MSG_ASK_MUNICIPALITY, MSG_MUNICIPALITY_CONFIRM
from flows.pleas import MSG_EMERGENCY, MSG_NOT_A_HOTLINE, PLEAS_CSV, Pleas, default_pleas
from flows.reports import confirmed_report
from flows.selfcare import MSG_LOCAL_LINES
from flows.threat import MSG_ASK_DANGER, MSG_ASK_TARGET
from flows.wipe import after_report_state
from tests.support.places import TUMACO
from tests.support.walk import (
    CATALOG,
    FLOW,
    answer_emergency,
    assert_well_formed,
    last,
    msgids,
    press,
    threat_walk,
    trace,
)

PLEAS = default_pleas()
LINES = [MSG_EMERGENCY, MSG_NOT_A_HOTLINE]
SOCORRO = "68755"  # Socorro, Santander: a municipality named like a plea

HEARD = [
    "ayuda", "Ayuda!!!", "AYUDAAAA", "ayúdenme por favor", "Ayudeme", "aiuda", "ayda",
    "auxilio", "Auxilioo", "socorro", "socoro", "¡Socorro!", "sos", "S.O.S.",
    "me van a matar", "Me van a matar ayuda", "hola necesito ayuda me van a matar",
    "me ban a matar", "nos van a mattar", "NOS VAN A MATAR", "van a matarme",
    "nos quieren matar", "están disparando en la vereda", "estoy en peligro",
    "Estamos en pelígro", "mi hijo está en peligro", "estoy en pelgro",
    "help", "Help me please", "HELP!!", "they will kill me", "They're going to kill us",
    "I'm in danger", "we are in danger",
]  # fmt: skip

# What people write in an ordinary conversation with the bot, some close to a plea word.
EVERYDAY = [
    "hola", "Hola, buenos días", "buenas tardes", "gracias", "muchas gracias", "sí", "no",
    "ok", "listo", "quiero reportar algo", "quiero hacer un reporte", "menú",
    "¿cómo funciona?", "no entiendo", "¿quién lee esto?", "Tumaco", "Barbacoas", "Mompox",
    "El Carmen de Bolívar", "Tolú", "San Juan", "Sucre", "Córdoba", "esta semana", "ayer",
    "el martes", "hace un mes", "un panfleto", "llegó un panfleto a la vereda",
    "me llamaron por teléfono", "dejaron una nota debajo de la puerta", "mi vecino",
    "la junta de acción comunal", "vos sos el que sabe", "quiero ayudar a mi comunidad",
    "nos ayudaron mucho", "entregaron ayudas humanitarias", "el ayudante del bus",
    "auxilios de transporte", "es un peligroso", "la mata de plátano", "matamos un cerdo",
    "hello", "hi", "thanks", "good morning", "how does it work?", "I want to report",
    "yesterday", "my neighbour", "1234 5678 9012 3456", "👍", "...", "",
]  # fmt: skip


@pytest.mark.parametrize("text", HEARD)
def test_a_plea_is_heard_whatever_the_accents_case_or_one_letter_typos(text: str) -> None:
    assert PLEAS.heard(text)


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_messages_are_not_taken_for_a_plea(text: str) -> None:
    assert not PLEAS.heard(text)


def test_no_municipality_of_the_covered_departments_reads_as_a_plea() -> None:
    with (PLEAS_CSV.parent / "divipola.csv").open(encoding="utf-8", newline="") as handle:
        covered = [row for row in csv.DictReader(handle)
                   if row["department_code"] in {d.code for d in CATALOG.departments()}]
    assert len(covered) == 373
    names = {row["municipality"] for row in covered}
    names |= {m.display_name for d in CATALOG.departments() for m in CATALOG.in_department(d.code)}
    assert [name for name in sorted(names) if PLEAS.heard(name)] == []


def test_the_phrases_are_data_in_spanish_and_english() -> None:
    with PLEAS_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["language"] for row in rows} == {"es", "en"}
    assert Pleas.from_rows(rows) == PLEAS
    with pytest.raises(ValueError, match="bad plea row"):
        Pleas.from_rows([{"phrase": "ayuda", "match": "sometimes"}])


def test_a_long_message_is_read_whole() -> None:
    words = "la comunidad se reunió en la escuela para hablar de la carretera " * 60
    assert not PLEAS.heard(words)
    assert PLEAS.heard(words + "y ahora nos van a matar")


# --- Where the person is -------------------------------------------------------------------


def test_a_plea_as_the_first_message_gets_the_lines_then_the_welcome() -> None:
    state, replies = advance(FLOW, None, Text("me van a matar ayuda"))
    assert msgids(replies) == [*LINES, MSG_WELCOME, MSG_MENU]
    assert "123" in MSG_EMERGENCY and "103" in MSG_EMERGENCY
    assert state == advance(FLOW, None, Command("start"))[0]
    assert_well_formed(replies)


def test_a_plea_at_the_menu_gets_the_lines_and_the_menu_again() -> None:
    state, _ = last([Command("start")])
    after, replies = advance(FLOW, state, Text("Ayúdenme por favor"))
    assert after == state
    assert msgids(replies) == [*LINES, MSG_MENU] and replies[-1].step == MENU


def test_a_plea_at_the_municipality_question_asks_it_again_and_the_report_goes_on() -> None:
    items = [item for item, _, _ in threat_walk("target.self", "threat.other", "no")]
    state, replies = last(items[:3])  # "¿En qué municipio pasó?"
    after, replies = advance(FLOW, state, Text("hola necesito ayuda me van a matar"))
    assert after == state
    assert msgids(replies) == [*LINES, MSG_ASK_MUNICIPALITY]
    state, _ = last(items[3:], after, replies)
    assert state.status == "submitted" and confirmed_report(state).municipality_code == TUMACO


def test_a_description_that_pleads_is_kept_and_the_report_goes_on() -> None:
    items = [item for item, _, _ in threat_walk("target.self", "threat.other", "no")]
    state, replies = last(items[:10])  # "Cuente con sus palabras qué pasó."
    plea = "Nos dijeron que nos van a matar si no nos vamos. Ayuda."
    after, replies = advance(FLOW, state, Text(plea))
    assert after.answers["description"] == plea and after.step == "threat.evidence"
    # Tumaco is known: its own lines come before the next question.
    assert after.pending == Effect("local_lines", {"municipality": TUMACO, EMERGENCY: True})
    assert msgids(replies) == LINES
    lines = {"lines": [{"name": "Personería de Tumaco", "number": "602 727 0000"}]}
    after, replies = advance(FLOW, after, Result("local_lines", lines))
    assert msgids(replies) == [MSG_LOCAL_LINES, MSG_ASK_EVIDENCE]
    assert replies[0].text.params == {
        "municipality": "San Andrés de Tumaco (Nariño)",
        "lines": (Msg(MSG_LINE, {"number": "602 727 0000", "name": "Personería de Tumaco"}),),
    }
    assert after.answers["description"] == plea and after.pending is None
    state, _ = last(items[11:], after, replies)
    assert state.status == "submitted"
    assert confirmed_report(state).answers["description"] == plea


def test_a_plea_at_a_question_of_buttons_asks_it_again_after_the_local_lines() -> None:
    items = [item for item, _, _ in threat_walk("target.self", "threat.other", "no")]
    state, _ = last(items[:5])  # "¿Quién está en riesgo?"
    after, replies = answer_emergency(*advance(FLOW, state, Text("SOCORRO")))
    assert msgids(replies) == [*LINES, MSG_ASK_TARGET]  # no local lines in this walk
    assert after == state


def test_a_message_to_the_team_that_pleads_is_still_sent() -> None:
    state = State(step=REPLY, answers={ACCESS: "handle"}, status="active")
    after, replies = advance(FLOW, state, Text("ayuda, volvieron"))
    assert msgids(replies) == LINES
    assert after.pending == Effect("reply_to_team", {"access": "handle",
                                                     "text": "ayuda, volvieron"})


def test_after_a_receipt_a_plea_gets_the_lines_and_the_same_buttons() -> None:
    saved = after_report_state("es")
    after, replies = advance(FLOW, saved, Text("help"))
    assert after == saved and msgids(replies)[:2] == LINES
    assert replies[-1].step == saved.step


def test_a_municipality_named_like_a_plea_is_still_the_municipality() -> None:
    flow = build_flow(Catalog.load(departments=None))  # Santander covered too
    state = State(step="threat.municipality", history=(MENU, "threat.danger"),
                  answers={"kind": "threat", "immediate_danger": "no"}, status="active")
    after, replies = advance(flow, state, Text("Socorro"))
    assert msgids(replies) == [*LINES, MSG_MUNICIPALITY_CONFIRM]
    assert after.scratch == {"candidates": [SOCORRO]}


def test_danger_first_then_the_municipalitys_own_lines_as_soon_as_it_is_known() -> None:
    items = [item for item, _, _ in threat_walk("target.self", "threat.other", "yes")]
    seen = trace(items[:3])
    assert msgids(seen[1][1]) == [MSG_ASK_DANGER]
    state, replies = seen[-1]
    state, replies = advance(FLOW, state, Text("tumaco"))
    state, replies = advance(FLOW, state, press(replies, f"mun:{TUMACO}"))
    assert replies == [] and state.step == "threat.target"
    assert state.pending == Effect("local_lines", {"municipality": TUMACO, EMERGENCY: True})
    state, replies = advance(FLOW, state, Result("local_lines", {"lines": [
        {"name": "Personería de Tumaco", "number": "602 727 0000"}]}))
    assert msgids(replies) == [MSG_LOCAL_LINES, MSG_ASK_TARGET]
    assert confirmed_report(last(items[5:], state, replies)[0]).urgency == "immediate"

