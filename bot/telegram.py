"""The Telegram adapter: every private message or button press goes through one dispatcher.

No ConversationHandler and no PTB persistence: the draft lives in the database,
encrypted, keyed by the chat's slow pseudonym (storage.epochs, DESIGN.md §5). The chat
id is used in memory only, to reply. Contacts, locations and forward origins are never
read into anything that is stored.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest

from bot.commands import event_from_text
from bot.conversations import Conversations, Offer, Turn, Upload
from bot.evidence import EvidenceError, refusal
from bot.i18n import render, render_label, translations
from bot.sandbox import EvidenceSandbox
from bot.updates import PerChatOrder
from flows.engine import Event, Msg, Pick, Reply, Unsupported
from flows.messages import N_
from storage.attachments import File
from storage.chats import record_messages, take_messages
from storage.users import link_chat

log = logging.getLogger("somos.bot")

CALLBACK_SEPARATOR = "|"
MSG_GROUPS_DECLINED = N_(
    "Este canal solo funciona en conversaciones privadas, para proteger a quien reporta. "
    "Escríbame directamente."
)
MSG_LINKED = N_("Listo. Este chat recibirá avisos de Somos, sin el contenido de los reportes.")
MSG_LINK_FAILED = N_("Ese código no sirve o ya venció. Pida uno nuevo en Somos.")


def encode_callback(step: str | None, code: str) -> str:
    return f"{step or ''}{CALLBACK_SEPARATOR}{code}"[:64]


def decode_callback(data: str) -> Pick:
    step, _, code = data.partition(CALLBACK_SEPARATOR)
    return Pick(code=code, step=step or None) if code else Pick(code=data, step=None)


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


def _file_of(message: Message) -> tuple[str, str, int | None, str | None] | None:
    """(kind, file_id, size, mime) of a photo, document, voice note or audio."""
    if message.photo:
        largest = message.photo[-1]
        return "photo", largest.file_id, largest.file_size, "image/jpeg"
    if message.document:
        doc = message.document
        return "document", doc.file_id, doc.file_size, doc.mime_type
    if message.voice:
        return "voice", message.voice.file_id, message.voice.file_size, message.voice.mime_type
    if message.audio:
        return "audio", message.audio.file_id, message.audio.file_size, message.audio.mime_type
    return None


class TelegramTransport:
    """Turns updates into flow events and replies into messages."""

    def __init__(
        self, conversations: Conversations, sandbox: EvidenceSandbox | None = None
    ) -> None:
        self.conversations = conversations
        # Starts no process until a file arrives; closed with the application.
        self.sandbox = sandbox or EvidenceSandbox()

    async def send(self, bot: Any, chat_id: int, replies: list[Reply], locale: str) -> list[int]:
        catalog = translations(locale)
        sent: list[int] = []
        for reply in replies:
            message = await bot.send_message(
                chat_id=chat_id, text=render(reply.text, catalog),
                reply_markup=keyboard(reply, locale),
            )
            sent.append(message.message_id)
        return sent

    async def remember(self, pseudonym: str, message_ids: list[int]) -> None:
        async with self.conversations.store.transaction() as session:
            await record_messages(
                session=session, keyring=self.conversations.store.keyring, pseudonym=pseudonym,
                message_ids=message_ids, now=datetime.now(UTC),
            )

    async def wipe(self, bot: Any, chat_id: int, also: list[int]) -> None:
        """Deletes every message of the chat the bot still can (its own and the person's),
        recorded under any epoch of the last 48 hours."""
        pseudonyms = await self.conversations.chat_pseudonyms(chat_id)
        tracked: list[int] = []
        async with self.conversations.store.transaction() as session:
            for pseudonym in pseudonyms:
                tracked += await take_messages(
                    session=session, keyring=self.conversations.store.keyring,
                    pseudonym=pseudonym, now=datetime.now(UTC),
                )
        for message_id in sorted({*tracked, *also}, reverse=True):
            with contextlib.suppress(TelegramError):
                await bot.delete_message(chat_id=chat_id, message_id=message_id)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Feeds a private message (text, command, file or anything else) to the flow."""
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self.decline_group(update, context)
            return
        if message.text and message.text.lower().startswith("/vincular"):
            await self.link_staff_chat(context, message, chat.id)
            return
        pseudonym = await self.conversations.chat_pseudonym(chat.id)
        incoming = [message.message_id]
        event: Event | Offer
        if update.edited_message is not None:
            event = Unsupported("edited")
        elif message.text is not None:
            # A forwarded text counts as text; where it came from is never read.
            event = event_from_text(message.text)
        elif message.contact is not None or message.location is not None or message.venue:
            # Someone's phone number or a position should not linger on this phone either.
            with contextlib.suppress(TelegramError):
                await message.delete()
            incoming = []
            event = Unsupported("contact" if message.contact is not None else "location")
        elif (found := _file_of(message)) is not None:
            kind, file_id, size, mime = found
            event = Offer(kind, size, lambda: self.download(context, file_id, kind, mime))
        elif message.sticker is not None:
            event = Unsupported("sticker")
        else:
            event = Unsupported("other")
        await self.dispatch(context, chat.id, pseudonym, event, update.update_id, incoming)

    async def link_staff_chat(
        self, context: ContextTypes.DEFAULT_TYPE, message: Message, chat_id: int
    ) -> None:
        """`/vincular CODE` from a staff member's own Telegram: pings will come to this chat."""
        code = message.text.split(maxsplit=1)[1] if message.text and " " in message.text else ""
        with contextlib.suppress(TelegramError):
            await message.delete()  # the code is single-use, but it need not stay on screen
        async with self.conversations.store.transaction() as session:
            user = await link_chat(session=session, keyring=self.conversations.store.keyring,
                                   code=code, chat_id=chat_id, now=datetime.now(UTC))
        msgid = MSG_LINKED if user is not None else MSG_LINK_FAILED
        await self.send(context.bot, chat_id, [Reply(Msg(msgid))],
                        self.conversations.default_locale)

    async def download(
        self, context: ContextTypes.DEFAULT_TYPE, file_id: str, kind: str, mime: str | None
    ) -> File | Msg:
        """Fetches a file the conversation agreed to take and strips it, or says why not.

        Called only after the chat's quotas and the current question allowed it."""
        try:
            telegram_file = await context.bot.get_file(file_id)
            data = bytes(await telegram_file.download_as_bytearray())
            # Decoded in a worker process with memory and time limits, never here.
            return await self.sandbox.prepare(kind=kind, data=data, mime=mime)
        except EvidenceError as error:
            return refusal(error)
        except TelegramError as error:
            log.warning("file download failed: %s", type(error).__name__)
        return refusal(EvidenceError("failed"))

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Feeds a button press to the flow and removes the pressed keyboard."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        with contextlib.suppress(TelegramError):
            await query.answer()
        if chat.type != ChatType.PRIVATE:
            return
        with contextlib.suppress(TelegramError):
            # An old message may no longer be editable; the answer still counts.
            await query.edit_message_reply_markup(reply_markup=None)
        pseudonym = await self.conversations.chat_pseudonym(chat.id)
        await self.dispatch(context, chat.id, pseudonym, decode_callback(query.data or ""),
                            update.update_id, [])

    async def dispatch(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, pseudonym: str,
        event: Event | Upload | Offer, update_id: int, incoming: list[int],
    ) -> None:
        turn: Turn = await self.conversations.handle(
            pseudonym=pseudonym, event=event, update_id=update_id, chat_id=chat_id
        )
        if turn.duplicate:
            return
        if turn.wipe:
            await self.wipe(context.bot, chat_id, incoming)
            incoming = []
        sent = await self.send(context.bot, chat_id, turn.replies, turn.state.locale)
        await self.remember(pseudonym, [*incoming, *sent])

    async def decline_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Declines group chats and leaves them: reports there would not be anonymous."""
        chat = update.effective_chat
        if chat is None:
            return
        locale = self.conversations.default_locale
        await self.send(context.bot, chat.id, [Reply(Msg(MSG_GROUPS_DECLINED))], locale)
        with contextlib.suppress(TelegramError):
            await context.bot.leave_chat(chat.id)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Only the type: messages of errors raised while handling an update may quote it.
    log.error("telegram handler failed: %s", type(context.error).__name__)


def build_application(
    *, token: str, base_url: str, base_file_url: str, conversations: Conversations,
    request: BaseRequest | None = None,
) -> Application:  # type: ignore[type-arg]
    """Builds the PTB application (not started) with the single dispatcher installed.

    `request` replaces PTB's HTTP client; tests pass an in-process one.
    """
    builder = (
        Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
        .concurrent_updates(PerChatOrder())
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    sandbox = EvidenceSandbox()

    async def close_sandbox(_application: Application) -> None:  # type: ignore[type-arg]
        sandbox.close()

    application = builder.post_shutdown(close_sandbox).build()
    transport = TelegramTransport(conversations, sandbox)
    application.add_handler(CallbackQueryHandler(transport.on_callback))
    application.add_handler(
        MessageHandler(
            (filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE)
            & ~filters.StatusUpdate.ALL,
            transport.on_message,
        )
    )
    application.add_error_handler(_on_error)
    application.bot_data["transport"] = transport
    return application
