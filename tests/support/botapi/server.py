"""The Bot API double's server: a local Telegram Bot API that speaks real HTTP.

Point python-telegram-bot at it with ``Bot(token, base_url=double.base_url,
base_file_url=double.base_file_url)`` and drive conversations with the simulated
people it hands out (:mod:`tests.support.botapi.person`)::

    with BotApiDouble() as double:
        ana = double.user(user_id=1001, first_name="Ana")
        ana.send_command("/start")
        reply = ana.wait_for_bot_message("Hola")
        ana.press("Reportar")

Faithful where it is cheap: Telegram's error descriptions, HTML parse-mode validation,
keyboard validation, the 48 h delete window, editMessageText dropping an omitted inline
keyboard, 409 conflicts between pollers or with an active webhook, webhook delivery.
The methods themselves are in :mod:`tests.support.botapi.methods`, Telegram's formats
and rules in :mod:`tests.support.botapi.telegram`.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.support.botapi.methods import BotApiMethods
from tests.support.botapi.person import FakeUser
from tests.support.botapi.state import ChatState, QueuedUpdate, StoredFile
from tests.support.botapi.telegram import (
    DEFAULT_EXCLUDED_UPDATES,
    JSON,
    ApiError,
    decode_params,
    error_response,
    json_response,
    parse_body,
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Each call is a connection (HTTP/1.0). With socketserver's backlog of 5, a crowd's
    # calls overflowed it: the kernel dropped their SYNs and the clients waited a second
    # or three to send them again (ListenOverflows in /proc/net/netstat), stalls Telegram
    # does not have.
    request_queue_size = 256

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


class BotApiDouble(BotApiMethods):
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
        self._queue: list[QueuedUpdate] = []
        self._dropped: list[JSON] = []
        self._chats: dict[int, ChatState] = {}
        self._users: dict[tuple[int, int], FakeUser] = {}
        self._files: dict[str, StoredFile] = {}
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
                self._chats[chat_id] = ChatState(chat_data)
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
            if kind in allowed if allowed is not None else kind not in DEFAULT_EXCLUDED_UPDATES:
                self._queue.append(QueuedUpdate(body))
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

    def _register_file(self, data: bytes, folder: str, extension: str) -> JSON:
        number = self._next_counter()
        stored = StoredFile(f"AgAD{folder[:3]}{number:08d}", f"AQAD{number:08d}",
                            f"{folder}/file_{number}.{extension}", bytes(data))
        self._files[stored.file_id] = stored
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data)}

    # -- HTTP ------------------------------------------------------------------------------

    def _handle_http(self, raw_path: str, content_type: str, body: bytes
                     ) -> tuple[int, str, bytes]:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot"):].partition("/")
            if token != self.token:
                return error_response(401, "Unauthorized")
            with self._lock:
                found = next((f for f in self._files.values() if f.file_path == file_path), None)
            if found is None:
                return error_response(404, "Not Found")
            return 200, "application/octet-stream", found.data
        if not path.startswith("/bot"):
            return error_response(404, "Not Found")
        token, _, method = path[len("/bot"):].partition("/")
        if token != self.token:
            return error_response(401, "Unauthorized")
        raw = dict(parse_qsl(url.query, keep_blank_values=True))
        raw.update(parse_body(content_type, body))
        params = decode_params(raw)
        name, handler = self._handlers.get(method.lower(), (method, None))
        counted = name != "getUpdates"  # long polls are not activity, fetched updates are
        with self._cond:
            self._requests.append((name, copy.deepcopy(params)))
            self._inflight += counted
            try:
                if handler is None:
                    return error_response(404, "Not Found")
                result = handler(params)
            except ApiError as error:
                return error_response(error.code, error.description)
            except (ValueError, TypeError) as error:
                return error_response(400, f"Bad Request: invalid parameters: {error}")
            finally:
                self._inflight -= counted
                if counted:
                    self._last_activity = time.monotonic()
                self._cond.notify_all()
        return json_response(200, {"ok": True, "result": result})

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

