"""The Bot API methods of the double (getUpdates, sendMessage, editMessageText...).

A mixin of :class:`tests.support.botapi.server.BotApiDouble`, which holds the state
declared below and calls these with its condition held.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from tests.support.botapi.state import ChatState, QueuedUpdate, StoredFile, StoredMessage
from tests.support.botapi.telegram import (
    CHAT_ACTIONS,
    COMMAND_RE,
    DELETE_WINDOW_SECONDS,
    JSON,
    MAX_DOWNLOAD_SIZE,
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    SECRET_RE,
    ApiError,
    bad,
    check_markup,
    render_text,
)


class BotApiMethods:
    """Telegram's methods over the double's state (the attributes are the server's)."""

    _cond: threading.Condition
    _bot_ref: JSON
    _chats: dict[int, ChatState]
    _files: dict[str, StoredFile]
    _queue: list[QueuedUpdate]
    _callback_answers: dict[str, JSON | None]
    _commands: dict[tuple[str, str], list[JSON]]
    _left_chats: list[int]
    _allowed_updates: frozenset[str] | None
    _webhook: JSON
    _webhook_error: tuple[int, str] | None
    _webhook_retry_at: float
    _version: int
    _poll_generation: int
    _last_activity: float
    _closing: bool

    # -- storing messages ------------------------------------------------------------------

    def _touch(self, stored: StoredMessage) -> None:
        self._version += 1
        stored.version = self._version
        self._cond.notify_all()

    def _add_message(self, chat: ChatState, data: JSON, *, from_bot: bool) -> StoredMessage:
        data["message_id"] = chat.next_message_id
        chat.next_message_id += 1
        stored = StoredMessage(data, from_bot, 0)
        chat.messages[data["message_id"]] = stored
        self._touch(stored)
        return stored

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # -- Bot API methods (called with self._cond held) --------------------------------------

    def _chat(self, params: JSON) -> ChatState:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise bad("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad("chat not found")
        return chat

    def _writable_chat(self, params: JSON) -> ChatState:
        chat = self._chat(params)
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.bot_left:
            kind = "supergroup" if chat.data["type"] == "supergroup" else "group"
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                 "active; use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), 50.0)
        self._set_allowed_updates(params.get("allowed_updates"))
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset:
            self._queue = [item for item in self._queue if item.update["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._queue and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make "
                                     "sure that only one bot instance is running")
        batch = self._queue[:limit]
        for item in batch:
            item.delivered = True
        if batch:
            self._last_activity = time.monotonic()
        return [copy.deepcopy(item.update) for item in batch]

    def _set_allowed_updates(self, allowed: Any) -> None:
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(map(str, allowed)) if allowed else None

    def _send_message(self, params: JSON) -> JSON:
        chat = self._writable_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad("message text is empty")
        plain = render_text(text, params.get("parse_mode"))
        if not plain:
            raise bad("message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise bad("message is too long")
        markup = check_markup(params.get("reply_markup"))
        data: JSON = {"message_id": 0, "from": dict(self._bot_ref),
                      "chat": copy.deepcopy(chat.data), "date": int(time.time()), "text": plain}
        reply = params.get("reply_parameters")
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        reply_to = reply_to or params.get("reply_to_message_id")
        target = chat.messages.get(reply_to) if isinstance(reply_to, int) else None
        if target is not None and not target.deleted:
            data["reply_to_message"] = {k: v for k, v in copy.deepcopy(target.data).items()
                                        if k != "reply_to_message"}
        if markup is not None and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        elif markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        return copy.deepcopy(self._add_message(chat, data, from_bot=True).data)

    def _message_to_edit(self, params: JSON) -> StoredMessage:
        if "inline_message_id" in params:
            raise bad("MESSAGE_ID_INVALID")
        chat = self._writable_chat(params)
        stored = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if stored is None or stored.deleted:
            raise bad("message to edit not found")
        if not stored.from_bot:
            raise bad("message can't be edited")
        return stored

    def _apply_edit(self, stored: StoredMessage, new: JSON) -> JSON:
        if new == stored.data:
            raise bad(NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        stored.data = new
        self._touch(stored)
        return copy.deepcopy(new)

    def _edit_message_text(self, params: JSON) -> JSON:
        stored = self._message_to_edit(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad("message text is empty")
        if "text" not in stored.data:
            raise bad("there is no text in the message to edit")
        plain = render_text(text, params.get("parse_mode"))
        if len(plain) > MAX_TEXT_LENGTH:
            raise bad("MESSAGE_TOO_LONG")
        markup = check_markup(params.get("reply_markup"), inline_only=True)
        new = {k: v for k, v in copy.deepcopy(stored.data).items()
               if k not in ("reply_markup", "edit_date")}
        new["text"] = plain
        if markup is not None:
            new["reply_markup"] = markup
        return self._apply_edit(stored, new)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        stored = self._message_to_edit(params)
        markup = check_markup(params.get("reply_markup"), inline_only=True)
        new = {k: v for k, v in copy.deepcopy(stored.data).items()
               if k not in ("reply_markup", "edit_date")}
        if markup is not None and markup.get("inline_keyboard"):
            new["reply_markup"] = markup
        return self._apply_edit(stored, new)

    def _delete_one(self, chat: ChatState, message_id: Any) -> None:
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise bad("message to delete not found")
        if time.time() - stored.data["date"] > DELETE_WINDOW_SECONDS:
            raise bad("message can't be deleted for everyone")
        stored.deleted = True
        self._touch(stored)

    def _delete_message(self, params: JSON) -> bool:
        self._delete_one(self._writable_chat(params), params.get("message_id"))
        return True

    def _delete_messages(self, params: JSON) -> bool:
        chat = self._writable_chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message identifiers are not specified")
        for message_id in ids:
            try:
                self._delete_one(chat, message_id)
            except ApiError:
                pass  # Telegram skips messages that can't be found or deleted
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self._callback_answers.get(query_id, {}) is not None:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        self._callback_answers[query_id] = dict(params)
        return True

    def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(str(secret)):
            raise bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self._set_allowed_updates(params.get("allowed_updates"))
        self._webhook = {"url": url, "secret_token": secret,
                         "max_connections": int(params.get("max_connections") or 40)}
        self._webhook_error = None
        self._webhook_retry_at = 0.0
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self._webhook = {}
        self._webhook_error = None
        return True

    def _get_webhook_info(self, _params: JSON) -> JSON:
        info: JSON = {"url": self._webhook.get("url", ""), "has_custom_certificate": False,
                      "pending_update_count": len(self._queue)}
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _get_file(self, params: JSON) -> JSON:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise bad("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    def _send_chat_action(self, params: JSON) -> bool:
        self._writable_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _leave_chat(self, params: JSON) -> bool:
        chat = self._writable_chat(params)
        if chat.data["type"] == "private":
            raise bad("chat member status can't be changed in private chats")
        chat.bot_left = True
        self._left_chats.append(chat.data["id"])
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.fullmatch(
                    str(command.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [{"command": c["command"], "description": c["description"]}
                               for c in commands]
        return True

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(self._commands_key(params.get("scope"),
                                              params.get("language_code")), None)
        return True

