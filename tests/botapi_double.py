"""A local Telegram Bot API double that speaks real HTTP, for tests.

Point python-telegram-bot at it with ``Bot(token, base_url=double.base_url,
base_file_url=double.base_file_url)`` and drive conversations with :class:`FakeUser`::

    with BotApiDouble() as double:
        ana = double.user(user_id=1001, first_name="Ana")
        ana.send_command("/start")
        reply = ana.wait_for_bot_message("Hola")
        ana.press("Reportar")

Faithful where it is cheap: Telegram's error descriptions, HTML parse-mode validation,
keyboard validation, the 48 h delete window, editMessageText dropping an omitted inline
keyboard, 409 conflicts between pollers or with an active webhook, webhook delivery.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JSON = dict[str, Any]
MessageMatch = str | Callable[["ChatMessage"], bool] | None

DELETE_WINDOW_SECONDS = 48 * 3600
MAX_TEXT_LENGTH = 4096
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a content and reply markup of the current content and reply markup of the message"
)
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_JSON_PARAMS = frozenset(
    {"reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities",
     "link_preview_options", "reply_parameters", "message_ids", "media"}
)
_NUMBER_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections",
     "from_chat_id", "message_thread_id", "reply_to_message_id"}
)
_BOOL_PARAMS = frozenset(
    {"show_alert", "drop_pending_updates", "disable_notification", "protect_content",
     "disable_web_page_preview", "allow_sending_without_reply"}
)
_CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note",
     "upload_video_note"}
)
_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
     "tg-emoji", "code", "pre", "blockquote"}
)
_BUTTON_ACTIONS = frozenset(
    {"url", "callback_data", "web_app", "login_url", "switch_inline_query",
     "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
     "callback_game", "pay"}
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (recorded in ``double.requests``)."""

    filename: str
    content_type: str
    data: bytes


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


@dataclass
class _Stored:
    data: JSON
    from_bot: bool
    version: int
    deleted: bool = False


@dataclass
class _Chat:
    data: JSON
    next_message_id: int = 1
    messages: dict[int, _Stored] = field(default_factory=dict)
    reply_keyboard: JSON | None = None
    bot_left: bool = False
    blocked: bool = False


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class _Queued:
    update: JSON
    delivered: bool = False


class _TelegramHTML(HTMLParser):
    """Telegram's HTML subset: validates tags and returns the plain text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.stack: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        lines = self.source.splitlines(keepends=True)
        index = sum(len(chunk) for chunk in lines[: line - 1]) + column
        return len(self.source[:index].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS or (tag == "span" and ("class", "tg-spoiler") not in attrs):
            raise _bad(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset '
                       f"{self._offset()}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _bad(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset '
                   f"{self._offset()}")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _bad(f"can't parse entities: Unexpected end tag at byte offset {self._offset()}")
        expected = self.stack.pop()
        if expected != tag:
            raise _bad(f"can't parse entities: Unmatched end tag at byte offset {self._offset()}, "
                       f'expected "</{expected}>", found "</{tag}>"')

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def render_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram would show for ``text`` sent with ``parse_mode`` (or raise 400)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        parser = _TelegramHTML(text)
        parser.feed(text)
        parser.close()
        if parser.stack:
            raise _bad("can't parse entities: Can't find end tag corresponding to start tag "
                       f'"{parser.stack[-1]}"')
        return "".join(parser.parts).strip()
    if mode == "markdownv2":
        escaped = in_code = in_url = False
        previous = ""
        for char in text:
            if escaped:  # an escaped character is plain text
                escaped, previous = False, ""
                continue
            if char == "\\":
                escaped = True
            elif in_url:  # inside the (url) of [text](url) only ")" matters
                in_url = char != ")"
            elif char == "(" and previous == "]" and not in_code:
                in_url = True
            elif char == "`":
                in_code = not in_code
            elif not in_code and char in "#+-={}.!":
                raise _bad(f"can't parse entities: Character '{char}' is reserved and must be "
                           "escaped with the preceding '\\'")
            previous = char
        return text.strip()
    if mode not in ("", "markdown"):
        raise _bad("unsupported parse_mode")
    return text.strip()


def _decode_params(raw: Mapping[str, Any]) -> JSON:
    """Undo python-telegram-bot's form encoding (JSON-encoded non-string values)."""
    params: JSON = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass  # kept raw; the method handler reports it like Telegram
            elif key in _NUMBER_PARAMS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _NUMBER_PARAMS and re.fullmatch(r"-?\d+\.\d*", value):
                value = float(value)
            elif key in _BOOL_PARAMS:
                value = value.lower() == "true"
        params[key] = value
    return params


def _parse_body(content_type: str, body: bytes) -> JSON:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    if content_type.startswith("multipart/form-data"):
        head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        parts: JSON = {}
        for part in message.walk():
            if part.is_multipart():
                continue
            assert isinstance(part, Message)
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            filename = part.get_filename()
            parts[name] = (
                Upload(filename, part.get_content_type(), payload)
                if filename else payload.decode()
            )
        return parts
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _check_markup(markup: Any, *, inline_only: bool = False) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise _bad("inline keyboard expected")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad("can't parse inline keyboard button: field \"inline_keyboard\" must be an "
                   "Array of Arrays")
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad("can't parse inline keyboard button: Field \"text\" must be of type String")
        if not _BUTTON_ACTIONS & button.keys():
            raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the "
                       "inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
    return markup


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], double: BotApiDouble) -> None:
        super().__init__(address, _Handler)
        self.double = double

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (a cancelled long poll) are not an error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    timeout = 10  # an idle connection cannot hold up stop() for longer
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, content_type, payload = self.server.double._handle_http(
            self.path, self.headers.get("Content-Type", ""), body
        )
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _json_response(status: int, body: JSON) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(body).encode()


def _error_response(code: int, description: str) -> tuple[int, str, bytes]:
    return _json_response(code, {"ok": False, "error_code": code, "description": description})


class BotApiDouble:
    """A fake Telegram Bot API server on a local port (see the module docstring)."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",  # noqa: S107
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_username: str = "somos_test_bot",
        bot_first_name: str = "Somos (test)",
        deliver_webhooks: bool = True,
        webhook_retry_delay: float = 0.5,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.deliver_webhooks = deliver_webhooks
        self.webhook_retry_delay = webhook_retry_delay
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]), "is_bot": True, "first_name": bot_first_name,
            "username": bot_username, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
            "can_connect_to_business": False, "has_main_web_app": False,
        }
        self._bot_ref = {key: self.bot_user[key] for key in ("id", "is_bot", "first_name",
                                                              "username")}
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._requests: list[tuple[str, JSON]] = []
        self._queue: list[_Queued] = []
        self._dropped: list[JSON] = []
        self._chats: dict[int, _Chat] = {}
        self._users: dict[tuple[int, int], FakeUser] = {}
        self._files: dict[str, _File] = {}
        self._callback_answers: dict[str, JSON | None] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._left_chats: list[int] = []
        self._allowed_updates: frozenset[str] | None = None
        self._webhook: JSON = {}
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_retry_at = 0.0
        self._next_update_id = 1000
        self._counter = 0
        self._version = 0
        self._poll_generation = 0
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._closing = False
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._handlers = self._method_table()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> BotApiDouble:
        """Bind the port and serve in background threads."""
        assert self._server is None, "already started"
        self._closing = False
        self._server = _Server((self.host, self.port), self)
        self.port = int(self._server.server_address[1])
        self._threads = [threading.Thread(target=self._server.serve_forever,
                                          kwargs={"poll_interval": 0.05}, daemon=True,
                                          name="botapi-double-http")]
        if self.deliver_webhooks:
            self._threads.append(threading.Thread(target=self._webhook_loop, daemon=True,
                                                  name="botapi-double-webhook"))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Wake long polls, stop serving and join every thread."""
        if self._server is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=15)
        self._server = None
        self._threads = []

    def __enter__(self) -> BotApiDouble:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    # -- inspection ------------------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, JSON]]:
        """Every authorised request so far, as ``(method, params)``."""
        with self._lock:
            return list(self._requests)

    def calls(self, method: str) -> list[JSON]:
        """Params of every request to ``method`` (e.g. ``"sendMessage"``)."""
        return [params for name, params in self.requests if name == method]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot (via ``offset``) or delivered to a webhook."""
        with self._lock:
            return [copy.deepcopy(item.update) for item in self._queue]

    @property
    def dropped_updates(self) -> list[JSON]:
        """Updates discarded because the bot's ``allowed_updates`` excluded them."""
        with self._lock:
            return copy.deepcopy(self._dropped)

    @property
    def webhook(self) -> JSON:
        """The current webhook settings (``url``, ``secret_token``...), ``{}`` if none."""
        with self._lock:
            return dict(self._webhook)

    @property
    def left_chats(self) -> list[int]:
        with self._lock:
            return list(self._left_chats)

    def callback_answer(self, callback_query_id: str) -> JSON | None:
        """The answerCallbackQuery params for that query, ``None`` if unanswered."""
        with self._lock:
            return self._callback_answers[callback_query_id]

    def unanswered_callback_queries(self) -> list[str]:
        with self._lock:
            return [qid for qid, answer in self._callback_answers.items() if answer is None]

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def age_messages(self, seconds: float, chat_id: int | None = None) -> None:
        """Make existing messages (of one chat, or all) ``seconds`` older."""
        with self._cond:
            for cid, chat in self._chats.items():
                if chat_id is None or cid == chat_id:
                    for stored in chat.messages.values():
                        stored.data["date"] = int(stored.data["date"] - seconds)

    def wait_until_idle(self, timeout: float = 10.0, quiet: float = 0.2) -> None:
        """Wait until every update was fetched and no bot request came for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                idle_for = now - self._last_activity
                fetched = all(item.delivered for item in self._queue)
                if fetched and self._inflight == 0 and idle_for >= quiet:
                    return
                if now >= deadline:
                    raise AssertionError(f"bot not idle after {timeout}s: {self._inflight} "
                                         f"requests in flight, {len(self._queue)} pending updates")
                self._cond.wait(min(max(quiet - idle_for, 0.01), deadline - now))

    # -- simulated users -------------------------------------------------------------------

    def user(
        self,
        user_id: int | None = None,
        first_name: str = "Ana",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "es",
        chat_type: str = "private",
        chat_id: int | None = None,
        chat_title: str | None = None,
    ) -> FakeUser:
        """A simulated user in a private chat, or in a group (negative ``chat_id``)."""
        with self._cond:
            if user_id is None:
                user_id = 100_000 + self._next_counter()
            if chat_type == "private":
                assert chat_id in (None, user_id), "a private chat's id is the user's id"
                chat_id = user_id
            else:
                assert chat_type in ("group", "supergroup"), f"unsupported chat_type {chat_type}"
                if chat_id is None:
                    base = -1_001_000_000_000 if chat_type == "supergroup" else -4_000
                    chat_id = base - self._next_counter()
                assert chat_id < 0, "group chat ids are negative"
            if (user_id, chat_id) in self._users:
                return self._users[(user_id, chat_id)]
            profile: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
            optional = {"last_name": last_name, "username": username,
                        "language_code": language_code}
            profile.update({key: value for key, value in optional.items() if value is not None})
            if chat_id not in self._chats:
                if chat_type == "private":
                    chat_data = {key: value for key, value in profile.items()
                                 if key in ("id", "first_name", "last_name", "username")}
                    chat_data["type"] = "private"
                else:
                    chat_data = {"id": chat_id, "type": chat_type,
                                 "title": chat_title or "Grupo de prueba"}
                self._chats[chat_id] = _Chat(chat_data)
            assert self._chats[chat_id].data["type"] == chat_type, "chat exists with another type"
            fake = FakeUser(self, profile, chat_id)
            self._users[(user_id, chat_id)] = fake
            return fake

    def enqueue_update(self, update: Mapping[str, Any]) -> JSON:
        """Inject a raw update; a fresh ``update_id`` is assigned unless one is given."""
        with self._cond:
            body = copy.deepcopy(dict(update))
            if "update_id" in body:
                self._next_update_id = max(self._next_update_id, int(body["update_id"]) + 1)
            else:
                body = {"update_id": self._next_update_id, **body}
                self._next_update_id += 1
            kind = next((key for key in body if key != "update_id"), "")
            allowed = self._allowed_updates
            if kind in allowed if allowed is not None else kind not in _DEFAULT_EXCLUDED_UPDATES:
                self._queue.append(_Queued(body))
                if kind == "callback_query":
                    self._callback_answers.setdefault(str(body[kind]["id"]), None)
            else:
                self._dropped.append(body)
            self._cond.notify_all()
            return copy.deepcopy(body)

    # -- internals shared with FakeUser ----------------------------------------------------

    def _next_counter(self) -> int:
        self._counter += 1
        return self._counter

    def _touch(self, stored: _Stored) -> None:
        self._version += 1
        stored.version = self._version
        self._cond.notify_all()

    def _add_message(self, chat: _Chat, data: JSON, *, from_bot: bool) -> _Stored:
        data["message_id"] = chat.next_message_id
        chat.next_message_id += 1
        stored = _Stored(data, from_bot, 0)
        chat.messages[data["message_id"]] = stored
        self._touch(stored)
        return stored

    def _register_file(self, data: bytes, folder: str, extension: str) -> JSON:
        number = self._next_counter()
        stored = _File(f"AgAD{folder[:3]}{number:08d}", f"AQAD{number:08d}",
                       f"{folder}/file_{number}.{extension}", bytes(data))
        self._files[stored.file_id] = stored
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data)}

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # -- HTTP ------------------------------------------------------------------------------

    def _handle_http(self, raw_path: str, content_type: str, body: bytes
                     ) -> tuple[int, str, bytes]:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot"):].partition("/")
            if token != self.token:
                return _error_response(401, "Unauthorized")
            with self._lock:
                found = next((f for f in self._files.values() if f.file_path == file_path), None)
            if found is None:
                return _error_response(404, "Not Found")
            return 200, "application/octet-stream", found.data
        if not path.startswith("/bot"):
            return _error_response(404, "Not Found")
        token, _, method = path[len("/bot"):].partition("/")
        if token != self.token:
            return _error_response(401, "Unauthorized")
        raw = dict(parse_qsl(url.query, keep_blank_values=True))
        raw.update(_parse_body(content_type, body))
        params = _decode_params(raw)
        name, handler = self._handlers.get(method.lower(), (method, None))
        counted = name != "getUpdates"  # long polls are not activity, fetched updates are
        with self._cond:
            self._requests.append((name, copy.deepcopy(params)))
            self._inflight += counted
            try:
                if handler is None:
                    return _error_response(404, "Not Found")
                result = handler(params)
            except _ApiError as error:
                return _error_response(error.code, error.description)
            except (ValueError, TypeError) as error:
                return _error_response(400, f"Bad Request: invalid parameters: {error}")
            finally:
                self._inflight -= counted
                if counted:
                    self._last_activity = time.monotonic()
                self._cond.notify_all()
        return _json_response(200, {"ok": True, "result": result})

    def _method_table(self) -> dict[str, tuple[str, Callable[[JSON], Any]]]:
        handlers: dict[str, Callable[[JSON], Any]] = {
            "getMe": lambda _params: dict(self.bot_user),
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getFile": self._get_file,
            "getChat": lambda params: {**copy.deepcopy(self._chat(params).data),
                                       "accent_color_id": 0, "max_reaction_count": 11},
            "sendChatAction": self._send_chat_action,
            "leaveChat": self._leave_chat,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda params: self.my_commands(
                params.get("scope"), params.get("language_code", "")),
            "deleteMyCommands": self._delete_my_commands,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    # -- Bot API methods (called with self._cond held) --------------------------------------

    def _chat(self, params: JSON) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _writable_chat(self, params: JSON) -> _Chat:
        chat = self._chat(params)
        if chat.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.bot_left:
            kind = "supergroup" if chat.data["type"] == "supergroup" else "group"
            raise _ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook.get("url"):
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is "
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
                raise _ApiError(409, "Conflict: terminated by other getUpdates request; make "
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
            raise _bad("message text is empty")
        plain = render_text(text, params.get("parse_mode"))
        if not plain:
            raise _bad("message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        markup = _check_markup(params.get("reply_markup"))
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

    def _message_to_edit(self, params: JSON) -> _Stored:
        if "inline_message_id" in params:
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._writable_chat(params)
        stored = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if stored is None or stored.deleted:
            raise _bad("message to edit not found")
        if not stored.from_bot:
            raise _bad("message can't be edited")
        return stored

    def _apply_edit(self, stored: _Stored, new: JSON) -> JSON:
        if new == stored.data:
            raise _bad(NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        stored.data = new
        self._touch(stored)
        return copy.deepcopy(new)

    def _edit_message_text(self, params: JSON) -> JSON:
        stored = self._message_to_edit(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        if "text" not in stored.data:
            raise _bad("there is no text in the message to edit")
        plain = render_text(text, params.get("parse_mode"))
        if len(plain) > MAX_TEXT_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        new = {k: v for k, v in copy.deepcopy(stored.data).items()
               if k not in ("reply_markup", "edit_date")}
        new["text"] = plain
        if markup is not None:
            new["reply_markup"] = markup
        return self._apply_edit(stored, new)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        stored = self._message_to_edit(params)
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        new = {k: v for k, v in copy.deepcopy(stored.data).items()
               if k not in ("reply_markup", "edit_date")}
        if markup is not None and markup.get("inline_keyboard"):
            new["reply_markup"] = markup
        return self._apply_edit(stored, new)

    def _delete_one(self, chat: _Chat, message_id: Any) -> None:
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise _bad("message to delete not found")
        if time.time() - stored.data["date"] > DELETE_WINDOW_SECONDS:
            raise _bad("message can't be deleted for everyone")
        stored.deleted = True
        self._touch(stored)

    def _delete_message(self, params: JSON) -> bool:
        self._delete_one(self._writable_chat(params), params.get("message_id"))
        return True

    def _delete_messages(self, params: JSON) -> bool:
        chat = self._writable_chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message identifiers are not specified")
        for message_id in ids:
            try:
                self._delete_one(chat, message_id)
            except _ApiError:
                pass  # Telegram skips messages that can't be found or deleted
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self._callback_answers.get(query_id, {}) is not None:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self._callback_answers[query_id] = dict(params)
        return True

    def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
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
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    def _send_chat_action(self, params: JSON) -> bool:
        self._writable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _leave_chat(self, params: JSON) -> bool:
        chat = self._writable_chat(params)
        if chat.data["type"] == "private":
            raise _bad("chat member status can't be changed in private chats")
        chat.bot_left = True
        self._left_chats.append(chat.data["id"])
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                    str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [{"command": c["command"], "description": c["description"]}
                               for c in commands]
        return True

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(self._commands_key(params.get("scope"),
                                              params.get("language_code")), None)
        return True

    # -- webhook delivery --------------------------------------------------------------------

    def _webhook_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closing and not (
                    self._webhook.get("url") and self._queue
                    and time.monotonic() >= self._webhook_retry_at
                ):
                    self._cond.wait(0.1)
                if self._closing:
                    return
                url, secret = self._webhook["url"], self._webhook.get("secret_token")
                item = self._queue[0]
                item.delivered = True
            error = self._post_update(url, secret, item.update)
            with self._cond:
                if error is None:
                    if item in self._queue:
                        self._queue.remove(item)
                else:
                    self._webhook_error = (int(time.time()), error)
                    self._webhook_retry_at = time.monotonic() + self.webhook_retry_delay
                self._last_activity = time.monotonic()
                self._cond.notify_all()

    @staticmethod
    def _post_update(url: str, secret: str | None, update: JSON) -> str | None:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        # setWebhook only accepts http(s) URLs
        request = urllib.request.Request(  # noqa: S310
            url, json.dumps(update).encode(), headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                return None
        except urllib.error.HTTPError as error:
            error.close()
            return f"Wrong response from the webhook: {error.code} {error.reason}"
        except OSError as error:
            return f"Connection failed: {error}"


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
    def _chat(self) -> _Chat:
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
        removes a pressed keyboard first and sends the next one after its own work."""
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
