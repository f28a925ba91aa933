"""Telegram's Bot API answered in memory, for driving the PTB application in process (the
adapter tests, bench/per_turn.py): no network, every call recorded."""

from __future__ import annotations

import json
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 42, "is_bot": True, "first_name": "Somos", "username": "somos_bot"}


class RecordingRequest(BaseRequest):
    """Answers every Bot API call in memory, the way Telegram would, and records it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # The newest message sent to each chat (with its id), and every text sent to it.
        self.last: dict[int, dict[str, Any]] = {}
        self.texts: dict[int, list[str]] = {}
        self._message_id = 1000

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.json_parameters) if request_data else {}
        self.calls.append((name, params))
        result: Any = True
        if name == "getMe":
            result = BOT
        elif name == "sendMessage":
            self._message_id += 1
            chat_id = int(params["chat_id"])
            result = {
                "message_id": self._message_id, "date": 0, "text": params["text"],
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": BOT,
            }
            self.last[chat_id] = {**params, "message_id": self._message_id}
            self.texts.setdefault(chat_id, []).append(str(params["text"]))
        elif name == "editMessageText":  # a pressed message turned into the next question
            chat_id = int(params["chat_id"])
            result = {
                "message_id": int(params["message_id"]), "date": 0, "text": params["text"],
                "chat": {"id": chat_id, "type": "private"}, "from": BOT,
            }
            self.last[chat_id] = {**params, "message_id": int(params["message_id"])}
            self.texts.setdefault(chat_id, []).append(str(params["text"]))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def sent(self) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == "sendMessage"]
