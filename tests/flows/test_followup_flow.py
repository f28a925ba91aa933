"""Following a report with its receipt code: shapes, the transport's answers, and the secret."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.i18n import render, translations
from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    NAV_BACK,
    NAV_CANCEL,
    Command,
    Effect,
    FileSent,
    Msg,
    Pick,
    Reply,
    Result,
    State,
    Text,
    advance,
)
from flows.followup import (
    ACCESS,
    CASE,
    MSG_ASK_CODE,
    MSG_ASK_REPLY,
    MSG_CASE_OPTIONS,
    MSG_CHECK_FAILED,
    MSG_CODE_NOT_FOUND,
    MSG_CODE_RATE_LIMITED,
    MSG_CODE_SHAPE,
    MSG_EVIDENCE_ADDED,
    MSG_FROM_TEAM,
    MSG_FROM_TEAM_ON,
    MSG_FROM_YOU,
    MSG_FROM_YOU_ON,
    MSG_MESSAGES,
    MSG_NEWS_REVOKED,
    MSG_NO_MESSAGES,
    MSG_REFERRED_TO,
    MSG_REPLY_SENT,
    MSG_WAS_REFERRED_TO,
    NO_CODE,
    REPLY,
    STATUSES,
)
from flows.menu import MENU, MSG_MENU
from flows.protection import MSG_REQUEST_SENT, REQUEST_START
from tests.support.walk import FLOW, assert_well_formed, codes, last, msgids

CODE = "1234567890123456"


def render_es(msg: Msg) -> str:
    """The message as a Spanish speaker reads it: the bot's own renderer and catalog."""
    return render(msg, translations("es"))


def at_code() -> tuple[State, list[Reply]]:
    return last([Command("start"), "followup"])


def checking() -> State:
    state, _ = advance(FLOW, at_code()[0], Text("1234 5678 9012 3456"))
    return state


def test_the_code_question_has_atras_and_cancelar() -> None:
    state, replies = at_code()
    assert state.step == "followup.code" and replies[-1].text == Msg(MSG_ASK_CODE)
    assert codes(replies[-1]) == [NO_CODE, NAV_BACK, NAV_CANCEL]


@pytest.mark.parametrize(
    "typed",
    [
        "1234 5678 9012 3456", "1234-5678-9012-3456", "1234.5678.9012.3456", CODE,
        "  1234 5678\n9012 3456 ", "1234–5678–9012–3456", "1234\u200b5678 9012 3456",
    ],
)  # fmt: skip
def test_a_code_of_the_right_shape_is_checked_by_the_transport(typed: str) -> None:
    state, _ = at_code()
    after, replies = advance(FLOW, state, Text(typed))
    assert after.pending == Effect("check_receipt", {"code": CODE, "locale": "es"})
    assert replies == []
    assert after.step == "followup.code"
    # The code is a secret: it is never kept in the answers or the scratch.
    assert CODE not in repr(after.answers) and CODE not in repr(after.scratch)
    assert CODE not in State.from_json(after.to_json()).answers.values()


@pytest.mark.parametrize(
    "typed",
    [
        "", "hola", "1234 5678", "12345678901234567", "123456789012345",
        "1234 5678 9012 345x", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦", "１２３４５６７８９０１２３４５６",
        "1234/5678/9012/3456", "+1234567890123456",
    ],
)  # fmt: skip
def test_anything_else_gets_a_plain_retry_without_any_effect(typed: str) -> None:
    state, _ = at_code()
    after, replies = advance(FLOW, state, Text(typed))
    assert after == state and after.pending is None
    assert [r.text for r in replies] == [Msg(MSG_CODE_SHAPE)]
    assert codes(replies[0]) == [NO_CODE, NAV_BACK, NAV_CANCEL]


def test_a_button_instead_of_the_code_asks_again() -> None:
    state, _ = at_code()
    after, replies = advance(FLOW, state, Pick("threat", "followup.code"))
    assert after == state and msgids(replies) == [MSG_DIDNT_UNDERSTAND, MSG_ASK_CODE]


@pytest.mark.parametrize("status", ["new", "in_review", "referred", "follow_up", "closed"])
@pytest.mark.parametrize("kind", ["threat", "stigma"])
def test_found_shows_the_status_in_plain_words_then_the_case(status: str, kind: str) -> None:
    state, replies = advance(
        FLOW, checking(), Result("check_receipt", {"outcome": "found", "status": status,
                                                   "kind": kind, "access": "opaque",
                                                   "messages": []})
    )
    assert msgids(replies) == [STATUSES[status], MSG_NO_MESSAGES, MSG_CASE_OPTIONS]
    assert state.step == CASE and state.answers[ACCESS] == "opaque"
    assert_well_formed(replies)


def test_found_without_an_access_handle_is_a_failed_check() -> None:
    state, replies = advance(
        FLOW, checking(), Result("check_receipt", {"outcome": "found", "status": "new"})
    )
    assert state.step == "followup.code" and msgids(replies) == [MSG_CHECK_FAILED]


def test_the_reporter_reads_the_team_and_replies() -> None:
    messages = [{"from": "team", "text": "¿Podemos llamarle?"},
                {"from": "reporter", "text": "Sí, en la tarde"}]
    state, replies = advance(
        FLOW, checking(), Result("check_receipt", {"outcome": "found", "status": "in_review",
                                                   "access": "opaque", "messages": messages})
    )
    shown = replies[1].text
    assert shown.msgid == MSG_MESSAGES
    lines = shown.params["messages"]
    assert isinstance(lines, tuple)
    assert [line.params["text"] for line in lines] == ["¿Podemos llamarle?", "Sí, en la tarde"]
    assert [line.msgid for line in lines] == [MSG_FROM_TEAM, MSG_FROM_YOU]

    state, replies = advance(FLOW, state, Pick("reply", CASE))
    assert state.step == REPLY and msgids(replies) == [MSG_ASK_REPLY]
    state, replies = advance(FLOW, state, Text("  Ya me cambié de casa  "))
    assert state.pending == Effect("reply_to_team", {"access": "opaque",
                                                     "text": "Ya me cambié de casa"})
    assert replies == []
    state, replies = advance(FLOW, state, Result("reply_to_team", {"ok": True}))
    assert state.step == CASE and msgids(replies) == [MSG_REPLY_SENT, MSG_CASE_OPTIONS]
    state, replies = advance(FLOW, state, Pick("menu", CASE))
    assert state.step == MENU and ACCESS not in state.answers


def test_new_reads_as_received() -> None:
    assert STATUSES["new"] == (
        "Su reporte fue recibido y está en la bandeja del equipo de protección."
    )


def test_not_found_stays_for_another_try() -> None:
    state, replies = advance(FLOW, checking(), Result("check_receipt", {"outcome": "not_found"}))
    assert state.step == "followup.code" and state.pending is None
    assert [r.text for r in replies] == [Msg(MSG_CODE_NOT_FOUND)]
    assert codes(replies[0]) == [NO_CODE, NAV_BACK, NAV_CANCEL]
    again, _ = advance(FLOW, state, Text("0000 0000 0000 0001"))
    assert again.pending == Effect("check_receipt", {"code": "0000000000000001",
                                                     "locale": "es"})


def test_rate_limited_says_to_wait_15_minutes_and_goes_to_the_menu() -> None:
    state, replies = advance(
        FLOW, checking(), Result("check_receipt", {"outcome": "rate_limited"})
    )
    assert msgids(replies) == [MSG_CODE_RATE_LIMITED, MSG_MENU]
    assert "15 minutos" in MSG_CODE_RATE_LIMITED
    assert state == State(step=MENU, status="active")


@pytest.mark.parametrize(
    "data",
    [{}, {"outcome": "found"}, {"outcome": "found", "status": "lost"}, {"outcome": 3},
     {"outcome": "maybe"}],
)  # fmt: skip
def test_a_result_it_cannot_read_says_to_try_later(data: dict[str, Any]) -> None:
    state, replies = advance(FLOW, checking(), Result("check_receipt", data))
    assert state.step == "followup.code" and state.pending is None
    assert [r.text for r in replies] == [Msg(MSG_CHECK_FAILED)]


def test_a_late_result_after_the_person_moved_on_is_ignored() -> None:
    state, _ = advance(FLOW, checking(), Pick(NAV_BACK, "followup.code"))
    assert state.step == MENU and state.pending is None
    found = Result("check_receipt", {"outcome": "found", "status": "new", "kind": "threat"})
    assert advance(FLOW, state, found) == (state, [])


def test_the_pending_check_survives_the_draft_as_json() -> None:
    state = checking()
    assert State.from_json(state.to_json()) == state


def in_case() -> State:
    state, _ = advance(
        FLOW, checking(), Result("check_receipt", {"outcome": "found", "status": "in_review",
                                                   "access": "opaque", "messages": []})
    )
    assert state.step == CASE
    return state


def test_a_leader_asks_for_protection_without_giving_a_phone_number() -> None:
    state, replies = advance(FLOW, in_case(), Pick("protection", CASE))
    assert state.step == "protection.needs"
    state, _ = advance(FLOW, state, Pick("need.risk_assessment", "protection.needs"))
    state, _ = advance(FLOW, state, Pick("need.leave_the_area", "protection.needs"))
    state, replies = advance(FLOW, state, Pick("done", "protection.needs"))
    assert state.step == "protection.contact"
    state, _ = advance(FLOW, state, Pick("contact.this_chat_only", "protection.contact"))
    state, _ = advance(FLOW, state, Pick("skip", "protection.details"))
    assert state.step == "protection.confirm"
    state, replies = advance(FLOW, state, Pick("send", "protection.confirm"))
    assert state.pending == Effect("request_protection", {"access": "opaque", "request": {
        "needs": ["need.risk_assessment", "need.leave_the_area"],
        "contact": "contact.this_chat_only", "details": ""}})
    state, replies = advance(FLOW, state, Result("request_protection", {"ok": True}))
    assert state.step == CASE and MSG_REQUEST_SENT in msgids(replies)
    assert not any(key.startswith("protection_") for key in state.answers)


def test_news_consent_can_be_withdrawn() -> None:
    state, _ = advance(FLOW, in_case(), Pick("stop_news", CASE))
    assert state.pending == Effect("revoke_news", {"access": "opaque"})
    state, replies = advance(FLOW, state, Result("revoke_news", {"ok": True}))
    assert msgids(replies)[0] == MSG_NEWS_REVOKED and state.step == CASE


def test_more_evidence_goes_to_the_case() -> None:
    state, _ = advance(FLOW, in_case(), Pick("reply", CASE))
    state, _ = advance(FLOW, state, FileSent("photo", "ref-1", 100, "image/jpeg"))
    assert state.pending == Effect("add_evidence", {"access": "opaque", "ref": "ref-1"})
    state, replies = advance(FLOW, state, Result("add_evidence", {"ok": True}))
    assert state.step == REPLY and msgids(replies)[0] == MSG_EVIDENCE_ADDED


# --- What the reporter learns: where the case went, and the messages in order, dated -----


def found(**data: Any) -> tuple[State, list[Reply]]:
    return advance(FLOW, checking(), Result("check_receipt", {
        "outcome": "found", "kind": "threat", "access": "opaque", "messages": [], **data}))


def test_a_referred_case_names_the_entity_and_the_reference_the_focal_point_wrote() -> None:
    state, replies = found(status="referred",
                           referral={"entity": "unp", "reference": "OFI26-00042 "})
    assert state.step == CASE
    assert msgids(replies) == [MSG_REFERRED_TO, MSG_NO_MESSAGES, MSG_CASE_OPTIONS]
    shown = render_es(replies[0].text)
    assert shown == ("Su reporte fue enviado a una entidad que puede ayudarle.\n"
                     "Entidad: UNP (Unidad Nacional de Protección)\n"
                     "Número de radicado o referencia: OFI26-00042")
    assert "por ejemplo" not in shown
    assert_well_formed(replies)


@pytest.mark.parametrize(("entity", "name"), [
    ("defensoria", "Defensoría del Pueblo"), ("fiscalia", "Fiscalía General de la Nación"),
    ("personeria", "Personería municipal"), ("policia", "Policía Nacional"),
    ("procuraduria", "Procuraduría General de la Nación"),
    ("icbf", "ICBF (Instituto Colombiano de Bienestar Familiar)"), ("other", "Otra entidad"),
])  # fmt: skip
def test_every_entity_a_focal_point_can_pick_has_a_plain_name(entity: str, name: str) -> None:
    _, replies = found(status="referred", referral={"entity": entity, "reference": "R-1"})
    assert f"Entidad: {name}\n" in render_es(replies[0].text)


def test_a_case_followed_after_its_referral_still_shows_where_it_went() -> None:
    _, replies = found(status="follow_up", referral={"entity": "defensoria", "reference": "D-7"})
    assert msgids(replies)[:2] == [STATUSES["follow_up"], MSG_WAS_REFERRED_TO]
    assert render_es(replies[1].text) == (
        "Su caso fue remitido a: Defensoría del Pueblo\nNúmero de radicado o referencia: D-7")


@pytest.mark.parametrize("referral", [
    None, {}, {"entity": "cia", "reference": "X"}, {"entity": "unp", "reference": "  "},
    {"entity": "unp"}, "unp",
])  # fmt: skip
def test_a_referral_it_cannot_read_falls_back_to_the_plain_status(referral: object) -> None:
    _, replies = found(status="referred", referral=referral)
    assert msgids(replies)[0] == STATUSES["referred"]
    assert render_es(replies[0].text) == (
        "Su reporte fue enviado a una entidad que puede ayudarle.")


def test_the_messages_come_in_the_order_given_each_with_its_day() -> None:
    messages = [{"from": "team", "text": "¿Está a salvo?", "day": "1 de diciembre"},
                {"from": "reporter", "text": "Sí, por ahora.", "day": "2 de diciembre"},
                {"from": "team", "text": "Mañana pasamos.", "day": "2 de diciembre"}]
    _, replies = found(status="in_review", messages=messages)
    assert msgids(replies) == [STATUSES["in_review"], MSG_MESSAGES, MSG_CASE_OPTIONS]
    lines = replies[1].text.params["messages"]
    assert isinstance(lines, tuple)
    assert [line.msgid for line in lines] == [MSG_FROM_TEAM_ON, MSG_FROM_YOU_ON, MSG_FROM_TEAM_ON]
    assert render_es(replies[1].text) == (
        "Mensajes de su caso:\n"
        "El 1 de diciembre, el equipo de protección escribió: ¿Está a salvo?\n"
        "El 2 de diciembre, usted escribió: Sí, por ahora.\n"
        "El 2 de diciembre, el equipo de protección escribió: Mañana pasamos.")
    assert_well_formed(replies)


def test_the_days_are_written_in_the_language_the_person_chose() -> None:
    state, _ = at_code()
    english, _ = advance(FLOW, replace(state, locale="en"), Text(CODE))
    assert english.pending == Effect("check_receipt", {"code": CODE, "locale": "en"})


def test_without_a_code_a_leader_can_ask_for_protection_from_here() -> None:
    state, replies = at_code()
    state, replies = advance(FLOW, state, Pick(NO_CODE, "followup.code"))
    assert state.step == REQUEST_START and state.pending is None
