"""The Telegram adapter: every private message or button press goes through one dispatcher.

No ConversationHandler and no PTB persistence: the draft lives in the database,
encrypted, keyed by the chat's slow pseudonym (storage.epochs, DESIGN.md §5). The chat
id is used in memory only, to reply. Contacts, locations and forward origins are never
read into anything that is stored.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.commands import event_from_text
from bot.conversations import Conversations, Offer, Turn, Upload
from bot.evidence import EvidenceError, refusal
from bot.i18n import SUPPORTED, render, render_label, translations
from bot.sandbox import EvidenceSandbox
from bot.updates import PerChatOrder
from flows.engine import Event, Msg, Pick, Reply, Unsupported
from flows.messages import N_
from flows.wipe import wipe_replies
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


# The Bot API's limits: text after entities (counted in UTF-16 code units, as Telegram
# counts), callback data in bytes.
MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_BYTES = 64
NEWEST_KEPT = 4096  # chats whose newest message the transport remembers
# The commands Telegram shows in the chat's menu (setMyCommands), in every language.
MENU_COMMANDS = (
    ("start", N_("Menú principal")),
    ("salir", N_("Cerrar y borrar esta conversación")),
    ("ayuda", N_("Cómo funciona")),
)


def encode_callback(step: str | None, code: str) -> str:
    data = f"{step or ''}{CALLBACK_SEPARATOR}{code}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        # A cut code would answer another button or none: a flow bug, never the person's.
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """The text in as few messages as fit, cut at paragraphs, else lines, else spaces,
    else anywhere; nothing is lost but the whitespace at a cut."""
    if telegram_length(text) <= limit:
        return [text]
    head = _fitting(text, limit)
    for separator in ("\n\n", "\n", " "):
        cut = head.rfind(separator)
        if cut > 0:
            head = head[:cut]
            break
    rest = text[len(head):].lstrip()
    return [head.rstrip() or head, *(split_text(rest, limit) if rest else [])]


def _fitting(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 code units."""
    size = 0
    for end, char in enumerate(text):
        size += 2 if ord(char) > 0xFFFF else 1
        if size > limit:
            return text[:end]
    return text


async def register_commands(bot: Any) -> None:
    """Lists /start, /salir and /ayuda in the chat's menu: Spanish for everyone, English
    for Telegram apps set to English."""
    for locale in SUPPORTED:
        catalog = translations(locale)
        commands = [BotCommand(name, render(Msg(msgid), catalog)) for name, msgid in MENU_COMMANDS]
        await bot.set_my_commands(commands, language_code=None if locale == "es" else locale)


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
        # The newest message of each chat, by pseudonym, in memory only (LRU): a press on it
        # is answered in place; anywhere else the answer goes at the bottom, where the
        # person looks. After a restart, every chat starts at the bottom.
        self._newest: OrderedDict[str, int] = OrderedDict()

    async def send(self, bot: Any, chat_id: int, replies: list[Reply], locale: str,
                   in_place: int | None = None) -> list[int]:
        """Sends each reply (protected from forwarding and saving by the application's
        Defaults), split into several messages where its text is past Telegram's limit;
        the buttons go under the last part. Returns the ids of the new messages.

        `in_place` is the message whose button was just pressed: it becomes the first
        message (its text and buttons replaced, one call instead of removing its buttons and
        sending another), so a report's questions follow one another in one message."""
        catalog = translations(locale)
        sent: list[int] = []
        for reply in replies:
            parts = split_text(render(reply.text, catalog))
            for number, part in enumerate(parts, start=1):
                markup = keyboard(reply, locale) if number == len(parts) else None
                if in_place is not None:
                    target, in_place = in_place, None
                    if await self._edit(bot, chat_id, target, part, markup):
                        continue
                message = await bot.send_message(chat_id=chat_id, text=part,
                                                 reply_markup=markup)
                sent.append(message.message_id)
        if in_place is not None:  # nothing to say (a flood's later presses): buttons gone
            await self._edit(bot, chat_id, in_place, None, None)
        return sent

    @staticmethod
    async def _edit(bot: Any, chat_id: int, message_id: int, text: str | None,
                    markup: InlineKeyboardMarkup | None) -> bool:
        """Replaces a message's text and buttons (only its buttons when `text` is None);
        False when Telegram refuses (too old, deleted): the buttons are then removed if they
        still can be, and the caller sends a new message instead."""
        try:
            if text is None:
                await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                    reply_markup=None)
            else:
                await bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=text,
                                            reply_markup=markup)
            return True
        except BadRequest as error:
            if "not modified" in error.message.lower():
                return True  # it already shows exactly this
        except TelegramError:
            pass
        if text is not None:
            with contextlib.suppress(TelegramError):
                await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                    reply_markup=None)
        return False

    async def remember(self, pseudonym: str, message_ids: list[int]) -> None:
        async with self.conversations.store.transaction(durable=False, brief=True) as session:
            await record_messages(
                session=session, keyring=self.conversations.store.keyring, pseudonym=pseudonym,
                message_ids=message_ids, now=datetime.now(UTC),
            )

    async def wipe(self, bot: Any, chat_id: int, also: list[int]) -> int:
        """Deletes every message of the chat the bot still can (its own and the person's),
        recorded under any epoch of the last 48 hours; returns how many Telegram refused
        to delete (past its 48-hour window)."""
        pseudonyms = await self.conversations.chat_pseudonyms(chat_id)
        tracked: list[int] = []
        async with self.conversations.store.transaction(brief=True) as session:
            for pseudonym in pseudonyms:
                tracked += await take_messages(
                    session=session, keyring=self.conversations.store.keyring,
                    pseudonym=pseudonym, now=datetime.now(UTC),
                )
        left = 0
        for message_id in sorted({*tracked, *also}, reverse=True):
            try:
                await bot.delete_message(chat_id=chat_id, message_id=message_id)
            except BadRequest as error:
                # "Message can't be deleted (for everyone)": too old. "Not found": the
                # person deleted it already, which is no trace.
                left += "can't be deleted" in error.message.lower()
            except TelegramError:
                left += 1
        return left

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
        """Feeds a button press to the flow; the pressed message becomes the answer."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        with contextlib.suppress(TelegramError):
            await query.answer()
        if chat.type != ChatType.PRIVATE:
            return
        pressed = query.message.message_id if isinstance(query.message, Message) else None
        pseudonym = await self.conversations.chat_pseudonym(chat.id)
        await self.dispatch(context, chat.id, pseudonym, decode_callback(query.data or ""),
                            update.update_id, [], pressed=pressed)

    async def dispatch(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, pseudonym: str,
        event: Event | Upload | Offer, update_id: int, incoming: list[int],
        pressed: int | None = None,
    ) -> None:
        """Runs the turn and shows its replies; `pressed` is the message of a pressed
        button, edited into the first reply (a button of an earlier question only loses
        its buttons: the current question stays where it is)."""
        turn: Turn = await self.conversations.handle(
            pseudonym=pseudonym, event=event, update_id=update_id, chat_id=chat_id
        )
        if turn.duplicate:
            return
        replies = turn.replies
        if turn.wipe:
            left = await self.wipe(context.bot, chat_id, incoming)
            incoming, pressed = [], None
            replies = list(wipe_replies(left))
        if pressed is not None and (turn.stale or self._newest.get(pseudonym) != pressed):
            await self._edit(context.bot, chat_id, pressed, None, None)
            pressed = None
        sent = await self.send(context.bot, chat_id, replies, turn.state.locale,
                               in_place=pressed)
        self._note_newest(pseudonym, [*incoming, *sent])
        if incoming or sent:  # an edited message was remembered when it was sent
            await self.remember(pseudonym, [*incoming, *sent])

    def _note_newest(self, pseudonym: str, message_ids: list[int]) -> None:
        if not message_ids:
            return
        self._newest[pseudonym] = max(message_ids)
        self._newest.move_to_end(pseudonym)
        while len(self._newest) > NEWEST_KEPT:
            self._newest.popitem(last=False)

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
        # Every message the bot sends (replies and the notifier's pings alike) cannot be
        # forwarded or saved from the chat.
        .defaults(Defaults(protect_content=True))
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
