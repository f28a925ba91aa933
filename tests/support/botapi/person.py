"""The simulated person of the Bot API double: a Telegram user in one chat.

A :class:`FakeUser` comes from :meth:`BotApiDouble.user`; it sends what a person sends
(text, commands, photos, voice notes...), presses buttons, and waits to read the bot's
answers as the chat shows them (:class:`ChatMessage`).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tests.support.botapi.state import ChatState
from tests.support.botapi.telegram import JSON

if TYPE_CHECKING:
    from tests.support.botapi.server import BotApiDouble

MessageMatch = str | Callable[["ChatMessage"], bool] | None


class ChatMessage(dict[str, Any]):
    """A snapshot of a message as the chat shows it: Telegram's JSON plus helpers."""

    def __init__(self, data: Mapping[str, Any], *, from_bot: bool) -> None:
        super().__init__(copy.deepcopy(dict(data)))
        self.from_bot = from_bot

    @property
    def message_id(self) -> int:
        return int(self["message_id"])

    @property
    def text(self) -> str:
        """The text, or the caption of a media message, or ``""``."""
        return str(self.get("text") or self.get("caption") or "")

    @property
    def reply_markup(self) -> JSON | None:
        return self.get("reply_markup")

    def button_rows(self) -> list[list[str]]:
        """Texts of the inline keyboard buttons, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[str(button["text"]) for button in row] for row in rows]

    def buttons(self) -> list[str]:
        """Texts of all inline keyboard buttons, flattened."""
        return [text for row in self.button_rows() for text in row]

    def button(self, text_or_data: str) -> JSON | None:
        """The inline button whose text or callback_data equals ``text_or_data``."""
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if text_or_data in (button.get("text"), button.get("callback_data")):
                    return dict(button)
        return None


class FakeUser:
    """A simulated Telegram user in one chat; obtain it from :meth:`BotApiDouble.user`."""

    def __init__(self, double: BotApiDouble, profile: JSON, chat_id: int) -> None:
        self.double = double
        self.profile = profile
        self.chat_id = chat_id
        self._action_version = 0

    @property
    def id(self) -> int:
        return int(self.profile["id"])

    @property
    def _chat(self) -> ChatState:
        return self.double._chats[self.chat_id]

    # -- actions -----------------------------------------------------------------------------

    def _send(self, content: JSON) -> JSON:
        d = self.double
        with d._cond:
            data: JSON = {"message_id": 0, "from": dict(self.profile),
                          "chat": copy.deepcopy(self._chat.data), "date": int(time.time()),
                          **content}
            stored = d._add_message(self._chat, data, from_bot=False)
            self._action_version = d._version
            d.enqueue_update({"message": stored.data})
            return copy.deepcopy(stored.data)

    def send_text(self, text: str, *, reply_to: int | None = None) -> JSON:
        content: JSON = {"text": text}
        if reply_to is not None:
            with self.double._lock:
                target = self._chat.messages.get(reply_to)
                assert target is not None, f"no message {reply_to} in chat {self.chat_id}"
                content["reply_to_message"] = {k: v for k, v in copy.deepcopy(target.data).items()
                                               if k != "reply_to_message"}
        return self._send(content)

    def send_command(self, command: str, args: str = "") -> JSON:
        """Send ``/command [args]`` with a ``bot_command`` entity."""
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {args}" if args else command
        return self._send({"text": text, "entities": [
            {"type": "bot_command", "offset": 0, "length": len(command)}]})

    def send_sticker(self, emoji: str = "👍") -> JSON:
        with self.double._lock:
            file = self.double._register_file(b"RIFF\x00\x00\x00\x00WEBP", "stickers", "webp")
        return self._send({"sticker": {**file, "type": "regular", "width": 512, "height": 512,
                                       "is_animated": False, "is_video": False, "emoji": emoji}})

    def send_location(self, latitude: float, longitude: float) -> JSON:
        return self._send({"location": {"latitude": latitude, "longitude": longitude}})

    def send_contact(self, phone_number: str, first_name: str, last_name: str | None = None,
                     user_id: int | None = None) -> JSON:
        contact: JSON = {"phone_number": phone_number, "first_name": first_name}
        if last_name is not None:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return self._send({"contact": contact})

    def forward_text(self, text: str, origin_user: Mapping[str, Any] | None = None, *,
                     hidden_name: str | None = None) -> JSON:
        """A forwarded text; origin ``"user"`` (``origin_user``) or ``"hidden_user"``."""
        date = int(time.time()) - 60
        if hidden_name is not None:
            origin: JSON = {"type": "hidden_user", "date": date, "sender_user_name": hidden_name}
        else:
            sender = {"id": 555_000, "is_bot": False, "first_name": "Origen",
                      **dict(origin_user or {})}
            origin = {"type": "user", "date": date, "sender_user": sender}
        return self._send({"text": text, "forward_origin": origin})

    def _media(self, data: bytes, folder: str, extension: str) -> JSON:
        with self.double._lock:
            return self.double._register_file(data, folder, extension)

    def send_photo(self, data: bytes, caption: str | None = None, width: int = 1280,
                   height: int = 960) -> JSON:
        photo = {**self._media(data, "photos", "jpg"), "width": width, "height": height}
        return self._send({"photo": [photo], **({"caption": caption} if caption else {})})

    def send_document(self, data: bytes, filename: str = "documento.pdf",
                      mime_type: str = "application/pdf", caption: str | None = None) -> JSON:
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        document = {**self._media(data, "documents", extension), "file_name": filename,
                    "mime_type": mime_type}
        return self._send({"document": document, **({"caption": caption} if caption else {})})

    def send_voice(self, data: bytes, duration: int = 1, mime_type: str = "audio/ogg") -> JSON:
        voice = {**self._media(data, "voice", "oga"), "duration": duration,
                 "mime_type": mime_type}
        return self._send({"voice": voice})

    def send_audio(self, data: bytes, duration: int = 1, title: str | None = None,
                   performer: str | None = None, filename: str = "audio.mp3",
                   mime_type: str = "audio/mpeg") -> JSON:
        audio: JSON = {**self._media(data, "music", "mp3"), "duration": duration,
                       "file_name": filename, "mime_type": mime_type}
        audio.update({k: v for k, v in (("title", title), ("performer", performer)) if v})
        return self._send({"audio": audio})

    def edit_text(self, message_id: int, new_text: str) -> JSON:
        """Edit one of this user's text messages (an ``edited_message`` update)."""
        d = self.double
        with d._cond:
            stored = self._chat.messages.get(message_id)
            assert stored is not None and not stored.deleted, f"no message {message_id}"
            assert stored.data["from"]["id"] == self.id, "can only edit own messages"
            assert "text" in stored.data, "can only edit text messages"
            stored.data["text"] = new_text
            stored.data["edit_date"] = int(time.time())
            d._touch(stored)
            self._action_version = d._version
            d.enqueue_update({"edited_message": stored.data})
            return copy.deepcopy(stored.data)

    def _callback(self, message: JSON, data: str) -> JSON:
        d = self.double
        query = {"id": str(9_000_000_000 + d._next_counter()), "from": dict(self.profile),
                 "message": copy.deepcopy(message),
                 "chat_instance": str(abs(self.chat_id) * 7919), "data": data}
        self._action_version = d._version
        d.enqueue_update({"callback_query": query})
        return copy.deepcopy(query)

    def press(
        self, button: str, message: int | Mapping[str, Any] | None = None,
        timeout: float = 10.0,
    ) -> JSON:
        """Press the inline button (by text or callback_data) on the newest bot message
        showing it, or on ``message``; returns the callback_query.

        Like a person, waits up to ``timeout`` seconds for the button to appear: the bot
        shows the next question after its own work, usually in the pressed message."""
        deadline = time.monotonic() + timeout
        with self.double._cond:
            while True:
                candidates = list(reversed(self.bot_messages()))
                if message is not None:
                    wanted = message if isinstance(message, int) else int(message["message_id"])
                    candidates = [m for m in candidates if m.message_id == wanted]
                for candidate in candidates:
                    found = candidate.button(button)
                    if found is None:
                        continue
                    assert "callback_data" in found, f"button {button!r} is not a callback button"
                    return self._callback(dict(candidate), str(found["callback_data"]))
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.double._cond.wait(min(left, 0.1))
            visible = "; ".join(f"#{m.message_id} {m.buttons()}" for m in self.bot_messages()
                                if m.buttons())
            raise AssertionError(f"no inline button {button!r} in chat {self.chat_id}; "
                                 f"visible buttons: {visible or 'none'}")

    def press_raw(self, callback_data: str, message_id: int) -> JSON:
        """Send arbitrary callback data for ``message_id`` (deleted or missing: inaccessible)."""
        with self.double._cond:
            stored = self._chat.messages.get(message_id)
            if stored is not None and not stored.deleted:
                message = stored.data
            else:
                message = {"chat": copy.deepcopy(self._chat.data), "message_id": message_id,
                           "date": 0}
            return self._callback(message, callback_data)

    def block_bot(self, blocked: bool = True) -> None:
        """Block (or unblock) the bot: sending to this chat then fails with 403."""
        with self.double._lock:
            self._chat.blocked = blocked

    def age_messages(self, seconds: float) -> None:
        self.double.age_messages(seconds, self.chat_id)

    # -- chat view ---------------------------------------------------------------------------

    def messages(self) -> list[ChatMessage]:
        """Messages currently visible in the chat (edits applied, deletions removed)."""
        with self.double._lock:
            return [ChatMessage(s.data, from_bot=s.from_bot)
                    for s in self._chat.messages.values() if not s.deleted]

    def bot_messages(self) -> list[ChatMessage]:
        return [m for m in self.messages() if m.from_bot]

    def changed_since_action(self) -> list[ChatMessage]:
        """The bot's messages sent or edited since this user's last action, in chat order
        (a pressed message the bot turned into its answer comes first)."""
        with self.double._lock:
            return [ChatMessage(s.data, from_bot=True) for s in self._chat.messages.values()
                    if s.from_bot and not s.deleted and s.version > self._action_version]

    def shown_texts(self) -> list[str]:
        """Every text the bot has shown in this chat, in order: messages sent and edited
        (an edit replaces what the chat shows; this keeps what it showed before)."""
        return [str(params.get("text", "")) for name, params in self.double.requests
                if name in ("sendMessage", "editMessageText")
                and str(params.get("chat_id")) == str(self.chat_id)]

    def last_bot_message(self) -> ChatMessage | None:
        messages = self.bot_messages()
        return messages[-1] if messages else None

    @property
    def reply_keyboard(self) -> JSON | None:
        """The reply keyboard (``ReplyKeyboardMarkup``) the bot last showed, if any."""
        with self.double._lock:
            return copy.deepcopy(self._chat.reply_keyboard)

    def transcript(self) -> str:
        lines = []
        for m in self.messages():
            who = "bot " if m.from_bot else str(m.get("from", {}).get("first_name", "user"))
            kind = m.text or next((k for k in ("photo", "document", "voice", "audio", "sticker",
                                               "location", "contact") if k in m), "?")
            lines.append(f"  #{m.message_id} {who}: {kind!r}"
                         + (f" {m.button_rows()}" if m.buttons() else ""))
        return "\n".join(lines) or "  (empty)"

    # -- waiting -----------------------------------------------------------------------------

    def _find(self, match: MessageMatch, after: int | None) -> ChatMessage | None:
        with self.double._lock:
            candidates = [
                (s, ChatMessage(s.data, from_bot=True)) for s in self._chat.messages.values()
                if s.from_bot and not s.deleted
                and (s.data["message_id"] > after if after is not None
                     else s.version > self._action_version)
            ]
        for _stored, message in candidates:
            if match is None or (match in message.text if isinstance(match, str)
                                 else match(message)):
                return message
        return None

    def _timeout_error(self, match: MessageMatch, timeout: float) -> AssertionError:
        return AssertionError(f"no bot message matching {match!r} within {timeout}s in chat "
                              f"{self.chat_id}; transcript:\n{self.transcript()}")

    def wait_for_bot_message(self, match: MessageMatch = None, timeout: float = 10.0,
                             after: int | None = None) -> ChatMessage:
        """The first bot message matching ``match`` (substring or predicate) that is newer
        than message ``after``, or sent/edited after this user's last action."""
        deadline = time.monotonic() + timeout
        with self.double._cond:
            while (found := self._find(match, after)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error(match, timeout)
                self.double._cond.wait(min(remaining, 0.1))
            return found

    async def async_wait_for_bot_message(self, match: MessageMatch = None,
                                         timeout: float = 10.0,
                                         after: int | None = None) -> ChatMessage:
        """Like :meth:`wait_for_bot_message`, sleeping with asyncio meanwhile."""
        deadline = time.monotonic() + timeout
        while (found := self._find(match, after)) is None:
            if time.monotonic() >= deadline:
                raise self._timeout_error(match, timeout)
            await asyncio.sleep(0.02)
        return found
