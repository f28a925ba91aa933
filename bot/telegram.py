"""The Telegram adapter: every private message or button press goes through one dispatcher.

No ConversationHandler and no PTB persistence: the draft lives in the database,
encrypted, keyed by HMAC(pepper, chat id) (DESIGN.md §3). The chat id is used
in memory only, to reply.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest

from bot.conversations import Conversations
from bot.i18n import render, render_label, translations
from flows.engine import Command, Event, Msg, Pick, Reply, Text
from flows.messages import N_

log = logging.getLogger("somos.bot")

COMMANDS = {"start": "start", "salir": "salir", "ayuda": "ayuda", "help": "ayuda",
            "exit": "salir", "menu": "start"}
CALLBACK_SEPARATOR = "|"
MSG_GROUPS_DECLINED = N_(
    "Este canal solo funciona en conversaciones privadas, para proteger a quien reporta. "
    "Escríbame directamente."
)
MSG_TEXT_ONLY = N_("Por ahora solo puedo leer texto y botones. Escriba su respuesta, por favor.")


def encode_callback(step: str | None, code: str) -> str:
    return f"{step or ''}{CALLBACK_SEPARATOR}{code}"[:64]


def decode_callback(data: str) -> Pick:
    step, _, code = data.partition(CALLBACK_SEPARATOR)
    return Pick(code=code, step=step or None) if code else Pick(code=data, step=None)


def event_from_message(text: str | None) -> Event | None:
    if text is None:
        return None
    if text.startswith("/"):
        name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
        return Command(COMMANDS.get(name, "start"))
    return Text(text)


def keyboard(reply: Reply, locale: str) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    catalog = translations(locale)
    rows = [
        [InlineKeyboardButton(render_label(choice, catalog),
                              callback_data=encode_callback(reply.step, choice.code))]
        for choice in reply.choices
    ]
    return InlineKeyboardMarkup(rows)


class TelegramTransport:
    """Turns updates into flow events and replies into messages."""

    def __init__(self, conversations: Conversations, locale: str = "es") -> None:
        self.conversations = conversations
        self.locale = locale

    async def send(self, bot: object, chat_id: int, replies: list[Reply], locale: str) -> None:
        catalog = translations(locale)
        for reply in replies:
            await bot.send_message(  # type: ignore[attr-defined]
                chat_id=chat_id, text=render(reply.text, catalog),
                reply_markup=keyboard(reply, locale),
            )

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Feeds a private message to the flow and answers with its replies."""
        chat = update.effective_chat
        message = update.effective_message
        if chat is None or message is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self.decline_group(update, context)
            return
        event = event_from_message(message.text)
        if event is None:
            await self.send(context.bot, chat.id, [Reply(Msg(MSG_TEXT_ONLY))], self.locale)
            return
        await self.dispatch(context, chat.id, event)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Feeds a button press to the flow and removes the pressed keyboard."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        await query.answer()
        if chat.type != ChatType.PRIVATE:
            return
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:
            pass  # an old message may no longer be editable; the answer still counts
        await self.dispatch(context, chat.id, decode_callback(query.data or ""))

    async def dispatch(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, event: Event
    ) -> None:
        pseudonym = self.conversations.chat_pseudonym(chat_id)
        state, replies = await self.conversations.handle(pseudonym=pseudonym, event=event)
        await self.send(context.bot, chat_id, replies, state.locale or self.locale)

    async def decline_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Declines group chats and leaves them: reports there would not be anonymous."""
        chat = update.effective_chat
        if chat is None:
            return
        await self.send(context.bot, chat.id, [Reply(Msg(MSG_GROUPS_DECLINED))], self.locale)
        await context.bot.leave_chat(chat.id)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Only the type: messages of errors raised while handling an update may quote it.
    log.error("telegram handler failed: %s", type(context.error).__name__)


def build_application(
    *, token: str, base_url: str, base_file_url: str, conversations: Conversations,
    locale: str = "es", request: BaseRequest | None = None,
) -> Application:  # type: ignore[type-arg]
    """Builds the PTB application (not started) with the single dispatcher installed.

    `request` replaces PTB's HTTP client; tests pass an in-process one.
    """
    builder = Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    transport = TelegramTransport(conversations, locale)
    application.add_handler(CallbackQueryHandler(transport.on_callback))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, transport.on_message)
    )
    application.add_error_handler(_on_error)
    application.bot_data["transport"] = transport
    return application
