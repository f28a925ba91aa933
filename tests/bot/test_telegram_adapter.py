"""The PTB adapter through `Application.process_update`, with an in-process request (no network)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from telegram import Update
from telegram.ext import Application

from bot.conversations import Conversations
from bot.telegram import build_application
from flows.conversation import build_flow
from flows.municipalities import Catalog
from storage.models import Draft
from storage.store import Store
from tests.support.telegram_request import BOT, RecordingRequest

TOKEN = "42:IN-PROCESS"
@pytest.fixture
async def telegram(store: Store) -> AsyncIterator[tuple[Application, RecordingRequest]]:  # type: ignore[type-arg]
    request = RecordingRequest()
    conversations = Conversations(store=store, flow=build_flow(Catalog.load()),
                                  draft_ttl=timedelta(minutes=30))
    application = build_application(
        token=TOKEN, base_url="http://telegram.invalid/bot",
        base_file_url="http://telegram.invalid/file/bot", conversations=conversations,
        request=request,
    )
    async with application:
        yield application, request


def message_update(update_id: int, chat_id: int, text: str | None = None,
                   chat_type: str = "private", **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id, "date": 0,
        "chat": {"id": chat_id, "type": chat_type, **({"title": "Grupo"} if chat_type != "private"
                                                      else {})},
        "from": {"id": 777, "is_bot": False, "first_name": "Ana"},
        **extra,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def feed(application: Application, data: dict[str, Any]) -> None:  # type: ignore[type-arg]
    await application.process_update(Update.de_json(data, application.bot))


async def test_start_in_private_shows_the_safety_notice_and_the_menu(
    telegram: tuple[Application, RecordingRequest], store: Store  # type: ignore[type-arg]
) -> None:
    application, request = telegram
    await feed(application, message_update(1, 777, "/start"))
    sent = request.sent()
    assert "No le vamos a preguntar su nombre" in sent[0]["text"]
    assert sent[1]["text"] == "¿Qué quiere hacer?"
    buttons = [row[0]["text"] for row in json.loads(sent[1]["reply_markup"])["inline_keyboard"]]
    assert "🚨 Reportar una amenaza o situación de riesgo" in buttons
    async with store.transaction() as session:
        drafts = (await session.exec(select(Draft))).all()
    # The draft is keyed by the chat's epoch pseudonym, never by the chat id itself.
    assert [d.pseudonym for d in drafts] == [await store.chats.current(777, now=datetime.now(UTC))]
    assert "777" not in drafts[0].pseudonym.partition(".")[2]


async def test_group_chats_are_declined_and_left(
    telegram: tuple[Application, RecordingRequest],  # type: ignore[type-arg]
) -> None:
    application, request = telegram
    await feed(application, message_update(1, -100123, "/start", chat_type="group"))
    assert "conversaciones privadas" in request.sent()[0]["text"]
    assert ("leaveChat", {"chat_id": "-100123"}) in request.calls


async def test_a_sticker_gets_a_helpful_answer(
    telegram: tuple[Application, RecordingRequest],  # type: ignore[type-arg]
) -> None:
    application, request = telegram
    sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}
    await feed(application, message_update(1, 777, sticker=sticker))
    assert request.sent()[0]["text"].startswith("No puedo leer stickers")


def press_update(update_id: int, message_id: int, data: str, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "callback_query": {
        "id": f"cb{update_id}", "chat_instance": "ci", "data": data,
        "from": {"id": 777, "is_bot": False, "first_name": "Ana"},
        "message": {"message_id": message_id, "date": 0, "chat": {"id": 777, "type": "private"},
                    "from": BOT, "text": text},
    }}


def first_button(message: dict[str, Any]) -> str:
    """The callback data of the first button under a message the bot showed."""
    return str(json.loads(message["reply_markup"])["inline_keyboard"][0][0]["callback_data"])


async def menu_shown(application: Application,  # type: ignore[type-arg]
                     request: RecordingRequest) -> tuple[dict[str, Any], str]:
    """/start: the menu as shown, and its first button's data (a threat report)."""
    await feed(application, message_update(1, 777, "/start"))
    menu = request.last[777]
    return menu, first_button(menu)


async def test_a_button_press_turns_the_pressed_message_into_the_next_question(
    telegram: tuple[Application, RecordingRequest],  # type: ignore[type-arg]
) -> None:
    application, request = telegram
    menu, data = await menu_shown(application, request)
    before = len(request.calls)
    await feed(application, press_update(2, menu["message_id"], data, menu["text"]))
    # Two calls, not three: the press is answered and its message becomes the question.
    assert [name for name, _ in request.calls[before:]] == [
        "answerCallbackQuery", "editMessageText"]
    edited = request.calls[-1][1]
    assert int(edited["message_id"]) == menu["message_id"]
    assert edited["text"] == "¿Alguien está en peligro ahora?"
    labels = [row[0]["text"] for row in json.loads(edited["reply_markup"])["inline_keyboard"]]
    assert labels[:2] == ["Sí", "No"]


async def test_a_button_of_an_earlier_message_loses_its_keyboard_and_the_answer_goes_below(
    telegram: tuple[Application, RecordingRequest],  # type: ignore[type-arg]
) -> None:
    application, request = telegram
    menu, data = await menu_shown(application, request)
    await feed(application, press_update(2, menu["message_id"], data, menu["text"]))
    # The person writes instead of pressing: the bot's answer is now the newest message.
    await feed(application, message_update(3, 777, "hola"))
    question = request.last[777]
    assert question["message_id"] > menu["message_id"]
    before = len(request.calls)
    live = first_button(question)
    # The same live question's button, pressed on the older message that shows it.
    await feed(application, press_update(4, menu["message_id"], live, "¿Alguien está…"))
    names = [name for name, _ in request.calls[before:]]
    assert names[:2] == ["answerCallbackQuery", "editMessageReplyMarkup"]
    assert int(request.calls[before + 1][1]["message_id"]) == menu["message_id"]
    assert "editMessageText" not in names and "sendMessage" in names
    assert request.last[777]["message_id"] > question["message_id"]


async def test_a_stale_button_never_rewrites_its_message(
    telegram: tuple[Application, RecordingRequest],  # type: ignore[type-arg]
) -> None:
    application, request = telegram
    menu, data = await menu_shown(application, request)
    await feed(application, press_update(2, menu["message_id"], data, menu["text"]))
    before = len(request.calls)
    # A second tap of the menu's button (a double tap) on what is now the next question.
    await feed(application, press_update(3, menu["message_id"], data, menu["text"]))
    names = [name for name, _ in request.calls[before:]]
    assert "editMessageText" not in names
    assert request.sent()[-2]["text"].startswith("Ese botón ya no está activo")
    assert request.sent()[-1]["text"] == "¿Alguien está en peligro ahora?"