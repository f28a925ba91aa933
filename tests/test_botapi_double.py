"""Tests of the Telegram Bot API double itself (tests/support/botapi/)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginUser,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.botapi import BotApiDouble, ChatMessage

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
def double() -> Iterator[BotApiDouble]:
    with BotApiDouble(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(double: BotApiDouble) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=double.base_url, base_file_url=double.base_file_url) as b:
        yield b


def call(double: BotApiDouble, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """A raw form-encoded Bot API call, the way python-telegram-bot encodes it."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    response = httpx.post(f"{double.base_url}{double.token}/{method}", data=data)
    return response.status_code, response.json()


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


# -- HTTP surface ---------------------------------------------------------------------------


def test_urls_token_check_and_unknown_method(double: BotApiDouble) -> None:
    assert double.base_url == f"http://127.0.0.1:{double.port}/bot"
    assert double.base_file_url == f"http://127.0.0.1:{double.port}/file/bot"
    wrong = httpx.post(f"{double.base_url}654321:WRONG/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert call(double, "sendPigeon", chat_id=1) == (
        404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = call(double, "getme")  # method names are case-insensitive
    assert status == 200 and body["ok"] is True
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == "somos_test_bot"
    assert [name for name, _ in double.requests] == ["sendPigeon", "getMe"]


def test_requests_are_recorded_with_decoded_params(double: BotApiDouble) -> None:
    user = double.user(user_id=42)
    markup = {"inline_keyboard": [[{"text": "Sí", "callback_data": "yes"}]]}
    status, body = call(double, "sendMessage", chat_id=42, text="¿Seguro?", reply_markup=markup)
    assert status == 200
    assert double.calls("sendMessage") == [{"chat_id": 42, "text": "¿Seguro?",
                                            "reply_markup": markup}]
    assert body["result"]["reply_markup"] == markup
    assert user.last_bot_message() == body["result"]


def test_multipart_and_json_bodies_are_parsed(double: BotApiDouble) -> None:
    double.user(user_id=42)
    url = f"{double.base_url}{TOKEN}/sendMessage"
    assert httpx.post(url, json={"chat_id": 42, "text": "json"}).status_code == 200
    response = httpx.post(url, data={"chat_id": "42", "text": "multipart"},
                          files={"thumbnail": ("a.bin", b"\x00\x01", "application/octet-stream")})
    assert response.status_code == 200
    params = double.calls("sendMessage")[-1]
    assert params["text"] == "multipart"
    assert params["thumbnail"].data == b"\x00\x01"
    assert params["thumbnail"].filename == "a.bin"


# -- python-telegram-bot against the double ---------------------------------------------------


async def test_real_bot_round_trip(double: BotApiDouble, bot: Bot) -> None:
    ana = double.user(user_id=1001, first_name="Ana", username="ana_b")
    me = await bot.get_me()
    assert me.is_bot and me.username == "somos_test_bot" and me.id == 123456

    ana.send_command("/start")
    updates = await bot.get_updates(timeout=1)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.from_user is not None and message.from_user.id == 1001
    assert message.chat.type == "private" and message.chat.id == 1001
    assert message.entities[0].type == "bot_command"

    sent = await bot.send_message(1001, "<b>Hola</b> &amp; bienvenida", parse_mode="HTML",
                                  reply_markup=keyboard(("Reportar", "report"), ("Ayuda", "help")))
    assert sent.text == "Hola & bienvenida"
    assert sent.from_user is not None and sent.from_user.id == me.id
    assert sent.message_id == message.message_id + 1
    assert sent.reply_markup is not None
    assert ana.last_bot_message() is not None
    assert ana.last_bot_message().buttons() == ["Reportar", "Ayuda"]  # type: ignore[union-attr]

    query = ana.press("Reportar")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    assert [u.update_id for u in updates] == [updates[0].update_id]
    callback = updates[0].callback_query
    assert callback is not None and callback.data == "report" and callback.id == query["id"]
    assert callback.message is not None and callback.message.message_id == sent.message_id
    assert double.unanswered_callback_queries() == [callback.id]
    assert await callback.answer("Listo")
    assert double.callback_answer(callback.id) == {"callback_query_id": callback.id,
                                                   "text": "Listo"}
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await callback.answer()

    assert await bot.delete_message(1001, sent.message_id)
    assert await bot.delete_message(1001, message.message_id)  # the user's own message too
    assert ana.messages() == []
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(1001, sent.message_id)

    photo = ana.send_photo(b"\xff\xd8fake-jpeg", caption="foto")
    voice = ana.send_voice(b"OggS-voice", duration=3)
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    assert len(updates) == 2
    first = updates[0].message
    assert first is not None and first.caption == "foto"
    file = await bot.get_file(first.photo[-1].file_id)
    assert file.file_size == len(b"\xff\xd8fake-jpeg")
    assert file.file_path is not None and file.file_path.startswith(double.base_file_url)
    assert await file.download_as_bytearray() == bytearray(b"\xff\xd8fake-jpeg")
    voice_file = await bot.get_file(voice["voice"]["file_id"])
    assert bytes(await voice_file.download_as_bytearray()) == b"OggS-voice"
    assert photo["photo"][0]["file_id"] == first.photo[-1].file_id
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("nope")

    assert await bot.set_webhook("https://example.test/hook", secret_token="s3cret",
                                 drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == "https://example.test/hook" and info.pending_update_count == 0
    assert double.webhook["secret_token"] == "s3cret"
    with pytest.raises(Conflict, match="(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_long_polling_blocks_until_an_update_or_the_timeout(
    double: BotApiDouble, bot: Bot
) -> None:
    ana = double.user(user_id=7)
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9

    timer = threading.Timer(0.3, ana.send_text, args=("hola",))
    timer.start()
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10, allowed_updates=["message"])
    timer.join()
    assert 0.2 < time.monotonic() - started < 5
    assert updates[0].message is not None and updates[0].message.text == "hola"


async def test_second_poller_conflicts_with_the_first(double: BotApiDouble, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    async with Bot(TOKEN, base_url=double.base_url) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=1))
        with pytest.raises(Conflict, match="(?i)terminated by other getUpdates request"):
            await first
        assert await second == ()


def test_offset_confirms_limit_and_negative_offset(double: BotApiDouble) -> None:
    ana = double.user(user_id=5)
    for text in ("uno", "dos", "tres"):
        ana.send_text(text)
    _, body = call(double, "getUpdates", limit=2)
    ids = [u["update_id"] for u in body["result"]]
    assert [u["message"]["text"] for u in body["result"]] == ["uno", "dos"]
    _, body = call(double, "getUpdates", offset=ids[1] + 1)
    assert [u["message"]["text"] for u in body["result"]] == ["tres"]
    assert len(double.pending_updates) == 1
    ana.send_text("cuatro")
    _, body = call(double, "getUpdates", offset=-1)
    assert [u["message"]["text"] for u in body["result"]] == ["cuatro"]
    assert ids[1] < body["result"][0]["update_id"]


def test_enqueue_update_and_allowed_updates(double: BotApiDouble) -> None:
    ana = double.user(user_id=5)
    message = ana.send_text("hola")
    first = double.pending_updates[0]
    again = double.enqueue_update({"message": message})
    assert again["update_id"] == first["update_id"] + 1 and again["message"] == message
    same = double.enqueue_update(first)
    assert same["update_id"] == first["update_id"]
    call(double, "getUpdates", offset=again["update_id"] + 1, allowed_updates=["message"])
    ana.press_raw("stale", message_id=999)
    assert double.pending_updates == []
    assert "callback_query" in double.dropped_updates[-1]
    call(double, "getUpdates", allowed_updates=[])  # empty list: back to the default set
    ana.press_raw("stale", message_id=999)
    assert len(double.pending_updates) == 1
    raw = double.enqueue_update({"callback_query": {
        "id": "raw-1", "from": ana.profile, "chat_instance": "1", "data": "x"}})
    assert double.unanswered_callback_queries()[-1] == raw["callback_query"]["id"]
    assert call(double, "answerCallbackQuery", callback_query_id="raw-1")[0] == 200
    status, body = call(double, "getUpdates", offset="soon")
    assert status == 400 and body["description"].startswith("Bad Request: invalid parameters")


# -- chat semantics -----------------------------------------------------------------------


async def test_edits_keep_telegram_semantics(double: BotApiDouble, bot: Bot) -> None:
    ana = double.user(user_id=9)
    sent = await bot.send_message(9, "Paso 1", reply_markup=keyboard(("Sí", "yes")))
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Paso 1", 9, sent.message_id,
                                    reply_markup=keyboard(("Sí", "yes")))
    edited = await bot.edit_message_text("Paso 2", 9, sent.message_id)
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    assert edited.reply_markup is None  # an omitted keyboard is removed, as in Telegram
    view = ana.last_bot_message()
    assert view is not None and view.text == "Paso 2" and view.buttons() == []
    await bot.edit_message_reply_markup(9, sent.message_id, reply_markup=keyboard(("A", "a")))
    assert ana.messages()[0].button("A") == {"text": "A", "callback_data": "a"}
    user_message = ana.send_text("mío")
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("x", 9, user_message["message_id"])
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", 9, 999)


async def test_delete_window_is_48_hours(double: BotApiDouble, bot: Bot) -> None:
    ana = double.user(user_id=9)
    old = ana.send_text("viejo")
    ana.age_messages(49 * 3600)
    recent = await bot.send_message(9, "nuevo")
    with pytest.raises(BadRequest, match="(?i)message can't be deleted for everyone"):
        await bot.delete_message(9, old["message_id"])
    assert await bot.delete_message(9, recent.message_id)
    assert [m.text for m in ana.messages()] == ["viejo"]


async def test_validation_errors_match_telegram(double: BotApiDouble, bot: Bot) -> None:
    double.user(user_id=9)
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "br"'):
        await bot.send_message(9, "a<br>b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Can't find end tag"):
        await bot.send_message(9, "<b>a", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Character '.' is reserved"):
        await bot.send_message(9, "Hola.", parse_mode="MarkdownV2")
    link = await bot.send_message(9, "[sitio](https://example.test) listo\\.",
                                  parse_mode="MarkdownV2")
    assert link.text is not None and link.text.endswith("listo\\.")  # stored verbatim
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(404, "hola")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(9, "  ")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(9, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(9, "k", reply_markup=keyboard(("x", "d" * 65)))
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(9, "dancing")
    assert await bot.send_chat_action(9, "typing")


async def test_blocked_user_and_left_group(double: BotApiDouble, bot: Bot) -> None:
    ana = double.user(user_id=9)
    ana.block_bot()
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(9, "hola")
    group = double.user(user_id=10, chat_type="group", chat_title="Vecinos")
    assert group.chat_id < 0
    assert (await bot.get_chat(group.chat_id)).title == "Vecinos"
    assert await bot.leave_chat(group.chat_id)
    assert double.left_chats == [group.chat_id]
    with pytest.raises(Forbidden, match="(?i)not a member of the group chat"):
        await bot.send_message(group.chat_id, "hola")


async def test_commands_are_stored_per_scope_and_language(double: BotApiDouble, bot: Bot) -> None:
    assert await bot.set_my_commands([("start", "Empezar"), ("ayuda", "Ayuda")])
    assert await bot.set_my_commands([("start", "Start")], language_code="en")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "ayuda"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Mal Comando", "x")])


def test_group_members_share_the_chat(double: BotApiDouble) -> None:
    ana = double.user(user_id=1, first_name="Ana", chat_type="group", chat_id=-500)
    beto = double.user(user_id=2, first_name="Beto", chat_type="group", chat_id=-500)
    assert double.user(user_id=1, chat_type="group", chat_id=-500) is ana
    ana.send_text("hola")
    beto.send_text("buenas")
    assert [m.message_id for m in beto.messages()] == [1, 2]
    assert [u["message"]["from"]["first_name"] for u in double.pending_updates] == ["Ana", "Beto"]
    assert double.pending_updates[0]["message"]["chat"] == {"id": -500, "type": "group",
                                                            "title": "Grupo de prueba"}


def test_user_messages_parse_as_telegram_updates(double: BotApiDouble) -> None:
    ana = double.user(user_id=3, first_name="Ana", last_name="B", language_code="es")
    ana.send_sticker()
    ana.send_location(4.6, -74.08)
    ana.send_contact("+573001234567", "Ana", user_id=3)
    ana.forward_text("aviso", origin_user={"id": 77, "first_name": "Carla"})
    ana.send_document(b"%PDF", filename="acta.pdf", mime_type="application/pdf")
    ana.send_audio(b"ID3", duration=5, title="nota")
    text = ana.send_text("original")
    ana.edit_text(text["message_id"], "corregido")
    ana.press_raw("stale:1", message_id=999)
    updates = [Update.de_json(u, None) for u in double.pending_updates]
    messages = [u.message for u in updates[:7]]
    assert all(m is not None for m in messages)
    sticker, location, contact, forward, document, audio, _ = messages
    assert sticker is not None and sticker.sticker is not None
    assert location is not None and location.location is not None
    assert location.location.latitude == 4.6
    assert contact is not None and contact.contact is not None and contact.contact.user_id == 3
    assert forward is not None and isinstance(forward.forward_origin, MessageOriginUser)
    assert forward.forward_origin.sender_user.first_name == "Carla"
    assert document is not None and document.document is not None
    assert document.document.file_name == "acta.pdf"
    assert audio is not None and audio.audio is not None and audio.audio.title == "nota"
    edited = updates[7].edited_message
    assert edited is not None and edited.text == "corregido" and edited.edit_date is not None
    callback = updates[8].callback_query
    assert callback is not None and callback.message is not None
    assert not callback.message.is_accessible  # date 0: Telegram's InaccessibleMessage
    assert [m.text for m in ana.messages()][-1] == "corregido"


def test_press_finds_the_newest_button_or_explains(double: BotApiDouble) -> None:
    ana = double.user(user_id=11)
    markup = {"inline_keyboard": [[{"text": "Sí", "callback_data": "yes"},
                                   {"text": "Web", "url": "https://example.test"}]]}
    call(double, "sendMessage", chat_id=11, text="viejo", reply_markup=markup)
    call(double, "sendMessage", chat_id=11, text="nuevo", reply_markup=markup)
    query = ana.press("yes")
    assert query["message"]["text"] == "nuevo" and query["data"] == "yes"
    assert ana.press("Sí", message=1)["message"]["text"] == "viejo"
    with pytest.raises(AssertionError, match=r"visible buttons: #1 \['Sí', 'Web'\]; #2"):
        ana.press("No", timeout=0)
    with pytest.raises(AssertionError, match="not a callback button"):
        ana.press("Web")


# -- waiting ----------------------------------------------------------------------------------


def test_wait_for_bot_message_and_its_transcript(double: BotApiDouble) -> None:
    ana = double.user(user_id=12)
    call(double, "sendMessage", chat_id=12, text="antes")
    ana.send_text("hola")
    timer = threading.Timer(0.2, call, args=(double, "sendMessage"),
                            kwargs={"chat_id": 12, "text": "después"})
    timer.start()
    found = ana.wait_for_bot_message("desp", timeout=5)
    timer.join()
    assert isinstance(found, ChatMessage) and found.from_bot and found.text == "después"
    assert ana.wait_for_bot_message(after=0).text == "antes"
    assert ana.wait_for_bot_message(lambda m: m.text.startswith("d")).message_id == 3
    with pytest.raises(AssertionError, match=r"(?s)'nada'.*#2 Ana: 'hola'"):
        ana.wait_for_bot_message("nada", timeout=0.2)


# -- a whole Application -------------------------------------------------------------------------


async def test_application_polling_against_the_double(double: BotApiDouble) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "¿Quieres reportar?", reply_markup=keyboard(("Sí", "yes"), ("No", "no")))

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Elegiste {query.data}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_chat is not None
        await update.effective_message.delete()
        await context.bot.send_message(update.effective_chat.id, "Recibido y borrado")

    app = (Application.builder().token(TOKEN).base_url(double.base_url)
           .base_file_url(double.base_file_url).build())
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(answer))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    ana = double.user(user_id=2024)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            ana.send_command("/start")
            question = await ana.async_wait_for_bot_message("reportar")
            assert question.buttons() == ["Sí", "No"]
            ana.press("Sí")
            edited = await ana.async_wait_for_bot_message("Elegiste yes")
            assert edited.message_id == question.message_id and edited.buttons() == []
            ana.send_text("mi dirección")
            await asyncio.to_thread(double.wait_until_idle, 5.0)
            assert [m.text for m in ana.messages()] == ["/start", "Elegiste yes",
                                                        "Recibido y borrado"]
            assert double.unanswered_callback_queries() == []
        finally:
            await app.updater.stop()
            await app.stop()
    assert "deleteWebhook" in [name for name, _ in double.requests]


async def test_invalid_token_is_reported_by_the_library(double: BotApiDouble) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:BAD", base_url=double.base_url):
            pass


# -- webhook delivery ------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str | None, dict[str, Any]]] = []
    fail = False

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 500 if type(self).fail else 200
        if status == 200:
            type(self).received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                                        json.loads(body)))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_webhook_delivery_with_secret_and_retries() -> None:
    _Receiver.received, _Receiver.fail = [], True
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with BotApiDouble(TOKEN, webhook_retry_delay=0.1) as double:
            url = f"http://127.0.0.1:{receiver.server_address[1]}/tg"
            assert call(double, "setWebhook", url=url, secret_token="abc_DEF-1")[0] == 200
            ana = double.user(user_id=5)
            ana.send_text("uno")
            deadline = time.monotonic() + 5
            while "last_error_message" not in call(double, "getWebhookInfo")[1]["result"]:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            info = call(double, "getWebhookInfo")[1]["result"]
            assert info["pending_update_count"] == 1 and "500" in info["last_error_message"]
            _Receiver.fail = False
            ana.send_text("dos")
            double.wait_until_idle(timeout=5)
            assert double.pending_updates == []
            assert [(s, u["message"]["text"]) for s, u in _Receiver.received] == [
                ("abc_DEF-1", "uno"), ("abc_DEF-1", "dos")]
            status, body = call(double, "setWebhook", url=url, secret_token="no spaces")
            assert status == 400 and "unallowed characters" in body["description"]
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join()
