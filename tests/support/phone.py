"""Telegram's side of the notifier's `send_message`, in process: who got what."""

from __future__ import annotations

from typing import Any


class Phone:
    """Every chat's phone at once: the texts the bot sent, in order, with their chat."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, *, chat_id: int, text: str, **_options: Any) -> None:
        self.sent.append((chat_id, text))
