"""The main menu, the language toggle, wiping the chat, the step after a receipt, and what the
engine says to stickers, locations, contacts, edited messages and stray results."""

from __future__ import annotations

import pytest

from flows.engine import (
    MSG_CANCELLED,
    MSG_DIDNT_UNDERSTAND,
    MSG_NO_FILES_HERE,
    MSG_UNSUPPORTED,
    NAV_BACK,
    NAV_CANCEL,
    UNSUPPORTED,
    Choice,
    Command,
    Effect,
    FileSent,
    Msg,
    Pick,
    Reply,
    Result,
    State,
    Text,
    Unsupported,
    advance,
)
from flows.followup import MSG_ASK_CODE
from flows.menu import ENTRIES, MENU, MSG_HELP, MSG_MENU, MSG_WELCOME
from flows.municipality_step import MSG_ASK_MUNICIPALITY
from flows.priorities import (
    MSG_ASK_PRIORITY_MUNICIPALITY,
    MSG_PRIORITY_THANKS,
    priority_thanks_replies,
)
from flows.quick import QUICK_ANSWERS
from flows.reports import MSG_WHAT_NEXT, receipt_replies
from flows.selfcare import MSG_ASK_SELFCARE
from flows.threat import MSG_ASK_DANGER
from flows.wipe import (
    AFTER_REPORT,
    MSG_AFTER_REPORT,
    MSG_ASK_WIPE,
    MSG_EXIT,
    after_report_state,
    wipe_replies,
)
from tests.support.places import TUMACO
from tests.support.walk import (
    FLOW,
    Item,
    assert_well_formed,
    codes,
    last,
    msgids,
    page_to,
    press,
    trace,
)

WIPED = (State(status="cancelled", pending=Effect("wipe_chat")), list(wipe_replies()))


def menu() -> tuple[State, list[Reply]]:
    return advance(FLOW, None, Command("start"))


def test_the_menu_shows_eight_choices_a_screen_without_nav() -> None:
    state, replies = menu()
    (reply,) = replies[1:]
    assert reply.step == MENU and reply.text == Msg(MSG_MENU)
    state, more = advance(FLOW, state, Pick("page:1", MENU))
    (second,) = more
    shown = [*reply.choices[:-1], *second.choices[:-1]]
    assert reply.choices[-1] == Choice("page:1", Msg("Más opciones ▸"))
    assert second.choices[-1] == Choice("page:0", Msg("◂ Anteriores"))
    assert [(c.code, c.label) for c in shown] == [
        ("threat", Msg("🚨 Reportar una amenaza o situación de riesgo")),
        ("quick", Msg("⚡ Reporte rápido: pocas preguntas")),
        ("protection", Msg("🛡️ Pedir protección para un líder o lideresa")),
        ("stigma", Msg("📢 Señalan o hablan mal de un líder o lideresa")),
        ("priority", Msg("🗳️ Prioridades de seguridad de mi comunidad")),
        ("followup", Msg("🔎 Consultar mi reporte con el código")),
        ("wipe", Msg("🧹 Borrar esta conversación")),
        ("selfcare", Msg("💚 Cómo cuidarse y cuidar a otros")),
        ("lang", Msg("🌐 English")),
        ("help", Msg("❓ ¿Cómo funciona?")),
    ]


@pytest.mark.parametrize(
    ("entry", "step", "question"),
    [
        ("threat", "threat.danger", MSG_ASK_DANGER),
        ("quick", "quick.danger", MSG_ASK_DANGER),
        ("stigma", "stigma.municipality", MSG_ASK_MUNICIPALITY),
        ("priority", "priority.municipality", MSG_ASK_PRIORITY_MUNICIPALITY),
        ("followup", "followup.code", MSG_ASK_CODE),
        ("selfcare", "selfcare.menu", MSG_ASK_SELFCARE),
        ("wipe", "wipe.confirm", MSG_ASK_WIPE),
    ],
)
def test_each_entry_asks_its_first_question_with_atras_and_cancelar(
    entry: str, step: str, question: str
) -> None:
    state, replies = last([Command("start"), entry])
    assert state.step == step and state.history == (MENU,)
    # The quick report is a threat report whose category nobody chose.
    assert state.answers == (QUICK_ANSWERS if entry == "quick" else {"kind": entry})
    assert replies[-1].text.msgid == question and replies[-1].step == step
    assert codes(replies[-1])[-2:] == [NAV_BACK, NAV_CANCEL]
    back, replies = advance(FLOW, state, press(replies, NAV_BACK))
    assert back == State(step=MENU, status="active") and msgids(replies) == [MSG_MENU]


def test_every_entry_is_on_the_menu_in_the_order_of_the_design() -> None:
    assert list(ENTRIES) == [
        "threat", "quick", "protection", "stigma", "priority", "followup", "wipe", "selfcare",
    ]  # fmt: skip


# --- Language ------------------------------------------------------------------------------------


def test_language_toggles_to_english_and_back_showing_the_menu_again() -> None:
    state, replies = page_to("lang", *menu())
    english, replies = advance(FLOW, state, press(replies, "lang"))
    assert english == State(step=MENU, status="active", locale="en")
    assert msgids(replies) == [MSG_MENU]
    _, shown = page_to("lang", english, replies)
    assert {c.code: c.label for c in shown[0].choices}["lang"] == Msg("🌐 Español")
    # The locale survives the draft, a report begun and cancelled, and /start.
    english = State.from_json(english.to_json())
    state, replies = last(["threat", "no", Text("tumaco"), NAV_CANCEL], english, replies)
    assert state.locale == "en" and msgids(replies) == [MSG_CANCELLED, MSG_MENU]
    state, replies = advance(FLOW, state, Command("start"))
    assert state.locale == "en" and msgids(replies) == [MSG_WELCOME, MSG_MENU]
    state, replies = page_to("lang", state, replies)
    spanish, replies = advance(FLOW, state, press(replies, "lang"))
    assert spanish == State(step=MENU, status="active", locale="es")
    _, shown = page_to("lang", spanish, replies)
    assert {c.code: c.label for c in shown[0].choices}["lang"] == Msg("🌐 English")


def test_salir_keeps_the_language_for_the_next_conversation() -> None:
    state, replies = page_to("lang", *menu())
    state, _ = advance(FLOW, state, press(replies, "lang"))
    closed, _ = advance(FLOW, state, Command("salir"))
    assert closed.locale == "en"
    again, _ = advance(FLOW, closed, Text("hi"))
    assert again.locale == "en"


def test_help_answers_in_place() -> None:
    state, replies = advance(FLOW, menu()[0], Pick("help", MENU))
    assert msgids(replies) == [MSG_HELP, MSG_MENU]
    assert state == State(step=MENU, status="active")


# --- Wiping the chat ------------------------------------------------------------------------------


def test_wipe_asks_first_and_yes_wipes_with_one_neutral_reply() -> None:
    state, replies = last([Command("start"), "wipe"])
    assert [c.code for c in replies[-1].choices] == ["yes", "no", NAV_BACK, NAV_CANCEL]
    assert replies[-1].choices[0].label == Msg("Sí, borrar")
    state, replies = advance(FLOW, state, press(replies, "yes"))
    assert (state, replies) == WIPED
    # Someone looking at the phone afterwards should not learn what was going on.
    assert not any(word in MSG_EXIT.lower() for word in ("amenaza", "riesgo", "reporte"))


def test_wipe_no_goes_back_to_the_menu() -> None:
    state, replies = last([Command("start"), "wipe", "no"])
    assert state == State(step=MENU, status="active") and msgids(replies) == [MSG_MENU]


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([Command("start")], id="menu"),
        pytest.param([Command("start"), "threat", "no", Text("tumaco"), f"mun:{TUMACO}"],
                     id="threat"),
        pytest.param([Command("start"), "followup", Text("1234567890123456")], id="pending"),
        pytest.param([Command("start"), "selfcare", "routes"], id="tip"),
        pytest.param([Command("start"), "wipe"], id="wipe-question"),
    ],
)
def test_salir_wipes_from_anywhere(items: list[Item]) -> None:
    state, _ = last(items)
    assert advance(FLOW, state, Command("salir")) == WIPED


def test_after_a_wipe_the_next_message_starts_over() -> None:
    state, replies = advance(FLOW, WIPED[0], Text("hola"))
    assert state == State(step=MENU, status="active")
    assert msgids(replies) == [MSG_WELCOME, MSG_MENU]


# --- After a receipt --------------------------------------------------------------------------


def test_receipt_offers_wiping_first_then_the_menu_on_the_after_report_step() -> None:
    receipt, what_next, after = receipt_replies("1234 5678 9012 3456")
    assert receipt.text.params == {"code": "1234 5678 9012 3456"} and not receipt.choices
    assert what_next.text.msgid == MSG_WHAT_NEXT and not what_next.choices
    assert after.step == AFTER_REPORT and after.text == Msg(MSG_AFTER_REPORT)
    assert [(c.code, c.label) for c in after.choices] == [
        ("wipe", Msg("🧹 Borrar esta conversación (recomendado)")),
        ("menu", Msg("Volver al menú")),
    ]
    assert_well_formed([receipt, what_next, after])


def test_after_report_state_is_where_the_receipt_buttons_work() -> None:
    saved = after_report_state("en")
    assert saved == State(step=AFTER_REPORT, status="active", locale="en")
    assert State.from_json(saved.to_json()) == saved
    *_, after = receipt_replies("1234")
    state, replies = advance(FLOW, saved, press([after], "wipe"))
    assert state == State(status="cancelled", locale="en", pending=Effect("wipe_chat"))
    assert replies == list(wipe_replies())
    state, replies = advance(FLOW, saved, press([after], "menu"))
    assert state == State(step=MENU, status="active", locale="en")
    assert msgids(replies) == [MSG_MENU]


@pytest.mark.parametrize("event", [Text("gracias"), Pick("confirm", AFTER_REPORT), Pick("x")])
def test_anything_else_after_a_report_asks_again(event: Text | Pick) -> None:
    saved = after_report_state("es")
    state, replies = advance(FLOW, saved, event)
    assert state == saved
    assert msgids(replies) == [MSG_DIDNT_UNDERSTAND, MSG_AFTER_REPORT]
    assert replies[-1].choices == receipt_replies("1")[-1].choices


def test_priority_thanks_instead_of_a_receipt() -> None:
    (thanks,) = priority_thanks_replies()
    assert thanks.text == Msg(MSG_PRIORITY_THANKS)
    assert [c.code for c in thanks.choices] == ["menu"]
    assert_well_formed([thanks])
    # Its button arrives when the draft is gone: it simply starts over.
    state, replies = advance(FLOW, None, press([thanks], "menu"))
    assert state.step == MENU and msgids(replies) == [MSG_WELCOME, MSG_MENU]


# --- Things the bot cannot use -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("sticker", UNSUPPORTED["sticker"]),
        ("location", "No guardamos ubicaciones, para cuidar su seguridad. "
                     "Responda con texto o con los botones, por favor."),
        ("contact", "No guardamos contactos, para cuidar su seguridad. "
                    "Responda con texto o con los botones, por favor."),
        ("edited", "Recibí un mensaje editado; escriba de nuevo, por favor."),
        ("other", MSG_UNSUPPORTED),
        ("video_note", MSG_UNSUPPORTED),
    ],
)
@pytest.mark.parametrize(
    "where", [["threat", "no", Text("tumaco"), f"mun:{TUMACO}"], ["selfcare"], []]
)
def test_unsupported_gets_a_reply_of_its_kind_and_the_question_again(
    kind: str, said: str, where: list[Item]
) -> None:
    state, shown = last([Command("start"), *where])
    after, replies = advance(FLOW, state, Unsupported(kind))
    assert after == state
    assert replies[0] == Reply(Msg(said))
    assert replies[1:] == [r for r in shown if r.step == state.step]
    assert_well_formed(replies)


@pytest.mark.parametrize(
    ("event", "said"),
    [
        (Unsupported("location"), UNSUPPORTED["location"]),
        (Unsupported("sticker"), UNSUPPORTED["sticker"]),
        (Unsupported("gif"), MSG_UNSUPPORTED),
        (FileSent("photo", "r", 1, "image/jpeg"), MSG_NO_FILES_HERE),
    ],
)
def test_a_first_message_the_bot_cannot_use_is_answered_then_treated_as_start(
    event: Unsupported | FileSent, said: str
) -> None:
    state, replies = advance(FLOW, None, event)
    start, greeting = menu()
    assert state == start and replies == [Reply(Msg(said)), *greeting]


@pytest.mark.parametrize(
    "result",
    [
        Result("check_receipt", {"outcome": "found", "status": "new", "kind": "threat"}),
        Result("local_lines", {"lines": []}),
        Result("wipe_chat"),
    ],
)
def test_a_result_nobody_waits_for_is_ignored(result: Result) -> None:
    for state, _ in trace([Command("start"), "followup", Text("12"), NAV_CANCEL, "selfcare"]):
        assert advance(FLOW, state, result) == (state, [])
    assert advance(FLOW, WIPED[0], Result("wipe_chat")) == (State(), [])
